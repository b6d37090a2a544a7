"""The names docs/ARCHITECTURE.md promises are importable from speaksphere."""

import pytest

import speaksphere


def test_public_contract_names():
    for name in ("load_audio", "AudioError", "load_model", "score_pronunciation", "compare"):
        assert callable(getattr(speaksphere, name)), name
    assert issubclass(speaksphere.AudioError, ValueError)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = speaksphere.no_such_thing

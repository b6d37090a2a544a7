"""The names docs/ARCHITECTURE.md promises are importable from speaksphere."""

import speaksphere


def test_public_contract_names():
    for name in ("load_audio", "AudioError", "load_model", "score_pronunciation", "compare"):
        assert callable(getattr(speaksphere, name)), name
    assert issubclass(speaksphere.AudioError, ValueError)


def test_unknown_name_is_an_attribute_error():
    try:
        speaksphere.no_such_thing
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")

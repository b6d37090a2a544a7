"""The label vocabularies follow the model card's label contracts; missing labels become -100."""

import pytest

from speaksphere.data.labels import (
    ACCENTS,
    COMMAND_WORDS,
    COMMANDS,
    EMOTIONS,
    IGNORE_INDEX,
    LANGUAGES,
    SILENCE,
    UNKNOWN,
    VOCABULARIES,
    check_label,
    label_id,
)


def test_vocabularies_match_the_public_contract():
    assert LANGUAGES[:5] == ("en", "fr", "de", "es", "it")
    assert EMOTIONS == ("neutral", "happy", "sad", "angry")
    assert len(COMMAND_WORDS) == 35 and len(set(COMMAND_WORDS)) == 35
    assert COMMANDS[-2:] == (UNKNOWN, SILENCE) == ("_unknown_", "_silence_")
    assert {"en-US", "en-GB", "en-scotland", "en-caribbean", "L1-de", "L1-fr"} <= set(ACCENTS)
    assert len(ACCENTS) >= 8
    assert all(len(set(v)) == len(v) for v in VOCABULARIES.values())


def test_label_ids_and_missing_labels():
    assert label_id("emotion", "sad") == 2
    assert label_id("command", "_silence_") == len(COMMANDS) - 1
    assert label_id("accent", "") == IGNORE_INDEX == -100
    assert label_id("language", None) == -100
    with pytest.raises(ValueError, match="not a language label"):
        check_label("language", "english")

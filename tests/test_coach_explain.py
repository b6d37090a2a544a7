"""The learner-facing text: every number comes with its meaning, and doubt is said plainly."""

from speaksphere.coach.explain import (
    accent_name,
    describe_comparison,
    describe_predictions,
    describe_progress,
    language_name,
)


def test_names_a_learner_reads():
    assert language_name("fr") == "French (fr)" and language_name("xx") == "xx"
    assert accent_name("L1-de") == "English with a German accent"
    assert accent_name("L1-zh") == "English with a Mandarin accent"  # issue 36: the learner's words, not "Chinese (zh)"
    assert accent_name("en-GB") == "British English"
    # the model's own labels, each with a name (issue 22: "pl" and "L1-hu" were shown as raw codes)
    assert language_name("pl") == "Polish (pl)" and accent_name("L1-hu") == "English with a Hungarian accent"
    assert accent_name("en-GB-west-midlands") == "English from the West Midlands"


def test_an_unsure_model_says_so_and_a_sure_one_does_not():
    unsure = {"language": {"en": 0.4, "fr": 0.35, "de": 0.25}, "command": {"_unknown_": 0.9, "yes": 0.1},
              "windows": [{"start": 0.0, "end": 4.0, "speech_s": 3.0, "language": {"en": 0.4, "fr": 0.6}},
                          {"start": 4.0, "end": 8.0, "speech_s": 3.0, "language": {"en": 0.7, "fr": 0.3}}]}
    text = describe_predictions(unsure, "speaksphere-small")
    assert "**English (en)**, 40% likely (the model is not sure)" in text
    assert "not a command word**, 90% likely;" in text
    assert "0-4 s: French (fr); 4-8 s: English (en)" in text
    assert "speaksphere-small" in text


def test_comparison_states_the_direction_of_change():
    skills = ("overall", "accuracy", "fluency", "prosody", "completeness", "coherence")
    a = dict.fromkeys(skills, 50.0)
    b = dict.fromkeys(skills, 60.0)
    text = describe_comparison({"a": a, "b": b, "difference": dict.fromkeys(skills, 10.0),
                                "words": [{"word": "station", "a": 40.0, "b": 70.0, "difference": 30.0}]})
    assert "Attempt B is better overall." in text and "| overall | 50 | 60 | +10 |" in text
    assert "Words that improved: **station** (+30)" in text


def test_words_of_another_sentence_are_not_called_improved():
    """Issue 22: Compare presented the words of a different sentence as "improved"."""
    from speaksphere.pronounce.assess import compare_results

    skills = ("overall", "accuracy", "fluency", "prosody", "completeness", "coherence")
    words = [{"word": "station", "score": 40.0}]
    a = {**dict.fromkeys(skills, 80.0), "words": words, "another_sentence": False}
    b = {**dict.fromkeys(skills, 20.0), "words": [{"word": "station", "score": 90.0}], "another_sentence": True}
    comparison = compare_results(a, b)
    assert comparison["words"] == [] and comparison["another_sentence"] == ["B"]
    text = describe_comparison(comparison)
    assert "Attempt B sounds like another sentence" in text and "improved" not in text
    same = compare_results(a, {**b, "another_sentence": False})
    assert same["words"][0]["difference"] == 50.0 and same["another_sentence"] == []


def test_progress_without_attempts_says_where_to_start():
    assert "Pronounce" in describe_progress([], 0)


def test_experimental_answers_are_hints_and_accent_only_for_english():
    french = {"language": {"fr": 0.9, "en": 0.1}, "accent": {"en-US": 0.8, "en-GB": 0.2},
              "emotion": {"sad": 0.7, "neutral": 0.3}, "experimental": ["accent", "emotion"]}
    text = describe_predictions(french, "speaksphere-small")
    assert "Accent" not in text  # no English accent is read into French speech
    assert "**sad**" in text.lower() or "sad" in text
    assert "experimental" in text.split("Emotion")[1]
    english = dict(french, language={"en": 0.9, "fr": 0.1})
    text = describe_predictions(english, "speaksphere-small")
    assert "experimental" in text.split("**Accent:**")[1].split("\n")[0]
    plain = describe_predictions(dict(english, experimental=[]), "speaksphere-small")
    assert "experimental" not in plain


def test_accent_and_emotion_below_half_say_not_sure_and_the_voice_is_described_in_words():
    english = {"language": {"en": 0.95, "fr": 0.05}, "accent": {"L1-zh": 0.45, "en-US": 0.35, "en-GB": 0.2},
               "emotion": {"sad": 0.4, "neutral": 0.35, "happy": 0.25}, "experimental": ["accent", "emotion"]}
    voice = {"pitch_range_st": {"value": 2.1, "word": "flat"}, "syllables_per_s": {"value": 3.9, "word": "usual"}}
    text = describe_predictions(english, "speaksphere-small", voice)
    emotion = text.split("**Emotion in the voice:**")[1].split("\n")[0]
    assert emotion.startswith(" **not sure** (no answer reaches 50%: sad 40%")  # the probabilities still shown
    assert "**sad**" not in text and "**not sure**" in text.split("**Accent:**")[1].split("\n")[0]
    assert "English with a Mandarin accent 45%" in text
    assert "pitch range 2.1 semitones (**flat** for read speech)" in text
    assert "pace 3.9 syllables a second (usual for read speech)" in text
    sure = dict(english, accent={"L1-zh": 0.8, "en-US": 0.2}, emotion={"neutral": 0.7, "sad": 0.3})
    text = describe_predictions(sure, "speaksphere-small")
    assert "**English with a Mandarin accent**, 80% likely" in text and "**neutral**, 70% likely" in text
    assert "Your voice" not in text  # no facts given: no line


def test_the_accent_applies_only_to_speech_heard_as_english_in_text_and_labels_alike():
    """One rule (explain.accent_applies) for the summary, the answer bars and the stored attempt."""
    from speaksphere.coach.explain import accent_applies
    from speaksphere.coach.figures import answer_labels

    accent = {"L1-zh": 0.8, "en-US": 0.2}
    cases = [({"language": {"en": 0.6, "fr": 0.4}, "accent": accent}, True),
             ({"language": {"fr": 0.6, "en": 0.4}, "accent": accent}, False),
             ({"accent": accent}, False), ({"language": {"en": 1.0}}, False)]
    for predictions, applies in cases:
        assert accent_applies(predictions) is applies
        assert ("accent" in answer_labels(predictions)) is applies
        assert ("**Accent:**" in describe_predictions(predictions, "m")) is applies

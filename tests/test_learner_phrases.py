"""The learners' phrase library (issue 39): everyday phrases at CEFR levels in six languages, synthetic
references Whisper hears as their text, the telephone recordings kept as a set of their own, and the
Pronounce tab's filters by language and level."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
import yaml

from speaksphere.app.ui import ALL, phrase_choices
from speaksphere.pronounce import score_pronunciation
from speaksphere.pronounce.assess import assess_file
from speaksphere.pronounce.build_learner_phrases import LEVELS, TOPICS, texts, word_errors
from speaksphere.pronounce.references import LIBRARY_DIR, library, library_phrase, library_reference
from speaksphere.pronounce.scores import ScoreConfig
from speaksphere.recording import load_recording
from speaksphere.tts import synthesize

LANGUAGES = ("en", "es", "fr", "it", "de", "ru")
LEARNERS = [p for p in library() if p.synthetic]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_forty_phrases_with_a_level_ten_at_each(language):
    phrases = library(language)
    levelled = [p for p in phrases if p.level is not None]
    assert len(levelled) >= 40
    for level in LEVELS:
        assert len(library(language, level=level)) >= 10, level
    assert {p.topic for p in levelled} == set(TOPICS)  # every everyday topic


def test_phrases_are_the_written_texts_and_their_audio_is_small_and_tracked():
    written = {e["id"]: e for e in texts()}
    for phrase in LEARNERS:
        entry = written[phrase.id]  # no phrase without its hand-written text, no text edited in the index
        assert (phrase.language, phrase.level, phrase.topic, phrase.text) == (
            entry["language"], entry["level"], entry["topic"], entry["text"])
        assert "synthetic" in phrase.voice
        size = (LIBRARY_DIR / phrase.file).stat().st_size
        assert 2_000 < size < 60_000, phrase.file  # a few seconds of Opus speech
    # every written text was built: kept, or left out with what the listener heard from each voice
    index = yaml.safe_load((LIBRARY_DIR / "learner_phrases.yaml").read_text(encoding="utf-8"))
    left_out = {e["id"]: e for e in index["left_out"]}
    assert set(written) == {p.id for p in LEARNERS} | set(left_out)
    assert all(e["heard"] and e["text"] == written[i]["text"] for i, e in left_out.items())


def test_the_telephone_recordings_stay_a_set_of_their_own():
    telephone = library(topic="telephone")
    assert len(telephone) == 117
    assert all(p.level is None and not p.synthetic for p in telephone)
    assert all(p.level in LEVELS and p.topic in TOPICS for p in LEARNERS)


def test_filters_by_language_level_and_topic():
    chosen = library("fr", level="B1")
    assert chosen and all(p.language == "fr" and p.level == "B1" for p in chosen)
    assert library("de", topic="telephone") == []  # no German telephone prompts
    assert library_phrase(chosen[0].id) == chosen[0] and library_phrase("no-such-id") is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reference_is_heard_word_for_word_as_its_text(language):
    """The build kept only readings Whisper heard as their text; one per language, decoded from the tracked file."""
    phrase = next(p for p in library(language, level="B2"))
    wave = load_recording(str(LIBRARY_DIR / phrase.file)).wave
    errors, n_words, transcript = word_errors(wave, phrase.text, language)
    assert errors == 0, transcript


def test_a_synthetic_library_reference_is_not_a_melody_to_copy():
    """Prosody against a learners' phrase comes from the reading itself (the experts' calibration), as
    against any computer voice; the feedback names the voice."""
    from speaksphere.coach.explain import describe_pronunciation

    phrase = next(p for p in library("en", level="A2"))
    reference = library_reference(phrase.id)
    assert reference.synthetic and reference.text == phrase.text
    samples, rate = synthesize(phrase.text, voice="en-us+m3")
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    result = score_pronunciation(buffer.getvalue(), reference=phrase.id, text=phrase.text, language="en")
    assert result["prosody"] is not None and not result["another_sentence"]
    # the anchors alone (no calibration) compare melodies along the alignment: not with a computer voice's
    anchors = assess_file(buffer.getvalue(), phrase.id, phrase.text, "en", config=ScoreConfig(experts=False)).result
    assert anchors["prosody"] is None and "computer voice" in anchors["not_scored"]["prosody"]
    assert "computer voice" in describe_pronunciation(result) and "synthetic" in describe_pronunciation(result)


def test_the_pronounce_dropdown_narrows_by_language_and_level_and_labels_each_voice():
    everything = phrase_choices()
    assert len(everything) == len(library())
    assert all(label.endswith("synthetic voice)") for label, _ in everything[: len(LEARNERS)])  # learners' first
    french_b1 = phrase_choices("fr", "B1")
    assert french_b1 and all(label.startswith("French: ") and "(B1, " in label for label, _ in french_b1)
    assert {i for _, i in french_b1} == {p.id for p in library("fr", level="B1")}
    natural = phrase_choices(ALL, "telephone")
    assert len(natural) == 117 and all(label.endswith("native recording)") for label, _ in natural)
    assert phrase_choices("de", "telephone") == []

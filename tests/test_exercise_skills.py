"""Every exercise, when practised, yields a score for the skill it trains, so the recommender's reward is
always observable (issue 39): a real attempt of each kind and skill, and of each drill written for one first
language alone, runs through the scorer against the reference the Pronounce tab loads for it, and every
exercise's reference is one the listener can hear."""

from __future__ import annotations

import io

import pytest
import soundfile as sf

from speaksphere.learner.recommend import load_catalogue
from speaksphere.learner.recommend.catalogue import Exercise
from speaksphere.pronounce.assess import assess_file
from speaksphere.pronounce.listener import MAX_HEARD_S
from speaksphere.pronounce.references import (
    SYNTHESIS_VOICES,
    Reference,
    golden_reference,
    library_phrase,
    library_reference,
)
from speaksphere.pronounce.scores import ScoreConfig
from speaksphere.tts import synthesize

CATALOGUE = load_catalogue()


def reference_of(exercise: Exercise) -> Reference:
    """The golden reference "Practise it" opens: the linked built-in phrase, else the typed text's."""
    prompt = exercise.reference
    if prompt.phrase_id:
        return library_reference(prompt.phrase_id)
    return golden_reference(prompt.text, prompt.language)


def attempt_at(exercise: Exercise) -> bytes:
    """The exercise's text read by another voice than any reference's (espeak-ng's +m3 variant): WAV bytes."""
    samples, rate = synthesize(exercise.reference.text, voice=f"{SYNTHESIS_VOICES[exercise.language]}+m3")
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def _one_of_each() -> list[Exercise]:
    """One exercise per kind, skill and reference kind (a built-in phrase or a typed text)."""
    chosen = {}
    for exercise in CATALOGUE:
        chosen.setdefault((exercise.kind, exercise.skill, exercise.reference.phrase_id is None), exercise)
    return list(chosen.values())


def _each_first_languages_own() -> list[Exercise]:
    """The drills written for one first language alone (its own contrasts), not already among _one_of_each."""
    chosen = _one_of_each()
    return [e for e in CATALOGUE if len(e.accents) == 1 and e not in chosen]


def test_linked_phrases_exist_and_read_the_exercise_text():
    linked = [e for e in CATALOGUE if e.reference.phrase_id]
    assert linked
    for exercise in linked:
        phrase = library_phrase(exercise.reference.phrase_id)
        assert phrase is not None, exercise.id
        assert (phrase.language, phrase.text) == (exercise.language, exercise.reference.text), exercise.id


def test_shadowing_copies_a_natural_recording_or_the_best_voice_and_says_which():
    """Never espeak-ng's robot: a native recording where the library has one, else the learners' phrase
    (the voice Whisper hears best in that language), named in the instructions."""
    for exercise in (e for e in CATALOGUE if e.kind == "shadowing"):
        phrase = library_phrase(exercise.reference.phrase_id)
        assert phrase is not None, exercise.id
        said = "computer voice" if phrase.synthetic else "natural recording"
        assert said in exercise.instructions, exercise.id


@pytest.mark.parametrize("exercise", CATALOGUE, ids=lambda e: e.id)
def test_every_exercise_has_a_reference_the_listener_hears_with_its_text(exercise):
    """The listener (and with it the experts' calibration, which scores prosody from the reading itself)
    runs where the text is known and the speech is under Whisper's window."""
    reference = reference_of(exercise)
    assert reference.text and reference.language == exercise.language
    assert reference.recording.duration_s < MAX_HEARD_S


@pytest.mark.parametrize("exercise", _one_of_each() + _each_first_languages_own(),
                         ids=lambda e: f"{e.kind}-{e.skill}-{e.id}")
def test_practising_an_exercise_scores_the_skills_it_trains(exercise):
    reference = reference_of(exercise)
    result = assess_file(attempt_at(exercise), reference, reference.text, reference.language).result
    for skill in (exercise.skill, *exercise.also):
        assert result[skill] is not None, (skill, result["not_scored"])
        assert 0.0 <= result[skill] <= 100.0


def test_prosody_on_a_typed_text_comes_from_the_reading_itself():
    """Against espeak-ng's reading of a typed text the anchors leave prosody out (a robot's melody is no
    model); the experts' calibration (issue 40) scores it from the attempt alone: that score is the reward
    of the intonation exercises, whose texts have no recording."""
    exercise = next(e for e in CATALOGUE if e.kind == "intonation" and e.language == "fr")
    assert exercise.reference.phrase_id is None
    reference = reference_of(exercise)
    attempt = attempt_at(exercise)
    anchors = assess_file(attempt, reference, reference.text, "fr", config=ScoreConfig(experts=False)).result
    assert anchors["prosody"] is None
    assert assess_file(attempt, reference, reference.text, "fr").result["prosody"] is not None

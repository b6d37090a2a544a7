"""Words, not numbers: a teacher's upload without its text is scored by the words the listener hears in
it, and Compare shows what was heard in both attempts (issue 39)."""

from pathlib import Path

import pytest

from speaksphere.coach import Coach
from speaksphere.pronounce.references import uploaded_reference
from speaksphere.recording import load_recording
from speaksphere.settings import Settings
from speaksphere.tts import synthesize

TEACHER_SAYS = "Where is the railway station?"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import soundfile as sf

    folder = tmp_path_factory.mktemp("teacher")
    paths = {}
    for name, voice in (("teacher", "en-us"), ("a", "en-gb"), ("b", "en-us+f3")):
        wave, rate = synthesize(TEACHER_SAYS, voice=voice)
        paths[name] = str(folder / f"{name}.wav")
        sf.write(paths[name], wave, rate)
    return paths


@pytest.fixture(scope="module")
def coach():
    return Coach(Settings(), predictor=None, recommender=None, model_dir=Path("model"))


def test_an_upload_without_text_takes_the_words_the_listener_hears(files):
    reference = uploaded_reference(load_recording(files["teacher"]), None, "en")
    assert reference.text_heard and "station" in reference.text.lower()
    given = uploaded_reference(load_recording(files["teacher"]), "Where is the station?", "en")
    assert given.text == "Where is the station?" and not given.text_heard


def test_an_attempt_against_an_upload_without_text_is_scored_word_by_word(coach, files):
    out = coach.pronounce(files["a"], text="", language="en", reference_audio=files["teacher"], figures=False)
    words = [w["word"] for w in out["result"]["words"] if w["word"]]
    assert "station" in [w.lower().strip("?.,") for w in words]
    assert not any(w.startswith("#") for w in words)
    assert out["result"]["details"]["reference_text_heard"] is True
    assert "words the listener heard in your teacher's recording" in out["feedback"]


def test_compare_shows_what_was_heard_in_both_attempts(coach, files):
    out = coach.compare(files["a"], files["b"], text="", language="en", reference_audio=files["teacher"])
    heard_a = out["comparison"]["a"]["heard"]["transcript"]
    heard_b = out["comparison"]["b"]["heard"]["transcript"]
    assert f'attempt A *"{heard_a}"*' in out["summary"] and f'attempt B *"{heard_b}"*' in out["summary"]

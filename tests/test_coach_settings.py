"""One Settings object reaches every recording of a request: references are loaded as attempts are."""

import importlib
from dataclasses import replace
from pathlib import Path

from speaksphere.coach.service import Coach
from speaksphere.pronounce.references import LIBRARY_DIR, library_phrase
from speaksphere.recording import load_recording
from speaksphere.settings import Settings
from speaksphere.vad import VadConfig

PHRASE = library_phrase("en-auth-incorrect")  # a native recording with pauses between its sentences
VAD = VadConfig(threshold=0.7, min_silence_s=0.4, speech_pad_s=0.2)  # fewer, wider segments than the default
TYPED = "please call me back tomorrow morning, after ten"


def _segments(recording) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in recording.segments]


def test_the_apps_vad_setting_reaches_its_references():
    coach = Coach(replace(Settings(), vad=VAD), predictor=None, recommender=None, model_dir=Path("unused"))
    path = LIBRARY_DIR / PHRASE.file
    built_in = coach._reference(PHRASE.id, None, None, None)
    assert _segments(built_in.recording) == _segments(load_recording(str(path), vad=VAD))
    assert _segments(built_in.recording) != _segments(load_recording(str(path)))  # the setting matters here
    typed = coach._reference(None, TYPED, "en", None)
    default = Coach(Settings(), predictor=None, recommender=None, model_dir=Path("unused"))._reference(
        None, TYPED, "en", None)
    assert typed.kind == default.kind == "typed" and typed is not default
    assert _segments(typed.recording) != _segments(default.recording)


def test_score_pronunciations_settings_reach_the_reference_and_the_attempt():
    assess_file = importlib.import_module("speaksphere.pronounce.assess").assess_file
    path = str(LIBRARY_DIR / PHRASE.file)
    assessment = assess_file(path, PHRASE.id, settings=replace(Settings(), vad=VAD))
    expected = _segments(load_recording(path, vad=VAD))
    assert _segments(assessment.reference.recording) == expected == _segments(assessment.att.recording)


def test_each_coach_keeps_its_own_caches_sized_by_its_settings():
    from speaksphere.settings import CacheSettings

    small = replace(Settings(), caches=CacheSettings(library_references=1, encoder_state_mb=1.0))
    coach = Coach(small, predictor=None, recommender=None, model_dir=Path("unused"))
    other = Coach(Settings(), predictor=None, recommender=None, model_dir=Path("unused"))
    assert coach.caches is not other.caches and coach.caches.encoder_states.max_bytes == 1 << 20
    first = coach._reference(PHRASE.id, None, None, None)
    assert coach._reference(PHRASE.id, None, None, None) is first  # kept
    coach._reference("en-conf-locked", None, None, None)  # one entry only: the first one goes
    assert coach._reference(PHRASE.id, None, None, None) is not first
    assert len(coach.caches.library_references) == 1 and len(other.caches.library_references) == 0


def test_the_coach_opens_the_learner_store_its_settings_name(tiny_model_dir, tmp_path, monkeypatch):
    """The store's settings are Settings.store (`store:` in settings.yaml); $SPEAKSPHERE_DB still names the
    file when the settings name none."""
    from speaksphere.coach import load_coach, settings_with_model
    from speaksphere.settings import load_settings

    path = tmp_path / "settings.yaml"
    path.write_text(f"store:\n  path: {tmp_path / 'named.sqlite3'}\n  busy_timeout_s: 5.0\n")
    settings = settings_with_model(load_settings(path), tiny_model_dir)
    assert settings.store.busy_timeout_s == 5.0
    assert load_coach(settings).store.path == tmp_path / "named.sqlite3"
    monkeypatch.setenv("SPEAKSPHERE_DB", str(tmp_path / "from-env.sqlite3"))
    assert load_coach(settings_with_model(Settings(), tiny_model_dir)).store.path == tmp_path / "from-env.sqlite3"


def test_speak_and_the_transcript_keep_whisper_states_in_the_coachs_caches():
    from speaksphere.coach.transcript import what_was_said
    from speaksphere.speak import listening

    coach = Coach(Settings(), predictor=None, recommender=None, model_dir=Path("unused"))
    path = str(LIBRARY_DIR / PHRASE.file)
    kept_by_the_process = len(listening._states._states)
    answer = coach.speak(path, language="en", figures=False)
    assert answer["result"]["transcript"]
    assert len(coach.caches.speech_states._states) >= 1  # Speak's windows, in this coach's bounded store
    assert len(listening._states._states) == kept_by_the_process  # not in the process's own
    assert coach.caches.speech_states.max_bytes == int(Settings().caches.speech_state_mb * (1 << 20))
    recording = load_recording(path)
    windows = [{"start": 0.0, "end": len(recording.wave) / 16000, "speech_s": 3.0, "language": {"en": 1.0}}]
    said = what_was_said(recording, windows, coach.caches.encoder_states)
    assert said and said[0]["text"] and len(coach.caches.encoder_states._states) == 1


def test_the_coach_checks_a_language_given_without_a_text_as_the_library_does():
    import pytest

    from speaksphere.pronounce.references import ScoringError

    coach = Coach(Settings(), predictor=None, recommender=None, model_dir=Path("unused"))
    with pytest.raises(ScoringError):
        coach._reference(PHRASE.id, None, "xx", None)
    assert coach._reference(PHRASE.id, None, "EN-us", None).phrase_id == PHRASE.id

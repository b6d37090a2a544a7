"""Analyze shows what was said: the listener's transcript, one per language stretch (issue 39)."""

import librosa
import numpy as np

from speaksphere.audio import SAMPLE_RATE
from speaksphere.coach.explain import describe_predictions
from speaksphere.coach.transcript import language_stretches, what_was_said
from speaksphere.recording import load_recording
from speaksphere.tts import synthesize


def _window(start, end, language, speech_s=3.0):
    return {"start": start, "end": end, "speech_s": speech_s, "language": {language: 0.8, "xx": 0.2}}


def test_windows_of_one_language_make_one_stretch_and_a_change_starts_another():
    windows = [_window(0, 4, "en"), _window(4, 8, "en"), _window(8, 12, "fr", speech_s=0.1), _window(12, 16, "fr"),
               _window(16, 20, "en")]
    assert language_stretches(windows) == [{"start": 0, "end": 8, "language": "en"},
                                           {"start": 12, "end": 16, "language": "fr"},  # a window of a breath skipped
                                           {"start": 16, "end": 20, "language": "en"}]


def test_a_stretch_is_cut_where_whisper_stops_hearing():
    windows = [_window(4 * i, 4 * i + 4, "de") for i in range(10)]  # 40 s of German
    stretches = language_stretches(windows)
    assert [(s["start"], s["end"]) for s in stretches] == [(0, 28), (28, 40)]


def _padded(text: str, voice: str, seconds: float) -> np.ndarray:
    wave, rate = synthesize(text, voice=voice)
    wave = librosa.resample(wave, orig_sr=rate, target_sr=SAMPLE_RATE)
    return np.pad(wave, (0, int(seconds * SAMPLE_RATE) - len(wave)))


def test_a_mixed_recording_is_written_down_in_each_of_its_languages(write):
    wave = np.concatenate([_padded("Where is the railway station, please?", "en-us", 8.0),
                           _padded("Bonjour, où est la gare, s'il vous plaît ?", "fr", 8.0)])
    recording = load_recording(write(wave, SAMPLE_RATE))
    windows = [_window(0, 4, "en"), _window(4, 8, "en", speech_s=0.0), _window(8, 12, "fr"), _window(12, 16, "fr")]
    said = what_was_said(recording, windows)
    assert [(s["language"], s["start"], s["end"]) for s in said] == [("en", 0, 4), ("fr", 8, 16)]
    assert "station" in said[0]["text"].lower()
    assert "bonjour" in said[1]["text"].lower()  # espeak-ng's French "gare" is heard as other words
    shown = describe_predictions({"language": {"en": 0.5, "fr": 0.5}, "transcript": said}, "model")
    assert "What was said" in shown and said[0]["text"] in shown and "French" in shown

"""What was said in a recording: the listener's transcript, one stretch per language.

The model judges the language of every ~4-s window (`Predictor.analyze_recording`); consecutive windows
with speech and the same most likely language form a stretch, and Whisper base (the pronunciation
scorer's listener, `pronounce.listener.transcribe_speech`) writes down each stretch in that language.
A recording in one language is one stretch; a mixed one gets a transcript per language, in order.
Whisper hears at most 29 s at once, so a longer stretch is heard in pieces cut at window edges; at
most MAX_TRANSCRIBED_S of a recording are transcribed (the greedy decoder costs about a tenth of a
second per word on one core).
"""

from __future__ import annotations

from ..audio import SAMPLE_RATE
from ..pronounce.listener import MAX_HEARD_S, EncoderStates, transcribe_speech
from ..recording import Recording
from ..whisper.language import whisper_languages

__all__ = ["MAX_TRANSCRIBED_S", "MIN_SPEECH_S", "language_stretches", "what_was_said"]

MAX_TRANSCRIBED_S = 60.0  # seconds of a recording transcribed: a minute of speech costs a few seconds
MIN_SPEECH_S = 0.5  # a window with less speech (a breath, a click) neither starts nor splits a stretch


def language_stretches(windows: list[dict]) -> list[dict]:
    """Runs of windows ({"start", "end", "speech_s", "language": {code: p}}, in time order) with the same
    most likely language: [{"start", "end", "language"}] (seconds), each at most MAX_HEARD_S long."""
    stretches: list[dict] = []
    for window in windows:
        if "language" not in window or window.get("speech_s", 0.0) < MIN_SPEECH_S:
            continue
        language = max(window["language"], key=window["language"].get)
        last = stretches[-1] if stretches else None
        if last and last["language"] == language and window["end"] - last["start"] <= MAX_HEARD_S:
            last["end"] = window["end"]
        else:
            stretches.append({"start": window["start"], "end": window["end"], "language": language})
    return stretches


def what_was_said(recording: Recording, windows: list[dict], states: EncoderStates | None = None) -> list[dict]:
    """The listener's transcript of `recording` per language stretch of its `windows` (see
    `language_stretches`): [{"start", "end" (s), "language" (ISO 639-1), "text"}], the first
    MAX_TRANSCRIBED_S seconds of them; stretches in a language Whisper does not know are left out.
    `states`: the encoder states kept (the coach's, shared with its scoring; default: the listener's own)."""
    said, budget = [], MAX_TRANSCRIBED_S
    known = set(whisper_languages())
    for stretch in language_stretches(windows):
        if budget <= 0:
            break
        if stretch["language"] not in known:
            continue
        end = min(stretch["end"], stretch["start"] + budget)
        budget -= end - stretch["start"]
        wave = recording.wave[int(stretch["start"] * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        said.append({**stretch, "end": round(end, 2), "text": transcribe_speech(wave, stretch["language"], states)})
    return said

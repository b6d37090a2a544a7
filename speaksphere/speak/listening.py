"""Listening to free speech: which language, what was said, and when each word was said.

Speech longer than Whisper's 30-s window is cut at the voice activity detector's pauses into windows
of at most `MAX_WINDOW_S`; each window goes once through Whisper base's encoder, is given a language
(Whisper's own identification, over the languages the app knows, weighted by each window's speech)
and is transcribed greedily in the recording's one language; its words are timed by the decoder's
cross-attention (timing.py) and carry their tokens' log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..audio import SAMPLE_RATE
from ..model.whisper import language_log_probabilities, whisper_language_logits
from ..model.whisper_decoder import transcribe
from ..pronounce.listener import EncoderStates, normalise_word
from ..vad import SpeechSegment
from .timing import FRAMES_PER_S, TimedWord, timed_tokens, words_of

__all__ = ["LANGUAGES", "MAX_WINDOW_S", "Listening", "speech_windows", "heard_language", "listen"]

LANGUAGES = ("en", "fr", "de", "es", "it", "ru", "nl", "pt", "pl")  # the app's languages (the model's)
MAX_WINDOW_S = 28.0  # seconds of audio per encoder pass (Whisper hears 30 s; 0.5 s of silence is added)
_EDGE_S = 0.2  # seconds of audio kept before a window's first speech and after its last
_TAIL_S = 0.5  # silence after each window, so its last word is not cut (as the pronunciation listener)
_TOKENS_PER_S = 8  # bounds greedy decoding (a fast speaker of a long-word language)
_states = EncoderStates(max_bytes=32 << 20)


@dataclass(frozen=True)
class Listening:
    """What the listener heard in free speech."""

    language: str  # the language it was transcribed in (given, or the one heard)
    language_probabilities: dict[str, float]  # over LANGUAGES, weighted by each window's speech
    words: list[TimedWord]  # in time order; times in seconds from the recording's start
    transcript: str
    mean_log_probability: float  # per token of the transcript, end-of-text included (nats; 0 is sure)
    complete: bool  # False where a window's decoding stopped on a loop or its token limit
    # Whisper's encoder (last layer) averaged over the speech's positions: float32 (512,), how the voice
    # sounds to a model trained on 680,000 hours of speech (a measure of its own for the calibration)
    embedding: np.ndarray | None = None


def speech_windows(segments: list[SpeechSegment], duration_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of windows of at most MAX_WINDOW_S that hold every speech segment, cut in
    pauses; a segment longer than a window is cut within it."""
    pieces = []
    for seg in segments:
        start = seg.start
        while seg.end - start > MAX_WINDOW_S - 2 * _EDGE_S:
            pieces.append((start, start + MAX_WINDOW_S - 2 * _EDGE_S))
            start += MAX_WINDOW_S - 2 * _EDGE_S
        pieces.append((start, seg.end))
    windows: list[list[float]] = []
    for start, end in pieces:
        if windows and end + _EDGE_S - windows[-1][0] <= MAX_WINDOW_S:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [(max(0.0, s - _EDGE_S), min(duration_s, e + _EDGE_S)) for s, e in windows]


def _language_of(states: list[torch.Tensor], speech_s: list[float]) -> dict[str, float]:
    """Probabilities over LANGUAGES: each window's, weighted by its seconds of speech."""
    weights = np.asarray(speech_s, np.float64) / max(sum(speech_s), 1e-9)
    total = np.zeros(len(LANGUAGES))
    for window_states, weight in zip(states, weights):
        logits = whisper_language_logits(window_states)
        total += weight * language_log_probabilities(logits, list(LANGUAGES))[0].exp().numpy()
    return {code: float(p) for code, p in zip(LANGUAGES, total)}


def _encoded(wave: np.ndarray, segments: list[SpeechSegment]):
    """The windows (start, end s), their encoder states (1, positions, 512) and seconds of speech."""
    duration = len(wave) / SAMPLE_RATE
    windows = speech_windows(segments, duration)
    states, speech_s = [], []
    for start, end in windows:
        piece = wave[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        piece = np.concatenate([piece, np.zeros(int(_TAIL_S * SAMPLE_RATE), np.float32)]).astype(np.float32)
        states.append(_states(piece))  # cached: the language check and the transcript share one pass
        speech_s.append(sum(max(0.0, min(s.end, end) - max(s.start, start)) for s in segments))
    return windows, states, speech_s


@torch.inference_mode()
def heard_language(wave: np.ndarray, segments: list[SpeechSegment]) -> dict[str, float]:
    """Probabilities over LANGUAGES of the language spoken. wave: float32 (n,), 16 kHz; segments: VAD's."""
    _, states, speech_s = _encoded(wave, segments)
    return _language_of(states, speech_s)


@torch.inference_mode()
def listen(wave: np.ndarray, segments: list[SpeechSegment], language: str | None = None) -> Listening:
    """Hear free speech. wave: float32 (n,), 16 kHz, the whole recording; segments: its speech (VAD);
    language: ISO 639-1 to transcribe in, or None for the language heard."""
    windows, states, speech_s = _encoded(wave, segments)
    probabilities = _language_of(states, speech_s)
    language = language or max(probabilities, key=probabilities.get)
    words: list[TimedWord] = []
    log_probabilities: list[float] = []
    complete = True
    for (start, end), window_states in zip(windows, states):
        longest = int(_TOKENS_PER_S * (end - start)) + 8
        transcript = transcribe(window_states, language, max_tokens=longest)
        complete &= bool(np.isfinite(transcript.log_probabilities[-1]))
        n_frames = int((end - start) * FRAMES_PER_S) + 1
        timed = timed_tokens(window_states, language, transcript.tokens, n_frames)
        log_probabilities += [t.log_probability for t in timed] + [float(transcript.log_probabilities[-1])]
        words += [TimedWord(w.text, round(start + w.start, 3), round(start + w.end, 3), w.log_probabilities)
                  for w in words_of(transcript.tokens, timed) if normalise_word(w.text)]
    finite = [lp for lp in log_probabilities if np.isfinite(lp)]
    return Listening(language, probabilities, words, " ".join(w.text for w in words),
                     float(np.mean(finite)) if finite else float("nan"), complete,
                     _speech_embedding(windows, states, segments))


def _speech_embedding(windows, states, segments: list[SpeechSegment]) -> np.ndarray:
    """The encoder's last layer averaged over every position inside speech (VAD), all windows together."""
    total, count = np.zeros(states[0].shape[-1], np.float64), 0
    for (start, end), window_states in zip(windows, states):
        frames = window_states[0].float().numpy()
        times = start + np.arange(len(frames)) / FRAMES_PER_S
        inside = np.zeros(len(frames), bool)
        for seg in segments:
            inside |= (times >= seg.start) & (times < seg.end) & (times < end)
        total += frames[inside].sum(axis=0)
        count += int(inside.sum())
    return (total / max(count, 1)).astype(np.float32)

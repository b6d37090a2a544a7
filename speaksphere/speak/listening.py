"""Listening to free speech: which language, what was said, and when each word was said.

Speech longer than Whisper's 30-s window is cut at the voice activity detector's pauses into windows
of at most `MAX_WINDOW_S`; each window goes once through Whisper base's encoder, is given a language
(Whisper's own identification, over the languages the app knows, weighted by each window's speech)
and is transcribed greedily in the recording's one language; its words are timed by the decoder's
cross-attention (timing.py) and carry their tokens' log-probabilities. The speech goes through the
encoder a second time, run by run, for its mean frame (`speech_embedding` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..audio import SAMPLE_RATE
from ..pronounce.listener import EncoderStates
from ..vad import SpeechSegment
from ..whisper.constants import MAX_TOKENS
from ..whisper.decoder import transcribe
from ..whisper.language import language_log_probabilities, whisper_language_logits
from ..words import normalise_word
from .measures import runs_and_pauses
from .timing import FRAMES_PER_S, TimedWord, timed_tokens, words_of

__all__ = ["LANGUAGES", "MAX_WINDOW_S", "Listening", "Encoded", "speech_windows", "encode", "listen",
           "speech_embedding"]

LANGUAGES = ("en", "fr", "de", "es", "it", "ru", "nl", "pt", "pl")  # the app's languages (the model's)
MAX_WINDOW_S = 28.0  # seconds of audio per encoder pass (Whisper hears 30 s; 0.5 s of silence is added)
_EDGE_S = 0.2  # seconds of audio kept before a window's first speech and after its last
_TAIL_S = 0.5  # silence after each window, so its last word is not cut (as the pronunciation listener)
_states = EncoderStates(max_bytes=32 << 20)  # the process's own (library calls); a coach has its own


@dataclass(frozen=True)
class Listening:
    """What the listener heard in free speech."""

    language: str  # the language it was transcribed in (given, or the one heard)
    language_probabilities: dict[str, float]  # over LANGUAGES, weighted by each window's speech
    words: list[TimedWord]  # in time order; times in seconds from the recording's start
    transcript: str
    mean_log_probability: float  # per token of the transcript, end-of-text included (nats; 0 is sure)
    complete: bool  # False where a window's decoding stopped on a loop or its token limit
    # Whisper's encoder (last layer) averaged over the speech's positions (speech_embedding): float32 (512,),
    # how the voice sounds to a model trained on 680,000 hours of speech (measures for the calibration)
    embedding: np.ndarray | None = None


def speech_windows(segments: list[SpeechSegment], duration_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of windows of at most MAX_WINDOW_S that hold every speech segment once, cut
    in pauses; a segment longer than a window is cut within it. Each window keeps up to _EDGE_S of the
    silence around its speech, at most half of the pause to its neighbour's speech (and none at a cut
    inside a segment), so no stretch of audio is heard by two windows."""
    span = MAX_WINDOW_S - 2 * _EDGE_S
    pieces: list[list[float]] = []  # [start, end] of speech, cut where a segment is longer than a window
    for seg in segments:
        start = seg.start
        while seg.end - start > span:
            pieces.append([start, start + span])
            start += span
        pieces.append([start, seg.end])
    windows: list[list[float]] = []
    for start, end in pieces:
        if windows and end - windows[-1][0] <= span:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    padded = []
    for i, (start, end) in enumerate(windows):
        before = start - windows[i - 1][1] if i else start
        after = windows[i + 1][0] - end if i + 1 < len(windows) else duration_s - end
        padded.append((max(0.0, start - min(_EDGE_S, before / 2 if i else before)),
                       min(duration_s, end + min(_EDGE_S, after / 2 if i + 1 < len(windows) else after))))
    return padded


def _on_speech(start: float, end: float, runs: list[tuple[float, float]]) -> tuple[float, float]:
    """A word's (start, end) s moved inside the run of speech (measures.runs_and_pauses: between pauses of
    250 ms or more, so a stop's closure inside a word stays in it) it overlaps most, the nearest run if it
    overlaps none: the attention's path runs on through the pause after a word, and pins a window's first
    word to the window's start. At least 20 ms long."""
    if not runs:
        return start, max(end, start + 0.02)
    overlap = [min(end, b) - max(start, a) for a, b in runs]
    best = int(np.argmax(overlap))
    if overlap[best] <= 0:
        best = int(np.argmin([min(abs(start - b), abs(end - a)) for a, b in runs]))
    first, last = runs[best]
    start = min(max(start, first), last - 0.02)
    return start, max(min(end, last), start + 0.02)


def _language_of(states: list[torch.Tensor], speech_s: list[float]) -> dict[str, float]:
    """Probabilities over LANGUAGES: each window's, weighted by its seconds of speech."""
    weights = np.asarray(speech_s, np.float64) / max(sum(speech_s), 1e-9)
    total = np.zeros(len(LANGUAGES))
    for window_states, weight in zip(states, weights):
        logits = whisper_language_logits(window_states)
        total += weight * language_log_probabilities(logits, list(LANGUAGES))[0].exp().numpy()
    return {code: float(p) for code, p in zip(LANGUAGES, total)}


@dataclass(frozen=True)
class Encoded:
    """A recording's speech windows through Whisper's encoder, once for every later step."""

    windows: list[tuple[float, float]]  # (start, end) s
    states: list[torch.Tensor]  # each (1, positions, 512), the encoder's last layer
    speech_s: list[float]  # seconds of speech in each window

    def language_probabilities(self) -> dict[str, float]:
        """Probabilities over LANGUAGES of the language spoken (windows weighted by their speech)."""
        return _language_of(self.states, self.speech_s)


@torch.inference_mode()
def encode(wave: np.ndarray, segments: list[SpeechSegment], states: EncoderStates | None = None) -> Encoded:
    """wave: float32 (n,), 16 kHz, the whole recording; segments: its speech (VAD); states: the encoder
    states kept (the coach's ScoringCaches.speech_states; default: this module's own)."""
    kept = states or _states
    windows = speech_windows(segments, len(wave) / SAMPLE_RATE)
    encoded, speech_s = [], []
    for start, end in windows:
        piece = wave[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        piece = np.concatenate([piece, np.zeros(int(_TAIL_S * SAMPLE_RATE), np.float32)]).astype(np.float32)
        encoded.append(kept(piece))
        speech_s.append(sum(max(0.0, min(s.end, end) - max(s.start, start)) for s in segments))
    return Encoded(windows, encoded, speech_s)


@torch.inference_mode()
def listen(wave: np.ndarray, segments: list[SpeechSegment], language: str | None = None,
           encoded: Encoded | None = None, states: EncoderStates | None = None) -> Listening:
    """Hear free speech. wave: float32 (n,), 16 kHz, the whole recording; segments: its speech (VAD);
    language: ISO 639-1 to transcribe in, or None for the language heard; encoded: `encode`'s, if done;
    states: the encoder states kept (as `encode`'s)."""
    encoded = encoded or encode(wave, segments, states)
    windows = encoded.windows
    probabilities = encoded.language_probabilities()
    language = language or max(probabilities, key=probabilities.get)
    words: list[TimedWord] = []
    log_probabilities: list[float] = []
    complete = True
    runs, _ = runs_and_pauses([(s.start, s.end) for s in segments])
    for (start, end), window_states in zip(windows, encoded.states):
        transcript = transcribe(window_states, language, max_tokens=MAX_TOKENS)  # loops are stopped anyway
        complete &= bool(np.isfinite(transcript.log_probabilities[-1]))
        n_frames = int((end - start) * FRAMES_PER_S) + 1
        timed = timed_tokens(window_states, language, transcript.tokens, n_frames)
        log_probabilities += [t.log_probability for t in timed] + [float(transcript.log_probabilities[-1])]
        for w in words_of(transcript.tokens, timed):
            if normalise_word(w.text):
                word_start, word_end = _on_speech(start + w.start, start + w.end, runs)
                words.append(TimedWord(w.text, round(word_start, 3), round(word_end, 3), w.log_probabilities))
    finite = [lp for lp in log_probabilities if np.isfinite(lp)]
    mean_log_probability = float(np.mean(finite)) if finite else float("nan")
    return Listening(language, probabilities, words, " ".join(w.text for w in words), mean_log_probability, complete,
                     speech_embedding(wave, segments, states))


EMBEDDING_RUN_S = 10.0  # seconds: a run of speech longer than this is heard for the embedding in pieces


@torch.inference_mode()
def speech_embedding(wave: np.ndarray, segments: list[SpeechSegment],
                     states: EncoderStates | None = None) -> np.ndarray:
    """The encoder's last layer averaged over every position inside speech: float32 (512,). Each run of
    speech between pauses of 250 ms or more (cut into pieces of at most EMBEDDING_RUN_S) goes through
    the encoder on its own, with up to _EDGE_S of silence either side. Heard in 28-s windows, a native's
    30-s answer (sentences with 0.6-s pauses between them) scored 11 points lower than its sentences
    heard one by one, and heard in pieces of up to 8 s that keep their pauses, 9 points lower: the
    learners of the fit read one sentence each, where a pause is a hesitation, and the encoder hears
    pauses. Run by run, the pauses are left to the fluency measures (out of fold on the fit's readings
    this costs 0.03-0.05 of Pearson: benchmarks/fit_speaking.py, CARD.md)."""
    runs, _ = runs_and_pauses([(s.start, s.end) for s in segments])
    pieces = [(start + k * EMBEDDING_RUN_S, min(end, start + (k + 1) * EMBEDDING_RUN_S))
              for start, end in runs for k in range(int(np.ceil((end - start) / EMBEDDING_RUN_S - 1e-9)))]
    total, count = np.zeros(512, np.float64), 0
    for start, end in pieces:
        first = max(0.0, start - _EDGE_S)
        piece = wave[int(first * SAMPLE_RATE) : int((end + _EDGE_S) * SAMPLE_RATE)]
        piece = np.concatenate([piece, np.zeros(int(_TAIL_S * SAMPLE_RATE), np.float32)]).astype(np.float32)
        frames = (states or _states)(piece)[0].float().numpy()
        times = first + np.arange(len(frames)) / FRAMES_PER_S
        inside = np.zeros(len(frames), bool)
        for seg in segments:
            inside |= (times >= max(seg.start, start)) & (times < min(seg.end, end))
        total += frames[inside].sum(axis=0)
        count += int(inside.sum())
    return (total / max(count, 1)).astype(np.float32)

"""A listener in every language: Whisper base hears what was said and how clearly each expected word came across.

`hear(wave, language, words)` runs Whisper's encoder once on the speech (at most 30 s: Whisper's window)
and its decoder twice: greedy decoding gives the transcript (what the learner said, in words), teacher
forcing gives each expected word's log-probability (its tokens together). Scoring compares those with
the same listener's hearing of the golden reference, so a voice or a microphone is not punished for what
the native reference shares (`relative_intelligibility`), and aligns the transcript with the expected
words for omissions, insertions and substitutions (`align_words`).

The weights are the process's one Whisper base (speaksphere.whisper.weights.load_whisper_base), shared
with the analysis model.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from ..audio import SAMPLE_RATE
from ..whisper.constants import FRAME_SAMPLES
from ..whisper.decoder import text_tokens, transcribe
from ..whisper.encoder import pretrained_whisper_encoder
from ..words import normalise_word, spell_number

__all__ = ["MAX_HEARD_S", "Hearing", "hear", "transcribe_speech", "normalise_word", "transcript_words",
           "kept_log_probability", "spell_number", "align_words", "relative_intelligibility", "EncoderStates"]

MAX_HEARD_S = 29.0  # Whisper hears 30 s at once; scoring skips the listener for longer speech
_TAIL_S = 0.5  # silence after the speech, so the last word is not cut (Whisper pads with silence too)
_TOKENS_PER_S = 8  # a fast speaker of a long-word language; bounds greedy decoding (with loop detection)


@dataclass(frozen=True)
class Hearing:
    """What the listener heard in one recording, for one expected text."""

    transcript: str  # greedy, language fixed
    transcript_words: list[str]  # the transcript's words, normalised (lower case, no punctuation)
    word_log_probabilities: np.ndarray  # float64 (n_expected_words,): each expected word's tokens together
    mean_log_probability: float  # per token of the expected text, end-of-text included (0 is best)
    # Whisper's encoder frames of the wave, unit length, read-only: float32 (positions, 512), one every
    # 20 ms from the wave's first sample to its last (the silence Whisper pads with left out)
    frames: np.ndarray | None = None
    # per token of the transcript, end-of-text included: how sure the listener is of what it wrote (0 is
    # best); where Whisper looped (a stretch said twice, cut and its stop scored -inf:
    # speaksphere.whisper.decoder), over the tokens it kept: the loop is on the padding after the speech,
    # not doubt about the words
    transcript_log_probability: float = float("nan")


@functools.cache
def _encoder():
    return pretrained_whisper_encoder(min_input_s=4.0)


class EncoderStates:
    """The encoder's last hidden states of the most recent recordings, kept up to `max_bytes` in all:
    a recording heard again (Compare after Pronounce, a client's retry, another expected text) costs no
    second encoder pass. Keyed by the SHA-256 of the encoder's input; safe across request threads."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._states: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()
        self.passes = 0  # encoder passes paid, for tests and benchmarks

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def __call__(self, wave: np.ndarray) -> torch.Tensor:
        """States (1, positions, 512) of `wave` (float32 (n,), 16 kHz), from the cache or one encoder pass."""
        key = hashlib.sha256(wave.tobytes()).digest()
        with self._lock:
            if key in self._states:
                self._states.move_to_end(key)
                return self._states[key]
        states = _encoder()(torch.from_numpy(wave)[None]).last_hidden_state  # outside the lock: passes run side by side
        with self._lock:
            self.passes += 1
            self._states[key] = states
            while sum(t.nbytes for t in self._states.values()) > self.max_bytes and len(self._states) > 1:
                self._states.popitem(last=False)
        return states


_heard_states = EncoderStates(max_bytes=64 << 20)  # the process's own (default_caches()'s); a coach has its own


def transcript_words(transcript: str, language: str, written: frozenset[str] = frozenset()) -> list[str]:
    """A transcript's words as the expected words (normalised, `written`) are compared with them: numbers
    spelled out (spell_number), and a hyphenated word taken as its parts ("T-shirt" heard for T SHIRT,
    "modo-mudo" for "modo mudo": each a miscue of two words read well) unless the text writes it whole."""
    words = []
    for word in transcript.split():
        parts = [word] if normalise_word(word) in written else re.split(r"[-\u2010\u2011]", word)
        words += [spelled for part in parts for spelled in spell_number(normalise_word(part), language, written)]
    return words


@torch.inference_mode()
def hear(wave: np.ndarray, language: str, words: list[str], states: EncoderStates | None = None) -> Hearing:
    """Listen to `wave` (float32, 16 kHz, trimmed to its speech) reading `words` (the expected text's
    words, as written) in `language` (ISO 639-1); `states`: the encoder states kept (default: the
    process's own)."""
    wave = np.asarray(wave, dtype=np.float32)[: int(MAX_HEARD_S * SAMPLE_RATE)]
    n_speech = len(wave)
    wave = np.concatenate([wave, np.zeros(int(_TAIL_S * SAMPLE_RATE), np.float32)])
    # the shared weights are only read: requests run side by side, as many as the app's queue lets in
    states = (states or _heard_states)(wave)
    # as Whisper writes a transcript: a capital first letter (the draft then holds until the last word)
    words = [words[0][:1].upper() + words[0][1:], *words[1:]] if words else words
    word_tokens = [text_tokens(w) for w in words]
    expected = [t for tokens in word_tokens for t in tokens]
    # the expected text is the draft: one pass scores it and decodes as far as the attempt agrees with it
    longest = max(int(_TOKENS_PER_S * len(wave) / SAMPLE_RATE), len(expected)) + 8
    transcript = transcribe(states, language, max_tokens=longest, draft=expected)
    scored = transcript.draft_log_probabilities
    per_word, start = [], 0
    for tokens in word_tokens:
        per_word.append(float(scored[start : start + len(tokens)].sum()))
        start += len(tokens)
    written = frozenset(normalise_word(w) for w in words)
    heard = transcript_words(transcript.text, language, written)
    frames = states[0, : n_speech // FRAME_SAMPLES + 1].float().numpy()  # the speech's, not the padding's
    frames = frames / np.maximum(np.linalg.norm(frames, axis=1, keepdims=True), 1e-9)  # a new array: the cache's stays
    frames.setflags(write=False)  # shared by every scoring against a cached reference
    return Hearing(transcript.text, heard, np.array(per_word), float(scored.mean()), frames,
                   kept_log_probability(transcript.log_probabilities))


def kept_log_probability(log_probabilities: np.ndarray) -> float:
    """Mean of a transcript's token log-probabilities (nats) without a loop's stop (-inf); -inf if none is left."""
    kept = log_probabilities[np.isfinite(log_probabilities)]
    return float(kept.mean()) if kept.size else float("-inf")


@torch.inference_mode()
def transcribe_speech(wave: np.ndarray, language: str, states: EncoderStates | None = None) -> str:
    """What was said in `wave` (float32, 16 kHz, speech; its first MAX_HEARD_S seconds are heard) in
    `language` (ISO 639-1), with no expected text: Whisper base's greedy transcript, as written ("" for
    nothing heard). One encoder pass (cached in `states` as `hear`'s) and one decoder step per token."""
    wave = np.asarray(wave, dtype=np.float32)[: int(MAX_HEARD_S * SAMPLE_RATE)]
    padded = np.concatenate([wave, np.zeros(int(_TAIL_S * SAMPLE_RATE), np.float32)])
    longest = int(_TOKENS_PER_S * len(padded) / SAMPLE_RATE) + 8
    return transcribe((states or _heard_states)(padded), language, max_tokens=longest).text.strip()


def relative_intelligibility(attempt: np.ndarray, reference: np.ndarray, drop: float) -> np.ndarray:
    """Per word 0-100: 100 when the listener found the word at least as likely in the attempt as in the
    reference, 0 when `drop` nats (or more) less likely, linear between. Both (n_words,) log-probabilities."""
    return 100.0 * np.clip(1.0 + (attempt - np.minimum(reference, 0.0)) / drop, 0.0, 1.0)


def _substitution_cost(expected: str, heard: str) -> float:
    """0 for the same word; 1 - difflib's similarity ratio for a near-miss (ratio >= 0.5: "désolé" heard as
    "désolée" costs 0.08, "ce" as "se" 0.5); 1 for other words ("de" and "nouveau" share an "e", and at
    less than 1 two unrelated substitutions would undercut a word left out and one added)."""
    if expected == heard:
        return 0.0
    similarity = difflib.SequenceMatcher(None, expected, heard).ratio()
    return 1.0 - similarity if similarity >= 0.5 else 1.0


def align_words(expected: list[str], heard: list[str]) -> list[tuple[int | None, int | None]]:
    """Levenshtein alignment of normalised expected and heard words: pairs (expected index, heard index);
    (i, None) is an omission, (None, j) an insertion, a pair of different words a substitution.

    A word left out or added costs 1, a substitution 0-1 by how unlike the two words are, so one
    mishearing does not shift the words after it: with "je suis" heard before "désolée se", equal costs
    tied the pairing désolé-je, ce-suis with the right one (désolé-désolée, ce-se)."""
    n, m = len(expected), len(heard)
    cost = np.zeros((n + 1, m + 1), dtype=np.float64)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + _substitution_cost(expected[i - 1], heard[j - 1]))
    pairs, i, j = [], n, m
    close = lambda a, b: abs(a - b) < 1e-9  # noqa: E731
    while i > 0 or j > 0:  # among equally short paths: a match, then a word left out or added, then a substitution
        if i > 0 and j > 0 and expected[i - 1] == heard[j - 1] and close(cost[i, j], cost[i - 1, j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif j > 0 and close(cost[i, j], cost[i, j - 1] + 1):
            pairs.append((None, j - 1))
            j -= 1
        elif i > 0 and close(cost[i, j], cost[i - 1, j] + 1):
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]

"""When each word of a transcript was said: Whisper's cross-attention aligned to the audio by DTW.

The method is openai-whisper's (`whisper.timing.find_alignment`, Radford et al. 2022): teacher forcing
the transcript's tokens, a few of the decoder's cross-attention heads ("alignment heads", chosen by
OpenAI for each model) look at the encoder frames where each token is said. Their attention,
standardised per frame and median-filtered along time, is the similarity a DTW path over (tokens,
frames) follows; a word starts at the frame where the path reaches its first token. The same pass
gives every token's log-probability (float32).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.ndimage
import torch

from ..audio import SAMPLE_RATE
from ..whisper.constants import END_OF_TEXT, FRAME_SAMPLES
from ..whisper.decoder import _decoder_and_projection, _log_probabilities, prompt_tokens, token_text

__all__ = ["ALIGNMENT_HEADS", "FRAMES_PER_S", "TimedToken", "timed_tokens", "words_of"]

# Whisper base's alignment heads (layer, head), from openai-whisper's _ALIGNMENT_HEADS["base"]
ALIGNMENT_HEADS = ((3, 1), (4, 2), (4, 3), (4, 7), (5, 1), (5, 2), (5, 4), (5, 6))
FRAMES_PER_S = SAMPLE_RATE // FRAME_SAMPLES  # 50 encoder positions a second: one every 20 ms
_MEDIAN_WIDTH = 7  # frames, as openai-whisper filters the attention


@dataclass(frozen=True)
class TimedToken:
    """One transcript token: its text, when it starts (s, from the encoder input's first sample) and
    how sure the listener is of it (natural log-probability, 0 is sure)."""

    text: str
    start: float
    end: float
    log_probability: float


class _Capture(threading.local):
    queries: dict | None = None  # layer -> (heads, tokens, 64) scaled queries, while a thread captures


_CAPTURE = _Capture()
_HOOKS_LOCK = threading.Lock()


@functools.cache
def _hooked_decoder():
    """The shared decoder with forward hooks on the alignment heads' cross-attention layers (once): they
    record queries only in a thread that asked for them, so other requests' passes pay nothing."""
    with _HOOKS_LOCK:  # functools.cache alone let 4 threads asking at once register 4 hooks per layer
        return _register_hooks()


@functools.cache
def _register_hooks():
    decoder, projection = _decoder_and_projection()
    for layer in sorted({layer for layer, _ in ALIGNMENT_HEADS}):
        attention = decoder.layers[layer].encoder_attn

        def hook(module, args, kwargs, output, layer=layer):
            if _CAPTURE.queries is None:
                return
            hidden = args[0] if args else kwargs["hidden_states"]
            keys = kwargs["key_value_states"]
            heads, size = module.num_heads, module.head_dim
            q = (module.q_proj(hidden) * module.scaling).view(hidden.shape[0], -1, heads, size).transpose(1, 2)
            k = module.k_proj(keys).view(keys.shape[0], -1, heads, size).transpose(1, 2)
            _CAPTURE.queries[layer] = (q[0].float(), k[0].float())

        attention.register_forward_hook(hook, with_kwargs=True)
    return decoder, projection


@torch.inference_mode()
def timed_tokens(encoder_states: torch.Tensor, language: str, tokens: list[int], n_frames: int) -> list[TimedToken]:
    """Each of `tokens` (a transcript of the audio, end-of-text excluded) with its time and log-probability.

    encoder_states: (1, positions, 512), the encoder's last layer; n_frames: positions that hold the
    audio (not Whisper's padding), 20 ms each. Times in seconds from the encoder input's start."""
    if not tokens:
        return []
    decoder, projection = _hooked_decoder()
    prompt = prompt_tokens(language)
    feed = prompt + list(tokens) + [END_OF_TEXT]
    states = encoder_states.to(decoder.embed_tokens.weight.device, decoder.embed_tokens.weight.dtype)
    _CAPTURE.queries = {}
    try:
        hidden = decoder(input_ids=torch.tensor([feed]), encoder_hidden_states=states,
                         use_cache=False).last_hidden_state
        captured = _CAPTURE.queries
    finally:
        _CAPTURE.queries = None
    rows = _log_probabilities(hidden[0, len(prompt) - 1 : -1], projection)  # predicts tokens..., end-of-text
    targets = torch.tensor(list(tokens) + [END_OF_TEXT])
    log_probabilities = rows.gather(1, targets[:, None])[:, 0].double().numpy()
    n_frames = max(1, min(n_frames, states.shape[1]))
    weights = []
    for layer, head in ALIGNMENT_HEADS:
        q, k = captured[layer]
        weights.append(torch.softmax(q[head] @ k[head, :n_frames].T, dim=-1).numpy())  # (tokens, frames)
    # as openai-whisper: standardised over every row (start-of-transcript to end-of-text) and filtered
    # along time (torch's "reflect" padding is scipy's "mirror"), then the rows that predict the text's
    # tokens and end-of-text are kept: from <|notimestamps|>'s to the last text token's, n_tokens + 1
    # rows, the last one ending the last word
    weights = np.stack(weights)  # (heads, rows of `feed`, frames)
    weights = (weights - weights.mean(axis=-2, keepdims=True)) / (weights.std(axis=-2, keepdims=True) + 1e-9)
    weights = scipy.ndimage.median_filter(weights, size=(1, 1, _MEDIAN_WIDTH), mode="mirror")
    weights = weights[:, len(prompt) - 1 : len(prompt) + len(tokens)]
    similarity = weights.mean(axis=0)  # (n_tokens + 1, frames)
    _, path = librosa.sequence.dtw(C=-similarity.astype(np.float64), backtrack=True)
    path = path[::-1]  # (steps, 2): (row, frame) in time order
    starts = np.full(len(tokens) + 1, np.nan)
    for row, frame in path:
        if np.isnan(starts[row]):
            starts[row] = frame / FRAMES_PER_S
    starts, ends = starts[:-1], starts[1:]
    return [TimedToken(token_text([t]), float(s), float(max(e, s)), float(lp))
            for t, s, e, lp in zip(tokens, starts, ends, log_probabilities[:-1])]


@dataclass(frozen=True)
class TimedWord:
    """A word of the transcript as written (punctuation attached), its time span (s) and its tokens'
    log-probabilities."""

    text: str
    start: float
    end: float
    log_probabilities: tuple[float, ...]


def words_of(tokens: list[int], timed: list[TimedToken]) -> list[TimedWord]:
    """Group timed tokens into words: a token whose text starts with a space starts a word; tokens that
    split a character's UTF-8 bytes are read together (Cyrillic letters take two bytes)."""
    words: list[list] = []
    pending: list[int] = []
    pending_timed: list[TimedToken] = []
    for token, item in zip(tokens, timed):
        pending.append(token)
        pending_timed.append(item)
        text = token_text(pending)
        if "\ufffd" in text:  # an incomplete character: wait for the token that completes it
            continue
        if text.startswith(" ") or not words:
            words.append([text, pending_timed])
        else:
            words[-1][0] += text
            words[-1][1] = words[-1][1] + pending_timed
        pending, pending_timed = [], []
    return [TimedWord(text.strip(), items[0].start, items[-1].end, tuple(i.log_probability for i in items))
            for text, items in words if text.strip()]

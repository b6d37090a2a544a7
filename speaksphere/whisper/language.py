"""Whisper's own language identification, and what the model makes of it.

`whisper_language_logits` runs one decoder step after <|startoftranscript|> on the encoder's states;
the others turn those logits (batch, 99) into a model's answers: log-probabilities over its language
labels, English's share of an accent Whisper hears as another language, and the accent gates.
"""

from __future__ import annotations

import functools
import json

import torch

from .constants import FIRST_LANGUAGE_TOKEN, N_LANGUAGES, START_OF_TRANSCRIPT
from .weights import load_whisper_base, tokenizer_file

__all__ = ["whisper_languages", "language_log_probabilities", "accented_english", "gated", "whisper_language_logits"]


@functools.cache
def whisper_languages() -> tuple[str, ...]:
    """The 99 languages Whisper knows, as its language tokens name them, in token order ("en", "zh", ...)."""
    tokens = json.loads(tokenizer_file().read_text())["added_tokens"]
    found = sorted((t["id"], t["content"][2:-2]) for t in tokens
                   if FIRST_LANGUAGE_TOKEN <= t["id"] < FIRST_LANGUAGE_TOKEN + N_LANGUAGES)
    return tuple(code for _, code in found)


def language_log_probabilities(whisper_language: torch.Tensor, labels: list[str]) -> torch.Tensor:
    """Whisper's language logits (batch, 99) -> its log-probabilities over `labels` only (ISO 639-1
    codes), (batch, len(labels)). Raises ValueError for a code Whisper has no token for."""
    known = whisper_languages()
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValueError(f"Whisper has no language token for {unknown}: language labels must be ISO 639-1 codes "
                         "it knows")
    return torch.log_softmax(whisper_language.float()[:, [known.index(label) for label in labels]], dim=-1)


def accented_english(whisper_language: torch.Tensor, labels: list[str], weights: dict[str, float]) -> torch.Tensor:
    """What to add to the log-probabilities of `labels` (batch, len(labels)): to English's, Whisper's
    probability (over its 99) of each language of `weights` times its weight. Whisper hears a Mandarin
    speaker's English as partly Chinese, a language the labels do not answer; with {"zh": w} that doubt
    speaks for English instead of for the next language of the labels. Zero without "en" or weights."""
    shift = torch.zeros(whisper_language.shape[0], len(labels))
    if "en" not in labels or not weights:
        return shift
    known = whisper_languages()
    probabilities = torch.softmax(whisper_language.float(), dim=-1)
    shift[:, labels.index("en")] = sum(w * probabilities[:, known.index(code)] for code, w in weights.items())
    return shift


def gated(logits: torch.Tensor, labels: list[str], whisper_language: torch.Tensor,
          gates: dict[str, list]) -> torch.Tensor:
    """`logits` (batch, len(labels)) with each gated label's logit set to -inf where Whisper's
    log-probability (over its 99) of the gate's language is below the gate's threshold: the label's
    probability is 0 at any temperature, so temperatures are fitted on the ungated logits.
    gates: label -> [language code, threshold in nats]; a label not in `labels` is left alone."""
    if not gates:
        return logits
    known = whisper_languages()
    log_probabilities = torch.log_softmax(whisper_language.float(), dim=-1)  # over Whisper's 99
    logits = logits.clone()
    for label, (code, threshold) in gates.items():
        if label not in labels:
            continue
        closed = log_probabilities[:, known.index(code)].to(logits.device) < threshold
        logits[closed, labels.index(label)] = float("-inf")  # probability 0 at any temperature
    return logits


def whisper_language_logits(encoder_states: torch.Tensor) -> torch.Tensor:
    """Whisper's own language identification: one decoder step after <|startoftranscript|>.

    encoder_states: (batch, frames, 512), the encoder's last layer (after its layer norm). Returns the
    logits of the 99 language tokens (batch, 99), in whisper_languages() order; only those rows of the
    51,865-word output projection are computed.
    """
    decoder = load_whisper_base().model.decoder  # shared, on the CPU: the states go to it and come back
    device = decoder.embed_tokens.weight.device
    start = torch.full((encoder_states.shape[0], 1), START_OF_TRANSCRIPT, device=device)
    states = encoder_states.to(device, decoder.embed_tokens.weight.dtype)
    hidden = decoder(input_ids=start, encoder_hidden_states=states, use_cache=False).last_hidden_state
    rows = decoder.embed_tokens.weight[FIRST_LANGUAGE_TOKEN : FIRST_LANGUAGE_TOKEN + N_LANGUAGES]
    return (hidden[:, 0] @ rows.T).to(encoder_states.device)

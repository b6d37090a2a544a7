"""Voice commands heard by Whisper's decoder: which keyword a short recording starts with.

Whisper base was trained on 680,000 hours of speech; asked how likely its English transcript starts
with each keyword (in every spelling it writes: " seven", " Seven", " 7") followed by the end of a
word, it hears real voices far better than a head trained on our few (MODEL_CARD.md: the command row).
Whisper is told the keywords as text said before the audio ("Backward. Bed. Bird."), as
openai-whisper's initial_prompt does, which makes them likelier. What is left of the probability is
every other word (_unknown_); a recording without speech (by the voice activity detector) is _silence_,
and one whose first speech window holds more speech than a word takes (MAX_COMMAND_SPEECH_S) is
_unknown_, without asking the decoder.
"""

from __future__ import annotations

import numpy as np
import torch

from ..whisper.decoder import first_word_log_probabilities

__all__ = ["UNKNOWN", "SILENCE", "MIN_COMMAND_SPEECH_S", "MAX_COMMAND_SPEECH_S", "spellings", "keyword_prompt",
           "first_speech_window", "whisper_command_logits"]

# Speech Commands' names for any other word and for no speech: defined here (the model never imports the
# data package) and imported by speaksphere.data.labels, whose command vocabulary ends with them
UNKNOWN = "_unknown_"  # any other word
SILENCE = "_silence_"  # no speech: noise, breath, room tone
MIN_COMMAND_SPEECH_S = 0.1  # less speech than this (by VAD) is silence: Whisper would invent a word
# more speech than this in the command's window is a sentence, not a command word (the real single words of
# the command benchmark hold well under it: MODEL_CARD.md; Speech Commands' clips are 1 s): every longer
# recording is analysed without the decoder's pass
MAX_COMMAND_SPEECH_S = 2.5
_NUMERALS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
             "seven": "7", "eight": "8", "nine": "9"}
_FLOOR = -30.0  # the log-probability of what cannot be (finite, so temperatures and averages stay defined)


def spellings(word: str) -> list[str]:
    """How Whisper may write a keyword as a transcript's first word: " seven", " Seven", " 7"."""
    found = [" " + word, " " + word.capitalize()]
    return found + ([" " + _NUMERALS[word]] if word in _NUMERALS else [])


def keyword_prompt(words: list[str]) -> str:
    """The keywords as Whisper is told they were said before the audio: "Backward. Bed. Bird."

    Told them, Whisper hears more keywords in synthetic voices, and takes a few more real words for the
    keyword they sound like ("seventh" for "seven"); chosen on the dev voices with
    benchmarks/command_words.py (figures: MODEL_CARD.md, the command row)."""
    return ". ".join(word.capitalize() for word in words) + "."


def first_speech_window(speech_s: np.ndarray) -> int:
    """The window a command is heard in: the first with MIN_COMMAND_SPEECH_S of speech, else the first.
    speech_s: seconds of speech per analysis window, (n_windows,)."""
    return int(np.argmax(np.asarray(speech_s) >= MIN_COMMAND_SPEECH_S))


def whisper_command_logits(encoder_states: torch.Tensor, labels: list[str], speech_s: float) -> torch.Tensor:
    """Log-probabilities of each command label for one recording, (len(labels),).

    encoder_states: (1, frames, 512), Whisper's encoder's last layer on the recording's first speech
    window. labels: keywords (English words), with UNKNOWN and SILENCE among them. speech_s: seconds of
    speech in that window: under MIN_COMMAND_SPEECH_S it is silence, over MAX_COMMAND_SPEECH_S no
    command word (UNKNOWN), both without the decoder.
    """
    words = [label for label in labels if label not in (UNKNOWN, SILENCE)]
    logits = torch.full((len(labels),), _FLOOR)
    if speech_s < MIN_COMMAND_SPEECH_S:
        if SILENCE in labels:
            logits[labels.index(SILENCE)] = 0.0
        return logits
    if speech_s > MAX_COMMAND_SPEECH_S and UNKNOWN in labels:
        logits[labels.index(UNKNOWN)] = 0.0
        return logits
    first_word = first_word_log_probabilities(encoder_states, "en", [spellings(word) for word in words],
                                              previous=keyword_prompt(words))
    for word, value in zip(words, first_word):
        logits[labels.index(word)] = max(float(value), _FLOOR)
    if UNKNOWN in labels:
        said = min(float(np.exp(np.logaddexp.reduce(first_word))), 1.0 - 1e-6)
        logits[labels.index(UNKNOWN)] = max(float(np.log1p(-said)), _FLOOR)
    return logits

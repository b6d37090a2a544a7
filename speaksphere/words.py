"""Words of a text as the scorer compares them: one folding, one tokenising, numbers spelled out.

The listener compares its transcript's words with the expected text's (pronounce/listener.py), the
library finds a typed text among its phrases (pronounce/references.py), the speaking measures count
syllables (speak/measures.py): all with these functions. Pure text, no model.
"""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

__all__ = ["word_tokens", "normalise_word", "normalise_text", "number_words", "spell_number"]

_WORD = re.compile(r"[\w']+")  # letters, digits and apostrophes: a word; anything else separates words


def word_tokens(text: str) -> list[str]:
    """A text's words, compatibility-normalised (NFKC), in lower case, the typographic apostrophe (’) as
    "'", punctuation dropped ("Veuillez, l’heure" -> ["veuillez", "l'heure"])."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("’", "'"))


def normalise_word(word: str) -> str:
    """A word as the listener's transcript and the expected text are compared: lower case, letters,
    digits and inner apostrophes only ("Veuillez," -> "veuillez", "l’heure" -> "l'heure")."""
    return "".join(word_tokens(word)).strip("'")


def normalise_text(text: str) -> str:
    """A text as two texts are found the same (ignoring case and punctuation): its words joined by spaces."""
    return " ".join(word_tokens(text))


def number_words(number: int, language: str) -> str | None:
    """`number` written out in `language` by num2words ("1999" -> "one thousand, nine hundred and
    ninety-nine"), or None in a language num2words does not know."""
    try:
        return num2words(number, lang=language)
    except (NotImplementedError, OverflowError, KeyError, ValueError):
        return None


def spell_number(word: str, language: str, expected: frozenset[str] = frozenset()) -> list[str]:
    """A normalised word as words: digits spelled out in `language` ("3" -> ["three"], "21" -> ["twenty",
    "one"]), as the expected text writes them, unless the expected words hold the digits themselves ("Il
    est 3 heures"); any other word as it is ([] for an empty one). Whisper writes numbers as digits:
    "THREE TWO TWO SEVEN" read well was heard "3 2 2 7", every word a miscue."""
    if not word.isdecimal() or len(word) > 9 or word in expected:  # isdigit() takes "¹", which int() refuses
        return [word] if word else []
    spelled = number_words(int(word), language)
    if spelled is None:
        return [word]
    return [normalise_word(w) for w in re.split(r"[^\w']+", spelled) if normalise_word(w)]

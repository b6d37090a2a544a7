"""Sentences per language from text that exists offline, and which split each sentence belongs to.

Sources: the Asterisk prompt transcripts (`name: text` a line, gzip) and the translated program
messages in Debian's gettext catalogs (/usr/share/locale/XX/LC_MESSAGES/*.mo; their msgids are the
English originals). Messages are filtered down to plain sentences a person could read aloud.
A sentence's split is decided by a hash of its normalised text, so the same sentence is never in two
splits whoever speaks it (`text_split`).
"""

from __future__ import annotations

import gettext
import gzip
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["normalise", "read_transcripts", "gettext_sentences", "plain_sentence", "text_split", "LOCALE_DIR"]

LOCALE_DIR = Path("/usr/share/locale")
# gettext folders per ISO 639-1 code; Portuguese takes Brazilian catalogs too (more of them exist).
LOCALE_FOLDERS = {"pt": ("pt", "pt_BR")}
_PLAIN = re.compile(r"[^\W\d_]+(?:[ ,.?!'’-]{1,2}[^\W\d_]+)*[.?!]?")  # words, single spaces, light punctuation
_FORMAT = re.compile(r"%|\{|\}|\\|_|<|>|/|=|\||@|\$|\*|#|\[|\]|\(|\)|--|\t|\.\.\.|`|\"|“|”|«|»|https?:|\d")


def normalise(text: str) -> str:
    """Lower case, accents kept, punctuation dropped, spaces collapsed: the key that decides a split."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def plain_sentence(text: str, min_words: int = 3, max_words: int = 14) -> str | None:
    """`text` cleaned of menu mnemonics and trailing colons, or None if it is not a plain readable sentence."""
    text = text.replace("&", "").replace("~", "").strip().rstrip(":").strip()
    if not text or not text[0].isupper() or _FORMAT.search(text) or not _PLAIN.fullmatch(text):
        return None
    words = text.split()
    if not min_words <= len(words) <= max_words:
        return None
    if sum(ch.isalpha() for ch in text) < 0.75 * len(text.replace(" ", "")):
        return None
    if text.isupper() or any(len(w) > 24 for w in words):
        return None
    return text


def read_transcripts(path: Path) -> dict[str, str]:
    """Asterisk transcript file (gzip or plain, `name: text` a line) -> {prompt name: text}.

    Bracketed descriptions (`[beep tone]`) are dropped; a repeated `name:` at the start is removed.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    prompts: dict[str, str] = {}
    with opener(path, "rt", encoding="utf-8", errors="replace") as file:
        for line in file:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = (part.strip() for part in line.split(":", 1))
            if text.startswith(f"{name}:"):
                text = text[len(name) + 1:].strip()
            text = text.strip("\"“” ")
            if not text or text.startswith("["):
                continue
            prompts[name] = text
    return prompts


def _catalogs(language: str, locale_dir: Path) -> list[Path]:
    paths: list[Path] = []
    for folder in LOCALE_FOLDERS.get(language, (language,)):
        paths += sorted((locale_dir / folder / "LC_MESSAGES").glob("*.mo"))
    return paths


def gettext_sentences(language: str, locale_dir: Path = LOCALE_DIR, min_words: int = 3,
                      max_words: int = 14) -> list[str]:
    """Plain sentences in `language` from the gettext catalogs; for "en", the catalogs' English msgids.

    Returns unique sentences in a stable order (sorted), so builds are reproducible.
    """
    found: set[str] = set()
    sources = _catalogs("fr", locale_dir) + _catalogs("de", locale_dir) if language == "en" else \
        _catalogs(language, locale_dir)
    for path in sources:
        try:
            with open(path, "rb") as file:
                catalog = gettext.GNUTranslations(file)._catalog  # msgid -> msgstr
        except (OSError, UnicodeDecodeError, ValueError, LookupError):  # a damaged or non-UTF-8 catalog
            continue
        for msgid, msgstr in catalog.items():
            if not isinstance(msgid, str) or not msgid:  # plural forms are keyed by tuples
                continue
            sentence = plain_sentence(msgid if language == "en" else msgstr, min_words, max_words)
            if sentence:
                found.add(sentence)
    return sorted(found)


def text_split(text: str, fractions: Mapping[str, float], seed: int = 0,
               forced: Mapping[str, str] | None = None) -> str:
    """The split a sentence belongs to: `forced[normalise(text)]` if given, else by a seeded hash.

    fractions: e.g. {"train": 0.8, "val": 0.1, "test": 0.1}; the same text always lands in the same split.
    """
    key = normalise(text)
    if forced and key in forced:
        return forced[key]
    digest = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    total = 0.0
    names = list(fractions)
    for name in names:
        total += fractions[name]
        if position < total / sum(fractions.values()):
            return name
    return names[-1]


def pool_by_split(sentences: Iterable[str], fractions: Mapping[str, float], seed: int = 0,
                  forced: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Sentences grouped by their split (each list keeps the input order, duplicates removed)."""
    pools: dict[str, list[str]] = {name: [] for name in fractions}
    seen: set[str] = set()
    for sentence in sentences:
        key = normalise(sentence)
        if key and key not in seen:
            seen.add(key)
            pools[text_split(sentence, fractions, seed, forced)].append(sentence)
    return pools

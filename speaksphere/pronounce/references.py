"""Golden references, three kinds: the built-in library, synthesis for any text, a teacher's upload.

A reference is a Recording (decoded, with its speech segments) plus what is known about it: its text,
language and where it came from. The built-in library (speaksphere/references/) holds two sets: the
learners' everyday phrases by CEFR level and topic, read by the offline voice Whisper hears best in each
language (synthetic; build_learner_phrases.py), and native telephone prompts (build_references.py).
Synthesis uses espeak-ng from its wheel; a teacher's upload is any recording, with its text when the
teacher gives it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import librosa
import numpy as np
import soundfile as sf
import yaml

from ..audio import SAMPLE_RATE, AudioLimits
from ..recording import Recording, load_recording
from ..tts import synthesize
from ..vad import VadConfig
from ..words import normalise_text, number_words
from .caches import ScoringCaches, default_caches
from .listener import MAX_HEARD_S, transcribe_speech

__all__ = ["ScoringError", "Phrase", "Reference", "SYNTHESIS_VOICES", "library", "library_phrase", "find_phrase",
           "check_text", "check_language",
           "synthesised_reference", "library_reference", "uploaded_reference", "golden_reference",
           "heard_text"]

LIBRARY_DIR = Path(__file__).resolve().parents[1] / "references"
# espeak-ng voice that reads each supported language; en-us is the clearest of its English voices
SYNTHESIS_VOICES = {"en": "en-us", "es": "es", "fr": "fr", "it": "it", "de": "de", "pt": "pt", "nl": "nl", "ru": "ru"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "it": "Italian", "de": "German",
                  "pt": "Portuguese", "nl": "Dutch", "ru": "Russian"}
_MAX_TEXT_CHARS = 300  # about 50 words: one passage a learner reads in one go
# Frequent function words, to catch a text typed in another language than the one chosen
_FUNCTION_WORDS = {
    "en": "the and is are you to of in it that this with for not have what your my we be".split(),
    "es": "el la los las y es que de en un una por para con no su mi yo estoy".split(),
    "fr": "le la les et est que de des en un une pour avec ne pas je vous nous il suis".split(),
    "it": "il lo la gli le e che di un una per con non sono io mi ti della nel".split(),
    "de": "der die das und ist ich nicht ein eine zu mit sie es wir sind auf für".split(),
    "pt": "o os as e que de em um uma para com não eu você é do da".split(),
    "nl": "de het een en is ik niet van dat op te je met zijn wij".split(),
}


class ScoringError(ValueError):
    """Input that pronunciation scoring cannot use (not audio): the message is for the learner."""


@dataclass(frozen=True)
class Phrase:
    """One entry of the built-in library."""

    id: str  # e.g. "en-vm-goodbye"
    language: str  # ISO 639-1
    text: str  # what is said
    file: str  # audio path relative to the library folder
    voice: str  # who says it
    source: str  # where the recording comes from
    licence: str
    level: str | None = None  # CEFR level (A1, A2, B1, B2) of a learners' phrase; None for the telephone prompts
    topic: str = "telephone"  # greetings, directions, shopping, travel, work, small_talk; or the telephone prompts
    synthetic: bool = False  # read by a computer voice (the learners' phrases), not recorded by a person


ReferenceKind = Literal["library", "typed", "teacher"]


@dataclass(frozen=True)
class Reference:
    """A golden reference ready for scoring: a built-in phrase ("library", with its `phrase_id`), a typed
    text read by espeak-ng ("typed", with its `voice`) or a teacher's upload ("teacher")."""

    recording: Recording
    text: str | None  # known text, or None for an upload without text
    language: str | None  # ISO 639-1, or None when unknown
    kind: ReferenceKind
    phrase_id: str | None = None  # the built-in phrase's id (kind "library")
    voice: str | None = None  # the espeak-ng voice that read a typed text (kind "typed")
    text_heard: bool = False  # the text is the listener's transcript of an upload given without one
    synthetic: bool = False  # a computer voice (synthesis, or a learners' phrase): its melody is no model to copy

    def __post_init__(self):
        if self.kind not in ("library", "typed", "teacher"):
            raise ValueError(f"a Reference's kind is 'library', 'typed' or 'teacher', not {self.kind!r}")
        if self.kind == "library" and not self.phrase_id:
            raise ValueError("a library Reference names its phrase_id")

    @property
    def source(self) -> str:
        """Where it came from, as the public JSON says it: "library:<id>", "synthesised:espeak-ng <voice>"
        or "upload"."""
        if self.kind == "library":
            return f"library:{self.phrase_id}"
        if self.kind == "typed":
            return f"synthesised:espeak-ng {self.voice}"
        return "upload"


# The library's two sets: the native telephone prompts (Asterisk's recordings: build_references.py), then
# the learners' everyday phrases (synthetic, by CEFR level and topic: build_learner_phrases.py)
_INDEXES = {"phrases.yaml": {}, "learner_phrases.yaml": {"synthetic": True}}


@functools.lru_cache(maxsize=1)
def _library() -> tuple[Phrase, ...]:
    phrases = []
    for name, defaults in _INDEXES.items():
        index = LIBRARY_DIR / name
        if index.is_file():
            data = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
            phrases += [Phrase(**{**defaults, **entry}) for entry in data.get("phrases", [])]
    return tuple(phrases)


def library(language: str | None = None, level: str | None = None, topic: str | None = None) -> list[Phrase]:
    """The built-in phrases (telephone prompts, then learners' phrases), optionally of one language
    (ISO 639-1 code), one CEFR level ("A1".."B2") and one topic ("greetings", ..., "telephone" for the
    natural recordings)."""
    return [p for p in _library() if (language is None or p.language == language)
            and (level is None or p.level == level) and (topic is None or p.topic == topic)]


def find_phrase(text: str, language: str | None = None) -> Phrase | None:
    """The library phrase with this text (ignoring case and punctuation), if there is one."""
    wanted = normalise_text(text)
    return next((p for p in library(language) if normalise_text(p.text) == wanted), None)


_MAX_DIGITS = 12  # a phone number in one run; longer runs are read out for minutes ("one hundred trillion...")


def check_language(language: str | None) -> str:
    """A language as practice takes it: its ISO 639-1 code, in lower case, a region left out ("EN-us" ->
    "en"; None -> "en"). Raises ScoringError for a language pronunciation practice does not support."""
    language = (language or "en").lower().split("-")[0]
    if language not in SYNTHESIS_VOICES:
        supported = ", ".join(f"{LANGUAGE_NAMES[c]} ({c})" for c in SYNTHESIS_VOICES)
        raise ScoringError(f"Pronunciation practice does not support the language {language!r} yet. "
                           f"Choose one of: {supported}.")
    return language


def check_text(text: str | None, language: str | None) -> tuple[str, str]:
    """Validate a learner's text and language; returns (clean text, language code).

    Raises ScoringError for an empty or over-long text, an unsupported language, or a text that is
    plainly in another language (under 90% of its letters in the language's script: Latin, or Cyrillic
    for Russian; or function words of another language only).
    """
    if text is None or not text.strip():
        raise ScoringError("Please type the sentence you want to practise (the text is empty).")
    if any("\ud800" <= c <= "\udfff" for c in text):  # a lone surrogate: no character at all, not UTF-8
        raise ScoringError("The text holds a broken character (half of an emoji or of a rare letter); "
                           "please type it again.")
    text = " ".join(text.split())
    if len(text) > _MAX_TEXT_CHARS:
        raise ScoringError(f"Please practise at most {_MAX_TEXT_CHARS} characters at a time; "
                           "split the text into sentences.")
    if not re.search(r"\w", text):
        raise ScoringError("The text has no words in it. Please type the sentence you want to practise.")
    if any(c.isdigit() and not c.isascii() for c in text):  # espeak-ng's voices read none of them: an empty reference
        raise ScoringError("Please write numbers with the digits 0 to 9, or in words: the text holds other digits "
                           "(such as Arabic-Indic ones), which the reference voices cannot read.")
    if max((len(run) for run in re.findall(r"\d+", text)), default=0) > _MAX_DIGITS:
        raise ScoringError(f"Numbers of more than {_MAX_DIGITS} digits are too long to practise (a 300-digit "
                           "number is read for minutes). Please write long numbers in shorter groups.")
    language = check_language(language)
    letters = [c for c in text if c.isalpha()]
    script = "CYRILLIC" if language == "ru" else "LATIN"
    if sum(unicodedata.name(c, "").startswith(script) for c in letters) < 0.9 * len(letters):
        raise ScoringError(f"This text is not written in the {script.title()} alphabet that "
                           f"{LANGUAGE_NAMES[language]} uses. Please check the language you chose.")
    words = normalise_text(text).split()
    if language in _FUNCTION_WORDS and len(words) >= 4:
        hits = {code: sum(w in vocab for w in words) for code, vocab in _FUNCTION_WORDS.items()}
        best = max(hits, key=hits.get)
        if hits[language] == 0 and hits[best] >= 2:
            raise ScoringError(
                f"This text looks like {LANGUAGE_NAMES[best]}, not {LANGUAGE_NAMES[language]}. "
                "Please check the language you chose.")
    return text, language


def _recording_from_samples(samples: np.ndarray, rate: int, limits: AudioLimits = AudioLimits(),
                            vad: VadConfig = VadConfig()) -> Recording:
    """Run synthesised samples through the same loading path as any upload (WAV bytes -> Recording)."""
    if rate != SAMPLE_RATE:
        samples = librosa.resample(samples, orig_sr=rate, target_sr=SAMPLE_RATE)
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return load_recording(buffer.getvalue(), limits, vad)


# Speech scored at once, attempt and reference alike (after trimming silence): about ten sentences.
# Memory grows with the product of the two lengths, so the cap bounds every request (a 300-s reading
# against a 300-s reference once peaked at 22 GB)
MAX_SCORED_S = 60.0
_MAX_SPOKEN_WORDS = 150  # a minute at 150 words a minute: the longest speech scored at once (MAX_SCORED_S)
_MISSING = object()  # what a cache gives for a key it does not hold (None is a value: no text heard)


def spoken_words(text: str, language: str) -> int:
    """How many words a text is read as, its numbers spelled out ("1999" is four words in English) and
    each leading zero a word of its own, as espeak-ng reads them ("007": zero, zero, seven; 23 numbers
    "000000000023" were counted as 23 words, then read for 86 s)."""
    count = 0
    for token in text.split():
        for digits in re.findall(r"\d+", token) or [None]:
            if digits is None:
                count += 1
                continue
            zeros = len(digits) - len(digits.lstrip("0"))
            count += zeros
            if zeros < len(digits):  # a word per digit in a language num2words does not know
                spelled = number_words(int(digits), language)
                count += len(spelled.split()) if spelled is not None else len(digits) - zeros
    return count


def _speech_seconds(recording: Recording) -> float:
    """Seconds from the first speech segment's start to the last one's end (the whole recording when no speech)."""
    if not recording.segments:
        return len(recording.wave) / SAMPLE_RATE
    return recording.segments[-1].end - recording.segments[0].start


def synthesised_reference(text: str, language: str = "en", rate_wpm: int = 150, *,
                          limits: AudioLimits = AudioLimits(), vad: VadConfig = VadConfig(),
                          caches: ScoringCaches | None = None) -> Reference:
    """A reference spoken by espeak-ng for any text in a supported language. Cached (in `caches`, else
    default_caches()), up to CacheSettings.synthesised_reference_mb of audio in all, and only a reference
    that scoring accepts: a text read for more than a minute is refused before synthesis, and one
    synthesised into more than MAX_SCORED_S of speech after it, uncached (300 requests with 23 twelve-digit
    numbers each once pinned 1.5 GB of 82-s references that scoring then refused). limits, vad: how the
    synthesised audio is loaded, as attempts are."""
    text, language = check_text(text, language)
    return _synthesised(text, language, rate_wpm, limits, vad, caches)


def _synthesised(text: str, language: str, rate_wpm: int = 150, limits: AudioLimits = AudioLimits(),
                 vad: VadConfig = VadConfig(), caches: ScoringCaches | None = None) -> Reference:
    """synthesised_reference of a text `check_text` has passed."""
    if spoken_words(text, language) > _MAX_SPOKEN_WORDS:
        raise ScoringError(f"This text is read as more than {_MAX_SPOKEN_WORDS} words (numbers spelled out): more "
                           "than a minute of speech. Please practise it a sentence or two at a time.")
    kept = (caches or default_caches()).synthesised_references
    key = (text, language, rate_wpm, limits, vad)
    cached = kept.get(key)
    if cached is not None:
        return cached
    voice = SYNTHESIS_VOICES[language]
    samples, rate = synthesize(text, voice=voice, rate_wpm=rate_wpm)
    reference = Reference(_recording_from_samples(samples, rate, limits, vad), text, language, "typed", voice=voice,
                          synthetic=True)
    speech_s = _speech_seconds(reference.recording)
    if speech_s > MAX_SCORED_S:  # scoring would refuse it: never kept (such refusals once filled the cache)
        raise ScoringError(f"The reference holds {speech_s:.0f} s of speech; pronunciation is scored on at most "
                           f"{MAX_SCORED_S:.0f} s at a time. Practise a passage a few sentences at a time.")
    kept.put(key, reference)
    return reference


def library_phrase(phrase_id: str | None) -> Phrase | None:
    """The built-in phrase with this id, or None."""
    return next((p for p in _library() if p.id == phrase_id), None)


def library_reference(phrase_id: str, *, limits: AudioLimits = AudioLimits(), vad: VadConfig = VadConfig(),
                      caches: ScoringCaches | None = None) -> Reference:
    """A built-in native recording by its id (cached in `caches`, else default_caches()), loaded with
    `limits` and `vad` as attempts are."""
    kept = (caches or default_caches()).library_references
    key = (phrase_id, limits, vad)
    cached = kept.get(key)
    if cached is not None:
        return cached
    phrase = library_phrase(phrase_id)
    if phrase is None:
        raise ScoringError(f"There is no built-in phrase called {phrase_id!r}.")
    reference = Reference(load_recording(str(LIBRARY_DIR / phrase.file), limits, vad), phrase.text,
                          phrase.language, "library", phrase_id=phrase.id, synthetic=phrase.synthetic)
    kept.put(key, reference)
    return reference


def uploaded_reference(source: str | Path | bytes | Recording, text: str | None = None,
                       language: str | None = None, hear: bool = True, *, limits: AudioLimits = AudioLimits(),
                       vad: VadConfig = VadConfig(), caches: ScoringCaches | None = None) -> Reference:
    """A teacher's own recording as the reference; its text enables word scores. Without a text (and with
    `hear`), the words are those the listener hears in it (`heard_text`), so the words scored are words,
    not numbered stretches of sound. limits, vad: how a source not yet loaded is loaded, as attempts are."""
    recording = source if isinstance(source, Recording) else load_recording(source, limits, vad)
    if text is not None:
        text, language = check_text(text, language)
    elif hear:
        language = (language or "en").lower().split("-")[0]
        text = heard_text(recording, language, caches)
        return Reference(recording, text, language, "teacher", text_heard=text is not None)
    return Reference(recording, text, language, "teacher")


def heard_text(recording: Recording, language: str, caches: ScoringCaches | None = None) -> str | None:
    """What the listener hears in a recording, as a text practice accepts (`check_text`), or None: speech
    longer than the listener hears at once, nothing heard, or a transcript in another language. Cached
    in `caches` (else default_caches()) for the latest CacheSettings.teacher_transcripts recordings (a
    teacher's upload is used again and again; a transcript costs about a second)."""
    caches = caches or default_caches()
    key = (hashlib.sha256(recording.wave.tobytes()).digest(), language)
    cached = caches.teacher_transcripts.get(key, _MISSING)
    if cached is not _MISSING:
        return cached
    speech = recording.wave
    if recording.segments:
        speech = speech[int(recording.segments[0].start * SAMPLE_RATE) : int(recording.segments[-1].end * SAMPLE_RATE)]
    text = None
    if language in SYNTHESIS_VOICES and len(speech) <= MAX_HEARD_S * SAMPLE_RATE:
        try:
            text = check_text(transcribe_speech(speech, language, caches.encoder_states), language)[0]
        except ScoringError:
            text = None
    caches.teacher_transcripts.put(key, text)
    return text


def golden_reference(text: str, language: str | None = None, *, limits: AudioLimits = AudioLimits(),
                     vad: VadConfig = VadConfig(), caches: ScoringCaches | None = None) -> Reference:
    """The best reference for a text: the library's native recording when it has the phrase, else synthesis;
    loaded with `limits` and `vad` as attempts are."""
    text, language = check_text(text, language)
    phrase = find_phrase(text, language)
    if phrase is not None:
        return library_reference(phrase.id, limits=limits, vad=vad, caches=caches)
    return _synthesised(text, language, limits=limits, vad=vad, caches=caches)

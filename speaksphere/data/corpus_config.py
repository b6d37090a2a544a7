"""Settings of the corpus builder (configs/corpus.yaml), as dataclasses read by speaksphere.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .augment import AugmentConfig
from .loaders import ExternalDataset

__all__ = ["VoiceEntry", "EngineConfig", "AsteriskConfig", "SentenceConfig", "CommandConfig", "CorpusConfig"]


@dataclass
class VoiceEntry:
    """One voice of an engine and what it is."""

    name: str  # what the engine is asked for: "en-gb-scotland", "en-GB", "awb", "mb-de1-en", "kal_diphone", ...
    language: str  # ISO 639-1 of the words spoken
    accent: str = ""  # accent of English, when the language is English
    # the underlying speaker when several names share one (mb-de1 and mb-de1-en); default: name. With a colon it is
    # a whole voice id shared with another engine's rendering of the same person (festival kal_diphone = "flite:kal16")
    speaker: str = ""
    package: str = ""  # what provides the voice, installed by the builder: Debian (mbrola-de1) or, for piper, PyPI


@dataclass
class EngineConfig:
    """A TTS engine's voices and how they vary."""

    enabled: bool = True
    voices: list[VoiceEntry] = field(default_factory=list)
    variants: list[str] = field(default_factory=lambda: [""])  # espeak only: each variant is a speaker
    sentences: int = 20  # plain sentences per voice (language and accent labels)
    emotion_sentences: int = 4  # sentences per voice spoken in each of the four emotions
    command_repeats: int = 2  # renditions of each command word per English voice
    unknown_words: int = 6  # other words per English voice, labelled _unknown_
    tempos: list[float] = field(default_factory=lambda: [0.85, 1.0, 1.2])  # tempo factors drawn per clip
    pitches: list[float] = field(default_factory=lambda: [-2.0, 0.0, 2.0])  # semitone shifts drawn per clip
    expressiveness: list[float] = field(default_factory=lambda: [1.0])  # piper only: noise_scale factors drawn per clip


@dataclass
class AsteriskConfig:
    """The real recorded prompts (Debian asterisk-core-sounds-XX and -XX-wav)."""

    enabled: bool = True
    root: str = ""  # an unpacked tree to use instead of downloading (tests); empty = unpack into the cache
    languages: list[str] = field(default_factory=lambda: ["en", "es", "fr", "it", "ru"])
    max_prompts: int = 0  # per language; 0 = all
    emotion_prompts: int = 10  # prompts per language resynthesised in each of the four emotions


@dataclass
class SentenceConfig:
    """Where sentences come from and which ones are kept."""

    locale_dir: str = "/usr/share/locale"  # gettext catalogs of installed Debian packages
    files: dict[str, str] = field(default_factory=dict)  # extra plain-text files, one sentence a line, per language
    min_words: int = 3
    max_words: int = 12


@dataclass
class CommandConfig:
    """The command task's extra clips."""

    words: list[str] = field(default_factory=list)  # the command words to speak; empty = all 35
    silence_clips: int = 200  # _silence_ clips (noise, breath, room tone)
    silence_seconds: float = 1.0  # Speech Commands clips are 1 s long


@dataclass
class CorpusConfig:
    """Everything the corpus builder needs."""

    seed: int = 0
    audio_format: Literal["flac", "wav"] = "flac"
    cache_dir: str = "/work/corpus/cache"
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    hold_out_real: bool = False  # True puts every real voice in test (train on TTS only, test on real)
    languages: list[str] = field(default_factory=lambda: ["en", "fr", "de", "es", "it"])
    install: bool = True  # install missing Debian packages (root); False skips engines that are missing
    sentences: SentenceConfig = field(default_factory=SentenceConfig)
    commands: CommandConfig = field(default_factory=CommandConfig)
    asterisk: AsteriskConfig = field(default_factory=AsteriskConfig)
    espeak: EngineConfig = field(default_factory=EngineConfig)
    pico: EngineConfig = field(default_factory=lambda: EngineConfig(enabled=False))
    flite: EngineConfig = field(default_factory=lambda: EngineConfig(enabled=False))
    mbrola: EngineConfig = field(default_factory=lambda: EngineConfig(enabled=False))
    festival: EngineConfig = field(default_factory=lambda: EngineConfig(enabled=False))
    piper: EngineConfig = field(default_factory=lambda: EngineConfig(enabled=False))
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    external: list[ExternalDataset] = field(default_factory=list)  # real datasets added as they are (loaders.py)

"""What the corpus is made of: the voices (who speaks, with which labels) and the real prompts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .corpus_config import CorpusConfig, EngineConfig
from .labels import COMMAND_WORDS, UNKNOWN, check_label
from .text import normalise, read_transcripts

__all__ = ["VoiceSpec", "engine_voices", "asterisk_packages", "ASTERISK_SPEAKERS", "RealPrompt", "asterisk_prompts"]

# Folder of each language's prompts -> the speaker. en_US and es_MX are both Allison: one voice id.
ASTERISK_SPEAKERS = {
    "en": ("en_US_f_Allison", "asterisk:allison"), "es": ("es_MX_f_Allison", "asterisk:allison"),
    "fr": ("fr_CA_f_June", "asterisk:june"), "it": ("it_IT_m_Carlo", "asterisk:carlo"),
    "ru": ("ru_RU_f_IvrvoiceRU", "asterisk:ivrvoice-ru"),
}
_NUMBER_WORDS = {str(i): w for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven",
                                                    "eight", "nine"])}


def asterisk_packages(language: str) -> list[str]:
    """Debian packages holding one language's prompts and transcripts."""
    return [f"asterisk-core-sounds-{language}", f"asterisk-core-sounds-{language}-wav"]


@dataclass(frozen=True)
class VoiceSpec:
    """One engine voice: who speaks (speaker, the split unit) and what its clips are labelled."""

    speaker: str  # voice id in the manifest, e.g. "espeak:f3", "mbrola:de1", "asterisk:allison", "piper:joe"
    engine: str  # espeak, pico, flite, mbrola, festival, piper, asterisk
    engine_voice: str  # what the engine is asked for
    language: str
    accent: str
    real: bool = False
    package: str = ""


def engine_voices(name: str, engine: EngineConfig, languages: list[str]) -> list[VoiceSpec]:
    """The voices of one engine whose language is wanted; espeak voices are crossed with its variants."""
    specs = []
    for voice in engine.voices:
        if voice.language not in languages:
            continue
        check_label("language", voice.language)
        check_label("accent", voice.accent)
        variants = engine.variants if name == "espeak" else [""]
        for variant in variants:
            engine_voice = f"{voice.name}+{variant}" if variant else voice.name
            if name == "espeak":  # the variant is the speaker, whatever language it speaks
                speaker = f"espeak:{variant or 'default'}"
            elif ":" in voice.speaker:  # the same person as another engine's voice (festival kal = flite:kal16)
                speaker = voice.speaker
            else:
                speaker = f"{name}:{voice.speaker or voice.name}"
            specs.append(VoiceSpec(speaker, name, engine_voice, voice.language, voice.accent, False, voice.package))
    return specs


@dataclass(frozen=True)
class RealPrompt:
    """One recorded prompt."""

    path: Path
    speaker: str
    language: str
    text: str
    command: str  # a command label for English single words ("" otherwise)


def _command_of(language: str, name: str, text: str) -> str:
    if language != "en":
        return ""
    words = normalise(text).split()
    if name.startswith("digits/") and name.split("/", 1)[1] in _NUMBER_WORDS:
        return _NUMBER_WORDS[name.split("/", 1)[1]]
    if len(words) == 1:
        return words[0] if words[0] in COMMAND_WORDS else UNKNOWN
    return ""


def asterisk_prompts(root: Path, config: CorpusConfig) -> list[RealPrompt]:
    """Every transcribed prompt of the wanted languages under an unpacked Debian tree `root`."""
    prompts = []
    for language in config.asterisk.languages:
        if language not in config.languages or language not in ASTERISK_SPEAKERS:
            continue
        folder, speaker = ASTERISK_SPEAKERS[language]
        sounds = root / "usr/share/asterisk/sounds" / folder
        transcripts = sorted((root / f"usr/share/doc/asterisk-core-sounds-{language}").glob("core-sounds-*.txt*"))
        if not sounds.is_dir() or not transcripts:
            raise FileNotFoundError(f"no Asterisk prompts for {language!r} under {root}")
        found = []
        for name, text in sorted(read_transcripts(transcripts[0]).items()):
            path = sounds / f"{name}.wav"
            if path.is_file() and re.search(r"\w", text):
                found.append(RealPrompt(path, speaker, language, text, _command_of(language, name, text)))
        if config.asterisk.max_prompts:
            found = found[: config.asterisk.max_prompts]
        prompts += found
    return prompts

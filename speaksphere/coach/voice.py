"""The voice's measurable facts, in words: pitch range, loudness variation and speech rate.

Shown beside the emotion answer, which is a hint: these are measurements. Each is put in words against
read speech of real people (voice_norms.json, written by benchmarks/voice_norms.py): below the 10th
percentile of those readings a melody is "flat", above the 90th "lively"; loudness "even" or "varied";
a pace "slow" or "fast"; in between "usual for read speech".
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE
from ..pronounce.features import energy_db, pitch_semitones
from ..pronounce.measures import prosody_measures
from ..recording import Recording, speech_samples
from ..speak.measures import syllables

__all__ = ["NORMS_PATH", "MIN_VOICED_S", "voice_measures", "voice_facts", "describe_voice", "norms"]

NORMS_PATH = Path(__file__).with_name("voice_norms.json")
MIN_VOICED_S = 1.0  # seconds of speech below which a voice is not described
WORDS = {  # measure -> (how a learner reads it, its unit, the word below the 10th percentile, above the 90th)
    "pitch_range_st": ("pitch range", "semitones", "flat", "lively"),
    "loudness_sd_db": ("loudness varies by", "dB", "even", "varied"),
    "syllables_per_s": ("pace", "syllables a second", "slow", "fast"),
}


@lru_cache(maxsize=1)
def norms() -> dict:
    """{"measures": {name: {"p10", "p50", "p90", "n"}}, "source": "..."} of real read speech."""
    return json.loads(NORMS_PATH.read_text())


def voice_measures(recording: Recording, transcript: list[dict]) -> dict[str, float]:
    """Pitch range (semitones, 10th-90th percentile of the voiced frames), loudness variation (standard
    deviation of the speech frames' energy, dB) and speech rate (syllables of the transcript a second of
    the speech it covers); {} when there is too little speech, a measure left out where it cannot be
    taken. transcript: [{"start", "end", "language", "text"}] (coach.transcript.what_was_said)."""
    speech = speech_samples(recording)
    if len(speech) < MIN_VOICED_S * SAMPLE_RATE:
        return {}
    measures = prosody_measures(pitch_semitones(speech), energy_db(speech))
    found = {"pitch_range_st": measures["pitch_range_st"], "loudness_sd_db": measures["energy_sd_db"]}
    spoken = sum(len(speech_samples(recording, s["start"], s["end"])) for s in transcript) / SAMPLE_RATE
    counted = sum(syllables(word, s["language"]) for s in transcript for word in s["text"].split())
    if spoken >= MIN_VOICED_S and counted:
        found["syllables_per_s"] = counted / spoken
    return {name: float(value) for name, value in found.items() if np.isfinite(value)}


def voice_facts(recording: Recording, transcript: list[dict]) -> dict:
    """voice_measures, each as {"value", "word"} ("flat", "usual", "lively", ...) against read speech."""
    table = norms()["measures"]
    return {name: {"value": round(value, 1), "word": _word(name, value, table[name])}
            for name, value in voice_measures(recording, transcript).items()}


def _word(name: str, value: float, norm: dict) -> str:
    low, high = WORDS[name][2:]
    return low if value < norm["p10"] else high if value > norm["p90"] else "usual"


def describe_voice(facts: dict) -> str:
    """One line of Markdown: 'pitch range 7.2 semitones (usual for read speech), ...'; '' without facts."""
    if not facts:
        return ""
    parts = []
    for name, fact in facts.items():
        label, unit = WORDS[name][:2]
        word = "usual for read speech" if fact["word"] == "usual" else f"**{fact['word']}** for read speech"
        parts.append(f"{label} {fact['value']:.1f} {unit} ({word})")
    return ("- **Your voice, measured:** " + "; ".join(parts)
            + f" (compared with {norms()['source']})")

"""Measures of free speech, from what the listener heard and when: fluency (how fast, how often and how
long the speaker stops) and how clearly the words came across (the listener's confidence in them).

All from plain data, so that a fit can recompute them from a cache: the timed words (text, start and
end in s, tokens' log-probabilities in nats), the voice activity detector's speech segments (s), and
the reading's melody and dynamics (pronounce.measures.prosody_measures). The fluency measures are the
ones of the second-language fluency literature (de Jong & Wempe 2009; Kormos & Denes 2004): speech
rate, articulation rate, phonation time ratio, silent pauses (>= 250 ms) per minute and their mean
length, mean length of run between pauses.
"""

from __future__ import annotations

import re

import numpy as np

from ..vad import VadConfig
from ..words import normalise_word, spell_number

__all__ = ["PRONUNCIATION_MEASURES", "FLUENCY_MEASURES", "OVERALL_MEASURES", "EMBEDDING_MEASURES", "WORD_MEASURES",
           "FILLERS", "MIN_PAUSE_S", "syllables", "runs_and_pauses", "word_measures", "speech_measures",
           "embedding_measures"]

# Hesitations a transcript may write (Whisper leaves most of them out: counted where it writes them)
FILLERS = {
    "en": {"uh", "um", "uhm", "umm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "eh"},
    "fr": {"euh", "heu", "hum", "hmm", "mmm", "bah"},
    "es": {"eh", "em", "ehm", "mmm", "hmm", "mm"},
    "it": {"ehm", "eh", "mmm", "hmm", "uhm", "mm"},
    "de": {"äh", "ähm", "öh", "öhm", "hm", "hmm", "mmm"},
    "ru": {"э", "ээ", "эм", "мм", "хм", "ммм"},
}
_VOWELS = re.compile(r"[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœąęіаеёиоуыэюя]+")
_SILENT_FINAL_E = {"en", "fr"}  # "time", "parle": a written final e, not a syllable

PRONUNCIATION_MEASURES = ("word_log_probability_mean", "word_log_probability_p10", "unsure_word_share",
                          "token_log_probability_mean", "language_probability", "seconds_per_syllable_sd")
FLUENCY_MEASURES = ("speech_rate_wpm", "articulation_rate", "phonation_ratio", "pauses_per_minute",
                    "mean_pause_s", "mean_length_of_run_s", "syllables_per_run", "fillers_per_minute",
                    "repetitions_per_minute", "token_log_probability_mean")
OVERALL_MEASURES = tuple(dict.fromkeys(PRONUNCIATION_MEASURES + FLUENCY_MEASURES
                                       + ("pitch_sd_st", "pitch_range_st", "energy_sd_db", "voiced_share")))
EMBEDDING_MEASURES = tuple(f"whisper_{i:03d}" for i in range(512))  # the voice's mean encoder frame, by dimension
WORD_MEASURES = ("log_probability", "min_token_log_probability", "mean_token_log_probability", "tokens",
                 "seconds_per_letter")
_UNSURE = np.log(0.5)  # a word the listener gives less than even odds
MIN_PAUSE_S = VadConfig.min_pause_s  # a silent pause counts from 250 ms (de Jong & Wempe 2009), as for fluency


def runs_and_pauses(segments: list[tuple[float, float]]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Runs of speech between silent pauses of at least MIN_PAUSE_S, and those pauses, (start, end) s:
    the voice activity detector's segments joined across shorter gaps (it splits at 0.1 s)."""
    runs: list[list[float]] = []
    for start, end in segments:
        if runs and start - runs[-1][1] < MIN_PAUSE_S:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [tuple(r) for r in runs], [(a[1], b[0]) for a, b in zip(runs, runs[1:])]


def syllables(word: str, language: str) -> int:
    """Syllables of a written word, counted as groups of vowel letters (a final silent e left out in
    English and French): an estimate, right for most words of es, it, de and ru, close for en and fr."""
    word = normalise_word(word)
    if word.isdecimal():  # "351" as said: three hundred fifty one
        return sum(syllables(w, language) for w in spell_number(word, language) if not w.isdecimal()) or 1
    groups = len(_VOWELS.findall(word))
    if language in _SILENT_FINAL_E and groups > 1 and re.search(r"[^aeiouyéèêë]e(s|nt)?$", word) \
            and not (language == "en" and word.endswith(("le", "les"))):  # "little": two
        groups -= 1
    return max(groups, 1) if word else 0


def word_measures(word: dict) -> dict[str, float]:
    """One heard word's measures: word = {"text", "start", "end" (s), "log_probabilities" [nats per token]}."""
    lps = np.asarray(word["log_probabilities"], np.float64)
    letters = max(len(normalise_word(word["text"])), 1)
    return {"log_probability": float(lps.sum()), "min_token_log_probability": float(lps.min()),
            "mean_token_log_probability": float(lps.mean()), "tokens": float(len(lps)),
            "seconds_per_letter": float(word["end"] - word["start"]) / letters}


def speech_measures(words: list[dict], segments: list[tuple[float, float]], language: str,
                    language_probability: float, token_log_probability_mean: float,
                    prosody: dict[str, float]) -> dict[str, float]:
    """One recording's measures (by name; NaN where undefined).

    words: heard words as word_measures takes them, in time order; segments: (start, end) s of speech
    (VAD); language: the transcript's; language_probability: the listener's for it (0-1);
    token_log_probability_mean: nats per token of the transcript; prosody: prosody_measures' dict."""
    nan = float("nan")
    names = [normalise_word(w["text"]) for w in words]
    speech_s = sum(end - start for start, end in segments)
    span_s = (segments[-1][1] - segments[0][0]) if segments else 0.0
    runs, pause_spans = runs_and_pauses(segments)
    pauses = [end - start for start, end in pause_spans]
    n_syllables = sum(syllables(w["text"], language) for w in words)
    minutes = max(span_s, 1e-9) / 60.0
    fillers = FILLERS.get(language, set())
    word_lps = np.array([float(np.sum(w["log_probabilities"])) for w in words])
    per_syllable = [(w["end"] - w["start"]) / max(syllables(w["text"], language), 1) for w in words]
    return {
        "words": float(len(words)),
        "speech_s": speech_s,
        "speech_rate_wpm": len(words) / minutes if span_s > 0 else nan,
        "articulation_rate": n_syllables / speech_s if speech_s > 0 else nan,  # syllables per second of speech
        "phonation_ratio": speech_s / span_s if span_s > 0 else nan,
        "pauses": float(len(pauses)),
        "pauses_per_minute": len(pauses) / minutes if span_s > 0 else nan,
        "mean_pause_s": float(np.mean(pauses)) if pauses else 0.0,
        "longest_pause_s": float(max(pauses)) if pauses else 0.0,
        "mean_length_of_run_s": float(np.mean([end - start for start, end in runs])) if runs else nan,
        "syllables_per_run": n_syllables / len(runs) if runs else nan,
        "fillers": float(sum(name in fillers for name in names)),
        "fillers_per_minute": sum(name in fillers for name in names) / minutes if span_s > 0 else nan,
        "repetitions_per_minute": (sum(a == b and a != "" for a, b in zip(names, names[1:])) / minutes
                                   if span_s > 0 else nan),
        "word_log_probability_mean": float(word_lps.mean()) if len(words) else nan,
        "word_log_probability_p10": float(np.percentile(word_lps, 10)) if len(words) else nan,
        "unsure_word_share": float(np.mean(word_lps < _UNSURE)) if len(words) else nan,
        "token_log_probability_mean": token_log_probability_mean,
        "language_probability": language_probability,
        "seconds_per_syllable_sd": float(np.std(per_syllable)) if len(words) >= 2 else nan,
        **prosody,
    }


def embedding_measures(embedding) -> dict[str, float]:
    """The listener's mean encoder frame (512,) as measures by name (EMBEDDING_MEASURES)."""
    return {name: float(v) for name, v in zip(EMBEDDING_MEASURES, embedding)}

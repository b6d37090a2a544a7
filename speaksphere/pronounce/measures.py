"""What a scoring measured, as named numbers: the inputs of the experts' calibration (experts.py).

Each function is pure numpy over what assess.py already computed; a measure that could not be taken
(no listener for speech over 29 s or without a text, no forced alignment outside English) is NaN, and
published as null in the result's details.measures. Names and units are in each docstring; times in
seconds, pitch in semitones, energy in dB, log-probabilities in nats per token.
"""

from __future__ import annotations

import numpy as np

from .scores import ScoreConfig

__all__ = ["utterance_measures", "word_measures", "prosody_measures", "listener_floored",
           "SKILL_MEASURES", "WORD_MEASURES", "ANOTHER_SENTENCE_MEASURES"]

_NAN = float("nan")
REFERENCE_LOG_PROBABILITY_FLOOR = ScoreConfig.reference_log_probability_floor  # nats/token (scores.py says why)

# what the experts' calibration (experts.py) reads, in every language: a reading's skills ...
SKILL_MEASURES = (
    "skill_fluency", "skill_completeness", "skill_coherence",
    "cost_mean", "cost_worst", "heard_cost_mean", "heard_cost_worst", "intelligibility_mean", "intelligibility_worst",
    "log_probability_mean", "log_probability_worst", "log_probability_drop_mean", "log_probability_drop_worst",
    "log_time_ratio_mean", "log_time_ratio_worst", "heard_right_share", "log_speech_ratio",
    "articulation_words_s", "speech_words_s", "pauses", "pause_total_s", "longest_pause_s", "pause_share",
    "mean_length_of_run_s", "inserted_s", "repetitions",
    "listener_word_error_rate", "listener_relative", "listener_attempt", "listener_floored",
    "listener_transcript", "listener_forced_minus_free",
    "pitch_sd_st", "pitch_range_st", "voiced_share", "energy_sd_db", "pitch_change_st",
)
# ... a word's accuracy ...
WORD_MEASURES = ("cost", "heard_cost", "intelligibility", "log_time_ratio", "heard_right", "log_probability",
                 "log_probability_drop")
# ... and whether this is a reading of another text, each with its sign (+1: the higher, the likelier
# another text; -1: the lower). The fit keeps each weight to its sign: unconstrained, a logistic regression
# on learners' readings gave intelligibility a weight towards "another text", and missed synthetic Spanish
# and a real French voice reading another text
ANOTHER_SENTENCE_MEASURES = {
    "listener_word_error_rate": 1, "listener_relative": -1, "listener_floored": -1, "heard_cost_mean": 1,
    "heard_cost_worst": 1, "intelligibility_mean": -1, "heard_right_share": -1, "cost_mean": 1,
    "listener_forced_minus_free": -1,
}
# Measured but not read: omitted_share and a word's omitted (3 of 876 train readings left a word out, too
# few to learn from; standardised by that tiny spread, leaving words out raised every score), and
# English's GOP (with it, out-of-fold Pearson moved by 0.001-0.004 on speechocean762's train split, and
# without it one model serves every language alike)


def listener_floored(attempt: float, relative: float, floor: float = REFERENCE_LOG_PROBABILITY_FLOOR) -> float:
    """The attempt's mean log-probability of the expected text (nats/token) minus the reference's, the
    reference's counted as at least `floor`: a reference the listener hears poorly (espeak-ng's French)
    must not excuse an attempt it hears even worse."""
    return attempt - max(attempt - relative, floor)


def prosody_measures(pitch: np.ndarray, energy: np.ndarray) -> dict[str, float]:
    """The melody and dynamics of one reading, from itself alone (no reference).

    pitch: (n_frames,) semitones re the speaker's median, NaN unvoiced (features.pitch_semitones);
    energy: (n_frames,) dB re the loudest frame. Returns pitch_sd_st and pitch_range_st (10th-90th
    percentile), voiced_share (voiced frames / frames within 30 dB of the loudest), energy_sd_db over
    those frames, and pitch_change_st (mean absolute change between consecutive voiced frames:
    jitter of the melody, high for a tracker's errors or a creaky voice)."""
    pitch = np.asarray(pitch, dtype=np.float64)
    voiced = pitch[np.isfinite(pitch)]
    active = energy > -30.0
    steps = np.abs(np.diff(pitch))
    steps = steps[np.isfinite(steps)]
    return {
        "pitch_sd_st": float(voiced.std()) if voiced.size >= 5 else _NAN,
        "pitch_range_st": float(np.subtract(*np.percentile(voiced, [90, 10]))) if voiced.size >= 5 else _NAN,
        "voiced_share": float(np.isfinite(pitch[active]).mean()) if active.any() else 0.0,
        "energy_sd_db": float(energy[active].std()) if active.sum() >= 5 else _NAN,
        "pitch_change_st": float(steps.mean()) if steps.size else _NAN,
    }


def word_measures(row: dict, ref_s: float, log_probability: float = _NAN,
                  reference_log_probability: float = _NAN) -> dict[str, float]:
    """One expected word's measures, from its row in the result (assess._score_words) and its reference
    duration ref_s (s): DTW cost (spectral, and on Whisper's encoder frames), intelligibility (0-100),
    GOP relative to the reference (English), the time ratio to the reference, whether the transcript
    had the word itself, and the listener's log-probability of the word (its tokens together, nats) in
    the attempt, and less the reference's (not clipped, as intelligibility is)."""
    heard_as = row.get("heard_as", _NAN)
    return {
        "log_probability": log_probability,
        "log_probability_drop": log_probability - min(reference_log_probability, 0.0),
        "cost": row["cost"],
        "heard_cost": row.get("heard_cost", _NAN),
        "intelligibility": row.get("intelligibility", _NAN),
        "gop_relative": row.get("gop_relative", _NAN),
        "log_time_ratio": float(np.log(max(row["end"] - row["start"], 0.01) / max(ref_s, 0.01))),
        "heard_right": _NAN if heard_as is _NAN else float(heard_as is not None and heard_as == row["heard_expected"]),
        "omitted": float(row["miscue"] == "omission"),
    }


def _stats(values, prefix: str, worst) -> dict[str, float]:
    """Mean and worst (`worst`: np.min or np.max) of a word measure over the words (NaN where none was taken)."""
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if not values.size:
        return {f"{prefix}_mean": _NAN, f"{prefix}_worst": _NAN}
    return {f"{prefix}_mean": float(values.mean()), f"{prefix}_worst": float(worst(values))}


def utterance_measures(words: list[dict], skills: dict, timing: dict, listened: dict | None,
                       prosody: dict[str, float], n_expected: int) -> dict[str, float]:
    """Everything one reading was measured by, for the experts' calibration.

    words: word_measures of each expected word; skills: the reference-based skill scores (0-100:
    accuracy, fluency, completeness, coherence; prosody may be None); timing: speech_s, span_s,
    n_pauses, pause_total_s, longest_pause_s, reference_speech_s, inserted_s, repetitions (s and
    counts); listened: word_error_rate, relative and attempt (mean log-probability per token of the
    expected text: attempt minus reference, and the attempt's own) and transcript (per token of what
    the listener wrote), or None; prosody: prosody_measures
    of the attempt; n_expected: the number of expected words."""
    measures = {f"skill_{k}": (_NAN if v is None else float(v)) for k, v in skills.items()}
    for key, worst in (("cost", np.max), ("heard_cost", np.max), ("intelligibility", np.min),
                       ("gop_relative", np.min), ("log_time_ratio", np.max), ("log_probability", np.min),
                       ("log_probability_drop", np.min)):
        measures.update(_stats([w[key] for w in words], key, worst))
    measures["heard_right_share"] = float(np.nanmean([w["heard_right"] for w in words])) if words and any(
        np.isfinite(w["heard_right"]) for w in words) else _NAN
    measures["omitted_share"] = float(np.mean([w["omitted"] for w in words])) if words else _NAN
    speech_s, span_s = max(timing["speech_s"], 1e-3), max(timing["span_s"], 1e-3)
    measures.update({
        "speech_s": speech_s,
        "log_speech_ratio": float(np.log(speech_s / max(timing["reference_speech_s"], 1e-3))),
        "articulation_words_s": n_expected / speech_s,  # expected words per second of speech
        "speech_words_s": n_expected / span_s,  # ... per second from the first word to the last
        "pauses": float(timing["n_pauses"]),
        "pause_total_s": timing["pause_total_s"],
        "longest_pause_s": timing["longest_pause_s"],
        "pause_share": timing["pause_total_s"] / span_s,
        "mean_length_of_run_s": speech_s / (timing["n_pauses"] + 1),
        "inserted_s": timing["inserted_s"],
        "repetitions": float(timing["repetitions"]),
    })
    for key in ("word_error_rate", "relative", "attempt", "transcript"):
        measures[f"listener_{key}"] = _NAN if listened is None else float(listened[key])
    measures["listener_floored"] = listener_floored(measures["listener_attempt"], measures["listener_relative"])
    # the expected text's likelihood against the listener's own transcript's (a sentence's "goodness of
    # pronunciation"): near 0 when it heard the text, far below when it heard other words clearly
    measures["listener_forced_minus_free"] = measures["listener_attempt"] - measures["listener_transcript"]
    measures.update(prosody)
    return measures

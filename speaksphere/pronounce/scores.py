"""From measurements to 0-100 scores: pure numpy functions, calibrated by the anchors in ScoreConfig.

Each raw measurement is mapped linearly between a "native" anchor (100) and a "wrong" anchor (0),
clipped. The anchors were chosen on the dev voices (`benchmarks/pronunciation_validity.py --split dev`
prints their statistics), never on the validity test voices.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["ScoreConfig", "anchor_score", "another_sentence_by_anchors", "fluency_score", "prosody_score",
           "coherence_score", "horizontal_runs", "overall_score"]


@dataclass(frozen=True)
class Weights:
    """How much each skill counts in the overall score (they are normalised to sum to 1)."""

    accuracy: float = 0.4  # the sounds themselves matter most to being understood
    completeness: float = 0.2  # saying all of it
    coherence: float = 0.15  # in the right order, without extra material
    fluency: float = 0.15  # timing and pauses
    prosody: float = 0.1  # melody and stress: the least reliable to measure against one reference


@dataclass(frozen=True)
class ScoreConfig:
    """Anchors (value for 100, value for 0) of every mapping, and the miscue thresholds. Where each
    figure was measured, and what it moved: EXPERTS.md, "The anchors' calibration"."""

    cost_native: float = 0.36  # mean cosine DTW cost of a native reading of the right text (dev median)
    cost_wrong: float = 0.58  # ... of a reading of another text (dev median)
    gop_native: float = -3.0  # word GOP relative to the reference's (log units per frame), native dev readings
    gop_wrong: float = -25.0  # ... of a word replaced by other sounds (dev substitutions: median -20)
    gop_weight: float = 0.5  # English words: share of GOP in word accuracy (the rest is the DTW cost)
    prosody_native: float = 0.6  # correlation of aligned pitch+energy contours, native
    prosody_wrong: float = 0.35  # ... unrelated speech
    rate_tolerance: float = 0.25  # |ln(speech time ratio)| that costs nothing: 25% slower or faster is fine
    rate_penalty: float = 60.0  # points lost per unit of |ln ratio| beyond the tolerance
    pause_penalty_s: float = 25.0  # points lost per second of pausing beyond the reference's
    extra_pause_penalty: float = 8.0  # points lost per silent pause beyond the reference's
    # accuracy: the mean score of the words said, blended with the mean of their weakest quarter with this
    # share (a phrase is as clear as its worst words)
    accuracy_weakest_share: float = 0.5
    flag_below: float = 60.0  # a segment scoring under this is flagged as needing work
    omission_ratio: float = 0.35  # a word said in under 35% of the reference's time ...
    omission_score: float = 40.0  # ... and scoring under this is counted as left out
    said_score: float = 25.0  # a word scoring under this is not recognisably said (completeness)
    elsewhere_margin: float = 0.05  # a word found elsewhere for the order must match this much better
    # ... and last at least this long in the reference: a short word ("the", "in") matches somewhere else by chance
    relocate_min_s: float = 0.25
    insertion_s: float = 0.25  # attempt speech this long matched to no new reference frame is an insertion
    insertion_cost: float = 0.5  # ... when its DTW cost is above this (a held sound is cheap)
    insertion_loud_db: float = -35.0  # ... counting its frames louder than this (dB re the loudest frame) only
    # a word the grammar decode hears twice is a repetition only if its two sayings sound alike (mean cosine
    # DTW cost between them at most this): a short word next to an error is often "heard" twice
    repetition_cost: float = 0.40
    # the listener (Whisper base, listener.py): how much less likely a word is in the attempt than in
    # the reference, in nats (its tokens together), that makes its intelligibility 0 ...
    intelligibility_drop: float = 8.0
    listener_weight: float = 0.5  # ... and its share of each word's accuracy (the rest: DTW and GOP)
    # "another sentence": most expected words not heard (word error rate of the transcript) and the
    # expected text far less likely than in the reference (mean per token, nats)
    another_sentence_wer: float = 0.6
    another_sentence_drop: float = -2.5
    # ... where the reference counts as heard at least this well (mean per token, nats): a reference the
    # listener hears poorly (espeak-ng reading a typed French text) must not excuse an attempt it hears even worse
    reference_log_probability_floor: float = -0.5
    # ... and the reading far from the reference in Whisper's encoder frames too (mean per word of the
    # words' heard_cost), where both were heard: natives stay below it, readings of another text above
    another_sentence_encoder_cost: float = 0.40
    # Whisper's encoder frames (the listener's, computed for every attempt and reference) compared along the
    # DTW path: mean cosine distance per word, anchored at the dev split's medians (native words, words of
    # another text), with this share of each word's DTW part: they tell a word from another across voices far
    # better than the spectra
    encoder_weight: float = 0.5
    encoder_cost_native: float = 0.20
    encoder_cost_wrong: float = 0.53
    another_sentence_cap: float = 20.0  # the overall score of a reading of another sentence is at most this
    # a wrong or unintelligible reading caps the rest: the overall score is scaled by the mean of accuracy and
    # completeness over this many points (at most 1): fluent delivery of other words is not a good attempt
    gate_points: float = 50.0
    # With the experts' calibration, "another sentence" is its logistic rule (fitted on learners) or the
    # anchors' rule above where the listener is sure of its own transcript (mean log-probability per token
    # at least this): a clear voice reading other words, as natives' readings of another text are
    another_sentence_clear_transcript: float = -0.5
    # accuracy, fluency, prosody, overall, word scores and "another sentence" as fitted to experts' ratings
    # of real learners (experts.py, experts.json); False: the anchors above alone (what the fit reads)
    experts: bool = True
    weights: Weights = field(default_factory=Weights)


def another_sentence_by_anchors(word_error_rate: float, floored: float, heard_cost: float | None,
                                config: ScoreConfig = ScoreConfig()) -> bool:
    """The anchors' "another sentence": most expected words not in the transcript (word_error_rate), the
    expected text far less likely than in the reference (floored: measures.listener_floored, nats/token),
    and the reading far from the reference in Whisper's encoder frames (heard_cost: the words' mean
    distance; None where there are no frames, and then not asked)."""
    return (word_error_rate >= config.another_sentence_wer and floored <= config.another_sentence_drop
            and (heard_cost is None or heard_cost >= config.another_sentence_encoder_cost))


def anchor_score(value: np.ndarray | float, native: float, wrong: float) -> np.ndarray | float:
    """Linear map: `native` -> 100, `wrong` -> 0, clipped to 0..100 (works either direction)."""
    score = 100.0 * (np.asarray(value, dtype=np.float64) - wrong) / (native - wrong)
    score = np.clip(score, 0.0, 100.0)
    return float(score) if score.ndim == 0 else score


def fluency_score(attempt_speech_s: float, reference_speech_s: float, attempt_pause_s: float,
                  reference_pause_s: float, attempt_pauses: int, reference_pauses: int,
                  config: ScoreConfig = ScoreConfig()) -> float:
    """Timing against the reference: articulation tempo (speech time ratio) and extra pausing."""
    ratio = max(attempt_speech_s, 1e-3) / max(reference_speech_s, 1e-3)
    rate_loss = config.rate_penalty * max(0.0, abs(np.log(ratio)) - config.rate_tolerance)
    pause_loss = config.pause_penalty_s * max(0.0, attempt_pause_s - reference_pause_s)
    pause_loss += config.extra_pause_penalty * max(0, attempt_pauses - reference_pauses)
    return float(np.clip(100.0 - rate_loss - pause_loss, 0.0, 100.0))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 5 or a.std() < 1e-6 or b.std() < 1e-6:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def prosody_score(ref_pitch: np.ndarray, att_pitch: np.ndarray, ref_energy: np.ndarray, att_energy: np.ndarray,
                  path: np.ndarray, config: ScoreConfig = ScoreConfig()) -> tuple[float, float, float]:
    """Pitch and energy contours compared frame by frame along the DTW path.

    ref_pitch, ref_energy: shape (n,); att_pitch, att_energy: shape (m,); path: shape (k, 2) of
    (reference frame, attempt frame). Pitch in semitones (NaN unvoiced), energy in dB.
    Returns (score 0-100, pitch correlation, energy correlation).
    """
    rows = np.minimum(path[:, 0], len(ref_pitch) - 1)
    cols = np.minimum(path[:, 1], len(att_pitch) - 1)
    rp, ap = ref_pitch[rows], att_pitch[cols]
    voiced = np.isfinite(rp) & np.isfinite(ap)
    pitch_r = _correlation(rp[voiced], ap[voiced])
    energy_r = _correlation(ref_energy[np.minimum(rows, len(ref_energy) - 1)],
                            att_energy[np.minimum(cols, len(att_energy) - 1)])
    score = anchor_score(0.5 * pitch_r + 0.5 * energy_r, config.prosody_native, config.prosody_wrong)
    return score, pitch_r, energy_r


def coherence_score(best_positions: np.ndarray, present: np.ndarray, covered_s: float, speech_s: float) -> float:
    """Order and continuity of the said content against the expected.

    best_positions: shape (n_units,): where each expected unit was found in the attempt (seconds);
    present: bool, shape (n_units,): the units judged said; covered_s: attempt time those said units
    take; speech_s: the attempt's speech time (VAD).
    Order is the share of said units in the expected order: the longest run of them, not necessarily
    adjacent, whose positions increase (one word out of place among ten costs 10%);
    continuity is the share of the attempt's speech taken by expected content that was said
    (inserted, repeated or other words lower it).
    """
    positions = best_positions[present]
    order = _longest_increasing(positions) / positions.size if positions.size else 0.0
    continuity = min(1.0, covered_s / max(speech_s, 1e-3))
    return 100.0 * order * continuity


def _longest_increasing(values: np.ndarray) -> int:
    """Length of the longest strictly increasing subsequence of `values` (patience sorting, O(n log n))."""
    tails: list[float] = []
    for v in values:
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(float(v))
        else:
            tails[k] = float(v)
    return len(tails)


def horizontal_runs(path: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """Stretches of the attempt aligned to one single reference frame (the attempt added material).

    path: shape (k, 2) of (reference frame, attempt frame). Returns (first, last) attempt frames of
    each run at least `min_frames` long.
    """
    runs = []
    start = 0
    for k in range(1, len(path) + 1):
        if k == len(path) or path[k, 0] != path[start, 0]:
            first, last = path[start, 1], path[k - 1, 1]
            if last - first + 1 >= min_frames:
                runs.append((int(first), int(last)))
            start = k
    return runs


def overall_score(scores: dict[str, float | None], config: ScoreConfig = ScoreConfig()) -> float:
    """Weighted mean of the five skill scores (weights in ScoreConfig.weights); a skill not scored (None)
    leaves the mean of the others."""
    weights = config.weights
    # summed in the weights' own order (Weights' fields): another order can move the last bit, and a rounding
    pairs = [(scores[f.name], getattr(weights, f.name)) for f in fields(weights) if scores[f.name] is not None]
    return float(sum(s * w for s, w in pairs) / sum(w for _, w in pairs))

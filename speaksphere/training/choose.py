"""Two settings of the served model chosen on the real people held out (speaksphere.training.held_out):
the weight with which Whisper's belief in another language counts for English (accented_english), and
the threshold of an accent's gate on Whisper's language ID (accent_gates). Each tries a grid of values
and picks by a rule stated in its docstring (grid_search).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import torch

from ..data.labels import IGNORE_INDEX
from ..data.speechocean import SOURCE as LEARNERS
from ..whisper.language import accented_english, gated
from .encodings import Encodings
from .out_of_fold import VOTE_MIN_SPEECH_S, Part, figures

__all__ = ["choose_shift", "choose_gate", "shifted", "gate_parts", "grid_search", "SHIFT_WEIGHTS", "GATE_THRESHOLDS"]

log = logging.getLogger("speaksphere.training.held_out")
SHIFT_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)  # accented_english weights tried (0: Whisper as it is)
GATE_THRESHOLDS = (-np.inf, -8.0, -7.0, -6.0, -5.0, -4.5, -4.0, -3.5, -3.0, -2.0)  # accent gate thresholds tried
MAX_NATIVE_ACCENT = 0.10  # at most this share of native English may be given a learners' accent (issue 36)


def shifted(parts: list[Part], weights: dict[str, float]) -> list[Part]:
    """Whisper's language parts with English shifted by accented_english(weights)."""
    return [dataclasses.replace(p, logits=p.logits + accented_english(p.data.whisper_language, p.labels, weights))
            for p in parts]


def grid_search(grid, name: str, measure, pick) -> tuple[float, list[dict]]:
    """Every value of `grid` tried on the held-out real speech: a table of rows {name: value,
    **measure(value)} (the natives' and the learners' figures), and the value of the row `pick(table)` chooses."""
    table = [{name: value, **measure(value)} for value in grid]
    return pick(table)[name], table


def choose_shift(parts: list[Part], encodings: Encodings, code: str, grid=SHIFT_WEIGHTS) -> tuple[float, list[dict]]:
    """The weight of Whisper's probability of `code` added to English (accented_english) chosen on the
    held-out real speech: among the weights of `grid` that keep the native voices' macro accuracy over
    recordings with >= 1 s of speech at least at the unshifted one's, the one under which most of the
    learners' recordings are answered English (the smaller on a tie). Returns it and every weight's figures."""
    def measure(weight: float) -> dict:
        found = {p.name: figures(p.data, p.logits, "language", encodings) for p in shifted(parts, {code: weight})}
        natives = [f["spoken_recording_accuracy"] for name, f in found.items() if not name.startswith(LEARNERS)]
        learners = [f["recording_accuracy"] for name, f in found.items() if name.startswith(LEARNERS)]
        return {"natives": float(np.mean(natives)) if natives else float("nan"),
                "learners": float(np.mean(learners)) if learners else float("nan")}

    def pick(table: list[dict]) -> dict:
        floor = table[0]["natives"]
        allowed = [row for row in table if not row["natives"] < floor - 1e-9 and np.isfinite(row["learners"])]
        return max(allowed, key=lambda row: (row["learners"], -row["weight"]), default=table[0])

    return grid_search(grid, "weight", measure, pick)


def gate_parts(parts: list[Part], label: str, code: str, threshold: float) -> list[Part]:
    """Accent parts with `label` gated by Whisper's log-probability of `code` (speaksphere.whisper.language.gated)."""
    gates = {label: [code, threshold]} if np.isfinite(threshold) else {}
    return [dataclasses.replace(p, logits=gated(p.logits, p.labels, p.data.whisper_language, gates)) for p in parts]


def _share_answered(part: Part, label: str, encodings: Encodings, truth: str) -> tuple[int, int]:
    """(recordings labelled `truth`, those the vote answers `label`) of one part, temperature 1."""
    if label not in part.labels:
        return 0, 0
    probabilities = torch.softmax(part.logits.float(), -1).numpy()
    labels = part.data.labels[part.task].numpy()
    clips, speech = encodings.clip[part.data.index], encodings.speech_s[part.data.index]
    n = hits = 0
    for clip in np.unique(clips):
        inside = clips == clip
        if labels[inside][0] == IGNORE_INDEX or part.labels[labels[inside][0]] != truth:
            continue
        weights = np.where(speech[inside] >= VOTE_MIN_SPEECH_S, speech[inside], 0.0)
        weights = weights if weights.sum() > 0 else np.ones(inside.sum())
        n, hits = n + 1, hits + int((weights @ probabilities[inside]).argmax() == part.labels.index(label))
    return n, hits


def choose_gate(parts: list[Part], encodings: Encodings, label: str, code: str, native: str,
                grid=GATE_THRESHOLDS) -> tuple[float, list[dict]]:
    """The threshold of the gate on `label` (Whisper's log-probability of `code`) chosen on the held-out
    real speech: the lowest of `grid` (-inf: no gate) at which at most MAX_NATIVE_ACCENT of the native
    voices' `native` recordings are answered `label`; the learners' share answered `label` reported."""
    def measure(threshold: float) -> dict:
        found = {"learners": [0, 0], "natives": [0, 0]}
        for part in gate_parts(parts, label, code, threshold):
            group = "learners" if part.name.startswith(LEARNERS) else "natives"
            n, hits = _share_answered(part, label, encodings, label if group == "learners" else native)
            found[group][0] += n
            found[group][1] += hits
        return {g: h / n if n else float("nan") for g, (n, h) in found.items()}

    def pick(table: list[dict]) -> dict:
        if not np.isfinite(table[0]["natives"]):  # no native recording of that accent held out: no evidence, no gate
            log.warning("no native %s recordings held out: the %s gate stays open", native, label)
            return {"threshold": -np.inf}
        allowed = [row for row in table if row["natives"] <= MAX_NATIVE_ACCENT]
        if not allowed:
            log.warning("no gate of %s keeps native %s under %.0f%%: the strictest is taken", grid, native,
                        100 * MAX_NATIVE_ACCENT)
        return allowed[0] if allowed else table[-1]

    return grid_search(grid, "threshold", measure, pick)

"""Scores a teacher would give: the scoring's measures mapped to experts' ratings of real learners.

experts.json holds linear (ridge) models over the standardised measures of measures.py, fitted by
`benchmarks/fit_experts.py` on the experts' ratings of speechocean762's train split (Mandarin-L1
adults and children reading English, five experts each), the penalty chosen on folds by speaker, and
their spread matched to the experts' (a ridge pulls its predictions towards the mean: a weak reading
would score as an average one). EXPERTS.md, beside this file, is its card: measures, fit, figures.
One model per skill the experts rate (accuracy, fluency, prosody, and their total as "overall"), one
for each word's accuracy, and a logistic regression for "another sentence". The measures are the same
in every language (no GOP: it added nothing). The calibration applies where the text is known and the
listener heard the reading (up to 29 s of speech); elsewhere the anchors of scores.py score alone.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LinearModel", "ExpertModels", "expert_models", "standardised", "EXPERTS_PATH", "Z_LIMIT"]

EXPERTS_PATH = Path(__file__).with_name("experts.json")


@dataclass(frozen=True)
class LinearModel:
    """y = intercept + sum(coef * standardised(x)), over named measures; NaN measures take their mean."""

    features: tuple[str, ...]
    mean: np.ndarray  # (n_features,)
    scale: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features,)
    intercept: float
    # standardised measures clipped to +-Z_LIMIT (the ridges: no extrapolation); the another-sentence rule
    # is not clipped: its weights keep their signs, so an extreme value only strengthens what it points to
    clip: bool = True

    @classmethod
    def from_dict(cls, spec: dict) -> LinearModel:
        return cls(tuple(spec["features"]), np.asarray(spec["mean"], float), np.asarray(spec["scale"], float),
                   np.asarray(spec["coef"], float), float(spec["intercept"]), bool(spec.get("clip", True)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6), "clip": self.clip}

    def matrix(self, rows: list[dict]) -> np.ndarray:
        """(n_rows, n_features) of the rows' measures, standardised, missing ones at 0 (their mean)."""
        x = np.array([[_number(row.get(name)) for name in self.features] for row in rows], dtype=np.float64)
        return standardised(x, self.mean, self.scale, Z_LIMIT if self.clip else np.inf)

    def predict(self, rows: list[dict]) -> np.ndarray:
        """(n_rows,) predictions for rows of measures (dicts by name)."""
        if not rows:
            return np.zeros(0)
        return self.intercept + self.matrix(rows) @ self.coef


Z_LIMIT = 4.0  # standardised measures are clipped here: a reading unlike any fitted on is not extrapolated


def standardised(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, limit: float = Z_LIMIT) -> np.ndarray:
    """(x - mean) / scale, clipped to +-limit; missing values at 0 (their mean); x (n, d). An infinite
    measure counts as missing, as the published measures (and so the fit's) hold it as null: the
    transcript of a listener that looped ends in a -inf token."""
    z = (x - mean) / scale
    return np.clip(np.where(np.isfinite(z), z, 0.0), -limit, limit)


def _number(value) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class ExpertModels:
    """The shipped calibration: the skill and word models, and the another-sentence rule (a logistic
    regression's log-odds over measures, said where its probability reaches the threshold)."""

    skills: dict[str, LinearModel]  # accuracy, fluency, prosody, overall -> its model (0-100)
    words: LinearModel  # a word's accuracy (0-100), from measures.word_measures
    another_sentence: LinearModel  # log-odds that this is a reading of another text
    another_sentence_threshold: float  # probability at and above which it is said
    info: dict  # what it was fitted on, with which figures (for the card)

    def skill_scores(self, measures: dict) -> dict[str, float]:
        """accuracy, fluency, prosody, overall, 0-100, for one reading's measures."""
        return {skill: float(np.clip(model.predict([measures])[0], 0.0, 100.0)) for skill, model in self.skills.items()}

    def word_scores(self, words: list[dict]) -> np.ndarray:
        """(n_words,) 0-100 for the word measures of one reading."""
        return np.clip(self.words.predict(words), 0.0, 100.0)

    def another_sentence_probability(self, measures: dict) -> float:
        log_odds = float(self.another_sentence.predict([measures])[0])
        return float(1.0 / (1.0 + np.exp(-np.clip(log_odds, -50, 50))))

    def is_another_sentence(self, measures: dict) -> bool:
        return self.another_sentence_probability(measures) >= self.another_sentence_threshold

    @classmethod
    def load(cls, path: Path = EXPERTS_PATH) -> ExpertModels:
        spec = json.loads(Path(path).read_text())
        return cls({k: LinearModel.from_dict(v) for k, v in spec["skills"].items()},
                   LinearModel.from_dict(spec["words"]), LinearModel.from_dict(spec["another_sentence"]),
                   float(spec["another_sentence_threshold"]), spec["info"])

    def save(self, path: Path = EXPERTS_PATH) -> None:
        spec = {"skills": {k: v.to_dict() for k, v in self.skills.items()}, "words": self.words.to_dict(),
                "another_sentence": self.another_sentence.to_dict(),
                "another_sentence_threshold": round(self.another_sentence_threshold, 6), "info": self.info}
        Path(path).write_text(json.dumps(spec, indent=1) + "\n")


@functools.cache
def expert_models() -> ExpertModels | None:
    """The shipped calibration (experts.json), or None before it was first fitted."""
    return ExpertModels.load() if EXPERTS_PATH.exists() else None

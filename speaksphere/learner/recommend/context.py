"""What the recommender knows about a learner, built from their attempts, and the features of an
exercise for that learner.

Context: per skill, the current level (mean of the last few scores, since one reading varies by
several points) and trend (least-squares slope over recent attempts, points per attempt), and the
detected accent (the most frequent label over recent attempts, since one detection may be wrong).

Features of an exercise (scaled by the room left in the skill it trains, (100 - level) / 100,
because a drill cannot raise a score that is already near the top). Shared by all exercises, so that
what is learned about one drill carries over to its kind:
  kind one-hot x room          how much this kind of drill helps this learner (8 weights)
  accent match x room          written for the learner's detected first language
  accent mismatch x room       written for another first language (or the accent is not known yet)
  trend x room                 the trained skill's recent slope (/5 points per attempt, clipped to +-1)
  secondary room               the room left in the skills it also trains
and one per exercise (the "hybrid" linear model of Li et al., WWW 2010), because two drills of one
kind help a learner differently when only one targets a problem they actually have:
  <exercise id> x room         this drill's own effect for this learner
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..progress import SMOOTHING_ATTEMPTS as LEVEL_ATTEMPTS  # level = mean of the last 3 scores
from ..progress import TREND_ATTEMPTS, least_squares_slope  # trend = slope over the last 6 scores
from ..store import SKILLS
from .catalogue import KINDS, Exercise

__all__ = ["LEVEL_ATTEMPTS", "TREND_ATTEMPTS", "ACCENT_ATTEMPTS", "SHARED_FEATURES", "LearnerContext",
           "learner_context", "feature_names", "feature_matrix"]

ACCENT_ATTEMPTS = 10  # the accent is the majority label over the last 10 attempts
UNKNOWN_LEVEL = 50.0  # a skill never scored is assumed mid-range: its room is then 0.5
TREND_SCALE = 5.0  # points per attempt that count as a steep trend (feature value 1)

SHARED_FEATURES = tuple(f"{kind} x room" for kind in KINDS) + (
    "accent match x room", "accent mismatch x room", "trend x room", "secondary room")
_MATCH, _MISMATCH, _TREND, _SECONDARY = range(len(KINDS), len(SHARED_FEATURES))


@dataclass(frozen=True)
class LearnerContext:
    """A learner as the recommender sees them, in one language."""

    language: str  # ISO 639-1 code practised
    accent: str | None  # detected accent label ("L1-de", "en-GB", ...), None if never detected
    level: dict[str, float | None]  # per skill: mean of the last LEVEL_ATTEMPTS scores (0-100), None if unscored
    trend: dict[str, float]  # per skill: points per attempt over the last TREND_ATTEMPTS scores (0 if < 2)
    attempts: int  # scored attempts in this language

    def room(self, skill: str) -> float:
        """How far the skill can still rise, 0-1."""
        level = self.level.get(skill)
        return (100.0 - (UNKNOWN_LEVEL if level is None else level)) / 100.0

    def weakest_skill(self) -> str | None:
        """The scored skill with the lowest level (None before any score)."""
        scored = {skill: level for skill, level in self.level.items() if level is not None}
        return min(scored, key=scored.get) if scored else None


def learner_context(attempts: Sequence[dict], language: str) -> LearnerContext:
    """The context from `attempts` (oldest first, as `LearnerStore.history` returns them) in `language`;
    attempts whose language is unknown count for every language."""
    # reading attempts only: Speak's free-speech scores are of their own kind (no reference, no exercise)
    relevant = [a for a in attempts if a.get("language") in (language, None) and a.get("task") != "speak"]
    level, trend = {}, {}
    for skill in SKILLS:
        scores = [a["scores"][skill] for a in relevant if skill in a["scores"]]
        recent = scores[-LEVEL_ATTEMPTS:]
        level[skill] = sum(recent) / len(recent) if recent else None
        trend[skill] = least_squares_slope(scores[-TREND_ATTEMPTS:])
    accents = [a["accent"] for a in relevant[-ACCENT_ATTEMPTS:] if a.get("accent")]
    accent = Counter(accents).most_common(1)[0][0] if accents else None
    return LearnerContext(language, accent, level, trend, sum(1 for a in relevant if a["scores"]))


@functools.lru_cache(maxsize=64)
def _static_features(exercises: tuple[Exercise, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Per exercise: kind one-hot (n, K), trained-skill index (n,), secondary-skill mask (n, 5)."""
    kinds = np.zeros((len(exercises), len(KINDS)))
    secondary = np.zeros((len(exercises), len(SKILLS)))
    for i, exercise in enumerate(exercises):
        kinds[i, KINDS.index(exercise.kind)] = 1.0
        for skill in exercise.also:
            secondary[i, SKILLS.index(skill)] = 1.0
    skill_index = np.array([SKILLS.index(e.skill) for e in exercises])
    return kinds, skill_index, secondary, tuple(e.accents for e in exercises)


def feature_names(exercises: tuple[Exercise, ...]) -> tuple[str, ...]:
    """The names of the columns of `feature_matrix` for these exercises."""
    return SHARED_FEATURES + tuple(f"{e.id} x room" for e in exercises)


def feature_matrix(context: LearnerContext, exercises: tuple[Exercise, ...]) -> np.ndarray:
    """Features (n, len(SHARED_FEATURES) + n) of each of `exercises` for this learner (module docstring)."""
    kinds, skill_index, secondary, accents = _static_features(tuple(exercises))
    room = np.array([context.room(skill) for skill in SKILLS])  # (5,)
    trend = np.clip(np.array([context.trend[skill] for skill in SKILLS]) / TREND_SCALE, -1.0, 1.0)
    trained_room = room[skill_index]  # (n,)
    specific = np.array([bool(a) for a in accents])
    matched = np.array([context.accent in a for a in accents]) & specific
    shared = len(SHARED_FEATURES)
    features = np.zeros((len(exercises), shared + len(exercises)))
    features[:, :len(KINDS)] = kinds * trained_room[:, None]
    features[:, _MATCH] = matched * trained_room
    features[:, _MISMATCH] = (specific & ~matched) * trained_room
    features[:, _TREND] = trend[skill_index] * trained_room
    features[:, _SECONDARY] = secondary @ room
    features[:, shared:] = np.diag(trained_room)
    return features

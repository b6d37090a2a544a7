"""The recommender the app calls: the policy of policy.py, with its state and evidence in the store.

Flow for one learner:
  recommend(id)           learn from any outcome not yet learned; return the pending recommendation
                          if one waits, else choose an exercise, store and return it (with its id,
                          which the app passes on with the next attempt);
  store.record_attempt(id, ..., exercise_id=..., recommendation_id=...)
                          the first attempt after a recommendation is its outcome;
  feedback(id, rec_id, thumbs_up)
                          store the thumb and learn from it at once (one thumb per recommendation:
                          the latest wins; a thumbs down dismisses a pending recommendation).

The policy state is saved by compare-and-swap, so two tabs of one learner never learn an outcome twice.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...config import load_config
from ..store import LearnerStore
from .catalogue import DEFAULT_CATALOGUE_PATH, Catalogue, Exercise, load_catalogue
from .context import learner_context
from .policy import (
    POLICY_NAME,
    BanditConfig,
    choose_exercise,
    language_model,
    learn_from_attempt,
    learn_from_thumb,
    usable_state,
)

__all__ = ["RecommendConfig", "Recommendation", "Recommender", "load_recommend_config",
           "DEFAULT_RECOMMEND_CONFIG_PATH"]

DEFAULT_RECOMMEND_CONFIG_PATH = Path(__file__).resolve().with_name("recommend.yaml")
_RETRIES = 5  # compare-and-swap attempts before giving up on learning this time (it is retried next call)
_PENDING_LOOKBACK = 50  # recommendations searched for the latest one in a language (a learner practises a few)


@dataclass(frozen=True)
class RecommendConfig:
    """Settings of the recommender (speaksphere/learner/recommend/recommend.yaml); the store's are
    Settings.store (speaksphere/settings.yaml)."""

    bandit: BanditConfig = field(default_factory=BanditConfig)
    catalogue: str | None = None  # None: the built-in speaksphere/learner/recommend/exercises.yaml


def load_recommend_config(path: str | Path = DEFAULT_RECOMMEND_CONFIG_PATH) -> RecommendConfig:
    """Read speaksphere/learner/recommend/recommend.yaml (or `path`); a missing file means the defaults."""
    path = Path(path)
    return load_config(path, RecommendConfig) if path.exists() else RecommendConfig()


@dataclass(frozen=True)
class Recommendation:
    """An exercise recommended to a learner."""

    id: int  # pass it with the learner's next attempt and with their thumbs
    exercise: Exercise
    explanation: str  # one sentence
    explored: bool  # trying a drill to learn about the learner rather than the best expected one
    expected_gain: float  # points the targeted skill is expected to rise, under the current evidence
    pending: bool = False  # recommended before and not yet acted on (no attempt at it, no thumbs down)

    def to_dict(self) -> dict:
        """A plain mapping for the app and its API."""
        return {"recommendation_id": self.id, "explanation": self.explanation, "explored": self.explored,
                "expected_gain": round(self.expected_gain, 2), "pending": self.pending,
                "exercise": self.exercise.to_dict()}


class Recommender:
    """Recommends exercises to learners of `store` from `catalogue`; safe to share between threads."""

    def __init__(self, store: LearnerStore, catalogue: Catalogue | None = None, config: BanditConfig | None = None,
                 seed: int | None = None):
        self.store = store
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.config = config if config is not None else BanditConfig()
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self._rng_lock = threading.Lock()  # a seeded Generator is not safe to share between threads

    @classmethod
    def from_config(cls, config: RecommendConfig, store: LearnerStore) -> Recommender:
        """The recommender of `store` as configured."""
        catalogue = load_catalogue(config.catalogue or DEFAULT_CATALOGUE_PATH)
        return cls(store, catalogue, config.bandit)

    def learn(self, learner_id: str) -> int:
        """Learn from every outcome and thumb not learned yet; returns how many rewards were used."""
        for _ in range(_RETRIES):
            saved, version = self.store.load_policy_state(learner_id)
            state = usable_state(saved)
            outcomes, thumbs = self.store.outcomes_since(learner_id, state["attempt_watermark"],
                                                         state["feedback_watermark"])
            if not outcomes and not thumbs and saved is not None:
                return 0
            learned = 0
            for recommendation, attempt in outcomes:
                if self._learnable(state, recommendation):
                    learned += learn_from_attempt(state, recommendation["context"], attempt, self.config)
                state["attempt_watermark"] = attempt["id"]
            for recommendation, thumb in thumbs:
                if self._learnable(state, recommendation):
                    learned += learn_from_thumb(state, recommendation["context"], thumb["thumbs_up"], self.config,
                                                recommendation["id"])
                state["feedback_watermark"] = thumb["id"]
            if self.store.save_policy_state(learner_id, state, version):
                return learned
        return 0  # another request kept winning; it learned the same evidence

    def _learnable(self, state: dict, recommendation: dict) -> bool:
        """Whether this policy made the recommendation; if so, its language's model is made ready."""
        if recommendation["policy"] != POLICY_NAME:
            return False  # another policy's context carries no features this one can learn from
        language = recommendation["context"]["language"]
        language_model(state, language, self.catalogue.for_language(language), self.config)
        return True

    def recommend(self, learner_id: str, language: str | None = None, fresh: bool = False) -> Recommendation:
        """The next exercise for the learner, in `language` (default: that of their latest attempt in a
        language with exercises, else English). A recommendation stays until acted on: the latest one in
        that language is returned again (marked pending) until an attempt answers it or a thumbs down
        dismisses it; `fresh` chooses anew regardless. Raises LearnerError for a bad id and ValueError
        for a `language` with no exercises."""
        self.learn(learner_id)
        attempts = self.store.history(learner_id, limit=50)  # enough for level, trend and accent
        practised = self.catalogue.languages()
        language = language or next((a["language"] for a in reversed(attempts) if a["language"] in practised), "en")
        exercises = self.catalogue.for_language(language)
        if not exercises:
            raise ValueError(f"There are no exercises for the language {language!r} yet; "
                             f"choose one of {', '.join(practised)}.")
        pending = None if fresh else self.pending(learner_id, language)
        if pending is not None:
            return pending
        # Choosing only reads the state (a new language's model is rebuilt from the prior until the
        # first outcome saves it), so no compare-and-swap is needed here.
        state = usable_state(self.store.load_policy_state(learner_id)[0])
        with self._rng_lock if self._rng is not None else contextlib.nullcontext():
            rng = self._rng if self._rng is not None else np.random.default_rng()  # fresh entropy per call
            choice = choose_exercise(learner_context(attempts, language), exercises, state, self.config, rng)
        recommendation_id = self.store.record_recommendation(
            learner_id, choice.exercise.id, choice.exercise.skill, choice.explanation, choice.context, POLICY_NAME)
        return Recommendation(recommendation_id, choice.exercise, choice.explanation, choice.explored,
                              choice.expected_gain)

    def pending(self, learner_id: str, language: str) -> Recommendation | None:
        """The learner's latest recommendation in `language` if it still waits: no attempt answered it,
        its latest thumb is not down, and its exercise is still in the catalogue; else None."""
        latest = next((r for r in reversed(self.store.recommendations(learner_id, limit=_PENDING_LOOKBACK))
                       if r["context"].get("language") == language), None)
        if latest is None or latest["outcome_attempt_id"] is not None or latest["exercise_id"] not in self.catalogue:
            return None
        thumbs = [f["thumbs_up"] for f in self.store.feedback(learner_id) if f["recommendation_id"] == latest["id"]]
        if thumbs and not thumbs[-1]:
            return None
        context = latest["context"]
        return Recommendation(latest["id"], self.catalogue[latest["exercise_id"]], latest["explanation"],
                              bool(context.get("explored", False)), float(context.get("expected_gain", 0.0)), True)

    def feedback(self, learner_id: str, recommendation_id: int, thumbs_up: bool, comment: str | None = None) -> int:
        """Store the learner's thumbs up/down on one of their recommendations and learn from it;
        returns the feedback id."""
        feedback_id = self.store.record_feedback(learner_id, recommendation_id, thumbs_up, comment)
        self.learn(learner_id)
        return feedback_id

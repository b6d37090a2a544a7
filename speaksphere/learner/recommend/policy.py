"""The recommendation policy: Thompson sampling over the exercise catalogue with a rule-based prior,
rewards from the next attempt and from thumbs, and a one-sentence explanation of every choice.

Pure functions on a JSON-ready per-learner state; `Recommender` adds the database, and the
simulation calls the very same functions.

Cold start. Before any evidence the weights encode the teacher's rule: every kind of drill is
expected to raise the skill it trains by `prior_gain_points` x room, so the weakest skill comes first;
drills written for the learner's detected first language gain half as much again and drills for
another first language lose most of their value; a slipping skill gets a little extra attention;
each drill's own weight starts at 0 (no opinion beyond its kind).

Rewards, in score points:
  next attempt  the targeted skill's score in the first attempt after the recommendation minus its
                level when the recommendation was made;
  thumbs        a thumbs up is read as a gain of (1 + thumb_effect) x what the prior expected for that
                drill, a thumbs down as (1 - thumb_effect) x, i.e. nothing for thumb_effect 1: "it did
                not help me" must pull any drill down, however promising it looked. Observed with its
                own noise.

State: one linear model per language practised (the catalogue differs per language), plus the ids of
the last attempt and thumb learned from, so that nothing is learned twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import points
from .bandit import LinearThompsonSampler
from .catalogue import KINDS, Exercise
from .context import SHARED_FEATURES, LearnerContext, feature_matrix, feature_names

__all__ = ["POLICY_NAME", "BanditConfig", "Choice", "rule_prior", "new_policy_state", "usable_state", "language_model",
           "choose_exercise", "learn_from_attempt", "learn_from_thumb", "explain"]

POLICY_NAME = "hybrid-thompson-v1"  # stored with each recommendation
_STATE_FORMAT = 2

_KIND_NAMES = {"minimal_pairs": "minimal-pair", "shadowing": "shadowing", "chunking": "chunking",
               "pausing": "pausing", "intonation": "intonation", "slow_reading": "slow-reading",
               "command_drill": "command", "sequencing": "sequencing"}


@dataclass(frozen=True)
class BanditConfig:
    """The recommender's prior and noise model, in score points (0-100 scale)."""

    prior_gain_points: float = 4.0  # gain expected from one drill on a skill with all its room left (room 1)
    prior_kind_sd: float = 0.6  # x prior gain: how much kinds of drill may differ for one learner
    prior_exercise_sd: float = 0.6  # x prior gain: how much one drill may differ from its kind for one learner
    accent_match_bonus: float = 1.0  # x prior gain: extra value of a drill written for one's first language
    accent_mismatch_penalty: float = 0.8  # x prior gain: value lost by a drill for another first language
    accent_sd: float = 0.3  # x prior gain: uncertainty of both accent weights
    slipping_weight: float = -0.25  # x prior gain per unit trend: a falling skill is a little more urgent
    trend_sd: float = 0.25  # x prior gain
    secondary_weight: float = 0.3  # x prior gain: drills also help the skills they train on the side
    secondary_sd: float = 0.15  # x prior gain
    reward_noise_points: float = 6.0  # sd of one attempt's change: two readings of 4-point noise, plus drift
    thumb_effect: float = 1.0  # a thumbs up reads as (1 + this) x the prior's expected gain, a down as (1 - this) x
    thumb_noise_points: float = 1.0  # sd of a thumb's evidence: worth (6 / 1)^2 attempts
    exploration: float = 0.3  # scale of the posterior draw: 1 is plain Thompson sampling, < 1 exploits sooner
    explore_margin_points: float = 0.25  # a choice this far below the best expected gain is called exploring


def rule_prior(config: BanditConfig, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The cold-start prior over the weights named `names` (see context.feature_names): mean and sd
    (d,), in points per unit feature."""
    g = config.prior_gain_points
    shared = {name: (g, config.prior_kind_sd * g) for name in SHARED_FEATURES[:len(KINDS)]}
    shared["accent match x room"] = (config.accent_match_bonus * g, config.accent_sd * g)
    shared["accent mismatch x room"] = (-config.accent_mismatch_penalty * g, config.accent_sd * g)
    shared["trend x room"] = (config.slipping_weight * g, config.trend_sd * g)
    shared["secondary room"] = (config.secondary_weight * g, config.secondary_sd * g)
    exercise = (0.0, config.prior_exercise_sd * g)
    mean, sd = zip(*(shared.get(name, exercise) for name in names))
    return np.array(mean), np.array(sd)


def new_policy_state() -> dict:
    """The state of a learner with no evidence yet (JSON-ready); models are added per language."""
    return {"format": _STATE_FORMAT, "models": {}, "attempt_watermark": 0, "feedback_watermark": 0}


def usable_state(state: dict | None) -> dict:
    """`state`, or a fresh one if there is none or it has an older format; watermarks are kept so that
    old outcomes are not learned twice."""
    if state and state.get("format") == _STATE_FORMAT:
        return state
    fresh = new_policy_state()
    if state:
        fresh["attempt_watermark"] = state.get("attempt_watermark", 0)
        fresh["feedback_watermark"] = state.get("feedback_watermark", 0)
    return fresh


def language_model(state: dict, language: str, exercises: tuple[Exercise, ...], config: BanditConfig) -> dict:
    """The learner's model for `language` over `exercises`, created from the prior if new; if the
    catalogue changed, what was learned about the features still present is kept (their marginal
    posterior) and new features start from the prior. Stored in `state` in place."""
    names = list(feature_names(exercises))
    model = state["models"].get(language)
    if model is not None and model["features"] == names:
        return model
    prior_mean, prior_sd = rule_prior(config, tuple(names))
    mean, covariance = prior_mean, np.diag(prior_sd**2)
    if model is not None:
        old = LinearThompsonSampler.from_state(model)
        old_mean, old_covariance = old.mean(), np.linalg.inv(old.precision)
        index = {name: i for i, name in enumerate(model["features"])}
        kept = [i for i, name in enumerate(names) if name in index]
        source = [index[names[i]] for i in kept]
        mean[kept] = old_mean[source]
        covariance[np.ix_(kept, kept)] = old_covariance[np.ix_(source, source)]
    precision = np.linalg.inv(covariance)
    evidence = model.get("evidence", {}) if model else {}
    model = {"features": names, "precision": precision.tolist(), "precision_mean": (precision @ mean).tolist(),
             "evidence": {e.id: evidence.get(e.id, 0) for e in exercises}}  # rewards learned per drill
    state["models"][language] = model
    return model


@dataclass(frozen=True)
class Choice:
    """A chosen exercise and what is needed to learn from its outcome later."""

    exercise: Exercise
    explanation: str  # one sentence for the learner
    explored: bool  # chosen although another drill was expected to help more
    expected_gain: float  # posterior mean of the targeted skill's gain, points
    context: dict  # JSON-ready: the features by name, baseline level, prior gain, the context summary


def choose_exercise(context: LearnerContext, exercises: tuple[Exercise, ...], state: dict, config: BanditConfig,
                    rng: np.random.Generator) -> Choice:
    """Thompson sampling over `exercises` (those of the learner's language, catalogue order); adds the
    language's model to `state` if it is new."""
    if not exercises:
        raise ValueError(f"no exercises for language {context.language!r}")
    model = language_model(state, context.language, exercises, config)
    features = feature_matrix(context, exercises)  # (n, d)
    sampler = LinearThompsonSampler.from_state(model)
    chosen, _ = sampler.choose(features, rng, config.exploration)
    expected = features @ sampler.mean()  # (n,) points the trained skill is expected to rise
    prior_mean, _ = rule_prior(config, tuple(model["features"]))
    exercise, phi = exercises[chosen], features[chosen]
    explored = bool(expected[chosen] < expected.max() - config.explore_margin_points)
    prior_gain = float(phi @ prior_mean)
    summary = {"language": context.language, "exercise_id": exercise.id, "skill": exercise.skill,
               "kind": exercise.kind, "features": {n: float(v) for n, v in zip(model["features"], phi) if v != 0.0},
               "baseline": context.level[exercise.skill], "prior_gain": prior_gain,
               "expected_gain": float(expected[chosen]), "explored": explored, "accent": context.accent,
               "level": context.level,
               "trend": context.trend}
    explanation = explain(exercise, context, model, explored, float(expected[chosen]), prior_gain)
    return Choice(exercise, explanation, explored, float(expected[chosen]), summary)


def learn_from_attempt(state: dict, recommendation_context: dict, attempt: dict, config: BanditConfig) -> bool:
    """Update `state` in place with the change in the targeted skill shown by `attempt`, the first
    attempt after the recommendation; False (nothing learned) if a score or the model is missing."""
    skill, baseline = recommendation_context["skill"], recommendation_context.get("baseline")
    score = attempt["scores"].get(skill)
    if baseline is None or score is None:
        return False
    return _update(state, recommendation_context, score - baseline, config.reward_noise_points)


def learn_from_thumb(state: dict, recommendation_context: dict, thumbs_up: bool, config: BanditConfig,
                     recommendation_id: int | None = None) -> bool:
    """Update `state` in place with the learner's thumbs up (True) or down (False).

    One thumb per recommendation, the latest wins: with `recommendation_id`, the thumb learned for it is
    kept in state["thumbs"]; the same thumb again teaches nothing, the other one takes the earlier back
    (the Gaussian update is exactly undone: its precision and precision-weighted mean subtracted) and
    counts instead. False when nothing was learned."""
    thumbs = state.setdefault("thumbs", {})  # {recommendation id (str): thumbs_up}: JSON keys are strings
    key = None if recommendation_id is None else str(recommendation_id)
    earlier = thumbs.get(key) if key is not None else None
    if earlier is not None and earlier == bool(thumbs_up):
        return False
    if earlier is not None:
        _update(state, recommendation_context, _thumb_reward(recommendation_context, earlier, config),
                config.thumb_noise_points, weight=-1.0)
    learned = _update(state, recommendation_context, _thumb_reward(recommendation_context, thumbs_up, config),
                      config.thumb_noise_points)
    if learned and key is not None:
        thumbs[key] = bool(thumbs_up)
    return learned


def _thumb_reward(recommendation_context: dict, thumbs_up: bool, config: BanditConfig) -> float:
    sign = 1.0 if thumbs_up else -1.0
    return recommendation_context["prior_gain"] * (1.0 + sign * config.thumb_effect)


def _update(state: dict, recommendation_context: dict, reward: float, noise_sd: float, weight: float = 1.0) -> bool:
    """Condition the language's model on one reward; weight -1 takes a reward learned before back."""
    model = state["models"].get(recommendation_context["language"])
    if model is None:
        return False
    named = recommendation_context["features"]
    phi = np.array([named.get(name, 0.0) for name in model["features"]])  # features gone from the catalogue drop out
    sampler = LinearThompsonSampler.from_state(model)
    sampler.update(phi, reward, noise_sd, weight)
    model.update(sampler.to_state())
    exercise_id = recommendation_context["exercise_id"]
    if exercise_id in model["evidence"]:
        model["evidence"][exercise_id] += 1 if weight > 0 else -1
    return True


def explain(exercise: Exercise, context: LearnerContext, model: dict, explored: bool, expected_gain: float,
            prior_gain: float) -> str:
    """Why this exercise, in one sentence a learner understands."""
    skill, kind = exercise.skill, _KIND_NAMES[exercise.kind]
    level, trend = context.level[skill], context.trend[skill]
    evidence = model["evidence"].get(exercise.id, 0)
    if level is None:
        why = f"We have not heard your {skill} yet"
    elif explored:
        why = f"We are trying a {kind} drill to learn what helps your {skill} most"
    elif evidence >= 2 and expected_gain > 1.25 * prior_gain:
        why = f"This drill has worked well for your {skill} so far"
    elif trend <= -1.5:
        why = f"Your {skill} has slipped lately ({trend:+.1f} points per attempt)"
    elif skill == context.weakest_skill():
        why = f"Your {skill} ({points(level)}/100) is your weakest score"
    else:
        why = f"Your {skill} ({points(level)}/100) has the most to gain from a drill like this"
    return f'{why}, so try "{exercise.title}": it {exercise.practises}.'

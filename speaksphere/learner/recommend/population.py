"""A simulated learner population for judging recommendation policies offline.

Each simulated learner has hidden true skills (0-100), a first language, a hidden skill profile (which
skills start low), a hidden learning style (which kinds of drill help them most), a hidden set of
specific problems (which drills target something they actually get wrong), and may ignore advice.
Practising a drill raises the skill it trains by

    gain = learning_rate_points x affinity[kind] x relevance[drill] x room x noise

where room = (100 - skill) / 100 (a near-perfect skill cannot rise much), affinity comes from the
learning style times an individual factor, relevance is 1 if the learner has the problem the drill
targets and `no_problem_factor` if not (minimal pairs written for one's own first language target a
problem one has far more often than those written for another), and noise is log-normal. The skills
it also trains rise by `secondary_share` of that. After each session the learner reads the exercise
and is scored as the app scores: every skill plus noise, with an accent detection that is sometimes
wrong; some sessions end with a thumbs up or down that reflects, noisily, how much the drill helped.

All numbers are assumptions stated in speaksphere/learner/recommend/simulate.yaml, not measurements of real learners.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..store import SKILLS
from .catalogue import ACCENTS, KINDS, L1_ACCENTS, NATIVE_ACCENTS, Exercise

__all__ = ["SimulationConfig", "PROFILES", "STYLES", "SimulatedLearner", "make_population", "effectiveness",
           "practise", "observe", "thumbs"]

# Hidden skill profiles: how each starting skill differs from the learner's general level, in points.
PROFILES = {
    "halting": {"fluency": -15.0, "coherence": -5.0},  # accurate but word by word
    "flat": {"prosody": -15.0},  # clear sounds, monotonous melody
    "substituting": {"accuracy": -15.0},  # fluent, with first-language sounds
    "skipping": {"completeness": -15.0, "coherence": -8.0},  # rushes and drops words
    "even": {},
}
# Hidden learning styles: the log of how much each kind of drill helps, before individual variation.
STYLES = {
    "imitator": {"shadowing": 0.8, "intonation": 0.6, "minimal_pairs": 0.3, "command_drill": -0.2,
                 "chunking": -0.3, "slow_reading": -0.5, "sequencing": -0.5},  # learns by ear
    "analyst": {"chunking": 0.7, "sequencing": 0.6, "pausing": 0.5, "slow_reading": 0.3, "command_drill": -0.2,
                "intonation": -0.4, "shadowing": -0.5},  # learns from structure
    "driller": {"minimal_pairs": 0.7, "command_drill": 0.7, "slow_reading": 0.3, "shadowing": -0.3,
                "chunking": -0.3, "pausing": -0.3, "sequencing": -0.4},  # learns by repeating small units
}
# Starting offsets by first language: non-native speakers start lower on sounds and melody.
_L1_OFFSETS = {"accuracy": -10.0, "prosody": -5.0}
_NATIVE_OFFSETS = {"accuracy": 15.0, "prosody": 10.0, "fluency": 10.0}


@dataclass(frozen=True)
class SimulationConfig:
    """The simulated world and the experiment (speaksphere/learner/recommend/simulate.yaml)."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    learners: int = 200  # per seed
    sessions: int = 50  # recommendations per learner
    language: str = "en"  # the language practised (accents only matter for English)
    native_share: float = 0.15  # learners whose English is native (en-US, en-GB, ...)
    general_level_mean: float = 62.0  # points: a learner's general level ...
    general_level_sd: float = 8.0  # ... varies this much between learners
    skill_sd: float = 5.0  # points: each skill's own spread around the general level
    learning_rate_points: float = 1.0  # gain of one drill with affinity 1 on a skill with all its room left
    gain_noise: float = 0.3  # sd of the log-normal noise of one session's gain
    style_strength: float = 1.0  # multiplies the log-affinities of STYLES: 0 makes every style alike
    affinity_spread: float = 0.5  # sd of a learner's own log-affinity per kind, on top of the style
    problem_rate: float = 0.25  # share of learners who have the problem a drill for everyone targets
    own_l1_problem_rate: float = 0.7  # ... a minimal-pair drill written for their own first language
    other_l1_problem_rate: float = 0.05  # ... one written for another first language (or for a native speaker)
    no_problem_factor: float = 0.05  # a drill for a problem the learner does not have helps this much
    secondary_share: float = 0.3  # a drill raises the skills it also trains by this share of the main gain
    score_noise_points: float = 4.0  # sd of one attempt's score around the true skill
    accent_detection_accuracy: float = 0.75  # share of attempts whose accent is detected correctly
    ignorer_share: float = 0.2  # learners who mostly ignore advice ...
    ignorer_follow_probability: float = 0.3  # ... and follow it this often; otherwise they pick at random
    follow_probability: float = 0.9  # how often the others follow it
    feedback_probability: float = 0.6  # share of followed recommendations that get a thumb
    feedback_sharpness: float = 1.5  # P(up) = sigmoid(sharpness x log(effectiveness / neutral))
    feedback_neutral_effectiveness: float = 0.5  # a drill this effective gets up and down equally often
    output_dir: str = "reports/recommend"  # where the learning curves and figures are written


@dataclass
class SimulatedLearner:
    """A learner whose skills the simulation knows and the policies do not."""

    accent: str  # true accent label: "L1-de", ..., or a native one such as "en-GB"
    profile: str  # key of PROFILES
    style: str  # key of STYLES
    skills: np.ndarray  # (5,) true skills in SKILLS order, 0-100; changes as they practise
    affinity: dict[str, float]  # per kind of drill: how much drills of this kind help (learning style)
    relevance: dict[str, float]  # per exercise id: 1 if the learner has the problem it targets, else small
    follow_probability: float


def _problem_rate(accent: str, exercise: Exercise, config: SimulationConfig) -> float:
    if not exercise.accent_specific:
        return config.problem_rate
    return config.own_l1_problem_rate if accent in exercise.accents else config.other_l1_problem_rate


def make_population(n: int, rng: np.random.Generator, config: SimulationConfig,
                    exercises: tuple[Exercise, ...]) -> list[SimulatedLearner]:
    """`n` learners drawn from the configured population, with their hidden response to `exercises`."""
    learners = []
    for _ in range(n):
        native = rng.random() < config.native_share
        accent = str(rng.choice(NATIVE_ACCENTS if native else L1_ACCENTS))
        profile, style = str(rng.choice(list(PROFILES))), str(rng.choice(list(STYLES)))
        offsets = _NATIVE_OFFSETS if native else _L1_OFFSETS
        general = rng.normal(config.general_level_mean, config.general_level_sd)
        skills = np.array([general + rng.normal(0, config.skill_sd) + PROFILES[profile].get(s, 0.0)
                           + offsets.get(s, 0.0) for s in SKILLS])
        affinity = {kind: float(np.exp(config.style_strength * STYLES[style].get(kind, 0.0)
                                            + rng.normal(0, config.affinity_spread)))
                    for kind in KINDS}
        relevance = {e.id: 1.0 if rng.random() < _problem_rate(accent, e, config) else config.no_problem_factor
                     for e in exercises}
        ignorer = rng.random() < config.ignorer_share
        learners.append(SimulatedLearner(accent, profile, style, np.clip(skills, 10.0, 95.0), affinity, relevance,
                                         config.ignorer_follow_probability if ignorer else config.follow_probability))
    return learners


def effectiveness(learner: SimulatedLearner, exercise: Exercise, config: SimulationConfig) -> float:
    """How much this drill helps this learner: affinity for its kind x relevance of its problem."""
    return learner.affinity[exercise.kind] * learner.relevance[exercise.id]


def practise(learner: SimulatedLearner, exercise: Exercise, rng: np.random.Generator,
             config: SimulationConfig) -> None:
    """One session on `exercise`: raises the learner's true skills in place."""
    base = config.learning_rate_points * effectiveness(learner, exercise, config) * rng.lognormal(0, config.gain_noise)
    for skill, share in [(exercise.skill, 1.0)] + [(s, config.secondary_share) for s in exercise.also]:
        i = SKILLS.index(skill)
        learner.skills[i] += share * base * (100.0 - learner.skills[i]) / 100.0


def observe(learner: SimulatedLearner, rng: np.random.Generator, config: SimulationConfig, attempt_id: int,
            exercise_id: str | None, recommendation_id: int | None) -> dict:
    """A scored attempt, shaped as `LearnerStore.history` returns it (scores are noisy, the accent
    detection is sometimes wrong)."""
    scores = np.clip(learner.skills + rng.normal(0, config.score_noise_points, len(SKILLS)), 0.0, 100.0)
    correct = rng.random() < config.accent_detection_accuracy
    accent = learner.accent if correct else str(rng.choice(ACCENTS))
    named = {skill: float(score) for skill, score in zip(SKILLS, scores)}
    return {"id": attempt_id, "created_at": float(attempt_id), "task": "pronounce", "language": config.language,
            "accent": accent, "reference_text": None, "phrase_id": None, "exercise_id": exercise_id,
            "recommendation_id": recommendation_id,
            "scores": {**named, "overall": float(np.mean(scores))}}


def thumbs(learner: SimulatedLearner, exercise: Exercise, rng: np.random.Generator,
           config: SimulationConfig) -> bool | None:
    """The learner's thumb on a drill they just did: None (no thumb), True (up) or False (down)."""
    if rng.random() >= config.feedback_probability:
        return None
    logit = config.feedback_sharpness * np.log(effectiveness(learner, exercise, config)
                                               / config.feedback_neutral_effectiveness)
    return bool(rng.random() < 1.0 / (1.0 + np.exp(-logit)))

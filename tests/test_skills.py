"""The skills are named once (speaksphere.skills) and every part that lists them agrees with it."""

from dataclasses import fields

from speaksphere.coach.explain import SKILL_MEANINGS, SKILL_TIPS
from speaksphere.learner.store import SCORES
from speaksphere.pronounce.scores import Weights, overall_score
from speaksphere.skills import RESULT_SCORES, SKILLS


def test_the_scorer_the_store_and_the_coach_name_the_same_skills():
    assert {f.name for f in fields(Weights)} == set(SKILLS)  # one weight per skill, no other
    assert tuple(SKILL_MEANINGS) == RESULT_SCORES and set(SKILL_TIPS) == set(SKILLS)
    assert SCORES == SKILLS + ("overall",)  # the store's columns: the same names


def test_a_skill_not_scored_leaves_the_mean_of_the_others():
    scores = dict.fromkeys(SKILLS, 50.0) | {"accuracy": 100.0, "prosody": None}
    weights = Weights()
    expected = (100.0 * weights.accuracy + 50.0 * (weights.completeness + weights.coherence + weights.fluency)) / (
        weights.accuracy + weights.completeness + weights.coherence + weights.fluency)
    assert abs(overall_score(scores) - expected) < 1e-12

"""Progress per language and per phrase, analyses apart, and a table, chart and tip that agree (issue 39)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speaksphere.coach import Coach
from speaksphere.learner.progress import points
from speaksphere.learner.recommend import Recommender
from speaksphere.learner.store import SKILLS, LearnerStore
from speaksphere.settings import Settings

HELLO, STATION, BONJOUR = "Hello, how are you?", "Where is the station?", "Bonjour, comment allez-vous ?"


@pytest.fixture
def coach(tmp_path) -> Coach:
    store = LearnerStore(tmp_path / "learners.sqlite3", synchronous="NORMAL")
    return Coach(Settings(), predictor=None, recommender=Recommender(store, seed=0), model_dir=Path("model"))


def attempt(coach, learner, language, text, overall, prosody=70.0):
    scores = {skill: 80.0 for skill in SKILLS} | {"prosody": prosody, "overall": overall}
    coach.store.record_attempt(learner, "pronounce", scores, language=language, reference_text=text)


@pytest.fixture
def learner(coach) -> str:
    learner = coach.store.new_learner()
    for overall in (39.0, 45.0, 50.0):
        attempt(coach, learner, "en", HELLO, overall, prosody=47.0)
    attempt(coach, learner, "en", STATION, 60.0, prosody=91.4)
    for overall in (90.0, 92.0, 94.0):  # French, later: the latest language practised
        attempt(coach, learner, "fr", BONJOUR, overall, prosody=67.0)
    coach.store.record_attempt(learner, "analyze", {}, language="de", accent=None)  # an analysis, not practice
    return learner


def test_progress_shows_one_language_at_a_time_the_latest_first(coach, learner):
    latest = coach.history(learner)
    assert latest["language"] == "fr" and len(latest["attempts"]) == 3
    assert {row["skill"]: row["first"] for row in latest["summary"]}["overall"] == 92.0  # not 39 of English
    english = coach.history(learner, "en")
    assert len(english["attempts"]) == 4 and "English (en), every phrase" in english["text"]
    choices = coach.progress_choices(learner, "en")
    assert [value for _, value in choices["languages"]] == ["fr", "en"]  # German was only analysed
    assert [value for _, value in choices["items"]] == ["", STATION, HELLO]


def test_progress_of_one_phrase(coach, learner):
    hello = coach.history(learner, "en", HELLO)
    rows = {row["skill"]: row for row in hello["summary"]}
    assert rows["overall"]["attempts"] == 3 and rows["overall"]["latest"] == pytest.approx((39 + 45 + 50) / 3, abs=0.05)
    assert HELLO in hello["text"] and HELLO in hello["figure"].get_suptitle()
    assert coach.history(learner, "en", "never practised")["attempts"] == []


def test_analyses_are_not_practice_attempts(coach, learner):
    everything = coach.store.history(learner)
    assert sum(a["task"] == "analyze" for a in everything) == 1
    assert all(a["task"] != "analyze"
               for a in coach.history(learner, "en")["attempts"] + coach.history(learner)["attempts"])
    counts = coach.delete(learner, True)
    assert counts["attempts"] == 7 and counts["analyses"] == 1


def test_the_table_the_chart_and_the_tip_show_the_same_numbers(coach):
    learner = coach.store.new_learner()
    for prosody in (91.4, 91.5, 91.45):  # latest = 91.45: 91 by the chart's old rounding, 92 in the table
        attempt(coach, learner, "en", HELLO, 90.0, prosody=prosody)
    out = coach.history(learner)
    table = {row["skill"]: row for row in out["summary"]}
    shown = points(table["prosody"]["latest"])
    assert f"| prosody | 3 | {points(table['prosody']['first'])} | {shown} |" in out["text"]
    panel = next(ax for ax in out["figure"].axes if ax.get_title() == "prosody")
    assert [t.get_text() for t in panel.texts] == [str(shown)]
    assert shown == 92
    weakest = min(SKILLS, key=lambda s: points(table[s]["latest"]))
    assert f"your {weakest} ({points(table[weakest]['latest'])}/100 latest) is your weakest" in out["text"]


def test_the_recommendations_reason_rounds_as_the_table():
    from speaksphere.learner.recommend import load_catalogue
    from speaksphere.learner.recommend.context import LearnerContext
    from speaksphere.learner.recommend.policy import explain

    level = {skill: 95.0 for skill in SKILLS} | {"prosody": (91.4 + 91.5 + 91.45) / 3}  # the table says 92
    context = LearnerContext("en", None, level, dict.fromkeys(SKILLS, 0.0), attempts=3)
    exercise = next(e for e in load_catalogue().for_language("en") if e.skill == "prosody")
    why = explain(exercise, context, {"evidence": {}}, explored=False, expected_gain=1.0, prior_gain=1.0)
    assert why.startswith("Your prosody (92/100) is your weakest score")

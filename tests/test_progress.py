"""Progress: per-skill history as data, its summary, and the plot for the app."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from speaksphere.learner.progress import (
    history_from_attempts,
    least_squares_slope,
    plot_progress,
    progress_summary,
    skill_history,
)
from speaksphere.learner.store import SCORES, LearnerError, LearnerStore

scores_lists = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=30)


@pytest.fixture
def store(tmp_path) -> LearnerStore:
    return LearnerStore(tmp_path / "learners.sqlite3", synchronous="NORMAL")


def test_history_per_skill_from_the_store_keeps_order_and_skips_unscored(store):
    learner = store.new_learner()
    for i, accuracy in enumerate([40.0, 50.0, 65.0]):
        store.record_attempt(learner, "pronounce", {"accuracy": accuracy, "overall": accuracy + 5},
                             created_at=100.0 + i)
    store.record_attempt(learner, "analyze", {"fluency": 70.0}, created_at=200.0)
    history = skill_history(store, learner)
    assert list(history) == list(SCORES)
    np.testing.assert_array_equal(history["accuracy"].scores, [40.0, 50.0, 65.0])
    np.testing.assert_array_equal(history["accuracy"].times, [100.0, 101.0, 102.0])
    assert len(history["fluency"]) == 1 and len(history["prosody"]) == 0
    with pytest.raises(LearnerError):
        skill_history(store, "nobody")


@given(scores_lists)
def test_smoothed_is_the_mean_of_the_last_three_scores(values):
    attempts = [{"id": i, "created_at": float(i), "scores": {"accuracy": v}} for i, v in enumerate(values)]
    series = history_from_attempts(attempts)["accuracy"]
    expected = [np.mean(values[max(0, i - 2):i + 1]) for i in range(len(values))]
    np.testing.assert_allclose(series.smoothed(), expected, atol=1e-9)


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=20))
def test_slope_matches_a_least_squares_line(values):
    assert least_squares_slope(values) == pytest.approx(np.polyfit(np.arange(len(values)), values, 1)[0], abs=1e-6)


def test_summary_reports_first_latest_best_change_and_trend():
    values = [50.0, 52.0, 54.0, 60.0, 62.0, 64.0]
    attempts = [{"id": i, "created_at": float(i), "scores": {"prosody": v}} for i, v in enumerate(values)]
    rows = {row["skill"]: row for row in progress_summary(history_from_attempts(attempts))}
    prosody = rows["prosody"]
    assert prosody["attempts"] == 6 and prosody["first"] == 52.0 and prosody["latest"] == 62.0
    assert prosody["best"] == 64.0 and prosody["change"] == 10.0
    assert prosody["trend"] == pytest.approx(53 / 17.5, abs=0.01)  # least squares over the last 6
    assert rows["accuracy"] == {"skill": "accuracy", "attempts": 0, "first": None, "latest": None, "best": None,
                                "change": None, "trend": None}


@pytest.mark.parametrize("attempts", [0, 1, 12])
def test_the_plot_has_a_panel_per_score_and_renders(attempts):
    rng = np.random.default_rng(0)
    history = history_from_attempts([{"id": i, "created_at": float(i),
                                      "scores": {s: float(rng.uniform(40, 90)) for s in SCORES}}
                                     for i in range(attempts)])
    figure = plot_progress(history)
    assert isinstance(figure, Figure)
    assert [ax.get_title() for ax in figure.axes] == list(SCORES)
    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue()[:4] == b"\x89PNG"


@pytest.mark.parametrize("n", [1, 2, 100])
def test_the_progress_chart_reads_at_1_2_and_100_attempts(n):
    """Issue 22: with one attempt the x ticks ran together ("0.9450.960..."), the "100" label collided
    with the panel titles, and the legend covered an axis."""
    attempts = [{"id": i + 1, "created_at": float(i), "scores": dict.fromkeys(SCORES, 100.0)} for i in range(n)]
    figure = plot_progress(history_from_attempts(attempts))
    FigureCanvasAgg(figure).draw()
    axis = figure.axes[3]  # bottom row
    ticks = [t for t in axis.get_xticks() if axis.get_xlim()[0] <= t <= axis.get_xlim()[1]]
    assert all(float(t).is_integer() for t in ticks) and 1 <= len(ticks) <= 12
    renderer = figure.canvas.get_renderer()
    for panel in figure.axes:
        title = panel.title.get_window_extent(renderer)
        for text in panel.texts:  # the latest score's label stays below the title
            assert not text.get_window_extent(renderer).overlaps(title)
    legend = figure.legends[0].get_window_extent(renderer)
    assert not any(legend.overlaps(panel.get_window_extent(renderer)) for panel in figure.axes)


def test_a_skill_left_unscored_keeps_the_attempt_numbers_of_the_others():
    """Prosody is not scored against a typed text: its dots stay at their attempt numbers (a gap where it
    was not scored), not squeezed to the left of the shared axis."""
    attempts = [{"id": i + 1, "created_at": float(i),
                 "scores": {s: 50.0 for s in SCORES if s != "prosody" or i % 3}} for i in range(9)]
    figure = plot_progress(history_from_attempts(attempts))
    panels = {ax.get_title(): ax for ax in figure.axes}
    assert list(panels["overall"].lines[0].get_xdata()) == list(range(1, 10))
    assert list(panels["prosody"].lines[0].get_xdata()) == [2, 3, 5, 6, 8, 9]


def test_the_progress_table_never_shows_minus_zero():
    """A change of -0.4 points reads +0, not -0."""
    from speaksphere.coach.explain import describe_progress

    row = {"skill": "overall", "attempts": 6, "first": 80.4, "latest": 80.0, "best": 99.0, "change": -0.4,
           "trend": 0.0}
    assert "| overall | 6 | 80 | 80 | 99 | +0 |" in describe_progress([row], 6)

"""A learner's progress: per-skill score history as data, a summary table and plots for the app.

Plots are built on matplotlib.figure.Figure, never pyplot: pyplot keeps global state that is not
safe in the app's worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .store import SCORES, SKILLS, LearnerStore

__all__ = ["SkillSeries", "least_squares_slope", "skill_history", "history_from_attempts", "progress_summary",
           "plot_progress", "points", "weakest_skill", "Selection", "select_practice", "PRACTICE_REQUESTS",
           "SPEAKING_SCORES", "SMOOTHING_ATTEMPTS", "TREND_ATTEMPTS"]

SMOOTHING_ATTEMPTS = 3  # the moving average over 3 attempts: one reading varies by several points
TREND_ATTEMPTS = 6  # the recent trend is the least-squares slope over the last 6 attempts
PRACTICE_REQUESTS = ("pronounce", "compare", "speak")  # scored practice; "analyze" rows are analyses
# Speak attempts (free speech, no reference) are their own kind: their own series and chart line, named
# apart, beside the reading attempts' skill of the same meaning (their pronunciation is kept as accuracy)
SPEAKING_SCORES = {"accuracy": "speaking: pronunciation", "fluency": "speaking: fluency",
                   "overall": "speaking: overall"}


def points(value: float) -> int:
    """A score as every table, chart and tip shows it: the summary's one-decimal value rounded to a whole
    point (91.45 -> 91.5 -> 92, everywhere: the chart once said 91 where the table said 92)."""
    return round(round(float(value), 1))


@dataclass(frozen=True)
class Selection:
    """Which of a learner's attempts Progress shows: one language, and in it all or one phrase."""

    language: str | None  # ISO 639-1; None before any scored attempt
    item: str  # the phrase's text (each exercise reads one), "" for every phrase of the language
    languages: tuple[str, ...] = ()  # the languages practised, most recent first
    items: tuple[str, ...] = ()  # the phrases practised in `language`, most recent first
    attempts: list[dict] = field(default_factory=list)  # the selected attempts, oldest first


def select_practice(attempts: list[dict], language: str | None = None, item: str | None = None) -> Selection:
    """The practice attempts (scored pronunciation and comparison attempts; analyses are left out) of
    `language` (None or "": the latest practised) and of the phrase `item` (None or "": every phrase),
    from `attempts` as `LearnerStore.history` returns them. A language or phrase not practised selects
    nothing."""
    practice = [a for a in attempts if a["task"] in PRACTICE_REQUESTS and a["scores"]]
    languages = tuple(dict.fromkeys(a["language"] for a in reversed(practice) if a["language"]))
    language = language or (languages[0] if languages else None)
    in_language = [a for a in practice if a["language"] == language]
    items = tuple(dict.fromkeys(a["reference_text"] for a in reversed(in_language) if a["reference_text"]))
    item = item or ""
    chosen = [a for a in in_language if not item or a["reference_text"] == item]
    return Selection(language, item, languages, items, chosen)


def weakest_skill(summary: list[dict]) -> dict | None:
    """The row of `progress_summary` with the lowest latest score as shown (`points`), None if none is scored."""
    scored = [row for row in summary if row["skill"] in SKILLS and row["latest"] is not None]
    return min(scored, key=lambda row: points(row["latest"])) if scored else None


def least_squares_slope(values) -> float:
    """Slope of `values` (n,) against their index, in units per step; 0 for fewer than 2 values."""
    n = len(values)
    if n < 2:
        return 0.0
    centre_x, mean_y = (n - 1) / 2.0, sum(values) / n
    covariance = sum((i - centre_x) * (y - mean_y) for i, y in enumerate(values))
    return float(covariance / sum((i - centre_x) ** 2 for i in range(n)))


@dataclass(frozen=True)
class SkillSeries:
    """The scores of one skill over a learner's attempts, oldest first."""

    skill: str
    attempt_ids: np.ndarray  # (n,) int
    times: np.ndarray  # (n,) float, seconds since the Unix epoch (UTC)
    scores: np.ndarray  # (n,) float, 0-100

    def __len__(self) -> int:
        return len(self.scores)

    def smoothed(self, window: int = SMOOTHING_ATTEMPTS) -> np.ndarray:
        """Moving average (n,) over the last `window` attempts (fewer at the start)."""
        end = np.arange(1, len(self) + 1)
        start = np.maximum(end - window, 0)
        cumulative = np.concatenate([[0.0], np.cumsum(self.scores)])
        return (cumulative[end] - cumulative[start]) / (end - start)

    def trend(self, attempts: int = TREND_ATTEMPTS) -> float:
        """Points per attempt: least-squares slope over the last `attempts` scores (0 for fewer than 2)."""
        return least_squares_slope(self.scores[-attempts:].tolist())


def history_from_attempts(attempts: list[dict]) -> dict[str, SkillSeries]:
    """Per score name (SCORES order), its series of reading attempts from `attempts` as
    `LearnerStore.history` returns them; then, where there are Speak attempts, their own series under
    SPEAKING_SCORES' names ("speaking: fluency", ...)."""
    def series(name: str, skill: str, chosen: list[dict]) -> SkillSeries:
        scored = [a for a in chosen if skill in a["scores"]]
        return SkillSeries(name, np.array([a["id"] for a in scored], dtype=np.int64),
                           np.array([a["created_at"] for a in scored], dtype=np.float64),
                           np.array([a["scores"][skill] for a in scored], dtype=np.float64))

    reading = [a for a in attempts if a.get("task") != "speak"]
    speaking = [a for a in attempts if a.get("task") == "speak"]
    history = {skill: series(skill, skill, reading) for skill in SCORES}
    if speaking:
        history.update({name: series(name, skill, speaking) for skill, name in SPEAKING_SCORES.items()})
    return history


def skill_history(store: LearnerStore, learner_id: str) -> dict[str, SkillSeries]:
    """The learner's history per score name; raises LearnerError for a malformed or unknown id."""
    return history_from_attempts(store.history(learner_id))


def progress_summary(history: dict[str, SkillSeries]) -> list[dict]:
    """One row per score name for a table: "skill", "attempts", "first", "latest" (smoothed), "best",
    "change" (latest - first, both smoothed) and "trend" (points per attempt); None where unscored."""
    rows = []
    for skill, series in history.items():
        if len(series) == 0:
            rows.append({"skill": skill, "attempts": 0, "first": None, "latest": None, "best": None,
                         "change": None, "trend": None})
            continue
        smoothed = series.smoothed()
        first = float(series.scores[:SMOOTHING_ATTEMPTS].mean())
        rows.append({"skill": skill, "attempts": len(series), "first": round(first, 1),
                     "latest": round(float(smoothed[-1]), 1), "best": round(float(series.scores.max()), 1),
                     "change": round(float(smoothed[-1]) - first, 1), "trend": round(series.trend(), 2)})
    return rows


def plot_progress(history: dict[str, SkillSeries], title: str = "Your progress") -> Figure:
    """Small multiples, one panel per score: each attempt's score (dots) and the moving average (line)
    against the attempt number; the x axis is attempts, not dates, so a busy day does not squash."""
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    axes = figure.subplots(2, 3, sharex=True, sharey=True)
    every_id = np.unique(np.concatenate([s.attempt_ids for s in history.values() if s is not None] or [[]]))
    figure.suptitle(title)
    for ax, skill in zip(axes.flat, SCORES):
        series = history.get(skill)
        ax.set_title(skill)
        ax.set_ylim(0, 112)  # room above 100 for the latest score's label, under the panel's title
        ax.set_yticks(range(0, 101, 20))
        ax.grid(alpha=0.3)
        if series is None or len(series) == 0:
            empty = "no attempts yet"
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes, color="gray")
            continue
        number = np.searchsorted(every_id, series.attempt_ids) + 1  # a skill left unscored leaves a gap
        ax.plot(number, series.scores, "o", alpha=0.35, markersize=4, label="attempt")
        ax.plot(number, series.smoothed(), "-", linewidth=2, label=f"mean of last {SMOOTHING_ATTEMPTS}")
        ax.annotate(f"{points(series.smoothed()[-1])}", (number[-1], series.smoothed()[-1]), xytext=(-3, 6),
                    textcoords="offset points", ha="right", fontsize="small")  # inside the panel, not cut off
    for skill, name in SPEAKING_SCORES.items():  # free speech: its own line in the panel of the same meaning
        series = history.get(name)
        if series is None or len(series) == 0:
            continue
        ax = axes.flat[SCORES.index(skill)]
        number = np.searchsorted(every_id, series.attempt_ids) + 1
        ax.plot(number, series.scores, "s", alpha=0.35, markersize=4, color="#e76f51", label="speaking freely (Speak)")
        ax.plot(number, series.smoothed(), "--", linewidth=2, color="#e76f51", label="speaking: mean of last 3")
        ax.annotate(f"{points(series.smoothed()[-1])}", (number[-1], series.smoothed()[-1]), xytext=(-3, -12),
                    textcoords="offset points", ha="right", fontsize="small", color="#e76f51")
    attempts = len(every_id)
    for ax in axes[-1]:
        ax.set_xlabel("attempt number")
        ax.set_xlim(0.5, max(attempts, 1) + 0.5)  # one attempt: one tick "1", not 0.945, 0.960, ...
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # attempt 1, 2, 3: never 1.4
    for ax in axes[:, 0]:
        ax.set_ylabel("score (0-100)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    labelled = dict(zip(labels, handles))
    for ax in axes.flat:  # the speaking lines' labels too, each once
        for handle, label in zip(*ax.get_legend_handles_labels()):
            labelled.setdefault(label, handle)
    handles, labels = list(labelled.values()), list(labelled)
    if handles:  # above the panels, where it covers no axis
        figure.legend(handles, labels, loc="outside upper right", fontsize="small", ncols=2)
    return figure


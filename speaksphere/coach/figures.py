"""Figures the app adds to the library's own: what the model heard, and two attempts side by side.

matplotlib.figure.Figure only, never pyplot (the app draws from many threads at once).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..plots import new_figure
from .explain import SKILLS, accent_name, command_name, language_name

__all__ = ["plot_predictions", "plot_comparison"]

_TOP = 5  # bars per question: the rest are too unlikely to read
_PALETTE = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8ab17d", "#6d597a", "#b56576"]


def _bars(axis, probabilities: dict[str, float], title: str, name) -> None:
    top = sorted(probabilities.items(), key=lambda item: -item[1])[:_TOP][::-1]  # most likely on top
    labels = [name(label) for label, _ in top]
    values = [100 * p for _, p in top]
    axis.barh(range(len(top)), values, color="#2a9d8f")
    axis.set_yticks(range(len(top)), labels, fontsize=8)
    axis.set_xlim(0, 100)
    axis.set_xlabel("how likely (%)")
    axis.set_title(title, fontsize=10, loc="left")
    for row, value in enumerate(values):
        axis.text(min(value + 2, 80), row, f"{value:.0f}%", va="center", fontsize=8)


def plot_predictions(predictions: dict, duration_s: float | None = None) -> Figure:
    """Top: the most likely language of each ~4 s window along the recording's time axis (0 to
    `duration_s` seconds; a last stretch too short to judge has no window).
    Bottom: the most likely answers (in %) for language, accent, emotion and voice command."""
    tasks = [t for t in ("language", "accent", "emotion", "command") if t in predictions]
    figure = new_figure(11, 6.5, left=2.1, top=0.3, wspace=0.75, hspace=0.7)
    grid = [tasks[i : i + 2] + ["."] * (2 - len(tasks[i : i + 2])) for i in range(0, len(tasks), 2)]
    axes = figure.subplot_mosaic([["windows", "windows"]] + grid, height_ratios=[0.8] + [2] * len(grid),
                                 empty_sentinel=".")
    timeline = axes["windows"]
    windows = [w for w in predictions.get("windows", []) if "language" in w]
    labels = sorted({max(w["language"], key=w["language"].get) for w in windows})
    colours = {label: _PALETTE[i % len(_PALETTE)] for i, label in enumerate(labels)}
    span = max([duration_s or 0.0] + [w["end"] for w in windows]) or 1.0
    for w in windows:
        label = max(w["language"], key=w["language"].get)
        timeline.barh(0, w["end"] - w["start"], left=w["start"], color=colours[label], edgecolor="white")
        if (w["end"] - w["start"]) / span > 0.03:  # a label that fits in its window (no overlap at 5 min)
            timeline.text((w["start"] + w["end"]) / 2, 0, f"{100 * w['language'][label]:.0f}%",
                          ha="center", va="center", color="white", fontsize=8)
    if colours:  # the colour of each language, named
        timeline.legend([Patch(color=c) for c in colours.values()], [language_name(code) for code in colours],
                        fontsize=8, ncols=min(len(colours), 5), loc="lower right", bbox_to_anchor=(1.0, 1.0),
                        frameon=False)
    timeline.set_yticks([])
    timeline.set_xlabel("time in the recording (s)")
    timeline.set_title("Language of each ~4-s window (colour: most likely; %: how likely)", fontsize=10, loc="left")
    if windows or duration_s:
        timeline.set_xlim(0, duration_s or max(w["end"] for w in windows))
    names = {"language": ("Language", language_name), "accent": ("Accent (English speech)", accent_name),
             "emotion": ("Emotion", str), "command": ("Voice command (single words)", command_name)}
    for task in tasks:
        title, name = names[task]
        _bars(axes[task], predictions[task], title, name)
    return figure


def plot_comparison(comparison: dict) -> Figure:
    """Left: each score of attempts A and B side by side (0-100). Right: each word's score in A and B
    overlaid along the sentence (when the text is known)."""
    a, b = comparison["a"], comparison["b"]
    words = comparison["words"]
    figure = new_figure(11, 3.8, left=0.7, bottom=1.3, top=0.45, wspace=0.15)
    skills_axis, words_axis = figure.subplots(1, 2, width_ratios=[1, 1.6])
    names = ("overall",) + SKILLS
    x = np.arange(len(names))
    skills_axis.bar(x - 0.2, [a[s] for s in names], 0.4, label="attempt A", color="#9db4c0")
    skills_axis.bar(x + 0.2, [b[s] for s in names], 0.4, label="attempt B", color="#2a9d8f")
    skills_axis.set_xticks(x, names, rotation=30, fontsize=8)
    skills_axis.set_ylim(0, 100)
    skills_axis.set_ylabel("score (0-100)")
    skills_axis.set_title("Scores: A and B", fontsize=10, loc="left")
    skills_axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=2)
    if words:
        positions = np.arange(len(words))
        words_axis.plot(positions, [w["a"] for w in words], "o-", label="attempt A", color="#9db4c0")
        words_axis.plot(positions, [w["b"] for w in words], "o-", label="attempt B", color="#2a9d8f")
        words_axis.set_xticks(positions, [w["word"] for w in words], rotation=45, fontsize=8, ha="right")
        words_axis.set_ylim(0, 100)
        words_axis.set_ylabel("word score (0-100)")
        words_axis.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 1.16), ncols=2)
        words_axis.set_title("Each word in A and B", fontsize=10, loc="left")
    else:
        words_axis.axis("off")
        words_axis.text(0.5, 0.5, "Word scores need the text of the phrase", ha="center", va="center", color="gray")
    return figure

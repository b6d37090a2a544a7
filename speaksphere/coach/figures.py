"""Figures the app adds to the library's own: what the model heard, and two attempts side by side.

The language timeline is a picture drawn from arrays (speaksphere.pictures); the comparison is a
matplotlib.figure.Figure, never pyplot (the app draws from many threads at once).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from ..pictures import Sheet, rgb
from ..plots import new_figure
from .explain import SKILLS, accent_name, command_name, language_name

__all__ = ["plot_predictions", "answer_labels", "plot_comparison"]

_PALETTE = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8ab17d", "#6d597a", "#b56576", "#4895ef",
            "#9d0208", "#7f5539", "#adb5bd"]  # one colour for each language the model knows (9) and some


def plot_predictions(predictions: dict, duration_s: float | None = None) -> Image.Image:
    """The most likely language of each ~4-s window along the recording's time axis (0 to `duration_s`
    seconds), coloured by language (named in the legend) with how likely it is (%); a last stretch too
    short to judge has no window. A picture drawn from arrays (speaksphere.pictures). The answers to
    each question are `answer_labels`, shown by the app's own label components."""
    windows = [w for w in predictions.get("windows", []) if "language" in w]
    seconds = duration_s or max([w["end"] for w in windows] + [1.0])
    sheet = Sheet(seconds, title="Language of each ~4-s window: colour = most likely, % = how likely")
    tops = [max(w["language"], key=w["language"].get) for w in windows]
    colours = {label: rgb(_PALETTE[i % len(_PALETTE)]) for i, label in enumerate(sorted(set(tops)))}
    sheet.legend = [(colour, language_name(label)) for label, colour in colours.items()]
    strip = np.full((1, sheet.inner, 3), 235, dtype=np.uint8)
    panel = sheet.add(strip, 44)
    for window, label in zip(windows, tops):
        sheet.shade(panel, window["start"], window["end"], colours[label], 1.0)
        sheet.mark(panel, window["start"])
        sheet.label(panel, window["start"], f"{100 * window['language'][label]:.0f}%")
    return sheet.draw()


def answer_labels(predictions: dict) -> dict[str, dict[str, float]]:
    """Each question's answers by their names ("French (fr)", "English with a German first language",
    ...): probability 0-1, the form gradio's Label component shows as bars. The accent only for English."""
    names = {"language": language_name, "accent": accent_name, "emotion": str, "command": command_name}
    english = "language" in predictions and max(predictions["language"], key=predictions["language"].get) == "en"
    return {task: {names[task](label): float(p) for label, p in predictions[task].items()}
            for task in names if task in predictions and (task != "accent" or english)}


def plot_comparison(comparison: dict) -> Figure:
    """Left: each score of attempts A and B side by side (0-100). Right: each word's score in A and B
    overlaid along the sentence (when the text is known)."""
    a, b = comparison["a"], comparison["b"]
    words = comparison["words"]
    figure = new_figure(11, 3.8, left=0.7, bottom=1.3, top=0.45, wspace=0.15)
    skills_axis, words_axis = figure.subplots(1, 2, width_ratios=[1, 1.6])
    names = ("overall",) + SKILLS
    x = np.arange(len(names))
    def heights(result: dict) -> list[float]:  # a skill not scored draws no bar
        return [np.nan if result[s] is None else result[s] for s in names]

    skills_axis.bar(x - 0.2, heights(a), 0.4, label="attempt A", color="#9db4c0")
    skills_axis.bar(x + 0.2, heights(b), 0.4, label="attempt B", color="#2a9d8f")
    unscored = set(a.get("not_scored", {})) | set(b.get("not_scored", {}))
    skills_axis.set_xticks(x, [f"{s}\n(not scored)" if s in unscored else s for s in names], rotation=30, fontsize=8)
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
        another = comparison.get("another_sentence") or []
        reason = ("Words not compared: " + (" and ".join(f"attempt {a}" for a in another)) + " sounds like another "
                  "sentence" if another else "Word scores need the text of the phrase")
        words_axis.text(0.5, 0.5, reason, ha="center", va="center", color="gray")
    return figure

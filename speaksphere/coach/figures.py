"""Figures the app adds to the library's own: what the model heard, and two attempts side by side.

The language timeline is a picture drawn from arrays (speaksphere.figures); the comparison is a
matplotlib.figure.Figure, never pyplot (the app draws from many threads at once).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from ..figures import Sheet, new_figure, rgb
from ..skills import RESULT_SCORES
from .explain import ABSTAINING, accent_applies, accent_name, command_name, language_name, sure_label

__all__ = ["plot_predictions", "answer_labels", "plot_comparison"]

_A_COLOUR, _B_COLOUR = "#9db4c0", "#2a9d8f"  # attempt A (earlier): pale; B (later): strong

_PALETTE = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8ab17d", "#6d597a", "#b56576", "#4895ef",
            "#9d0208", "#7f5539", "#adb5bd"]  # one colour for each language the model knows (9) and some


def plot_predictions(predictions: dict, duration_s: float | None = None) -> Image.Image:
    """The most likely language of each ~4-s window along the recording's time axis (0 to `duration_s`
    seconds), coloured by language (named in the legend) with how likely it is (%); a last stretch too
    short to judge has no window. A picture drawn from arrays (speaksphere.figures). The answers to
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
    """Each question's answers by their names ("French (fr)", "English with a German accent",
    ...): probability 0-1, the form gradio's Label component shows as bars. The accent only for English."""
    names = {"language": language_name, "accent": accent_name, "emotion": str, "command": command_name}
    found = {task: {names[task](label): float(p) for label, p in predictions[task].items()}
             for task in names if task in predictions and (task != "accent" or accent_applies(predictions))}
    for task in ABSTAINING:  # the headline of an answer under 50% says so: "not sure (perhaps sad)"
        if task in found and sure_label(predictions[task]) is None:
            top = max(found[task], key=found[task].get)
            found[task] = {(f"not sure (perhaps {top})" if label == top else label): p
                           for label, p in found[task].items()}
    return found


def plot_comparison(comparison: dict) -> Figure:
    """Left: each score of attempts A and B as horizontal bars with their values (0-100). Right, when
    the words were compared: each word's score in A and B along the sentence. When they were not (a
    text unknown, or an attempt of another sentence), the reason in their place."""
    a, b = comparison["a"], comparison["b"]
    words = comparison["words"]
    # always the full width, with the words on the right or, when they were not compared, why not: a
    # narrower figure of the scores alone was drawn small in the app's full-width box
    # 100 dpi: 1,200 pixels, the width of the app's box (at 72 dpi its 9-pt labels were drawn 9 px high)
    figure = new_figure(12, 4.2, left=1.5, bottom=0.95, top=0.75, dpi=100, wspace=0.25)
    skills_axis, words_axis = figure.subplots(1, 2, width_ratios=[1, 1.5])
    unscored = set(a.get("not_scored", {})) | set(b.get("not_scored", {}))
    names = RESULT_SCORES
    y = np.arange(len(names))[::-1]  # overall at the top
    for result, offset, label, colour in ((a, 0.2, "attempt A", _A_COLOUR), (b, -0.2, "attempt B", _B_COLOUR)):
        values = [np.nan if result[s] is None else result[s] for s in names]  # a skill not scored draws no bar
        skills_axis.barh(y + offset, values, 0.4, label=label, color=colour)
        for row, value in zip(y, values):
            if not np.isnan(value):  # the value at the bar's end: inside it (white) when there is no room after
                inside = value > 85
                skills_axis.text(value - 1 if inside else value + 1, row + offset, f"{value:.0f}", va="center",
                                 ha="right" if inside else "left", fontsize=9, color="white" if inside else "black")
    skills_axis.set_yticks(y, [f"{s}\n(not scored)" if s in unscored else s for s in names], fontsize=10)
    skills_axis.set_xlim(0, 100)
    skills_axis.set_xlabel("score (0-100; higher is better)")
    skills_axis.set_title("Scores of A and B", fontsize=11, loc="left", pad=22)
    skills_axis.legend(fontsize=9, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False,
                       borderaxespad=0.1)
    if not words:
        another = comparison.get("another_sentence") or []
        who = " and ".join(f"attempt {x}" for x in another) + (" sound" if len(another) > 1 else " sounds")
        reason = (f"Words not compared:\n{who} like\nanother sentence than the reference" if another
                  else "Words not compared:\nword scores need the text\nof the phrase")
        words_axis.axis("off")
        words_axis.text(0.5, 0.5, reason, ha="center", va="center", fontsize=12, color="#555555",
                        transform=words_axis.transAxes, linespacing=1.6)
        return figure
    positions = np.arange(len(words))
    words_axis.plot(positions, [w["a"] for w in words], "o-", label="attempt A", color=_A_COLOUR)
    words_axis.plot(positions, [w["b"] for w in words], "o-", label="attempt B", color=_B_COLOUR)
    words_axis.set_xticks(positions, [w["word"] for w in words], rotation=45 if len(words) > 8 else 0,
                          fontsize=9, ha="right" if len(words) > 8 else "center")
    words_axis.set_ylim(0, 100)
    words_axis.set_ylabel("word score (0-100)")
    words_axis.grid(axis="y", alpha=0.3)
    words_axis.set_title("Each word in A and B", fontsize=11, loc="left", pad=22)
    return figure

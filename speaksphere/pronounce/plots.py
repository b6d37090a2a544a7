"""Figures of an Assessment: matplotlib.figure.Figure only (never pyplot: the app is multi-threaded).

- spectrograms: reference and attempt side by side, aligned segments marked, the worst shaded;
- dtw_path: the path over the cost matrix;
- pitch: the two pitch contours overlaid, the attempt warped onto the reference's time axis;
- word_table: the words coloured by score (red 0 .. green 100), with their miscue.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from ..audio import FRAME_RATE, log_mel_spectrogram
from ..plots import new_figure
from .assess import Assessment

__all__ = ["MISCUE_NAMES", "spectrograms", "dtw_path", "pitch", "word_table", "all_figures"]

MISCUE_NAMES = {"omission": "left out", "mispronunciation": "unclear", "insertion": "extra sound"}  # learner's words
_CHAR_IN = 0.075  # inches a character of an 8-point label takes (DejaVu Sans, average)
_WORDS_PER_ROW = 8  # the word table wraps after this many words

SCORE_COLOURS = LinearSegmentedColormap.from_list("score", ["#d7301f", "#fdae61", "#1a9850"])  # 0 red .. 100 green


def _shade(axis, start: float, end: float, score: float, worst: bool) -> None:
    axis.axvspan(start, end, color=SCORE_COLOURS(score / 100.0), alpha=0.45 if worst else 0.12, lw=0)
    axis.axvline(start, color="white", lw=0.6, alpha=0.7)


def spectrograms(assessment: Assessment, n_worst: int = 3) -> Figure:
    """Reference (top) and attempt (bottom) log-mel spectrograms with aligned segments; worst shaded."""
    ref, att = assessment.ref, assessment.att
    segments = [s for s in assessment.result["segments"]]
    worst = {id(s) for s in sorted(segments, key=lambda s: s["score"])[:n_worst] if s["flag"]}
    figure = new_figure(11, 5.5, left=0.7, top=0.35, hspace=0.3)
    top, bottom = figure.subplots(2, 1)
    for axis, analysis, title in ((top, ref, "Reference"), (bottom, att, "Your attempt")):
        mel = log_mel_spectrogram(analysis.wave)
        seconds = mel.shape[1] / FRAME_RATE
        axis.imshow(mel, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, mel.shape[0]),
                    interpolation="nearest")
        axis.set_ylabel("frequency (mel bands)")
        axis.set_title(title, loc="left")
    bottom.set_xlabel("time (s)")
    top_labels, bottom_labels = [], []
    for unit, segment in zip(assessment.units, (s for s in segments if s["miscue"] != "insertion")):
        is_worst = id(segment) in worst
        _shade(top, unit.ref_start / FRAME_RATE, unit.ref_end / FRAME_RATE, segment["score"], is_worst)
        top_labels.append((unit.ref_start / FRAME_RATE, segment["label"]))
    for segment in segments:
        start, end = segment["start"] - att.offset_s, segment["end"] - att.offset_s
        _shade(bottom, start, end, segment["score"], id(segment) in worst)
        bottom_labels.append((start, segment["label"]))
    for axis, labels in ((top, top_labels), (bottom, bottom_labels)):
        _label_without_overlap(axis, labels, axis.get_xlim()[1], width_in=figure.get_figwidth() - 0.95)
    return figure


def _label_without_overlap(axis, labels: list[tuple[float, str]], seconds: float, width_in: float) -> None:
    """Write each (start s, text) label at its start, on the first of two lines where it does not run
    into the previous label; a label with room on neither line is left out (its shading stays)."""
    s_per_in = max(seconds, 1e-6) / width_in
    line_end = [-np.inf, -np.inf]  # where the last label of each line ends (s)
    for start, text in sorted(labels):
        width_s = (len(text) + 1) * _CHAR_IN * s_per_in
        for line, y in enumerate((76, 66)):
            if start >= line_end[line]:
                axis.text(start, y, text, color="white", fontsize=8, va="top", clip_on=True)
                line_end[line] = start + width_s
                break


def dtw_path(assessment: Assessment) -> Figure:
    """The frame-distance matrix with the optimal warping path drawn over it."""
    figure = new_figure(6, 5.5, left=0.7, right=0.1)
    axis = figure.subplots()
    cost = assessment.cost
    # the extent comes from the frame counts: the matrix may be thinned (Assessment.for_figures)
    image = axis.imshow(cost, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest",
                        extent=(0, len(assessment.att.features) / FRAME_RATE, 0, len(assessment.ref.features) / FRAME_RATE))
    path = assessment.alignment.path / FRAME_RATE
    axis.plot(path[:, 1], path[:, 0], color="white", lw=1.2)
    axis.set_xlabel("attempt (s)")
    axis.set_ylabel("reference (s)")
    axis.set_title(f"Alignment path, mean difference {assessment.result['details']['dtw_cost']:.3f}")
    figure.colorbar(image, ax=axis, label="how different the sounds are (0 = identical)")
    return figure


def pitch(assessment: Assessment) -> Figure:
    """Pitch contours (semitones re each speaker's median) on the reference's time axis."""
    ref, att = assessment.ref, assessment.att
    path = assessment.alignment.path
    warped = np.full(len(ref.pitch), np.nan)
    for i in range(len(ref.pitch)):  # attempt pitch averaged over the frames aligned to reference frame i
        columns = path[path[:, 0] == i, 1]
        values = att.pitch[np.minimum(columns, len(att.pitch) - 1)]
        values = values[np.isfinite(values)]
        if values.size:
            warped[i] = values.mean()
    seconds = np.arange(len(ref.pitch)) / FRAME_RATE
    figure = new_figure(11, 3.2, left=0.7, top=0.35)
    axis = figure.subplots()
    axis.plot(seconds, ref.pitch, label="reference", color="#2166ac", lw=2)
    axis.plot(seconds, warped, label="your attempt (aligned)", color="#b2182b", lw=1.5)
    axis.set_xlabel("reference time (s)")
    axis.set_ylabel("semitones from each voice's usual pitch")
    axis.set_title(f"Pitch contour, correlation {assessment.result['details']['pitch_correlation']:.2f}", loc="left")
    axis.legend(loc="upper right")
    return figure


def word_table(assessment: Assessment) -> Figure:
    """Words (or segments) as a table coloured by score (0-100), with what went wrong with each, in
    rows of at most _WORDS_PER_ROW words."""
    rows = assessment.result.get("words") or assessment.result["segments"]
    chunks = [rows[i : i + _WORDS_PER_ROW] for i in range(0, len(rows), _WORDS_PER_ROW)] or [[]]
    figure = new_figure(11, 1.25 * len(chunks) + 0.2, left=1.0, right=0.1, bottom=0.1, top=0.1, hspace=0.25)
    for axis, chunk in zip(np.atleast_1d(figure.subplots(len(chunks), 1)), chunks):
        axis.axis("off")
        if not chunk:
            continue
        labels = [r.get("word") or r.get("label") or "(extra)" for r in chunk]
        cells = [[f"{r['score']:.0f}" for r in chunk], [MISCUE_NAMES.get(r.get("miscue"), "") for r in chunk]]
        width = len(chunk) / _WORDS_PER_ROW
        table = axis.table(cellText=cells, colLabels=labels, rowLabels=["score", "problem"],
                           loc="upper left", cellLoc="center", bbox=(0, 0, width, 1))
        for column, r in enumerate(chunk):
            for row in (1, 2):
                table[row, column].set_facecolor(SCORE_COLOURS(r["score"] / 100.0))
        table.auto_set_font_size(False)
        table.set_fontsize(12)
    return figure


def all_figures(assessment: Assessment) -> dict[str, Figure]:
    """The four figures, by name."""
    return {"spectrograms": spectrograms(assessment), "dtw_path": dtw_path(assessment),
            "pitch": pitch(assessment), "word_table": word_table(assessment)}

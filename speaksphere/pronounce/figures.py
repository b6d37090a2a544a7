"""Figures of an Assessment, each in the form that draws fastest for the same picture:

- spectrograms: reference and attempt on one time axis, each word named and shaded by its score
  (a picture drawn from arrays, speaksphere.figures);
- dtw_path: the alignment path over the frame-difference matrix (a picture from arrays);
- pitch: the two pitch contours overlaid, the attempt warped onto the reference's time axis (a
  picture from arrays);
- word_table: the words coloured by score (speaksphere.figures.score_colour), with their miscue (HTML).
"""

from __future__ import annotations

import html

import numpy as np
from PIL import Image

from ..audio import FRAME_RATE, log_mel_spectrogram
from ..figures import HIGH_SCORE, LOW_SCORE, Sheet, colourise, rgb, score_colour
from .assess import Assessment

__all__ = ["MISCUE_NAMES", "spectrograms", "dtw_path", "pitch", "word_table", "all_figures"]

MISCUE_NAMES = {"omission": "left out", "mispronunciation": "unclear", "insertion": "extra sound"}  # learner's words


def spectrograms(assessment: Assessment, n_worst: int = 3) -> Image.Image:
    """Reference (top) and attempt (bottom) log-mel spectrograms on one time axis, each word (or stretch)
    named at its start and shaded in its score's colour; the `n_worst` flagged ones shaded strongly."""
    ref, att = assessment.ref, assessment.att
    segments = list(assessment.result["segments"])
    worst = {id(s) for s in sorted(segments, key=lambda s: s["score"])[:n_worst] if s["flag"]}
    mels = [log_mel_spectrogram(analysis.wave) for analysis in (ref, att)]
    frames = max(mel.shape[1] for mel in mels)
    sheet = Sheet(frames / FRAME_RATE, title="Reference (top) and your attempt (bottom): each word at its start")
    sheet.legend = [(LOW_SCORE, "low score"), (HIGH_SCORE, "high score (weakest words shaded strongly)")]
    panels = []
    for mel, name in zip(mels, ("reference", "your attempt")):
        padded = np.pad(mel, ((0, 0), (0, frames - mel.shape[1])), constant_values=-80.0)
        panels.append(sheet.add(colourise(padded, "magma", -80, 0), 150, f"{name}: frequency (low to high)", flip=True))
    for segment in segments:  # each reference word by its own index (segments run in the attempt's order)
        if segment.get("index") is not None and segment["index"] < len(assessment.units):
            unit = assessment.units[segment["index"]]
            _shade(sheet, panels[0], unit.ref_start / FRAME_RATE, unit.ref_end / FRAME_RATE, segment,
                   id(segment) in worst)
    for segment in segments:
        start, end = segment["start"] - att.offset_s, segment["end"] - att.offset_s
        _shade(sheet, panels[1], start, end, segment, id(segment) in worst)
    return sheet.draw()


def _shade(sheet: Sheet, panel: int, start: float, end: float, segment: dict, worst: bool) -> None:
    colour = score_colour(segment["score"])
    sheet.shade(panel, start, end, colour, 0.45 if worst else 0.15)
    sheet.mark(panel, start)
    sheet.label(panel, start, segment["label"])


def dtw_path(assessment: Assessment) -> Image.Image:
    """How the attempt was aligned with the reference: the frame-difference matrix (reference time
    upwards, attempt time along the axis; dark = similar) with the alignment path in white."""
    cost = np.asarray(assessment.cost, dtype=np.float32)  # may be thinned (Assessment.for_figures)
    n_ref, n_att = len(assessment.ref.features), len(assessment.att.features)
    step_r, step_a = max(1, round(n_ref / max(cost.shape[0], 1))), max(1, round(n_att / max(cost.shape[1], 1)))
    finite = cost[np.isfinite(cost)]
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    # far from the path a long alignment is not computed (NaN): light grey, not "similar"
    picture = colourise(cost, "viridis", 0.0, top if top > 0 else 1.0, missing=(225, 225, 225))
    path = assessment.alignment.path
    rows = np.clip(path[:, 0] // step_r, 0, cost.shape[0] - 1)
    columns = np.clip(path[:, 1] // step_a, 0, cost.shape[1] - 1)
    for dr, dc in ((0, 0), (1, 0), (0, 1)):  # a path two cells thick survives the resize
        picture[np.clip(rows + dr, 0, cost.shape[0] - 1), np.clip(columns + dc, 0, cost.shape[1] - 1)] = 255
    details = assessment.result["details"]
    sheet = Sheet(n_att / FRAME_RATE, width=640, xlabel="your attempt's time (s)",
                  title=f"Alignment: mean difference {details['dtw_cost']:.3f} (0 = identical)")
    sheet.legend = [((255, 255, 255), "alignment path"), (rgb("#440154"), "similar sounds"),
                    (rgb("#fde725"), "different"), ((225, 225, 225), "not compared (far from the path)")]
    sheet.add(picture, 320, f"reference time, upwards: 0 to {n_ref / FRAME_RATE:.1f} s", flip=True)
    return sheet.draw()


def pitch(assessment: Assessment) -> Image.Image:
    """Pitch contours in semitones from each voice's usual (median) pitch, on the reference's time axis:
    the reference's, and the attempt's warped onto it along the alignment path (a picture from arrays)."""
    ref, att = assessment.ref, assessment.att
    path = assessment.alignment.path
    # the attempt's pitch averaged over the frames aligned to each reference frame (NaN where unvoiced)
    if len(ref.pitch) == 0 or len(att.pitch) == 0 or len(path) == 0:
        return Sheet(1.0, title="Your melody against the reference's: no pitch to compare").draw()
    rows = np.minimum(path[:, 0], len(ref.pitch) - 1)
    values = att.pitch[np.minimum(path[:, 1], len(att.pitch) - 1)]
    voiced = np.isfinite(values)
    counts = np.bincount(rows[voiced], minlength=len(ref.pitch))
    sums = np.bincount(rows[voiced], weights=values[voiced], minlength=len(ref.pitch))
    warped = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    seconds = np.arange(len(ref.pitch)) / FRAME_RATE
    correlation = assessment.result["details"]["pitch_correlation"]
    sheet = Sheet(max(len(ref.pitch), 1) / FRAME_RATE, xlabel="the reference's time (s)",
                  title=f"Your melody against the reference's (how alike: correlation {correlation:.2f}, "
                        "1 = same shape)")
    reference_colour, attempt_colour = rgb("#2166ac"), rgb("#b2182b")
    sheet.legend = [(reference_colour, "reference"), (attempt_colour, "your attempt, aligned with the reference")]
    sheet.add_curves([(seconds, ref.pitch, reference_colour, 3), (seconds, warped, attempt_colour, 2)], 180,
                     "semitones above (+) or below (-) each voice's usual pitch", (-12.0, 12.0), (-12, -6, 0, 6, 12))
    return sheet.draw()


def word_table(assessment: Assessment) -> str:
    """The words (or stretches of speech) as HTML cards in reading order, each coloured by its score
    (0-100, red to green) with what went wrong with it; the cards wrap to the page's width."""
    rows = assessment.result.get("words") or assessment.result["segments"]
    cards = []
    for row in rows:
        red, green, blue = score_colour(row["score"])
        word = html.escape(row.get("word") or row.get("label") or "(extra)")
        problem = html.escape(MISCUE_NAMES.get(row.get("miscue"), "")) or "&nbsp;"
        cards.append(f'<div style="background:rgb({red},{green},{blue});color:#111;border-radius:6px;'
                     f'padding:6px 10px;min-width:64px;text-align:center">'
                     f'<div style="font-size:17px;font-weight:600">{word}</div>'
                     f'<div style="font-size:15px">{row["score"]:.0f}</div>'
                     f'<div style="font-size:13px">{problem}</div></div>')
    legend = ('<div style="font-size:13px;margin-top:6px">Each word: its score (0-100; red low, green high) and '
              'what went wrong: <i>left out</i>, <i>unclear</i> or <i>extra sound</i>.</div>')
    return f'<div style="display:flex;flex-wrap:wrap;gap:6px">{"".join(cards)}</div>{legend}'


def all_figures(assessment: Assessment) -> dict[str, Image.Image | str]:
    """The four figures, by name (three pictures and the word table's HTML: see the module docstring)."""
    return {"spectrograms": spectrograms(assessment), "dtw_path": dtw_path(assessment),
            "pitch": pitch(assessment), "word_table": word_table(assessment)}

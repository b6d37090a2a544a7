"""The picture of a free-speech assessment: the recording, its pauses, and each word coloured by score
on one time axis, with the speech rate along the way (a picture drawn from arrays, speaksphere.figures)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..audio import SAMPLE_RATE
from ..figures import HIGH_SCORE, LOW_SCORE, Sheet, envelope, rgb, score_colour
from .measures import MIN_PAUSE_S

__all__ = ["timeline", "rate_curve", "word_html"]

_PAUSE = rgb("#e9c46a")
_RATE_WINDOW_S = 10.0  # seconds: the speech rate is counted over this much time around each point


def rate_curve(words: list[dict], duration_s: float, step_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Words per minute over a sliding window of _RATE_WINDOW_S (shorter at the edges): (times s, wpm)."""
    times = np.arange(0.0, max(duration_s, step_s) + step_s / 2, step_s)
    middles = np.array([(w["start"] + w["end"]) / 2 for w in words]) if words else np.zeros(0)
    half = _RATE_WINDOW_S / 2
    spans = np.minimum(times + half, duration_s) - np.maximum(times - half, 0.0)
    counts = np.array([np.sum(np.abs(middles - t) <= half) for t in times], dtype=np.float64)
    return times, np.where(spans > 0, counts / np.maximum(spans, 1e-9) * 60.0, np.nan)


def timeline(wave: np.ndarray, result: dict) -> Image.Image:
    """wave: float32 (n,), 16 kHz, the recording; result: speak.assess_speech's. Three panels: the
    waveform with pauses shaded, the words coloured by score (score_colour: red 0 .. green 100) and named, the
    speech rate (words a minute)."""
    seconds = len(wave) / SAMPLE_RATE
    sheet = Sheet(seconds, title=f"What you said, word by word ({result['speech_rate_wpm'] or 0:.0f} words a minute; "
                                 f"{result['pauses']} pauses)")
    sheet.legend = [(LOW_SCORE, "word hard to understand"), (HIGH_SCORE, "word clear"),
                    (_PAUSE, f"pause ({1000 * MIN_PAUSE_S:.0f} ms or more)")]
    wave_panel = sheet.add(envelope(wave / max(float(np.abs(wave).max()), 1e-6), sheet.inner, 90), 90, "sound")
    for start, end in result["pause_spans"]:
        sheet.shade(wave_panel, start, end, _PAUSE, 0.45)
    strip = np.full((1, sheet.inner, 3), 240, dtype=np.uint8)
    word_panel = sheet.add(strip, 46, "words")
    for word in result["words"]:
        sheet.shade(word_panel, word["start"], word["end"], score_colour(word["score"]), 1.0)
        sheet.mark(word_panel, word["start"])
        sheet.label(word_panel, word["start"], word["word"])  # white on a black box, legible on any colour
    times, rate = rate_curve(result["words"], seconds)
    top = max(200.0, float(np.nanmax(rate)) if np.isfinite(rate).any() else 200.0)
    sheet.add_curves([(times, rate, rgb("#264653"), 2)], 80, "words/min", (0.0, top), (0.0, 100.0, 200.0))
    return sheet.draw()


def word_html(result: dict) -> str:
    """The heard words coloured by score (red 0 .. green 100), each with its time, as HTML."""
    import html

    spans = []
    for word in result["words"]:
        r, g, b = score_colour(word["score"])
        spans.append(f'<span title="{word["start"]:.1f}-{word["end"]:.1f} s, score {word["score"]:.0f}" '
                     f'style="background: rgb({r},{g},{b}); padding: 2px 4px; margin: 2px; border-radius: 4px; '
                     f'display: inline-block; color: #000">{html.escape(word["word"])}</span>')
    return '<div style="line-height: 2">' + "".join(spans) + "</div>"

"""Figures for people to look at: pictures drawn straight from arrays (numpy and Pillow) for the app's
time-aligned views, and matplotlib figures for its charts (Compare's scores).

A matplotlib figure of a spectrogram spends most of its time laying out and rasterising text; the same
picture from arrays takes a few milliseconds (docs/ARCHITECTURE.md, "Serving threads and figures"). A
`Sheet` stacks panels (colour-mapped arrays, waveform envelopes) that share one time axis, then shades
spans, marks lines and writes labels (never two labels over each other), a title, a legend and the time axis.

Charts are built on matplotlib.figure.Figure, never pyplot: pyplot keeps global state and the app draws from
many threads at once. Each capability draws its own in its figures module (pronounce, speak, coach).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images

import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from .audio import SAMPLE_RATE, log_mel_spectrogram  # noqa: E402

if TYPE_CHECKING:  # an annotation only: drawing needs neither torch nor the voice activity detector
    from .recording import Recording

__all__ = ["FIGURE_DPI", "LOW_SCORE", "HIGH_SCORE", "Sheet", "colourise", "envelope", "new_figure", "plot_recording",
           "rgb", "score_colour"]

_TICK_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60)
_MIN_TICK_PX = 70
_TEXT = (30, 30, 30)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, shipped with matplotlib (no system font needed)."""
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)


def rgb(colour: str) -> tuple[int, int, int]:
    """'#2a9d8f' -> (42, 157, 143)."""
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def colourise(values: np.ndarray, cmap: str, vmin: float, vmax: float, missing=(0, 0, 0)) -> np.ndarray:
    """(rows, columns) values -> (rows, columns, 3) uint8 through a matplotlib colour map; NaN (a value
    not computed) gets the colour `missing`."""
    lut = (matplotlib.colormaps[cmap].resampled(256)(np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    values = np.asarray(values, dtype=np.float64)
    span = vmax - vmin if np.isfinite(vmax - vmin) and vmax > vmin else 1.0
    index = np.clip((np.nan_to_num(values, nan=vmin) - vmin) / span * 255, 0, 255).astype(np.int32)
    colours = lut[index]
    colours[~np.isfinite(values)] = missing
    return colours


def envelope(wave: np.ndarray, width: int, height: int, colour=(38, 70, 83)) -> np.ndarray:
    """A waveform (float, -1..1) as a (height, width, 3) uint8 picture: each column spans the min..max of
    its stretch of samples."""
    picture = np.full((height, width, 3), 255, dtype=np.uint8)
    if len(wave) == 0:
        return picture
    edges = np.linspace(0, len(wave), width + 1).astype(np.int64)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)
    edges = np.minimum(edges, len(wave))
    starts = np.minimum(edges[:-1], len(wave) - 1)
    low, high = np.minimum.reduceat(wave, starts), np.maximum.reduceat(wave, starts)
    to_row = lambda v: np.clip(((1 - v) / 2 * (height - 1)).round().astype(np.int64), 0, height - 1)  # noqa: E731
    top, bottom = to_row(high), to_row(low)
    rows = np.arange(height)[:, None]
    picture[(rows >= top) & (rows <= bottom)] = colour
    picture[height // 2, :] = np.minimum(picture[height // 2, :], 200)
    return picture


# every score's colour, wherever a word or stretch is coloured by its 0-100 score: red 0 .. orange .. green 100
SCORE_COLOURS = LinearSegmentedColormap.from_list("score", ["#d7301f", "#fdae61", "#1a9850"])
LOW_SCORE, HIGH_SCORE = rgb("#d7301f"), rgb("#1a9850")  # the two ends, as legends name them


def score_colour(score: float) -> tuple[int, int, int]:
    """A 0-100 score's colour (SCORE_COLOURS: red 0 .. green 100) as 0-255 RGB."""
    return tuple(int(255 * c) for c in SCORE_COLOURS(score / 100.0)[:3])


@dataclass
class _Panel:
    picture: np.ndarray  # (height, columns, 3) uint8, row 0 at the top
    ylabel: str
    top: int = 0  # set when the sheet is laid out
    labels: list[tuple[float, str, tuple]] = field(default_factory=list)
    curves: list[tuple[np.ndarray, np.ndarray, tuple, int]] = field(default_factory=list)  # times s, values, colour, px
    ylim: tuple[float, float] = (0.0, 1.0)
    yticks: tuple[float, ...] = ()


class Sheet:
    """Panels over one time axis from 0 to `seconds`, `width` pixels wide in all."""

    def __init__(self, seconds: float, width: int = 900, left: int = 64, right: int = 14, title: str = "",
                 xlabel: str = "time (s)"):
        self.seconds, self.width, self.left, self.right, self.title = max(seconds, 1e-3), width, left, right, title
        self.xlabel = xlabel
        self.panels: list[_Panel] = []
        self.spans: list[tuple[int, float, float, tuple, float]] = []
        self.lines: list[tuple[int, float, tuple]] = []
        self.legend: list[tuple[tuple, str]] = []
        self.gap = 22  # pixels between panels: room for a panel's name
        self.drawn_labels: list[tuple[int, int, int, int]] = []  # (left, top, right, bottom) of each label written

    @property
    def inner(self) -> int:
        return self.width - self.left - self.right

    def x(self, t: float) -> int:
        return self.left + int(round(np.clip(t / self.seconds, 0, 1) * (self.inner - 1)))

    def add(self, picture: np.ndarray, height: int, ylabel: str = "", flip: bool = False) -> int:
        """A panel: `picture` (rows, columns, 3) stretched to `height` x the inner width (nearest
        neighbour); flip=True puts row 0 at the bottom (a spectrogram's low frequencies). Returns its index."""
        if picture.size == 0:  # nothing to show (an empty recording): a blank panel
            picture = np.full((1, 1, 3), 235, dtype=np.uint8)
        rows = np.linspace(0, picture.shape[0] - 1, height).round().astype(np.int64)
        columns = np.linspace(0, picture.shape[1] - 1, self.inner).round().astype(np.int64)
        stretched = picture[rows][:, columns]
        self.panels.append(_Panel(stretched[::-1] if flip else stretched, ylabel))
        return len(self.panels) - 1

    def add_curves(self, curves: list[tuple[np.ndarray, np.ndarray, tuple, int]], height: int, ylabel: str,
                   ylim: tuple[float, float], yticks: tuple[float, ...]) -> int:
        """A panel of lines: each curve is (times in s, values, colour, width in px); NaN values are gaps.
        `ylim` (bottom, top) in the values' unit, `yticks` labelled on the left. Returns its index."""
        self.panels.append(_Panel(np.full((height, self.inner, 3), 255, dtype=np.uint8), ylabel,
                                  curves=list(curves), ylim=ylim, yticks=tuple(yticks)))
        return len(self.panels) - 1

    def shade(self, panel: int, start: float, end: float, colour: tuple, alpha: float) -> None:
        self.spans.append((panel, start, end, colour, alpha))

    def mark(self, panel: int, t: float, colour: tuple = (255, 255, 255)) -> None:
        self.lines.append((panel, t, colour))

    def label(self, panel: int, t: float, text: str, colour: tuple = (255, 255, 255)) -> None:
        self.panels[panel].labels.append((t, text, colour))

    def draw(self) -> Image.Image:
        """The picture: title, panels with their spans, lines and labels, legend, time axis."""
        font, small = _font(14), _font(12)
        legend_rows = self._legend_rows(ImageDraw.Draw(Image.new("RGB", (1, 1))), small)
        y = 6 + 22 * bool(self.title) + 20 * len(legend_rows)
        for panel in self.panels:
            panel.top = y + (self.gap if panel.ylabel else 0)
            y = panel.top + panel.picture.shape[0] + 4
        height = y + 40
        canvas = np.full((height, self.width, 3), 255, dtype=np.uint8)
        for panel in self.panels:
            canvas[panel.top : panel.top + panel.picture.shape[0], self.left : self.width - self.right] = panel.picture
        for index, start, end, colour, alpha in self.spans:
            panel = self.panels[index]
            a, b = self.x(start), max(self.x(end), self.x(start) + 1)
            block = canvas[panel.top : panel.top + panel.picture.shape[0], a:b].astype(np.float32)
            block = (1 - alpha) * block + alpha * np.asarray(colour, dtype=np.float32)
            canvas[panel.top : panel.top + panel.picture.shape[0], a:b] = block.astype(np.uint8)
        for index, t, colour in self.lines:
            panel = self.panels[index]
            canvas[panel.top : panel.top + panel.picture.shape[0], self.x(t)] = colour
        image = Image.fromarray(canvas)
        draw = ImageDraw.Draw(image)
        if self.title:
            draw.text((self.left, 6), self.title, fill=_TEXT, font=font)
        for row, entries in enumerate(legend_rows):
            self._draw_legend(draw, small, entries, 6 + 22 * bool(self.title) + 20 * row)
        for panel in self.panels:
            if panel.ylabel:
                draw.text((self.left, panel.top - 18), panel.ylabel, fill=_TEXT, font=small)
            draw.rectangle((self.left - 1, panel.top - 1, self.width - self.right, panel.top + panel.picture.shape[0]),
                           outline=(120, 120, 120))
            self._draw_curves(draw, panel, small)
            self._draw_labels(draw, panel, small)
        self._draw_axis(draw, y, small)
        return image

    def _draw_labels(self, draw: ImageDraw.ImageDraw, panel: _Panel, font) -> None:
        """Each label at its time, on the first of two lines where it clears the previous label there;
        a label with room on neither is left out (the span it names is still shaded)."""
        line_end = [-1.0, -1.0]
        for t, text, colour in sorted(panel.labels, key=lambda label: label[0]):
            x = self.x(t) + 2
            width = draw.textlength(text, font=font) + 6
            for line in (0, 1):
                if x >= line_end[line] and x + width <= self.width:
                    y = panel.top + 2 + 15 * line
                    box = tuple(int(v) for v in draw.textbbox((x, y), text, font=font))
                    draw.rectangle((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), fill=(0, 0, 0))  # legible anywhere
                    draw.text((x, y), text, fill=colour, font=font)
                    self.drawn_labels.append(box)
                    line_end[line] = x + width
                    break

    def _draw_curves(self, draw: ImageDraw.ImageDraw, panel: _Panel, font) -> None:
        """Grid lines at the y ticks (labelled on the left), then each curve, broken where it is NaN."""
        height = panel.picture.shape[0]
        bottom, top = panel.ylim
        if not top > bottom:
            return
        to_y = lambda v: panel.top + (top - v) / (top - bottom) * (height - 1)  # noqa: E731
        for tick in panel.yticks:
            y = to_y(tick)
            draw.line((self.left, y, self.width - self.right, y), fill=(225, 225, 225))
            text = f"{tick:+.0f}" if bottom < 0 and tick else f"{tick:.0f}"
            draw.text((self.left - 6 - draw.textlength(text, font=font), y - 7), text, fill=_TEXT, font=font)
        for times, values, colour, width in panel.curves:
            values = np.clip(np.asarray(values, dtype=np.float64), bottom, top)
            points = [(self.x(t), to_y(v)) for t, v in zip(times, values)]
            run = []
            for point, value in zip(points + [None], list(values) + [np.nan]):
                if point is not None and np.isfinite(value):
                    run.append(point)
                    continue
                if len(run) > 1:
                    draw.line(run, fill=colour, width=width, joint="curve")
                run = []

    def _legend_rows(self, draw: ImageDraw.ImageDraw, font) -> list[list[tuple[tuple, str]]]:
        """The legend's entries in lines that fit the sheet's width."""
        rows, x = [[]], self.left
        for colour, text in self.legend:
            width = 17 + draw.textlength(text, font=font) + 18
            if rows[-1] and x + width > self.width:
                rows.append([])
                x = self.left
            rows[-1].append((colour, text))
            x += width
        return [row for row in rows if row]

    def _draw_legend(self, draw: ImageDraw.ImageDraw, font, entries, y: int) -> None:
        """Colour swatches and their meaning on one line under the title."""
        x = self.left
        for colour, text in entries:
            draw.rectangle((x, y + 1, x + 12, y + 13), fill=colour, outline=(120, 120, 120))
            draw.text((x + 17, y), text, fill=_TEXT, font=font)
            x += 17 + draw.textlength(text, font=font) + 18

    def _draw_axis(self, draw: ImageDraw.ImageDraw, y: int, font) -> None:
        """Ticks every 0.1-60 s (at least _MIN_TICK_PX apart) and the axis name."""
        step = next((s for s in _TICK_STEPS_S if s / self.seconds * self.inner >= _MIN_TICK_PX), _TICK_STEPS_S[-1])
        for t in np.arange(0, self.seconds + 1e-9, step):
            x = self.x(t)
            draw.line((x, y - 4, x, y), fill=(120, 120, 120))
            text = f"{t:.1f}" if step < 1 else f"{t:.0f}"
            draw.text((x - draw.textlength(text, font=font) / 2, y + 1), text, fill=_TEXT, font=font)
        name = self.xlabel
        draw.text((self.left + self.inner / 2 - draw.textlength(name, font=font) / 2, y + 18), name, fill=_TEXT,
                  font=font)


_SPEECH_COLOUR = "#2a9d8f"
FIGURE_DPI = 72  # pixels per inch: the app's figures are looked at in a browser, not printed


def new_figure(width: float, height: float, left: float = 0.8, right: float = 0.25, bottom: float = 0.55,
               top: float = 0.4, dpi: int = FIGURE_DPI, **spacing) -> Figure:
    """A matplotlib figure for the app's charts (Compare's scores): `width` x `height` inches at
    `dpi` pixels per inch, with fixed margins in inches around the subplots (`spacing`: wspace/hspace, as fractions
    of a subplot, see subplots_adjust). Time-aligned views are pictures instead (Sheet, above).

    Fixed margins rather than constrained layout, which lays a figure out by drawing it twice (docs/
    ARCHITECTURE.md, "Serving threads and figures": what it saved)."""
    figure = Figure(figsize=(width, height), dpi=dpi)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, **spacing)
    return figure


def plot_recording(recording: Recording, title: str = "Your recording") -> Image.Image:
    """Waveform above a log-mel spectrogram on one time axis (seconds), the speech found by voice activity
    detection shaded on the waveform and its edges marked on the spectrogram (low pitch at the bottom).
    A picture drawn from arrays (Sheet, above): a tenth of a matplotlib figure's time."""
    mel_db = log_mel_spectrogram(recording.wave)  # (n_mels, n_frames)
    sheet = Sheet(len(recording.wave) / SAMPLE_RATE,
                  title=f"{title}: {len(recording.segments)} stretch(es) of speech shaded")
    speech = rgb(_SPEECH_COLOUR)
    sheet.legend = [(speech, "speech (voice activity)")]
    wave = sheet.add(envelope(recording.wave, sheet.inner, 90), 90, "waveform (loudness over time)")
    mel = sheet.add(colourise(mel_db, "magma", -80, 0), 200, "spectrogram: frequency (low to high); brighter = louder",
                    flip=True)
    for segment in recording.segments:
        sheet.shade(wave, segment.start, segment.end, speech, 0.3)
        for edge in (segment.start, segment.end):
            sheet.mark(mel, edge, speech)
    return sheet.draw()

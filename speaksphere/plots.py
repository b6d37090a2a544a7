"""Figures of a recording for people to look at.

Built on matplotlib.figure.Figure, never pyplot: pyplot keeps global state and the app draws from
many threads at once.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display: figures are rendered to images

from matplotlib.figure import Figure
from PIL import Image

from .audio import SAMPLE_RATE, log_mel_spectrogram
from .pictures import Sheet, colourise, envelope, rgb
from .recording import Recording

__all__ = ["FIGURE_DPI", "new_figure", "plot_recording"]

_SPEECH_COLOUR = "#2a9d8f"
FIGURE_DPI = 72  # pixels per inch: the app's figures are looked at in a browser, not printed


def new_figure(width: float, height: float, left: float = 0.8, right: float = 0.25, bottom: float = 0.55,
               top: float = 0.4, dpi: int = FIGURE_DPI, **spacing) -> Figure:
    """A matplotlib figure for the app's charts (Compare's scores): `width` x `height` inches at
    `dpi` pixels per inch, with fixed margins in inches around the subplots (`spacing`: wspace/hspace, as fractions
    of a subplot, see subplots_adjust). Time-aligned views are pictures instead (speaksphere.pictures).

    Fixed margins rather than constrained layout, which lays a figure out by drawing it twice: with
    72 dpi and unresampled images, figures render in about half the time (measured in the session of
    issue 9: ~0.5 s instead of ~1.1-1.3 s for the six figures of that time, on one core)."""
    figure = Figure(figsize=(width, height), dpi=dpi)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, **spacing)
    return figure


def plot_recording(recording: Recording, title: str = "Your recording") -> Image.Image:
    """Waveform above a log-mel spectrogram on one time axis (seconds), the speech found by voice activity
    detection shaded on the waveform and its edges marked on the spectrogram (low pitch at the bottom).
    A picture drawn from arrays (speaksphere.pictures): a tenth of a matplotlib figure's time."""
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

"""Pictures drawn from arrays: labels never overlap at any length, axes and legends are there."""

from __future__ import annotations

import numpy as np
import pytest

from speaksphere.pictures import Sheet, colourise, envelope


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("seconds, words", [(1.0, 6), (5.0, 12), (300.0, 600)])
def test_labels_never_overlap_from_1_s_to_5_minutes(seconds, words):
    """Issue 22: word labels overlapped in the attempt's spectrogram ("n'espas", "Veuillez/réessayer")."""
    sheet = Sheet(seconds, title="words")
    panel = sheet.add(colourise(np.random.default_rng(0).normal(-40, 10, (80, 500)), "magma", -80, 0), 150, flip=True)
    starts = np.sort(np.random.default_rng(1).uniform(0, seconds, words))
    for i, start in enumerate(starts):
        sheet.label(panel, float(start), ["réessayer", "n'", "es", "pas", "Veuillez", "de"][i % 6])
    image = sheet.draw()
    boxes = sheet.drawn_labels
    assert boxes and image.size[0] == 900
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert all(box[2] <= image.size[0] for box in boxes)


def test_envelope_spans_each_columns_samples():
    wave = np.zeros(16000, dtype=np.float32)
    wave[8000:8100] = 0.9
    picture = envelope(wave, width=100, height=41)
    ink = (picture < 128).all(axis=2)
    assert ink[:, 50].sum() > 15 and ink[:, 10].sum() <= 1  # the burst is tall, silence a line


def test_colourise_maps_the_range_and_nan():
    colours = colourise(np.array([[-80.0, 0.0, np.nan]]), "magma", -80, 0)
    assert colours.dtype == np.uint8 and colours[0, 0].sum() < 60 and colours[0, 1].sum() > 500
    assert (colours[0, 2] == colours[0, 0]).all()

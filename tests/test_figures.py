"""Pictures drawn from arrays: labels never overlap at any length, axes and legends are there."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageDraw

from speaksphere.figures import Sheet, _font, colourise, envelope


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


def test_a_label_at_the_very_end_stays_inside_and_nan_is_not_a_value():
    sheet = Sheet(10.0)
    panel = sheet.add(np.zeros((2, 2, 3), dtype=np.uint8), 40)
    sheet.label(panel, 9.9, "label")
    image = sheet.draw()
    assert all(box[2] <= image.size[0] for box in sheet.drawn_labels)
    colours = colourise(np.array([[0.0, np.nan]]), "viridis", 0, 1, missing=(225, 225, 225))
    assert tuple(colours[0, 1]) == (225, 225, 225) and tuple(colours[0, 0]) != (225, 225, 225)
    assert Sheet(1.0).add(np.zeros((0, 0, 3), dtype=np.uint8), 10) == 0  # an empty array: a blank panel


def test_a_long_legend_wraps_inside_the_picture():
    sheet = Sheet(4.0, title="languages")
    sheet.legend = [((i * 20, 0, 0), f"Language number {i} (xx)") for i in range(9)]
    sheet.add(np.zeros((1, 1, 3), dtype=np.uint8), 20)
    image = sheet.draw()
    assert image.size[0] == 900 and len(sheet._legend_rows(ImageDraw.Draw(image), _font(12))) > 1


def test_envelope_spans_each_columns_samples():
    wave = np.zeros(16000, dtype=np.float32)
    wave[8000:8100] = 0.9
    picture = envelope(wave, width=100, height=41)
    ink = (picture < 128).all(axis=2)
    assert ink[:, 50].sum() > 15 and ink[:, 10].sum() <= 1  # the burst is tall, silence a line


def test_colourise_maps_the_range_and_nan():
    colours = colourise(np.array([[-80.0, 0.0, np.nan]]), "magma", -80, 0)
    assert colours.dtype == np.uint8 and colours[0, 0].sum() < 60 and colours[0, 1].sum() > 500
    assert tuple(colours[0, 2]) == (0, 0, 0)  # NaN: not computed, its own colour


def test_a_score_has_one_colour_in_every_capability_and_its_legend():
    """Speak coloured words by RdYlGn (yellow at 50, its legend naming other reds and greens), Pronounce by
    its own map: one rule now, speaksphere.figures.score_colour."""
    from speaksphere.figures import HIGH_SCORE, LOW_SCORE, score_colour
    from speaksphere.speak.figures import word_html

    words = [{"word": f"w{s}", "start": 0.5 * i, "end": 0.5 * i + 0.4, "score": s} for i, s in enumerate((0, 50, 100))]
    html = word_html({"words": words})
    for s in (0, 50, 100):
        assert "background: rgb({},{},{})".format(*score_colour(s)) in html
    assert max(abs(a - b) for a, b in zip(score_colour(0), LOW_SCORE)) <= 1
    assert max(abs(a - b) for a, b in zip(score_colour(100), HIGH_SCORE)) <= 1
    assert score_colour(50)[2] < 100  # orange between them, not RdYlGn's pale yellow

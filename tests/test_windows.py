"""Fixed-length windows cover the recording for the per-window language breakdown."""

import numpy as np
import pytest

from speaksphere import SAMPLE_RATE, frame_windows


def ramp(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32)


def test_windows_tile_the_recording_without_overlap():
    wave = ramp(10.0)
    windows = frame_windows(wave, window_s=4.0)
    assert windows.samples.shape == (3, 4 * SAMPLE_RATE)
    np.testing.assert_allclose(windows.starts_s, [0, 4, 8])
    np.testing.assert_allclose(windows.ends_s, [4, 8, 10])
    np.testing.assert_array_equal(windows.lengths, [64000, 64000, 32000])
    # each row holds exactly its stretch of the recording, zero-padded at the end
    np.testing.assert_array_equal(windows.samples[2, :32000], wave[128000:])
    assert not windows.samples[2, 32000:].any()


def test_overlapping_hop():
    windows = frame_windows(ramp(8.0), window_s=4.0, hop_s=2.0)
    np.testing.assert_allclose(windows.starts_s, [0, 2, 4])


def test_short_leftover_is_dropped_but_short_recording_is_kept():
    assert len(frame_windows(ramp(8.5), 4.0).starts_s) == 2  # 0.5 s leftover < 1 s
    short = frame_windows(ramp(0.6), 4.0)
    assert short.samples.shape == (1, 4 * SAMPLE_RATE) and short.lengths[0] == int(0.6 * SAMPLE_RATE)


def test_every_sample_is_in_some_window_when_leftovers_are_long():
    wave = ramp(9.3)
    windows = frame_windows(wave, 4.0, hop_s=3.0, min_last_s=0.0)
    assert windows.ends_s[-1] == pytest.approx(9.3, abs=1 / SAMPLE_RATE)


@pytest.mark.parametrize("window_s, hop_s", [(0, None), (4.0, 0), (-1, None)])
def test_bad_lengths_are_refused(window_s, hop_s):
    with pytest.raises(ValueError):
        frame_windows(ramp(5.0), window_s, hop_s)

"""Augmentations do what their names say, measured on the signal; silence clips hold no speech."""

import librosa
import numpy as np
import pytest

from speaksphere.audio import SAMPLE_RATE
from speaksphere.data.augment import (
    AugmentConfig,
    add_noise,
    augment,
    change_speed,
    coloured_noise,
    crop_or_pad,
    reverberate,
    silence_clip,
    telephone,
)


@pytest.fixture(scope="module")
def wave(speech):
    samples, rate = speech
    return librosa.resample(samples, orig_sr=rate, target_sr=SAMPLE_RATE)


def _power(x):
    return float(np.mean(np.asarray(x, dtype=np.float64) ** 2))


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_noise_is_added_at_the_requested_snr(wave, snr_db):
    noisy = add_noise(wave, snr_db, np.random.default_rng(0), "pink")
    measured = 10 * np.log10(_power(wave) / _power(noisy - wave))
    assert abs(measured - snr_db) < 0.1


def test_noise_colours_have_their_slopes():
    rng = np.random.default_rng(0)
    for colour, low_over_high in [("white", (0.5, 2)), ("brown", (100, None))]:
        spectrum = np.abs(np.fft.rfft(coloured_noise(SAMPLE_RATE * 2, colour, rng))) ** 2
        freqs = np.fft.rfftfreq(SAMPLE_RATE * 2, 1 / SAMPLE_RATE)
        ratio = spectrum[(freqs > 100) & (freqs < 200)].mean() / spectrum[(freqs > 4000) & (freqs < 5000)].mean()
        assert ratio > low_over_high[0] and (low_over_high[1] is None or ratio < low_over_high[1]), colour


def test_telephone_band_removes_high_frequencies(wave):
    narrow = telephone(wave)
    spectrum = np.abs(librosa.stft(narrow)) ** 2
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE)
    assert spectrum[freqs > 4200].sum() < 1e-3 * spectrum.sum()
    assert abs(len(narrow) - len(wave)) < 10


def test_reverb_keeps_length_and_level_and_smears(wave):
    wet = reverberate(wave, 0.6, np.random.default_rng(0))
    assert len(wet) == len(wave) and abs(_power(wet) / _power(wave) - 1) < 0.01
    assert np.corrcoef(wet, wave)[0, 1] < 0.99


def test_speed_crop_and_pad(wave):
    assert abs(len(change_speed(wave, 1.25)) - len(wave) / 1.25) < 5
    rng = np.random.default_rng(0)
    assert len(crop_or_pad(wave, SAMPLE_RATE, rng)) == SAMPLE_RATE
    padded = crop_or_pad(wave[:100], 1000, rng)
    assert len(padded) == 1000 and np.count_nonzero(padded) <= 100


@pytest.mark.parametrize("kind", ["noise", "breath", "room"])
def test_silence_clips_are_quiet_and_one_second(kind):
    clip = silence_clip(1.0, kind, np.random.default_rng(3))
    assert clip.shape == (SAMPLE_RATE,) and clip.dtype == np.float32
    assert 0 < np.max(np.abs(clip)) < 0.5


def test_augment_chain_is_reproducible_and_described(wave):
    config = AugmentConfig(noise_probability=1.0, reverb_probability=1.0, telephone_probability=1.0)
    first, described = augment(wave, config, np.random.default_rng(5))
    again, _ = augment(wave, config, np.random.default_rng(5))
    assert np.array_equal(first, again)
    assert "noise:snr=" in described and "reverb" in described and "telephone" in described and "gain=" in described
    assert np.max(np.abs(first)) <= 1.0

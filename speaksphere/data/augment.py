"""Augmentation and non-speech audio: noise at a chosen SNR, gain, speed, reverberation, telephone band,
random crops and padding; and the `_silence_` class (noise, breath, room tone).

Every function takes and returns float32 mono 16 kHz waves, shape (n_samples,), and draws its
randomness from the `rng` it is given, so a build is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import librosa
import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from ..audio import SAMPLE_RATE

__all__ = ["AugmentConfig", "coloured_noise", "add_noise", "reverberate", "telephone", "change_speed",
           "crop_or_pad", "silence_clip", "augment", "NOISE_COLOURS"]

NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f^exponent


@dataclass
class AugmentConfig:
    """How training clips are degraded (each step is drawn independently per clip)."""

    probability: float = 0.5  # share of clips in the augmented splits that get any augmentation
    splits: list[str] = field(default_factory=lambda: ["train"])  # val/test stay clean unless listed
    snr_db: list[float] = field(default_factory=lambda: [0.0, 5.0, 10.0, 20.0])  # noise levels to draw from
    noise_probability: float = 0.6  # given augmentation, chance of added noise
    gain_db: list[float] = field(default_factory=lambda: [-12.0, 6.0])  # uniform range of gain
    speed: list[float] = field(default_factory=lambda: [0.9, 1.1])  # uniform range of speed factor (pitch moves too)
    speed_probability: float = 0.3  # chance of a speed change
    rt60_s: list[float] = field(default_factory=lambda: [0.2, 0.8])  # uniform range of reverberation time
    reverb_probability: float = 0.3  # chance of reverberation
    telephone_probability: float = 0.2  # chance of 8 kHz telephone band-limiting
    crop_probability: float = 0.2  # chance of a random crop or pad (for clips longer than 1.5 s)


def coloured_noise(n_samples: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a 1/f^k power spectrum, unit RMS. Returns float32 (n_samples,)."""
    spectrum = rng.standard_normal(n_samples // 2 + 1) + 1j * rng.standard_normal(n_samples // 2 + 1)
    freqs = np.fft.rfftfreq(n_samples, 1 / SAMPLE_RATE)
    freqs[0] = freqs[1] if len(freqs) > 1 else 1.0
    spectrum *= freqs ** (-NOISE_COLOURS[colour] / 2)
    noise = np.fft.irfft(spectrum, n=n_samples)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)


def _rms(wave: np.ndarray) -> float:
    return float(np.sqrt(np.mean(wave.astype(np.float64) ** 2))) + 1e-12


def add_noise(wave: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str | None = None) -> np.ndarray:
    """Add coloured noise so that speech RMS / noise RMS = snr_db (over the whole clip)."""
    colour = colour or str(rng.choice(list(NOISE_COLOURS)))
    noise = coloured_noise(len(wave), colour, rng) * _rms(wave) / 10 ** (snr_db / 20)
    return (wave + noise).astype(np.float32)


def reverberate(wave: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room impulse response: a direct path plus exponentially decaying noise
    (60 dB down after rt60_s). Keeps the length and the RMS."""
    n = int(rt60_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    impulse = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # ln(1000) = 6.9: -60 dB at rt60
    impulse[0] = 1.0 / 0.3  # the direct sound dominates the early part
    out = fftconvolve(wave, impulse)[: len(wave)]
    return (out * _rms(wave) / _rms(out)).astype(np.float32)


def telephone(wave: np.ndarray) -> np.ndarray:
    """Telephone channel: 300-3400 Hz band, sampled at 8 kHz and back to 16 kHz."""
    sos = butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    narrow = librosa.resample(sosfilt(sos, wave), orig_sr=SAMPLE_RATE, target_sr=8000, res_type="soxr_hq")
    return librosa.resample(narrow, orig_sr=8000, target_sr=SAMPLE_RATE, res_type="soxr_hq").astype(np.float32)


def change_speed(wave: np.ndarray, factor: float) -> np.ndarray:
    """Play `factor` times faster (tempo and pitch together, like a tape); length / factor."""
    return librosa.resample(wave, orig_sr=SAMPLE_RATE * factor, target_sr=SAMPLE_RATE, res_type="soxr_hq")


def crop_or_pad(wave: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """A random `n_samples` window of a longer wave, or the wave at a random place inside silence."""
    if len(wave) >= n_samples:
        start = int(rng.integers(0, len(wave) - n_samples + 1))
        return wave[start : start + n_samples].copy()
    out = np.zeros(n_samples, dtype=np.float32)
    start = int(rng.integers(0, n_samples - len(wave) + 1))
    out[start : start + len(wave)] = wave
    return out


def silence_clip(seconds: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    """A `_silence_` example: "noise" (coloured noise), "breath" (band-passed noise bursts shaped like
    in- and exhalations) or "room" (quiet pink noise plus a mains hum at 50 or 60 Hz)."""
    n = int(seconds * SAMPLE_RATE)
    level = 10 ** (rng.uniform(-60, -20) / 20)
    if kind == "noise":
        return coloured_noise(n, str(rng.choice(list(NOISE_COLOURS))), rng) * level
    if kind == "breath":
        sos = butter(2, [float(rng.uniform(300, 800)), float(rng.uniform(2000, 5000))], btype="bandpass",
                     fs=SAMPLE_RATE, output="sos")
        noise = sosfilt(sos, rng.standard_normal(n))
        envelope = np.zeros(n)
        for _ in range(int(rng.integers(1, 3))):
            length = int(rng.uniform(0.3, 0.8) * SAMPLE_RATE)
            start = int(rng.integers(0, max(1, n - length)))
            envelope[start : start + length] += np.hanning(length)[: n - start]
        wave = noise * envelope
        return (wave / (np.max(np.abs(wave)) + 1e-9) * level * 3).astype(np.float32)
    if kind == "room":
        t = np.arange(n) / SAMPLE_RATE
        hum = sum(np.sin(2 * np.pi * k * float(rng.choice([50, 60])) * t) / k for k in (1, 2, 3))
        return (coloured_noise(n, "pink", rng) * level + hum * level * rng.uniform(0, 0.5)).astype(np.float32)
    raise ValueError(f"unknown silence kind {kind!r}")


def _uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    return float(rng.uniform(bounds[0], bounds[-1]))


def augment(wave: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One random chain of augmentations. Returns the new wave and a description, e.g.
    "speed=1.06;reverb:rt60=0.41;noise:snr=10,pink;gain=-3.2" ("" when nothing was done)."""
    steps = []
    if rng.random() < config.speed_probability:
        factor = _uniform(rng, config.speed)
        wave = change_speed(wave, factor)
        steps.append(f"speed={factor:.2f}")
    if rng.random() < config.reverb_probability:
        rt60 = _uniform(rng, config.rt60_s)
        wave = reverberate(wave, rt60, rng)
        steps.append(f"reverb:rt60={rt60:.2f}")
    if rng.random() < config.noise_probability:
        snr, colour = float(rng.choice(config.snr_db)), str(rng.choice(list(NOISE_COLOURS)))
        wave = add_noise(wave, snr, rng, colour)
        steps.append(f"noise:snr={snr:g},{colour}")
    if rng.random() < config.telephone_probability:
        wave = telephone(wave)
        steps.append("telephone")
    if rng.random() < config.crop_probability and len(wave) > 1.5 * SAMPLE_RATE:
        n = int(len(wave) * rng.uniform(0.6, 1.3))
        wave = crop_or_pad(wave, n, rng)
        steps.append(f"crop={n / SAMPLE_RATE:.2f}s")
    gain = _uniform(rng, config.gain_db)
    wave = wave * 10 ** (gain / 20)
    steps.append(f"gain={gain:.1f}")
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak > 0.999:
        wave = wave / peak * 0.999  # clipping would be a different, unintended distortion
    return wave.astype(np.float32), ";".join(steps)

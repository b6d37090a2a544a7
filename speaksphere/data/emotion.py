"""Emotional prosody rendered from neutral speech: the four emotions as prosody profiles.

No emotional recordings exist offline, so happy, sad and angry speech is *rendered*: a TTS engine is
asked for the profile's pitch level, pitch range, tempo and loudness where it can, and any voice
(real or synthetic) can be resynthesised with WORLD (pyworld): F0 shifted and its range scaled in the
log domain, tempo changed by time-scaling the analysis frames, spectral tilt changed for voice quality.
Without pyworld, librosa's phase vocoder does pitch level and tempo (not range).

The profiles follow the directions and rough sizes reported for acted emotional speech, relative to
neutral speech of the same speaker (see EMOTION_PROFILES.md for the table and the sources):
- Murray & Arnott (1993), "Toward the simulation of emotion in synthetic speech", JASA 93(2), Table I;
- Banse & Scherer (1996), "Acoustic profiles in vocal emotion expression", JPSP 70(3);
- Juslin & Laukka (2003), "Communication of emotions in vocal expression and music performance",
  Psychological Bulletin 129(5), Table 7 (meta-analysis: anger and happiness fast, loud, high and
  variable F0; sadness slow, soft, low and flat F0);
- Burkhardt & Sendlmeier (2000), "Verification of acoustical correlates of emotional speech using
  formant synthesis", ISCA Workshop on Speech and Emotion (rule-based emotional MBROLA/formant speech).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
from scipy.signal import lfilter

from ..audio import SAMPLE_RATE

__all__ = ["EmotionProfile", "PROFILES", "jittered", "resynthesise", "spectral_tilt", "world_available"]


@dataclass(frozen=True)
class EmotionProfile:
    """Prosody of an emotion relative to the same speaker's neutral speech."""

    pitch_semitones: float  # shift of the mean F0
    pitch_range: float  # factor on F0 excursions around the mean (log domain); 1 = unchanged
    tempo: float  # speaking-rate factor; >1 is faster
    gain_db: float  # loudness change
    tilt_db: float  # voice quality: + = tenser, brighter (more energy above 1 kHz); - = laxer, darker


PROFILES: dict[str, EmotionProfile] = {
    "neutral": EmotionProfile(0.0, 1.0, 1.0, 0.0, 0.0),
    # M&A: pitch much higher, range much wider, rate faster or slower, intensity higher, "breathy, blaring".
    "happy": EmotionProfile(3.0, 1.5, 1.1, 3.0, 2.0),
    # M&A: pitch slightly lower, range slightly narrower, rate slightly slower, intensity lower, "resonant";
    # J&L: low, flat F0, slow, soft, little high-frequency energy.
    "sad": EmotionProfile(-2.0, 0.6, 0.82, -6.0, -4.0),
    # M&A: pitch very much higher, range much wider, rate slightly faster, intensity higher, "breathy chest";
    # B&S hot anger: high F0 mean and variability, much high-frequency energy (tense voice).
    "angry": EmotionProfile(2.5, 1.6, 1.15, 6.0, 5.0),
}
_JITTER = EmotionProfile(1.0, 0.15, 0.05, 1.5, 1.0)  # +/- per clip, so a class is a region, not a point


def jittered(profile: EmotionProfile, rng: np.random.Generator) -> EmotionProfile:
    """The profile with each value moved uniformly within +/- _JITTER (ranges kept positive)."""
    u = lambda: rng.uniform(-1.0, 1.0)  # noqa: E731
    return EmotionProfile(
        profile.pitch_semitones + _JITTER.pitch_semitones * u(),
        max(0.3, profile.pitch_range + _JITTER.pitch_range * u()),
        max(0.5, profile.tempo + _JITTER.tempo * u()),
        profile.gain_db + _JITTER.gain_db * u(),
        profile.tilt_db + _JITTER.tilt_db * u(),
    )


def _load_world():
    """pyworld, or None. pyworld 0.3.5's __init__ imports pkg_resources, gone from setuptools >= 81:
    then the compiled module is loaded directly."""
    try:
        import pyworld
        return pyworld
    except ModuleNotFoundError as error:
        if error.name != "pkg_resources":
            return None
    spec = importlib.util.find_spec("pyworld")
    if spec is None or not spec.submodule_search_locations:
        return None
    for path in Path(next(iter(spec.submodule_search_locations))).glob("pyworld*.so"):
        loader = importlib.machinery.ExtensionFileLoader("pyworld.pyworld", str(path))
        module_spec = importlib.util.spec_from_loader("pyworld.pyworld", loader)
        module = importlib.util.module_from_spec(module_spec)
        loader.exec_module(module)
        return module
    return None


_world = _load_world()


def world_available() -> bool:
    """True when WORLD (pyworld) can be used for resynthesis."""
    return _world is not None


def spectral_tilt(wave: np.ndarray, tilt_db: float) -> np.ndarray:
    """Raise (tilt_db > 0) or lower the energy above ~1 kHz by about `tilt_db` dB with a first-order shelf.

    wave: float32 (n_samples,), 16 kHz. Returns the same shape, RMS preserved.
    """
    if abs(tilt_db) < 0.1:
        return wave
    high = lfilter([1.0, -0.9], [1.0], wave)  # pre-emphasis: the high-frequency part
    weight = 10 ** (tilt_db / 20) - 1.0
    out = wave + weight * high * 0.5
    rms_in, rms_out = np.sqrt(np.mean(wave**2)) + 1e-9, np.sqrt(np.mean(out**2)) + 1e-9
    return (out * rms_in / rms_out).astype(np.float32)


def _world_resynthesise(wave: np.ndarray, profile: EmotionProfile) -> np.ndarray:
    x = wave.astype(np.float64)
    frame_ms = 5.0
    f0, times = _world.dio(x, SAMPLE_RATE, frame_period=frame_ms)  # dio + stonemask: ~3x faster than harvest
    f0 = _world.stonemask(x, f0, times, SAMPLE_RATE)
    envelope = _world.cheaptrick(x, f0, times, SAMPLE_RATE)
    aperiodicity = _world.d4c(x, f0, times, SAMPLE_RATE)
    voiced = f0 > 0
    if voiced.any():
        log_f0 = np.log(f0[voiced])
        centre = log_f0.mean()
        f0[voiced] = np.exp(centre + (log_f0 - centre) * profile.pitch_range
                            + profile.pitch_semitones * np.log(2) / 12)
    if abs(profile.tempo - 1.0) > 1e-3:  # resample the frame sequence in time
        n_out = max(2, int(round(len(f0) / profile.tempo)))
        source = np.linspace(0, len(f0) - 1, n_out)
        nearest = np.round(source).astype(int)
        f0 = f0[nearest]
        envelope = envelope[nearest]
        aperiodicity = aperiodicity[nearest]
    out = _world.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(envelope),
                            np.ascontiguousarray(aperiodicity), SAMPLE_RATE, frame_ms)
    return out.astype(np.float32)


def resynthesise(wave: np.ndarray, profile: EmotionProfile, use_world: bool = True) -> np.ndarray:
    """Render `wave` (float32 (n_samples,), 16 kHz, neutral speech) with an emotion's prosody.

    Returns float32 (n_samples / tempo,), peak-limited to [-1, 1].
    """
    if use_world and _world is not None:
        out = _world_resynthesise(wave, profile)
    else:
        out = wave
        if abs(profile.pitch_semitones) > 0.05:
            out = librosa.effects.pitch_shift(out, sr=SAMPLE_RATE, n_steps=profile.pitch_semitones)
        if abs(profile.tempo - 1.0) > 1e-3:
            out = librosa.effects.time_stretch(out, rate=profile.tempo)
    return apply_level_and_quality(out, profile)


def apply_level_and_quality(wave: np.ndarray, profile: EmotionProfile) -> np.ndarray:
    """Gain and spectral tilt of a profile (for engines that rendered pitch and tempo themselves)."""
    out = spectral_tilt(wave, profile.tilt_db) * 10 ** (profile.gain_db / 20)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return (out / peak * 0.99 if peak > 0.99 else out).astype(np.float32)

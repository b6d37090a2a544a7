"""Frame features for pronunciation comparison: speaker-normalised spectra, pitch and energy.

All frame series use SpeakSphere's 10 ms hop (audio.HOP_LENGTH at 16 kHz), so frame i covers
the time i / FRAME_RATE seconds of the wave it was computed from.
Speaker normalisation is per utterance: cepstral mean and variance normalisation (CMVN) removes the
channel and most of the vocal-tract-length and loudness differences between two speakers
(the choice of log-mel + deltas with CMVN and cosine distance was measured on dev voices:
benchmarks/pronunciation_features.py)..
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import scipy.signal

from ..audio import HOP_LENGTH, N_FFT, SAMPLE_RATE

__all__ = ["FeatureConfig", "frame_features", "pitch_semitones", "fold_octaves", "energy_db", "n_frames",
           "shared_band_hz"]

TELEPHONE_BAND_HZ = 3800.0  # what a recording sampled at 8 kHz holds (below its 4-kHz Nyquist limit)
_NARROWBAND_EDGE_HZ = 4000.0  # the Nyquist limit of 8-kHz telephone audio
# a recording with less than this share of its power above 4 kHz holds nothing there: it was sampled at
# 8 kHz (the built-in library's Asterisk prompts: 1e-13 to 1e-10) or passed through a telephone; wideband
# speech, synthetic or recorded, holds 1e-4 to 1e-1 there
_NARROWBAND_SHARE = 1e-5
_BAND_SAMPLE_S = 60.0  # the band is measured on at most this much of a recording (it does not change within one)


@dataclass(frozen=True)
class FeatureConfig:
    """Which frame features DTW compares (the figures behind each choice: EXPERTS.md, "The anchors'
    calibration")."""

    # "logmel" or "mfcc": log-mel + deltas + CMVN with cosine distance separated right from wrong text best on
    # the dev voices. Whisper's encoder frames separate them better still, but serve each word's score along this
    # path (ScoreConfig.encoder_weight), not the path: as its features they would need every anchor again
    kind: str = "logmel"
    metric: str = "cosine"  # frame distance for DTW: "cosine" (0..2) or "euclidean"
    n_mfcc: int = 13  # cepstra 1..12 plus c0; more mostly adds speaker detail (pitch harmonics)
    n_mels: int = 40  # mel bands under the cepstra: enough for 16 kHz speech, fewer is smoother (the same 40
                      # below 3.8 kHz)
    # highest frequency of the mel bands. Two recordings are compared on the band both hold (shared_band_hz):
    # a wideband attempt's fricatives against a telephone reference's silence are, after CMVN, amplified noise
    fmax: float = 7600.0
    deltas: bool = True  # first derivatives add the transitions that distinguish consonants
    drop_c0: bool = True  # c0 is loudness, which says nothing about which sound was made
    cmvn: bool = True  # per-utterance mean/variance normalisation: the speaker normalisation


def n_frames(n_samples: int) -> int:
    """Frames of a centred 10 ms hop analysis over `n_samples` samples."""
    return 1 + n_samples // HOP_LENGTH


def _mel_power(wave: np.ndarray, n_mels: int, fmax: float) -> np.ndarray:
    return librosa.feature.melspectrogram(
        y=wave, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=n_mels, fmin=60, fmax=fmax
    )


def shared_band_hz(*waves: np.ndarray, config: FeatureConfig = FeatureConfig()) -> float:
    """The highest frequency every one of `waves` (float32, (n_samples,), 16 kHz) holds: config.fmax,
    or TELEPHONE_BAND_HZ when any of them has (almost) no power above 4 kHz (Welch's power spectrum of
    its first minute: 512-sample segments, bounded memory whatever the length)."""
    if config.fmax <= TELEPHONE_BAND_HZ:
        return config.fmax  # nothing left to narrow (Compare's attempts, already given one band)
    for wave in waves:
        sample = np.asarray(wave[: int(_BAND_SAMPLE_S * SAMPLE_RATE)], dtype=np.float64)
        if len(sample) < N_FFT:
            continue  # too short to say: it does not narrow the band
        frequencies, power = scipy.signal.welch(sample, fs=SAMPLE_RATE, nperseg=min(512, len(sample)))
        if power[frequencies >= _NARROWBAND_EDGE_HZ].sum() < _NARROWBAND_SHARE * max(power.sum(), 1e-30):
            return min(config.fmax, TELEPHONE_BAND_HZ)
    return config.fmax


def frame_features(wave: np.ndarray, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Speaker-normalised spectral frames.

    wave: float32, shape (n_samples,), 16 kHz (already trimmed to the speech).
    Returns float32, shape (n_frames, n_dims), one row per 10 ms frame.
    """
    log_mel = librosa.power_to_db(_mel_power(wave, config.n_mels, config.fmax), ref=1.0, amin=1e-10, top_db=None)
    if config.kind == "mfcc":
        frames = librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc)
        if config.drop_c0:
            frames = frames[1:]
    elif config.kind == "logmel":
        frames = log_mel
    else:
        raise ValueError(f"unknown feature kind {config.kind!r}")
    if config.deltas and frames.shape[1] >= 3:
        width = min(9, frames.shape[1] if frames.shape[1] % 2 else frames.shape[1] - 1)
        frames = np.vstack([frames, librosa.feature.delta(frames, width=max(3, width))])
    frames = frames.T  # (n_frames, n_dims)
    if config.cmvn:
        frames = (frames - frames.mean(axis=0)) / (frames.std(axis=0) + 1e-6)
    return frames.astype(np.float32)


def pitch_semitones(wave: np.ndarray, fmin: float = 65.0, fmax: float = 500.0) -> np.ndarray:
    """Pitch contour in semitones relative to the speaker's median pitch, NaN where unvoiced.

    wave: float32, shape (n_samples,), 16 kHz. Returns float64, shape (n_frames,).
    YIN (de Cheveigne & Kawahara 2002) with a voicing decision from periodicity and energy;
    semitones relative to the median make a bass and a soprano comparable; octave errors folded back.
    """
    frame_length = 1024  # 64 ms: two periods of the lowest pitch (65 Hz)
    # YIN at 8 kHz: pitch up to 500 Hz needs no more, and it is 3x faster (11 vs 34 ms for 4.9 s) with
    # the same contour (median difference 0.02 semitones); the voicing measures stay at 16 kHz
    narrow = librosa.resample(wave, orig_sr=SAMPLE_RATE, target_sr=SAMPLE_RATE // 2, res_type="soxr_hq")
    f0 = librosa.yin(narrow, fmin=fmin, fmax=fmax, sr=SAMPLE_RATE // 2, frame_length=frame_length // 2,
                     hop_length=HOP_LENGTH // 2, trough_threshold=0.1)
    rms = librosa.feature.rms(y=wave, frame_length=frame_length, hop_length=HOP_LENGTH)[0]
    zcr = librosa.feature.zero_crossing_rate(wave, frame_length=frame_length, hop_length=HOP_LENGTH)[0]
    # voiced: loud enough (within 30 dB of the loudest frame), few zero crossings (not a fricative),
    # and not pinned to the search limits (YIN's answer when no period is found)
    loud = 20 * np.log10(rms + 1e-10) > 20 * np.log10(rms.max() + 1e-10) - 30
    f0 = np.pad(f0, (0, max(0, len(rms) - len(f0))), mode="edge")[: len(rms)]  # the 16-kHz frames
    voiced = loud & (zcr < 0.25) & (f0 > fmin * 1.05) & (f0 < fmax * 0.95)
    semitones = np.full(f0.shape, np.nan)
    if voiced.sum() >= 3:
        reference = np.median(f0[voiced])
        semitones[voiced] = 12 * np.log2(f0[voiced] / reference)
    return fold_octaves(semitones)


def fold_octaves(semitones: np.ndarray, limit: float = 9.0) -> np.ndarray:
    """Pitch with octave errors folded back: a value more than `limit` semitones from the speaker's
    median (0) moves by whole octaves towards it. YIN on 8-kHz telephone speech halves or doubles the
    pitch on some frames (the library's tracks jumped by +-12 semitones, and a native reading got
    prosody 0); reading seldom strays 9 semitones from its median. semitones: (n_frames,), NaN
    unvoiced; returns a new array of the same shape."""
    folded = np.array(semitones, dtype=np.float64)
    far = np.abs(folded) > limit
    folded[far] -= 12.0 * np.round(folded[far] / 12.0)
    return folded


def energy_db(wave: np.ndarray) -> np.ndarray:
    """Short-time energy in dB relative to the loudest frame, floored at -60 dB.

    wave: float32, shape (n_samples,), 16 kHz. Returns float64, shape (n_frames,).
    """
    rms = librosa.feature.rms(y=wave, frame_length=N_FFT, hop_length=HOP_LENGTH)[0]
    level = 20 * np.log10(rms + 1e-10)
    return np.maximum(level - level.max(), -60.0)

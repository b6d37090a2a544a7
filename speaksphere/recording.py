"""A learner's recording: decoded audio, where the speech is, and the plain facts about it.

`load_audio` is the public entry point every other part of SpeakSphere uses: it refuses anything
that is not usable speech (including silence) with an AudioError a learner understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from .audio import SAMPLE_RATE, AudioError, AudioInfo, AudioLimits, dbfs, log_mel_spectrogram, read_audio
from .vad import PauseStats, SpeechSegment, VadConfig, pause_statistics, speech_segments

__all__ = ["Recording", "Windows", "WindowConfig", "warm_up", "load_audio", "load_recording", "frame_windows",
           "speech_samples", "speech_facts"]


@dataclass(frozen=True)
class Recording:
    """A decoded recording with its speech segments."""

    wave: np.ndarray  # float32, shape (n_samples,), mono, 16 kHz
    info: AudioInfo  # the file as it was uploaded
    segments: list[SpeechSegment]  # speech, in seconds, in time order
    pauses: PauseStats  # timing facts derived from the segments

    @property
    def duration_s(self) -> float:
        return len(self.wave) / SAMPLE_RATE


@dataclass(frozen=True)
class WindowConfig:
    """Fixed-length windows for judging a long or mixed recording as a whole."""

    window_s: float = 4.0  # seconds: long enough to hear a language, short enough to catch a switch
    hop_s: float = 4.0  # seconds between window starts; less than window_s makes windows overlap
    min_last_s: float = 1.0  # a shorter leftover at the end is too little speech to judge


@dataclass(frozen=True)
class Windows:
    """Fixed-length analysis windows over a recording (for the per-window language breakdown)."""

    samples: np.ndarray  # float32, shape (n_windows, window_samples), zero-padded at the end
    lengths: np.ndarray  # int64, shape (n_windows,): valid samples in each row
    starts_s: np.ndarray  # float64, shape (n_windows,): window start in seconds
    ends_s: np.ndarray  # float64, shape (n_windows,): window end (last valid sample) in seconds


def load_recording(
    source: str | Path | bytes,
    limits: AudioLimits = AudioLimits(),
    vad: VadConfig = VadConfig(),
    require_speech: bool = True,
) -> Recording:
    """Decode a recording and find its speech.

    Raises AudioError when the recording cannot be used, including (with `require_speech`) when
    no speech is found in it.
    """
    wave, info = read_audio(source, limits)
    segments = speech_segments(wave, vad)
    if require_speech and not segments:
        raise AudioError(
            "We could not hear any speech in this recording. Check that the microphone is on, "
            "then speak a little louder and closer to it."
        )
    return Recording(wave, info, segments, pause_statistics(segments, len(wave) / SAMPLE_RATE, vad))


def warm_up() -> None:
    """Load the VAD model and librosa's lazily compiled code now, so the first learner does not wait."""
    wave = np.zeros(SAMPLE_RATE, dtype=np.float32)
    speech_segments(wave)
    log_mel_spectrogram(wave)
    librosa.resample(wave[:4410], orig_sr=44100, target_sr=SAMPLE_RATE, res_type="soxr_hq")


def load_audio(source: str | Path | bytes, limits: AudioLimits = AudioLimits()) -> np.ndarray:
    """Read a recording that contains speech.

    Parameters
    ----------
    source: path to an audio file (wav, mp3, flac, ogg, ...) or the bytes of one.

    Returns
    -------
    float32 array, shape (n_samples,), mono, 16 kHz, DC removed, level guarded.

    Raises
    ------
    AudioError: not audio, empty, cut off or damaged, too short, too long, silent, invalid samples.
    """
    return load_recording(source, limits).wave


def frame_windows(
    wave: np.ndarray, window_s: float = WindowConfig.window_s, hop_s: float | None = None,
    min_last_s: float = WindowConfig.min_last_s,
) -> Windows:
    """Cut a recording into fixed-length windows.

    wave: float32, shape (n_samples,), 16 kHz.
    window_s: window length in seconds; hop_s: step between window starts (default: window_s,
    no overlap). A last partial window shorter than `min_last_s` is dropped unless it is the only one.
    """
    if window_s <= 0 or (hop_s is not None and hop_s <= 0):
        raise ValueError("window and hop lengths must be positive")
    width = int(round(window_s * SAMPLE_RATE))
    hop = int(round((hop_s or window_s) * SAMPLE_RATE))
    starts = list(range(0, max(len(wave) - width, 0) + 1, hop))
    if starts[-1] + width < len(wave):  # audio left after the last full window
        starts.append(starts[-1] + hop)
    lengths = [min(width, len(wave) - s) for s in starts]
    keep = [i for i, n in enumerate(lengths) if n >= min_last_s * SAMPLE_RATE or i == 0]
    samples = np.zeros((len(keep), width), dtype=np.float32)
    for row, i in enumerate(keep):
        samples[row, : lengths[i]] = wave[starts[i] : starts[i] + lengths[i]]
    starts_s = np.array([starts[i] for i in keep], dtype=np.float64) / SAMPLE_RATE
    lengths_arr = np.array([lengths[i] for i in keep], dtype=np.int64)
    return Windows(samples, lengths_arr, starts_s, starts_s + lengths_arr / SAMPLE_RATE)


def speech_samples(recording: Recording, start: float = 0.0, end: float = float("inf")) -> np.ndarray:
    """The recording's speech (its VAD segments) between start and end seconds, joined: (n_samples,),
    empty when there is none."""
    parts = [recording.wave[int(max(s.start, start) * SAMPLE_RATE) : int(min(s.end, end) * SAMPLE_RATE)]
             for s in recording.segments if s.end > start and s.start < end]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=recording.wave.dtype)


def speech_facts(recording: Recording) -> dict[str, float | int | str]:
    """Plain facts a learner can read: durations in seconds, levels in dBFS as recorded."""
    wave, p = recording.wave, recording.pauses
    in_speech = speech_samples(recording) if recording.segments else wave
    speech_rms = float(np.sqrt(np.mean(in_speech.astype(np.float64) ** 2))) if in_speech.size else 0.0
    return {
        "duration_s": round(recording.duration_s, 2),
        "speech_s": round(p.speech_s, 2),
        "speech_segments": len(recording.segments),
        "pauses": p.n_pauses,
        "pause_total_s": round(p.pause_total_s, 2),
        "longest_pause_s": round(p.longest_pause_s, 2),
        "phonation_ratio": round(p.phonation_ratio, 2),
        "speech_level_dbfs": round(dbfs(speech_rms) - recording.info.gain_db, 1),
        "peak_level_dbfs": round(recording.info.peak_dbfs, 1),
        "clipped_fraction": round(recording.info.clipped_fraction, 5),  # of samples in flat runs at full scale
        "format": recording.info.format,
        "sample_rate_hz": recording.info.sample_rate,
        "channels": recording.info.channels,
    }

"""Audio constants and decoding: any readable file or bytes -> float32 mono 16 kHz.

Every other module imports its audio constants from here. Decoding is done by soundfile
(libsndfile: wav, flac, ogg/vorbis/opus, mp3, aiff, ...; an MP3 without a frame count by FFmpeg, mp3.py),
resampling by librosa (soxr).
Anything a learner might upload that we cannot use raises AudioError with a message they understand.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from .mp3 import Mp3Error, Mp3TooLong, has_length_tag, mp3_blocks

__all__ = [
    "SAMPLE_RATE", "HOP_LENGTH", "N_FFT", "N_MELS", "FRAME_RATE",
    "AudioError", "AudioLimits", "AudioInfo", "read_audio", "log_mel_spectrogram", "dbfs", "clipped_fraction",
    "CLIPPED_DISTORTED",
]

SAMPLE_RATE = 16000  # Hz: every feature and model in SpeakSphere works at 16 kHz
N_FFT = 400  # samples: 25 ms analysis window
HOP_LENGTH = 160  # samples: 10 ms frame hop
FRAME_RATE = SAMPLE_RATE // HOP_LENGTH  # 100 spectrogram frames per second
N_MELS = 80  # mel bands, as in Whisper's and most ASR front ends

_QUIET_PEAK = 10 ** (-20 / 20)  # a peak below -20 dBFS is boosted ...
_TARGET_PEAK = 10 ** (-3 / 20)  # ... to -3 dBFS so VAD and features see a normal level
_DIGITAL_SILENCE_PEAK = 10 ** (-80 / 20)  # below -80 dBFS there is nothing to hear
_STREAMING_SIZES = {0, 0xFFFFFFFF, 0x7FFFFFFF}  # placeholder data sizes written by live recorders
_MAX_SAMPLE = 1000.0  # 60 dB over full scale: a float sample beyond this is damage, not sound
_CLIP_LEVEL = 0.999  # |x| at or above this (within 0.01 dB of full scale, and not over it) is at the ceiling
_CLIP_RUN = 3  # samples in a row at the ceiling: a flattened peak; one or two are a peak that merely touches it
CLIPPED_DISTORTED = 0.001  # a recording with 0.1% of its samples in such runs or more "may be distorted"


class AudioError(ValueError):
    """Audio that SpeakSphere cannot use; the message is written for the learner."""


@dataclass(frozen=True)
class AudioLimits:
    """What a recording must satisfy to be analysed."""

    max_seconds: float = 300.0  # 5 minutes: long enough for a read passage, short enough for a CPU
    min_seconds: float = 0.25  # a quarter second: about one short syllable
    max_megabytes: float = 256.0  # larger uploads are refused before decoding (5 min of 96 kHz stereo float is 230 MB)
    min_sample_rate: int = 4000  # Hz: telephone speech is 8 kHz; below 4 kHz no vowel formants survive
    max_sample_rate: int = 384000  # Hz: the highest rate real audio interfaces record at
    max_channels: int = 32  # more than any microphone array a learner would use
    max_decoded_samples: int = 300 * 96000 * 2  # frames x channels: 5 min of 96-kHz stereo (checked before decoding)


@dataclass(frozen=True)
class AudioInfo:
    """What the file was before it became 16 kHz mono."""

    format: str  # container, e.g. "WAV", "MP3", "FLAC", "OGG"
    sample_rate: int  # Hz, as stored
    channels: int  # as stored, before downmixing
    duration_s: float  # seconds
    peak_dbfs: float  # peak level as recorded, dB relative to full scale (0 = touching full scale)
    gain_db: float  # gain SpeakSphere applied to reach a usable level (0 when none)
    clipped_fraction: float = 0.0  # share of samples, as recorded, in runs of 3+ at full scale (clipping_fraction)


def dbfs(amplitude: float) -> float:
    """Amplitude (1.0 = full scale) in dB relative to full scale, floored at -120 dB (digital zero)."""
    return max(20 * math.log10(amplitude), -120.0) if amplitude > 0 else -120.0


def clipped_fraction(samples: np.ndarray) -> float:
    """Share (0-1) of `samples` (float (n,), as recorded, 1.0 = full scale) that lie in runs of at least
    _CLIP_RUN consecutive samples at full scale (0.999 <= |x| <= 1): what hard clipping leaves, flat
    tops. A clean recording normalised to full scale touches it on isolated samples and scores 0; a
    float file over full scale holds its peaks (they pass the ceiling's band in a sample) and scores ~0."""
    magnitude = np.abs(np.asarray(samples, dtype=np.float32))
    at_ceiling = np.concatenate([[False], (magnitude >= _CLIP_LEVEL) & (magnitude <= 1.0 + 1e-6), [False]])
    edges = np.flatnonzero(np.diff(at_ceiling.astype(np.int8)))  # run starts and ends, alternating
    lengths = edges[1::2] - edges[0::2]
    return float(lengths[lengths >= _CLIP_RUN].sum() / max(len(magnitude), 1))


def _format_minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _open(source: str | Path | bytes | bytearray) -> tuple[io.BytesIO | str, int]:
    """Return something soundfile can open, and its size in bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), len(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"We could not find the recording {path.name!r}. Please upload it again.")
        return str(path), path.stat().st_size
    raise AudioError("Please give a recording as a file or as the bytes of an audio file.")


def _check_declared_size(extra_info: str) -> None:
    """libsndfile reads a cut-off WAV silently; its header report says 'data : N (should be M)'."""
    match = re.search(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)", extra_info)
    if match:
        declared, actual = int(match.group(1)), int(match.group(2))
        if declared > actual and declared not in _STREAMING_SIZES:
            raise AudioError(
                "The recording seems cut off: its header announces more audio than the file holds. "
                "Please record or upload it again."
            )


def _tail(handle: io.BytesIO | str, n_bytes: int = 65536) -> bytes:
    """The last `n_bytes` of the file."""
    if isinstance(handle, io.BytesIO):
        return handle.getvalue()[-n_bytes:]
    with open(handle, "rb") as file:
        file.seek(max(0, Path(handle).stat().st_size - n_bytes))
        return file.read()


def _head(handle: io.BytesIO | str, n_bytes: int = 65536) -> bytes:
    """The first `n_bytes` of the file."""
    if isinstance(handle, io.BytesIO):
        return handle.getvalue()[:n_bytes]
    with open(handle, "rb") as file:
        return file.read(n_bytes)


def _check_ogg_complete(tail: bytes) -> None:
    """An Ogg stream ends with a complete page flagged end-of-stream (RFC 3533); a cut-off one does not."""
    last = tail.rfind(b"OggS")
    if last < 0 or len(tail) < last + 27:
        return
    n_segments = tail[last + 26]
    page_end = last + 27 + n_segments + sum(tail[last + 27 : last + 27 + n_segments])
    if not tail[last + 5] & 0x04 or page_end > len(tail):
        raise AudioError("The recording seems cut off before its end. Please record or upload it again.")


def _blocks(handle, frames: int = 1 << 16):
    """The file's samples, (frames, channels) float32 at a time, as decoded: a cut-off file ends early
    (soundfile's own blocks() pads a short MP3 out to its header's frame count)."""
    with sf.SoundFile(handle) as file:
        while len(block := file.read(frames, dtype="float32", always_2d=True)):
            yield block


def _decode(handle, size: int, limits: AudioLimits) -> tuple[np.ndarray, sf._SoundFileInfo]:
    """Decode to float32 mono samples, shape (n_samples,), the average of the channels, after checking
    the header (size, rate, channels, duration, decoded sample count) so nothing huge is ever decoded."""
    if size == 0:
        raise AudioError("The recording is empty (0 bytes). Please record or upload it again.")
    if size > limits.max_megabytes * 1e6:
        raise AudioError(
            f"The file is {size / 1e6:.0f} MB; the limit is {limits.max_megabytes:.0f} MB. "
            "Please upload a shorter recording."
        )
    try:
        info = sf.info(handle)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(
            "This file is not a recording we can read. Please upload WAV, MP3, FLAC or OGG audio."
        ) from error
    if not limits.min_sample_rate <= info.samplerate <= limits.max_sample_rate:
        raise AudioError(
            f"The recording's sample rate ({info.samplerate} Hz) is outside what speech needs "
            f"({limits.min_sample_rate}-{limits.max_sample_rate} Hz). Please record it again."
        )
    if not 1 <= info.channels <= limits.max_channels:
        raise AudioError(f"The recording has {info.channels} channels; at most {limits.max_channels} are accepted.")
    if info.format == "MP3" and not has_length_tag(_head(handle)):  # libsndfile's length is a guess: decode it all
        return _decode_untagged_mp3(handle, info, limits), info
    if info.frames / info.samplerate > limits.max_seconds:
        raise AudioError(
            f"The recording is {_format_minutes(info.frames / info.samplerate)} long; the limit is "
            f"{_format_minutes(limits.max_seconds)}. Please trim it or split it into parts."
        )
    if info.frames * info.channels > limits.max_decoded_samples:
        raise AudioError(
            f"The recording holds too much audio to decode ({info.channels} channels at {info.samplerate} Hz for "
            f"{_format_minutes(info.frames / info.samplerate)}). Please upload it as mono or stereo at 48 kHz or less."
        )
    _check_declared_size(info.extra_info)
    if info.format == "OGG":
        _check_ogg_complete(_tail(handle))
    if isinstance(handle, io.BytesIO):
        handle.seek(0)
    blocks = []
    try:  # one block at a time, downmixed as it comes: memory holds the mono signal, never all channels
        for block in _blocks(handle):
            if not np.all(np.isfinite(block)) or np.abs(block).max(initial=0.0) > _MAX_SAMPLE:
                raise AudioError("The recording contains invalid samples (NaN, infinity or absurd values); "
                                 "it is probably damaged.")
            # the average of all channels, summed in float64: float32 sums of huge but finite samples overflow
            blocks.append(block.mean(axis=1, dtype=np.float64).astype(np.float32))
    except (sf.SoundFileError, RuntimeError, ValueError, MemoryError) as error:
        if isinstance(error, AudioError):
            raise
        raise AudioError("The recording is damaged and could not be decoded. "
                         "Please record or upload it again.") from error
    samples = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    if info.frames > 0 and len(samples) < 0.98 * info.frames:
        raise AudioError("The recording seems cut off before its end. Please record or upload it again.")
    return samples, info


def _decode_untagged_mp3(handle, info: sf._SoundFileInfo, limits: AudioLimits) -> np.ndarray:
    """An MP3 without a frame count (no Xing/Info tag), decoded to its real end as float32 mono samples,
    shape (n_samples,); refused once it passes the duration or decoded-size limit. (libsndfile stopped
    a 29-s one at 13.7 s, or refused one with a second of leading silence as cut off.)"""
    max_frames = int(min(limits.max_seconds * info.samplerate, limits.max_decoded_samples / info.channels))
    blocks = []
    try:
        for block in mp3_blocks(handle, max_frames):
            blocks.append(block.mean(axis=1, dtype=np.float64).astype(np.float32))
    except Mp3TooLong:
        raise AudioError(f"The recording is longer than {_format_minutes(limits.max_seconds)}, the limit. "
                         "Please trim it or split it into parts.") from None
    except Mp3Error as error:
        raise AudioError("The recording is damaged and could not be decoded. "
                         "Please record or upload it again.") from error
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def read_audio(source: str | Path | bytes, limits: AudioLimits = AudioLimits()) -> tuple[np.ndarray, AudioInfo]:
    """Decode a recording to SpeakSphere's working form, without looking for speech.

    Parameters
    ----------
    source: path to an audio file, or the bytes of one (wav, mp3, flac, ogg, ...).
    limits: size, duration, rate and channel limits.

    Returns
    -------
    wave: float32, shape (n_samples,), mono, 16 kHz, DC removed, peak in [-1, 1].
    info: the file's original format, rate, channels, duration and level.
    """
    handle, size = _open(source)
    wave, file_info = _decode(handle, size, limits)
    duration_s = len(wave) / file_info.samplerate
    if duration_s < limits.min_seconds:
        raise AudioError(
            f"The recording is only {duration_s:.2f} s long; please say at least one word "
            f"({limits.min_seconds:.2f} s or more)."
        )
    clipped = clipped_fraction(wave)  # as recorded: resampling would round the flat tops off
    if file_info.samplerate != SAMPLE_RATE:
        wave = librosa.resample(wave, orig_sr=file_info.samplerate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    wave = wave - wave.mean()  # remove DC offset
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    gain = 1.0
    if peak > 1.0:  # float files can exceed full scale
        gain = 1.0 / peak
    elif _DIGITAL_SILENCE_PEAK < peak < _QUIET_PEAK:
        gain = _TARGET_PEAK / peak
    wave = np.clip(wave * gain, -1.0, 1.0).astype(np.float32)
    info = AudioInfo(
        format=file_info.format, sample_rate=int(file_info.samplerate), channels=int(file_info.channels),
        duration_s=duration_s, peak_dbfs=dbfs(peak), gain_db=dbfs(gain), clipped_fraction=clipped,
    )
    return wave, info


def log_mel_spectrogram(wave: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """Log-mel spectrogram in dB.

    wave: float32, shape (n_samples,), 16 kHz.
    Returns float32, shape (n_mels, n_frames), 10 ms hop, 25 ms window, dB relative to the maximum
    (0 dB at the loudest bin, floored at -80 dB).
    """
    mel = librosa.feature.melspectrogram(
        y=wave, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=n_mels, fmin=20, fmax=SAMPLE_RATE // 2
    )
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32)

"""Fuzzing load_audio: every malformed input either decodes to usable audio or raises AudioError with a
clear message; nothing else escapes (no soundfile, numpy, librosa or VAD exception, no crash).

About 1,300 inputs in all (the examples per test add up), generated deterministically so that CI runs
the same cases every time: random bytes, valid files of each format cut off or with bytes overwritten,
hand-built WAV headers with arbitrary rates, channel counts, sample formats and declared sizes, and
float files holding NaN, infinity and out-of-range values.
"""

from __future__ import annotations

import functools
import io
import struct

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speaksphere import AudioError, AudioLimits, load_audio
from speaksphere.tts import synthesize

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FORMATS = {  # name -> (container, subtype) as soundfile writes them
    "wav16": ("WAV", "PCM_16"), "wav-float": ("WAV", "FLOAT"), "wav-ulaw": ("WAV", "ULAW"),
    "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"), "aiff": ("AIFF", "PCM_16"), "au": ("AU", "PCM_16"),
    "caf": ("CAF", "PCM_16"), "w64": ("W64", "PCM_16"),
}
SMALL = AudioLimits(max_seconds=30.0)  # keeps any declared-huge file that does decode cheap to refuse


@functools.cache
def encoded(name: str) -> bytes:
    """About 1 s of real speech (espeak-ng) in the format `name`, as file bytes."""
    samples, rate = synthesize("Good morning.", voice="en-us")
    container, subtype = FORMATS[name]
    rate = 48000 if container == "OGG" and subtype == "OPUS" else rate  # opus only encodes 8-48 kHz rates
    if rate != 22050:
        samples = np.interp(np.arange(int(len(samples) * rate / 22050)) * 22050 / rate,
                            np.arange(len(samples)), samples).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=container, subtype=subtype)
    return buffer.getvalue()


def decodes_or_refuses(source, limits: AudioLimits = SMALL) -> None:
    """The contract: usable audio or an AudioError a learner can read; anything else fails the test."""
    try:
        wave = load_audio(source, limits)
    except AudioError as error:
        message = str(error)
        assert 10 < len(message) < 300 and message[0].isupper() and message.rstrip().endswith("."), message
        assert "Traceback" not in message and "sf_" not in message and "Error" not in message, message
        return
    assert wave.dtype == np.float32 and wave.ndim == 1 and wave.size >= 0.25 * 16000
    assert np.all(np.isfinite(wave)) and np.max(np.abs(wave)) <= 1.0


def wav_header(format_tag: int, channels: int, rate: int, bits: int, data_size: int, riff_size: int | None) -> bytes:
    """A RIFF/WAVE header with a 16-byte fmt chunk, then the data chunk's header (no samples)."""
    block_align = channels * bits // 8 & 0xFFFF
    fmt = struct.pack("<HHIIHH", format_tag, channels, rate, rate * block_align & 0xFFFFFFFF, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_size)
    return b"RIFF" + struct.pack("<I", (len(body) if riff_size is None else riff_size) & 0xFFFFFFFF) + body


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    decodes_or_refuses(data)


@settings(FUZZ, max_examples=100)
@given(st.sampled_from([b"RIFF", b"RIFF\x00\x00\x00\x00WAVE", b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"FORM", b".snd",
                        b"caff", b"riff"]), st.binary(max_size=2048))
def test_magic_numbers_followed_by_garbage(magic, rest):
    decodes_or_refuses(magic + rest)


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(sorted(FORMATS)), st.floats(0.0, 1.0, exclude_min=True))
def test_truncated_files(name, fraction):
    data = encoded(name)
    decodes_or_refuses(data[: int(len(data) * fraction)])


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(sorted(FORMATS)), st.data())
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # soundfile's own seek callback
def test_overwritten_bytes(name, draw):
    """Header fields and body bytes replaced by arbitrary values (sizes, rates, channel counts, codec data)."""
    data = bytearray(encoded(name))
    for _ in range(draw.draw(st.integers(1, 8))):
        at = draw.draw(st.integers(0, len(data) - 1) | st.integers(0, min(64, len(data) - 1)))  # headers often
        patch = draw.draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
            [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80"]))
        data[at : at + len(patch)] = patch
    decodes_or_refuses(bytes(data[: len(encoded(name))]))


@settings(FUZZ, max_examples=250)
@given(
    # each field mostly from the values that matter (codecs libsndfile knows, limits and their neighbours),
    # sometimes anything
    format_tag=st.sampled_from([1, 1, 1, 3, 3, 6, 7, 0xFFFE, 0, 2, 0x55]) | st.integers(0, 0xFFFF),
    channels=st.sampled_from([1, 2, 0, 32, 33, 64, 255, 1024, 0xFFFF]),
    rate=st.sampled_from([0, 1, 3999, 4000, 8000, 16000, 384000, 384001, 10**6, 2**31, 2**32 - 1])
    | st.integers(0, 2**32 - 1),
    bits=st.sampled_from([16, 16, 32, 32, 8, 24, 0, 1, 64, 7, 0xFFFF]),
    data_size=st.sampled_from([0, 1, 2**31, 2**32 - 1, 0x7FFFFFFF]) | st.integers(0, 2**32 - 1),
    riff_size=st.none() | st.sampled_from([0, 4, 2**32 - 1]),
    body=st.sampled_from(["none", "short", "speech", "nan", "loud"]),
)
def test_hand_built_wav_headers(format_tag, channels, rate, bits, data_size, riff_size, body):
    """Extreme rates and channel counts, unknown codecs, huge or zero declared sizes, NaN samples."""
    samples = {"none": b"", "short": b"\x01\x02\x03",
               "speech": encoded("wav16")[44:20000],
               "nan": np.full(4000, np.nan, dtype=np.float32).tobytes(),
               "loud": np.full(8000, 1e30, dtype=np.float32).tobytes()}[body]
    decodes_or_refuses(wav_header(format_tag, channels, rate, bits, data_size, riff_size) + samples)


@settings(FUZZ, max_examples=60)
@given(st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30, 3.4e38, 0.0, 1e-30]),
       st.integers(0, 15999), st.integers(1, 4), st.sampled_from([4000, 8000, 16000, 44100, 96000, 384000]))
def test_float_files_with_invalid_or_extreme_values(value, at, channels, rate):
    speech, _ = sf.read(io.BytesIO(encoded("wav16")), dtype="float32")
    samples = np.repeat(speech[:16000, None], channels, axis=1)
    samples[at : at + 10] = value
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="FLOAT")
    decodes_or_refuses(buffer.getvalue())


def test_zero_length_and_header_only_inputs():
    for source in (b"", bytearray(), memoryview(b""), b"\x00", wav_header(1, 1, 16000, 16, 0, None)):
        decodes_or_refuses(source)


def test_a_valid_recording_still_decodes():
    """The fuzz seeds themselves are usable speech: the checks above are not refusing everything."""
    for name in ("wav16", "flac", "ogg", "mp3"):
        assert load_audio(encoded(name), SMALL).size > 0.5 * 16000

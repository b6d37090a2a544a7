"""Every kind of bad input raises AudioError with a message a learner understands, and nothing else."""

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from speaksphere import SAMPLE_RATE, AudioError, AudioLimits, load_audio


def refused(source, *words, **kwargs) -> str:
    with pytest.raises(AudioError) as caught:
        load_audio(source, **kwargs)
    message = str(caught.value)
    for word in words:
        assert word in message.lower(), message
    assert "Traceback" not in message and len(message) < 300
    return message


def encoded(samples, rate, fmt="WAV", subtype=None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def test_not_audio(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("These are my notes, not a recording.\n" * 50)
    refused(path, "not a recording")
    refused(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a recording")


def test_empty(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    refused(path, "empty")
    refused(b"", "empty")


def test_missing_file(tmp_path):
    refused(tmp_path / "nowhere.wav", "could not find")


@pytest.mark.parametrize("source", [None, 42, ["a.wav"]])
def test_wrong_kind_of_source(source):
    refused(source, "file")


def test_truncated_wav(speech):
    data = encoded(*speech)
    refused(data[: len(data) // 2], "cut off")


@pytest.mark.parametrize("fmt, subtype", [("FLAC", None), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_truncated_compressed(speech, fmt, subtype):
    data = encoded(*speech, fmt=fmt, subtype=subtype)
    message = refused(data[: len(data) // 2])
    assert any(word in message for word in ("cut off", "damaged", "not a recording")), message


def test_header_declaring_a_huge_size(speech):
    data = bytearray(encoded(*speech))
    data[40:44] = struct.pack("<I", 2**31)  # the data chunk claims 2 GB
    refused(bytes(data), "cut off")


def test_corrupt_body_after_a_valid_header(speech):
    data = encoded(*speech, fmt="FLAC")
    garbage = np.random.default_rng(0).integers(0, 256, len(data) - 200, dtype=np.uint8).tobytes()
    refused(data[:200] + garbage)


def test_too_short(write):
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(1600) / SAMPLE_RATE)  # 0.1 s
    refused(write(tone, SAMPLE_RATE), "0.10 s", "at least")


def test_too_long_with_a_configurable_limit(speech, write):
    samples, rate = speech
    path = write(np.tile(samples, 3), rate)
    refused(path, "limit is 5 s", limits=AudioLimits(max_seconds=5.0))
    assert load_audio(path).size > 0  # the default 5-minute limit accepts it


def test_default_limit_is_five_minutes(write):
    path = write(np.zeros(301 * 8000, dtype=np.int16), 8000, subtype="PCM_16")
    refused(path, "5 min 1 s", "limit is 5 min")


def test_bigger_than_the_byte_limit(speech, write):
    refused(write(*speech), "mb", limits=AudioLimits(max_megabytes=0.01))


def test_digital_silence(write):
    refused(write(np.zeros(2 * SAMPLE_RATE), SAMPLE_RATE), "speech")


def test_room_noise_without_speech(write):
    noise = 0.003 * np.random.default_rng(1).standard_normal(3 * SAMPLE_RATE)
    refused(write(noise, SAMPLE_RATE, subtype="FLOAT"), "could not hear any speech")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_invalid_samples(speech, write, bad):
    samples, rate = speech
    samples = samples.copy()
    samples[1000:1010] = bad
    refused(write(samples, rate, subtype="FLOAT"), "invalid samples")


@pytest.mark.parametrize("rate", [1000, 768000])
def test_extreme_sample_rates(speech, write, rate):
    refused(write(speech[0][:rate], rate, subtype="FLOAT"), "sample rate")


def test_too_many_channels(speech, write):
    samples, rate = speech
    wide = np.repeat(samples[: rate // 2, None], 40, axis=1)
    refused(write(wide, rate, subtype="PCM_16"), "40 channels")


@pytest.mark.parametrize("bad", [1e38, -3e4])
def test_absurd_float_samples(speech, write, bad):
    """Float samples near 1e38 were accepted and reported at +749 dBFS."""
    samples = speech[0].copy()
    samples[1000:1010] = bad
    refused(write(samples, speech[1], subtype="FLOAT"), "invalid samples")


def test_a_small_file_that_would_decode_to_gigabytes_is_refused_unread(tmp_path):
    """A 1-MB FLAC of 8 channels at 384 kHz for 300 s took 22.7 s and 5.4 GB before it was refused: the
    decoded sample count is checked from the header, before anything is decoded."""
    import resource

    path = tmp_path / "wide.flac"
    silence = np.zeros((384000, 8), dtype=np.int16)
    with sf.SoundFile(path, "w", samplerate=384000, channels=8, format="FLAC", subtype="PCM_16") as out:
        for _ in range(300):  # 5 min of digital silence compresses to almost nothing
            out.write(silence)
    assert path.stat().st_size < 5_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(path, "too much audio")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing was decoded

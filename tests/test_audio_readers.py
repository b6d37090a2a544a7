"""load_audio reads every supported format and returns float32 mono 16 kHz."""

import numpy as np
import pytest

from speaksphere import SAMPLE_RATE, load_audio
from speaksphere.audio import read_audio


@pytest.mark.parametrize("fmt, subtype", [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_24"),
                                          ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_reads_each_format_to_16k_mono(speech, write, fmt, subtype):
    samples, rate = speech
    wave = load_audio(write(samples, rate, fmt, subtype))
    assert wave.dtype == np.float32 and wave.ndim == 1
    expected = len(samples) * SAMPLE_RATE / rate
    # mp3 encoders add up to a frame or two of padding
    assert abs(len(wave) - expected) < 0.06 * SAMPLE_RATE
    assert np.max(np.abs(wave)) <= 1.0


def test_path_and_bytes_give_the_same_samples(speech, write):
    path = write(*speech)
    np.testing.assert_array_equal(load_audio(path), load_audio(path.read_bytes()))
    np.testing.assert_array_equal(load_audio(path), load_audio(str(path)))


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_resamples_any_rate_to_16k(speech, write, rate):
    import librosa

    samples, original = speech
    resampled = librosa.resample(samples, orig_sr=original, target_sr=rate)
    wave = load_audio(write(resampled, rate))
    assert abs(len(wave) - len(samples) * SAMPLE_RATE / original) <= 2


def test_downmixes_channels_to_their_mean(speech, write):
    samples, rate = speech
    stereo = np.stack([samples, 0.5 * samples], axis=1)
    mono = load_audio(write(samples * 0.75, rate, subtype="FLOAT"))
    downmixed = load_audio(write(stereo, rate, subtype="FLOAT"))
    np.testing.assert_allclose(downmixed, mono, atol=1e-4)


def test_removes_dc_offset(speech, write):
    samples, rate = speech
    wave = load_audio(write(samples * 0.5 + 0.3, rate, subtype="FLOAT"))
    assert abs(float(wave.mean())) < 1e-4


def test_quiet_recording_is_raised_to_a_usable_level(speech, write):
    samples, rate = speech
    wave, info = read_audio(write(samples * 0.01, rate, subtype="FLOAT"))
    assert info.peak_dbfs < -30 and info.gain_db > 20
    assert 0.5 < np.max(np.abs(wave)) <= 1.0


def test_over_full_scale_float_audio_is_scaled_down(speech, write):
    samples, rate = speech
    wave, info = read_audio(write(samples * 4.0, rate, subtype="FLOAT"))
    assert info.peak_dbfs > 0 and info.gain_db < 0
    assert np.max(np.abs(wave)) <= 1.0
    # scaled, not clipped: the waveform keeps its shape
    reference = load_audio(write(samples, rate, subtype="FLOAT"))
    assert np.corrcoef(wave, reference)[0, 1] > 0.999


def test_info_describes_the_original_file(speech, write):
    samples, rate = speech
    _, info = read_audio(write(np.stack([samples, samples], axis=1), rate, "FLAC"))
    assert (info.format, info.sample_rate, info.channels) == ("FLAC", rate, 2)
    assert info.duration_s == pytest.approx(len(samples) / rate)


def variable_bitrate_mp3_without_tag(wave: np.ndarray, rate: int) -> bytes:
    """`wave` as a variable-bitrate MP3 whose first frame (the encoder's Xing tag, its frame count) is cut
    away, as some encoders and cutters leave it."""
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="MP3", bitrate_mode="VARIABLE", compression_level=0.5)
    data = buffer.getvalue()
    tag = data.find(b"Xing")
    assert 0 <= tag < 100
    return data[data.find(data[:2], tag):]  # from the next frame's sync word (the same header bytes) on


@pytest.mark.parametrize("opening", ["loud", "silent"])
def test_a_variable_bitrate_mp3_without_a_frame_count_is_read_to_its_end(opening):
    """Low (issue 41): libsndfile estimated the length from the first frame's bitrate: a 29-s recording was
    read as 13.7 s, and one opening with a second of silence was refused as cut off."""
    from speaksphere.mp3 import has_length_tag

    rate = 16000
    t = np.arange(29 * rate) / rate
    wave = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    if opening == "loud":  # noise: a high bitrate first, so the estimate is far too short
        wave[: 2 * rate] = np.random.default_rng(0).normal(0, 0.3, 2 * rate)
    else:  # a second of silence: a low bitrate first, so the estimate is too long
        wave[:rate] = 0.0
        wave[5 * rate: 8 * rate] = np.random.default_rng(0).normal(0, 0.3, 3 * rate)
    data = variable_bitrate_mp3_without_tag(wave, rate)
    assert not has_length_tag(data[:65536])
    samples, info = read_audio(data)
    assert abs(info.duration_s - 29.0) < 0.2 and abs(len(samples) - 29 * SAMPLE_RATE) < 0.2 * SAMPLE_RATE


def test_an_mp3_without_a_frame_count_is_still_bounded_in_length():
    from speaksphere.audio import AudioError, AudioLimits

    rate = 16000
    wave = (0.1 * np.sin(2 * np.pi * 220 * np.arange(29 * rate) / rate)).astype(np.float32)
    with pytest.raises(AudioError, match="longer than 10 s"):
        read_audio(variable_bitrate_mp3_without_tag(wave, rate), AudioLimits(max_seconds=10.0))

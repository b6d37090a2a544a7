"""Silero VAD finds planted speech, trims silence and measures pauses."""

import pytest

from speaksphere import SAMPLE_RATE, load_recording
from speaksphere.vad import SpeechSegment, VadConfig, pause_statistics, trim_silence


def test_segments_match_the_planted_speech(speech_with_pause, write):
    wave, rate, planted = speech_with_pause
    recording = load_recording(write(wave, rate))
    onsets = [s.start for s in recording.segments]
    offsets = [s.end for s in recording.segments]
    assert onsets[0] == pytest.approx(planted[0][0], abs=0.15)
    assert offsets[-1] == pytest.approx(planted[1][1], abs=0.15)
    # nothing is called speech inside the planted 1.2 s silence
    gap_start, gap_end = planted[0][1] + 0.15, planted[1][0] - 0.15
    assert not any(s.start < gap_end and s.end > gap_start for s in recording.segments)


def test_pause_statistics_find_the_planted_pause(speech_with_pause, write):
    wave, rate, planted = speech_with_pause
    pauses = load_recording(write(wave, rate)).pauses
    assert pauses.n_pauses >= 1
    assert pauses.longest_pause_s == pytest.approx(planted[1][0] - planted[0][1], abs=0.2)
    assert pauses.leading_silence_s == pytest.approx(1.0, abs=0.15)
    assert pauses.trailing_silence_s == pytest.approx(0.5, abs=0.2)
    assert 0 < pauses.phonation_ratio < 1
    assert pauses.speech_s + pauses.pause_total_s <= pauses.duration_s


def test_pause_statistics_by_hand():
    segments = [SpeechSegment(0.5, 1.5), SpeechSegment(1.6, 2.0), SpeechSegment(2.5, 3.5)]
    stats = pause_statistics(segments, 4.0, VadConfig(min_pause_s=0.25))
    assert stats.n_pauses == 1  # the 0.1 s gap is too short to count
    assert stats.pause_total_s == pytest.approx(0.5)
    assert stats.speech_s == pytest.approx(2.4)
    assert stats.phonation_ratio == pytest.approx(2.4 / 3.0)
    assert (stats.leading_silence_s, stats.trailing_silence_s) == pytest.approx((0.5, 0.5))


def test_no_segments_means_no_speech():
    stats = pause_statistics([], 2.0)
    assert stats.speech_s == 0 and stats.n_pauses == 0 and stats.leading_silence_s == 2.0


def test_trim_silence_keeps_the_speech_and_a_margin(speech_with_pause, write):
    wave, rate, planted = speech_with_pause
    recording = load_recording(write(wave, rate))
    trimmed = trim_silence(recording.wave, recording.segments, pad_s=0.05)
    speech_span = planted[1][1] - planted[0][0]
    assert len(trimmed) / SAMPLE_RATE == pytest.approx(speech_span + 0.1, abs=0.3)
    assert len(trimmed) < len(recording.wave)
    assert trim_silence(recording.wave, []) is recording.wave


def test_config_changes_what_counts_as_a_pause(speech_with_pause, write):
    wave, rate, _ = speech_with_pause
    lenient = load_recording(write(wave, rate), vad=VadConfig(min_pause_s=5.0))
    assert lenient.pauses.n_pauses == 0


def test_batched_network_gives_silero_own_probabilities(speech_with_pause, monkeypatch):
    """The chunks batched through Silero's network (and its LSTM run as one sequence) give the
    probabilities of Silero's own per-chunk loop, also when a long recording is cut into blocks."""
    import librosa
    import torch
    from silero_vad import load_silero_vad

    from speaksphere import vad

    wave, rate, _ = speech_with_pause
    wave = librosa.resample(wave, orig_sr=rate, target_sr=SAMPLE_RATE).astype("float32")
    model = load_silero_vad(onnx=False)
    for length in (len(wave), len(wave) - 100, 1000, 512):  # Silero's own loop refuses under 512
        audio = torch.from_numpy(wave[:length].copy())
        with torch.inference_mode():
            expected = model.audio_forward(audio, SAMPLE_RATE)[0]
        for block in (vad._BLOCK, 7):  # 7 chunks: the LSTM state is carried across blocks
            monkeypatch.setattr(vad, "_BLOCK", block)
            found = vad._silero().probabilities(audio)
            assert found.shape == expected.shape
            # float32 sums in another order: 1.7e-5 apart on this CI machine's CPU (Haswell kernels)
            assert torch.allclose(found, expected, atol=5e-5), float((found - expected).abs().max())
        if length == len(wave):
            assert float(expected.max()) > 0.9 and float(expected.min()) < 0.1  # speech and silence both there


def test_segments_are_silero_own_loop_and_safe_across_threads(speech_with_pause):
    """The batched network gives Silero's own speech segments, also when several threads use it at once."""
    from concurrent.futures import ThreadPoolExecutor

    import librosa
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    from speaksphere.vad import speech_segments

    wave, rate, _ = speech_with_pause
    wave = librosa.resample(wave, orig_sr=rate, target_sr=SAMPLE_RATE).astype("float32")
    config = VadConfig()
    stamps = get_speech_timestamps(torch.from_numpy(wave), load_silero_vad(onnx=False), threshold=config.threshold,
                                   sampling_rate=SAMPLE_RATE, min_speech_duration_ms=int(config.min_speech_s * 1000),
                                   min_silence_duration_ms=int(config.min_silence_s * 1000),
                                   speech_pad_ms=int(config.speech_pad_s * 1000))
    expected = [SpeechSegment(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]
    waves = [wave, wave[: len(wave) // 2], wave] * 4  # different lengths interleaved
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(speech_segments, waves))
    assert found[0] == expected and found[2] == expected
    assert all(f == found[1] for f in found[1::3])
    assert speech_segments(wave[:100]) == [] and speech_segments(wave[:0]) == []

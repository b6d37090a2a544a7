"""Clipping is judged by runs of samples flattened at full scale, not by a peak that touches it (issue 39)."""

import librosa
import numpy as np

from speaksphere.audio import CLIPPED_DISTORTED, clipped_fraction, read_audio
from speaksphere.coach.explain import describe_speech
from speaksphere.recording import load_recording, speech_facts


def _normalised(samples: np.ndarray, touching: int) -> np.ndarray:
    """A clean clip scaled so that exactly `touching` isolated samples reach full scale."""
    centred = samples - samples.mean()  # no DC offset: the reader removes it, which would lower the peak
    scaled = centred / np.max(np.abs(centred)) * 0.95
    loudest = np.argsort(np.abs(scaled))[::-1]
    chosen = []
    for index in loudest:  # isolated peaks: no two chosen samples side by side
        if all(abs(index - c) > 2 for c in chosen):
            chosen.append(index)
        if len(chosen) == touching:
            break
    scaled[chosen] = np.sign(scaled[chosen])
    return scaled.astype(np.float32)


def test_isolated_peaks_at_full_scale_are_not_clipping(speech, write):
    samples, rate = librosa.resample(speech[0], orig_sr=speech[1], target_sr=16000), 16000  # read as it is
    clean = _normalised(samples, touching=5)
    assert np.sum(np.abs(clean) >= 0.999) == 5
    _, info = read_audio(write(clean, rate, subtype="PCM_16"))
    assert info.peak_dbfs > -0.01  # it does touch full scale ...
    assert info.clipped_fraction == 0.0  # ... but nothing is flattened
    facts = speech_facts(load_recording(write(clean, rate, subtype="PCM_16")))
    assert "distorted" not in describe_speech(facts)


def test_hard_clipped_recording_may_be_distorted(speech, write):
    samples, rate = speech
    clipped = np.clip(samples / np.max(np.abs(samples)) * 4.0, -1.0, 1.0).astype(np.float32)
    path = write(clipped, rate, subtype="PCM_16")
    _, info = read_audio(path)
    assert info.clipped_fraction >= CLIPPED_DISTORTED
    assert "may be distorted" in describe_speech(speech_facts(load_recording(path)))


def test_float_audio_over_full_scale_is_not_clipped(speech, write):
    samples, rate = speech
    _, info = read_audio(write(samples / np.max(np.abs(samples)) * 4.0, rate, subtype="FLOAT"))
    assert info.clipped_fraction < CLIPPED_DISTORTED  # the file holds its peaks: scaled down, not clipped


def test_runs_are_counted_from_three_samples():
    wave = np.zeros(1000, dtype=np.float32)
    wave[100:102] = 1.0  # two in a row: a peak
    wave[200:204] = -1.0  # four in a row: a flat top
    assert clipped_fraction(wave) == 4 / 1000

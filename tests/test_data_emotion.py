"""Emotion renderings move pitch, tempo and level in the directions the literature reports."""

import librosa
import numpy as np
import pytest

from speaksphere.audio import SAMPLE_RATE
from speaksphere.data.emotion import PROFILES, jittered, resynthesise, world_available


@pytest.fixture(scope="module")
def neutral(speech):
    samples, rate = speech
    return librosa.resample(samples, orig_sr=rate, target_sr=SAMPLE_RATE)


def _median_f0(wave):
    f0, voiced, _ = librosa.pyin(wave, fmin=60, fmax=500, sr=SAMPLE_RATE, frame_length=1024)
    return float(np.nanmedian(f0[voiced]))


def test_profiles_follow_the_literature_directions():
    happy, sad, angry = PROFILES["happy"], PROFILES["sad"], PROFILES["angry"]
    assert happy.pitch_semitones > 0 and angry.pitch_semitones > 0 > sad.pitch_semitones
    assert happy.pitch_range > 1 and angry.pitch_range > 1 > sad.pitch_range
    assert angry.tempo > 1 > sad.tempo and angry.gain_db > 0 > sad.gain_db
    assert PROFILES["neutral"].pitch_semitones == 0


@pytest.mark.parametrize("use_world", [True, False])
def test_resynthesis_moves_pitch_and_tempo(neutral, use_world):
    if use_world and not world_available():
        pytest.skip("pyworld is not installed")
    base = _median_f0(neutral)
    happy = resynthesise(neutral, PROFILES["happy"], use_world=use_world)
    sad = resynthesise(neutral, PROFILES["sad"], use_world=use_world)
    assert _median_f0(happy) > base * 1.08 and _median_f0(sad) < base * 0.95
    assert len(sad) > len(neutral) * 1.1 > len(neutral) > len(happy)
    assert np.max(np.abs(happy)) <= 1.0


def test_jitter_stays_near_the_profile():
    rng = np.random.default_rng(0)
    draws = [jittered(PROFILES["sad"], rng) for _ in range(50)]
    assert all(abs(d.pitch_semitones - PROFILES["sad"].pitch_semitones) <= 1.0 for d in draws)
    assert len({round(d.tempo, 4) for d in draws}) > 40

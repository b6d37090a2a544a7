"""espeak-ng synthesis from the espeakng-loader wheel."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from speaksphere.tts import ESPEAK_SAMPLE_RATE, SynthesisError, synthesize


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-gb-scotland", "fr", "de", "es", "it", "en-us+f3"])
def test_voices_speak(voice):
    samples, rate = synthesize("One, two, three.", voice=voice)
    assert rate == ESPEAK_SAMPLE_RATE and samples.dtype == np.float32
    assert 0.4 < len(samples) / rate < 4.0
    assert 0.05 < np.max(np.abs(samples)) <= 1.0


def test_slower_rate_gives_longer_speech():
    fast, _ = synthesize("This sentence is spoken at two speeds.", rate_wpm=220)
    slow, _ = synthesize("This sentence is spoken at two speeds.", rate_wpm=110)
    assert len(slow) > 1.5 * len(fast)


def test_phoneme_input_changes_the_sound():
    plain, _ = synthesize("ship")
    phonemes, _ = synthesize("[[S'i:p]]")  # "sheep"
    assert len(plain) != len(phonemes) or not np.allclose(plain, phonemes)


@pytest.mark.parametrize("text, voice", [("", "en-us"), ("   ", "en-us"), ("hello", "xx-nowhere")])
def test_bad_requests_raise(text, voice):
    with pytest.raises(SynthesisError):
        synthesize(text, voice=voice)


@pytest.mark.parametrize("voice", ["en-us", "en-gb+f2"])  # +f2 adds "breath" noise
def test_same_arguments_give_the_same_samples(voice):
    """espeak-ng's state used to carry from call to call (the same text a few samples longer or
    shorter), and its breath noise was random, so a typed text's reference changed between app
    restarts and scores with it."""
    first, _ = synthesize("The same words, twice.", voice=voice)
    synthesize("Something else in between.", voice="fr", rate_wpm=220)
    second, _ = synthesize("The same words, twice.", voice=voice)
    assert np.array_equal(first, second)


def test_breath_noise_is_the_same_in_every_process():
    """espeak-ng seeds the noise of its "breath" voices differently in every process unless told."""
    code = ("import hashlib; from speaksphere.tts import synthesize; "
            "print(hashlib.md5(synthesize('Breath noise.', voice='en-gb+f2')[0].tobytes()).hexdigest())")
    root = Path(__file__).resolve().parents[1]
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
            for _ in range(2)}
    assert len(runs) == 1

"""Every TTS engine speaks 16 kHz audio; Debian engines are tested where they are installed."""

import numpy as np
import pytest

from speaksphere.audio import SAMPLE_RATE
from speaksphere.data.engines import Prosody, available, render

CASES = [("espeak", "en-gb-scotland+f3"), ("espeak", "fr"), ("pico", "en-GB"), ("flite", "awb"),
         ("mbrola", "mb-de1-en")]


@pytest.mark.parametrize("engine, voice", CASES)
def test_engine_speaks_trimmed_16k_audio(engine, voice):
    if not available(engine):
        pytest.skip(f"{engine} is not installed (the corpus builder installs it)")
    if engine == "mbrola" and not __import__("pathlib").Path("/usr/share/mbrola/de1/de1").is_file():
        pytest.skip("mbrola-de1 is not installed")
    wave = render(engine, voice, "Turn the kitchen light on, please.")
    assert wave.dtype == np.float32 and 0.8 * SAMPLE_RATE < len(wave) < 5 * SAMPLE_RATE
    assert abs(np.max(np.abs(wave)) - 10 ** (-3 / 20)) < 0.01
    slow = render(engine, voice, "Turn the kitchen light on, please.", Prosody(tempo=0.7))
    assert len(slow) > 1.2 * len(wave)

"""Every TTS engine speaks 16 kHz audio; Debian and PyPI engines are tested where they are installed."""

import numpy as np
import pytest

from speaksphere.audio import SAMPLE_RATE
from speaksphere.data.engines import Prosody, available, festival_text, render, voice_available

ENGLISH = "Turn the kitchen light on, please."
CASES = [("espeak", "en-gb-scotland+f3", ENGLISH), ("espeak", "fr", ENGLISH), ("pico", "en-GB", ENGLISH),
         ("flite", "awb", ENGLISH), ("mbrola", "mb-de1-en", ENGLISH),
         ("festival", "kal_diphone", ENGLISH),  # diphone: tempo by Duration_Stretch
         ("festival", "cmu_us_slt_arctic_hts", ENGLISH),  # HTS: tempo by the engine's speed rate
         ("festival", "pc_diphone", "La città è più bella di sera."),  # Latin-1 text
         ("festival", "msu_ru_nsh_clunits", "Кошка спит на диване."),  # unit selection: tempo by WORLD
         ("piper", "en_US-joe-medium", ENGLISH),
         ("rhvoice", "aleksandr-hq", "Кошка спит на диване.")]  # the learners' Russian phrases' voice


@pytest.mark.parametrize("engine, voice, text", CASES)
def test_engine_speaks_trimmed_16k_audio(engine, voice, text):
    if not available(engine):
        pytest.skip(f"{engine} is not installed (the corpus builder installs it)")
    if not voice_available(engine, voice):
        pytest.skip(f"{engine} voice {voice} is not installed (the corpus builder installs it)")
    wave = render(engine, voice, text)
    assert wave.dtype == np.float32 and 0.8 * SAMPLE_RATE < len(wave) < 5 * SAMPLE_RATE
    assert abs(np.max(np.abs(wave)) - 10 ** (-3 / 20)) < 0.01
    assert np.sqrt(np.mean(wave**2)) > 0.03  # speech, not a click in silence
    # piper draws its phone durations at random (its ratio ranged 1.19-1.35 over five pairs): three of each
    repeats = 3 if engine == "piper" else 1
    normal = len(wave) + sum(len(render(engine, voice, text)) for _ in range(repeats - 1))
    slow = sum(len(render(engine, voice, text, Prosody(tempo=0.7))) for _ in range(repeats))
    assert slow > 1.2 * normal


def test_festival_reads_latin1_and_cyrillic_as_utf8():
    assert festival_text("La città è più bella.") == "La città è più bella.".encode("latin-1")
    assert festival_text("¿Dónde está?") == " Dónde está?".encode("latin-1")  # el_diphone spells "¿" out
    assert festival_text("Кошка спит.") == "Кошка спит.".encode()
    assert festival_text("It’s here…") == b"It's here..."


def test_missing_voices_are_reported():
    assert not voice_available("festival", "no_such_diphone")
    assert not voice_available("piper", "xx_XX-nobody-medium")
    assert not voice_available("mbrola", "mb-zz9")


def test_engine_wheels_are_pinned_as_in_requirements_data():
    """The builder installs PyPI engines itself (engines.PYPI_PACKAGES); requirements-data.txt lists the
    same pins for whoever installs by hand. One pin changed without the other would build another corpus."""
    from pathlib import Path

    from speaksphere.data.engines import PYPI_PACKAGES

    listed = {line.split("#")[0].strip() for line in
              (Path(__file__).resolve().parents[1] / "requirements-data.txt").read_text().splitlines()}
    for engine, pins in PYPI_PACKAGES.items():
        for pin in pins:
            assert pin in listed, f"{engine}: {pin} is not pinned the same way in requirements-data.txt"

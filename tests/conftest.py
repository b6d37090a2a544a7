"""Shared fixtures: real speech synthesised with espeak-ng, written to files in every format."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from speaksphere.tts import synthesize

SENTENCE = "Please call Stella. Ask her to bring these things with her from the store."


@pytest.fixture(scope="session")
def speech() -> tuple[np.ndarray, int]:
    """About 4 s of English speech: float32 mono samples at 22050 Hz."""
    return synthesize(SENTENCE, voice="en-us")


@pytest.fixture(scope="session")
def speech_with_pause() -> tuple[np.ndarray, int, list[tuple[float, float]]]:
    """Silence 1.0 s, a phrase, silence 1.2 s, a phrase, silence 0.5 s; with the planted speech times (s)."""
    first, rate = synthesize("Good morning.", voice="en-gb")
    second, _ = synthesize("How are you today?", voice="en-gb")
    gap = lambda seconds: np.zeros(int(seconds * rate), dtype=np.float32)  # noqa: E731
    wave = np.concatenate([gap(1.0), first, gap(1.2), second, gap(0.5)])
    t1 = 1.0 + len(first) / rate
    t2 = t1 + 1.2
    return wave, rate, [(1.0, t1), (t2, t2 + len(second) / rate)]


@pytest.fixture
def write(tmp_path):
    """write(samples, rate, fmt="WAV", subtype=None) -> path of a new file in the test's folder."""
    counter = iter(range(10_000))

    def _write(samples: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = None):
        path = tmp_path / f"clip{next(counter)}.{fmt.lower()}"
        sf.write(path, samples, rate, format=fmt, subtype=subtype)
        return path

    return _write

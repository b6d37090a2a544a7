"""Shared fixtures: real speech synthesised with espeak-ng, written to files in every format."""

from __future__ import annotations

import hypothesis
import numpy as np
import pytest
import soundfile as sf

from speaksphere.tts import synthesize

# No property test has a time limit: speed is measured by benchmarks, never asserted on these noisy
# machines (hypothesis' default 200-ms deadline failed CI once: a first example took 689 ms while
# hypothesis imported its own modules, the next 0.4 ms)
hypothesis.settings.register_profile("speaksphere", deadline=None)
hypothesis.settings.load_profile("speaksphere")

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


# Labels of the untrained model the app tests serve (the contract's label names, a few of each).
APP_TEST_TASKS = {"language": ["en", "fr", "de", "es", "it", "ru"],
                  "accent": ["en-US", "en-GB", "L1-de", "L1-fr"],
                  "emotion": ["neutral", "happy", "sad", "angry"],
                  "command": ["yes", "no", "stop", "go", "_unknown_", "_silence_"]}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A model folder with configs/tiny.yaml's architecture and random weights, built once per session.

    The app tests check wiring, not accuracy: its predictions are meaningless but well formed."""
    from pathlib import Path

    import torch
    import yaml
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

    from speaksphere.model import SpeakSphereConfig, SpeakSphereModel

    tiny = yaml.safe_load((Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml").read_text())["model"]
    torch.manual_seed(0)
    config = SpeakSphereConfig(backbone=Wav2Vec2Config(**tiny["backbone"]).to_dict(), tasks=APP_TEST_TASKS,
                               head_hidden=tiny["head_hidden"])
    folder = tmp_path_factory.mktemp("tiny-model")
    SpeakSphereModel(config).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A fresh learner database file for the app a test module serves."""
    return tmp_path_factory.mktemp("learners") / "learners.sqlite3"


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server for the session (tests/postgres.py), stopped and removed after it."""
    from postgres import start_cluster

    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """A fresh, empty database on the session's PostgreSQL server: its postgresql:// URL."""
    return postgres_cluster.new_database()

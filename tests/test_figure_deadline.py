"""Figures never hang: they come within the time limit of the answer, or a message says they are left out (issue 39)."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from speaksphere.coach import Coach, CoachError, service
from speaksphere.coach.deadline import within
from speaksphere.settings import Settings


def test_within_returns_a_quick_drawing_and_refuses_a_slow_one():
    assert within(lambda: 42, 1.0) == 42
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        within(lambda: time.sleep(2.0), 0.2)
    assert time.monotonic() - started < 1.0  # waited for the limit, not for the drawing


def test_within_counts_the_time_since_the_answer():
    ran = threading.Event()
    with pytest.raises(TimeoutError):
        within(ran.set, 5.0, since=time.monotonic() - 6.0)  # the answer came 6 s ago: no time left
    assert not ran.is_set()


def test_a_stuck_figure_gives_the_learner_a_message(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(service, "plot_recording", lambda recording: release.wait(10))  # stuck until released
    coach = Coach(Settings(), predictor=None, recommender=None, model_dir=Path("model"), figures_limit_s=0.3)
    recording = type("R", (), {"duration_s": 1.0, "wave": np.zeros(16000, np.float32)})()
    drawing = {"kind": "analysis", "recording": recording, "predictions": {}, "made_at": time.monotonic()}
    started = time.monotonic()
    try:
        with pytest.raises(CoachError, match="within 0.3 s of the answer.*left out this time"):
            coach.draw_analysis(drawing)
    finally:
        release.set()
    assert time.monotonic() - started < 2.0

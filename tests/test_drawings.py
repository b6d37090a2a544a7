"""Issue 41, finding 3: figure state of 5-minute analyses kept ~60 MiB per browser session for 15 minutes
(40 sessions: +1,266 MiB). What the figure calls draw from is now kept by the coach, bounded in bytes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from speaksphere.coach import CoachError, load_coach, settings_with_model
from speaksphere.coach.drawings import Drawings, nbytes
from speaksphere.learner.recommend import RecommendConfig
from speaksphere.learner.store import StoreConfig
from speaksphere.settings import Settings


def test_drawings_are_bounded_in_bytes_and_time():
    drawings = Drawings(max_bytes=3 * 8_000_000 + 10_000, ttl_s=900)
    tokens = [drawings.keep({"wave": np.zeros(1_000_000)}, now=t) for t in range(5)]  # 8 MB each
    assert drawings.bytes <= drawings.max_bytes
    assert drawings.take(tokens[0], now=5) is None and drawings.take(tokens[1], now=5) is None  # the oldest left
    assert drawings.take(tokens[2], now=5) is not None and drawings.take(tokens[2], now=5) is None  # drawn once
    assert drawings.take(tokens[3], now=4 + 900) is None  # none outlives ttl_s
    assert drawings.bytes == 0
    assert drawings.take("no-such-token") is None and drawings.take(None) is None
    assert nbytes({"a": [np.zeros(10, np.float32)], "b": 1}) == 40 + 2 * 1024 + 64


def test_a_session_holds_a_token_and_the_coach_a_bounded_store(tiny_model_dir, database, speech, tmp_path):
    coach = load_coach(settings_with_model(Settings(), tiny_model_dir), RecommendConfig(store=StoreConfig(path=str(database))))
    path = tmp_path / "speech.wav"
    sf.write(path, *speech)
    first = coach.analyze(str(path), figures=False)["drawing"]
    assert isinstance(first, str) and len(first) < 64  # what a browser session keeps
    size = coach.drawings.bytes
    assert set(coach.draw_analysis(first)) == {"figure", "predictions_figure"}
    assert coach.drawings.bytes == 0  # drawn: nothing left pinned
    coach.drawings.max_bytes = size + 1000  # room for one analysis only
    abandoned = coach.analyze(str(path), figures=False)["drawing"]  # its figures never asked for
    second = coach.analyze(str(path), figures=False)["drawing"]
    assert coach.drawings.bytes <= coach.drawings.max_bytes
    assert coach.draw_analysis(second)
    with pytest.raises(CoachError, match="no longer kept"):
        coach.draw_analysis(abandoned)

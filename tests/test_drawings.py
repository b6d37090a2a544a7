"""Issue 41, finding 3: figure state of 5-minute analyses kept ~60 MiB per browser session for 15 minutes
(40 sessions: +1,266 MiB). What the figure calls draw from is now kept by the coach, bounded in bytes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from speaksphere.coach import CoachError, load_coach, settings_with_model
from speaksphere.coach.drawings import Drawings, nbytes
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


def test_one_client_cannot_push_out_everyone_elses_drawings():
    """Issue 41: one client sending analyses and never asking for their figures filled the whole store and
    evicted every other client's drawing; now it evicts only its own oldest."""
    drawings = Drawings(max_bytes=10 * 8_000_000 + 10_000, ttl_s=900, max_client_bytes=3 * 8_000_000 + 10_000)
    others = [drawings.keep({"wave": np.zeros(1_000_000)}, client, now=0) for client in ("10.0.0.2", "10.0.0.3")]
    flood = [drawings.keep({"wave": np.zeros(1_000_000)}, "10.0.0.66", now=1 + i) for i in range(50)]
    assert drawings.client_bytes("10.0.0.66") <= drawings.max_client_bytes
    assert drawings.bytes <= drawings.max_bytes
    for token in others:
        assert drawings.take(token, now=60) is not None  # everyone else's drawing is still there
    assert [drawings.take(t, now=60) is not None for t in flood] == [False] * 47 + [True] * 3  # its own newest three
    assert drawings.bytes == 0 and drawings.client_bytes("10.0.0.66") == 0
    too_big = drawings.keep({"wave": np.zeros(4_000_000)}, "10.0.0.2", now=61)  # over one client's share
    assert drawings.take(too_big, now=61) is None and drawings.bytes == 0


def test_a_session_holds_a_token_and_the_coach_a_bounded_store(tiny_model_dir, database, speech, tmp_path):
    coach = load_coach(settings_with_model(Settings(store=StoreConfig(path=str(database))), tiny_model_dir))
    path = tmp_path / "speech.wav"
    sf.write(path, *speech)
    first = coach.analyze(str(path), figures=False, client="198.18.0.9")["drawing"]
    assert isinstance(first, str) and len(first) < 64  # what a browser session keeps
    size = coach.drawings.bytes
    assert coach.drawings.client_bytes("198.18.0.9") == size  # counted in that client's share
    assert set(coach.draw_analysis(first)) == {"figure", "predictions_figure"}
    assert coach.drawings.bytes == 0  # drawn: nothing left pinned
    coach.drawings.max_bytes = size + 1000  # room for one analysis only
    abandoned = coach.analyze(str(path), figures=False)["drawing"]  # its figures never asked for
    second = coach.analyze(str(path), figures=False)["drawing"]
    assert coach.drawings.bytes <= coach.drawings.max_bytes
    assert coach.draw_analysis(second)
    with pytest.raises(CoachError, match="no longer kept"):
        coach.draw_analysis(abandoned)


def test_the_app_keeps_a_drawing_in_its_callers_share(tiny_model_dir, database, speech, tmp_path):
    """The /analyze handler passes the caller's address (as the other per-client limits key it) to the store."""
    from speaksphere.app.api import make_endpoints

    settings = settings_with_model(Settings(store=StoreConfig(path=str(database))), tiny_model_dir)
    coach = load_coach(settings)
    path = tmp_path / "speech.wav"
    sf.write(path, *speech)
    caller = SimpleNamespace(client=SimpleNamespace(host="198.18.0.7"), headers={})
    token = make_endpoints(coach)["analyze"](str(path), "", caller)[-1]
    assert coach.drawings.client_bytes("198.18.0.7") == coach.drawings.bytes > 0
    assert coach.draw_analysis(token) and coach.drawings.client_bytes("198.18.0.7") == 0

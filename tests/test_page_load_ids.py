"""Issue 41, finding 4: the page's private load event (`/gradio_api/run/predict` with the fn_index of
the handler that gives a first-time browser its learner id) minted 300 ids a minute from one address,
ten times the /new_learner limit. Both now draw on one budget per address."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import httpx
import pytest

from launching import serve_app
from speaksphere.coach import settings_with_model
from speaksphere.settings import Settings

PER_MINUTE = 4


@pytest.fixture(scope="module")
def served(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    settings = replace(settings, server=replace(settings.server, new_learners_per_minute=PER_MINUTE))
    with serve_app(settings, database) as demo:
        yield demo


def learners(database) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM learners").fetchone()[0]


def test_the_page_load_event_mints_no_more_ids_than_the_limit(served, database):
    load = next(i for i, fn in served.fns.items() if getattr(fn.fn, "__name__", "") == "ensure_learner")
    before = learners(database)
    answers = [httpx.post(f"{served.local_url}gradio_api/run/predict",
                          json={"data": [""], "fn_index": load, "session_hash": f"visit{i}"}, timeout=30)
               for i in range(PER_MINUTE + 3)]
    assert [a.status_code for a in answers] == [200] * PER_MINUTE + [500] * 3
    assert "Too many new learner ids" in answers[-1].json()["error"]
    assert learners(database) == before + PER_MINUTE
    refused = httpx.post(f"{served.local_url}gradio_api/call/new_learner", json={"data": []})  # one budget
    events = httpx.get(f"{served.local_url}gradio_api/call/new_learner/{refused.json()['event_id']}").text
    assert "event: error" in events and learners(database) == before + PER_MINUTE

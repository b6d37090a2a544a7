"""Issue 41, finding 5: one client queued 70 analyses and another's 1.4-s clip waited 69 s. Served app
(tiny model, loopback, one request at a time); clients told apart by X-Forwarded-For from a proxy the
settings trust, as on a Space."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace

import httpx
import pytest
import soundfile as sf

from launching import serve_app
from speaksphere.coach import settings_with_model
from speaksphere.settings import Settings

PER_CLIENT = 2


@pytest.fixture(scope="module")
def served(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    server = replace(settings.server, concurrency=1, max_waiting_per_client=PER_CLIENT, trusted_proxies=("127.0.0.1",))
    with serve_app(replace(settings, server=server), database) as demo:
        yield demo


def attempts(database) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM attempts").fetchone()[0]


def queue_analyses(url: str, address: str, speech, folder, learner: str, n: int) -> list[httpx.Response]:
    """`n` "/analyze" calls queued at once by the client at `address` (none waits for its answer), each of
    its own recording (the same recording again is a retry, stored once)."""
    audios = []
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": address}, timeout=30) as http:
        for _ in range(n):
            recording = folder / f"{time.monotonic_ns()}.wav"
            sf.write(recording, speech[0] * (1.0 - 1e-3 * len(list(folder.iterdir()))), speech[1])
            path = http.post("gradio_api/upload", files={"files": ("a.wav", recording.read_bytes())}).json()[0]
            audios.append({"path": path, "meta": {"_type": "gradio.FileData"}})
        return [http.post("gradio_api/call/analyze", json={"data": [audio, learner]}) for audio in audios]


def wait_for(url: str, response: httpx.Response) -> None:
    event = response.json()["event_id"]
    httpx.get(f"{url}gradio_api/call/analyze/{event}", timeout=120).read()


def test_one_client_cannot_fill_the_queue(served, database, speech, tmp_path):
    url = served.local_url
    learner = httpx.post(f"{url}gradio_api/call/new_learner", json={"data": []}).json()["event_id"]
    learner = httpx.get(f"{url}gradio_api/call/new_learner/{learner}").text.split("data: ")[1].strip().strip('["]')
    before = attempts(database)

    flood = queue_analyses(url, "198.51.100.1", speech, tmp_path, learner, 6)
    assert [r.status_code for r in flood] == [200] * PER_CLIENT + [429] * (6 - PER_CLIENT)
    assert f"You already have {PER_CLIENT} requests waiting" in flood[-1].json()["detail"]
    other = queue_analyses(url, "198.51.100.2", speech, tmp_path, learner, 1)  # another learner gets a turn
    assert other[0].status_code == 200
    for response in [*flood[:PER_CLIENT], *other]:
        wait_for(url, response)
    deadline = time.monotonic() + 30
    while attempts(database) < before + PER_CLIENT + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert attempts(database) == before + PER_CLIENT + 1  # the refused calls did no work
    again = queue_analyses(url, "198.51.100.1", speech, tmp_path, learner, 1)  # finished: room again
    assert again[0].status_code == 200
    wait_for(url, again[0])

"""The app killed (SIGKILL) while clients write through it, then restarted on the same learner database:
every request that was answered (acknowledged) is still stored, and the restarted app serves the same
learners. `python app.py` runs in a subprocess, as in production (an untrained tiny model)."""

from __future__ import annotations

import itertools
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf
from gradio_client import Client, handle_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))  # the benchmarks' app launcher
from bench import free_port, start_app, stop_app  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
CLIENTS = 3
ANSWERED_BEFORE_KILL = 3  # requests answered before the kill; more are in flight when it lands


def stored_attempts(database) -> Counter:
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return Counter(dict(conn.execute("SELECT learner_id, count(*) FROM attempts GROUP BY learner_id")))


def test_answered_requests_survive_a_killed_app(tiny_model_dir, speech, tmp_path):
    recording = tmp_path / "speech.wav"
    sf.write(recording, *speech)
    database = tmp_path / "learners.sqlite3"  # where start_app points the app (SPEAKSPHERE_DB)
    port = free_port()
    process, _ = start_app(port, tiny_model_dir, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/"
        clients = [Client(url, verbose=False) for _ in range(CLIENTS)]
        learners = [client.predict(api_name="/new_learner") for client in clients]
        answered, lock = Counter(), threading.Lock()

        def keep_writing(index: int) -> None:
            for k in itertools.count():
                # a new recording each time: the same recording re-sent is a retry, stored once by design
                distinct = tmp_path / f"speech-{index}-{k}.wav"
                sf.write(distinct, speech[0] * (1.0 - 1e-3 * k), speech[1])
                try:  # "/analyze" with a learner id stores an attempt (its language and accent)
                    clients[index].predict(handle_file(str(distinct)), learners[index], api_name="/analyze")
                except Exception:  # the app is gone: this request was never answered
                    return
                with lock:
                    answered[learners[index]] += 1

        threads = [threading.Thread(target=keep_writing, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 300
        while sum(answered.values()) < ANSWERED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        with lock:
            acknowledged = Counter(answered)
        for thread in threads:
            thread.join(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert sum(acknowledged.values()) >= ANSWERED_BEFORE_KILL

    stored = stored_attempts(database)
    for learner in learners:
        assert stored[learner] >= acknowledged[learner], "an answered request's attempt was lost"

    port = free_port()
    restarted, _ = start_app(port, tiny_model_dir, tmp_path)  # same folder: same learner database
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for learner in learners:
            client.predict(learner, api_name="/history")  # every learner is still known
        sf.write(recording, speech[0] * 0.5, speech[1])  # a recording none of the writers sent
        client.predict(handle_file(str(recording)), learners[0], api_name="/analyze")
    finally:
        stop_app(restarted)
    after = stored_attempts(database)
    assert after[learners[0]] == stored[learners[0]] + 1
    assert all(after[learner] == stored[learner] for learner in learners[1:])


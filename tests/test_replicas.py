"""Two app replicas (`python app.py` in two processes, an untrained tiny model) sharing one PostgreSQL
database: one learner writes through both at once, and a request retried through the other replica is
stored once. Nothing lost, nothing twice, and either replica shows the learner the same history."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import soundfile as sf
from gradio_client import Client, handle_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))  # the benchmarks' app launcher
from bench import free_port, start_app, stop_app  # noqa: E402
from speaksphere.learner.store import LearnerStore  # noqa: E402

OWN = 4  # recordings each replica alone receives
SHARED = 2  # recordings sent to both replicas at once, as a client retrying through the other would


def test_two_replicas_share_one_learner_through_postgresql(tiny_model_dir, speech, tmp_path, postgres_url):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    ports = [free_port(), free_port()]
    with ThreadPoolExecutor(2) as pool:  # both replicas start at once, both migrate: one creates the tables
        started = list(pool.map(lambda i: start_app(ports[i], tiny_model_dir, folders[i], database_url=postgres_url),
                                range(2)))
    processes = [process for process, _ in started]
    try:
        clients = [Client(f"http://127.0.0.1:{port}/", verbose=False) for port in ports]
        learner = clients[0].predict(api_name="/new_learner")

        recordings = {}  # a distinct recording each (the same one re-sent is a retry), written before the traffic
        for k, name in enumerate([f"own{i}-{j}" for i in range(2) for j in range(OWN)]
                                 + [f"shared-{j}" for j in range(SHARED)]):
            recordings[name] = tmp_path / f"{name}.wav"
            sf.write(recordings[name], speech[0] * (1.0 - 1e-3 * (k + 1)), speech[1])
        barrier, answered = threading.Barrier(2), []

        def replica_traffic(index: int) -> None:
            barrier.wait()
            for j in range(OWN):
                clients[index].predict(handle_file(str(recordings[f"own{index}-{j}"])), learner, api_name="/analyze")
                answered.append(index)
                if j < SHARED:
                    clients[index].predict(handle_file(str(recordings[f"shared-{j}"])), learner, api_name="/analyze")

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(replica_traffic, range(2)))
        assert len(answered) == 2 * OWN
        history = LearnerStore(postgres_url).history(learner)
        assert len(history) == 2 * OWN + SHARED  # every answered request kept, each shared one once
        summaries = [client.predict(learner, api_name="/history")[1] for client in clients]
        assert summaries[0] == summaries[1]  # the same progress whichever replica answers
    finally:
        for process in processes:
            stop_app(process)

"""Load test: the app on loopback, driven by N concurrent gradio_client clients.

    python benchmarks/load.py [--clients 16] [--requests 5] [--endpoints analyze,pronounce] [--model PATH]
                              [--url http://127.0.0.1:7860/] [--no-store] [--figures] [--json]
                              [--database-url postgresql://...]

Starts `python app.py` on a free loopback port (a fresh learner database in a temporary folder; or
uses --url), gives every client its own learner id (from "/new_learner") unless --no-store, and has
each send a bounded number of requests, alternating over the endpoints, with a real 3.1-s English
recording (espeak-ng; each request's copy a hair quieter than the last, 1e-4 per request, so that
none is a retry the store keeps once) and, for "/pronounce", its text. Prints per endpoint: requests,
errors (with their messages), throughput and p50/p95 latency, and afterwards counts the attempts the
learner store kept against the requests answered: none lost, none twice. The store is an SQLite file
in a temporary folder, or the PostgreSQL database `--database-url` names (SPEAKSPHERE_DATABASE_URL).
Targets: 0 errors, p95 <= 5 s at 16 clients and no write lost or doubled; the exit status is 1 when
they are missed. --json adds one machine-readable line at the end.

The endpoints answer with scores and text; their figures are a second call ("/analysis_figures",
"/pronunciation_figures"), as the browser makes it. --figures has every client make that call too,
like a learner in the browser, and adds rows "analyze+figures" (time until the figures are there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from gradio_client import Client, handle_file  # noqa: E402

from bench import PHRASE_TEXT, client_headers, free_port, spoken_attempt, start_app, stop_app  # noqa: E402
from speaksphere.learner.store import LearnerStore  # noqa: E402
from speaksphere.model import DEFAULT_MODEL_DIR  # noqa: E402

P95_TARGET_S = 5.0  # seconds: the target at 16 clients on a 2-core machine


FIGURES = {"analyze": "/analysis_figures", "pronounce": "/pronunciation_figures"}  # the browser's second call


def request(client: Client, endpoint: str, recording: str, learner_id: str):
    """One call of `endpoint` with its arguments in the app's order (see speaksphere/app/api.py's docstrings)."""
    audio = handle_file(recording)
    if endpoint == "analyze":
        return client.predict(audio, learner_id, api_name="/analyze")
    if endpoint == "pronounce":  # attempt, phrase_id, text, language, reference_audio, learner_id, recommendation_id
        return client.predict(audio, "", PHRASE_TEXT, "en", None, learner_id, None, api_name="/pronounce")
    raise ValueError(f"no load scenario for endpoint {endpoint!r}")


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system, seconds) used so far by process `pid` (Linux /proc), or by this process."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14 and 15)


def recordings(first: Path, count: int) -> list[str]:
    """`count` copies of the recording `first`, the k-th scaled by 1 - 1e-4 k: the same speech, no two the
    same bytes (the store keeps a retried recording once)."""
    wave, rate = sf.read(first, dtype="float32")
    paths = []
    for k in range(count):
        path = first.with_name(f"{first.stem}-{k}.wav")
        sf.write(path, wave * (1 - 1e-4 * k), rate, subtype="FLOAT")
        paths.append(str(path))
    return paths


def stored_attempts(location: str | Path, learners: list[str], acknowledged: list[int]) -> dict:
    """The attempts the store kept per learner against the requests it answered for them."""
    store = LearnerStore(location)
    kept = [len(store.history(learner)) for learner in learners]
    return {"acknowledged": sum(acknowledged), "stored": sum(kept),
            "lost": sum(max(a - k, 0) for a, k in zip(acknowledged, kept)),
            "extra": sum(max(k - a, 0) for a, k in zip(acknowledged, kept))}


def drive(url: str, clients: int, requests: int, endpoints: list[str], recording: str, store: bool,
          figures: bool = False, app_pid: int | None = None) -> dict:
    """Run the clients; returns {"endpoints": {name: stats}, "errors": {message: count}, "wall_s": ...,
    "cpu_s_per_request": {"app", "clients"}} (CPU of the timed requests only; the app's when `app_pid`).
    With `figures`, each request is followed by its figures call, timed as "NAME+figures" from the start."""
    # connecting is not part of the load. ssl_verify=False on plain-http loopback: otherwise httpx builds a
    # certificate store for every call, and those clients share the 2 cores with the server they measure
    verify = not url.startswith("http://127.0.0.1")
    connected = [Client(url, verbose=False, ssl_verify=verify, headers=client_headers(i))
                 for i in range(clients)]  # each its own address, as behind a Space's proxy
    learners = [c.predict(api_name="/new_learner") if store else "" for c in connected]
    copies = recordings(Path(recording), clients * requests + 1)
    request(connected[0], endpoints[0], copies[-1], learners[0])  # warm-up: the synthesised reference is cached
    for endpoint in endpoints[1:]:
        request(connected[0], endpoint, copies[-1], learners[0])  # the same recording: stored once per endpoint
    acknowledged = [len(endpoints) if i == 0 else 0 for i in range(clients)]  # what each learner should have
    results: list[tuple[str, float, str | None]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def run(index: int) -> None:
        start.wait()
        for i in range(requests):
            endpoint = endpoints[(index + i) % len(endpoints)]
            began, error = time.perf_counter(), None
            try:
                request(connected[index], endpoint, copies[index * requests + i], learners[index])
            except Exception as failure:  # any failure is a result of the test: record it and go on
                error = f"{type(failure).__name__}: {failure}"[:300]
            answered = time.perf_counter()
            with lock:
                results.append((endpoint, answered - began, error))
                acknowledged[index] += error is None
            if figures and error is None:
                try:
                    connected[index].predict(api_name=FIGURES[endpoint])
                except Exception as failure:
                    error = f"{type(failure).__name__}: {failure}"[:300]
                with lock:
                    results.append((f"{endpoint}+figures", time.perf_counter() - began, error))

    began, cpu = time.perf_counter(), (cpu_seconds(app_pid) if app_pid else None, cpu_seconds())
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    wall = time.perf_counter() - began
    # where the cores went during the timed requests: the app's CPU per request (its figures calls
    # included) and the load clients' own, which run on the same machine
    n = clients * requests
    cpu = {"app": round((cpu_seconds(app_pid) - cpu[0]) / n, 3) if app_pid else None,
           "clients": round((cpu_seconds() - cpu[1]) / n, 3)}
    report = {"clients": clients, "requests_per_client": requests, "wall_s": round(wall, 2), "endpoints": {},
              "errors": dict(Counter(e for _, _, e in results if e)), "cpu_s_per_request": cpu,
              "learners": learners if store else [], "acknowledged": acknowledged}
    for endpoint in endpoints + ([f"{e}+figures" for e in endpoints] if figures else []):
        latencies = np.array([t for name, t, _ in results if name == endpoint])
        report["endpoints"][endpoint] = {
            "requests": int(latencies.size), "errors": sum(1 for n, _, e in results if n == endpoint and e),
            "p50_s": round(float(np.percentile(latencies, 50)), 3),
            "p95_s": round(float(np.percentile(latencies, 95)), 3),
            "max_s": round(float(latencies.max()), 3), "throughput_rps": round(latencies.size / wall, 3),
        }
    answers = [(name, t, e) for name, t, e in results if "+" not in name]  # "all": the endpoints' own answers
    everything = np.array([t for _, t, _ in answers])
    report["all"] = {"requests": len(answers), "errors": sum(1 for *_, e in results if e),
                     "p50_s": round(float(np.percentile(everything, 50)), 3),
                     "p95_s": round(float(np.percentile(everything, 95)), 3),
                     "throughput_rps": round(len(answers) / wall, 3)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=5, help="requests per client")
    parser.add_argument("--endpoints", default="analyze,pronounce", help="comma-separated: analyze, pronounce")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder the app serves")
    parser.add_argument("--url", help="an app already running (default: start one on a free loopback port)")
    parser.add_argument("--no-store", action="store_true", help="send no learner id: nothing is written")
    parser.add_argument("--figures", action="store_true", help="also fetch each answer's figures, as the browser does")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the results")
    parser.add_argument("--database-url", help="the app's learner store on this PostgreSQL database "
                                               "(default: an SQLite file in a temporary folder)")
    args = parser.parse_args()
    endpoints = [e.strip().lstrip("/") for e in args.endpoints.split(",") if e.strip()]
    if not args.url and not (args.model / "config.json").is_file():
        parser.exit(2, f"error: no SpeakSphere model in {args.model}; "
                       "pass --model PATH (a folder written by train.py)\n")
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "attempt.wav"
        recording.write_bytes(spoken_attempt(PHRASE_TEXT)[0])  # the same phrase in every session: comparable
        process = None
        if args.url:
            url = args.url
        else:
            port = free_port()
            process, seconds = start_app(port, args.model.resolve(), Path(folder), database_url=args.database_url)
            url = f"http://127.0.0.1:{port}/"
            print(f"app started in {seconds:.1f} s on {url}", flush=True)
        try:
            report = drive(url, args.clients, args.requests, endpoints, str(recording), not args.no_store,
                           args.figures, process.pid if process else None)
        finally:
            if process is not None:
                stop_app(process)
        location = args.database_url or (None if args.url else Path(folder) / "learners.sqlite3")
        writes = (stored_attempts(location, report["learners"], report["acknowledged"])
                  if location is not None and not args.no_store else None)
    report["writes"] = writes
    report["store"] = "postgresql" if args.database_url else "sqlite"
    print(f"{args.clients} clients x {args.requests} requests over {', '.join(endpoints)} in {report['wall_s']:.1f} s")
    print(f"{'endpoint':18s} {'requests':>8s} {'errors':>6s} {'req/s':>7s} {'p50 s':>7s} {'p95 s':>7s} {'max s':>7s}")
    for name, r in report["endpoints"].items():
        print(f"{name:18s} {r['requests']:8d} {r['errors']:6d} {r['throughput_rps']:7.2f} {r['p50_s']:7.2f} "
              f"{r['p95_s']:7.2f} {r['max_s']:7.2f}")
    a = report["all"]
    print(f"{'all':18s} {a['requests']:8d} {a['errors']:6d} {a['throughput_rps']:7.2f} {a['p50_s']:7.2f} "
          f"{a['p95_s']:7.2f}")
    cpu = report["cpu_s_per_request"]
    print(f"CPU seconds per request{' and its figures' if args.figures else ''}, timed requests only: app "
          f"{cpu['app'] if cpu['app'] is not None else 'n/a'}, load clients {cpu['clients']} "
          f"(both on this machine's {os.cpu_count()} cores)")
    for message, count in report["errors"].items():
        print(f"error x{count}: {message}")
    if writes:
        print(f"learner store ({report['store']}): {writes['stored']} attempts kept of {writes['acknowledged']} "
              f"answered; lost {writes['lost']}, extra {writes['extra']}")
    met = a["errors"] == 0 and a["p95_s"] <= P95_TARGET_S and not (writes and (writes["lost"] or writes["extra"]))
    print(f"targets (0 errors, p95 <= {P95_TARGET_S:g} s, no write lost or doubled): {'met' if met else 'MISSED'}")
    if args.json:
        print(json.dumps(report))
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()

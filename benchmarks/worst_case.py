"""Worst-case requests against the served app: peak memory above idle and time, one at a time, then 16 at once.

    python benchmarks/worst_case.py [--model PATH] [--concurrent 16] [--skip-concurrent] [--json]

Starts `python app.py` on a free loopback port (fresh learner database), waits until it is idle, then
sends each request of WORST_CASES alone, as the browser does (answer, then its figures), with the
server's peak resident memory reset before each (/proc/PID/clear_refs, "5") and read after it
(VmHWM). Then `--concurrent` clients send the heaviest accepted requests at once, each with its own
learner id, and the learner database is checked: every answered request that stores an attempt must
have stored it (0 lost writes), and the server must still answer. Issue 21's targets: each request
<= 1.5 GB above idle and <= 30 s; at 16 at once the server stays up and loses nothing. Issue 41's, in
between: one upload request of 16 x 60 MiB grows the upload folder <= 200 MiB, 80 refused long-text
requests pin <= 300 MiB, and after it all the idle server is within 300 MiB of its start
(--keep-memory serves without the arena limit and malloc_trim, to compare).

The long recordings are real speech: the library's native reference recordings, one after another.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from gradio_client import Client, handle_file  # noqa: E402

from bench import client_headers, free_port, start_app, stop_app  # noqa: E402
from speaksphere.model import DEFAULT_MODEL_DIR  # noqa: E402
from speaksphere.pronounce.references import LIBRARY_DIR, library  # noqa: E402

MEMORY_TARGET_MIB = 1536.0
TIME_TARGET_S = 30.0
UPLOAD_TARGET_MIB = 200.0  # one upload request's disk growth (issue 41)
PINNED_TARGET_MIB = 300.0  # memory left pinned by 80 refused long-text requests
IDLE_TARGET_MIB = 300.0  # idle resident memory after the whole load, above its start
PHRASE = next(p for p in library("en") if p.id == "en-auth-incorrect")


def rss_kib(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


def speech_of(seconds: float, rate: int = 16000) -> np.ndarray:
    """`seconds` of real speech: the library's reference recordings in turn (mono float32 at `rate`)."""
    import librosa

    parts, total = [], 0
    for phrase in library(topic="telephone"):  # real speech, not the learners' synthetic phrases
        wave, _ = librosa.load(LIBRARY_DIR / phrase.file, sr=rate, mono=True)
        parts.append(wave)
        total += len(wave)
        if total >= seconds * rate:
            break
    wave = np.concatenate(parts)
    while len(wave) < seconds * rate:
        wave = np.concatenate([wave, wave])
    return wave[: int(seconds * rate)].astype(np.float32)


def files(folder: Path) -> dict[str, Path]:
    """The findings' recordings, written once into `folder`."""
    out = {}

    def write(name, wave, rate, **kwargs):
        out[name] = folder / name
        sf.write(out[name], wave, rate, **kwargs)

    write("speech-299.5s.wav", speech_of(299.5), 16000, subtype="PCM_16")
    write("speech-60s.wav", speech_of(60.0), 16000, subtype="PCM_16")
    write("speech-3s.wav", speech_of(3.0), 16000, subtype="PCM_16")
    write("speech-300s-48k-stereo.wav", np.repeat(speech_of(300.0, 48000)[:, None], 2, axis=1), 48000,
          subtype="PCM_16")
    rate = 384000  # finding 3: a small FLAC that decodes to gigabytes (8 channels, 384 kHz, 300 s of silence)
    write("flac-8ch-384k-300s.flac", np.zeros((rate * 300, 8), dtype=np.int16), rate, format="FLAC")
    out["vorbis-32ch-192k-30s.ogg"] = folder / "vorbis-32ch-192k-30s.ogg"  # 38 KB; written a second at a time
    with sf.SoundFile(out["vorbis-32ch-192k-30s.ogg"], "w", 192000, 32, format="OGG", subtype="VORBIS") as file:
        for _ in range(30):  # (libsndfile 1.2 crashes encoding 30 s of 32-channel Vorbis in one call)
            file.write(np.zeros((192000, 32), dtype=np.float32))
    return out


def cases(f: dict[str, Path], learner: str) -> list[tuple[str, str, tuple, str | None]]:
    """(name, api_name, arguments, figures api_name): the findings' worst cases and the largest accepted ones."""
    text = "Please call Stella. Ask her to bring these things with her from the store."

    def pronounce(attempt, reference=None, typed=text):
        return (handle_file(str(attempt)), "", typed, "en", handle_file(str(reference)) if reference else None,
                learner, None)

    return [
        ("analyze: 299.5-s recording", "/analyze", (handle_file(str(f["speech-299.5s.wav"])), learner),
         "/analysis_figures"),
        ("analyze: 300-s 48-kHz stereo WAV (57.6 MB)", "/analyze",
         (handle_file(str(f["speech-300s-48k-stereo.wav"])), learner), "/analysis_figures"),
        ("pronounce: 299.5-s recording vs typed text", "/pronounce", pronounce(f["speech-299.5s.wav"]),
         "/pronunciation_figures"),
        ("pronounce: 3-s attempt vs 299-s teacher recording", "/pronounce",
         pronounce(f["speech-3s.wav"], f["speech-299.5s.wav"]), "/pronunciation_figures"),
        ("pronounce: 5-min recording vs 5-min teacher recording", "/pronounce",
         pronounce(f["speech-299.5s.wav"], f["speech-299.5s.wav"]), "/pronunciation_figures"),
        ("pronounce: 60-s attempt vs 60-s teacher recording (largest accepted)", "/pronounce",
         pronounce(f["speech-60s.wav"], f["speech-60s.wav"], ""), "/pronunciation_figures"),
        ("compare: two 60-s attempts vs 60-s teacher recording", "/compare",
         (handle_file(str(f["speech-60s.wav"])), handle_file(str(f["speech-60s.wav"])), "", "", "en",
          handle_file(str(f["speech-60s.wav"])), learner), None),
        ("analyze: 1-MB FLAC, 8 ch x 384 kHz x 300 s", "/analyze",
         (handle_file(str(f["flac-8ch-384k-300s.flac"])), learner), None),
        ("analyze: Vorbis, 32 ch x 192 kHz x 30 s", "/analyze",
         (handle_file(str(f["vorbis-32ch-192k-30s.ogg"])), learner), None),
        ("pronounce: built-in phrase, native reading (ordinary)", "/pronounce",
         (handle_file(str(LIBRARY_DIR / PHRASE.file)), PHRASE.id, "", "en", None, learner, None),
         "/pronunciation_figures"),
    ]


def call(client: Client, api_name: str, arguments: tuple, figures: str | None) -> str:
    """Send one request (and its figures call when answered); returns "answered" or the refusal."""
    try:
        client.predict(*arguments, api_name=api_name)
    except Exception as error:  # a refusal (AppError) is an answer too
        return "refused: " + str(error).splitlines()[0][:110]
    if figures:
        client.predict(api_name=figures)
    return "answered"


def alone(url: str, pid: int, f: dict[str, Path]) -> list[dict]:
    client = Client(url, verbose=False, ssl_verify=False)
    learner = client.predict(api_name="/new_learner")
    rows = []
    for name, api_name, arguments, figures in cases(f, learner):
        time.sleep(2.0)
        idle = rss_kib(pid, "VmRSS")
        reset_peak(pid)
        started = time.perf_counter()
        outcome = call(client, api_name, arguments, figures)
        seconds = time.perf_counter() - started
        above = (rss_kib(pid, "VmHWM") - idle) / 1024
        rows.append({"request": name, "outcome": outcome, "seconds": round(seconds, 2),
                     "peak_above_idle_mib": round(above, 1), "idle_rss_mib": round(idle / 1024, 1)})
        print(f"{name}: {outcome}; {seconds:.1f} s; peak {above:.0f} MiB above idle ({idle / 1024:.0f} MiB)",
              flush=True)
    return rows


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / (1 << 20) if folder.exists() else 0.0


def upload_growth(url: str, uploads: Path) -> dict:
    """Finding 2: the upload folder's growth from one request of 16 parts of 60 MiB (gradio stored all
    960 MiB), and from the largest accepted upload (one 60-MiB part)."""
    from urllib.parse import urlsplit

    address = urlsplit(url)
    part = 60 << 20
    before = folder_mib(uploads)
    with socket.create_connection((address.hostname, address.port), timeout=60) as connection:
        head = (f"POST /gradio_api/upload HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Length: {16 * (part + 200)}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\nX-Forwarded-For: 198.18.9.1\r\n\r\n").encode()
        connection.sendall(head)
        status = connection.recv(64)  # the guard answers from the headers alone
        connection.settimeout(5.0)
        with contextlib.suppress(OSError):  # the body anyway, as the probe sent it (the server has closed)
            for _ in range(16):
                connection.sendall(b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.wav\"\r\n\r\n"
                                   + bytes(part) + b"\r\n")
    refused_growth = folder_mib(uploads) - before
    before = folder_mib(uploads)
    accepted = httpx.post(f"{url}gradio_api/upload", files={"files": ("a.wav", bytes(part))},
                          headers={"X-Forwarded-For": "198.18.9.2"}, timeout=120)
    row = {"refused_request_status": status.split(b"\r\n")[0].decode(errors="replace"),
           "refused_16x60MiB_growth_mib": round(refused_growth, 1),
           "accepted_60MiB_status": accepted.status_code,
           "accepted_60MiB_growth_mib": round(folder_mib(uploads) - before, 1)}
    print(f"one upload request: {row}", flush=True)
    return row


def refused_long_texts(url: str, pid: int, f: dict[str, Path], n: int = 80) -> dict:
    """Finding 3: `n` /pronounce calls whose text (23 twelve-digit numbers, 299 characters) is read as
    minutes of speech, each refused; resident memory afterwards against before (they pinned 1.5 GB once)."""
    client = Client(url, verbose=False, ssl_verify=False, headers=client_headers(1000))
    before = rss_kib(pid, "VmRSS")
    refused = 0
    for i in range(n):
        text = " ".join(f"{(i * 23 + k) % 10**12:012d}" for k in range(23))
        try:
            client.predict(handle_file(str(f["speech-3s.wav"])), "", text, "en", None, "", None, api_name="/pronounce")
        except Exception:
            refused += 1
    time.sleep(2.0)
    row = {"requests": n, "refused": refused, "pinned_mib": round((rss_kib(pid, "VmRSS") - before) / 1024, 1)}
    print(f"{n} refused long texts: {row}", flush=True)
    return row


def together(url: str, pid: int, f: dict[str, Path], n: int, database: Path) -> dict:
    """`n` clients at once, alternating the heaviest accepted requests; checks the database afterwards."""
    clients = [Client(url, verbose=False, ssl_verify=False, headers=client_headers(i)) for i in range(n)]
    learners = [c.predict(api_name="/new_learner") for c in clients]
    heavy = ["analyze: 299.5-s recording", "pronounce: 60-s attempt vs 60-s teacher recording (largest accepted)",
             "compare: two 60-s attempts vs 60-s teacher recording", "pronounce: 299.5-s recording vs typed text"]
    jobs = []
    for i, (client, learner) in enumerate(zip(clients, learners)):
        chosen = {name: (api, args, fig) for name, api, args, fig in cases(f, learner)}[heavy[i % len(heavy)]]
        jobs.append((client, chosen))
    time.sleep(2.0)
    idle = rss_kib(pid, "VmRSS")
    reset_peak(pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        outcomes = list(pool.map(lambda job: call(job[0], *job[1]), jobs))
    seconds = time.perf_counter() - started
    above = (rss_kib(pid, "VmHWM") - idle) / 1024
    with sqlite3.connect(database) as conn:
        stored = {row[0] for row in conn.execute("SELECT DISTINCT learner_id FROM attempts")}
    lost = sum(1 for learner, outcome in zip(learners, outcomes) if outcome == "answered" and learner not in stored)
    alive = Client(url, verbose=False).predict(api_name="/new_learner") is not None
    summary = {"clients": n, "answered": outcomes.count("answered"),
               "refused": len(outcomes) - outcomes.count("answered"),
               "refusals": sorted(set(o for o in outcomes if o != "answered")), "lost_writes": lost,
               "server_answers_after": alive, "seconds": round(seconds, 1), "peak_above_idle_mib": round(above, 1)}
    print(f"{n} at once: {summary}", flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--skip-concurrent", action="store_true")
    parser.add_argument("--keep-memory", action="store_true",
                        help="serve with server.release_memory false (no arena limit, no malloc_trim), to compare")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recordings = files(folder)
        port = free_port()
        process, _ = start_app(port, args.model, folder,
                               server={"release_memory": "false"} if args.keep_memory else None)
        url = f"http://127.0.0.1:{port}/"
        try:
            time.sleep(5.0)
            start_mib = rss_kib(process.pid, "VmRSS") / 1024
            rows = alone(url, process.pid, recordings)
            uploads = upload_growth(url, folder / "uploads")
            texts = refused_long_texts(url, process.pid, recordings)
            crowd = None if args.skip_concurrent else together(url, process.pid, recordings, args.concurrent,
                                                               folder / "learners.sqlite3")
            time.sleep(10.0)
            idle = {"start_mib": round(start_mib, 1), "after_mib": round(rss_kib(process.pid, "VmRSS") / 1024, 1)}
            idle["growth_mib"] = round(idle["after_mib"] - idle["start_mib"], 1)
            print(f"idle resident memory: {idle} (release_memory {'off' if args.keep_memory else 'on'})", flush=True)
        finally:
            stop_app(process)
    worst = max(r["peak_above_idle_mib"] for r in rows)
    slowest = max(r["seconds"] for r in rows)
    met = worst <= MEMORY_TARGET_MIB and slowest <= TIME_TARGET_S and (
        crowd is None or (crowd["lost_writes"] == 0 and crowd["server_answers_after"])) and (
        uploads["refused_16x60MiB_growth_mib"] <= UPLOAD_TARGET_MIB and texts["pinned_mib"] <= PINNED_TARGET_MIB
        and idle["growth_mib"] <= IDLE_TARGET_MIB)
    print(f"worst single request: {worst:.0f} MiB above idle (target {MEMORY_TARGET_MIB:.0f}), slowest {slowest:.1f} s "
          f"(target {TIME_TARGET_S:.0f}); one upload request +{uploads['refused_16x60MiB_growth_mib']:.0f} MiB on disk "
          f"(target {UPLOAD_TARGET_MIB:.0f}); {texts['requests']} refused long texts pin {texts['pinned_mib']:.0f} MiB "
          f"(target {PINNED_TARGET_MIB:.0f}); idle +{idle['growth_mib']:.0f} MiB after the load (target "
          f"{IDLE_TARGET_MIB:.0f}); {'met' if met else 'NOT met'}")
    if args.json:
        print(json.dumps({"alone": rows, "uploads": uploads, "refused_long_texts": texts, "together": crowd,
                          "idle": idle, "met": met}))
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()

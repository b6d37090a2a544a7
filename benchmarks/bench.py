"""SpeakSphere's benchmarks in one command: prints a table and writes BENCHMARKS.md.

    python benchmarks/bench.py [--quick] [--model PATH] [--out BENCHMARKS.md] [--sections analysis,dtw,...]

Every figure is a median with its spread (interquartile range and min-max) over repeated runs after
one warm-up, at 1 and 2 threads (torch and BLAS), measured in this run: the wav2vec2-base reference is
timed beside the model so the ratio holds on any machine. Sections: analysis (a real 10-s clip through
`Predictor.analyze`, and the same clip through a wav2vec2-base-sized backbone with random weights),
pronunciation (a 5-s attempt), dtw (exact vs fastdtw), load (model load time), memory (peak resident
memory of a fresh process), app (cold start of `python app.py`, load test with benchmarks/load.py),
train (training throughput of configs/embedded.yaml). This is a repository tool: it reads app.py,
train.py and benchmarks/ from the checkout and runs app.py only in a subprocess, never importing it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import io
import ipaddress
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent  # the repository checkout
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from speaksphere.audio import SAMPLE_RATE  # noqa: E402
from speaksphere.settings import DEFAULT_SETTINGS_PATH  # noqa: E402

CLIP_S = 10.0  # seconds: the analysed clip
# 4.9 s (espeak-ng en-gb+f2, 150 words/min)
ATTEMPT_TEXT = "excuse me could you please tell me the quickest way to the railway station from here"
PHRASE_TEXT = "could you please tell me the way to the railway station"  # 3.1 s: the load test's phrase since it began
DTW_SIZES = ((300, 350), (1000, 1000))  # frames: a 3-s phrase against a 3.5-s reference; two 10-s clips
THREADS = (1, 2)
SECTIONS = ("analysis", "pronunciation", "dtw", "load", "memory", "app", "train")


class Table:
    """Rows of the results table: what, threads, median, spread, runs, note."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def timing(self, what: str, threads, times: list[float], note: str = "", unit: str = "s") -> float:
        t = np.asarray(times)
        q1, median, q3 = np.percentile(t, [25, 50, 75])
        show = (lambda v: f"{v * 1e3:.1f} ms") if unit == "s" and median < 1 else (lambda v: f"{v:.2f} {unit}")
        spread = f"IQR {show(q1)}-{show(q3)}; range {show(t.min())}-{show(t.max())}"
        self.rows.append((what, str(threads), show(median), spread, str(len(t)), note))
        print(f"  {what} [{threads} thread(s)]: {show(median)} ({spread})", flush=True)
        return float(median)

    def value(self, what: str, threads, value: str, note: str = "", spread: str = "", runs: str = "1") -> None:
        self.rows.append((what, str(threads), value, spread, runs, note))
        print(f"  {what} [{threads} thread(s)]: {value} {note}", flush=True)

    def markdown(self) -> str:
        lines = ["| measurement | threads | median | spread | runs | note |", "|---|---|---|---|---|---|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in self.rows])


def repeat(function, runs: int, warm_up: int = 1) -> list[float]:
    """Wall-clock seconds of `runs` calls after `warm_up` untimed ones."""
    for _ in range(warm_up):
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


@contextlib.contextmanager
def threads(n: int):
    """Limit torch and the BLAS/OpenMP pools (numpy, librosa) to `n` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def repository_module(relative: str):
    """A script of the checkout (benchmarks/, train.py) imported as a module, to reuse rather than copy it."""
    path = ROOT / relative
    if path.stem in sys.modules:
        return sys.modules[path.stem]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    for folder in (ROOT, path.parent):  # the script's own imports: speaksphere, and bench beside it
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    sys.modules[path.stem] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def machine() -> list[tuple[str, str]]:
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return [("date", datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes")),
            ("CPU", cpu), ("cores", str(os.cpu_count())), ("RAM", f"{ram_gb:.1f} GiB"),
            ("OS", platform.platform()), ("python", platform.python_version()), ("torch", torch.__version__),
            ("transformers", transformers.__version__), ("numpy", np.__version__),
            ("load average at start (1, 5, 15 min)", load)]


def ten_second_clip(folder: Path) -> tuple[Path, str]:
    """A real 10-s recording: built-in English reference recordings end to end, as a 16 kHz WAV file."""
    import librosa

    parts, total, names = [], 0, []
    for path in sorted((ROOT / "speaksphere" / "references" / "audio").glob("en-*.ogg")):
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
        wave = librosa.resample(samples.mean(axis=1), orig_sr=rate, target_sr=SAMPLE_RATE)
        parts.append(wave)
        names.append(path.stem)
        total += len(wave)
        if total >= CLIP_S * SAMPLE_RATE:
            break
    clip = folder / "clip-10s.wav"
    sf.write(clip, np.concatenate(parts)[: int(CLIP_S * SAMPLE_RATE)], SAMPLE_RATE)
    return clip, f"{len(names)} reference recordings ({names[0]}...) cut to {CLIP_S:.0f} s"


def spoken_attempt(text: str = ATTEMPT_TEXT) -> tuple[bytes, float]:
    """An English attempt at `text` (ATTEMPT_TEXT: 4.9 s) by an espeak-ng voice that the reference does
    not use; returns WAV bytes and the duration in seconds."""
    from speaksphere.tts import synthesize

    wave, rate = synthesize(text, voice="en-gb+f2", rate_wpm=150)
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV")
    return buffer.getvalue(), len(wave) / rate


def bench_analysis(table: Table, model: Path, clip: Path, clip_note: str, runs: int) -> None:
    from transformers import Wav2Vec2Config

    from speaksphere.model import Predictor, load_model

    predictor = load_model(model)
    build = repository_module("benchmarks/model_speed.py").build  # random-weight model of a backbone config
    reference = Predictor(build(Wav2Vec2Config().to_dict()), predictor.feature_extractor)  # wav2vec2-base
    sizes = {name: sum(p.numel() for p in p_.model.parameters()) / 1e6
             for name, p_ in (("model", predictor), ("base", reference))}
    for n in THREADS:
        with threads(n):
            ours = table.timing("full analysis of a 10-s clip (decode, VAD, windows, model)", n,
                                repeat(lambda: predictor.analyze(clip), runs),
                                f"{clip_note}; {sizes['model']:.1f} M parameters")
            table.value("real-time factor (analysis time / 10 s)", n, f"{ours / CLIP_S:.4f}")
            base = table.timing("same analysis, wav2vec2-base backbone (random weights)", n,
                                repeat(lambda: reference.analyze(clip), max(2, runs // 2)),
                                f"reference measured in this run; {sizes['base']:.1f} M parameters")
            table.value("ratio model / wav2vec2-base (analysis time)", n, f"{ours / base:.3f}",
                        f"the model takes {ours / base:.1%} of the reference's time")


def bench_pronunciation(table: Table, runs: int) -> None:
    from speaksphere.pronounce import golden_reference, score_pronunciation

    attempt, seconds = spoken_attempt()
    golden_reference(ATTEMPT_TEXT, "en")
    for n in THREADS:
        with threads(n):
            table.timing("pronunciation scoring of a 5-s attempt", n,
                         repeat(lambda: score_pronunciation(attempt, text=ATTEMPT_TEXT), runs),
                         f"{seconds:.1f}-s espeak-ng attempt, English with text (VAD, features, DTW, "
                         "pocketsphinx alignment and GOP, pitch); synthesised reference cached")


def bench_dtw(table: Table, runs: int) -> None:
    """The setting of benchmarks/dtw_speed.py (13-dim random walks, seed 0, fastdtw radius 1) at two sizes."""
    from speaksphere.dtw import cost_matrix, dtw, dtw_fast

    rng = np.random.default_rng(0)
    for n, m in DTW_SIZES:
        x, y = np.cumsum(rng.normal(size=(n, 13)), axis=0), np.cumsum(rng.normal(size=(m, 13)), axis=0)
        exact_cost = dtw(cost_matrix(x, y)).cost
        fast_cost = dtw_fast(x, y, radius=1).cost
        for k in THREADS:
            with threads(k):
                exact = table.timing(f"exact DTW (numba) {n}x{m}, cost matrix included", k,
                                     repeat(lambda x=x, y=y: dtw(cost_matrix(x, y)), runs * 3),
                                     f"cost {exact_cost:.2f}")
                fast = table.timing(f"fastdtw radius 1 (pure Python) {n}x{m}", k,
                                    repeat(lambda x=x, y=y: dtw_fast(x, y, radius=1), max(2, runs // 2), warm_up=0),
                                    f"cost {fast_cost:.2f} ({fast_cost / exact_cost - 1:+.1%} vs exact)")
                table.value(f"ratio fastdtw / exact DTW {n}x{m}", k, f"{fast / exact:.1f}x",
                            "exact is faster" if fast > exact else "fastdtw is faster")


def bench_model_load(table: Table, model: Path, runs: int) -> None:
    from speaksphere.model import load_model

    for n in THREADS:
        with threads(n):
            table.timing("model load (load_model from disk)", n, repeat(lambda: load_model(model), runs),
                         "after one warm-up load (imports and file cache warm)")


PEAK_RSS = r"""
import sys, torch
from speaksphere import warm_up
from speaksphere.model import load_model
warm_up()  # imports silero-vad, which sets torch to 1 thread: set ours after it
torch.set_num_threads(int(sys.argv[3]))
load_model(sys.argv[1]).analyze(sys.argv[2])
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])  # peak RSS in KiB
"""


def bench_memory(table: Table, model: Path, clip: Path) -> None:
    for n in THREADS:
        result = subprocess.run([sys.executable, "-c", PEAK_RSS, str(model), str(clip), str(n)], cwd=ROOT,
                                capture_output=True, text=True, timeout=600, env=_child_env())
        if result.returncode != 0:
            raise RuntimeError(f"peak memory run failed: {result.stderr[-2000:]}")
        kib = int(result.stdout.split()[-1])
        table.value("peak resident memory: fresh process, load model + analyze 10-s clip", n,
                    f"{kib / 1024:.0f} MiB", "VmHWM of the child process")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", **extra}


def client_headers(index: int) -> dict[str, str]:
    """The headers of simulated client `index`: its own address (in 198.18.0.0/15, the range kept for
    benchmarks) in X-Forwarded-For, as a Space's proxy would send it; start_app's app trusts loopback as that
    proxy, so per-client limits (max_waiting_per_client, new_learners_per_minute) see one client each."""
    return {"X-Forwarded-For": str(ipaddress.ip_address("198.18.0.1") + index)}


def start_app(port: int, model: Path, folder: Path, timeout_s: float = 300.0,
              server: dict[str, str] | None = None, database_url: str | None = None) -> tuple[subprocess.Popen, float]:
    """Start `python app.py` on 127.0.0.1:`port` serving `model`, with its learner database, log, upload
    folder ("uploads") and settings in `folder`: speaksphere/settings.yaml with loopback as a trusted proxy
    (see client_headers) and `server` settings changed ({"release_memory": "false"}); the learner store on
    the PostgreSQL `database_url` if given; returns the process and the seconds until it answered HTTP."""
    text = DEFAULT_SETTINGS_PATH.read_text().replace("trusted_proxies: []", 'trusted_proxies: ["127.0.0.1"]')
    for key, value in (server or {}).items():
        text, found = re.subn(rf"^(  {key}:)[^#\n]*", rf"\1 {value}  ", text, flags=re.M)
        if not found:
            raise KeyError(f"no server setting {key!r} in {DEFAULT_SETTINGS_PATH}")
    settings = folder / "settings.yaml"
    settings.write_text(text)
    env = _child_env(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), SPEAKSPHERE_MODEL=str(model),
                     SPEAKSPHERE_DB=str(folder / "learners.sqlite3"), SPEAKSPHERE_BROWSER_SECRET="benchmark",
                     SPEAKSPHERE_SETTINGS=str(settings), GRADIO_TEMP_DIR=str(folder / "uploads"),
                     **({"SPEAKSPHERE_DATABASE_URL": database_url} if database_url else {}))
    log = folder / "app.log"
    started = time.perf_counter()
    with open(log, "w") as output:  # a file, not a pipe: a chatty app must never block on a full pipe
        process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}: {log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        time.sleep(0.05)
    stop_app(process)
    raise RuntimeError(f"app.py did not answer on port {port} within {timeout_s:.0f} s")


def peak_rss_kib(pid: int) -> int:
    """Peak resident memory of a live process (VmHWM; unlike ru_maxrss, not inherited from its parent)."""
    with contextlib.suppress(OSError, IndexError):
        return int(Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1].split()[0])
    return 0


def stop_app(process: subprocess.Popen, grace_s: float = 20.0) -> int:
    """Stop the app (SIGTERM, then SIGKILL after `grace_s`); returns its peak resident memory in KiB."""
    peak = peak_rss_kib(process.pid)
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return peak


def bench_app(table: Table, model: Path, runs: int, load_requests: int) -> None:
    times, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            process, seconds = start_app(free_port(), model, Path(folder))
            times.append(seconds)
            peaks.append(stop_app(process))
    table.timing("app cold start (python app.py until it answers HTTP)", "default", times,
                 "new process each run: imports, settings, warm-up, server start")
    table.value("peak resident memory: app started, idle", "default", f"{max(peaks) / 1024:.0f} MiB",
                "VmHWM of the app process")
    for figures in ((False, True) if load_requests else ()):
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--clients", "16",
                                 "--requests", str(load_requests), "--model", str(model), "--json"]
                                + ["--figures"] * figures, cwd=ROOT, env=_child_env(),
                                capture_output=True, text=True, timeout=1800)
        if result.returncode not in (0, 1):  # 1: ran, but missed its targets
            raise RuntimeError(f"benchmarks/load.py failed: {result.stderr[-3000:]}")
        how = ("as the browser does: each answer, then its figures call" if figures
               else "API clients: answers only (numbers and text)")
        for report in map(json.loads, filter(None, result.stdout.strip().splitlines()[-1:])):
            for endpoint, r in report["endpoints"].items():
                if figures and "+" not in endpoint:
                    endpoint += " (figures being drawn for others)"
                table.value(f"load: 16 clients x {load_requests} requests, {endpoint}", "default",
                            f"p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s",
                            f"{r['errors']} errors of {r['requests']}; {r['throughput_rps']:.2f} requests/s; {how}; "
                            "target 0 errors, p95 <= 5 s")


def model_config_note(pretrained: str, model: Path) -> str:
    return f"{pretrained} absent: the encoder architecture of {model.name} (random weights)"


def bench_train(table: Table, model: Path, runs: int) -> None:
    """Optimiser steps of train.py's model on batches of its config's shape (no data loading, one process)."""
    import torch

    train = repository_module("train.py")
    config_path = ROOT / "configs" / "embedded.yaml"
    note = "configs/embedded.yaml"
    if not config_path.exists():
        config_path, note = ROOT / "configs" / "tiny.yaml", "configs/embedded.yaml absent: configs/tiny.yaml instead"
    from speaksphere.config import load_config
    from speaksphere.data.labels import VOCABULARIES

    config = load_config(config_path, train.Experiment)
    model_config = replace(config.model, class_weighting=False)  # weights change no timing; they need a manifest
    pretrained = (model_config.pretrained and model_config.pretrained != "whisper-base"
                  and ROOT / model_config.pretrained)
    if pretrained and not pretrained.exists():  # a local encoder folder not built here: the served model's encoder
        served = json.loads((model / "config.json").read_text())["backbone"]
        model_config = replace(model_config, pretrained=None, backbone=served)
        note += f"; {model_config_note(config.model.pretrained, model)}"
    elif pretrained:
        model_config = replace(model_config, pretrained=str(pretrained))
    if getattr(config.train, "cache_features", False):
        note += "; the config caches pooled features, so real epochs after the first skip the encoder"
    sizes = repository_module("benchmarks/model_speed.py").TASK_SIZES
    # real labels: Whisper's language ID needs them
    tasks = {t: list(VOCABULARIES[t][: sizes[t]]) for t in config.data.tasks}
    model = train.build_model(model_config, tasks, []).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.train.learning_rate)
    batch, samples = config.train.batch_size, int(config.data.crop_s * SAMPLE_RATE)
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch, samples, generator=generator)
    labels = {t: torch.randint(0, len(v), (batch,), generator=generator) for t, v in tasks.items()}

    def step():
        loss = model(inputs, torch.ones_like(inputs, dtype=torch.long), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for n in THREADS:
        with threads(n):
            times = repeat(step, runs)
            clips = [batch / t for t in times]
            table.timing("training throughput (forward, backward, AdamW step)", n, clips,
                         f"{note}; batch {batch} x {config.data.crop_s:g} s; one process, no data loading",
                         unit="clips/s")


KEPT_SECTIONS = "<!-- sections below: written by other scripts, kept by benchmarks/bench.py -->"


def write_report(path: Path, table: Table, details: list[tuple[str, str]], args: argparse.Namespace) -> str:
    quick = " (quick smoke run: few repeats; not for comparison)" if args.quick else ""
    text = "\n".join([
        "# SpeakSphere benchmarks",
        "",
        f"Written by `python benchmarks/bench.py`{quick}. Medians over repeated runs after one warm-up; the",
        "spread is the interquartile range and the min-max range. Threads: torch intra-op and BLAS/OpenMP",
        "threads. The wav2vec2-base reference (random weights, transformers' default Wav2Vec2Config: 12",
        "layers, 768 wide) is measured in the same run, so its ratio transfers between machines; absolute",
        "times depend on the machine below and on what else it was running (see the load average).",
        "silero-vad sets torch to 1 thread when it is imported, so a process that has run voice activity",
        "detection (the app included) runs its model on 1 thread unless it sets the count again afterwards.",
        "",
        "## Machine",
        "",
        "| | |", "|---|---|", *[f"| {k} | {v} |" for k, v in details],
        "",
        "## Results",
        "",
        table.markdown(),
        "",
        "## Reproduce",
        "",
        "From the repository root, after "
        "`pip install -r requirements.txt -r requirements-train.txt -r requirements-dev.txt`:",
        "",
        "- every figure above: `python benchmarks/bench.py` (about 10-20 min on 2 cores; `--quick` for a",
        "  smoke run, `--model PATH` for another model, `--sections analysis,dtw` for some of them);",
        "- the load test alone: `python benchmarks/load.py --clients 16 --requests 5`;",
        "- bad input and crash safety (pass/fail, not timed): `python -m pytest tests/test_fuzz_audio.py",
        "  tests/test_fuzz_api.py tests/test_crash_store.py`.",
        "",
        f"Command of this run: `python benchmarks/bench.py {' '.join(sys.argv[1:])}`".rstrip() + "",
        "",
    ])
    old = path.read_text() if path.exists() else ""
    if KEPT_SECTIONS in old:  # figures of other scripts (benchmarks/worst_case.py), kept as they were
        text += "\n" + KEPT_SECTIONS + old.split(KEPT_SECTIONS, 1)[1]
    path.write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test of the benchmark")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the embedded model)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="where to write the report")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {','.join(SECTIONS)}")
    parser.add_argument("--load-requests", type=int, default=None, help="requests per client in the load test "
                        "(default 5, 1 with --quick; 0 skips it)")
    args = parser.parse_args(argv)
    from speaksphere.model import DEFAULT_MODEL_DIR

    model = (args.model or DEFAULT_MODEL_DIR).resolve()
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
    if set(sections) & {"analysis", "load", "memory", "app", "train"} and not (model / "config.json").is_file():
        parser.exit(2, f"error: no SpeakSphere model in {model} (config.json and weights). The embedded model "
                       "is speaksphere/model/speaksphere-small; train one with train.py and pass --model PATH.\n")
    runs = 3 if args.quick else 9
    load_requests = args.load_requests if args.load_requests is not None else (1 if args.quick else 5)
    from speaksphere.recording import warm_up

    warm_up()  # silero-vad calls torch.set_num_threads(1) on import: let it happen before any measurement
    table = Table()
    details = machine()
    details.insert(1, ("model", f"{os.path.relpath(model, ROOT) if model.is_relative_to(ROOT) else model}"))
    with tempfile.TemporaryDirectory() as folder:
        clip, clip_note = ten_second_clip(Path(folder))
        steps = {
            "analysis": lambda: bench_analysis(table, model, clip, clip_note, runs),
            "pronunciation": lambda: bench_pronunciation(table, runs),
            "dtw": lambda: bench_dtw(table, runs),
            "load": lambda: bench_model_load(table, model, runs),
            "memory": lambda: bench_memory(table, model, clip),
            "app": lambda: bench_app(table, model, 1 if args.quick else 3, load_requests),
            "train": lambda: bench_train(table, model, runs),
        }
        for name in SECTIONS:
            if name in sections:
                print(f"{name} ...", flush=True)
                steps[name]()
    details.append(("load average at end (1, 5, 15 min)", ", ".join(f"{v:.2f}" for v in os.getloadavg())))
    print(write_report(args.out, table, details, args))


if __name__ == "__main__":
    main()

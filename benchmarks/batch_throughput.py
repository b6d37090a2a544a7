"""Batch throughput: `accelerate launch -m speaksphere.batch` over one folder at 1 and 2 processes.

    python benchmarks/batch_throughput.py [--inputs speaksphere/references/audio] [--processes 1 2] [--rounds 2]

Runs the batch into a fresh output for each process count, alternating the counts round after round
(so a neighbour's load falls on both alike), and prints per run: recordings, the whole command's wall
time (model loading included), the analysis alone (from every model loaded to the last row written,
as speaksphere.batch reports it), recordings a second of each, the CPU seconds each recording took
(summed over the processes, from their own reports) and the load average when it started. Ends with the
median speed-ups over one process. One thread per process (the batch's own). On a machine others are
using, the wall-clock speed-up measures the neighbours too; the CPU seconds per recording do not: equal
at 1 and 2 processes, two free cores give two processes twice one's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def launch(inputs: Path, out: Path, processes: int) -> dict:
    """One batch run into `out`: its recordings, wall seconds and analysis seconds."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu" if processes > 1 else "--cpu",
               "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "-m", "speaksphere.batch", "--inputs", str(inputs), "--out", str(out),
               "--no-progress"]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    log = result.stdout + result.stderr
    found = re.search(r"analysed (\d+) recordings in ([\d.]+) s", log)
    cpu = sum(float(s) for s in re.findall(r"process \d+: \d+ recordings, ([\d.]+) CPU s", log))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {"processes": processes, "recordings": len(rows), "errors": sum("error" in r for r in rows),
            "wall_s": round(wall, 1), "analysis_s": float(found.group(2)),
            "per_s_wall": round(len(rows) / wall, 2),
            "per_s_analysis": round(int(found.group(1)) / float(found.group(2)), 2),
            "cpu_s_per_recording": round(cpu / max(int(found.group(1)), 1), 3),
            "load_average_at_start": round(load, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=Path, default=ROOT / "speaksphere" / "references" / "audio")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for processes in args.processes:
                run = launch(args.inputs, Path(folder) / f"r{round_}-p{processes}.jsonl", processes)
                print(json.dumps(run), flush=True)
                runs.append(run)
    speed = {p: statistics.median(r["per_s_analysis"] for r in runs if r["processes"] == p) for p in args.processes}
    wall = {p: statistics.median(r["per_s_wall"] for r in runs if r["processes"] == p) for p in args.processes}
    cpu = {p: statistics.median(r["cpu_s_per_recording"] for r in runs if r["processes"] == p) for p in args.processes}
    base = args.processes[0]
    print(json.dumps({"median_per_s_analysis": speed, "median_per_s_wall": wall,
                      "speedup_analysis": {p: round(speed[p] / speed[base], 2) for p in args.processes},
                      "speedup_wall": {p: round(wall[p] / wall[base], 2) for p in args.processes},
                      "median_cpu_s_per_recording": cpu}))


if __name__ == "__main__":
    main()

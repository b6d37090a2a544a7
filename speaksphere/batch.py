"""Analyse many recordings at once, spread over processes, GPUs or machines by accelerate.

    accelerate launch --num_processes 2 -m speaksphere.batch --inputs FOLDER_OR_MANIFEST --out results.jsonl

Every recording gets what the app's Analyze tab computes (speech facts, the model's probabilities per
task) and, where a manifest row names a `text` or a `phrase_id`, the Pronounce tab's scores: the same
public functions (`load_recording`, `speech_facts`, `load_model(...).analyze_recording`,
`score_pronunciation`). One JSON line per recording: "path", "language" (the most probable spoken
language), "facts", "predictions" and "pronunciation", or "path" and "error" for a recording that cannot
be used (the batch goes on).

The inputs are a folder (its audio files, recursively) or a CSV manifest with a `path` column (relative
to the manifest's folder) and optional `text`, `phrase_id` and `language` columns. Resumable: recordings
whose path is already in the output are skipped. Each process appends to its own part file
(`results.jsonl.part<rank>`, a line flushed per recording); the main process merges the parts into the
output at the end, so lines never interleave and a killed run loses at most the recordings in flight.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg"}  # what the app accepts
MANIFEST_COLUMNS = {"path", "text", "phrase_id", "language"}

__all__ = ["Item", "read_inputs", "done_paths", "analyse_item", "run", "main"]


@dataclass(frozen=True)
class Item:
    """One recording to analyse, with what it should say when it is a pronunciation attempt."""

    path: str
    text: str | None = None
    phrase_id: str | None = None
    language: str | None = None  # ISO 639-1 of `text` ("en" when not given)


def read_inputs(inputs: str | Path) -> list[Item]:
    """The recordings of a folder (sorted, recursively) or of a CSV manifest, each path once.

    Raises ValueError for a manifest without a `path` column, with unknown columns, or with nothing in it."""
    inputs = Path(inputs)
    if inputs.is_dir():
        return [Item(str(p)) for p in sorted(inputs.rglob("*")) if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
    if not inputs.is_file():
        raise ValueError(f"{inputs} is neither a folder of recordings nor a CSV manifest")
    with open(inputs, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    columns = set(rows[0]) if rows else set()
    if "path" not in columns or columns - MANIFEST_COLUMNS:
        raise ValueError(f"the manifest {inputs} needs a 'path' column and may have {sorted(MANIFEST_COLUMNS)}; "
                         f"it has {sorted(columns)}")
    items, seen = [], set()
    for row in rows:
        path = str(inputs.parent / row["path"]) if row["path"] else ""
        if path and path not in seen:
            seen.add(path)
            items.append(Item(path, row.get("text") or None, row.get("phrase_id") or None, row.get("language") or None))
    return items


def _complete_lines(path: Path) -> list[dict]:
    """The rows of a JSON-lines file; a line cut by a crash (no newline, or not JSON) is left out."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def part_files(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{out.name}.part*"))


def done_paths(out: Path) -> set[str]:
    """Paths with a row in the output or in a part file left by an interrupted run."""
    return {row["path"] for file in [out, *part_files(out)] for row in _complete_lines(file)}


def _plain(value):
    """JSON for numpy values in the results."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value):
    """NaN and infinities as null: the output stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def analyse_item(item: Item, predictor, settings) -> dict:
    """One recording's row: what the app's Analyze tab computes, and its Pronounce scores with a text or
    phrase id. A recording that cannot be used is a row with "error" (its message for a person)."""
    from . import load_recording, score_pronunciation, speech_facts
    from .coach.explain import top_label

    try:
        recording = load_recording(item.path, settings.audio, settings.vad)
        predictions = predictor.analyze_recording(recording)
        row = {"path": item.path, "language": top_label(predictions["language"])[0] if "language" in predictions
               else None, "facts": speech_facts(recording), "predictions": predictions}
        if item.text or item.phrase_id:
            row["pronunciation"] = score_pronunciation(recording, item.phrase_id, item.text, item.language)
        return json.loads(json.dumps(row, default=_plain))  # plain types now: a failure here is this file's
    except Exception as error:  # noqa: BLE001 - one bad recording must not stop a class's homework
        return {"path": item.path, "error": f"{type(error).__name__}: {error}"}


def _append_to(path: Path):
    """`path` opened for appending, a line cut by an earlier crash removed first."""
    if path.exists():
        text = path.read_bytes()
        if text and not text.endswith(b"\n"):
            path.write_bytes(text[: text.rfind(b"\n") + 1])
    return open(path, "a", encoding="utf-8")


def merge_parts(out: Path, order: list[str]) -> int:
    """Append the part files' rows not yet in `out` (in input order), then remove the parts; rows added."""
    have = {row["path"] for row in _complete_lines(out)}
    rows = {row["path"]: row for file in part_files(out) for row in _complete_lines(file) if row["path"] not in have}
    rank = {path: i for i, path in enumerate(order)}
    with _append_to(out) as file:
        for row in sorted(rows.values(), key=lambda r: rank.get(r["path"], len(rank))):
            file.write(json.dumps(_finite(row), allow_nan=False) + "\n")
        file.flush()
    for part in part_files(out):
        part.unlink()
    return len(rows)


def _cpu_only() -> bool:
    """Processes on CPUs: asked for (`--cpu`), or no GPU here. On CPUs the processes `--multi_gpu` starts
    (torchrun's) join one gloo group; `--cpu` alone starts a single process unless MPI is set up."""
    import torch

    return os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true") or not torch.cuda.is_available()


def run(inputs: str | Path, out: str | Path, model: str | None = None, progress: bool = True) -> tuple[int, int] | None:
    """Analyse every recording of `inputs` not yet in `out`, this process's share of them. The main
    process returns the rows it merged into `out` and the number of processes; the others None."""
    import threadpoolctl
    import torch
    from accelerate import PartialState
    from tqdm.auto import tqdm

    from . import load_model
    from .coach.service import model_path
    from .settings import load_settings

    state = PartialState(cpu=_cpu_only())
    torch.set_num_threads(1)  # one thread per process (after accelerate's own choice): N processes on N cores scale
    threadpoolctl.threadpool_limits(limits=1)
    out = Path(out)
    items = read_inputs(inputs)
    done = done_paths(out)  # read by every process before any writes: all see the same list to split
    todo = [item for item in items if item.path not in done]
    state.wait_for_everyone()
    settings = load_settings()
    predictor = load_model(model or model_path(settings), device=str(state.device))
    predictor.windows = settings.windows
    state.wait_for_everyone()  # every model loaded: what follows is the analysis alone
    started, cpu_started = time.perf_counter(), time.process_time()
    part_file = out.with_name(f"{out.name}.part{state.process_index}")
    with state.split_between_processes(todo) as share, _append_to(part_file) as part:
        bar = tqdm(share, desc=f"analysing ({state.num_processes} processes, {len(done)} done before)",
                   unit="file", disable=not (progress and state.is_main_process))
        for item in bar:
            part.write(json.dumps(_finite(analyse_item(item, predictor, settings)), allow_nan=False) + "\n")
            part.flush()
    print(f"process {state.process_index}: {len(share)} recordings, {time.process_time() - cpu_started:.1f} CPU s "
          f"in {time.perf_counter() - started:.1f} s", flush=True)  # where the time went, per process
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    seconds = time.perf_counter() - started
    print(f"analysed {len(todo)} recordings in {seconds:.1f} s ({len(todo) / max(seconds, 1e-9):.2f} a second) "
          f"on {state.num_processes} processes", flush=True)
    return merge_parts(out, [item.path for item in items]), state.num_processes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="accelerate launch [--num_processes N] -m speaksphere.batch",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", required=True, help="a folder of recordings, or a CSV manifest (path, text, "
                                                         "phrase_id, language)")
    parser.add_argument("--out", required=True, help="the JSON-lines results; recordings already in it are skipped")
    parser.add_argument("--model", default=None, help="a model folder (default: the app's, $SPEAKSPHERE_MODEL)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        read_inputs(args.inputs)
    except ValueError as error:
        parser.error(str(error))
    merged = run(args.inputs, args.out, args.model, progress=not args.no_progress)
    if merged is not None:
        print(f"{merged[0]} rows added to {args.out} by {merged[1]} processes", flush=True)


if __name__ == "__main__":
    main()

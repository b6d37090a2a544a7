"""Batch analysis launched for real with accelerate (two processes): one row per recording, scores where a
manifest gives a text or a phrase, an "error" row for a damaged file, resumable without duplicates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from speaksphere.batch import Item, done_paths, merge_parts, read_inputs

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "speaksphere" / "references" / "audio"
RECORDINGS = ["en-auth-incorrect.ogg", "en-conf-enteringno.ogg", "fr-vm-pls-try-again.ogg"]


def launch_batch(*arguments: str, processes: int = 2) -> str:
    """`accelerate launch --multi_gpu --num_processes N -m speaksphere.batch ...` (torchrun's processes in
    one gloo group on CPUs: `--cpu` alone starts one process without MPI); its stdout and stderr."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu" if processes > 1 else "--cpu",
               "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "speaksphere.batch", *arguments, "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout + result.stderr


def rows_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.fixture
def homework(tmp_path) -> Path:
    """A class's homework: three real recordings, one damaged file, and a manifest naming what two should say."""
    folder = tmp_path / "homework"
    folder.mkdir()
    for name in RECORDINGS:
        shutil.copy(LIBRARY / name, folder / name)
    (folder / "damaged.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    manifest = folder / "manifest.csv"
    manifest.write_text("path,text,phrase_id,language\n"
                        "en-auth-incorrect.ogg,,en-auth-incorrect,\n"
                        "en-conf-enteringno.ogg,You are entering conference number,,en\n"
                        "fr-vm-pls-try-again.ogg,,,\n"
                        "damaged.wav,,,\n")
    return manifest


def test_two_processes_write_one_row_per_recording_and_resume(homework, tmp_path):
    out = tmp_path / "results.jsonl"
    log = launch_batch("--inputs", str(homework), "--out", str(out))
    assert "4 rows added" in log and "by 2 processes" in log
    rows = {Path(row["path"]).name: row for row in rows_of(out)}
    assert len(rows) == len(rows_of(out)) == 4  # one line each, none twice
    assert "error" in rows["damaged.wav"] and "not a recording we can read" in rows["damaged.wav"]["error"]
    for name in RECORDINGS:
        assert "error" not in rows[name], rows[name]
        assert rows[name]["facts"]["duration_s"] > 0.5 and set(rows[name]["predictions"]) >= {"language"}
    assert rows["en-auth-incorrect.ogg"]["language"] == "en" and rows["fr-vm-pls-try-again.ogg"]["language"] == "fr"
    for name in ("en-auth-incorrect.ogg", "en-conf-enteringno.ogg"):  # a native reading of the right text
        assert rows[name]["pronunciation"]["overall"] > 60, rows[name]["pronunciation"]
    assert "pronunciation" not in rows["fr-vm-pls-try-again.ogg"]
    assert not list(tmp_path.glob("results.jsonl.part*"))  # merged and removed

    # a run killed before its merge: one part file with a finished row and a line cut by the kill
    kept = rows_of(out)
    out.write_text(json.dumps(kept[0]) + "\n")
    (tmp_path / "results.jsonl.part1").write_text(json.dumps({**kept[1], "marker": "from the killed run"}) + "\n"
                                                  + json.dumps(kept[2])[:40])
    log = launch_batch("--inputs", str(homework), "--out", str(out))
    assert "3 rows added" in log  # the killed run's finished row as it was, its cut row and the missing one redone
    again = rows_of(out)
    assert sorted(row["path"] for row in again) == sorted(row["path"] for row in kept)
    assert [row.get("marker") for row in again].count("from the killed run") == 1
    assert "0 rows added" in launch_batch("--inputs", str(homework), "--out", str(out), processes=1)
    assert len(rows_of(out)) == 4


def test_a_folder_lists_its_recordings_and_a_bad_manifest_is_refused(homework, tmp_path):
    assert [Path(item.path).name for item in read_inputs(homework.parent)] == sorted(RECORDINGS + ["damaged.wav"])
    items = read_inputs(homework)
    assert items[0] == Item(str(homework.parent / "en-auth-incorrect.ogg"), None, "en-auth-incorrect", None)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,text\na.wav,hello\n")
    with pytest.raises(ValueError, match="needs a 'path' column"):
        read_inputs(bad)
    with pytest.raises(ValueError, match="neither a folder"):
        read_inputs(tmp_path / "missing.csv")


def test_merging_keeps_input_order_and_skips_rows_already_out(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"path": "b"}\n{"path": "cut')  # a line cut by a crash of the merge itself
    (tmp_path / "out.jsonl.part0").write_text('{"path": "c"}\n{"path": "b"}\n')
    (tmp_path / "out.jsonl.part1").write_text('{"path": "a", "error": "AudioError: empty"}\n{"path": "d"')
    assert done_paths(out) == {"a", "b", "c"}
    assert merge_parts(out, ["a", "b", "c", "d"]) == 2
    assert [row["path"] for row in rows_of(out)] == ["b", "a", "c"]
    assert not list(tmp_path.glob("out.jsonl.part*"))

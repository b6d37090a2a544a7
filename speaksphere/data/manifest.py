"""The one manifest format every data source writes: a CSV with one row per clip.

Columns (all strings in the file; empty = unknown):
    audio         path of the clip, relative to the manifest's folder (16 kHz mono)
    voice         the underlying speaker; splits hold out whole voices. Pitch, rate and emotion
                  renderings of one speaker keep its voice id; espeak-ng's variants (+f3, +m1) are
                  speakers of their own, shared by every language they speak.
    source        where the clip comes from: asterisk (real), espeak, pico, flite, mbrola, festival, piper,
                  noise, or a dataset name
    real          "1" for recorded human speech, "0" for synthetic (train on TTS, test on real)
    text          the words spoken, where known
    language, accent, emotion, command   one label per task (see speaksphere.data.labels)
    split         train, val or test
    engine_voice  what the engine was asked for (e.g. "en-gb-scotland+f3", "mb-de1-en")
    rate, pitch   the tempo factor (1 = the voice's normal) and pitch shift in semitones it was rendered with
    augmentation  what was done to the clip after synthesis or recording, e.g. "noise:snr=10;reverb:rt60=0.4";
                  "rendition" first for a real recording re-rendered in an emotion (WORLD), "band:8k" for a
                  copy through a telephone band
    duration_s    seconds
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from .labels import TASKS, check_label

__all__ = ["COLUMNS", "SPLITS", "RENDITION", "read_manifest", "write_manifest", "new_row", "is_real", "is_rendition",
           "as_recorded"]

COLUMNS = ("audio", "voice", "source", "real", "text", *TASKS, "split",
           "engine_voice", "rate", "pitch", "augmentation", "duration_s")
SPLITS = ("train", "val", "test")
RENDITION = "rendition"  # augmentation of a real recording re-rendered in an emotion
BAND_8K = "band:8k"  # augmentation of a copy through an 8-kHz telephone channel


def new_row(**values: object) -> dict[str, str]:
    """A manifest row with every column present; labels are checked against their vocabularies."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise KeyError(f"not manifest columns: {sorted(unknown)}")
    row = {column: "" if values.get(column) is None else str(values[column]) for column in COLUMNS}
    for task in TASKS:
        check_label(task, row[task])
    return row


def is_real(row: dict[str, str]) -> bool:
    """True for a row of recorded human speech (its "real" column is "1"; "true" is accepted too)."""
    return str(row.get("real", "")).lower() in ("1", "true")


def is_rendition(row: dict[str, str]) -> bool:
    """True for a real recording re-rendered in an emotion (its augmentation starts with "rendition")."""
    return str(row.get("augmentation", "")).split(";")[0] == RENDITION


def as_recorded(row: dict[str, str]) -> bool:
    """True for a real recording heard as recorded (or only through a telephone band): no added noise,
    reverberation or emotion rendition."""
    return is_real(row) and str(row.get("augmentation", "")) in ("", BAND_8K)


def write_manifest(rows: Iterable[dict[str, str]], path: str | Path) -> int:
    """Write rows as CSV with the manifest's columns (extra keys are refused); returns the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def read_manifest(path: str | Path, absolute: bool = False) -> list[dict[str, str]]:
    """Read a manifest. With `absolute`, the audio paths are resolved against the manifest's folder."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if rows and set(COLUMNS) - set(rows[0]):
        raise ValueError(f"{path} lacks manifest columns {sorted(set(COLUMNS) - set(rows[0]))}")
    if absolute:
        for row in rows:
            row["audio"] = str((path.parent / row["audio"]).resolve())
    return rows

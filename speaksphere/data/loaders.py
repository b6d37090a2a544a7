"""Real datasets into the manifest format: a folder + CSV with folds, an audiofolder, a hub dataset by name.

All three turn a dataset into manifest rows (speaksphere.data.manifest) and write its audio as 16 kHz
FLAC under OUT/external/<name>/, decoded by soundfile (speaksphere.audio.read_audio) so that neither
torchcodec nor ffmpeg is needed. Which dataset column fills which manifest column, and how dataset
labels map to ours (CREMA-D "ANG" -> "angry"), is configuration (`ExternalDataset`, YAML).

- fold_csv: UrbanSound8K-style: `audio_dir`, a `metadata` CSV with a file, a class label and a fold
  column; audio at audio_dir/`path_template` ("fold{fold}/{file}"). Folds map to splits.
- audiofolder: root/<label>/<file> or root/<split>/<label>/<file>; the speaker from the file name by a
  regex (Speech Commands: "^(.+?)_nohash_"); without split folders, voices are split by a hash.
- hub: `datasets.load_dataset(name, subset)` with Audio(decode=False): Common Voice, Speech Commands
  v2, CREMA-D, EmoDB, CommonAccent where the hub is reachable; a local folder in the hub's layout
  (parquet files) loads the same way, which is how it is tested offline.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE, AudioError, read_audio
from .labels import TASKS, VOCABULARIES
from .manifest import SPLITS, new_row
from .text import text_split

__all__ = ["ExternalDataset", "load_external", "fold_csv_rows", "audiofolder_rows", "hub_rows"]

log = logging.getLogger(__name__)
_AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".aiff", ".aif"}
_SPLIT_NAMES = {"train": "train", "validation": "val", "valid": "val", "dev": "val", "val": "val", "test": "test"}


@dataclass
class ExternalDataset:
    """A real dataset and how its columns become manifest columns."""

    kind: Literal["fold_csv", "audiofolder", "hub"]
    name: str  # hub id ("google/speech_commands") or a local folder; also the manifest's source
    subset: str = ""  # hub configuration, e.g. "v0.02" or a Common Voice language
    task: str = ""  # the task the dataset's label fills (fold_csv, audiofolder; hub uses `columns`)
    columns: dict[str, str] = field(default_factory=dict)  # manifest or role -> dataset column (audio, voice, text,
                                                           # label, fold, file, a task)
    constants: dict[str, str] = field(default_factory=dict)  # manifest column -> a fixed value, e.g. {language: fr}
    label_map: dict[str, str] = field(default_factory=dict)  # dataset label -> our label; unmapped labels must
                                                             # already be ours
    splits: dict[str, str] = field(default_factory=dict)  # dataset split -> train/val/test (hub); empty = all
                                                          # three by name
    audio_dir: str = ""  # fold_csv: folder of the audio
    metadata: str = ""  # fold_csv: the CSV
    path_template: str = "fold{fold}/{file}"  # fold_csv: audio path under audio_dir
    val_folds: list[int] = field(default_factory=list)  # fold_csv: folds used for validation
    test_folds: list[int] = field(default_factory=list)  # fold_csv: folds used for testing; the rest train
    voice_pattern: str = ""  # audiofolder: regex on the file name, group 1 = speaker; empty = the file's stem
    max_clips: int = 0  # 0 = all


def _label(dataset: ExternalDataset, task: str, value: object) -> str:
    """Our label for a dataset label, or "" when it has none in our vocabulary."""
    if value is None or value == "":
        return ""
    text = str(value)
    text = dataset.label_map.get(text, text)
    return text if text in VOCABULARIES[task] else ""


def _write(wave: np.ndarray, out: Path, dataset: ExternalDataset, index: int) -> str:
    relative = Path("external") / re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.name) / f"{index:07d}.flac"
    (out / relative).parent.mkdir(parents=True, exist_ok=True)
    sf.write(out / relative, wave, SAMPLE_RATE, subtype="PCM_16")
    return relative.as_posix()


def _row(dataset: ExternalDataset, out: Path, index: int, source: str | Path | bytes, split: str,
         voice: str, text: str, labels: dict[str, str]) -> dict[str, str] | None:
    labels = {**{t: "" for t in TASKS}, **{k: v for k, v in dataset.constants.items() if k in TASKS}, **labels}
    labels = {task: _label(dataset, task, value) for task, value in labels.items()}
    if not any(labels.values()):
        return None
    try:
        wave, _ = read_audio(source)
    except AudioError as error:
        log.warning("%s clip %d skipped: %s", dataset.name, index, error)
        return None
    return new_row(audio=_write(wave, out, dataset, index), voice=f"{dataset.name}:{voice}", source=dataset.name,
                   real=1, text=text, split=split, engine_voice="", rate="1.000", pitch="0.00",
                   augmentation="", duration_s=f"{len(wave) / SAMPLE_RATE:.3f}", **labels)


def _limited(rows: Iterable[dict[str, str] | None], limit: int) -> list[dict[str, str]]:
    kept = []
    for row in rows:
        if row is not None:
            kept.append(row)
            if limit and len(kept) >= limit:
                break
    return kept


def fold_csv_rows(dataset: ExternalDataset, out: Path) -> list[dict[str, str]]:
    """UrbanSound8K-style folder + metadata CSV with folds."""
    c = {"file": "slice_file_name", "label": "class", "fold": "fold", **dataset.columns}
    audio_dir = Path(dataset.audio_dir)

    def rows() -> Iterator[dict[str, str] | None]:
        with open(dataset.metadata, newline="", encoding="utf-8") as file:
            for index, record in enumerate(csv.DictReader(file)):
                fold = int(record[c["fold"]])
                split = "test" if fold in dataset.test_folds else "val" if fold in dataset.val_folds else "train"
                path = audio_dir / dataset.path_template.format(fold=fold, file=record[c["file"]])
                voice = record.get(c.get("voice", ""), "") or Path(record[c["file"]]).stem
                labels = {dataset.task: record[c["label"]]}
                labels.update({t: record[c[t]] for t in TASKS if t in c})
                yield _row(dataset, out, index, path, split, voice, record.get(c.get("text", ""), ""), labels)
    return _limited(rows(), dataset.max_clips)


def audiofolder_rows(dataset: ExternalDataset, out: Path, seed: int = 0,
                     fractions: dict[str, float] | None = None) -> list[dict[str, str]]:
    """root/<label>/<file> or root/<split>/<label>/<file>; label folders fill `dataset.task`."""
    root = Path(dataset.name)
    fractions = fractions or {"train": 0.8, "val": 0.1, "test": 0.1}
    pattern = re.compile(dataset.voice_pattern) if dataset.voice_pattern else None
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _AUDIO_SUFFIXES)

    def rows() -> Iterator[dict[str, str] | None]:
        for index, path in enumerate(files):
            parts = path.relative_to(root).parts
            match = pattern.search(path.name) if pattern else None
            voice = match.group(1) if match else path.stem
            if len(parts) >= 3 and parts[0].lower() in _SPLIT_NAMES:
                split = _SPLIT_NAMES[parts[0].lower()]
            else:  # no split folders: whole voices by a hash of their id
                split = text_split(voice, fractions, seed)
            yield _row(dataset, out, index, path, split, voice, "", {dataset.task: parts[-2]})
    return _limited(rows(), dataset.max_clips)


def hub_rows(dataset: ExternalDataset, out: Path) -> list[dict[str, str]]:
    """A hub dataset by name (or a local folder in its layout) via datasets.load_dataset, decoded by soundfile."""
    from datasets import Audio, load_dataset  # only this loader needs datasets

    c = {"audio": "audio", **dataset.columns}
    wanted = dataset.splits or {name: name for name in SPLITS}
    loaded = load_dataset(dataset.name, dataset.subset or None)
    rows: list[dict[str, str]] = []
    index = 0
    for hub_split, part in loaded.items():
        split = wanted.get(hub_split) or _SPLIT_NAMES.get(hub_split.lower())
        if split not in SPLITS or (dataset.splits and hub_split not in dataset.splits):
            continue
        part = part.cast_column(c["audio"], Audio(decode=False))  # bytes/path only: no torchcodec
        for example in part:
            audio = example[c["audio"]]
            source = audio.get("bytes") or audio.get("path")
            labels = {t: example[c[t]] for t in TASKS if t in c}
            names = part.features
            for task, value in list(labels.items()):  # ClassLabel columns hold integers: use their names
                feature = names[c[task]]
                if isinstance(value, int) and hasattr(feature, "int2str"):
                    labels[task] = feature.int2str(value)
            voice = str(example.get(c.get("voice", ""), "") or index)
            row = _row(dataset, out, index, source, split, voice, str(example.get(c.get("text", ""), "") or ""), labels)
            index += 1
            if row is not None:
                rows.append(row)
            if dataset.max_clips and len(rows) >= dataset.max_clips:
                return rows
    return rows


def load_external(dataset: ExternalDataset, out: Path, seed: int = 0) -> list[dict[str, str]]:
    """Manifest rows (audio written under `out`) for one external dataset of any kind."""
    if dataset.kind == "fold_csv":
        return fold_csv_rows(dataset, out)
    if dataset.kind == "audiofolder":
        return audiofolder_rows(dataset, out, seed)
    return hub_rows(dataset, out)

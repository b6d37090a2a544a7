"""Real-dataset loaders: a fold CSV, an audiofolder and a hub-shaped dataset saved locally."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaksphere.data.loaders import ExternalDataset, load_external
from speaksphere.data.manifest import read_manifest, write_manifest
from speaksphere.data.splits import voice_overlap


def _tone(path: Path, rate: int = 22050, seconds: float = 0.6, freq: float = 220.0) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.3 * np.sin(2 * np.pi * freq * t), rate, subtype="PCM_16")
    return path


def _check(rows, out: Path) -> None:
    write_manifest(rows, out / "manifest.csv")
    for row in read_manifest(out / "manifest.csv", absolute=True):
        assert sf.info(row["audio"]).samplerate == 16000 and row["real"] == "1"


def test_fold_csv_maps_folds_to_splits_and_labels(tmp_path):
    audio = tmp_path / "audio"
    lines = ["slice_file_name,fsID,fold,class"]
    for i, (fold, label) in enumerate([(1, "ANG"), (1, "SAD"), (2, "HAP"), (3, "NEU"), (3, "XXX")]):
        _tone(audio / f"fold{fold}" / f"{i}.wav")
        lines.append(f"{i}.wav,spk{fold},{fold},{label}")
    (tmp_path / "meta.csv").write_text("\n".join(lines))
    dataset = ExternalDataset(kind="fold_csv", name="emo-folds", task="emotion", audio_dir=str(audio),
                              metadata=str(tmp_path / "meta.csv"), columns={"voice": "fsID"}, val_folds=[2],
                              test_folds=[3],
                              label_map={"ANG": "angry", "SAD": "sad", "HAP": "happy", "NEU": "neutral"})
    rows = load_external(dataset, tmp_path / "out")
    assert [(r["emotion"], r["split"]) for r in rows] == [("angry", "train"), ("sad", "train"), ("happy", "val"),
                                                         ("neutral", "test")]  # XXX has no label of ours: dropped
    assert rows[0]["voice"] == "emo-folds:spk1"
    _check(rows, tmp_path / "out")


def test_audiofolder_takes_speakers_from_file_names(tmp_path):
    root = tmp_path / "commands"
    for word in ("yes", "no", "banana"):
        for speaker in ("aa11", "bb22", "cc33", "dd44"):
            _tone(root / word / f"{speaker}_nohash_0.wav", rate=16000)
    dataset = ExternalDataset(kind="audiofolder", name=str(root), task="command", voice_pattern=r"^(.+?)_nohash_",
                              label_map={"banana": "_unknown_"})
    rows = load_external(dataset, tmp_path / "out")
    assert len(rows) == 12 and {r["command"] for r in rows} == {"yes", "no", "_unknown_"}
    assert voice_overlap(rows) == {}
    assert len({r["voice"] for r in rows}) == 4
    _check(rows, tmp_path / "out")


def test_hub_loader_on_a_local_dataset_in_the_hub_layout(tmp_path):
    datasets = pytest.importorskip("datasets")
    clips = [{"bytes": _tone(tmp_path / "src" / f"{i}.wav", freq=200 + 30 * i).read_bytes(), "path": f"{i}.wav"}
             for i in range(6)]
    # stored as the hub stores audio (bytes + path) without encoding, which would need torchcodec
    raw = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    features = datasets.Features({"audio": raw, "client_id": datasets.Value("string"),
                                  "sentence": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["ANG", "HAP", "SAD", "NEU"])})
    for split, indices in {"train": [0, 1, 2, 3], "validation": [4], "test": [5]}.items():
        part = datasets.Dataset.from_dict({
            "audio": [clips[i] for i in indices], "client_id": [f"c{i % 2}" for i in indices],
            "sentence": [f"sentence {i}" for i in indices], "label": [i % 4 for i in indices]},
            features=features).cast_column("audio", datasets.Audio())  # decoding Audio, as on the hub
        part.to_parquet(str(tmp_path / "hub" / "data" / f"{split}-00000-of-00001.parquet"))
    dataset = ExternalDataset(kind="hub", name=str(tmp_path / "hub"), constants={"language": "en"},
                              columns={"emotion": "label", "voice": "client_id", "text": "sentence"},
                              label_map={"ANG": "angry", "HAP": "happy", "SAD": "sad", "NEU": "neutral"})
    rows = load_external(dataset, tmp_path / "out")
    assert [r["split"] for r in rows] == ["train"] * 4 + ["val", "test"]
    assert [r["emotion"] for r in rows[:4]] == ["angry", "happy", "sad", "neutral"]
    assert rows[0]["language"] == "en" and rows[0]["text"] == "sentence 0" and rows[0]["voice"].endswith(":c0")
    _check(rows, tmp_path / "out")

"""Manifest rows as PyTorch examples for training: waveform crops and one label index per task.

The trainer's only bridge from the data layer to tensors; the model never imports it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..audio import SAMPLE_RATE, AudioLimits, read_audio
from .labels import IGNORE_INDEX

__all__ = ["ClipDataset", "EpochRandom", "collate", "task_labels", "CORPUS_LIMITS"]

# Corpus clips were checked when built; a fast-spoken command word may be shorter than the quarter
# second a learner's upload needs, and is still a valid training example.
CORPUS_LIMITS = AudioLimits(min_seconds=0.02)


def task_labels(rows: list[dict[str, str]], task: str, vocabulary: tuple[str, ...]) -> list[str]:
    """The labels of `task` that occur in `rows`, in vocabulary order (the model's class order)."""
    present = {row[task] for row in rows if row.get(task)}
    return [label for label in vocabulary if label in present]


class EpochRandom:
    """A Dataset's random generator that draws anew every epoch, in DataLoader workers too.

    A worker gets a fresh copy of the dataset every epoch, so a generator seeded once would repeat the
    same crops each epoch. Called from a worker, it reseeds from (seed, the worker's torch seed), which
    the main process draws anew per epoch (reproducibly after accelerate's set_seed); in the main
    process it is one generator seeded with `seed`.
    """

    def __init__(self, seed: int = 0):
        self.seed, self.generator, self._worker_seed = seed, np.random.default_rng(seed), None

    def __call__(self) -> np.random.Generator:
        info = torch.utils.data.get_worker_info()
        if info is not None and self._worker_seed != info.seed:
            self._worker_seed = info.seed
            self.generator = np.random.default_rng([self.seed, info.seed % 2**32])
        return self.generator


class ClipDataset(Dataset):
    """Clips of a manifest (rows with absolute audio paths) with label indices per task.

    crop_s: training examples are random crops of this many seconds (shorter clips stay whole);
    evaluation examples (random=False) take the first `crop_s` seconds, so results are repeatable.
    """

    def __init__(self, rows: list[dict[str, str]], tasks: dict[str, list[str]], crop_s: float = 4.0,
                 random: bool = True, seed: int = 0):
        self.rows, self.tasks, self.random = rows, tasks, random
        self.crop = int(crop_s * SAMPLE_RATE)
        self.rng = EpochRandom(seed)

    def __len__(self) -> int:
        return len(self.rows)

    def label_ids(self, row: dict[str, str]) -> dict[str, int]:
        """Task -> class index, IGNORE_INDEX (-100) where the row has no label for the task."""
        return {task: labels.index(row[task]) if row.get(task) in labels else IGNORE_INDEX
                for task, labels in self.tasks.items()}

    def __getitem__(self, index: int) -> dict:
        row = self.rows[index]
        wave, _ = read_audio(Path(row["audio"]), CORPUS_LIMITS)
        if len(wave) > self.crop:
            start = int(self.rng().integers(0, len(wave) - self.crop + 1)) if self.random else 0
            wave = wave[start : start + self.crop]
        return {"wave": wave, "labels": self.label_ids(row)}


def collate(examples: list[dict], feature_extractor) -> dict:
    """Pad a list of examples into a batch.

    Returns input_values (batch, n_samples) normalised per clip, attention_mask (batch, n_samples),
    labels {task: (batch,) int64}.
    """
    inputs = feature_extractor([e["wave"] for e in examples], sampling_rate=SAMPLE_RATE, padding=True,
                               return_attention_mask=True, return_tensors="pt")
    labels = {task: torch.tensor([e["labels"][task] for e in examples], dtype=torch.long)
              for task in examples[0]["labels"]}
    return {"input_values": inputs["input_values"], "attention_mask": inputs["attention_mask"], "labels": labels}

"""ClipDataset: labels per task, evaluation crops that repeat, training crops that change every epoch."""

import numpy as np
import soundfile as sf
import torch

from speaksphere.audio import read_audio
from speaksphere.data.clips import CORPUS_LIMITS, ClipDataset
from speaksphere.data.labels import IGNORE_INDEX


def rows(tmp_path, n: int = 4) -> list[dict]:
    """n 3-s clips whose samples count up, so a crop's first sample tells where it starts."""
    out = []
    for i in range(n):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, (np.arange(48000) / 48000 * 0.5).astype(np.float32), 16000, subtype="FLOAT")
        out.append({"audio": str(path), "language": "en" if i % 2 else "", "split": "train"})
    return out


def starts(dataset, workers: int) -> list[float]:
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=workers)
    return [float(item["wave"][0]) for item in loader]


def test_evaluation_crops_are_the_first_seconds_and_labels_are_indices(tmp_path):
    dataset = ClipDataset(rows(tmp_path), {"language": ["en", "fr"]}, crop_s=1.0, random=False)
    first = dataset[1]
    whole, _ = read_audio(tmp_path / "clip1.wav", CORPUS_LIMITS)
    assert np.array_equal(first["wave"], whole[:16000])
    assert first["labels"] == {"language": 0} and dataset[0]["labels"] == {"language": IGNORE_INDEX}


def test_training_crops_change_every_epoch_also_in_a_worker(tmp_path):
    dataset = ClipDataset(rows(tmp_path), {"language": ["en"]}, crop_s=1.0, random=True, seed=3)
    torch.manual_seed(0)
    first_epoch, second_epoch = starts(dataset, workers=1), starts(dataset, workers=1)
    assert first_epoch != second_epoch  # a worker's copy of the dataset must not replay the same crops
    torch.manual_seed(0)
    assert starts(dataset, workers=1) == first_epoch  # and the draws are reproducible from the seeds

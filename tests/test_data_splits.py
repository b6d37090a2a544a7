"""Whole voices go to one split, each class reaches every split, and imbalance is weighted away."""

from collections import Counter

import numpy as np

from speaksphere.data.labels import VOCABULARIES
from speaksphere.data.splits import assign_voice_splits, class_weights, sample_weights, voice_overlap

FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


def test_every_class_with_enough_voices_reaches_every_split():
    voices = {f"v{i}": {("accent", "en-US")} for i in range(30)}
    voices.update({f"rare{i}": {("accent", "L1-pl")} for i in range(3)})
    assignment = assign_voice_splits(voices, FRACTIONS, seed=1)
    assert set(assignment) == set(voices)
    rare = Counter(assignment[f"rare{i}"] for i in range(3))
    assert set(rare) == {"train", "val", "test"}
    common = Counter(assignment[f"v{i}"] for i in range(30))
    assert 14 <= common["train"] <= 22 and common["val"] >= 4 and common["test"] >= 4


def test_forced_voices_stay_where_they_are_put():
    voices = {f"v{i}": {("language", "en")} for i in range(10)} | {"real": {("language", "en")}}
    assert assign_voice_splits(voices, FRACTIONS, forced={"real": "test"})["real"] == "test"


def test_voice_overlap_is_found():
    rows = [{"voice": "a", "split": "train"}, {"voice": "a", "split": "test"}, {"voice": "b", "split": "val"}]
    assert voice_overlap(rows) == {"a": {"train", "test"}}


def _rows(counts: dict[str, int]) -> list[dict[str, str]]:
    empty = {"language": "", "accent": "", "command": "", "split": "train"}
    return [{**empty, "emotion": label} for label, n in counts.items() for _ in range(n)]


def test_class_weights_balance_counts():
    rows = _rows({"neutral": 90, "sad": 10})
    weights = class_weights(rows, "emotion")
    assert weights.shape == (len(VOCABULARIES["emotion"]),)
    counts = np.array([90, 0, 10, 0])
    assert np.allclose(weights * counts, (weights * counts)[0] * (counts > 0))  # equal total weight per class
    assert weights[1] == 0  # absent class


def test_sample_weights_draw_classes_equally():
    rows = _rows({"neutral": 90, "sad": 10}) + [{"language": "", "accent": "", "command": "", "emotion": "",
                                                   "split": "train"}]
    weights = sample_weights(rows, ["emotion"])
    assert np.isclose(weights.sum(), 1.0) and weights[-1] == 0
    assert np.isclose(weights[:90].sum(), weights[90:100].sum())

"""Voice-disjoint, per-task stratified splits, and weights against class imbalance.

A voice (speaker) is never in two splits. Voices are assigned greedily, rarest classes first: each
voice goes to the split whose share of the voice's classes lags its target fraction most, so every
class with enough voices appears in every split. Class weights (inverse frequency) or per-clip
sampling weights then correct the imbalance that remains (SpeechPrint's lesson: a dominant class
otherwise swallows the rare ones).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .labels import TASKS, VOCABULARIES

__all__ = ["assign_voice_splits", "class_weights", "sample_weights", "voice_overlap"]


def assign_voice_splits(
    voice_classes: Mapping[str, Iterable[tuple[str, str]]],
    fractions: Mapping[str, float],
    seed: int = 0,
    forced: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Assign every voice to one split.

    voice_classes: voice id -> the (task, label) pairs it will carry (e.g. ("accent", "en-GB")).
    fractions: split name -> target share of voices, e.g. {"train": 0.8, "val": 0.1, "test": 0.1}.
    forced: voice id -> split for voices whose split is fixed (e.g. real voices held out for testing).
    Returns voice id -> split name.
    """
    total = sum(fractions.values())
    targets = {name: share / total for name, share in fractions.items()}
    classes = {voice: set(pairs) for voice, pairs in voice_classes.items()}
    voices_per_class = Counter(pair for pairs in classes.values() for pair in pairs)
    counts: dict[str, Counter] = {name: Counter() for name in targets}
    sizes: Counter = Counter()
    assignment: dict[str, str] = {}
    for voice, split in (forced or {}).items():
        if voice in classes:
            assignment[voice] = split
            counts[split].update(classes[voice])
            sizes[split] += 1
    rng = np.random.default_rng(seed)
    free = [v for v in classes if v not in assignment]
    order = rng.permutation(len(free))
    # rarest class first, so the few voices of a rare class are spread before common classes fill splits
    free = sorted((free[i] for i in order),
                  key=lambda v: min((voices_per_class[p] for p in classes[v]), default=10**9))
    for voice in free:
        def lag(split: str, voice: str = voice) -> float:  # the voice of this iteration, bound now
            pairs = classes[voice] or {("", "")}
            per_class = [targets[split] - counts[split][p] / max(1, voices_per_class[p])
                         + (counts[split][p] == 0)  # a class missing from a split comes first
                         for p in pairs]
            overall = targets[split] - sizes[split] / max(1, len(classes))
            return float(np.mean(per_class)) + 0.5 * overall
        # ties: train, then test before val (a class with two voices is better tested than validated)
        best = max(targets, key=lambda s: (round(lag(s), 9), s == "train", s == "test"))
        assignment[voice] = best
        counts[best].update(classes[voice])
        sizes[best] += 1
    return assignment


def voice_overlap(rows: Iterable[Mapping[str, str]]) -> dict[str, set[str]]:
    """Voices found in more than one split: {voice: {splits}} (empty when the splits are voice-disjoint)."""
    splits: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        splits[row["voice"]].add(row["split"])
    return {voice: found for voice, found in splits.items() if len(found) > 1}


def class_weights(rows: Iterable[Mapping[str, str]], task: str, split: str = "train",
                  power: float = 1.0) -> np.ndarray:
    """Loss weights per class of `task`, shape (n_classes,): (mean count / count) ** power, 0 for absent classes.

    power=1 balances fully; 0.5 is a softer compromise.
    """
    vocabulary = VOCABULARIES[task]
    counts = Counter(row[task] for row in rows if row["split"] == split and row[task])
    raw = np.array([counts.get(label, 0) for label in vocabulary], dtype=np.float64)
    weights = np.zeros_like(raw)
    present = raw > 0
    if present.any():
        weights[present] = (raw[present].mean() / raw[present]) ** power
    return weights.astype(np.float32)


def sample_weights(rows: Sequence[Mapping[str, str]], tasks: Sequence[str] = TASKS) -> np.ndarray:
    """Per-clip sampling weights (for torch's WeightedRandomSampler), shape (n_rows,).

    A clip's weight is the mean over its labelled tasks of 1 / (count of its class in `rows`), scaled so
    that each task's labelled clips add up to the same total; every class of every task is then drawn
    about equally often. Clips with no label in `tasks` get 0.
    """
    counts = {task: Counter(row[task] for row in rows if row[task]) for task in tasks}
    n_classes = {task: max(1, len(counts[task])) for task in tasks}
    weights = np.zeros(len(rows), dtype=np.float64)
    for i, row in enumerate(rows):
        parts = [1.0 / (counts[t][row[t]] * n_classes[t]) for t in tasks if row[t]]
        weights[i] = float(np.mean(parts)) if parts else 0.0
    total = weights.sum()
    return (weights / total if total > 0 else weights).astype(np.float64)

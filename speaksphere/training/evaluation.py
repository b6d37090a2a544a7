"""How well a model does on labelled windows: accuracy and macro-F1 per task with the project's own
`evaluate` metrics (speaksphere/training/metrics, loaded by path: the hub's metric scripts are unreachable
offline), split by real and synthetic voices, and written as a test report (metrics.json and a
confusion-matrix PNG per task)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..data.labels import IGNORE_INDEX
from ..data.manifest import is_real

__all__ = ["load_metrics", "score", "score_subsets", "labelled", "write_report", "plot_confusion"]

METRICS_DIR = Path(__file__).resolve().parent / "metrics"


@lru_cache(maxsize=1)
def load_metrics() -> tuple:
    """The accuracy and macro-F1 `evaluate` metrics, loaded once per process (kept in memory: no cache files)."""
    import evaluate

    return tuple(evaluate.load(str(METRICS_DIR / name), keep_in_memory=True) for name in ("accuracy.py", "macro_f1.py"))


def labelled(found: dict) -> dict:
    """found (task -> (predicted ids, reference ids)) less the rows whose reference is IGNORE_INDEX."""
    return {t: (p[r != IGNORE_INDEX], r[r != IGNORE_INDEX]) for t, (p, r) in found.items()}


def score(found: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Task -> {"n", "accuracy", "macro_f1"} from (predicted ids, reference ids), both (n,), over the
    labelled rows; tasks without any are left out."""
    results = {}
    for task, (predictions, references) in labelled(found).items():
        if not len(references):
            continue
        results[task] = {"n": int(len(references))}
        for metric in load_metrics():
            results[task].update(metric.compute(predictions=predictions, references=references))
    return results


def score_subsets(found: dict, rows: list[dict]) -> dict[str, dict]:
    """Scores of real and synthetic rows apart (found holds one prediction per row and task):
    {"real": {task: ...}, "synthetic": {task: ...}}."""
    real = np.array([is_real(r) for r in rows])
    return {name: score({t: (p[keep], r[keep]) for t, (p, r) in found.items()})
            for name, keep in (("real", real), ("synthetic", ~real))}


def write_report(found: dict, results: dict, tasks: dict[str, list[str]], folder: Path) -> None:
    """metrics.json (`results`) and confusion_TASK.png per task into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(results, indent=2))
    for task, (predictions, references) in labelled(found).items():
        if len(references):
            title = f"{task}: {results[task]['accuracy']:.1%} accuracy, macro-F1 {results[task]['macro_f1']:.2f}"
            plot_confusion(references, predictions, tasks[task], title).savefig(folder / f"confusion_{task}.png")


def plot_confusion(references: np.ndarray, predictions: np.ndarray, labels: list[str], title: str) -> Figure:
    """Confusion matrix, rows = true class, columns = predicted class, cells = share of the true class.

    references, predictions: int class ids, shape (n_examples,); labels: the class names in id order.
    """
    n = len(labels)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (np.asarray(references), np.asarray(predictions)), 1)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = min(4 + 0.35 * n, 14)
    figure = Figure(figsize=(size, size * 0.85), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(n), labels, rotation=90 if n > 8 else 0)
    axes.set_yticks(range(n), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    if n <= 16:
        for (row, column), count in np.ndenumerate(counts):
            if count:
                axes.text(column, row, str(count), ha="center", va="center", fontsize=8,
                          color="white" if shares[row, column] > 0.5 else "black")
    figure.colorbar(image, ax=axes, label="share of the true class")
    return figure

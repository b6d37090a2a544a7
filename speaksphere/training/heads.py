"""Train the layer mix and heads of a frozen-encoder model on cached window encodings.

Exactly the full model's computation (pooling is per layer, the mix linear, Whisper's language logits
an input), at a fraction of the cost. Used by train.py for the shipped model and by the
leave-one-voice-out evaluation for every fold.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from transformers import get_cosine_schedule_with_warmup

from ..data.labels import IGNORE_INDEX
from ..model import SpeakSphereModel
from .encodings import Encodings
from .evaluation import score
from .loop import TrainingState, run_epochs, train_epoch

__all__ = ["WindowSet", "window_set", "fit_heads", "predict_logits", "answers", "score_windows", "fit_temperature",
           "expected_calibration_error", "MIN_TRAIN_SPEECH_S"]

MIN_TRAIN_SPEECH_S = 1.0  # a clip's later windows train only with this much speech (its first always does)


@dataclass
class WindowSet:
    """Encoded windows with their clips' labels: what the heads train or are tested on."""

    statistics: torch.Tensor  # (n, n_layers, dim) float32
    whisper_language: torch.Tensor | None  # (n, 99) or None
    labels: dict[str, torch.Tensor]  # task -> (n,) class ids, IGNORE_INDEX where unlabelled
    index: np.ndarray  # (n,) the windows' positions in the Encodings

    def __len__(self) -> int:
        return len(self.index)

    def subset(self, keep: np.ndarray) -> WindowSet:
        picked = torch.from_numpy(np.flatnonzero(keep))
        language = None if self.whisper_language is None else self.whisper_language[picked]
        return WindowSet(self.statistics[picked], language,
                         {t: v[picked] for t, v in self.labels.items()}, self.index[picked.numpy()])


def window_set(encodings: Encodings, rows: list[dict[str, str]], clips: np.ndarray, tasks: dict[str, list[str]],
               every_window: bool, whatever_speech: bool = False) -> WindowSet:
    """The windows of the clips `clips` (row indices): their first windows, and with `every_window`
    also their later windows with >= MIN_TRAIN_SPEECH_S of speech (with `whatever_speech`, all of them,
    as the served vote sees them). Labels come from the rows."""
    wanted = np.zeros(len(rows), dtype=bool)
    wanted[clips] = True
    first = np.zeros(len(encodings.clip), dtype=bool)
    first[encodings.first_windows()[wanted]] = True
    later = every_window & (whatever_speech | (encodings.speech_s >= MIN_TRAIN_SPEECH_S))
    keep = wanted[encodings.clip] & (first | later)
    index = np.flatnonzero(keep)
    labels = {task: torch.tensor([labels_.index(rows[c][task]) if rows[c].get(task) in labels_ else IGNORE_INDEX
                                  for c in encodings.clip[index]], dtype=torch.long)
              for task, labels_ in tasks.items()}
    picked = torch.from_numpy(index)
    language = None if encodings.whisper_language is None else encodings.whisper_language[picked]
    return WindowSet(encodings.statistics[picked].float(), language, labels, index)


@torch.no_grad()
def predict_logits(model: SpeakSphereModel, data: WindowSet, batch_size: int = 4096) -> dict[str, torch.Tensor]:
    """Task -> (n, n_labels) logits, uncalibrated."""
    model.eval()
    parts = []
    for start in range(0, len(data), batch_size):
        part = slice(start, start + batch_size)
        language = None if data.whisper_language is None else data.whisper_language[part]
        parts.append(model(layer_statistics=data.statistics[part], whisper_language=language).logits)
    return {task: torch.cat([p[task] for p in parts]) for task in parts[0]} if parts else {}


def fit_heads(model: SpeakSphereModel, train: WindowSet, val: WindowSet | None, epochs: int, batch_size: int,
              learning_rate: float, weight_decay: float, warmup_ratio: float, patience: int, seed: int,
              report=print) -> list[dict]:
    """Train the model's trainable parameters (layer mix, heads) on `train` with the one training loop
    (training/loop.py), keeping the epoch with the best mean macro-F1 on `val` (the last epoch without
    `val`). The model is left with the best weights; returns the history, one dict per epoch."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate,
                                  weight_decay=weight_decay)
    steps = math.ceil(len(train) / batch_size)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(warmup_ratio * steps * epochs), steps * epochs)

    def batches():
        for index in torch.randperm(len(train), generator=generator).split(batch_size):
            yield {"layer_statistics": train.statistics[index],
                   "whisper_language": None if train.whisper_language is None else train.whisper_language[index],
                   "labels": {t: v[index] for t, v in train.labels.items()}}

    best = {}

    def keep_best() -> None:
        best["state"] = copy.deepcopy({k: v for k, v in model.state_dict().items() if not k.startswith("backbone.")})

    validate = (lambda: score_windows(model, val)) if val is not None and len(val) else None
    state = TrainingState()
    run_epochs(state, epochs, patience, lambda epoch: train_epoch(model, batches(), optimizer, scheduler, state),
               validate, keep_best, report=report)
    if "state" in best:
        model.load_state_dict(best["state"], strict=False)
    model.eval()
    return state.history


def answers(model: SpeakSphereModel, data: WindowSet) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Task -> (the model's answer, the label) per window of `data`, class ids (n,) each; IGNORE_INDEX
    labels where a window has none."""
    return {task: (values.argmax(-1).numpy(), data.labels[task].numpy())
            for task, values in predict_logits(model, data).items()}


def score_windows(model: SpeakSphereModel, data: WindowSet) -> dict[str, dict[str, float]]:
    """Task -> {"n", "accuracy", "macro_f1"} of the model's answers on `data`'s labelled windows."""
    return score(answers(model, data))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None,
                    low: float = 0.05, high: float = 20.0) -> float:
    """The temperature T in [low, high] that minimises the negative log-likelihood of softmax(logits / T)
    (Guo et al. 2017), over labelled rows only, each weighing `weights` (n,) (default: the same).
    logits: (n, n_labels); labels: (n,).

    The NLL is convex in the inverse temperature 1/T (a log-sum-exp of linear functions minus a linear one),
    so a golden-section search over 1/T finds the minimum inside the bounds, deterministically. (A gradient
    search on log T diverged to NaN on a few confidently wrong rows, whose optimum is T -> infinity.)"""
    keep = labels != IGNORE_INDEX
    logits, labels = logits[keep].double(), labels[keep]
    weights = torch.ones(len(labels), dtype=torch.float64) if weights is None else weights[keep].double()
    if not len(labels) or weights.sum() <= 0:
        return 1.0
    weights = weights / weights.sum()

    def nll(inverse: float) -> float:
        return float((weights * torch.nn.functional.cross_entropy(logits * inverse, labels, reduction="none")).sum())

    a, b = 1.0 / high, 1.0 / low
    ratio = (5 ** 0.5 - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    f_c, f_d = nll(c), nll(d)
    while b - a > 1e-6 * (1.0 + abs(a)):
        if f_c <= f_d:
            b, d, f_d = d, c, f_c
            c = b - ratio * (b - a)
            f_c = nll(c)
        else:
            a, c, f_c = c, d, f_d
            d = a + ratio * (b - a)
            f_d = nll(d)
    return float(min(max(2.0 / (a + b), low), high))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of the top answer: the gap between confidence and accuracy, averaged over `bins` equal-width
    confidence bins weighted by their share of rows. probabilities: (n, n_labels); labels: (n,)."""
    confidence = probabilities.max(-1)
    right = probabilities.argmax(-1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total)

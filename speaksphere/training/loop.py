"""The one training loop, shared by both ways train.py trains (end to end on audio, and heads on cached
window encodings) and by the leave-one-voice-out folds.

`run_epochs` trains epoch by epoch, validates after each, keeps the epoch with the best mean macro-F1,
stops after `patience` epochs without one, and records the history. `train_epoch` runs one epoch of
optimiser steps, through accelerate when one is given (gradient accumulation, several processes).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

__all__ = ["TrainingState", "run_epochs", "train_epoch", "mean_macro_f1"]


@dataclass
class TrainingState:
    """Where training stands: saved beside a checkpoint so that a run can resume (training/checkpoint.py)."""

    epoch: int = 0  # epochs done
    step: int = 0  # optimiser steps done
    best: float = -1.0  # best validation mean macro-F1 so far
    stale: int = 0  # epochs since the best
    history: list[dict] = field(default_factory=list)  # one {"epoch", "step", "val"} per epoch

    def to_dict(self) -> dict:
        return asdict(self)


def mean_macro_f1(scores: dict[str, dict[str, float]]) -> float:
    """The mean over tasks of macro-F1 (tasks with no labelled rows left out); 0 when none has any."""
    values = [s["macro_f1"] for s in scores.values() if s["n"] and not math.isnan(s["macro_f1"])]
    return float(np.mean(values)) if values else 0.0


def train_epoch(model: torch.nn.Module, batches: Iterable[dict], optimizer, scheduler, state: TrainingState,
                accelerator=None, max_steps: int | None = None,
                on_step: Callable[[float], None] | None = None) -> bool:
    """One pass over `batches` (keyword arguments of the model's forward, labels included), one optimiser
    step per batch (per `gradient_accumulation_steps` batches with accelerate), on the model's own loss.
    Counts steps in `state`; True when `max_steps` is reached."""
    model.train()
    for batch in batches:
        with accelerator.accumulate(model) if accelerator is not None else contextlib.nullcontext():
            loss = model(**batch).loss
            accelerator.backward(loss) if accelerator is not None else loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        if accelerator is None or accelerator.sync_gradients:
            state.step += 1
            if on_step is not None:
                on_step(loss.item())
        if max_steps and state.step >= max_steps:
            return True
    return False


def run_epochs(state: TrainingState, epochs: int, patience: int, train: Callable[[int], bool],
               validate: Callable[[], dict[str, dict[str, float]]] | None, keep_best: Callable[[], None],
               save: Callable[[TrainingState], None] = lambda state: None,
               report: Callable[[str], None] = print) -> TrainingState:
    """Epochs `state.epoch` .. `epochs` - 1: `train(epoch)` (True when the step budget is spent), then
    `validate()` -> task -> {"n", "accuracy", "macro_f1"}; `keep_best()` after an epoch better than all
    before on mean macro-F1, `save(state)` after every epoch. Without validation scores the last epoch is kept.
    Stops after `patience` epochs without a better one."""
    for epoch in range(state.epoch, epochs):
        spent = train(epoch)
        scores = validate() if validate is not None else {}
        value = mean_macro_f1(scores) if scores else float(epoch)  # nothing to validate on: the latest is best
        improved = value > state.best
        state.history.append({"epoch": epoch + 1, "step": state.step, "val": scores})
        state.epoch, state.best, state.stale = epoch + 1, max(value, state.best), 0 if improved else state.stale + 1
        report(f"epoch {epoch + 1}: " + (f"val mean macro-F1 {value:.3f}" if scores else "no validation scores")
               + "".join(f" | {task} acc {s['accuracy']:.3f} F1 {s['macro_f1']:.3f}" for task, s in scores.items()))
        if improved:
            keep_best()
        save(state)
        if state.stale >= patience or spent:
            break
    return state

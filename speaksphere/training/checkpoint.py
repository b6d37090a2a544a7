"""Resumable training state of train.py: accelerate's own state (model, optimiser, scheduler, RNGs) in
FOLDER, plus FOLDER/training_state.json with the loop's TrainingState (epochs and steps done, best
validation score, history)."""

from __future__ import annotations

import json
from pathlib import Path

from .loop import TrainingState

__all__ = ["load_checkpoint", "save_checkpoint"]

STATE_FILE = "training_state.json"
OLD_STATE_FILE = "progress.json"  # the same fields, as checkpoints written before TrainingState named them


def load_checkpoint(accelerator, folder: Path, resume: bool) -> TrainingState | None:
    """The saved TrainingState after restoring accelerate's state from `folder`, when `resume` and a
    checkpoint exists there; else None."""
    state_file = Path(folder) / STATE_FILE
    if not state_file.exists():
        state_file = Path(folder) / OLD_STATE_FILE
    if not (resume and state_file.exists()):
        return None
    accelerator.load_state(str(folder))
    return TrainingState(**json.loads(state_file.read_text()))


def save_checkpoint(accelerator, folder: Path, state: TrainingState) -> None:
    """Save accelerate's state (every process) and the TrainingState (main process) into `folder`."""
    accelerator.save_state(str(folder))
    if accelerator.is_main_process:
        (Path(folder) / STATE_FILE).write_text(json.dumps(state.to_dict(), indent=2))

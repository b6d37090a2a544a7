"""Resumable training state of train.py: accelerate's own state (model,
optimiser, scheduler, RNGs) in FOLDER, plus FOLDER/progress.json with the loop's counters and history."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["load_progress", "save_progress"]


def load_progress(accelerator, folder: Path, fresh: dict, resume: bool) -> tuple[dict, bool]:
    """(progress, resumed): the saved progress after restoring the state in `folder` when `resume` and
    a checkpoint exists, else a copy of `fresh`."""
    state_file = Path(folder) / "progress.json"
    if resume and state_file.exists():
        accelerator.load_state(str(folder))
        return json.loads(state_file.read_text()), True
    return dict(fresh), False


def save_progress(accelerator, folder: Path, progress: dict) -> None:
    """Save accelerate's state (every process) and progress.json (main process) into `folder`."""
    accelerator.save_state(str(folder))
    if accelerator.is_main_process:
        (Path(folder) / "progress.json").write_text(json.dumps(progress, indent=2))

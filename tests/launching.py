"""Run a training script the way users do: `accelerate launch` with 2 CPU processes (distributed data parallel)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def accelerate_launch(script: str, *arguments: str, processes: int = 2) -> str:
    """Launch ROOT/script with `arguments`; assert it succeeded; return its stdout and stderr."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               str(ROOT / script), *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout + result.stderr

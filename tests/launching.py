"""Run a training script the way users do: `accelerate launch` with 2 CPU processes (distributed data parallel)."""

import contextlib
import socket
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


@contextlib.contextmanager
def serve_app(settings, database: Path):
    """The SpeakSphere app on a free loopback port with its own learner database; yields the Blocks
    (its local_url is the address), closed afterwards."""
    from dataclasses import replace

    import app
    from speaksphere.learner.store import StoreConfig

    demo = app.build_app(replace(settings, store=StoreConfig(path=str(database))))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.launch(demo, settings, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield demo
    finally:
        demo.close()

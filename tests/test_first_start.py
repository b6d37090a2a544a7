"""The first start says what it does at once: a log line before gradio and torch load, naming the
one-time conversion of Whisper base's weights when it is due (issue 39)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_package_loads_neither_gradio_nor_torch_before_main():
    script = ("import sys, app, speaksphere.app; "
              "print(sorted(m for m in ('gradio', 'torch', 'transformers') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_the_first_line_of_a_first_start_says_what_is_converted(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPEAKSPHERE_CACHE": str(tmp_path / "empty-cache"),
           "SPEAKSPHERE_MODEL": str(tmp_path / "no-model")}  # stops right after the imports: no model there
    run = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("INFO:speaksphere.app:SpeakSphere is starting"), lines[:3]
    assert "First start: Whisper base's weights" in lines[0] and str(tmp_path / "empty-cache") in lines[0]
    assert run.returncode != 0 and "no trained model" in run.stderr  # and then it went on to load the app


def test_a_later_start_does_not_promise_a_conversion(tmp_path, monkeypatch):
    from speaksphere.app import starting_message
    from speaksphere.cache import whisper_base_cache_file

    monkeypatch.setenv("SPEAKSPHERE_CACHE", str(tmp_path))
    assert "First start" in starting_message()
    whisper_base_cache_file().write_bytes(b"converted")
    assert "First start" not in starting_message()

"""The README keeps its promises to a new user: the quickstart on its first screen, with the commands
.ci/run runs, and a library snippet that runs as written (issue 39)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST_SCREEN_LINES = 60  # what a visitor sees without scrolling far (the front matter's 13 lines included)


def _code_after(heading: str, language: str) -> str:
    part = README[README.index(heading):]
    return re.search(rf"```{language}\n(.*?)```", part, re.DOTALL).group(1)


def test_the_quickstart_is_on_the_first_screen_with_both_commands():
    first_screen = "\n".join(README.splitlines()[:FIRST_SCREEN_LINES])
    assert "## Quickstart" in first_screen
    assert "python3.11 -m venv .venv" in first_screen  # a virtual environment
    assert "--index-url https://download.pytorch.org/whl/cpu" in first_screen  # torch's CPU wheel
    assert "pip install -r requirements.txt && python app.py" in first_screen
    program = ("/<!-- test command/ {found=1; next} found && /^```/ {if (inblock) exit; inblock=1; next} "
               "inblock {print; exit}")  # .ci/run's own
    ci_line = subprocess.run(["awk", program, "README.md"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    assert ci_line and ci_line in first_screen  # the very line .ci/run runs
    assert README.index("pip install .") < README.index("## Using the library")


def test_the_torch_pin_of_the_quickstart_is_the_requirements_pin():
    pinned = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert f"pip install torch=={pinned} --index-url" in README


def test_the_library_snippet_runs_as_written(tmp_path):
    snippet = _code_after("## Using the library", "python")
    wave, rate = synthesize("Good morning. How are you today?", voice="en-us")
    sf.write(tmp_path / "my_recording.mp3", wave, rate, format="MP3")
    sf.write(tmp_path / "my_answer.wav", wave, rate)  # the free-speech example's answer
    # from another folder, as an installed package is used (tests/test_package.py installs it for real)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "speech_s" in run.stdout and "morning" in run.stdout.lower()  # the free-speech answer heard

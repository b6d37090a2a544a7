"""The code passes ruff with the project's configuration (pyproject.toml's [tool.ruff]: pycodestyle,
pyflakes, import order, pyupgrade, bugbear; lines up to 120 characters), so CI keeps it that way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    # ruff==0.17.6 is pinned in requirements-dev.txt: another version may know other rules
    found = subprocess.run([sys.executable, "-m", "ruff", "check", ".", "--output-format", "concise", "--no-cache"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, f"ruff check . found problems:\n{found.stdout}{found.stderr}"

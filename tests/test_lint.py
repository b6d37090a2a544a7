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


MAX_FUNCTION_LINES = 60  # a function a reader holds in one screen: split what grows past it


def test_no_function_in_the_package_is_longer_than_a_screen():
    import ast

    long = []
    for path in sorted((ROOT / "speaksphere").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 60 lines: split them\n" + "\n".join(long)

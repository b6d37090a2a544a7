"""The package installs: `pip install .` and `pip install -e .` into fresh virtual environments, then the
installed package is used from a folder outside the repository (its settings, phrase library, embedded
model and app all come from package data, not from the checkout), without the training libraries.

The environments see this interpreter's site-packages (--system-site-packages) so that the pinned
dependencies are not downloaded again; the package itself is installed without them (--no-deps) and must
not be importable from the checkout: the script runs in an empty folder with no PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USE_INSTALLED = r"""
import sys
# the training libraries (requirements-train.txt) made unimportable: the runtime must not need them
for training_only in ("accelerate", "datasets", "evaluate", "sklearn"):
    sys.modules[training_only] = None
from pathlib import Path
import speaksphere
from speaksphere.settings import DEFAULT_SETTINGS_PATH, load_settings
from speaksphere.learner.recommend import load_recommend_config
from speaksphere.pronounce.references import LIBRARY_DIR, library, library_reference
from speaksphere.model import DEFAULT_MODEL_DIR, load_model
from speaksphere.app import build_app, main

where = Path(speaksphere.__file__).resolve().parent
print("package", where)
assert DEFAULT_SETTINGS_PATH.is_file() and load_settings().audio.max_seconds > 0
assert load_recommend_config().bandit is not None and load_settings().store.path is None
phrases = library()
assert len(phrases) >= 40 and all((LIBRARY_DIR / p.file).is_file() for p in phrases), "phrase recordings missing"
assert (DEFAULT_MODEL_DIR / "config.json").is_file(), DEFAULT_MODEL_DIR
predictor = load_model()
answer = predictor.analyze_recording(library_reference(library("fr")[0].id).recording)
language = max(answer["language"], key=answer["language"].get)  # {code: probability}
print("language", language)
import dataclasses
from speaksphere.learner.store import StoreConfig
demo = build_app(dataclasses.replace(load_settings(), store=StoreConfig(path="learners.sqlite3")))
print("app", type(demo).__name__)
"""


def _environment(folder: Path) -> Path:
    """A fresh virtual environment in `folder` that sees this interpreter's packages; its python."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(folder)
    return folder / "bin" / "python"


def _run(command: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("editable", [False, True], ids=["pip install .", "pip install -e ."])
def test_the_installed_package_runs_from_any_folder(tmp_path, editable):
    python = _environment(tmp_path / "venv")
    target = ["-e", str(ROOT)] if editable else [str(ROOT)]
    # this interpreter's pip installs into the venv's site-packages through the venv's python
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
          "--no-build-isolation", *target], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _run([str(python), "-c", USE_INSTALLED], cwd=elsewhere)
    package = Path(out.split("package ", 1)[1].splitlines()[0])
    expected = ROOT / "speaksphere" if editable else tmp_path / "venv"
    assert package.is_relative_to(expected), (package, expected)
    assert "language fr" in out and "app Blocks" in out
    assert (tmp_path / "venv" / "bin" / "speaksphere").is_file()  # the app's command

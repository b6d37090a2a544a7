"""Getting the offline material: Debian packages (installed or only unpacked) and PyPI packages.

Data building may install system packages (it runs as root on a build machine); running the app never
does. Recorded prompts are unpacked into a cache folder with `apt-get download` + `dpkg -x`, so the
system is not touched for them; TTS engines are installed with apt-get because they are programs.
Debian's contrib and non-free components (mbrola voices, pico) are enabled when missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["InstallError", "missing_debian", "ensure_debian", "unpack_debian", "missing_pip", "ensure_pip",
           "enable_contrib_non_free"]

log = logging.getLogger(__name__)
DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")  # deb822 sources of Debian 12+
_updated = False


class InstallError(RuntimeError):
    """A package could not be installed or unpacked."""


def _run(command: Sequence[str], cwd: Path | None = None) -> str:
    log.info("running %s", " ".join(command))
    result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InstallError(f"{' '.join(command)} failed: {result.stderr.strip()[-800:]}")
    return result.stdout


def missing_debian(packages: Sequence[str]) -> list[str]:
    """The packages of `packages` that dpkg does not report as installed."""
    if shutil.which("dpkg-query") is None:  # not a Debian system: nothing is installed the Debian way
        return list(packages)
    missing = []
    for package in packages:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def enable_contrib_non_free(sources: Path = DEBIAN_SOURCES) -> bool:
    """Add contrib and non-free to every `Components:` line that lacks them; True when the file changed."""
    if not sources.is_file():
        return False
    text = sources.read_text()

    def widen(match: re.Match) -> str:
        parts = match.group(1).split()
        parts += [p for p in ("contrib", "non-free") if p not in parts]
        return "Components: " + " ".join(parts)

    new_text = re.sub(r"^Components:[ \t]*(.*)$", widen, text, flags=re.MULTILINE)
    if new_text != text:
        sources.write_text(new_text)
        return True
    return False


def _apt_update(force: bool = False) -> None:
    global _updated
    if force or not _updated:
        _run(["apt-get", "update", "-q"])
        _updated = True


def ensure_debian(packages: Sequence[str]) -> list[str]:
    """Install the missing Debian packages (enabling contrib/non-free first); returns those installed."""
    missing = missing_debian(packages)
    if not missing:
        return []
    if shutil.which("apt-get") is None:
        raise InstallError(f"apt-get is not available to install {missing}")
    changed = enable_contrib_non_free()
    _apt_update(force=changed)
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing])
    return missing


def unpack_debian(packages: Sequence[str], cache: Path) -> Path:
    """Download and unpack Debian packages into `cache`/root without installing them; returns that root.

    Already unpacked packages (a marker file per package) are skipped, so rebuilding is cheap.
    """
    cache = Path(cache)
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    for package in packages:
        marker = root / f".unpacked-{package}"
        if marker.exists():
            continue
        found = sorted(debs.glob(f"{package}_*.deb"))
        if not found:
            try:
                _run(["apt-get", "download", "-q", package], cwd=debs)
            except InstallError:
                changed = enable_contrib_non_free()
                _apt_update(force=changed)
                _run(["apt-get", "download", "-q", package], cwd=debs)
            found = sorted(debs.glob(f"{package}_*.deb"))
        if not found:
            raise InstallError(f"apt-get download {package} gave no .deb file")
        _run(["dpkg", "-x", str(found[-1]), str(root)])
        marker.touch()
    return root


def missing_pip(requirements: Sequence[str]) -> list[str]:
    """The requirements ("piper-tts==1.8.0", or a bare name) not installed at that version in this interpreter."""
    missing = []
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        try:
            installed = importlib.metadata.version(name.strip())
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or (version and installed != version.strip()):
            missing.append(requirement)
    return missing


def ensure_pip(requirements: Sequence[str]) -> list[str]:
    """pip install the missing pinned requirements (e.g. "piper-tts==1.8.0") into the running interpreter;
    returns those installed. Import caches are refreshed so that the new modules import at once."""
    missing = missing_pip(requirements)
    if missing:
        _run([sys.executable, "-m", "pip", "install", "-q", *missing])
        importlib.invalidate_caches()
    return missing

"""Files the app hands out for download: learner exports and synthesised references.

They live in one private folder per app process (0700, under the system's temp folder, where gradio
may serve them from), which the process holds a lock on while it runs. Exports expire after
EXPORT_TTL_S (`expire_exports`, which the app runs every minute) and go at once when their learner is
deleted; synthesised references are a cache of at most MAX_REFERENCES files, oldest first out. The
folders of processes that have ended are removed when a new one starts.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["ServedFiles", "export_stem", "EXPORT_NAME", "EXPORT_TTL_S", "MAX_REFERENCES"]

EXPORT_TTL_S = 600.0  # an export's download link works for ten minutes
MAX_REFERENCES = 256  # synthesised reference recordings kept (~0.1-1 MB each)
PREFIX = "speaksphere-served-"
EXPORT_NAME = re.compile(r"speaksphere-my-data-[0-9a-f]{12}-[0-9a-f]{8}\.(json|csv)")  # every export's file name
_LOCK = ".in-use"


def export_stem(learner_id: str) -> str:
    """The start of every export file name of this learner: "speaksphere-my-data-" and 12 hex digits of
    the id's SHA-256 (the id itself, the learner's only key, never appears in a name or a URL)."""
    return "speaksphere-my-data-" + hashlib.sha256(learner_id.encode()).hexdigest()[:12]


class ServedFiles:
    """The process's folder of downloadable files (see the module docstring). Thread-safe."""

    def __init__(self, root: str | Path | None = None):
        parent = Path(root or tempfile.gettempdir())
        _remove_ended(parent)
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # 0700
        self._held = os.open(self.folder / _LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(self._held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the process ends
        self.exports = self.folder / "exports"
        self.references = self.folder / "references"
        self._lock = threading.Lock()

    def _subfolder(self, folder: Path) -> Path:
        for path in (self.folder, folder):
            path.mkdir(mode=0o700, exist_ok=True)
        return folder

    def new_export(self, learner_id: str, content: str, suffix: str) -> Path:
        """Write one export of the learner (0600); expired exports of anyone are removed first."""
        self.expire_exports()
        with self._lock:
            path = self._subfolder(self.exports) / f"{export_stem(learner_id)}-{secrets.token_hex(4)}.{suffix}"
            with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w", encoding="utf-8") as file:
                file.write(content)
        return path

    def forget_learner(self, learner_id: str) -> int:
        """Delete every export of the learner; returns how many there were."""
        with self._lock:
            found = list(self.exports.glob(export_stem(learner_id) + "-*"))
            for path in found:
                path.unlink(missing_ok=True)
        return len(found)

    def expire_exports(self, now: float | None = None) -> int:
        """Delete exports older than EXPORT_TTL_S; returns how many."""
        now = time.time() if now is None else now
        removed = 0
        with self._lock:
            for path in self.exports.glob("*"):
                try:
                    if now - path.stat().st_mtime > EXPORT_TTL_S:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def reference(self, key: str, write: Callable[[Path], None]) -> Path:
        """The synthesised reference `key`: written once with `write(path)` (to a temporary name, then
        renamed, so nobody is handed half a file), touched on every use; the least recently used go
        beyond MAX_REFERENCES."""
        with self._lock:
            folder = self._subfolder(self.references)
            path = folder / f"reference-{key}.wav"
            if path.exists():
                os.utime(path)
                return path
            partial = folder / f".{path.name}.{secrets.token_hex(4)}.wav"
            try:
                write(partial)
                os.replace(partial, path)
            finally:
                partial.unlink(missing_ok=True)
            kept = []
            for other in folder.glob("reference-*.wav"):
                try:
                    kept.append((other.stat().st_mtime, other))
                except FileNotFoundError:
                    continue
            for _, other in sorted(kept)[: max(0, len(kept) - MAX_REFERENCES)]:
                if other != path:
                    other.unlink(missing_ok=True)
            return path


def _remove_ended(parent: Path) -> None:
    """Remove the folders of our ended processes: this user's, whose lock nobody holds any more (a folder
    younger than a minute may be a starting process's that has not locked it yet; one without a lock
    file is removed once untouched for a day)."""
    now = time.time()
    for folder in parent.glob(PREFIX + "*"):
        try:
            if folder.stat().st_uid != os.getuid() or now - folder.stat().st_mtime < 60:
                continue
            if not (folder / _LOCK).exists():
                if now - folder.stat().st_mtime > 24 * 3600:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            held = os.open(folder / _LOCK, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a running process holds it
        finally:
            os.close(held)
        shutil.rmtree(folder, ignore_errors=True)

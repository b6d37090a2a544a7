"""Files the app hands out for download: learner exports and synthesised references.

They live in one private folder per app process (0700, under the system's temp folder, where gradio
may serve them from). Exports expire after EXPORT_TTL_S and go at once when their learner is deleted;
synthesised references are a cache of at most MAX_REFERENCES files, oldest first out. Folders left by
earlier processes are removed when a new one starts and they have been untouched for STALE_AFTER_S.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["ServedFiles", "export_stem", "EXPORT_TTL_S", "MAX_REFERENCES"]

EXPORT_TTL_S = 600.0  # an export's download link works for ten minutes
MAX_REFERENCES = 256  # synthesised reference recordings kept (~0.1-1 MB each)
STALE_AFTER_S = 24 * 3600.0
PREFIX = "speaksphere-served-"


def export_stem(learner_id: str) -> str:
    """The start of every export file name of this learner: "speaksphere-my-data-" and 12 hex digits of
    the id's SHA-256 (the id itself, the learner's only key, never appears in a name or a URL)."""
    return "speaksphere-my-data-" + hashlib.sha256(learner_id.encode()).hexdigest()[:12]


class ServedFiles:
    """The process's folder of downloadable files (see the module docstring)."""

    def __init__(self, root: str | Path | None = None):
        parent = Path(root or tempfile.gettempdir())
        _remove_stale(parent)
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # 0700
        self.exports = self.folder / "exports"
        self.references = self.folder / "references"

    def new_export(self, learner_id: str, content: str, suffix: str) -> Path:
        """Write one export of the learner (0600); expired exports of anyone are removed first."""
        self.expire_exports()
        self.exports.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.exports / f"{export_stem(learner_id)}-{secrets.token_hex(4)}.{suffix}"
        with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w", encoding="utf-8") as file:
            file.write(content)
        return path

    def forget_learner(self, learner_id: str) -> int:
        """Delete every export of the learner; returns how many there were."""
        found = list(self.exports.glob(export_stem(learner_id) + "-*"))
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)

    def expire_exports(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for path in self.exports.glob("*"):
            if now - path.stat().st_mtime > EXPORT_TTL_S:
                path.unlink(missing_ok=True)

    def reference_path(self, key: str) -> Path:
        """Where the synthesised reference `key` is (or goes); the cache is trimmed to MAX_REFERENCES."""
        self.references.mkdir(mode=0o700, parents=True, exist_ok=True)
        kept = sorted(self.references.glob("*.wav"), key=lambda p: p.stat().st_mtime)
        for path in kept[: max(0, len(kept) - MAX_REFERENCES + 1)]:
            path.unlink(missing_ok=True)
        return self.references / f"reference-{key}.wav"


def _remove_stale(parent: Path) -> None:
    """Remove our earlier processes' folders, untouched for STALE_AFTER_S (only those this user owns)."""
    for folder in parent.glob(PREFIX + "*"):
        try:
            stat = folder.stat()
            if stat.st_uid == os.getuid() and time.time() - stat.st_mtime > STALE_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue

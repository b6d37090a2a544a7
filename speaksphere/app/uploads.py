"""How much one client may upload, and how much the upload folder may hold (no speech here).

The guard refuses an upload request larger than one recording; these budgets bound the rest: per client
address, at most `count` uploads and `megabytes` in any `window_s` (gradio stored 16 parts of 60 MiB
in 13 s from one client, kept an hour), and the upload folder (gradio's cache: uploads and the files it
serves) at most `folder_mb` in all. Uploads leave the folder `UPLOAD_AGE_S` after they came
(Blocks(delete_cache=UPLOAD_CLEANUP) in ui.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from speaksphere.coach.limits import Budget

__all__ = ["UPLOAD_AGE_S", "UPLOAD_CLEANUP", "UploadBudget", "folder_bytes"]

UPLOAD_AGE_S = 600  # seconds an upload is kept: time to score it, and to score it again
UPLOAD_CLEANUP = (300, UPLOAD_AGE_S)  # gradio's delete_cache: every 5 min, files older than 10 min
_PER_CLIENT = ("You have uploaded {} in the last {} minutes, the most one person may; please wait a few minutes "
               "(recordings you uploaded are deleted after {} minutes).")
_FOLDER_FULL = "The server is holding as many recordings as it can; please try again in a few minutes."


def folder_bytes(folder: str | Path) -> int:
    """Bytes of the regular files under `folder` (0 when it does not exist); links are not followed."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # deleted meanwhile
                continue
    return total


class UploadBudget:
    """Whether an upload of `nbytes` from a client may be stored (thread-safe)."""

    def __init__(self, folder: str | Path, count: int = 120, megabytes: float = 1024.0, folder_mb: float = 4096.0,
                 window_s: float = 600.0):
        self.folder = Path(folder)
        self.window_s = window_s
        self.folder_bytes = int(folder_mb * (1 << 20))
        self.count = Budget(count, window_s)
        self.bytes = Budget(megabytes * (1 << 20), window_s)

    def refusal(self, client: str, nbytes: int) -> tuple[int, str] | None:
        """None when the upload may go on (it is then counted against the client), else the HTTP status
        and why not, in the uploader's words."""
        minutes = round(self.window_s / 60)
        if folder_bytes(self.folder) + nbytes > self.folder_bytes:
            return 503, _FOLDER_FULL
        if not self.count.admit(client):  # (an upload then refused for its bytes still counts as one)
            return 429, _PER_CLIENT.format(f"{self.count.limit:g} recordings", minutes, UPLOAD_AGE_S // 60)
        if not self.bytes.admit(client, nbytes):
            return 429, _PER_CLIENT.format(f"{self.bytes.limit / (1 << 20):g} MB", minutes, UPLOAD_AGE_S // 60)
        return None

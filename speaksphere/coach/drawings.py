"""What the figure steps draw from, kept on the server and bounded in bytes (thread-safe).

"/analyze" and "/pronounce" answer first and draw their figures in a second call; in between, the
recording (or the scoring's arrays) waits. It waited in each browser session's gr.State: a 5-minute
analysis kept ~60 MiB per session for 15 minutes (40 sessions in 6.4 min: +1,266 MiB). Here a session
holds only a token; the drawings themselves are kept until their figures are drawn, at most
`max_bytes` in all (the oldest leave first) and `ttl_s` each, and a figures call whose drawing has left
is asked to send its request again. One client (an address, as the app's other per-client limits key it)
keeps at most `max_client_bytes`: its own oldest drawings leave to make room for its new one, so that
one client sending analyses and never asking for their figures cannot push everyone else's out.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections import OrderedDict

import numpy as np

__all__ = ["Drawings", "nbytes"]


def nbytes(value, max_depth: int = 6) -> int:
    """The bytes of the numpy arrays in `value` (dicts, lists, tuples, dataclasses and objects' attributes,
    `max_depth` levels down), plus 1 kB for the rest of each object."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if max_depth == 0:
        return 1024
    if isinstance(value, dict):
        children = value.values()
    elif isinstance(value, (list, tuple)):
        children = value
    elif dataclasses.is_dataclass(value):
        children = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif hasattr(value, "__dict__"):
        children = vars(value).values()
    else:
        return 64
    return 1024 + sum(nbytes(child, max_depth - 1) for child in children)


class Drawings:
    """Drawings by token: `keep` one, `take` it back (once) while it is kept."""

    def __init__(self, max_bytes: int = 256 << 20, ttl_s: float = 900.0, max_client_bytes: int = 96 << 20):
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        # four of the largest drawings measured (a 60-s attempt against a 60-s teacher recording: 24 MiB; a
        # 300-s analysis: 18.5 MiB), as many requests as the fair queue lets one client have waiting
        self.max_client_bytes = max_client_bytes
        # token -> (time, bytes, client, drawing), oldest first
        self._kept: OrderedDict[str, tuple[float, int, str, dict]] = OrderedDict()
        self._bytes = 0
        self._client_bytes: dict[str, int] = {}
        self._lock = threading.Lock()

    def keep(self, drawing: dict, client: str = "", now: float | None = None) -> str:
        """Keep `drawing` for `client` (its address; "" when unknown); returns its token (24 random
        characters). The client's own oldest drawings leave to keep it within max_client_bytes, then
        anyone's oldest to keep all within max_bytes; one larger than either is not kept (its token
        finds nothing)."""
        now = time.monotonic() if now is None else now
        token, size = secrets.token_urlsafe(18), nbytes(drawing)
        with self._lock:
            self._expire(now)
            if size <= min(self.max_bytes, self.max_client_bytes):
                while self._client_bytes.get(client, 0) + size > self.max_client_bytes:
                    self._drop(next(t for t, kept in self._kept.items() if kept[2] == client))
                while self._kept and self._bytes + size > self.max_bytes:
                    self._drop(next(iter(self._kept)))
                self._kept[token] = (now, size, client, drawing)
                self._bytes += size
                self._client_bytes[client] = self._client_bytes.get(client, 0) + size
        return token

    def take(self, token: str, now: float | None = None) -> dict | None:
        """The drawing kept under `token`, which leaves the store (its figures are drawn once), or None
        when it has left (or never was)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now)
            if not isinstance(token, str) or token not in self._kept:
                return None
            drawing = self._kept[token][3]
            self._drop(token)
            return drawing

    @property
    def bytes(self) -> int:
        return self._bytes

    def client_bytes(self, client: str) -> int:
        """The bytes kept for `client`."""
        return self._client_bytes.get(client, 0)

    def _expire(self, now: float) -> None:
        while self._kept and now - next(iter(self._kept.values()))[0] >= self.ttl_s:
            self._drop(next(iter(self._kept)))

    def _drop(self, token: str) -> None:
        _, size, client, _ = self._kept.pop(token)
        self._bytes -= size
        self._client_bytes[client] -= size
        if not self._client_bytes[client]:
            del self._client_bytes[client]

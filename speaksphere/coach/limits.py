"""A sliding-window rate limit, per client address (thread-safe, memory bounded)."""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["RateLimit"]


class RateLimit:
    """At most `per_minute` events per key in any 60 s; keys are client addresses ("" = unknown, one
    shared key). At most `max_keys` keys are remembered (the idle ones are dropped first)."""

    def __init__(self, per_minute: int, max_keys: int = 10_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: float | None = None) -> bool:
        """Count one event for `key` and say whether it is within the limit (refused events don't count)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] >= 60.0:
                events.popleft()
            if len(events) >= self.per_minute:
                return False
            events.append(now)
            if len(self._events) > self.max_keys:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or now - v[-1] >= 60.0]:
            del self._events[key]

"""Sliding-window budgets per client address (thread-safe, memory bounded)."""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["Budget", "RateLimit"]


class Budget:
    """At most `limit` in all (events, or bytes) per key in any `window_s` seconds; keys are client
    addresses ("" = unknown, one shared key). At most `max_keys` keys are remembered (idle ones go first)."""

    def __init__(self, limit: float, window_s: float = 60.0, max_keys: int = 10_000):
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._events: dict[str, deque[tuple[float, float]]] = {}  # key -> (time, amount), oldest first
        self._lock = threading.Lock()

    def admit(self, key: str, amount: float = 1.0, now: float | None = None) -> bool:
        """Count `amount` for `key` and say whether it fits the budget (a refused amount is not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0][0] >= self.window_s:
                events.popleft()
            if sum(a for _, a in events) + amount > self.limit:
                return False
            events.append((now, amount))
            if len(self._events) > self.max_keys:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or now - v[-1][0] >= self.window_s]:
            del self._events[key]


class RateLimit(Budget):
    """At most `per_minute` events per key in any 60 s."""

    def __init__(self, per_minute: int, max_keys: int = 10_000):
        super().__init__(per_minute, 60.0, max_keys)
        self.per_minute = per_minute

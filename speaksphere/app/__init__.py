"""The Gradio app, the top layer: UI wiring (ui), its API endpoints (api) and the HTTP guard in front of
them (guard). Nothing below this folder imports gradio; the work is done by speaksphere.coach."""

from .ui import build_app, launch, main

__all__ = ["build_app", "launch", "main"]

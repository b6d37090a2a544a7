"""The coach behind the app: each request as plain Python, with learner-facing text and figures.

`load_coach(settings)` loads the model once and opens the learner store; `Coach.analyze`, `.pronounce`,
`.compare`, `.recommend`, `.feedback`, `.history`, `.export` and `.delete` are what the app's endpoints
call. Imports no gradio: app.py wires these to the UI (data flows one way, speaksphere never imports the app).
"""

from .service import Coach, CoachError, ModelMissingError, load_coach, model_path, settings_with_model

__all__ = ["Coach", "CoachError", "ModelMissingError", "load_coach", "model_path", "settings_with_model"]

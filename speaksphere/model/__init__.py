"""The multi-task model: one audio encoder, a head per task, and its predictor.

Imports neither gradio nor the data pipeline nor accelerate.
"""

from .configuration import SpeakSphereConfig
from .multitask import IGNORE_INDEX, MultiTaskOutput, SpeakSphereModel
from .predictor import DEFAULT_MODEL_DIR, Predictor, load_model

__all__ = ["SpeakSphereConfig", "SpeakSphereModel", "MultiTaskOutput", "IGNORE_INDEX",
           "Predictor", "load_model", "DEFAULT_MODEL_DIR"]

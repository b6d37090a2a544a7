"""SpeakSphere: a speaking coach for language learners.

The public API (see DESIGN.md): load_audio and AudioError; later load_model, score_pronunciation
and compare. Data flows one way: audio -> features -> model -> analysis/scoring -> app.
"""

from .audio import SAMPLE_RATE, AudioError, AudioLimits
from .recording import Recording, frame_windows, load_audio, load_recording, speech_facts, warm_up
from .vad import VadConfig

__all__ = [
    "SAMPLE_RATE", "AudioError", "AudioLimits", "Recording", "VadConfig",
    "load_audio", "load_recording", "frame_windows", "speech_facts", "warm_up",
]

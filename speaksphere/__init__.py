"""SpeakSphere: a speaking coach for language learners.

The public API (docs/ARCHITECTURE.md, "Public contracts"): `load_audio` and `AudioError`, `load_model`,
`score_pronunciation`, `compare` and `assess_speech`. Data flows one way:
audio -> features -> model -> analysis/scoring -> app.
The model (transformers) and the scorer (numba, pocketsphinx) are imported on first use, so that
reading a recording does not pay for them; the recording (torch, for the voice activity detector) too.
"""

from importlib import import_module

from .audio import SAMPLE_RATE, AudioError, AudioLimits

_LAZY = {
    # .recording imports the voice activity detector (torch, ~1 s): not paid by `speaksphere.tts`'s worker
    **dict.fromkeys(["Recording", "frame_windows", "load_audio", "load_recording", "speech_facts",
                     "warm_up"], ".recording"),
    "VadConfig": ".vad",
    "load_model": ".model",
    "score_pronunciation": ".pronounce",
    "compare": ".pronounce",
    "assess_speech": ".speak",
    "ScoringError": ".pronounce",
    "LearnerStore": ".learner.store",
    "LearnerError": ".learner.store",
    "Recommender": ".learner.recommend",
}

__all__ = ["SAMPLE_RATE", "AudioError", "AudioLimits", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'speaksphere' has no attribute {name!r}")

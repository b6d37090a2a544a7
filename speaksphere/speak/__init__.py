"""Speak freely: assessment of unscripted speech (a learner answers a prompt; no text to read).

`assess_speech` (assess.py) listens (listening.py: language, transcript, each word's time by timing.py),
measures (measures.py: fluency and clarity) and scores with a calibration fitted to experts' ratings
(speaking.json, CARD.md). prompts.py holds what to talk about, per language and CEFR level.
"""

from .assess import MAX_SPEECH_S, assess_speech
from .prompts import LEVELS, Prompt, prompt, prompts

__all__ = ["MAX_SPEECH_S", "assess_speech", "LEVELS", "Prompt", "prompt", "prompts"]

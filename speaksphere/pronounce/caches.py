"""What pronunciation scoring keeps between requests, bounded by settings.CacheSettings: one ScoringCaches
per coach (Coach.caches), passed down to the references, the scorer and the listener; callers of the
library without a coach share `default_caches()`."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from ..cache import LruCache
from ..settings import CacheSettings
from .listener import EncoderStates

__all__ = ["ScoringCaches", "default_caches"]

_MB = 1 << 20


@dataclass(frozen=True)
class ScoringCaches:
    """The per-request data scoring computes again and again, each bounded (sizes: CacheSettings)."""

    reference_analyses: LruCache  # (recording id, features, language, words) -> (Recording, assess.Analysis)
    library_references: LruCache  # (phrase id, audio limits, VAD) -> Reference
    synthesised_references: LruCache  # (text, language, rate, audio limits, VAD) -> Reference, bounded in bytes
    teacher_transcripts: LruCache  # (SHA-256 of the wave, language) -> text or None
    encoder_states: EncoderStates  # Whisper encoder states by the SHA-256 of its input (scoring, Analyze)
    speech_states: EncoderStates  # the same for Speak's windows of free speech

    @classmethod
    def from_settings(cls, settings: CacheSettings = CacheSettings()) -> ScoringCaches:
        return cls(LruCache(max_entries=settings.reference_analyses),
                   LruCache(max_entries=settings.library_references),
                   LruCache(max_bytes=int(settings.synthesised_reference_mb * _MB),
                            sizeof=lambda reference: reference.recording.wave.nbytes),
                   LruCache(max_entries=settings.teacher_transcripts),
                   EncoderStates(max_bytes=int(settings.encoder_state_mb * _MB)),
                   EncoderStates(max_bytes=int(settings.speech_state_mb * _MB)))


@functools.cache
def default_caches() -> ScoringCaches:
    """The caches of scoring without a coach (score_pronunciation, compare, the benchmarks), default sizes."""
    from .listener import _heard_states  # the listener's own default, shared rather than doubled

    # speech_states stays empty: assess_speech without a coach keeps speak.listening's own
    return dataclasses.replace(ScoringCaches.from_settings(), encoder_states=_heard_states)

"""Pronunciation scoring against golden references (docs/ARCHITECTURE.md, "A request, followed through").

score_pronunciation(attempt, reference=None, text=None, language=None) -> dict of scores and segments;
compare(a, b, ...) -> both results and their differences; library(), golden_reference(),
synthesised_reference(), uploaded_reference() give the three kinds of reference (Reference.kind "library",
"typed", "teacher"). assess(recording, reference) is the core on a loaded Recording and a resolved Reference;
assess_file(...) loads and resolves first, as score_pronunciation does. Its Assessment.scored is the result
typed (result.py: PronunciationResult, its WordScore, InsertedWord, Segment and Phone rows); `result` is its
to_dict(), score_pronunciation's return.
"""

from .assess import Assessment, assess, assess_file, compare, score_pronunciation
from .references import (
                         Phrase,
                         Reference,
                         ScoringError,
                         golden_reference,
                         library,
                         library_reference,
                         synthesised_reference,
                         uploaded_reference,
)
from .result import InsertedWord, Phone, PronunciationResult, Segment, WordScore

__all__ = ["score_pronunciation", "compare", "assess", "assess_file", "Assessment", "ScoringError", "Phrase",
           "Reference", "library", "library_reference", "golden_reference", "synthesised_reference",
           "uploaded_reference", "PronunciationResult", "WordScore", "InsertedWord", "Segment", "Phone"]

"""The pronunciation result, typed: what `assess` scores, and `to_dict()`, score_pronunciation's public JSON.

Every row holds its values already rounded (times in s of the attempt to 3 decimals, DTW costs to 4,
scores 0-100 to 1); `to_dict()` gives the keys in their public order, and leaves a measure out of a row
where the scoring did not take it (docs/ARCHITECTURE.md, "Public contracts").
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["Segment", "WordScore", "InsertedWord", "Phone", "HeardWord", "Heard", "PronunciationResult"]


@dataclass(frozen=True)
class Segment:
    """A stretch of the attempt: a reference unit (a word, or a chunk "#3" when the words are unknown)
    where DTW put it, or speech that is none of them (label "(inserted)" or "<word> (again)", index None)."""

    label: str
    index: int | None  # the reference unit's index; None for an insertion
    start: float  # s of the attempt
    end: float
    cost: float  # mean DTW cost (cosine distance) along the path
    score: float  # 0-100
    flag: bool  # scored below ScoreConfig.flag_below (always for an insertion)
    miscue: str  # "none", "mispronunciation", "omission" or "insertion"

    def to_dict(self) -> dict:
        row = {"label": self.label, "index": self.index, "start": self.start, "end": self.end, "cost": self.cost,
               "score": self.score, "flag": self.flag, "miscue": self.miscue}
        if self.index is None:  # an insertion's row names its (absent) index last
            row["index"] = row.pop("index")
        return row


@dataclass(frozen=True)
class WordScore:
    """One expected word (the text is known): where it was said and how well. The listener's and the
    forced alignment's measures are None where they were not taken (and then left out of the row)."""

    word: str
    index: int  # its place in the expected text
    start: float  # s of the attempt
    end: float
    score: float  # 0-100
    cost: float  # mean DTW cost (cosine distance) along the path
    miscue: str  # "none", "mispronunciation" or "omission"
    heard_cost: float | None = None  # mean cosine distance of Whisper's encoder frames along the path
    intelligibility: float | None = None  # 0-100, the listener's (with heard_as)
    heard_as: str | None = None  # the transcript's word aligned with it, None if left out
    gop: float | None = None  # English: pocketsphinx's goodness of pronunciation (with gop_relative)
    gop_relative: float | None = None  # the GOP less the reference's own for the word, at most 0

    def to_dict(self) -> dict:
        row = {"word": self.word, "index": self.index, "start": self.start, "end": self.end, "score": self.score,
               "cost": self.cost, "miscue": self.miscue}
        if self.heard_cost is not None:
            row["heard_cost"] = self.heard_cost
        if self.intelligibility is not None:
            row.update(intelligibility=self.intelligibility, heard_as=self.heard_as)
        if self.gop is not None:
            row.update(gop=self.gop, gop_relative=self.gop_relative)
        return row


@dataclass(frozen=True)
class InsertedWord:
    """Speech among the words that is none of them: an expected word said again (`repeats` its index),
    or a stretch unlike the reference. Scored 0."""

    word: ClassVar[None] = None
    index: ClassVar[None] = None
    score: ClassVar[float] = 0.0
    miscue: ClassVar[str] = "insertion"
    start: float  # s of the attempt
    end: float
    cost: float  # mean DTW cost of its attempt frames
    repeats: int | None = None  # the index of the expected word said again, None for other speech

    def to_dict(self) -> dict:
        row = {"word": None, "index": None, "start": self.start, "end": self.end, "score": self.score,
               "cost": self.cost, "miscue": self.miscue}
        if self.repeats is not None:
            row["repeats"] = self.repeats
        return row


@dataclass(frozen=True)
class Phone:
    """English: one phone of the forced-aligned attempt."""

    phone: str
    word: str
    start: float  # s of the attempt
    end: float
    gop: float  # pocketsphinx's goodness of pronunciation
    score: float  # 0-100

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class HeardWord:
    """The expected text and the transcript side by side, word by word."""

    expected: str | None  # None for a word the transcript inserted
    heard: str | None  # None for an expected word the transcript left out
    miscue: str  # "none", "substitution", "omission" or "insertion"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Heard:
    """What the listener (Whisper) heard of the attempt, against the expected text."""

    transcript: str
    words: list[HeardWord]
    word_error_rate: float  # (substitutions + omissions + insertions) / expected words, 3 decimals

    def to_dict(self) -> dict:
        return {"transcript": self.transcript, "words": [w.to_dict() for w in self.words],
                "word_error_rate": self.word_error_rate}


@dataclass(frozen=True)
class PronunciationResult:
    """score_pronunciation's result: skills 0-100 (None where not scored, with why in not_scored), the
    attempt's segments, the measurements behind them, and with a known text its words (and for English
    its phones); with the listener, what it heard and whether this was another sentence."""

    overall: float
    accuracy: float
    fluency: float
    prosody: float | None  # None against a synthesised reference
    completeness: float
    coherence: float
    not_scored: dict[str, str]  # skill -> why it is None
    segments: list[Segment]  # in time order
    details: dict  # assess._details: costs, correlations, pauses, rates, measures
    another_sentence: bool | None = None  # None where the listener did not hear both recordings
    heard: Heard | None = None
    words: list[WordScore | InsertedWord] | None = None  # in time order; None without a text
    phones: list[Phone] | None = None  # English forced alignment only

    def to_dict(self) -> dict:
        """The public JSON: keys in the documented order; another_sentence, heard, words and phones only
        where they were scored."""
        result = {"overall": self.overall, "accuracy": self.accuracy, "fluency": self.fluency,
                  "prosody": self.prosody, "completeness": self.completeness, "coherence": self.coherence,
                  "not_scored": dict(self.not_scored), "segments": [s.to_dict() for s in self.segments],
                  "details": copy.deepcopy(self.details)}
        if self.heard is not None:
            result["another_sentence"] = self.another_sentence
            result["heard"] = self.heard.to_dict()
        if self.words is not None:
            result["words"] = [w.to_dict() for w in self.words]
        if self.phones is not None:
            result["phones"] = [p.to_dict() for p in self.phones]
        return result

"""The exercise catalogue: practice drills per skill and language, read from exercises.yaml.

Each exercise says which score it mainly trains (`skill`), which it trains a little (`also`), which
first-language backgrounds it was written for (`accents`, empty for everyone), what it practises
(a verb phrase for the one-sentence explanation), and which reference phrase the pronunciation tab
loads (`reference.language` + `reference.text`, and the `phrase_id` of the built-in phrase it uses, if any).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ...config import ConfigError, load_config
from ..store import SKILLS

__all__ = ["KINDS", "LANGUAGES", "ACCENTS", "Prompt", "Exercise", "Catalogue", "load_catalogue",
           "DEFAULT_CATALOGUE_PATH"]

DEFAULT_CATALOGUE_PATH = Path(__file__).with_name("exercises.yaml")

KINDS = ("minimal_pairs", "shadowing", "chunking", "pausing", "intonation", "slow_reading", "command_drill",
         "sequencing")
LANGUAGES = ("en", "fr", "de", "es", "it")
# Accent labels the accent classifier gives (English spoken natively, or with a first language L1-xx).
NATIVE_ACCENTS = ("en-US", "en-GB", "en-scotland", "en-caribbean")
L1_ACCENTS = ("L1-de", "L1-fr", "L1-nl", "L1-pl", "L1-es", "L1-it", "L1-zh")
ACCENTS = NATIVE_ACCENTS + L1_ACCENTS

FIRST_LANGUAGE_NAMES = {"L1-de": "German", "L1-fr": "French", "L1-nl": "Dutch", "L1-pl": "Polish",
                        "L1-es": "Spanish", "L1-it": "Italian", "L1-zh": "Mandarin"}


@dataclass(frozen=True)
class Prompt:
    """What the learner reads for an exercise: the pronunciation tab resolves it into its golden
    reference (pronounce.Reference). Stored under the key "reference" in exercises.yaml and the API."""

    language: str  # ISO 639-1
    text: str  # what the learner reads; a golden reference can be synthesised for any text
    phrase_id: str | None = None  # the built-in phrase (pronounce.library()) whose recording is the reference


@dataclass(frozen=True)
class Exercise:
    """One practice drill: an arm of the recommender."""

    id: str  # stable: stored with recommendations and attempts
    kind: str  # one of KINDS
    skill: str  # the score it mainly trains, one of SKILLS
    language: str  # ISO 639-1 code of the language practised
    title: str
    practises: str  # completes "it ...": "practises the w/v contrast ..."
    instructions: str
    reference: Prompt
    also: tuple[str, ...] = ()  # scores it trains a little as well
    accents: tuple[str, ...] = ()  # first-language backgrounds it is written for; empty: everyone

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind {self.kind!r} is not one of {list(KINDS)}")
        for skill in (self.skill, *self.also):
            if skill not in SKILLS:
                problems.append(f"skill {skill!r} is not one of {list(SKILLS)}")
        if self.language not in LANGUAGES:
            problems.append(f"language {self.language!r} is not one of {list(LANGUAGES)}")
        if self.reference.language != self.language:
            problems.append(f"reference language {self.reference.language!r} differs from {self.language!r}")
        unknown = [a for a in self.accents if a not in ACCENTS]
        if unknown:
            problems.append(f"accents {unknown} are not among {list(ACCENTS)}")
        if not self.reference.text.strip():
            problems.append("reference text is empty")
        if problems:
            raise ValueError(f"exercise {self.id}: " + "; ".join(problems))

    @property
    def accent_specific(self) -> bool:
        """Whether it was written for particular first-language backgrounds."""
        return bool(self.accents)

    def suits_accent(self, accent: str | None) -> bool:
        """Whether a learner with this detected accent is among those it was written for."""
        return not self.accents or accent in self.accents

    def to_dict(self) -> dict:
        """A plain mapping for the app and its API."""
        return {"id": self.id, "kind": self.kind, "skill": self.skill, "also": list(self.also),
                "language": self.language, "accents": list(self.accents), "title": self.title,
                "practises": self.practises, "instructions": self.instructions,
                "reference": {"language": self.reference.language, "text": self.reference.text,
                              "phrase_id": self.reference.phrase_id}}


@dataclass(frozen=True)
class _CatalogueFile:
    exercises: list[Exercise] = field(default_factory=list)


class Catalogue:
    """The exercises, by id and by language."""

    def __init__(self, exercises: list[Exercise]):
        ids = [e.id for e in exercises]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate exercise ids {duplicates}")
        self.exercises = tuple(exercises)
        self._by_id = {e.id: e for e in exercises}

    def __len__(self) -> int:
        return len(self.exercises)

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self.exercises)

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self._by_id

    def __getitem__(self, exercise_id: str) -> Exercise:
        return self._by_id[exercise_id]

    def get(self, exercise_id: str | None) -> Exercise | None:
        """The exercise with this id, or None."""
        return self._by_id.get(exercise_id) if exercise_id else None

    def for_language(self, language: str) -> tuple[Exercise, ...]:
        """The exercises practising `language` (empty if none)."""
        return tuple(e for e in self.exercises if e.language == language)

    def languages(self) -> tuple[str, ...]:
        """The languages with at least one exercise, in catalogue order."""
        return tuple(dict.fromkeys(e.language for e in self.exercises))


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read the exercise catalogue YAML; an unknown key or an invalid exercise is a ConfigError."""
    data = load_config(path, _CatalogueFile)
    try:
        return Catalogue(data.exercises)
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from error

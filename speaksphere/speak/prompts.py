"""The Speak tab's prompts (prompts.yaml): what to talk about, per language and CEFR level."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["LEVELS", "Prompt", "prompts", "prompt"]

LEVELS = ("A1", "A2", "B1", "B2")
PROMPTS_PATH = Path(__file__).with_name("prompts.yaml")


@dataclass(frozen=True)
class Prompt:
    """One thing to talk about. id: "<topic>-<level>", unique within its language."""

    id: str
    language: str  # ISO 639-1
    level: str  # CEFR: A1, A2, B1, B2
    text: str


@functools.cache
def _all() -> tuple[Prompt, ...]:
    spec = yaml.safe_load(PROMPTS_PATH.read_text(encoding="utf-8"))
    return tuple(Prompt(p["id"], language, p["level"], p["text"]) for language, items in spec.items() for p in items)


def prompts(language: str | None = None, level: str | None = None) -> list[Prompt]:
    """The prompts of a language and level (None: any), in the file's order (easiest first)."""
    return [p for p in _all() if language in (None, p.language) and level in (None, p.level)]


def prompt(language: str, prompt_id: str) -> Prompt | None:
    """The prompt `prompt_id` of `language`, or None."""
    return next((p for p in _all() if p.language == language and p.id == prompt_id), None)

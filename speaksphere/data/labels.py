"""Label vocabularies of the four tasks, in one place so the data code and the trainer agree.

A clip may carry labels for only some tasks; a missing label is an empty string in the manifest and
becomes -100 (ignored by the loss) through `label_id`. The order of each tuple is the class index.
"""

from __future__ import annotations

# the label index of a task a clip says nothing about: the model's loss skips it (one definition, the model's)
from ..model.command import SILENCE, UNKNOWN  # any other word; no speech (noise, breath, room tone)
from ..model.multitask import IGNORE_INDEX

__all__ = ["TASKS", "LANGUAGES", "ACCENTS", "EMOTIONS", "COMMAND_WORDS", "COMMANDS", "UNKNOWN", "SILENCE",
           "VOCABULARIES", "IGNORE_INDEX", "label_id", "check_label"]

TASKS = ("language", "accent", "emotion", "command")

# ISO 639-1. The first five are the seeds' languages; the others have real or usable synthetic voices here.
LANGUAGES = ("en", "fr", "de", "es", "it", "ru", "nl", "pt", "pl")

# Accents of English, named by what they are: native dialects, then English spoken with another
# language's phonology ("L1-de" = a German speaker's English), from espeak-ng's mb-XX-en voices, and
# "L1-zh", Mandarin speakers' English, from real learners.
ACCENTS = (
    "en-US", "en-GB", "en-scotland", "en-caribbean", "en-GB-lancashire", "en-GB-west-midlands",
    "L1-de", "L1-fr", "L1-nl", "L1-pl", "L1-hu", "L1-el", "L1-ro", "L1-sv", "L1-af",
    "L1-zh",  # real learners: speechocean762's Mandarin-L1 train speakers (speaksphere.data.speechocean)
)

EMOTIONS = ("neutral", "happy", "sad", "angry")

# The 35 words of Speech Commands v2 (Warden 2018), in the dataset's alphabetical order.
COMMAND_WORDS = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go",
    "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven",
    "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
)
COMMANDS = COMMAND_WORDS + (UNKNOWN, SILENCE)

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "language": LANGUAGES, "accent": ACCENTS, "emotion": EMOTIONS, "command": COMMANDS,
}



def check_label(task: str, label: str) -> str:
    """Return `label` if it belongs to `task`'s vocabulary (or is empty), else raise ValueError."""
    if label and label not in VOCABULARIES[task]:
        raise ValueError(f"{label!r} is not a {task} label; known: {VOCABULARIES[task]}")
    return label


def label_id(task: str, label: str | None) -> int:
    """Class index of `label` for `task`; an empty or missing label gives IGNORE_INDEX (-100)."""
    if not label:
        return IGNORE_INDEX
    return VOCABULARIES[task].index(check_label(task, label))

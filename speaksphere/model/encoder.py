"""Audio encoders by config: Whisper base's pretrained encoder (the embedded default), or wav2vec2.

A backbone config dict chooses with "model_type": "whisper" builds speaksphere's WhisperAudioEncoder
(waveforms in, Whisper's log-mel and layers inside), any other type transformers' own AutoModel
(wav2vec2 from the hub where it is reachable: configs/wav2vec2-base.yaml).

The distilled compact wav2vec2 that shipped before (a log-mel front end on a 4-layer transformer,
distilled from Whisper's frames on our corpus) is gone: trained on a handful of real voices it learned
the voices, not the task, where Whisper's own encoder carries language to voices it never heard
(MODEL_CARD.md: why the distilled student was dropped).
"""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig, AutoModel, PreTrainedModel

from ..whisper.encoder import WhisperAudioEncoder, pretrained_whisper_encoder
from .configuration import WHISPER_BASE

__all__ = ["build_encoder", "load_encoder", "WHISPER_BASE"]


def build_encoder(backbone: dict) -> PreTrainedModel:
    """A new encoder from a config dict with "model_type": randomly initialised, or, for
    {"model_type": "whisper", "weights_from": "whisper-base"}, with Whisper base's weights attached
    later by SpeakSphereModel.attach_pretrained_backbone."""
    config = AutoConfig.for_model(**backbone)
    if config.model_type == "whisper":
        return WhisperAudioEncoder(config)
    return AutoModel.from_config(config)


def load_encoder(name_or_path: str | Path) -> PreTrainedModel:
    """A pretrained encoder: "whisper-base" (from the pinned wheels), a folder written by save_pretrained,
    or a hub name."""
    if str(name_or_path) == WHISPER_BASE:
        return pretrained_whisper_encoder()
    config = AutoConfig.from_pretrained(name_or_path)
    if config.model_type == "whisper":
        return WhisperAudioEncoder.from_pretrained(name_or_path)
    return AutoModel.from_pretrained(name_or_path)

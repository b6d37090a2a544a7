"""Audio encoders: transformers' wav2vec2, or the same transformer on a log-mel front end.

wav2vec2's own front end is a 7-layer CNN on the raw waveform. Trained from scratch on synthetic voices
it learns those voices' waveforms and carries over poorly to real microphones (see MODEL_CARD.md). The
log-mel front end replaces only that CNN: an 80-band log-mel spectrogram every 10 ms (the input of the
Whisper teacher), then two convolutions as in Whisper's stem (kernel 3; the second with stride 2), so
the transformer sees one frame every 20 ms, centred where the teacher's frame is. Everything after the
front end (feature projection, positional convolution, transformer) is wav2vec2's, unchanged.

A backbone config dict chooses with "front_end": "waveform" (default, plain wav2vec2) or "log_mel".
"""

from __future__ import annotations

from pathlib import Path

import librosa
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel, Wav2Vec2Config, Wav2Vec2Model

from ..audio import SAMPLE_RATE

__all__ = ["LogMelFrontEnd", "LogMelWav2Vec2Model", "build_encoder", "load_encoder",
           "N_FFT", "HOP_SAMPLES", "N_MELS"]

N_FFT = 400  # samples, 25 ms window (Whisper's)
HOP_SAMPLES = 160  # samples, 10 ms between spectrogram frames
N_MELS = 80  # mel bands (Whisper base's)


class LogMelFrontEnd(nn.Module):
    """Waveform (batch, n_samples), 16 kHz -> features (batch, conv_dim[-1], n_frames) every 20 ms.

    n_frames = ceil((n_samples // 160 + 1) / 2); frame j is centred on sample 320 j. Spectrogram frames
    without any signal (padding, digital silence) are zeros, so padding a clip in a batch changes nothing.
    mel_normalisation "utterance" subtracts each band's mean over the frames that hold any signal (a
    fixed microphone or telephone colouring is a constant per band in the log domain, so this removes
    it; padding is exact zeros and is left out of the mean); "none" keeps Whisper's scaling only.
    mel_fmax (Hz, default 8000) is the top of the highest band: 4000 makes the encoder blind to what
    telephone-band recordings lack, so 8-kHz and wideband speech look alike to it.
    """

    def __init__(self, config: Wav2Vec2Config):
        super().__init__()
        channels = config.conv_dim[-1]
        self.normalisation = getattr(config, "mel_normalisation", "utterance")
        self.fmax = float(getattr(config, "mel_fmax", SAMPLE_RATE / 2))
        if self.normalisation not in ("utterance", "none"):
            raise ValueError(f"mel_normalisation must be 'utterance' or 'none', not {self.normalisation!r}")
        # (window, mel filters), made on first use, not buffers: from_pretrained builds modules on the
        # meta device and leaves buffers that are not in the weights uninitialised
        self._constants: tuple[torch.Tensor, torch.Tensor] | None = None
        self.conv1 = nn.Conv1d(N_MELS, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1)

    def log_mel(self, waves: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, n_samples) -> log-mel (batch, 80, n_samples // 160 + 1) and the mask (batch, frames)
        of frames that hold any signal."""
        if self._constants is None or self._constants[0].device != waves.device:  # one assignment: thread-safe
            filters = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmax=self.fmax)  # (80, 201)
            self._constants = (torch.hann_window(N_FFT, device=waves.device), torch.from_numpy(filters).to(waves.device))
        window, mel_filters = self._constants
        # zero padding, not reflection: a clip alone and the same clip padded in a batch get equal frames
        spectrum = torch.stft(waves.float(), N_FFT, HOP_SAMPLES, window=window, center=True,
                              pad_mode="constant", return_complex=True)
        power = spectrum.abs() ** 2  # (batch, 201, frames)
        # a clip ends at its last non-zero sample: batches are padded with exact zeros after it
        nonzero = waves != 0
        ends = torch.where(nonzero.any(-1), waves.shape[-1] - nonzero.flip(-1).int().argmax(-1), 0)
        within = torch.arange(power.shape[-1], device=waves.device)[None, :] < (ends // HOP_SAMPLES + 1)[:, None]
        log_mel = torch.clamp(mel_filters @ power, min=1e-10).log10()
        peak = log_mel.masked_fill(~within[:, None, :], -10.0).amax(dim=(1, 2), keepdim=True)
        log_mel = (torch.maximum(log_mel, peak - 8.0) + 4.0) / 4.0  # Whisper's dynamic range and scale
        return log_mel, (power.sum(1) > 0) & within

    def normalised_log_mel(self, waves: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, n_samples) -> normalised log-mel (batch, 80, frames), zero where there is no signal,
        and those frames' weights (batch, 1, frames): 1 with signal, 0 without."""
        features, voiced = self.log_mel(waves)
        weights = voiced.to(features.dtype)[:, None, :]
        if self.normalisation == "utterance":
            mean = (features * weights).sum(-1, keepdim=True) / weights.sum(-1, keepdim=True).clamp(min=1.0)
            features = features - mean
        return features * weights, weights

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        features, weights = self.normalised_log_mel(waves)
        hidden = nn.functional.gelu(self.conv1(features)) * weights  # padding stays exact zeros
        return nn.functional.gelu(self.conv2(hidden))

    def _freeze_parameters(self) -> None:
        """What SpeakSphereModel.freeze_feature_encoder calls, as on wav2vec2's own front end."""
        for parameter in self.parameters():
            parameter.requires_grad = False


class LogMelWav2Vec2Model(Wav2Vec2Model):
    """Wav2Vec2Model whose waveform CNN is replaced by LogMelFrontEnd; same outputs and masks."""

    def __init__(self, config: Wav2Vec2Config):
        super().__init__(config)
        self.feature_extractor = LogMelFrontEnd(config)
        self.post_init()

    def _get_feat_extract_output_lengths(self, input_lengths: torch.LongTensor | int, add_adapter: bool | None = None):
        """Samples -> 20-ms frames: n_samples // 160 + 1 spectrogram frames, halved (rounding up)."""
        spectrogram_frames = input_lengths // HOP_SAMPLES + 1
        return (spectrogram_frames + 1) // 2


def _is_log_mel(config) -> bool:
    return getattr(config, "front_end", "waveform") == "log_mel"


def build_encoder(backbone: dict) -> PreTrainedModel:
    """A new, randomly initialised encoder from a config dict with "model_type" (and "front_end")."""
    config = AutoConfig.for_model(**backbone)
    if _is_log_mel(config):
        return LogMelWav2Vec2Model(config)
    return AutoModel.from_config(config)


def load_encoder(name_or_path: str | Path) -> PreTrainedModel:
    """A saved encoder (a folder written by save_pretrained, or a hub name), whichever front end it has."""
    config = AutoConfig.from_pretrained(name_or_path)
    if _is_log_mel(config):
        return LogMelWav2Vec2Model.from_pretrained(name_or_path)
    return AutoModel.from_pretrained(name_or_path)

"""Whisper base's pretrained encoder as a SpeakSphere backbone: 16-kHz waveforms in, 20-ms frames out.

Whisper hears an 80-band log-mel spectrogram every 10 ms, scaled its own way (log10, floored 8 below
the clip's peak, then (x + 4) / 4), and was trained on inputs zero-padded to 30 s. The backbone pads
every clip with zeros to at least `min_input_s` (4 s: one analysis window, 200 encoder positions), as
Whisper pads, so a 1-s command word and a 4-s window go through the same 200 positions; the padding's
frames are then masked out of the pooling by SpeakSphereModel. Longer inputs use more positions (up to
Whisper's 30 s). Transformers' WhisperEncoder accepts only 30-s inputs, so its layers are called here.
"""

from __future__ import annotations

import librosa
import torch
from torch import nn
from transformers import WhisperConfig
from transformers.modeling_outputs import BaseModelOutput
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from ..audio import HOP_LENGTH, N_FFT, N_MELS, SAMPLE_RATE
from .constants import FRAME_SAMPLES, MAX_POSITIONS
from .weights import load_whisper_base, whisper_base_config

__all__ = ["WhisperAudioEncoder", "pretrained_whisper_encoder", "whisper_log_mel"]

# the analysis window (N_FFT, 25 ms), hop (HOP_LENGTH, 10 ms) and mel bands (N_MELS, 80) are Whisper's:
# speaksphere.audio's constants

_FILTERS: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}


def whisper_log_mel(waves: torch.Tensor) -> torch.Tensor:
    """Waveforms (batch, n_samples), 16 kHz, in [-1, 1] -> Whisper's log-mel (batch, 80, n_samples // 160).

    Each clip is floored 8 (log10 units) below its own peak, as Whisper does for one input.
    """
    if waves.device not in _FILTERS:  # one assignment: thread-safe
        filters = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)  # (80, 201), Whisper's own
        _FILTERS[waves.device] = (torch.hann_window(N_FFT, device=waves.device),
                                  torch.from_numpy(filters).to(waves.device))
    window, filters = _FILTERS[waves.device]
    spectrum = torch.stft(waves.float(), N_FFT, HOP_LENGTH, window=window, return_complex=True)
    power = spectrum[..., :-1].abs() ** 2  # (batch, 201, frames): Whisper drops the last frame
    log_mel = torch.clamp(filters @ power, min=1e-10).log10()
    log_mel = torch.maximum(log_mel, log_mel.amax(dim=(1, 2), keepdim=True) - 8.0)
    return (log_mel + 4.0) / 4.0


class WhisperAudioEncoder(WhisperEncoder):
    """Whisper's encoder on waveforms: `forward(input_values (batch, n_samples), attention_mask,
    output_hidden_states)` -> last_hidden_state (batch, frames, 512) and, if asked, the input embeddings
    and each layer's output (7 tensors; the last one after the final layer norm, as the decoder sees it).

    config.min_input_s (default 4.0) is the length every input is zero-padded to.
    """

    def __init__(self, config: WhisperConfig):
        super().__init__(config)
        self.min_input_samples = int(round(getattr(config, "min_input_s", 4.0) * SAMPLE_RATE))
        # SpeakSphereModel reads these two, as it does on a wav2vec2 config
        config.hidden_size = config.d_model
        config.num_hidden_layers = config.encoder_layers

    def _get_feat_extract_output_lengths(self, input_lengths: torch.Tensor) -> torch.Tensor:
        """Samples -> encoder frames that hold them (one every 320 samples, at least one)."""
        return torch.clamp((input_lengths + FRAME_SAMPLES - 1) // FRAME_SAMPLES, min=1)

    def freeze_feature_encoder(self) -> None:
        """Freeze the two-convolution stem."""
        for parameter in (*self.conv1.parameters(), *self.conv2.parameters()):
            parameter.requires_grad = False

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                output_hidden_states: bool = False, **kwargs) -> BaseModelOutput:
        n_samples = max(input_values.shape[-1], self.min_input_samples)
        n_samples = -(-n_samples // FRAME_SAMPLES) * FRAME_SAMPLES  # whole encoder frames
        if n_samples > MAX_POSITIONS * FRAME_SAMPLES:
            raise ValueError(f"Whisper's encoder hears at most 30 s at once, not {n_samples / SAMPLE_RATE:.1f} s")
        if attention_mask is not None:  # padding must be exact zeros, as Whisper pads
            input_values = input_values * attention_mask.to(input_values.dtype)
        waves = nn.functional.pad(input_values, (0, n_samples - input_values.shape[-1]))
        features = whisper_log_mel(waves).to(self.conv1.weight.dtype)  # (batch, 80, 2 * positions)
        hidden = nn.functional.gelu(self.conv2(nn.functional.gelu(self.conv1(features)))).permute(0, 2, 1)
        hidden = hidden + self.embed_positions.weight[: hidden.shape[1]]
        states = [hidden]
        for layer in self.layers:
            hidden = layer(hidden, None)
            states.append(hidden)
        hidden = self.layer_norm(hidden)
        states[-1] = hidden
        return BaseModelOutput(last_hidden_state=hidden, hidden_states=tuple(states) if output_hidden_states else None)


def pretrained_whisper_encoder(min_input_s: float = 4.0) -> WhisperAudioEncoder:
    """Whisper base's encoder with its pretrained weights, frozen, sharing them with the process's one
    Whisper base (speaksphere.whisper.weights.load_whisper_base)."""
    config = whisper_base_config()
    config.min_input_s = min_input_s
    with torch.device("meta"):
        encoder = WhisperAudioEncoder(config)
    with torch.inference_mode(False):  # shareable parameters whatever mode the caller is in
        encoder.load_state_dict(load_whisper_base().model.encoder.state_dict(), assign=True)
    for module in encoder.modules():  # a model built around it must not initialise these weights again
        module._is_hf_initialized = True
    return encoder.eval().requires_grad_(False)

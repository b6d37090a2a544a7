"""Serving a trained SpeakSphere model: calls of rising convenience, as in SpeechBrain's classifiers.

`classify_batch` (waveforms -> probabilities per task), `classify_windows` (a recording cut into
fixed windows), `analyze` (a file or bytes -> what was spoken, judged over the whole recording).
Serving needs only the checkpoint folder: neither train.py nor the data code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import Wav2Vec2FeatureExtractor

from ..audio import SAMPLE_RATE
from ..recording import Recording, WindowConfig, Windows, frame_windows, load_recording
from ..whisper.encoder import WhisperAudioEncoder
from ..whisper.language import whisper_language_logits
from .command import first_speech_window
from .multitask import SpeakSphereModel

__all__ = ["Predictor", "load_model", "new_feature_extractor", "feature_extractor_for", "DEFAULT_MODEL_DIR"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "speaksphere-small"  # package data
_MIN_WINDOW_SPEECH_S = 0.25  # a window with less speech than this says nothing about the speaker


class Predictor:
    """A trained model with its feature extractor, ready for inference on CPU or GPU."""

    def __init__(self, model: SpeakSphereModel, feature_extractor: Wav2Vec2FeatureExtractor,
                 windows: WindowConfig = WindowConfig(), batch_size: int = 8):
        self.model = model.eval()
        self.feature_extractor = feature_extractor
        self.windows = windows
        self.batch_size = batch_size
        self.tasks = dict(model.config.tasks)

    @torch.inference_mode()
    def encode_batch(self, waves: list[np.ndarray], with_states: bool = False):
        """Waveforms (each (n_samples,), float32, 16 kHz; lengths may differ) -> per-layer statistics
        (batch, n_layers, dim) and, with a Whisper encoder, Whisper's own language logits (batch, 99)
        (else None): everything the heads need, so they can also be trained on cached encodings.
        With `with_states`, also the encoder's last layer (batch, frames, dim), what Whisper's decoder reads."""
        inputs = self.feature_extractor(waves, sampling_rate=SAMPLE_RATE, padding=True,
                                        return_attention_mask=True, return_tensors="pt")
        device = next(self.model.parameters()).device
        statistics, last = self.model.layer_statistics(inputs["input_values"].to(device),
                                                       inputs["attention_mask"].to(device), with_last_hidden_state=True)
        language = whisper_language_logits(last) if self.model.backbone_from_wheels else None
        return (statistics, language, last) if with_states else (statistics, language)

    @torch.inference_mode()
    def classify_encodings(self, statistics: torch.Tensor, whisper_language: torch.Tensor | None = None,
                           speech_s: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Encodings from encode_batch (and each window's seconds of speech, (batch,), when known) ->
        task -> (batch, n_labels) calibrated probabilities, for every task a window answers (not a
        command from Whisper: see command_probabilities)."""
        logits = self.model(layer_statistics=statistics, whisper_language=whisper_language).logits
        speech = None if speech_s is None else torch.as_tensor(speech_s, dtype=torch.float32)
        return {task: self.model.probabilities(task, values, speech).cpu().numpy() for task, values in logits.items()}

    def classify_batch(self, waves: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Waveforms (each (n_samples,), float32, 16 kHz; lengths may differ) -> task -> (batch, n_labels)
        probabilities."""
        return self.classify_encodings(*self.encode_batch(waves))

    def encode_windows(self, windows: Windows, states_of: int | None = None):
        """Every window of a recording -> encode_batch's outputs for all of them, in batches, and the
        encoder's last layer (1, frames, dim) of window `states_of` (None when not asked for)."""
        rows = [windows.samples[i, : windows.lengths[i]] for i in range(len(windows.lengths))]
        statistics, language, states = [], [], None
        for i in range(0, len(rows), self.batch_size):
            batch_statistics, batch_language, last = self.encode_batch(rows[i : i + self.batch_size], with_states=True)
            statistics.append(batch_statistics)
            language.append(batch_language)
            if states_of is not None and i <= states_of < i + self.batch_size:
                states = last[states_of - i : states_of - i + 1]  # padded with silence, as Whisper pads
        language = torch.cat(language) if language[0] is not None else None
        return torch.cat(statistics), language, states

    def classify_windows(self, windows: Windows, speech_s: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every window of a recording (and its seconds of speech, (n_windows,)) -> task ->
        (n_windows, n_labels) probabilities, in batches."""
        return self.classify_encodings(*self.encode_windows(windows)[:2], speech_s)

    @torch.inference_mode()
    def command_probabilities(self, encoder_states: torch.Tensor, speech_s: float) -> np.ndarray:
        """A recording's calibrated command probabilities (n_commands,) from Whisper's decoder, given
        its first speech window's encoder states (1, frames, dim) and seconds of speech."""
        logits = self.model.whisper_command(encoder_states, speech_s)[None]
        return self.model.probabilities("command", logits).cpu().numpy()[0]

    def analyze_recording(self, recording: Recording) -> dict:
        """Probabilities per task for the whole recording, and the language of every window.

        Window probabilities are averaged, weighted by the seconds of speech in each window, so a
        long or mixed recording is judged as a whole and silent windows do not vote. A command from
        Whisper is the first word of the first window with speech.
        """
        windows, speech = self.speech_windows(recording)
        whisper_command = "command" in self.model.whisper_tasks
        first = first_speech_window(speech)
        statistics, language, states = self.encode_windows(windows, states_of=first if whisper_command else None)
        probabilities = self.classify_encodings(statistics, language, speech)
        weights = np.where(speech >= _MIN_WINDOW_SPEECH_S, speech, 0.0)
        if weights.sum() == 0:
            weights = np.ones_like(speech)
        result = {task: _as_dict(self.tasks[task], weights @ probabilities[task] / weights.sum())
                  for task in self.tasks if task in probabilities}
        if whisper_command:
            command = self.command_probabilities(states, float(speech[first]))
            result["command"] = _as_dict(self.tasks["command"], command)
        result = {task: result[task] for task in self.tasks}  # the config's order of tasks
        result["experimental"] = [task for task in self.tasks if task in self.model.config.experimental]
        result["windows"] = [
            {"start": round(float(start), 2), "end": round(float(end), 2), "speech_s": round(float(s), 2),
             **({"language": _as_dict(self.tasks["language"], probabilities["language"][i])}
                if "language" in self.tasks else {})}
            for i, (start, end, s) in enumerate(zip(windows.starts_s, windows.ends_s, speech))
        ]
        return result

    def speech_windows(self, recording: Recording) -> tuple[Windows, np.ndarray]:
        """The recording's analysis windows and the seconds of speech in each (n_windows,)."""
        windows = frame_windows(recording.wave, self.windows.window_s, self.windows.hop_s, self.windows.min_last_s)
        speech = np.array([_speech_in(recording, start, end) for start, end in zip(windows.starts_s, windows.ends_s)])
        return windows, speech

    def analyze(self, source: str | Path | bytes) -> dict:
        """A recording (path or bytes) -> {"language": {label: p}, "accent": ..., "emotion": ...,
        "command": ..., "experimental": [tasks whose answers held-out real speech does not support],
        "windows": [{"start", "end", "speech_s", "language"}]}. Raises AudioError."""
        return self.analyze_recording(load_recording(source))


def _speech_in(recording: Recording, start: float, end: float) -> float:
    """Seconds of speech (by VAD) between `start` and `end` seconds."""
    return sum(max(0.0, min(end, s.end) - max(start, s.start)) for s in recording.segments)


def _as_dict(labels: list[str], probabilities: np.ndarray) -> dict[str, float]:
    """Labels with their probabilities, most likely first."""
    order = np.argsort(-probabilities)
    return {labels[i]: round(float(probabilities[i]), 4) for i in order}


def new_feature_extractor(whisper: bool) -> Wav2Vec2FeatureExtractor:
    """The input processing an encoder expects: 16-kHz waveforms zero-padded to the batch's longest, with
    their attention mask, and per-clip normalisation for wav2vec2 (`whisper` False); Whisper hears the
    waveform as it is (its log-mel has its own scaling)."""
    return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0,
                                    do_normalize=not whisper, return_attention_mask=True)


def feature_extractor_for(model: SpeakSphereModel) -> Wav2Vec2FeatureExtractor:
    """new_feature_extractor() for the model's encoder."""
    return new_feature_extractor(isinstance(model.backbone, WhisperAudioEncoder))


def load_model(path: str | Path | None = None, device: str = "cpu") -> Predictor:
    """Load a saved SpeakSphere model folder; `None` loads the embedded default in models/."""
    folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"No SpeakSphere model in {folder}: it needs config.json and the weights "
                                "written by train.py (save_pretrained).")
    # the shipped weights may be stored in float16 (half the download); CPU inference runs in float32
    model = SpeakSphereModel.from_pretrained(folder, dtype=torch.float32).to(device)
    feature_extractor = Wav2Vec2FeatureExtractor.from_pretrained(folder)
    return Predictor(model, feature_extractor)

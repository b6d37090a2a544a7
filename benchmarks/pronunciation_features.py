"""Which frame features separate a right reading from a wrong one best? (dev voices only)

Reference: espeak-ng "en-us"; attempts: other espeak-ng voices (the dev set, never the validity test
voices) reading the same phrase (right) or another phrase (wrong). For each feature kind and metric,
prints the mean DTW cost per path step for right and wrong readings, Cohen's d and the ROC AUC.
"model" is the embedded model's encoder (speaksphere/model/speaksphere-small: Whisper base's encoder): its
last layer, each 20-ms frame repeated to the 10-ms grid, with per-utterance mean/variance
normalisation; "logmel+model" concatenates both, each scaled to unit norm on average.
Run: python benchmarks/pronunciation_features.py
"""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path

import librosa
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere.dtw import cost_matrix, dtw
from speaksphere.pronounce.features import FeatureConfig, frame_features
from speaksphere.tts import synthesize

PHRASES = [
    "please leave your message after the tone",
    "the number you have dialed is not in service",
    "thank you for calling, goodbye",
    "your call is important to us",
    "please enter your account number followed by the pound key",
    "the person you are trying to reach is not available",
]
DEV_VOICES = ["en-us+m1", "en-gb+f2", "en-029+m4", "en-us-nyc+f4"]


def speech(text: str, voice: str) -> np.ndarray:
    wave, rate = synthesize(text, voice)
    wave = librosa.resample(wave, orig_sr=rate, target_sr=16000)
    keep = np.flatnonzero(np.abs(wave) > 0.01)
    return wave[keep[0] : keep[-1] + 1]


@functools.lru_cache(maxsize=1)
def _embedded_model():
    """The embedded default model (speaksphere/model/speaksphere-small), loaded once."""
    from speaksphere.model import load_model

    return load_model()


def model_features(wave: np.ndarray) -> np.ndarray:
    """The embedded encoder's last layer on the 10-ms frame grid, CMVN'd: (n_frames, hidden)."""
    import torch

    from speaksphere.pronounce.features import n_frames

    predictor = _embedded_model()
    inputs = predictor.feature_extractor([wave], sampling_rate=16000, return_tensors="pt", return_attention_mask=True)
    with torch.inference_mode():
        hidden = predictor.model.backbone(inputs["input_values"], attention_mask=inputs["attention_mask"])
    frames = hidden.last_hidden_state[0].numpy()
    frames = frames[np.minimum(np.arange(n_frames(len(wave))) // 2, len(frames) - 1)]
    return ((frames - frames.mean(0)) / (frames.std(0) + 1e-6)).astype(np.float32)


def logmel_and_model(wave: np.ndarray) -> np.ndarray:
    """Log-mel (+deltas, CMVN) and the model's frames side by side, each block of unit norm on average."""
    logmel, model = frame_features(wave, FeatureConfig(kind="logmel")), model_features(wave)
    return np.hstack([logmel / np.sqrt(logmel.shape[1]), model / np.sqrt(model.shape[1])])


def main() -> None:
    references = {p: speech(p, "en-us") for p in PHRASES}
    attempts = {(p, v): speech(p, v) for p in PHRASES for v in DEV_VOICES}
    options = {  # name -> wave (n_samples,) to frames (n_frames, n_dims)
        "mfcc+d cmvn": functools.partial(frame_features, config=FeatureConfig(kind="mfcc")),
        "mfcc cmvn": functools.partial(frame_features, config=FeatureConfig(kind="mfcc", deltas=False)),
        "mfcc+d no-cmvn": functools.partial(frame_features, config=FeatureConfig(kind="mfcc", cmvn=False)),
        "logmel+d cmvn": functools.partial(frame_features, config=FeatureConfig(kind="logmel")),
        "logmel cmvn": functools.partial(frame_features, config=FeatureConfig(kind="logmel", deltas=False)),
        "model": model_features,
        "logmel+model": logmel_and_model,
    }
    for (name, features), metric in itertools.product(options.items(), ["euclidean", "cosine"]):
        ref_feats = {p: features(w) for p, w in references.items()}
        right, wrong = [], []
        for (phrase, _voice), wave in attempts.items():
            feats = features(wave)
            for ref_phrase, ref in ref_feats.items():
                result = dtw(cost_matrix(ref, feats, metric))
                (right if ref_phrase == phrase else wrong).append(result.cost / len(result.path))
        right, wrong = np.array(right), np.array(wrong)
        d = (wrong.mean() - right.mean()) / np.sqrt((wrong.var() + right.var()) / 2)
        auc = roc_auc_score([0] * len(right) + [1] * len(wrong), np.concatenate([right, wrong]))
        print(f"{name:16s} {metric:9s} right {right.mean():.3f}  wrong {wrong.mean():.3f}  d' {d:.2f}  AUC {auc:.3f}")


if __name__ == "__main__":
    main()

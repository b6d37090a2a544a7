"""train.py launched for real with `accelerate launch` (2 CPU processes: distributed data parallel)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import yaml

from launching import accelerate_launch
from speaksphere.data.manifest import new_row, write_manifest
from speaksphere.model import load_model
from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = {"en": ["Good morning.", "Where is the station?", "I like green tea."],
             "fr": ["Bonjour.", "Où est la gare?", "J'aime le thé vert."]}
VOICES = {"train": {"en": "en-us", "fr": "fr"}, "val": {"en": "en-gb", "fr": "fr+f3"},
          "test": {"en": "en-us+f3", "fr": "fr+m3"}}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """18 clips: 2 languages x 3 voices (one voice per split) x 3 sentences, plus command words."""
    folder = tmp_path_factory.mktemp("corpus")
    rows = []
    for split, voices in VOICES.items():
        for language, voice in voices.items():
            for i, text in enumerate(SENTENCES[language]):
                samples, rate = synthesize(text, voice=voice)
                path = folder / f"{split}-{language}-{i}.wav"
                sf.write(path, samples, rate)
                command = ("yes", "no", "")[i] if language == "en" else ""
                rows.append(new_row(audio=path.name, voice=voice, source="espeak", real=0, text=text,
                                    language=language, command=command, split=split))
    write_manifest(rows, folder / "manifest.csv")
    return folder / "manifest.csv"


def launch(config: Path, manifest: Path, output: Path, *extra: str) -> str:
    return accelerate_launch("train.py", "--config", str(config), "--manifest", str(manifest),
                             "--output-dir", str(output), *extra)


def with_epochs(tmp_path: Path, epochs: int) -> Path:
    config = yaml.safe_load((ROOT / "configs" / "tiny.yaml").read_text())
    config["train"]["epochs"] = epochs
    path = tmp_path / f"tiny-{epochs}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_checkpoint_resume_and_reload(manifest, tmp_path):
    output = tmp_path / "run"
    launch(with_epochs(tmp_path, 1), manifest, output)
    history = json.loads((output / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1]

    result = launch(with_epochs(tmp_path, 2), manifest, output, "--resume")
    assert "resumed after epoch 1" in result
    history = json.loads((output / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]

    metrics = json.loads((output / "test" / "metrics.json").read_text())
    assert set(metrics) == {"language", "command"}  # accent and emotion have no labels here
    assert metrics["language"]["n"] == 6 and 0.0 <= metrics["language"]["accuracy"] <= 1.0
    assert (output / "test" / "confusion_language.png").stat().st_size > 1000

    predictor = load_model(output / "model")
    assert predictor.tasks["language"] == ["en", "fr"]
    assert predictor.tasks["command"] == ["no", "yes"]
    result = predictor.analyze(manifest.parent / "test-en-1.wav")
    assert set(result["language"]) == {"en", "fr"}


def test_cached_statistics_train_the_same_model(manifest, tmp_path):
    """cache_features: the heads learn from pooled statistics, and the saved model, run on audio,
    gives the predictions those statistics gave (the test figures are the real model's)."""
    config = yaml.safe_load((ROOT / "configs" / "tiny.yaml").read_text())
    config["model"].update(freeze_backbone=True, pooling="mean_std")
    config["train"].update(cache_features=True, epochs=3, learning_rate=0.01)
    path = tmp_path / "cached.yaml"
    path.write_text(yaml.safe_dump(config))
    output = tmp_path / "cached"
    launch(path, manifest, output)
    metrics = json.loads((output / "test" / "metrics.json").read_text())
    assert metrics["language"]["n"] == 6
    assert metrics["subsets"]["synthetic"]["language"]["n"] == 6 and not metrics["subsets"]["real"]
    predictor = load_model(output / "model")
    assert predictor.model.config.pooling == "mean_std"
    result = predictor.analyze(manifest.parent / "test-fr-0.wav")
    assert abs(sum(result["language"].values()) - 1.0) < 1e-3


def test_cache_features_needs_a_frozen_backbone(manifest, tmp_path):
    config = yaml.safe_load((ROOT / "configs" / "tiny.yaml").read_text())
    config["train"]["cache_features"] = True
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, str(ROOT / "train.py"), "--config", str(path), "--manifest", str(manifest),
               "--output-dir", str(tmp_path / "bad")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0 and "freeze_backbone" in result.stderr


def test_wav2vec2_base_config_parses_and_builds_with_a_stand_in(tmp_path):
    """configs/wav2vec2-base.yaml needs the hub; with a tiny local encoder in place of
    facebook/wav2vec2-base it must parse, build the four heads and run a forward pass."""
    import importlib.util

    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from speaksphere.config import load_config
    from speaksphere.data.labels import VOCABULARIES

    spec = importlib.util.spec_from_file_location("train_script", ROOT / "train.py")
    train = importlib.util.module_from_spec(spec)
    sys.modules["train_script"] = train  # dataclasses look their module up while they are built
    spec.loader.exec_module(train)
    config = load_config(ROOT / "configs" / "wav2vec2-base.yaml", train.Experiment)
    assert config.model.pretrained == "facebook/wav2vec2-base" and not config.train.cache_features
    stand_in = tmp_path / "wav2vec2-stand-in"
    Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                 conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                                 num_conv_pos_embedding_groups=4)).save_pretrained(stand_in)
    config.model.pretrained = str(stand_in)
    tasks = {task: list(VOCABULARIES[task]) for task in config.data.tasks}
    model = train.build_model(config.model, tasks, [])
    assert set(model.heads) == {"language", "accent", "emotion", "command"}
    assert not any(p.requires_grad for p in model.backbone.feature_extractor.parameters())
    with torch.no_grad():
        logits = model(torch.randn(2, 16000), torch.ones(2, 16000, dtype=torch.long)).logits
    assert {t: scores.shape[-1] for t, scores in logits.items()} == {t: len(v) for t, v in tasks.items()}

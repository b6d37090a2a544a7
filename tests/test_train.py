"""train.py launched for real with `accelerate launch` (2 CPU processes: distributed data parallel)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import yaml

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


def launch(config: Path, manifest: Path, output: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               str(ROOT / "train.py"), "--config", str(config), "--manifest", str(manifest),
               "--output-dir", str(output), *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


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
    assert "resumed after epoch 1" in result.stdout + result.stderr
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

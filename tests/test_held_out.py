"""The embedded model's recipe end to end on a small corpus: window encodings with Whisper base's
encoder, leave-one-voice-out figures and temperatures, then train.py with configs/embedded.yaml and those
temperatures; the saved model is heads only, loads, calibrates and marks its experimental tasks."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from launching import accelerate_launch
from speaksphere.data.manifest import new_row, write_manifest
from speaksphere.model import load_model
from speaksphere.training.encodings import concatenate, encode_with
from speaksphere.training.heads import expected_calibration_error, fit_temperature
from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = {"en": ["Good morning to you.", "Where is the railway station?", "I like green tea with milk."],
             "fr": ["Bonjour à tous.", "Où est la gare, s'il vous plaît?", "J'aime le thé vert."]}
# two "real" stand-in voices (one per fold) and synthetic voices for train, val and test
VOICES = [("en-us", "train", 0), ("fr", "train", 0), ("en-gb", "val", 0), ("fr+f3", "val", 0),
          ("en-us+f3", "test", 0), ("fr+m3", "test", 0), ("en-gb+m3", "train", 1), ("fr+f2", "train", 1),
          ("en-gb+f4", "train", 0)]  # English of both dialects in train: an accent head to train


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    rows = []
    for voice, split, real in VOICES:
        language = voice[:2]
        for i, text in enumerate(SENTENCES[language]):
            samples, rate = synthesize(text, voice=voice)
            path = folder / f"{voice}-{i}.wav"
            sf.write(path, samples, rate)
            # the stand-in "real" voices: en-gb+m3 speaks English, fr+f2 French; one speaker id, as Allison
            accent = {"en-us": "en-US", "en-gb": "en-GB"}.get(voice.split("+")[0], "")  # espeak's two dialects
            rows.append(new_row(audio=path.name, voice=f"asterisk:{'one' if real else voice}", source="espeak",
                                real=real, text=text, language=language, split=split, accent=accent,
                                command=("yes", "no", "")[i] if language == "en" else ""))
    write_manifest(rows, folder / "manifest.csv")
    return folder


def test_encodings_in_two_processes_are_those_of_one(corpus):
    from speaksphere.data.manifest import read_manifest

    rows = read_manifest(corpus / "manifest.csv", absolute=True)[:4]
    whole = encode_with("whisper-base", rows)
    parts = concatenate([encode_with("whisper-base", rows[:1]), encode_with("whisper-base", rows[1:])])
    assert parts.audio == whole.audio and list(parts.clip) == list(whole.clip)
    torch.testing.assert_close(parts.statistics.float(), whole.statistics.float(), atol=0.02, rtol=0.01)
    assert whole.whisper_language.shape == (len(whole.clip), 99)


def test_recipe_end_to_end(corpus, tmp_path):
    encodings = tmp_path / "encodings.pt"
    report_path = tmp_path / "held_out.json"
    config = yaml.safe_load((ROOT / "configs" / "embedded.yaml").read_text())
    config["train"].update(epochs=5, patience=5)
    # Whisper base answers language and command itself: the accent (espeak's en-US and en-GB) is the head to train
    config_path = tmp_path / "embedded.yaml"
    config_path.write_text(yaml.safe_dump(config))
    subprocess.run([sys.executable, "-m", "speaksphere.training.encodings", "--manifest", str(corpus / "manifest.csv"),
                    "--out", str(encodings), "--processes", "2"], check=True, cwd=ROOT, timeout=900)
    subprocess.run([sys.executable, "-m", "speaksphere.training.held_out", "--config", str(config_path), "--manifest",
                    str(corpus / "manifest.csv"), "--encodings", str(encodings), "--out", str(report_path),
                    "--accented-english", "zh"],
                   check=True, cwd=ROOT, timeout=900)
    report = json.loads(report_path.read_text())
    assert set(report["voices"]) == {"asterisk:one"}  # the one real speaker is its own fold
    language = report["voices"]["asterisk:one"]["language"]
    assert set(language) == {"whisper", "whisper_unshifted"}  # no language head: Whisper's own ID answers
    assert language["whisper"]["recordings"] == 6 and language["whisper"]["recording_accuracy"] > 0.5  # chance: 0.5
    assert set(report["voices"]["asterisk:one"]["accent"]) == {"head"}
    assert 0.05 <= report["calibration"]["head/accent"]["temperature"] <= 20
    assert "head/accent" in report["summary"] and "whisper/language" in report["summary"]
    # the weight of Whisper's "zh" for English chosen on the held-out speech; Whisper unshifted reported beside
    assert set(report["calibration"]["whisper/language"]["accented_english"]) == {"zh"}
    assert [row["weight"] for row in report["accented_english"]][0] == 0.0
    assert "whisper_unshifted" in language and "whisper_unshifted/language" in report["summary"]

    output = tmp_path / "run"
    accelerate_launch("train.py", "--config", str(config_path), "--manifest", str(corpus / "manifest.csv"),
                      "--output-dir", str(output), "--encodings", str(encodings), "--calibration", str(report_path))
    assert (output / "model" / "model.safetensors").stat().st_size < 10_000_000  # heads only: no encoder
    predictor = load_model(output / "model")
    # calibrated: configs/embedded.yaml's language, accent and emotion, those this corpus has (not the command)
    assert set(predictor.model.config.temperatures) == set(predictor.model.config.short_speech_temperatures) \
        == {"language", "accent"}
    assert list(predictor.model.heads) == ["accent"]  # Whisper's own language ID and words answer the others
    result = predictor.analyze(corpus / "fr+m3-1.wav")
    assert max(result["language"], key=result["language"].get) == "fr"
    assert result["experimental"] == ["accent", "command"]  # configs/embedded.yaml's, of the tasks this corpus has


def test_temperature_scaling_lowers_the_calibration_error_of_an_overconfident_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 2000)
    logits = rng.normal(0, 1, (2000, 4))
    right = rng.random(2000) < 0.7
    logits[np.arange(2000), np.where(right, labels, (labels + 1) % 4)] += 8.0  # 70% right, ~100% sure
    probabilities = lambda t: torch.softmax(torch.tensor(logits) / t, -1).numpy()  # noqa: E731
    before = expected_calibration_error(probabilities(1.0), labels)
    temperature = fit_temperature(torch.tensor(logits), torch.tensor(labels))
    after = expected_calibration_error(probabilities(temperature), labels)
    assert before > 0.2 and after < 0.05 and temperature > 1

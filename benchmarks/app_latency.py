"""Cold start of the app to ready, and the latency of every API endpoint for a 10-second clip.

    python benchmarks/app_latency.py [--model DIR] [--repeats 5] [--seconds 10]

Starts `python app.py` in a subprocess (its own learner database in a temporary folder) and times it
from launch until the page answers: imports, model load and warm-up included. Then calls each endpoint
with gradio_client over loopback, as an outside client would (upload and figure transfer included),
`repeats` times after one untimed call, and prints the median and the range.

The model: --model, else the embedded speaksphere/model/speaksphere-small, else an untrained model of the
configs/tiny.yaml architecture (random weights: as fast as a trained one of that size, but its
predictions mean nothing). The output says which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench, beside this script

import numpy as np
import soundfile as sf

from bench import free_port, repeat, start_app, stop_app
from speaksphere.model import DEFAULT_MODEL_DIR
from speaksphere.tts import synthesize

SENTENCES = ("Please call Stella and ask her to bring these things with her from the store. "
             "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.")
TINY_TASKS = {"language": ["de", "en", "es", "fr", "it", "ru"], "accent": ["en-US", "en-GB", "L1-de", "L1-fr"],
              "emotion": ["neutral", "happy", "sad", "angry"], "command": ["yes", "no", "_unknown_", "_silence_"]}


def untrained_tiny_model(folder: Path) -> Path:
    """A model folder with the tiny.yaml architecture and random weights."""
    import torch
    import yaml
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

    from speaksphere.model import SpeakSphereConfig, SpeakSphereModel

    tiny = yaml.safe_load((ROOT / "configs" / "tiny.yaml").read_text())["model"]
    torch.manual_seed(0)
    backbone = Wav2Vec2Config(**tiny["backbone"]).to_dict()
    SpeakSphereModel(SpeakSphereConfig(backbone=backbone, tasks=TINY_TASKS, head_hidden=tiny["head_hidden"])
                     ).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)
    return folder


def clip(path: Path, voice: str, seconds: float) -> Path:
    """About `seconds` of English speech in `voice`, cut or padded with silence to exactly that length."""
    samples, rate = synthesize(SENTENCES, voice=voice)
    n = int(seconds * rate)
    samples = np.concatenate([samples, np.zeros(max(0, n - len(samples)), np.float32)])[:n]
    sf.write(path, samples, rate, subtype="PCM_16")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: embedded, else tiny)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the test clip")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

    folder = Path(tempfile.mkdtemp(prefix="speaksphere-app-latency-"))
    if args.model is not None:
        model, which = args.model, f"{args.model}"
    elif (DEFAULT_MODEL_DIR / "config.json").is_file():
        model, which = DEFAULT_MODEL_DIR, f"embedded {DEFAULT_MODEL_DIR.name}"
    else:
        model = untrained_tiny_model(folder / "tiny-model")
        which = "UNTRAINED tiny.yaml architecture (embedded speaksphere/model/speaksphere-small is absent)"
    attempt = handle_file(str(clip(folder / "attempt.wav", "en-gb", args.seconds)))
    other = handle_file(str(clip(folder / "attempt2.wav", "en-us+f3", args.seconds)))

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process, cold_s = start_app(port, model, folder)
    try:
        client = Client(url, verbose=False)
        learner = client.predict(api_name="/new_learner")
        recommendation = client.predict(learner, "en", api_name="/recommend")[0]["recommendation_id"]
        calls = {
            "/analyze": lambda: client.predict(attempt, learner, api_name="/analyze"),
            "/analysis_figures": lambda: client.predict(api_name="/analysis_figures"),  # of the latest /analyze
            "/pronounce": lambda: client.predict(attempt, "", SENTENCES, "en", None, learner, None,
                                                 api_name="/pronounce"),
            "/pronunciation_figures": lambda: client.predict(api_name="/pronunciation_figures"),
            "/compare": lambda: client.predict(attempt, other, "", SENTENCES, "en", None, learner, api_name="/compare"),
            "/recommend": lambda: client.predict(learner, "en", api_name="/recommend"),
            "/feedback": lambda: client.predict(learner, recommendation, True, api_name="/feedback"),
            "/history": lambda: client.predict(learner, api_name="/history"),
        }
        print(f"model: {which}")
        print(f"machine: {os.cpu_count()} CPU core(s); clip: {args.seconds:.0f} s of English speech (espeak-ng), "
              f"WAV 22.05 kHz; {args.repeats} timed calls per endpoint after one untimed call")
        print(f"cold start to ready: {cold_s:.1f} s "
              "(python app.py until the page answers: imports, model load, warm-up)")
        print(f"{'endpoint':<22} {'median s':>9} {'min s':>7} {'max s':>7}")
        for name, call in calls.items():
            times = repeat(call, args.repeats)  # after one untimed call: first transfer, caches
            print(f"{name:<22} {statistics.median(times):>9.2f} {min(times):>7.2f} {max(times):>7.2f}")
    finally:
        stop_app(process)


if __name__ == "__main__":
    main()

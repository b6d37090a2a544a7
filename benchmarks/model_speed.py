"""Forward time of a SpeakSphere model config against a wav2vec2-base-sized encoder, in the same run.

    python benchmarks/model_speed.py --config configs/tiny.yaml [--seconds 10] [--threads 1] [--repeats 7]
    python benchmarks/model_speed.py --model speaksphere/model/speaksphere-small    # a trained model folder

Both models have random weights (speed does not depend on them). Prints the median and spread of
each forward pass over `repeats` runs after one warm-up, their ratio, and the parameter counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import torch
from transformers import Wav2Vec2Config

from speaksphere.config import load_config
from speaksphere.model import SpeakSphereConfig, SpeakSphereModel

TASK_SIZES = {"language": 9, "accent": 15, "emotion": 4, "command": 37}  # label counts of the full corpus


def build(backbone: dict) -> SpeakSphereModel:
    tasks = {task: [str(i) for i in range(n)] for task, n in TASK_SIZES.items()}
    return SpeakSphereModel(SpeakSphereConfig(backbone=backbone, tasks=tasks)).eval()


@torch.inference_mode()
def time_forward(model: SpeakSphereModel, samples: int, repeats: int) -> list[float]:
    x = torch.randn(1, samples)
    model(x)  # warm-up: allocations, kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/tiny.yaml", help="a train.py config with model.backbone")
    parser.add_argument("--model", default=None, help="or a saved model folder (its own weights and heads)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from train import Experiment  # the experiment schema lives with the trainer

    torch.set_num_threads(args.threads)
    if args.model:
        from speaksphere.model import load_model

        candidate, label = load_model(args.model).model, "model " + Path(args.model).name
    else:
        candidate, label = build(dict(load_config(args.config, Experiment).model.backbone)), "config " + args.config
    reference = build(Wav2Vec2Config().to_dict())  # wav2vec2-base: 12 layers, 768 wide, 95M parameters
    samples = int(args.seconds * 16000)
    rows = []
    for name, model in ((label, candidate), ("wav2vec2-base (reference)", reference)):
        times = time_forward(model, samples, args.repeats)
        parameters = sum(p.numel() for p in model.parameters()) / 1e6
        rows.append((name, statistics.median(times), min(times), max(times), parameters))
    print(f"forward pass on {args.seconds:.0f} s of audio, {args.threads} thread(s), {args.repeats} runs")
    print(f"{'model':45s} {'median ms':>10s} {'min ms':>8s} {'max ms':>8s} {'params M':>9s}")
    for name, median, low, high, parameters in rows:
        print(f"{name:45s} {median * 1e3:10.1f} {low * 1e3:8.1f} {high * 1e3:8.1f} {parameters:9.2f}")
    print(f"ratio candidate / wav2vec2-base: {rows[0][1] / rows[1][1]:.3f}")


if __name__ == "__main__":
    main()

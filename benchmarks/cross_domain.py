"""How a trained model does on voices it never saw: per voice, per whole recording and per 4-s window.

    python benchmarks/cross_domain.py --model models/speaksphere-small \
        --manifest CORPUS/manifest-tts-only.csv [--per-voice 150] [--out reports/model/cross_domain.json]

For every test voice (real Asterisk speakers apart from synthetic ones) it runs the served path,
`Predictor.analyze` (VAD, 4-s windows, speech-weighted average), on up to `per_voice` recordings and
counts the language right per recording and per window with at least 1 s of speech; for real English
it also reports the accent head's answer (the Asterisk voice is US English). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import numpy as np
import torch

from speaksphere.audio import AudioError
from speaksphere.data.clips import CORPUS_LIMITS
from speaksphere.data.manifest import is_real, read_manifest
from speaksphere.model import load_model
from speaksphere.recording import load_recording

MIN_WINDOW_SPEECH_S = 1.0  # a window with less speech is not counted


def evaluate_voice(predictor, rows: list[dict]) -> dict:
    """Language accuracy over recordings and over windows, and the confusions, for one voice."""
    right = windows_right = windows = 0
    confusions: Counter = Counter()
    accents: Counter = Counter()
    for row in rows:
        try:
            recording = load_recording(row["audio"], CORPUS_LIMITS)
        except AudioError:
            continue
        result = predictor.analyze_recording(recording)
        guess = next(iter(result["language"]))
        right += guess == row["language"]
        confusions[guess] += 1
        if row["language"] == "en" and "accent" in result:
            accents[next(iter(result["accent"]))] += 1
        for window in result["windows"]:
            if window["speech_s"] >= MIN_WINDOW_SPEECH_S:
                windows += 1
                windows_right += next(iter(window["language"])) == row["language"]
    return {"recordings": len(rows), "language_accuracy": right / max(1, len(rows)),
            "windows": windows, "window_accuracy": windows_right / max(1, windows),
            "answers": dict(confusions.most_common()), "accent_answers": dict(accents.most_common())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the embedded model)")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--per-voice", type=int, default=150, help="recordings per test voice (seeded sample)")
    parser.add_argument("--synthetic-voices", type=int, default=40, help="synthetic test voices to sample")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    predictor = load_model(args.model)
    rows = [r for r in read_manifest(args.manifest, absolute=True)
            if r["split"] == "test" and r["language"] and not r["emotion"] and not r["augmentation"]]
    by_voice = defaultdict(list)
    for row in rows:
        by_voice[(row["voice"], row["language"], is_real(row))].append(row)
    rng = np.random.default_rng(0)
    synthetic = sorted(k for k in by_voice if not k[2])
    chosen = sorted(k for k in by_voice if k[2]) + [synthetic[i] for i in sorted(
        rng.choice(len(synthetic), min(args.synthetic_voices, len(synthetic)), replace=False))]
    results, start = {}, time.perf_counter()
    for voice, language, real in chosen:
        sample = by_voice[(voice, language, real)]
        sample = [sample[i] for i in sorted(rng.choice(len(sample), min(args.per_voice, len(sample)), replace=False))]
        results[f"{voice}/{language}"] = {"real": real, "language": language, **evaluate_voice(predictor, sample)}
        r = results[f"{voice}/{language}"]
        print(f"{'real' if real else 'tts '} {voice:38s} {language}: recordings {r['language_accuracy']:.1%} "
              f"of {r['recordings']}, windows {r['window_accuracy']:.1%} of {r['windows']}", flush=True)
    summary = {}
    for name, real in (("real", True), ("synthetic", False)):
        part = [r for r in results.values() if r["real"] == real]
        if part:
            n = sum(r["recordings"] for r in part)
            w = sum(r["windows"] for r in part)
            summary[name] = {"voices": len(part), "recordings": n, "windows": w,
                             "language_accuracy": sum(r["language_accuracy"] * r["recordings"] for r in part) / n,
                             "window_accuracy": sum(r["window_accuracy"] * r["windows"] for r in part) / max(1, w)}
            print(f"{name}: {summary[name]['language_accuracy']:.1%} of {n} recordings, "
                  f"{summary[name]['window_accuracy']:.1%} of {w} windows, {len(part)} voices")
    print(f"{time.perf_counter() - start:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "voices": results}, indent=2))


if __name__ == "__main__":
    main()

"""What Analyze's transcript costs: the listener writing down a 10-s clip, beside the analysis itself.

    python benchmarks/transcript_speed.py [--runs 5]

At one thread (torch and BLAS, as the app serves), on a 10-s clip (3 built-in English recordings cut
to 10 s, as benchmarks/figure_speed.py): the embedded model's analysis (`analyze_recording`, the
4-s windows' language, accent, emotion and command) and the transcript added in issue 39
(`coach.transcript.what_was_said`: Whisper base's encoder on the speech and greedy decoding), each
the median of --runs after one warm-up, the listener's encoder cache cleared before every run.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import soundfile as sf
import torch

from speaksphere.coach.transcript import what_was_said
from speaksphere.model import DEFAULT_MODEL_DIR, load_model
from speaksphere.pronounce.listener import _heard_states
from speaksphere.pronounce.references import LIBRARY_DIR, library
from speaksphere.recording import load_recording


def median_ms(work, runs: int) -> tuple[float, object]:
    """Median milliseconds of work() after a warm-up, and its last result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = [load_recording(str(LIBRARY_DIR / p.file)).wave for p in library("en")[:3]]
    buffer = io.BytesIO()
    sf.write(buffer, np.concatenate(clips * 4)[: 10 * 16000], 16000, format="WAV")
    recording = load_recording(buffer.getvalue())
    predictor = load_model(DEFAULT_MODEL_DIR)
    analysis_ms, predictions = median_ms(lambda: predictor.analyze_recording(recording), args.runs)

    def transcript():
        _heard_states.clear()  # a new recording every time, as in the app
        return what_was_said(recording, predictions["windows"])

    transcript_ms, said = median_ms(transcript, args.runs)
    print(f"{recording.duration_s:.1f}-s clip, "
          f"1 thread, median of {args.runs}:")
    print(f"| step | median ms |\n|---|---:|\n| analysis (model, 4-s windows) | {analysis_ms:.0f} |\n"
          f"| transcript (listener) | {transcript_ms:.0f} |\n| added by the transcript | "
          f"+{100 * transcript_ms / analysis_ms:.0f}% |")
    for stretch in said:
        print(f"{stretch['start']:.0f}-{stretch['end']:.0f} s {stretch['language']}: {stretch['text']}")


if __name__ == "__main__":
    main()

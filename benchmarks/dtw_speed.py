"""DTW speed: exact (numba) vs fastdtw (pure Python) on the same 1000 x 1000 frames, and a 5-s attempt.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/dtw_speed.py

Prints times (best of several runs after a warm-up) and the path costs, which must agree.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere.dtw import cost_matrix, dtw, dtw_fast  # noqa: E402


def best_of(function, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return min(times), value


def dtw_benchmark() -> None:
    rng = np.random.default_rng(0)
    # two smooth 13-dim sequences (random walks) of 1000 frames: 10 s of 10 ms frames each
    x = np.cumsum(rng.normal(size=(1000, 13)), axis=0)
    y = np.cumsum(rng.normal(size=(1000, 13)), axis=0)
    dtw(cost_matrix(x[:10], y[:10]))  # compile once
    t_matrix, cost = best_of(lambda: cost_matrix(x, y), 10)
    t_exact, exact = best_of(lambda: dtw(cost), 10)
    print("1000x1000 frames, 13 dims, 1 thread")
    print(f"  exact DTW (numba)        {1000 * t_exact:8.2f} ms   cost {exact.cost:.4f}   "
          f"(+ {1000 * t_matrix:.2f} ms for the cost matrix)")
    for radius in (1, 10):
        t_fast, fast = best_of(lambda radius=radius: dtw_fast(x, y, radius=radius), 2)
        print(f"  fastdtw radius {radius:2d} (py)   {1000 * t_fast:8.2f} ms   cost {fast.cost:.4f}   "
              f"exact is {t_fast / (t_exact + t_matrix):.0f}x faster (matrix included)")
    from fastdtw import dtw as fastdtw_exact

    t_full, (full_cost, _) = best_of(lambda: fastdtw_exact(x, y, dist=2), 1)
    print(f"  fastdtw.dtw exact (py)   {1000 * t_full:8.2f} ms   cost {full_cost:.4f}   "
          f"exact is {t_full / (t_exact + t_matrix):.0f}x faster (matrix included)")


def attempt_benchmark() -> None:
    from speaksphere.pronounce import golden_reference, score_pronunciation
    from speaksphere.tts import synthesize

    text = "could you please tell me the way to the railway station near the old market"
    wave, rate = synthesize(text, voice="en-gb+f2", rate_wpm=150)
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV")
    audio = buffer.getvalue()
    golden_reference(text, "en")
    score_pronunciation(audio, text=text)  # warm-up: reference analysed and cached, decoders built
    t_total, result = best_of(lambda: score_pronunciation(audio, text=text), 5)
    print(f"{len(wave) / rate:.1f}-s attempt, English with text (VAD, features, DTW, pocketsphinx x3, pitch), "
          f"1 thread: {1000 * t_total:.0f} ms (reference cached); overall {result['overall']}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    dtw_benchmark()
    attempt_benchmark()

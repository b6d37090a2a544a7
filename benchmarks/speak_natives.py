"""Free speech on real native speakers, and its speed.

    python benchmarks/speak_natives.py            # every built-in native recording, language not given
    python benchmarks/speak_natives.py --joined 30  # a language's recordings joined into ~30-s answers
    python benchmarks/speak_natives.py --speed    # 30 s of speech assessed at one thread, 3 runs

Natives: the library's real recordings (speaksphere/references/audio: one professional voice per language,
en, es, fr, it, ru, 8-kHz telephone band), each assessed as free speech with the language not given,
as `assess_speech(path)`. Prints per language: n, the language heard right, and the mean and lowest
pronunciation, fluency and overall. None of these recordings is in the calibration's data
(speechocean762's train split). Speed: native recordings with 0.6-s pauses joined to 30 s of audio,
assessed end to end (decoding, listening, measures, scores) with torch and BLAS at one thread, against
Whisper's encoder alone on the same audio in the same run (the ratio is what travels between machines).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speaksphere.audio import SAMPLE_RATE  # noqa: E402
from speaksphere.pronounce.references import LIBRARY_DIR, library  # noqa: E402
from speaksphere.speak import assess_speech  # noqa: E402
from validity import write_figures  # noqa: E402  (benchmarks/validity.py: the figures behind docs/VALIDITY.md)


def natives(joined_s: float = 0.0) -> None:
    """Each native recording as an answer, or (joined_s > 0) a language's recordings joined with 0.6-s
    pauses into answers of about joined_s seconds each."""
    from speaksphere.recording import load_audio

    results = defaultdict(list)
    answers = defaultdict(list)
    for phrase in library(topic="telephone"):  # the real recordings, not the learners' synthetic phrases
        if not joined_s:
            answers[phrase.language].append(str(LIBRARY_DIR / phrase.file))
            continue
        pieces = answers[phrase.language]
        if not pieces or sum(len(p) for p in pieces[-1]) / SAMPLE_RATE >= joined_s:
            pieces.append([])
        pieces[-1] += [load_audio(str(LIBRARY_DIR / phrase.file)), np.zeros(int(0.6 * SAMPLE_RATE), np.float32)]
    for language, items in answers.items():
        for item in items:
            r = assess_speech(item if isinstance(item, str) else _wav(np.concatenate(item)))
            results[language].append((r["language"] == language, r["pronunciation"], r["fluency"], r["overall"]))
    print(f"{'lang':<5}{'n':>4}{'language right':>16}{'pronunciation':>22}{'fluency':>16}{'overall':>16}")
    figures = {}
    for language, rows in sorted(results.items()):
        right, pron, flu, overall = (np.array(c, dtype=float) for c in zip(*rows))
        print(f"{language:<5}{len(rows):>4}{right.mean():>15.0%} {pron.mean():>12.1f} (min {pron.min():>4.0f})"
              f"{flu.mean():>8.1f} (min {flu.min():>3.0f}){overall.mean():>8.1f} (min {overall.min():>3.0f})")
        figures[language] = {"n": len(rows), "language_right": float(right.mean()),
                             **{name: {"mean": float(v.mean()), "min": float(v.min())}
                                for name, v in (("pronunciation", pron), ("fluency", flu), ("overall", overall))}}
    name = f"speak_natives_joined_{joined_s:g}s" if joined_s else "speak_natives"
    print(f"figures written to {write_figures(name, figures)}")


def _wav(wave: np.ndarray) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="WAV")
    return buffer.getvalue()


def speed(runs: int = 3) -> None:
    import threadpoolctl
    import torch

    from speaksphere.pronounce.listener import _encoder
    from speaksphere.recording import load_audio

    torch.set_num_threads(1)
    threadpoolctl.threadpool_limits(1)
    pieces, total = [], 0.0
    for phrase in library("en", topic="telephone"):
        wave = load_audio(str(LIBRARY_DIR / phrase.file))
        pieces += [wave, np.zeros(int(0.6 * SAMPLE_RATE), np.float32)]
        total += len(wave) / SAMPLE_RATE + 0.6
        if total >= 30.0:
            break
    wave = np.concatenate(pieces)[: 30 * SAMPLE_RATE]
    data = _wav(wave)
    assess_speech(data)  # warm: weights, numba, caches of the code (not of this audio: see below)
    timings, encoder = [], []
    for run in range(runs):
        noise = np.random.default_rng(run).standard_normal(len(wave)).astype(np.float32)
        noisy = _wav(wave + np.float32(1e-5 * (run + 1)) * noise)
        started = time.perf_counter()
        result = assess_speech(noisy)  # other bytes each run: no cached encoder states
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.inference_mode():
            _encoder()(torch.from_numpy(wave[: 29 * SAMPLE_RATE])[None])
        encoder.append(time.perf_counter() - started)
    print(f"30 s of speech ({len(result['words'])} words heard), one thread: assess_speech median "
          f"{np.median(timings):.2f} s (runs {', '.join(f'{t:.2f}' for t in timings)}); "
          "Whisper's encoder alone on 29 s "
          f"{np.median(encoder):.2f} s; ratio {np.median(timings) / np.median(encoder):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--joined", type=float, default=0.0, help="join a language's recordings into answers of "
                        "about this many seconds (with 0.6-s pauses)")
    args = parser.parse_args()
    speed() if args.speed else natives(args.joined)


if __name__ == "__main__":
    main()

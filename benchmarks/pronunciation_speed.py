"""How long scoring one 5-s attempt takes, everything on, in every language we teach (issue 20's speed target).

    python benchmarks/pronunciation_speed.py [--repeats 5] [--seconds 5]

Per language: the library phrase whose native reading is closest to `--seconds` (German, which the
library lacks: a typed text against its espeak-ng synthesis), read by each of three voices the
references don't use (benchmarks/pronunciation_languages.VOICES), scored against its golden reference with the
text: VAD, features, DTW, pitch, the listener (Whisper base: encoder, transcript, each word's
probability) and, in English, pocketsphinx's alignment, GOP and repetitions. One thread, as one
request of the app runs; the reference's analysis is cached (the app keeps it), so the first call is
untimed. Prints the median of `--repeats` calls, its parts, and the same run's reference: one pass of
Whisper base's encoder over that attempt, so the ratio says how many encoder passes scoring costs.
Each timed call hears a new recording (the listener's cache of encoder states is emptied first); the
"heard again" column is the same attempt scored once more with its states kept, as Compare scores an
attempt already scored on Pronounce.
The listener's time grows with what it cannot make out: a reading it hears as the text costs one
decoder pass, each word it hears otherwise a pass per token (the word error rate column says which).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pronunciation_languages import GERMAN, VOICES, _wav  # noqa: E402
from speaksphere.data.engines import render  # noqa: E402
from speaksphere.pronounce import library  # noqa: E402
from speaksphere.pronounce.listener import _heard_states  # noqa: E402
from speaksphere.pronounce.references import golden_reference, library_reference  # noqa: E402
from speaksphere.recording import load_recording  # noqa: E402

assess_module = importlib.import_module("speaksphere.pronounce.assess")  # the module (the package exports its function)

_timed: dict[str, list[float]] = defaultdict(list)


def _timing(name: str, function):
    """`function`, its time added to _timed[name] on every call."""
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _timed[name].append(time.perf_counter() - started)
    return timed


# the parts, as assess calls them (module attributes: the timing wraps exactly what scoring runs)
assess_module.hear = _timing("listener", assess_module.hear)
assess_module.align_english = _timing("English alignment + GOP", assess_module.align_english)
assess_module.repeated_words = _timing("English repetitions", assess_module.repeated_words)


def _speech_s(recording) -> float:
    return recording.segments[-1].end - recording.segments[0].start if recording.segments else 0.0


def attempt_for(language: str, engine: str, voice: str, seconds: float):
    """(reference, attempt recording): of the library's phrases (German: the typed texts) whose native
    reading is nearest `seconds`, the one whose reading by `voice` is nearest `seconds`."""
    if language == "de":
        references = [golden_reference(t, "de") for t in GERMAN]
    else:
        references = [library_reference(p.id) for p in library(language, topic="telephone")]
    references = sorted(references, key=lambda r: abs(_speech_s(r.recording) - seconds))[:4]
    readings = [(r, load_recording(_wav(render(engine, voice, r.text)))) for r in references]
    return min(readings, key=lambda pair: abs(_speech_s(pair[1]) - seconds))


def encoder_pass_s(wave: np.ndarray, repeats: int) -> float:
    """Median time of one Whisper base encoder pass over `wave` (the listener's own encoder)."""
    from speaksphere.pronounce.listener import _encoder

    samples = torch.from_numpy(np.asarray(wave, np.float32))[None]
    with torch.inference_mode():
        _encoder()(samples)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            _encoder()(samples)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--languages", nargs="*", default=list(VOICES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"One thread; median of {args.repeats} calls after one untimed call (reference analysed and cached)")
    print("| language | attempt | scoring | listener | English alignment | rest | encoder pass (ref.) | ratio "
          "| heard again | overall | word error rate heard |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for language in args.languages:
        for engine, voice in VOICES[language]:
            reference, recording = attempt_for(language, engine, voice, args.seconds)
            assess_module.assess(recording, reference, reference.text, language)  # untimed: caches, decoders
            _timed.clear()
            totals = []
            for _ in range(args.repeats):
                _heard_states.clear()  # a new recording each time: its encoder pass is paid
                started = time.perf_counter()
                result = assess_module.assess(recording, reference, reference.text, language).result
                totals.append(time.perf_counter() - started)
            parts = {name: statistics.median(times) for name, times in _timed.items()}
            again = []
            for _ in range(args.repeats):  # the states of the last call are kept
                started = time.perf_counter()
                assess_module.assess(recording, reference, reference.text, language)
                again.append(time.perf_counter() - started)
            listener = parts.get("listener", 0.0)
            english = parts.get("English alignment + GOP", 0.0) + parts.get("English repetitions", 0.0)
            total = statistics.median(totals)
            encoder = encoder_pass_s(assess_module.trim_silence(recording.wave, recording.segments), args.repeats)
            heard = result.get("heard", {}).get("word_error_rate")
            print(f"| {language} | {_speech_s(recording):.1f} s, {engine} {voice} | {1000 * total:.0f} ms | "
                  f"{1000 * listener:.0f} ms | {1000 * english:.0f} ms | "
                  f"{1000 * (total - listener - english):.0f} ms | "
                  f"{1000 * encoder:.0f} ms | {total / encoder:.1f} | {1000 * statistics.median(again):.0f} ms | "
                  f"{result['overall']:.0f} | "
                  f"{'-' if heard is None else f'{heard:.2f}'} |")


if __name__ == "__main__":
    main()

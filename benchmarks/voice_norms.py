"""What read speech of real people measures: the norms behind the voice's facts in words (coach/voice.py).

    python benchmarks/voice_norms.py CORPUS/manifest-heads-learners.csv [--out speaksphere/coach/voice_norms.json]

Takes every real recording of the manifest heard as recorded (no noise, no emotion rendition, no
telephone copy) that has a text: the corpus's native telephone prompts of at least three words and
speechocean762's learners reading (train speakers only: speaksphere.data.speechocean). Each is measured
as the app measures an attempt (coach.voice.voice_measures, its text standing for the transcript) and
the 10th, 50th and 90th percentiles of each measure are written, with n, as the norms.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speaksphere.audio import AudioError  # noqa: E402
from speaksphere.coach.voice import NORMS_PATH, voice_measures  # noqa: E402
from speaksphere.data.clips import CORPUS_LIMITS  # noqa: E402
from speaksphere.data.manifest import as_recorded, read_manifest  # noqa: E402
from speaksphere.recording import load_recording  # noqa: E402

SOURCES = {"speechocean762": "learners of English (Mandarin first language, speechocean762)",
           "asterisk": "native voices (telephone prompts)"}
MIN_WORDS = 3  # a prompt shorter than this (a digit, a letter) has no melody or pace to speak of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, default=NORMS_PATH)
    args = parser.parse_args()
    rows = [r for r in read_manifest(args.manifest, absolute=True)
            if as_recorded(r) and not r["augmentation"] and len(r["text"].split()) >= MIN_WORDS]
    if not rows:
        raise SystemExit(f"{args.manifest} has no real recording with a text of {MIN_WORDS} words or more")
    values, sources, speakers = {}, Counter(), {}
    for number, row in enumerate(rows):
        try:
            recording = load_recording(row["audio"], CORPUS_LIMITS)
        except AudioError:  # no speech found: a prompt of silence or a tone, nothing to measure
            continue
        transcript = [{"start": 0.0, "end": recording.duration_s, "language": row["language"], "text": row["text"]}]
        measured = voice_measures(recording, transcript)
        for name, value in measured.items():
            values.setdefault(name, []).append(value)
        sources[row["source"]] += bool(measured)
        speakers.setdefault(row["source"], set()).add(row["voice"])
        if (number + 1) % 500 == 0:
            print(f"{number + 1} of {len(rows)}", flush=True)
    described = " and ".join(f"{len(speakers[s])} {SOURCES.get(s, s)}" for s in sorted(sources))
    norms = {"source": f"{sum(sources.values())} readings by {described}",
             "measures": {name: {"p10": round(float(np.percentile(v, 10)), 2),
                                 "p50": round(float(np.percentile(v, 50)), 2),
                                 "p90": round(float(np.percentile(v, 90)), 2), "n": len(v)}
                          for name, v in sorted(values.items())}}
    args.out.write_text(json.dumps(norms, indent=1) + "\n")
    print(json.dumps(norms, indent=1))


if __name__ == "__main__":
    main()

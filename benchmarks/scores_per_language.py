"""Does the experts' calibration, fitted on English, favour a language? Clear readings of each, scored alike.

    python benchmarks/scores_per_language.py --measures-out clear.jsonl       # about 7 min on a busy 2-core machine
    python benchmarks/scores_per_language.py --from clear.jsonl               # the figures again, no scoring
    python benchmarks/scores_per_language.py --from clear.jsonl --natives natives.jsonl  # + the offsets on natives
    python benchmarks/scores_per_language.py --telephone --languages en es     # the readings at 8 kHz, as the natives'

The clear readings are the library's synthetic learners' phrases (build_learner_phrases.py: each kept only
where Whisper heard it word for word; Pico, MBROLA, Festival, Piper and RHVoice voices, 42-49 a language),
each scored as a typed text is (against espeak-ng's reading of its text), as the real natives of
`pronunciation_languages.py --real` are. Prints per language the mean scores, and each measure's offset
from English (the language's mean minus English's; Speak moves other languages by such offsets,
speaksphere/speak/CARD.md) largest first: where the calibration reads a language differently. A language
whose clear readings score like English's is not held back by the calibration; its natives' figures are
then about the recordings. With `--natives` (`pronunciation_languages.py --real --measures-out`'s file),
the natives' right readings' mean overall as scored and with these offsets taken from their measures
before the calibration reads them (the route Speak takes), measured, never chosen on them.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere import load_audio  # noqa: E402
from speaksphere.audio import SAMPLE_RATE  # noqa: E402
from speaksphere.data.augment import telephone  # noqa: E402
from speaksphere.pronounce import library, score_pronunciation  # noqa: E402
from speaksphere.pronounce.experts import expert_models  # noqa: E402
from speaksphere.pronounce.measures import SKILL_MEASURES  # noqa: E402
from speaksphere.pronounce.references import LIBRARY_DIR, synthesised_reference  # noqa: E402
from speaksphere.pronounce.scores import ScoreConfig  # noqa: E402

LANGUAGES = ("en", "es", "fr", "it", "de", "ru")
SCORES = ("overall", "accuracy", "fluency", "prosody")


def clear_readings(language: str, band_limited: bool = False):
    """Each of the language's synthetic library phrases read against its typed text: its scores and measures
    (band_limited: the reading through a telephone channel first, 300-3400 Hz at 8 kHz, as the natives' are)."""
    for phrase in sorted((p for p in library(language) if p.synthetic), key=lambda p: p.id):
        reference = synthesised_reference(phrase.text, language)
        attempt = str(LIBRARY_DIR / phrase.file)
        if band_limited:
            buffer = io.BytesIO()
            sf.write(buffer, telephone(load_audio(attempt)), SAMPLE_RATE, format="WAV", subtype="PCM_16")
            attempt = buffer.getvalue()
        result = score_pronunciation(attempt, reference=reference, text=phrase.text, language=language)
        yield {"language": language, "id": phrase.id, "voice": phrase.voice, **{k: result[k] for k in SCORES},
               "another_sentence": result.get("another_sentence"), "measures": result["details"]["measures"]}


def offsets(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per language but English, each skill measure's mean over its readings minus English's (missing
    values left out of the means; a measure missing in either language has offset 0)."""
    def means(language):
        chosen = [r["measures"] for r in rows if r["language"] == language]
        values = np.array([[np.nan if m.get(f) is None else m[f] for f in SKILL_MEASURES] for m in chosen], float)
        with warnings.catch_warnings():  # a measure missing in every reading: NaN, then offset 0
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.where(np.isfinite(values), values, np.nan), axis=0)

    english = means("en")
    return {language: dict(zip(SKILL_MEASURES, np.nan_to_num(means(language) - english).tolist()))
            for language in sorted({r["language"] for r in rows} - {"en"})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    parser.add_argument("--measures-out", type=Path, help="write each reading's scores and measures here (JSON lines)")
    parser.add_argument("--telephone", action="store_true", help="each reading through a telephone channel first")
    parser.add_argument("--natives", type=Path, help="the natives' measures: the offsets' effect on their overall")
    parser.add_argument("--from", dest="source", type=Path, help="read an earlier --measures-out instead of scoring")
    args = parser.parse_args()
    if "en" not in args.languages:
        sys.exit("offsets are measured from English: include en")
    started = time.time()
    if args.source:
        rows = [r for r in map(json.loads, open(args.source)) if r["language"] in args.languages]
    else:
        rows, sink = [], open(args.measures_out, "w") if args.measures_out else None
        for language in args.languages:
            for row in clear_readings(language, args.telephone):
                rows.append(row)
                if sink:
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()
    for language in args.languages:
        chosen = [r for r in rows if r["language"] == language]
        means = {k: np.mean([r[k] for r in chosen if r[k] is not None]) for k in SCORES}
        another = sum(bool(r["another_sentence"]) for r in chosen)
        print(f"{language}: n={len(chosen)} mean " + ", ".join(f"{k} {v:.1f}" for k, v in means.items())
              + f"; lowest overall {min(r['overall'] for r in chosen):.1f}; 'another sentence' {another}")
    for language, shift in offsets(rows).items():
        largest = sorted(shift.items(), key=lambda kv: -abs(kv[1]))[:5]
        print(f"  {language} largest offsets from English: " + ", ".join(f"{k} {v:+.3f}" for k, v in largest))
    if args.natives:
        natives_with_offsets(args.natives, offsets(rows))
    print(f"{time.time() - started:.0f} s")


def natives_with_offsets(path: Path, shifts: dict[str, dict[str, float]]) -> None:
    """Print each language's natives' right readings' mean overall as scored and with `shifts` taken from
    their measures before the calibration's overall (gated and capped as assess does)."""
    overall = expert_models().skills["overall"]
    natives = [r for r in map(json.loads, open(path)) if r["right"]]
    for language in sorted({r["language"] for r in natives}):
        scored, moved = [], []
        for r in (r for r in natives if r["language"] == language):
            m = {k: np.nan if v is None else v for k, v in r["measures"].items()}
            gate = min(1.0, (0.5 * m["skill_accuracy"] + 0.5 * m["skill_completeness"]) / 50.0)
            m = {k: v - shifts.get(language, {}).get(k, 0.0) for k, v in m.items()}
            value = float(np.clip(overall.predict([m])[0], 0, 100)) * gate
            scored.append(r["overall"])
            moved.append(min(value, ScoreConfig().another_sentence_cap) if r["another_sentence"] else value)
        print(f"  natives {language}: n={len(scored)} right readings' mean overall {np.mean(scored):.1f}, "
              f"with the offsets {np.mean(moved):.1f}")


if __name__ == "__main__":
    main()

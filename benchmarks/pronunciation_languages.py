"""Right text or another one, in every language we teach: library phrases read by voices the references don't use.

    python benchmarks/pronunciation_languages.py              # about 6 min on one core
    python benchmarks/pronunciation_languages.py --phrases 3  # a quick look
    python benchmarks/pronunciation_languages.py --real       # real voices: about 3 min
    python benchmarks/pronunciation_languages.py --real --measures-out natives.jsonl  # ... and each reading's measures

Per language, `--phrases` built-in phrases (German: typed phrases against espeak-ng's synthesis, the
library has no German recordings) are read by three synthetic voices of other engines (mbrola, pico,
espeak-ng variants; Russian: three espeak-ng variants and festival's voice). Each reading is scored
twice: against its own text (right) and against the next phrase's text (wrong). Prints, per language,
the ROC AUC of right vs wrong for the overall score and for the listener's relative log-probability, the
mean overall of right readings (and their mean and lowest prosody), and how often the result says
"another sentence" for wrong and for right readings. The voices need Debian packages (the benchmark's,
never the app's; contrib/non-free, see shared/DATA.md): libttspico-utils, mbrola with
mbrola-us1/es1/fr1/it3/de1/de2, festival and festvox-ru.

`--real` reads real voices instead: every built-in phrase's own recording (the Asterisk voices, 8-kHz
telephone prompts: Allison en and es, June fr, Carlo it, IvrvoiceRU ru) is the attempt, scored against
its own text and against the next phrase's text, each typed (reference: espeak-ng's reading of the text,
never the recording itself). German has no real recordings and is left out.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere.audio import SAMPLE_RATE  # noqa: E402
from speaksphere.data.engines import render  # noqa: E402
from speaksphere.pronounce import library, score_pronunciation  # noqa: E402
from speaksphere.pronounce.references import LIBRARY_DIR, synthesised_reference  # noqa: E402
from validity import write_figures  # noqa: E402  (benchmarks/validity.py: the figures behind docs/VALIDITY.md)

VOICES = {
    "en": [("mbrola", "mb-us1"), ("pico", "en-US"), ("espeak", "en-gb+m3")],
    "es": [("mbrola", "mb-es1"), ("pico", "es-ES"), ("espeak", "es+f2")],
    "fr": [("mbrola", "mb-fr1"), ("pico", "fr-FR"), ("espeak", "fr+m3")],
    "it": [("mbrola", "mb-it3"), ("pico", "it-IT"), ("espeak", "it+f3")],
    "de": [("mbrola", "mb-de1"), ("pico", "de-DE"), ("mbrola", "mb-de2")],
    # espeak-ng's Russian is hardly intelligible to Whisper (shared/DATA.md); festival's is the one other Russian voice
    "ru": [("espeak", "ru+m3"), ("espeak", "ru+f2"), ("espeak", "ru+m6"), ("festival", "msu_ru_nsh_clunits")],
}
GERMAN = ["Wie spät ist es bitte?", "Ich hätte gern ein Glas Wasser.", "Wo ist der nächste Bahnhof?",
          "Meine Schwester wohnt in einer kleinen Stadt.", "Wir gehen morgen früh ins Kino.",
          "Können Sie das bitte noch einmal sagen?"]


def texts(language: str, n: int) -> list[tuple[str, str | None]]:
    """(text, library phrase id or None) of `n` phrases: the library's shortest-first spread, or German's typed ones."""
    if language == "de":
        return [(t, None) for t in GERMAN[:n]]
    phrases = sorted(library(language, topic="telephone"), key=lambda p: p.id)  # the native recordings
    step = max(1, len(phrases) // n)
    return [(p.text, p.id) for p in phrases[::step][:n]]


def _wav(wave: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.concatenate([np.zeros(4000, np.float32), wave, np.zeros(4000, np.float32)]), SAMPLE_RATE,
             format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def readings(language: str, n: int, real: bool) -> Iterator[tuple[str, str | bytes, list[tuple[bool, object, str]]]]:
    """(voice name, attempt audio, [(right?, reference, text)]) of one language's readings.

    Synthetic: `n` phrases read by each of VOICES[language], against the reference the app would use.
    Real: every built-in phrase's own recording, against espeak-ng's reading of each typed text."""
    if real:
        phrases = sorted(library(language, topic="telephone"), key=lambda p: p.id)
        for k, phrase in enumerate(phrases):
            other = phrases[(k + 1) % len(phrases)]
            yield ("real:" + phrase.voice.split(" (")[0], str(LIBRARY_DIR / phrase.file),
                   [(True, synthesised_reference(phrase.text, language), phrase.text),
                    (False, synthesised_reference(other.text, language), other.text)])
        return
    chosen = texts(language, n)
    for engine, voice in VOICES[language]:
        for k, (text, phrase_id) in enumerate(chosen):
            other_text, other_id = chosen[(k + 1) % len(chosen)]
            yield f"{engine}:{voice}", _wav(render(engine, voice, text)), [(True, phrase_id, text),
                                                                          (False, other_id, other_text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phrases", type=int, default=6, help="phrases per language")
    parser.add_argument("--languages", nargs="*", default=list(VOICES))
    parser.add_argument("--verbose", action="store_true", help="print every reading's figures and transcript")
    parser.add_argument("--real", action="store_true", help="the built-in phrases' own (real) recordings as attempts")
    parser.add_argument("--measures-out", type=Path, default=None,
                        help="write each scoring's measures (details.measures) here, one JSON line a reading: "
                             "read by benchmarks/another_sentence_routes.py and scores_per_language.py --natives")
    args = parser.parse_args()
    dump = open(args.measures_out, "w") if args.measures_out else None
    if args.real:
        args.languages = [language for language in args.languages if library(language, topic="telephone")]
    start = time.time()
    summary = {}
    for language in args.languages:
        rows = []  # (right?, overall, listener, another sentence?, prosody)
        for voice, attempt, trials in readings(language, args.phrases, args.real):
            for right, reference, expected in trials:
                result = score_pronunciation(attempt, reference=reference, text=expected, language=language)
                listener = result["details"].get("listener_relative")
                if dump:
                    dump.write(json.dumps({"language": language, "voice": voice, "right": right, "text": expected,
                                           "overall": result["overall"],
                                           "another_sentence": result.get("another_sentence"),
                                           "transcript": result.get("heard", {}).get("transcript"),
                                           "measures": result["details"]["measures"]}) + "\n")
                rows.append((right, result["overall"], listener if listener is not None else np.nan,
                             bool(result.get("another_sentence")),
                             result["prosody"] if result["prosody"] is not None else np.nan))
                if args.verbose:
                    heard = result.get("heard", {})
                    print(f"  {'right' if right else 'wrong'} {voice} overall {result['overall']:.1f} "
                          f"listener {listener} WER {heard.get('word_error_rate')} | {expected} | "
                          f"{heard.get('transcript')}")
        right = np.array([r[0] for r in rows])
        overall = np.array([r[1] for r in rows])
        listener = np.array([r[2] for r in rows])
        flagged = np.array([r[3] for r in rows])
        prosody = np.array([r[4] for r in rows])
        row = {"n": len(rows), "auc_overall": roc_auc_score(right, overall),
               "auc_listener": roc_auc_score(right, listener) if np.isfinite(listener).all() else float("nan"),
               "right_mean_overall": float(overall[right].mean()),
               "right_prosody_mean": float(np.nanmean(prosody[right])),
               "right_prosody_min": float(np.nanmin(prosody[right])),
               "flagged_wrong": float(flagged[~right].mean()), "flagged_right": float(flagged[right].mean())}
        summary[language] = row
        print(f"{language}: n={row['n']} AUC overall {row['auc_overall']:.3f}, listener {row['auc_listener']:.3f}; "
              f"right readings mean overall {row['right_mean_overall']:.1f}, prosody {row['right_prosody_mean']:.1f} "
              f"(lowest {row['right_prosody_min']:.1f}); 'another sentence' on "
              f"{100 * row['flagged_wrong']:.0f}% of wrong, {100 * row['flagged_right']:.0f}% of right", flush=True)
    print(f"{time.time() - start:.0f} s")
    if reported_run(args, parser):  # the documented run only: a quick look never overwrites the report
        print(f"figures written to {write_figures('languages_real' if args.real else 'languages_synthetic', summary)}")


def reported_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> bool:
    """Is this run the one docs/VALIDITY.md reports: every language, the default number of phrases?"""
    return args.phrases == parser.get_default("phrases") and set(args.languages) >= {
        language for language in VOICES if not args.real or library(language, topic="telephone")}


if __name__ == "__main__":
    main()

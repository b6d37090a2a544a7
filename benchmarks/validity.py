"""The validity figures' files and the document made of them: docs/VALIDITY.md.

    python benchmarks/validity.py            # write docs/VALIDITY.md from reports/validity/*.json
    python benchmarks/validity.py --check    # exit 1 if docs/VALIDITY.md is not what the JSON makes

The validity scripts measure; each writes its figures with `write_figures` as one JSON file under
reports/validity/ (no timings; stable key order; floats rounded to 4 decimals), and this renderer turns
those files into docs/VALIDITY.md, as bench.py writes BENCHMARKS.md:
  synthetic_test.json       python benchmarks/pronunciation_validity.py --split test
  languages_synthetic.json  python benchmarks/pronunciation_languages.py
  languages_real.json       python benchmarks/pronunciation_languages.py --real
  speak_natives.json        python benchmarks/speak_natives.py
  speak_natives_joined_30s.json  python benchmarks/speak_natives.py --joined 30
  speechocean_test.json     python benchmarks/speechocean.py --report CACHE --json (a scored test-split cache)
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from speaksphere.skills import RESULT_SCORES as SKILLS  # the result's scores in the order results list them

FIGURES_DIR = ROOT / "reports" / "validity"
DOCUMENT = ROOT / "docs" / "VALIDITY.md"
DECIMALS = 4  # rounding of every float written: the figures, not the last bits of a float sum


def _rounded(value):
    """`value` with its floats rounded to DECIMALS, NaN as None (JSON has no NaN), dict keys kept in order."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DECIMALS)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def write_figures(name: str, figures: dict, folder: Path = FIGURES_DIR) -> Path:
    """Write a validity script's figures as reports/validity/<name>.json, with the command that measured
    them (`sys.argv`, from the repository root) and the date; returns the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    script = Path(sys.argv[0]).resolve()
    command = " ".join(["python", str(script.relative_to(ROOT) if script.is_relative_to(ROOT) else script.name),
                        *sys.argv[1:]])
    payload = {"command": command, "measured": datetime.date.today().isoformat(), "figures": _rounded(figures)}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_figures(folder: Path = FIGURES_DIR) -> dict[str, dict]:
    """Every reports/validity/<name>.json as {name: {"command", "measured", "figures"}}."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


# ---- the document ----

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "it": "Italian", "de": "German", "ru": "Russian"}
KIND_NAMES = {"native": "native reading (level 0)", "sub": "one phone substituted (1)", "drop": "one word dropped (1)",
              "repeat": "one word repeated (1)", "pause": "a 1-s pause (1)", "double": "two errors (2)",
              "accented": "heavily accented (3)", "wrong": "another text (4)"}


def _number(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(share) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def _in_order(rows: dict, order: dict) -> list[tuple[str, dict]]:
    """`rows`' items in `order`'s key order (the JSON's keys are sorted), any other key after them."""
    return sorted(rows.items(), key=lambda item: list(order).index(item[0]) if item[0] in order else len(order))


def _measured(entry: dict) -> str:
    return f"Measured {entry['measured']} by `{entry['command']}`."


def _missing(command: str) -> str:
    return f"Not measured yet: `{command}` writes these figures."


def synthetic_section(entry: dict | None) -> list[str]:
    """The graded synthetic set: method, headline figures and mean scores by kind of reading."""
    lines = ["## A graded synthetic set", "",
             "300 readings of six English phrases by voices the references never use (mbrola, flite and pico), "
             "at five error levels fixed before any result was seen: 0 a native reading, 1 one injected error "
             "(a phone substituted through espeak-ng's phoneme input, a word dropped or repeated, a 1-s pause), "
             "2 two errors, 3 a heavily accented reading (mbrola voices of other languages reading English), 4 "
             "another text. Spearman of the overall with the level (target magnitude 0.85), ROC AUC of right "
             "against another text (target 0.95), and how often the worst segment is the injected word "
             "(target 70%). The levels rank a heavy accent below two errors, which experts do not: an accented "
             "reading whose words come across is rated above one with two words wrong, so the Spearman is "
             "also given without the accented readings and with them graded as one error.", ""]
    if entry is None:
        return lines + [_missing("python benchmarks/pronunciation_validity.py --split test"), ""]
    f = entry["figures"]
    worst = f["worst_segment_on_error"]
    lines += [_measured(entry), "", "| figure | value |", "| --- | ---: |",
              f"| Spearman, overall vs error level (n = {f['attempts']}) | {f['spearman']:.3f} |",
              f"| ... without the accented readings (n = {f['spearman_without_accented']['n']}) "
              f"| {f['spearman_without_accented']['value']:.3f} |",
              f"| ... the accented readings graded as one error | {f['spearman_accented_as_one_error']:.3f} |",
              f"| AUC right vs another text ({f['n_right']} right, {f['n_wrong']} another) "
              f"| {f['auc_right_vs_wrong']:.3f} |",
              f"| worst segment on the injected word (n = {worst['n']}) | {100 * worst['share']:.1f}% |"]
    lines += [f"| ... {KIND_NAMES[kind]} (n = {worst[kind]['n']}) | {100 * worst[kind]['share']:.1f}% |"
              for kind in ("sub", "drop", "repeat") if kind in worst]
    lines += ["", "Mean scores (0-100) by kind of reading (\"-\" where no reading of the kind has that score):", "",
              "| reading | n | " + " | ".join(SKILLS) + " |", "| --- | ---: |" + " ---: |" * len(SKILLS)]
    lines += [f"| {KIND_NAMES[kind]} | {row['n']} | " + " | ".join(_number(row[s]) for s in SKILLS) + " |"
              for kind, row in _in_order(f["mean_scores"], KIND_NAMES)]
    return lines + [""]


def languages_section(real: dict | None, synthetic: dict | None) -> list[str]:
    """Right text or another in every language taught: real native recordings, then synthetic voices."""
    lines = ["## Every language taught: the right text or another", "",
             "Each reading is scored twice, against its own typed text (right) and against the next phrase's "
             "(another text). **Real native speakers** (`--real`): each of the phrase library's real recordings "
             "(8-kHz telephone prompts of one professional voice per language: Allison en and es, June fr, Carlo "
             "it, IvrvoiceRU ru), against espeak-ng's reading of the text, never the recording itself. "
             "**Synthetic voices**: six phrases per language read by three voices of engines the references "
             "never use (mbrola, pico, espeak-ng variants; Russian also festival's), against the reference the "
             "app would use (German: typed phrases, the library has no German recordings). Per language: ROC "
             "AUC of right vs another text by the overall and by the listener's relative log-probability, the "
             "right readings' mean overall and prosody, and how often \"another sentence\" is said.", ""]
    for title, entry, command in (("Real native speakers", real, "python benchmarks/pronunciation_languages.py --real"),
                                  ("Synthetic voices", synthetic, "python benchmarks/pronunciation_languages.py")):
        lines += [f"### {title}", ""]
        if entry is None:
            lines += [_missing(command), ""]
            continue
        lines += [_measured(entry), "",
                  "| language | scorings | AUC overall | AUC listener | right: mean overall | right: prosody mean "
                  "(lowest) | \"another sentence\": another text | ... right text |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for language, row in _in_order(entry["figures"], LANGUAGE_NAMES):
            lines.append(f"| {LANGUAGE_NAMES.get(language, language)} | {row['n']} | {_number(row['auc_overall'], 3)} "
                         f"| {_number(row['auc_listener'], 3)} | {_number(row['right_mean_overall'])} "
                         f"| {_number(row['right_prosody_mean'])} ({_number(row['right_prosody_min'])}) "
                         f"| {_percent(row['flagged_wrong'])} | {_percent(row['flagged_right'])} |")
        lines.append("")
    return lines


def _speak_table(entry: dict, counted: str) -> list[str]:
    """One row per language of speak_natives.py's figures: n, language right, mean (lowest) of each score."""
    lines = [f"| language | {counted} | language right | pronunciation (lowest) | fluency (lowest) "
             "| overall (lowest) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for language, row in _in_order(entry["figures"], LANGUAGE_NAMES):
        scores = " | ".join(f"{_number(row[skill]['mean'])} ({_number(row[skill]['min'], 0)})"
                            for skill in ("pronunciation", "fluency", "overall"))
        lines.append(f"| {LANGUAGE_NAMES.get(language, language)} | {row['n']} | {_percent(row['language_right'])} "
                     f"| {scores} |")
    return lines


def speak_section(entry: dict | None, joined: dict | None = None) -> list[str]:
    """Free speech (no text) on real native speakers: each recording, and (`joined`) a language's recordings
    joined into answers of about 30 s."""
    lines = ["## Free speech on real native speakers", "",
             "`assess_speech` with no text and the language not given, on each of the phrase library's real "
             "recordings (one professional voice per language, 8-kHz telephone band; none of them in the "
             "calibration's data, speechocean762's train split). Per language: the share whose language is "
             "heard right, and the mean (lowest) pronunciation, fluency and overall, 0-100. The fit's own "
             "figures, out of fold on the learners, are in "
             "[speaksphere/speak/CARD.md](../speaksphere/speak/CARD.md).", ""]
    if entry is None:
        return lines + [_missing("python benchmarks/speak_natives.py"), ""]
    lines += [_measured(entry), "", *_speak_table(entry, "n")]
    if joined is not None:
        lines += ["", "The same recordings joined with 0.6-s pauses into answers of about 30 s (a native's pauses "
                  f"between sentences count as pauses, as a learner's would). {_measured(joined)}", "",
                  *_speak_table(joined, "answers")]
    return lines + [""]


def speechocean_section(entry: dict | None) -> list[str]:
    """Real learners rated by experts: speechocean762's test split, where the calibration is measured."""
    lines = ["## Real learners rated by experts", "",
             "speechocean762: Mandarin-L1 children and adults reading English, each reading rated by five "
             "experts. The scores are fitted on its train split (`benchmarks/fit_experts.py`, folds by speaker) "
             "and measured on its test split. Each rated reading is scored against its own text and against "
             "another reading's text; Pearson and Spearman of each skill with the experts' (x10), of each word's "
             "score with their word accuracy, AUC of right vs another text, and children against adults.", ""]
    command = "python benchmarks/speechocean.py --root DIR --ratings TSV --cache so-test.jsonl"
    if entry is None:
        return lines + [f"Not in this document yet: the test split has not been scored with the shipped code. "
                        f"`{command}` scores it (the corpus is not in the repository), then "
                        f"`python benchmarks/speechocean.py --report so-test.jsonl --json` writes its figures here. "
                        "The out-of-fold figures on the train split, which chose the calibration, are in "
                        "[speaksphere/pronounce/EXPERTS.md](../speaksphere/pronounce/EXPERTS.md).", ""]
    f = entry["figures"]
    lines += [_measured(entry), "",
              f"{f['n_right']} right readings of {f['speakers']} speakers, {f['n_wrong']} of another text, "
              f"{f['errors']} refused.", "", "| figure | Pearson | Spearman | n |", "| --- | ---: | ---: | ---: |"]
    for skill in ("accuracy", "fluency", "prosody", "completeness", "overall", "word_accuracy"):
        row = f[skill]
        lines.append(f"| {skill.replace('_', ' ')} | {_number(row['pearson'], 3)} | {_number(row['spearman'], 3)} "
                     f"| {row['n']} |")
    if "auc" in f:
        lines += ["", f"Right vs another text: AUC {f['auc']:.3f}; \"another sentence\" on "
                      f"{100 * f['another_sentence_right']:.1f}% of right readings and "
                      f"{100 * f['another_sentence_wrong']:.1f}% of readings of another text."]
    if "children_minus_adults" in f:
        gap = f["children_minus_adults"]
        lines += ["", f"Children minus adults, mean overall: ours {gap['ours']:+.1f}, "
                      f"the experts' {gap['experts']:+.1f}."]
    return lines + [""]


def render(figures: dict[str, dict]) -> str:
    """docs/VALIDITY.md's text from read_figures()'s files."""
    sources = ", ".join(f"reports/validity/{name}.json" for name in figures) or "no files yet"
    lines = [f"_Generated by `python benchmarks/validity.py` from {sources}: do not edit; run the validity "
             "scripts, then that command._", "", "# Validity of the scores", "",
             "How far the scores can be trusted, by four yardsticks, each measured by a script that writes its "
             "figures to reports/validity/ (`benchmarks/validity.py` lists them). Speed is in "
             "[BENCHMARKS.md](../BENCHMARKS.md); the embedded model's figures are in its "
             "[card](../speaksphere/model/speaksphere-small/MODEL_CARD.md).", ""]
    lines += speechocean_section(figures.get("speechocean_test"))
    lines += languages_section(figures.get("languages_real"), figures.get("languages_synthetic"))
    lines += synthetic_section(figures.get("synthetic_test"))
    lines += speak_section(figures.get("speak_natives"), figures.get("speak_natives_joined_30s"))
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the document is not what the JSON makes")
    parser.add_argument("--out", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    text = render(read_figures())
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out} is {'up to date' if same else 'stale: run python benchmarks/validity.py'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

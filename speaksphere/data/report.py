"""The data report: `python -m speaksphere.data.report --manifest M --out reports/data`.

Writes OUT/README.md (tables and the figures below), OUT/summary.json (clips, hours and distinct
voices per task, class and split; clips per voice and split; sources) and PNG figures: class balance
per task and split, clip durations per source, sources behind each class, example spectrograms.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import numpy as np
from matplotlib.figure import Figure

from ..audio import FRAME_RATE, log_mel_spectrogram, read_audio
from .labels import TASKS, VOCABULARIES
from .manifest import SPLITS, read_manifest
from .splits import voice_overlap

__all__ = ["summarise", "write_report", "main"]


def summarise(rows: Sequence[dict[str, str]]) -> dict:
    """Counts of a manifest: totals, and per task -> class -> split {clips, hours, voices}."""
    splits = [s for s in SPLITS if any(r["split"] == s for r in rows)] + \
        sorted({r["split"] for r in rows} - set(SPLITS))
    summary: dict = {
        "clips": len(rows), "hours": round(sum(float(r["duration_s"] or 0) for r in rows) / 3600, 3),
        "voices": len({r["voice"] for r in rows}),
        "real_voices": sorted({r["voice"] for r in rows if r["real"] == "1"}),
        "splits": {s: sum(r["split"] == s for r in rows) for s in splits},
        "sources": dict(Counter(r["source"] for r in rows).most_common()),
        "voices_in_two_splits": sorted(voice_overlap(rows)), "tasks": {},
    }
    for task in TASKS:
        table: dict = {}
        labels = [c for c in VOCABULARIES[task] if any(r[task] == c for r in rows)]
        for label in labels:
            mine = [r for r in rows if r[task] == label]
            table[label] = {split: {
                "clips": sum(r["split"] == split for r in mine),
                "hours": round(sum(float(r["duration_s"]) for r in mine if r["split"] == split) / 3600, 4),
                "voices": len({r["voice"] for r in mine if r["split"] == split}),
                "real_clips": sum(r["split"] == split and r["real"] == "1" for r in mine),
            } for split in splits}
        summary["tasks"][task] = table
    per_voice: dict = defaultdict(Counter)
    for r in rows:
        per_voice[r["voice"]][r["split"]] += 1
    summary["per_voice"] = {v: dict(c) for v, c in sorted(per_voice.items())}
    return summary


def _bar_balance(summary: dict, task: str) -> Figure:
    table = summary["tasks"][task]
    labels, splits = list(table), list(summary["splits"])
    figure = Figure(figsize=(max(6, 0.35 * len(labels) + 2), 3.6), layout="constrained")
    axes = figure.subplots()
    x = np.arange(len(labels))
    for i, split in enumerate(splits):
        axes.bar(x + (i - 1) * 0.27, [table[c][split]["clips"] for c in labels], 0.27, label=split)
    axes.set_xticks(x, labels, rotation=60 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
    axes.set_ylabel("clips")
    axes.set_title(f"{task}: clips per class and split")
    axes.legend()
    return figure


def _durations(rows: Sequence[dict[str, str]]) -> Figure:
    figure = Figure(figsize=(7, 3.6), layout="constrained")
    axes = figure.subplots()
    by_source = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append(float(r["duration_s"]))
    bins = np.linspace(0, max(10.0, max((max(v) for v in by_source.values()), default=10)), 40)
    for source, values in sorted(by_source.items()):
        axes.hist(values, bins=bins, histtype="step", linewidth=1.5, label=f"{source} ({len(values)})")
    axes.set_xlabel("clip duration (s)")
    axes.set_ylabel("clips")
    axes.set_yscale("log")
    axes.set_title("Durations per source")
    axes.legend(fontsize=8)
    return figure


def _sources_per_class(rows: Sequence[dict[str, str]], task: str) -> Figure:
    labels = [c for c in VOCABULARIES[task] if any(r[task] == c for r in rows)]
    sources = sorted({r["source"] for r in rows if r[task]})
    figure = Figure(figsize=(max(6, 0.35 * len(labels) + 2), 3.6), layout="constrained")
    axes = figure.subplots()
    bottom = np.zeros(len(labels))
    for source in sources:
        counts = np.array([sum(r[task] == c and r["source"] == source for r in rows) for c in labels], float)
        axes.bar(labels, counts, bottom=bottom, label=source)
        bottom += counts
    axes.tick_params(axis="x", rotation=60 if len(labels) > 8 else 0)
    axes.set_ylabel("clips")
    axes.set_title(f"{task}: sources behind each class (all splits)")
    axes.legend(fontsize=8)
    return figure


def _spectrograms(rows: Sequence[dict[str, str]], base: Path, task: str, n: int = 4) -> Figure | None:
    picks = []
    for label in VOCABULARIES[task]:
        found = [r for r in rows if r[task] == label and not r["augmentation"]]
        if found:
            picks.append((label, found[0]))
        if len(picks) == n:
            break
    if not picks:
        return None
    figure = Figure(figsize=(3.2 * len(picks), 2.8), layout="constrained")
    for axes, (label, row) in zip(np.atleast_1d(figure.subplots(1, len(picks))), picks):
        wave, _ = read_audio(base / row["audio"])
        mel = log_mel_spectrogram(wave)
        axes.imshow(mel, origin="lower", aspect="auto", extent=(0, mel.shape[1] / FRAME_RATE, 0, mel.shape[0]))
        axes.set_title(f"{label}\n{row['voice']}", fontsize=8)
        axes.set_xlabel("s")
    figure.suptitle(f"{task}: example log-mel spectrograms (same sentence where possible)")
    return figure


def _table(summary: dict, task: str) -> list[str]:
    splits = list(summary["splits"])
    head = "| class | " + " | ".join(f"{s} clips / voices / h" for s in splits) + " |"
    lines = [head, "|" + " --- |" * (len(splits) + 1)]
    for label, cells in summary["tasks"][task].items():
        lines.append(f"| {label} | " + " | ".join(
            f"{cells[s]['clips']} / {cells[s]['voices']} / {cells[s]['hours']:.2f}" for s in splits) + " |")
    return lines


def write_report(manifest: Path, out: Path, build_info: Path | None = None) -> dict:
    """Write README.md, summary.json and PNG figures for `manifest` into `out`; returns the summary."""
    rows = read_manifest(manifest)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows)
    info_path = build_info or manifest.parent / "build_info.json"
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        # the build's wall-clock seconds are printed, not kept: a report holds what the corpus is
        print(f"corpus built in {info.get('seconds')} s ({info.get('prepare_seconds')} s preparing)")
        summary["build"] = {k: info.get(k) for k in ("bytes", "clips", "failed", "engines")}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    figures = {"durations.png": _durations(rows)}
    for task in TASKS:
        if summary["tasks"][task]:
            figures[f"balance_{task}.png"] = _bar_balance(summary, task)
            figures[f"sources_{task}.png"] = _sources_per_class(rows, task)
    for task in ("emotion", "language"):
        figure = _spectrograms(rows, manifest.parent, task)
        if figure is not None:
            figures[f"spectrograms_{task}.png"] = figure
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=80)
    lines = [f"# Data report: {manifest.name}", "",
             f"{summary['clips']} clips, {summary['hours']:.2f} h, {summary['voices']} distinct voices "
             f"({len(summary['real_voices'])} real: {', '.join(summary['real_voices']) or 'none'}).",
             "Splits: " + ", ".join(f"{s} {n}" for s, n in summary["splits"].items())
             + f". Voices in more than one split: {len(summary['voices_in_two_splits'])}.",
             "Sources: " + ", ".join(f"{s} {n}" for s, n in summary["sources"].items()) + "."]
    if "build" in summary:
        build = summary["build"]
        lines.append(f"Build: {build['bytes'] / 1e6:.0f} MB of audio, "
                     f"engines {build['engines']}, failed clips {build['failed']}.")
    lines += ["", "![durations](durations.png)", ""]
    for task in TASKS:
        if summary["tasks"][task]:
            lines += [f"## {task}", "", *_table(summary, task), "",
                      f"![balance](balance_{task}.png)", f"![sources](sources_{task}.png)", ""]
            if f"spectrograms_{task}.png" in figures:
                lines += [f"![spectrograms](spectrograms_{task}.png)", ""]
    (out / "README.md").write_text("\n".join(lines))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True, type=Path, help="manifest.csv of a corpus")
    parser.add_argument("--out", default=Path("reports/data"), type=Path,
                        help="folder for README.md, summary.json, PNGs")
    args = parser.parse_args(argv)
    summary = write_report(args.manifest, args.out)
    print(f"{summary['clips']} clips, {summary['hours']} h, {summary['voices']} voices -> {args.out}")


if __name__ == "__main__":
    main()

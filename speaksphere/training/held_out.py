"""Honest figures: leave one real voice out, train on everything else, test on the voice held out.

    python -m speaksphere.training.held_out --config configs/embedded.yaml --manifest CORPUS/manifest.csv \
        --encodings runs/encodings.pt --out speaksphere/model/speaksphere-small/test/held_out.json

For each real voice (Allison, who speaks English and Spanish, June, Carlo, IvrvoiceRU), the heads are
trained on the synthetic voices of the train split and every other real voice, stopped early on the
synthetic val voices, and tested on the held-out voice's recordings (every 4-s window, and each
recording as the app judges it: windows weighted by their seconds of speech) and on the synthetic test
voices. Temperatures are fitted on the pooled out-of-fold predictions of the real voices and the
synthetic val voices; the expected calibration error is reported before and after, the "after" of each
voice with a temperature fitted without that voice. On Whisper base the language is Whisper's own
language ID (restricted to our labels, "whisper"), reported with and without English's share of
accented speech (accented_english, "whisper_unshifted"), and the other tasks are the heads' ("head");
on another encoder every task is a head's.

It replaces the TTS-only test (every real voice in test, none in training), which measured how far
synthetic voices carry to real ones but left the shipped model without any real voice to learn from.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ..config import load_config
from ..data.labels import IGNORE_INDEX, VOCABULARIES
from ..data.manifest import as_recorded, is_real, is_rendition, read_manifest
from ..data.speechocean import SOURCE as LEARNERS
from ..whisper.language import language_log_probabilities
from .choose import choose_gate, choose_shift, gate_parts, shifted
from .encodings import Encodings, load_encodings
from .experiment import Experiment, build_model
from .heads import WindowSet, fit_heads, predict_logits, window_set
from .out_of_fold import Part, answers_heard, calibration, figures, people, synthetic_people, synthetic_shares

__all__ = ["folds", "run_fold", "main"]

log = logging.getLogger("speaksphere.training.held_out")
ARMS = ("head", "head_ungated", "whisper", "whisper_unshifted")  # where a held-out answer comes from
LEARNER_FOLDS = 5  # speechocean762's train speakers are held out in this many folds, by speaker


def folds(rows: list[dict[str, str]], learner_folds: int = LEARNER_FOLDS) -> dict[str, np.ndarray]:
    """Held-out unit -> its rows' indices: each real voice of the corpus, and the learners'
    speakers (speechocean762) in `learner_folds` folds by speaker ("speechocean762/1", ...)."""
    learners = sorted({row["voice"] for row in rows if is_real(row) and row.get("source") == LEARNERS})
    fold_of = {voice: f"{LEARNERS}/{i % learner_folds + 1}" for i, voice in enumerate(learners)}
    found = defaultdict(list)
    for index, row in enumerate(rows):
        if is_real(row):
            found[fold_of.get(row["voice"], row["voice"])].append(index)
    return {voice: np.array(indices) for voice, indices in sorted(found.items())}


def _tasks(rows: list[dict[str, str]], clips: np.ndarray, wanted: list[str]) -> dict[str, list[str]]:
    present = {task: {rows[c][task] for c in clips if rows[c].get(task)} for task in wanted}
    return {task: [label for label in VOCABULARIES[task] if label in present[task]]
            for task in wanted if len(present[task]) >= 2}


def run_fold(config: Experiment, rows, encodings: Encodings, train_clips, val_clips,
             tests: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Train heads on `train_clips`, stop on `val_clips`; returns (tasks, {test name: (WindowSet, logits)}),
    the logits of the heads' tasks only (not those Whisper answers: whisper_logits, benchmarks/command_words.py)."""
    tasks = _tasks(rows, train_clips, config.data.tasks)
    model = build_model(config.model, tasks, [{**rows[c], "split": "train"} for c in train_clips])
    train = window_set(encodings, rows, train_clips, tasks, every_window=True)
    val = window_set(encodings, rows, val_clips, tasks, every_window=False)
    t = config.train
    fit_heads(model, train, val, t.epochs, t.batch_size, t.learning_rate, t.weight_decay, t.warmup_ratio, t.patience,
              t.seed, report=log.debug)
    found = {}
    for name, clips in tests.items():
        data = window_set(encodings, rows, clips, tasks, every_window=True, whatever_speech=True)
        logits = predict_logits(model, data)
        found[name] = (data, {task: values for task, values in logits.items() if task not in model.whisper_tasks})
    return tasks, found


def whisper_logits(data: WindowSet, labels: list[str]) -> torch.Tensor:
    """Whisper's own language ID restricted to `labels`: (n, n_labels) log-probabilities."""
    return language_log_probabilities(data.whisper_language, labels)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--encodings", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--accented-english", default="", help="a language Whisper knows and the labels do not "
                        "(e.g. zh) whose probability, weighted as chosen on the held-out speech, counts for English")
    parser.add_argument("--accent-gate", default="", help="LABEL:CODE, e.g. L1-zh:zh: the accent LABEL only where "
                        "Whisper's log-probability of language CODE reaches a threshold chosen on the held-out speech")
    parser.add_argument("--reuse", type=Path, help="an earlier --out report whose .parts.pt file holds the folds' "
                        "answers: choose, calibrate and report again without training")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = load_config(args.config, Experiment)
    rows = read_manifest(args.manifest, absolute=True)
    encodings = load_encodings(args.encodings, [r["audio"] for r in rows])
    if args.reuse:
        report, out_of_fold = reused(args.reuse, encodings, rows)
    else:
        report, out_of_fold = run_folds(config, rows, encodings)
        save_parts(out_of_fold, args.out.with_suffix(".parts.pt"))  # to choose and calibrate again without training
    finish(report, out_of_fold, encodings, rows, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    if not args.reuse:
        print(json.dumps(report["summary"], indent=1))
        print(json.dumps(report["people"], indent=1))
    log.info("wrote %s", args.out)


def reused(path: Path, encodings: Encodings, rows: list[dict[str, str]]) -> tuple[dict, dict]:
    """An earlier report's per-voice figures and its saved out-of-fold parts, before any choice."""
    report = {key: value for key, value in json.loads(path.read_text()).items()
              if key in ("voices", "synthetic", "emotion_renditions", "synthetic_answers")}
    out_of_fold = load_parts(path.with_suffix(".parts.pt"), encodings, rows)
    for chosen, raw in ((("head", "accent"), ("head_ungated", "accent")),
                        (("whisper", "language"), ("whisper_unshifted", "language"))):
        if raw in out_of_fold:  # a report of an earlier version saved its parts after choosing: take the raw ones
            out_of_fold[chosen] = out_of_fold.pop(raw)
    return report, out_of_fold


def run_folds(config: Experiment, rows: list[dict[str, str]], encodings: Encodings) -> tuple[dict, dict]:
    """Every fold trained and tested: the report's per-voice figures and (arm, task) -> [Part]."""
    synthetic = np.array([not is_real(r) for r in rows])
    split = np.array([r["split"] for r in rows])
    val_clips = np.flatnonzero(synthetic & (split == "val"))
    synthetic_test = np.flatnonzero(synthetic & (split == "test"))
    # the real voices' own recordings: no added noise or reverberation, no emotion re-rendering (those
    # WORLD renditions of real prompts test the emotion head only, apart)
    plain = np.array([as_recorded(r) for r in rows])  # as recorded, or through a telephone band (learners)
    rendered = np.array([is_real(r) and is_rendition(r) for r in rows])  # noisy renditions too
    out_of_fold = defaultdict(list)  # (arm, task) -> [Part]
    report = {"voices": {}, "synthetic": {}}
    for voice, clips in folds(rows).items():
        others = ~synthetic & ~np.isin(np.arange(len(rows)), clips)  # every other real voice
        train_clips = np.flatnonzero((synthetic & (split == "train")) | others)
        held = clips[plain[clips]]
        log.info("fold %s: %d training clips, %d held-out recordings", voice, len(train_clips), len(held))
        tests = {"real": held, "synthetic": synthetic_test, "emotion_renditions": clips[rendered[clips]]}
        tasks, found = run_fold(config, rows, encodings, train_clips, val_clips, tests)
        for task in tasks:
            if task in found["real"][1]:
                record_heads(report, out_of_fold, voice, task, tasks[task], found, encodings)
        if "language" in tasks and encodings.whisper_language is not None:
            data, _ = found["real"]
            logits = whisper_logits(data, tasks["language"])
            out_of_fold[("whisper", "language")].append(Part(voice, voice, "language", data, logits, tasks["language"]))
            report["voices"].setdefault(voice, {}).setdefault("language", {})["whisper"] = figures(
                data, logits, "language", encodings)
        log.info("%s: %s", voice, json.dumps(report["voices"].get(voice, {}))[:600])
    return report, out_of_fold


def record_heads(report: dict, out_of_fold: dict, voice: str, task: str, labels: list[str], found: dict,
                 encodings: Encodings) -> None:
    """One fold's head answers for `task` (its `labels`) into the report's figures and the out-of-fold parts."""
    data, logits = found["real"]
    out_of_fold[("head", task)].append(Part(voice, voice, task, data, logits[task], labels))
    report["voices"].setdefault(voice, {}).setdefault(task, {})["head"] = figures(data, logits[task], task, encodings)
    data, logits = found["synthetic"]
    synthetic = report["synthetic"].setdefault(voice, {}).setdefault(task, {})
    synthetic["head"] = figures(data, logits[task], task, encodings)
    if task == "emotion" and len(found["emotion_renditions"][0]):
        data, logits = found["emotion_renditions"]
        report.setdefault("emotion_renditions", {})[voice] = figures(data, logits[task], task, encodings)
        # calibrated with the real voices' own speech: neutral alone would teach every answer to be sure
        out_of_fold[("head", task)].append(Part(f"{voice}/renditions", voice, task, data, logits[task], labels))
    if task == "accent":  # the synthetic native English voices: how often "L1-zh"
        data, logits = found["synthetic"]
        out_of_fold[("synthetic", task)].append(Part(voice, voice, task, data, logits[task], labels))


def save_parts(out_of_fold: dict, path: Path) -> None:
    """Every out-of-fold part (window indices, uncalibrated logits, labels) before any choice is made."""
    torch.save({key: [(p.name, p.voice, p.task, p.data.index, p.logits, p.labels) for p in parts]
                for key, parts in out_of_fold.items()}, path)


def load_parts(path: Path, encodings: Encodings, rows: list[dict[str, str]]) -> dict:
    """save_parts' file -> (arm, task) -> [Part], each window's labels read from the rows again."""
    found = {}
    for key, saved in torch.load(path, weights_only=False).items():
        parts = []
        for name, voice, task, index, logits, labels in saved:
            truth = torch.tensor([labels.index(rows[c][task]) if rows[c].get(task) in labels else IGNORE_INDEX
                                  for c in encodings.clip[index]], dtype=torch.long)
            language = None if encodings.whisper_language is None \
                else encodings.whisper_language[torch.from_numpy(index)]
            data = WindowSet(torch.zeros(len(index), 1, 1), language, {task: truth}, index)
            parts.append(Part(name, voice, task, data, logits, labels))
        found[key] = parts
    return found


def finish(report: dict, out_of_fold: dict, encodings: Encodings, rows: list[dict[str, str]], args) -> None:
    """Everything chosen and measured after the folds, into `report`: the English weight (accented_english),
    the accent gate, the temperatures, what held-out people are told, the summary."""
    out_of_fold = dict(out_of_fold)
    synthetic_parts = {task: parts for (arm, task), parts in out_of_fold.items() if arm == "synthetic"}
    out_of_fold = {key: parts for key, parts in out_of_fold.items() if key[0] != "synthetic"}
    shift = {}
    if args.accented_english and ("whisper", "language") in out_of_fold:
        parts = out_of_fold[("whisper", "language")]
        weight, report["accented_english"] = choose_shift(parts, encodings, args.accented_english)
        shift = {args.accented_english: weight}
        out_of_fold[("whisper_unshifted", "language")] = parts
        out_of_fold[("whisper", "language")] = shifted(parts, shift)
        for part, unshifted in zip(out_of_fold[("whisper", "language")], parts):
            report["voices"][part.voice]["language"]["whisper"] = figures(part.data, part.logits, "language", encodings)
            report["voices"][part.voice]["language"]["whisper_unshifted"] = figures(
                unshifted.data, unshifted.logits, "language", encodings)
    gate = []
    if args.accent_gate and ("head", "accent") in out_of_fold:
        label, code = args.accent_gate.split(":")
        threshold, report["accent_gate"] = choose_gate(out_of_fold[("head", "accent")], encodings, label, code, "en-US")
        out_of_fold[("head_ungated", "accent")] = out_of_fold[("head", "accent")]
        out_of_fold[("head", "accent")] = gate_parts(out_of_fold[("head", "accent")], label, code, threshold)
        gate = [code, threshold] if np.isfinite(threshold) else []
        if "accent" in synthetic_parts:  # as the served model answers them
            synthetic_parts["accent"] = gate_parts(synthetic_parts["accent"], label, code, threshold)
        for part, ungated in zip(out_of_fold[("head", "accent")], out_of_fold[("head_ungated", "accent")]):
            report["voices"][part.voice]["accent"]["head"] = figures(part.data, part.logits, "accent", encodings)
            report["voices"][part.voice]["accent"]["head_ungated"] = figures(ungated.data, ungated.logits, "accent",
                                                                             encodings)
    fitted_on = {("head", "accent"): out_of_fold.get(("head_ungated", "accent"))} if gate else None
    report["calibration"] = calibration(out_of_fold, encodings, fitted_on)
    if gate:
        report["calibration"]["head/accent"]["gates"] = {label: gate}
    if shift:
        report["calibration"]["whisper/language"]["accented_english"] = shift
    report["answers"] = answers_heard(out_of_fold, report["calibration"], encodings, rows)
    if synthetic_parts or "synthetic_answers" not in report:  # else (an earlier version's saved parts) the report's own
        report["synthetic_answers"] = synthetic_shares(synthetic_parts, report["calibration"], encodings, rows)
    report["people"] = people(report["answers"])
    report["synthetic_people"] = synthetic_people(report["synthetic_answers"])
    report["summary"] = summary(report)


def summary(report: dict) -> dict:
    """Macro means over the held-out native voices ("arm/task") and apart over the learners' folds
    ("arm/task/learners"), with the folds' synthetic test voices, per task and arm: recording and
    window accuracy, ECE before and after calibration (over all real held-out speech)."""
    found = {}
    groups = {"": lambda voice: not voice.startswith(LEARNERS), "/learners": lambda voice: voice.startswith(LEARNERS)}
    for task, arm, (group, member) in itertools.product(
            sorted({t for voice in report["voices"].values() for t in voice}), ARMS, groups.items()):
        per_voice = [v[task][arm] for name, v in report["voices"].items() if arm in v.get(task, {}) and member(name)]
        if not per_voice:
            continue
        key = f"{arm}/{task}"
        entry = {name: float(np.nanmean([p.get(name, np.nan) for p in per_voice]))
                 for name in ("recording_accuracy", "spoken_recording_accuracy", "window_accuracy", "ece",
                              "recording_ece")}
        entry["voices"] = len(per_voice)
        entry["recordings"] = int(sum(p["recordings"] for p in per_voice))
        entry["spoken_recordings"] = int(sum(p["spoken_recordings"] for p in per_voice))
        entry["windows"] = int(sum(p["windows"] for p in per_voice))
        synthetic = [v[task][arm] for v in report["synthetic"].values() if arm in v.get(task, {})]
        if synthetic:
            accuracies = [p.get("window_accuracy", np.nan) for p in synthetic]
            entry["synthetic_window_accuracy"] = float(np.nanmean(accuracies))
        calibrated = report["calibration"].get(key, {}).get("voices", {})
        if calibrated:
            for name, field in (("ece_calibrated", "after"), ("recording_ece_calibrated", "recordings_after")):
                values = [v[field] for name, v in calibrated.items() if v[field] is not None and member(name)]
                entry[name] = float(np.nanmean(values)) if values else float("nan")
            entry["temperature"] = report["calibration"][key]["temperature"]
            entry["short_speech_temperature"] = report["calibration"][key]["short_speech_temperature"]
        found[key + group] = entry
    return found


if __name__ == "__main__":
    main()

"""Out-of-fold answers and what they measure: a held-out set's answers (Part), its accuracy and
calibration figures, the temperatures fitted on the real people held out, and what the served vote tells
each group of people (the learners, the native voices) per true label and band.

speaksphere.training.held_out makes the parts, fold by fold; speaksphere.training.choose picks the
accented-English weight and the accent gate on them.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
import torch

from ..data.labels import IGNORE_INDEX
from ..data.manifest import BAND_8K
from ..data.speechocean import SOURCE as LEARNERS
from ..model.configuration import SHORT_SPEECH_S
from .encodings import Encodings
from .heads import WindowSet, expected_calibration_error, fit_temperature

__all__ = ["Part", "figures", "calibration", "shares", "people", "answers_heard", "synthetic_shares",
           "synthetic_people", "MIN_WINDOW_SPEECH_S", "VOTE_MIN_SPEECH_S", "SURE"]

MIN_WINDOW_SPEECH_S = 1.0  # windows counted in the per-window figure (the model card's rule)
VOTE_MIN_SPEECH_S = 0.25  # the served vote ignores windows with less speech (Predictor)
SURE = 0.5  # a calibrated probability from which the app gives an answer (below: "not sure")


@dataclasses.dataclass
class Part:
    """One held-out set's out-of-fold answers for one task."""

    name: str  # the voice or fold, or "<voice>/renditions" (its emotion renditions)
    voice: str  # the voice or fold it belongs to: temperatures for it are fitted without it
    task: str
    data: WindowSet
    logits: torch.Tensor  # (n, n_labels) uncalibrated
    labels: list[str]  # the labels of the logits' columns


def figures(data: WindowSet, logits: torch.Tensor, task: str, encodings: Encodings,
            temperatures: tuple[float, float] = (1.0, 1.0)) -> dict:
    """Accuracy over windows with >= 1 s of speech (every window for command words), over recordings
    (the served vote: windows weighted by their speech) and over recordings with >= 1 s of speech, and
    the expected calibration error of the windows and of the recordings' votes, for one task.
    temperatures: (for windows with >= SHORT_SPEECH_S of speech, for windows with less)."""
    labels = data.labels[task].numpy()
    speech = encodings.speech_s[data.index]
    temperature = np.where(speech >= SHORT_SPEECH_S, temperatures[0], temperatures[1])[:, None]
    probabilities = torch.softmax(logits.float() / torch.from_numpy(temperature).float(), -1).numpy()
    clips = encodings.clip[data.index]
    counted = (labels != IGNORE_INDEX) & ((speech >= MIN_WINDOW_SPEECH_S) | (task == "command"))
    found = {"windows": int(counted.sum())}
    if counted.any():
        found["window_accuracy"] = float((probabilities[counted].argmax(-1) == labels[counted]).mean())
        found["ece"] = expected_calibration_error(probabilities[counted], labels[counted])
    right = n = right_spoken = n_spoken = 0  # all recordings; those with >= 1 s of speech
    votes, truths = [], []
    for clip in np.unique(clips[labels != IGNORE_INDEX]):
        inside = clips == clip
        weights = np.where(speech[inside] >= VOTE_MIN_SPEECH_S, speech[inside], 0.0)
        weights = weights if weights.sum() > 0 else np.ones(inside.sum())
        vote = weights @ probabilities[inside]
        hit = int(vote.argmax() == labels[inside][0])
        votes.append(vote / vote.sum())
        truths.append(labels[inside][0])
        right, n = right + hit, n + 1
        if speech[inside].sum() >= MIN_WINDOW_SPEECH_S:
            right_spoken, n_spoken = right_spoken + hit, n_spoken + 1
    found.update(recordings=n, recording_accuracy=right / n if n else float("nan"), spoken_recordings=n_spoken,
                 spoken_recording_accuracy=right_spoken / n_spoken if n_spoken else float("nan"),
                 recording_ece=expected_calibration_error(np.array(votes), np.array(truths)) if votes else float("nan"))
    return found


def calibration(out_of_fold: dict, encodings: Encodings, fitted_on: dict | None = None) -> dict:
    """Per arm and task: two temperatures (windows with >= SHORT_SPEECH_S of speech, and with less)
    fitted on all real voices' out-of-fold windows, and the expected calibration error before and after,
    the after of each voice with temperatures fitted on the other voices only. fitted_on: (arm, task) ->
    the parts to fit on instead (the ungated accent: a gated label's logit is -inf)."""
    def fit(selected, task) -> tuple[float, float]:
        logits = torch.cat([p.logits for p in selected])
        labels = torch.cat([p.data.labels[task] for p in selected])
        long = torch.from_numpy(np.concatenate([encodings.speech_s[p.data.index] >= SHORT_SPEECH_S for p in selected]))
        learner = torch.cat([torch.full((len(p.data),), p.name.startswith(LEARNERS)) for p in selected])
        weights = torch.ones(len(labels), dtype=torch.float64)
        for group in (True, False):  # the learners and the native voices weigh the same in the fit
            inside = (learner == group) & (labels != IGNORE_INDEX)
            weights[inside] = 1.0 / max(int(inside.sum()), 1)
        return (fit_temperature(logits[long], labels[long], weights[long]),
                fit_temperature(logits[~long], labels[~long], weights[~long]))

    found = {}
    for (arm, task), parts in out_of_fold.items():
        per_voice = {}
        fitting = (fitted_on or {}).get((arm, task), parts)
        for part in parts:
            others = [p for p in fitting if p.voice != part.voice]
            temperatures = fit(others, task) if others else (1.0, 1.0)
            data, logits = part.data, part.logits
            before, after = figures(data, logits, task, encodings), figures(data, logits, task, encodings, temperatures)
            per_voice[part.name] = {"temperatures_without_voice": temperatures, "before": before.get("ece"),
                                    "after": after.get("ece"), "recordings_before": before["recording_ece"],
                                    "recordings_after": after["recording_ece"]}
        temperature, short = fit(fitting, task)
        found[f"{arm}/{task}"] = {"temperature": temperature, "short_speech_temperature": short, "voices": per_voice}
    return found


def _band(row: dict[str, str]) -> str:
    return "8k" if row.get("augmentation") == BAND_8K else "as recorded"


def shares(parts: list[Part], temperatures: dict[str, tuple[float, float]], encodings: Encodings, rows) -> dict:
    """What the served vote answers on each part's recordings, per true label and band ("as recorded",
    "8k" for telephone copies): {name: {label: {band: {"recordings", "answers": {label: share},
    "sure": {label: share answered with a calibrated probability >= SURE}}}}}. temperatures: name ->
    (long, short) fitted without that part's voice."""
    found = {}
    for part in parts:
        task_labels = part.labels
        speech = encodings.speech_s[part.data.index]
        long, short = temperatures[part.name]
        temperature = np.where(speech >= SHORT_SPEECH_S, long, short)[:, None]
        probabilities = torch.softmax(part.logits.float() / torch.from_numpy(temperature).float(), -1).numpy()
        clips = encodings.clip[part.data.index]
        truth = {c: rows[c] for c in np.unique(clips)}
        groups = defaultdict(list)
        for clip in np.unique(clips):
            inside = clips == clip
            weights = np.where(speech[inside] >= VOTE_MIN_SPEECH_S, speech[inside], 0.0)
            weights = weights if weights.sum() > 0 else np.ones(inside.sum())
            vote = weights @ probabilities[inside] / weights.sum()
            groups[(truth[clip].get(part.task, ""), _band(truth[clip]))].append(vote)
        entry = {}
        for (label, band), votes in sorted(groups.items()):
            votes = np.array(votes)
            top, sure = votes.argmax(-1), votes.max(-1) >= SURE
            entry.setdefault(label or "unlabelled", {})[band] = {
                "recordings": len(votes),
                "answers": {task_labels[k]: round(float((top == k).mean()), 4) for k in np.unique(top)},
                "sure": {task_labels[k]: round(float(((top == k) & sure).mean()), 4) for k in np.unique(top[sure])}}
        found[part.name] = entry
    return found


def _pooled(entries: list[dict]) -> dict:
    """shares() entries of one label and band from several parts -> one, weighted by recordings."""
    n = sum(e["recordings"] for e in entries)
    pooled = {"recordings": n}
    for key in ("answers", "sure"):
        labels = {label for e in entries for label in e[key]}
        pooled[key] = {label: round(sum(e[key].get(label, 0.0) * e["recordings"] for e in entries) / n, 4)
                       for label in sorted(labels)} if n else {}
    return pooled


def people(answers: dict) -> dict:
    """What real people held out are told, pooled: the learners (speechocean762's folds) and the native
    voices, per task's answer source, true label and band (shares() entries pooled over parts)."""
    found = {}
    for key, parts in answers.items():
        groups = defaultdict(list)
        for name, entry in parts.items():
            group = "learners" if name.startswith(LEARNERS) else "natives, renditions" if name.endswith("/renditions") \
                else "natives"
            for label, bands in entry.items():
                for band, shares_ in bands.items():
                    groups[(group, label, band)].append(shares_)
        for (group, label, band), entries in sorted(groups.items()):
            found.setdefault(key, {}).setdefault(group, {}).setdefault(label, {})[band] = _pooled(entries)
    return found


def answers_heard(out_of_fold: dict, calibrated: dict, encodings: Encodings, rows) -> dict:
    """Per arm/task: shares() of every held-out part with the temperatures fitted without its voice."""
    found = {}
    for (arm, task), parts in out_of_fold.items():
        voices = calibrated[f"{arm}/{task}"]["voices"]
        temperatures = {p.name: tuple(voices[p.name]["temperatures_without_voice"]) for p in parts}
        found[f"{arm}/{task}"] = shares(parts, temperatures, encodings, rows)
    return found


def synthetic_shares(synthetic_parts: dict, fitted: dict, encodings: Encodings, rows) -> dict:
    """shares() of each fold's model on the synthetic test voices, per task, at the temperatures fitted on all
    the real held-out speech (the synthetic test voices are in no fold)."""
    found = {}
    for task, parts in synthetic_parts.items():
        if f"head/{task}" in fitted:
            temperatures = (fitted[f"head/{task}"]["temperature"], fitted[f"head/{task}"]["short_speech_temperature"])
            found[task] = shares(parts, {p.name: temperatures for p in parts}, encodings, rows)
    return found


def synthetic_people(synthetic_answers: dict) -> dict:
    """synthetic_shares() pooled over the folds: each fold's model on the synthetic test voices, per task,
    true label and band."""
    return {task: {label: {band: _pooled([parts[name][label][band] for name in parts
                                          if band in parts[name].get(label, {})])
                           for band in {b for name in parts for b in parts[name].get(label, {})}}
                   for label in {label for name in parts for label in parts[name]}}
            for task, parts in synthetic_answers.items()}

"""Fine-tune the multi-task SpeakSphere model.

    accelerate launch train.py --config configs/tiny.yaml --manifest DIR/manifest.csv --output-dir runs/tiny

Hardware (CPU, GPUs, processes, mixed precision) comes from accelerate's own flags or config, never
from our YAML: the same command trains on this laptop's CPU or on many GPUs. Each epoch evaluates on
the manifest's "val" split (accuracy and macro-F1 per task, metrics loaded by path with `evaluate`),
saves a resumable checkpoint, and keeps the best model; at the end the best model is tested on the
"test" split (voices it never saw), with a confusion matrix PNG and a metrics JSON per task.
"""

from __future__ import annotations

import argparse
import json
import math
from functools import partial
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from speaksphere.config import load_config, to_dict
from speaksphere.data.clips import ClipDataset, collate, task_labels
from speaksphere.data.labels import IGNORE_INDEX, VOCABULARIES
from speaksphere.data.manifest import read_manifest
from speaksphere.model import SpeakSphereModel
from speaksphere.model.predictor import Predictor, feature_extractor_for, new_feature_extractor
from speaksphere.training.checkpoint import load_checkpoint, save_checkpoint
from speaksphere.training.encodings import encode_rows, load_encodings
from speaksphere.training.evaluation import score, score_subsets, write_report
from speaksphere.training.experiment import Experiment, build_model
from speaksphere.training.heads import answers, fit_heads, window_set
from speaksphere.training.loop import TrainingState, run_epochs, train_epoch


def get_dataloaders(config: Experiment, manifest: Path, feature_extractor):
    """Train and validation DataLoaders, the test rows, and the label list of every task."""
    rows = read_manifest(manifest, absolute=True)
    splits = {name: [r for r in rows if r["split"] == name] for name in ("train", "val", "test")}
    tasks = {t: task_labels(splits["train"], t, VOCABULARIES[t]) for t in config.data.tasks}
    tasks = {t: labels for t, labels in tasks.items() if len(labels) >= 2}  # one class teaches nothing
    if not tasks or not splits["train"] or not splits["val"]:
        raise SystemExit(f"{manifest} needs train and val rows with at least two classes for a task")
    batch = partial(collate, feature_extractor=feature_extractor)
    train = DataLoader(ClipDataset(splits["train"], tasks, config.data.crop_s, random=True, seed=config.train.seed),
                       batch_size=config.train.batch_size, shuffle=True, collate_fn=batch,
                       num_workers=config.data.num_workers)
    val = DataLoader(ClipDataset(splits["val"], tasks, config.data.crop_s, random=False),
                     batch_size=config.train.batch_size, collate_fn=batch, num_workers=config.data.num_workers)
    return train, val, splits, tasks


@torch.no_grad()
def predict(model, dataloader, accelerator, tasks) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Task -> (predicted ids, reference ids) over labelled examples, gathered from every process."""
    model.eval()
    found = {t: ([], []) for t in tasks}
    for batch in dataloader:
        logits = model(batch["input_values"], batch["attention_mask"]).logits
        for task in tasks:
            # a command from Whisper is a recording's, not a window's: benchmarks/command_words.py
            if task not in logits:
                continue
            predictions, references = accelerator.gather_for_metrics((logits[task].argmax(-1), batch["labels"][task]))
            keep = references != IGNORE_INDEX
            found[task][0].append(predictions[keep].cpu().numpy())
            found[task][1].append(references[keep].cpu().numpy())
    model.train()
    return {t: (np.concatenate(p), np.concatenate(r)) for t, (p, r) in found.items() if p}


def train_on_encodings(config: Experiment, args, accelerator, rows, tasks, model) -> dict:
    """Frozen backbone: encode every window once (speaksphere.training.encodings, cached in
    --encodings), then train the layer mix and heads on those encodings (speaksphere.training.heads).

    Exactly the full model's computation at a fraction of the cost: the encoder runs once per window
    instead of once per window and epoch. Temperatures come from --calibration (the held-out report)."""
    output = Path(args.output_dir)
    predictor = Predictor(model, feature_extractor_for(model), batch_size=16)
    cache = Path(args.encodings) if args.encodings else output / "encodings.pt"
    if cache.is_file():
        encodings = load_encodings(cache, [r["audio"] for r in rows])
        accelerator.print(f"encodings from {cache}: {len(encodings.clip)} windows")
    else:
        accelerator.print(f"encoding the windows of {len(rows)} clips once (progress every minute)")
        encodings = encode_rows(predictor, rows)
        if accelerator.is_main_process:
            encodings.save(cache)
    clips = {name: np.array([i for i, r in enumerate(rows) if r["split"] == name]) for name in ("train", "val", "test")}
    data = {name: window_set(encodings, rows, index, tasks, every_window=name == "train")
            for name, index in clips.items() if len(index)}
    t = config.train
    history = fit_heads(model, data["train"], data.get("val"), t.epochs, t.batch_size, t.learning_rate, t.weight_decay,
                        t.warmup_ratio, t.patience, t.seed, report=accelerator.print)
    if args.calibration:
        set_temperatures(model, config, tasks, Path(args.calibration), accelerator.print)
    results = {}
    if accelerator.is_main_process:
        model.save_pretrained(output / "model")
        predictor.feature_extractor.save_pretrained(output / "model")
        if "test" in data:
            found = answers(model, data["test"])
            results = score(found)
            results["subsets"] = score_subsets(found, [rows[c] for c in encodings.clip[data["test"].index]])
            write_report(found, results, tasks, output / "test")
    write_run(config, accelerator, output, history, results)
    return results


def set_temperatures(model, config: Experiment, tasks: dict, calibration: Path, report) -> None:
    """The model's temperatures from the held-out report `calibration` (speaksphere.training.held_out)."""
    fitted_on = json.loads(calibration.read_text())["calibration"]
    arm = "whisper" if "language" in model.whisper_tasks else "head"  # Whisper's own language ID, else the head
    # only the config's calibrated tasks: a task whose held-out real speech is one voice of one class
    # stays uncalibrated, as a temperature fitted on that would claim a sureness nobody measured
    fitted = {task: fitted_on[f"{arm if task == 'language' else 'head'}/{task}"] for task in tasks
              if f"{arm if task == 'language' else 'head'}/{task}" in fitted_on and task in config.model.calibrated}
    model.config.temperatures = {task: c["temperature"] for task, c in fitted.items()}
    model.config.short_speech_temperatures = {task: c["short_speech_temperature"] for task, c in fitted.items()}
    model.config.accented_english = dict(fitted.get("language", {}).get("accented_english", {}))
    model.config.accent_gates = dict(fitted.get("accent", {}).get("gates", {}))
    report(f"temperatures from {calibration}: {model.config.temperatures}, short speech "
           f"{model.config.short_speech_temperatures}, accented English {model.config.accented_english}, "
           f"accent gates {model.config.accent_gates}")


def training_function(config: Experiment, args: argparse.Namespace) -> dict:
    accelerator = Accelerator(gradient_accumulation_steps=config.train.gradient_accumulation_steps)
    set_seed(config.train.seed)
    output = Path(args.output_dir)
    whisper = config.model.pretrained == "whisper-base" or config.model.backbone.get("model_type") == "whisper"
    feature_extractor = new_feature_extractor(whisper)  # the model is built once the tasks are known
    manifest = Path(args.manifest or config.data.manifest)
    train_dl, val_dl, splits, tasks = get_dataloaders(config, manifest, feature_extractor)
    model = build_model(config.model, tasks, splits["train"])
    if config.train.cache_features:
        if not config.model.freeze_backbone:
            raise SystemExit("train.cache_features needs model.freeze_backbone: true "
                             "(a trained backbone changes its features)")
        return train_on_encodings(config, args, accelerator, read_manifest(manifest, absolute=True), tasks, model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=config.train.learning_rate, weight_decay=config.train.weight_decay)
    updates_per_epoch = math.ceil(len(train_dl) / accelerator.num_processes / config.train.gradient_accumulation_steps)
    total = config.train.max_steps or config.train.epochs * updates_per_epoch
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.train.warmup_ratio * total), total)
    model, optimizer, train_dl, val_dl, scheduler = accelerator.prepare(model, optimizer, train_dl, val_dl, scheduler)

    state = load_checkpoint(accelerator, output / "checkpoint", args.resume)
    if state is not None:
        accelerator.print(f"resumed after epoch {state.epoch} (best val macro-F1 {state.best:.3f})")
    state = state or TrainingState()
    bar = tqdm(total=total, initial=state.step, disable=not accelerator.is_local_main_process, desc="training")

    def train(epoch: int) -> bool:
        return train_epoch(model, train_dl, optimizer, scheduler, state, accelerator=accelerator, max_steps=total,
                           on_step=lambda loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.3f}", epoch=epoch + 1)))

    def keep_best() -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            accelerator.unwrap_model(model).save_pretrained(output / "model")
            feature_extractor.save_pretrained(output / "model")

    run_epochs(state, config.train.epochs, config.train.patience, train,
               lambda: score(predict(model, val_dl, accelerator, tasks)), keep_best,
               save=lambda state: (accelerator.wait_for_everyone(),
                                   save_checkpoint(accelerator, output / "checkpoint", state)),
               report=accelerator.print)
    bar.close()
    return finish(config, accelerator, output, splits, tasks, feature_extractor, state)


def finish(config, accelerator, output, splits, tasks, feature_extractor, state: TrainingState) -> dict:
    """Test the best model on held-out voices; write metrics, confusion matrices and the config used."""
    accelerator.wait_for_everyone()
    results = {}
    if splits["test"]:
        best = accelerator.prepare(SpeakSphereModel.from_pretrained(output / "model"))
        test_dl = accelerator.prepare(DataLoader(
            ClipDataset(splits["test"], tasks, config.data.crop_s, random=False), batch_size=config.train.batch_size,
            collate_fn=partial(collate, feature_extractor=feature_extractor)))
        found = predict(best, test_dl, accelerator, tasks)
        results = score(found)
        if accelerator.is_main_process:
            write_report(found, results, tasks, output / "test")
    write_run(config, accelerator, output, state.history, results)
    return results


def write_run(config: Experiment, accelerator, output: Path, history: list[dict], results: dict) -> None:
    """train_config.json and history.json into `output` (main process), and the test figures to the log."""
    if accelerator.is_main_process:
        (output / "train_config.json").write_text(json.dumps(to_dict(config), indent=2))
        (output / "history.json").write_text(json.dumps(history, indent=2))
        accelerator.print("test: " + json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML experiment (see configs/)")
    parser.add_argument("--manifest", help="manifest CSV (overrides data.manifest)")
    parser.add_argument("--output-dir", default="runs/latest", help="where the model, checkpoint and reports go")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --output-dir")
    parser.add_argument("--encodings", help="cached window encodings (cache_features): read if present, else written")
    parser.add_argument("--calibration", help="held-out report (speaksphere.training.held_out) with the temperatures")
    args = parser.parse_args()
    training_function(load_config(args.config, Experiment), args)


if __name__ == "__main__":
    main()

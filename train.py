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

import evaluate
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import Wav2Vec2FeatureExtractor, get_cosine_schedule_with_warmup

from speaksphere.checkpoint import load_progress, save_progress
from speaksphere.config import load_config, to_dict
from speaksphere.data.clips import ClipDataset, collate, task_labels
from speaksphere.data.labels import VOCABULARIES
from speaksphere.data.manifest import is_real, read_manifest
from speaksphere.model import SpeakSphereModel
from speaksphere.model.predictor import Predictor, feature_extractor_for
from speaksphere.training.encodings import encode_rows, load_encodings
from speaksphere.training.experiment import Experiment, build_model
from speaksphere.training.heads import fit_heads, predict_logits, window_set
from speaksphere.plots import plot_confusion

METRICS_DIR = Path(__file__).resolve().parent / "speaksphere" / "metrics"


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
            if task not in logits:  # a command from Whisper is a recording's, not a window's: benchmarks/command_words.py
                continue
            predictions, references = accelerator.gather_for_metrics((logits[task].argmax(-1), batch["labels"][task]))
            keep = references != -100
            found[task][0].append(predictions[keep].cpu().numpy())
            found[task][1].append(references[keep].cpu().numpy())
    model.train()
    return {t: (np.concatenate(p), np.concatenate(r)) for t, (p, r) in found.items() if p}


def score(found: dict, metrics: list) -> dict[str, dict[str, float]]:
    """Task -> {"accuracy", "macro_f1", "n"} from predicted and reference ids."""
    results = {}
    for task, (predictions, references) in found.items():
        if not len(references):
            continue
        results[task] = {"n": int(len(references))}
        for metric in metrics:
            results[task].update(metric.compute(predictions=predictions, references=references))
    return results


def score_subsets(found: dict, rows: list[dict], metrics: list) -> dict[str, dict]:
    """Scores of real and synthetic test rows apart (found holds one prediction per row and task,
    references -100 where unlabelled): {"real": {task: ...}, "synthetic": {task: ...}}."""
    real = np.array([is_real(r) for r in rows])
    subsets = {}
    for name, keep in (("real", real), ("synthetic", ~real)):
        part = {t: (p[keep & (r != -100)], r[keep & (r != -100)]) for t, (p, r) in found.items()}
        subsets[name] = score(part, metrics)
    return subsets


def mean_macro_f1(results: dict) -> float:
    values = [r["macro_f1"] for r in results.values() if r["n"] and not math.isnan(r["macro_f1"])]
    return float(np.mean(values)) if values else 0.0


def report(found: dict, results: dict, tasks: dict, folder: Path) -> None:
    """Write metrics.json and a confusion-matrix PNG per task into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(results, indent=2))
    for task, (predictions, references) in found.items():
        if len(references):
            plot_confusion(references, predictions, tasks[task], f"{task}: {results[task]['accuracy']:.1%} "
                           f"accuracy, macro-F1 {results[task]['macro_f1']:.2f}").savefig(folder / f"confusion_{task}.png")


def train_on_encodings(config: Experiment, args, accelerator, rows, tasks, model, metrics) -> dict:
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
                        t.warmup_ratio, t.patience, t.seed, teacher_weight=t.teacher_weight, report=accelerator.print)
    if args.calibration:
        calibration = json.loads(Path(args.calibration).read_text())["calibration"]
        arm = {"head": "head", "whisper": "whisper", "head+whisper": "prior"}[config.model.language_source]
        # experimental tasks stay uncalibrated: their held-out real speech is one voice of one class at best
        # (accent: US English only), and a temperature fitted on that would claim a sureness nobody measured
        fitted = {task: calibration[f"{arm if task == 'language' else 'head'}/{task}"] for task in tasks
                  if f"{arm if task == 'language' else 'head'}/{task}" in calibration
                  and task not in config.model.experimental}
        model.config.temperatures = {task: c["temperature"] for task, c in fitted.items()}
        model.config.short_speech_temperatures = {task: c["short_speech_temperature"] for task, c in fitted.items()}
        accelerator.print(f"temperatures from {args.calibration}: {model.config.temperatures}, short speech "
                          f"{model.config.short_speech_temperatures}")
    results = {}
    if accelerator.is_main_process:
        model.save_pretrained(output / "model")
        predictor.feature_extractor.save_pretrained(output / "model")
        if "test" in data:
            logits = predict_logits(model, data["test"])
            found = {task: (values.argmax(-1).numpy(), data["test"].labels[task].numpy()) for task, values in logits.items()}
            results = score(labelled(found), metrics)
            test_rows = [rows[c] for c in encodings.clip[data["test"].index]]
            results["subsets"] = score_subsets(found, test_rows, metrics)
            report(labelled(found), results, tasks, output / "test")
        (output / "train_config.json").write_text(json.dumps(to_dict(config), indent=2))
        (output / "history.json").write_text(json.dumps(history, indent=2))
        accelerator.print("test: " + json.dumps(results))
    return results


def labelled(found: dict) -> dict:
    return {t: (p[r != -100], r[r != -100]) for t, (p, r) in found.items()}


def training_function(config: Experiment, args: argparse.Namespace) -> dict:
    accelerator = Accelerator(gradient_accumulation_steps=config.train.gradient_accumulation_steps)
    set_seed(config.train.seed)
    output = Path(args.output_dir)
    whisper = config.model.pretrained == "whisper-base" or config.model.backbone.get("model_type") == "whisper"
    # Whisper hears the waveform as it is (its log-mel has its own scaling); wav2vec2 a normalised one
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                                 do_normalize=not whisper, return_attention_mask=True)
    manifest = Path(args.manifest or config.data.manifest)
    train_dl, val_dl, splits, tasks = get_dataloaders(config, manifest, feature_extractor)
    model = build_model(config.model, tasks, splits["train"])
    metrics = [evaluate.load(str(METRICS_DIR / "accuracy.py")), evaluate.load(str(METRICS_DIR / "macro_f1.py"))]
    if config.train.cache_features:
        if not config.model.freeze_backbone:
            raise SystemExit("train.cache_features needs model.freeze_backbone: true (a trained backbone changes its features)")
        return train_on_encodings(config, args, accelerator, read_manifest(manifest, absolute=True), tasks, model, metrics)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=config.train.learning_rate, weight_decay=config.train.weight_decay)
    updates_per_epoch = math.ceil(len(train_dl) / accelerator.num_processes / config.train.gradient_accumulation_steps)
    total = config.train.max_steps or config.train.epochs * updates_per_epoch
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.train.warmup_ratio * total), total)
    model, optimizer, train_dl, val_dl, scheduler = accelerator.prepare(model, optimizer, train_dl, val_dl, scheduler)

    fresh = {"epoch": 0, "step": 0, "best": -1.0, "stale": 0, "history": []}
    progress, resumed = load_progress(accelerator, output / "checkpoint", fresh, args.resume)
    if resumed:
        accelerator.print(f"resumed after epoch {progress['epoch']} (best val macro-F1 {progress['best']:.3f})")

    bar = tqdm(total=total, initial=progress["step"], disable=not accelerator.is_local_main_process, desc="training")
    for epoch in range(progress["epoch"], config.train.epochs):
        model.train()
        for batch in train_dl:
            with accelerator.accumulate(model):
                loss = model(batch["input_values"], batch["attention_mask"], labels=batch["labels"]).loss
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                progress["step"] += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch + 1)
            if progress["step"] >= total:
                break
        results = score(predict(model, val_dl, accelerator, tasks), metrics)
        val_score = mean_macro_f1(results)
        progress["history"].append({"epoch": epoch + 1, "step": progress["step"], "val": results})
        improved = val_score > progress["best"]
        progress.update(epoch=epoch + 1, best=max(val_score, progress["best"]), stale=0 if improved else progress["stale"] + 1)
        accelerator.print(f"epoch {epoch + 1}: val mean macro-F1 {val_score:.3f}"
                          + "".join(f" | {t} acc {r['accuracy']:.3f}" for t, r in results.items()))
        accelerator.wait_for_everyone()
        if improved and accelerator.is_main_process:
            accelerator.unwrap_model(model).save_pretrained(output / "model")
            feature_extractor.save_pretrained(output / "model")
        save_progress(accelerator, output / "checkpoint", progress)
        if progress["stale"] >= config.train.patience or progress["step"] >= total:
            break
    bar.close()
    return finish(config, accelerator, output, splits, tasks, feature_extractor, metrics, progress)


def finish(config, accelerator, output, splits, tasks, feature_extractor, metrics, progress) -> dict:
    """Test the best model on held-out voices; write metrics, confusion matrices and the config used."""
    accelerator.wait_for_everyone()
    results = {}
    if splits["test"]:
        best = accelerator.prepare(SpeakSphereModel.from_pretrained(output / "model"))
        test_dl = accelerator.prepare(DataLoader(
            ClipDataset(splits["test"], tasks, config.data.crop_s, random=False), batch_size=config.train.batch_size,
            collate_fn=partial(collate, feature_extractor=feature_extractor)))
        found = predict(best, test_dl, accelerator, tasks)
        results = score(found, metrics)
        if accelerator.is_main_process:
            report(found, results, tasks, output / "test")
    if accelerator.is_main_process:
        (output / "train_config.json").write_text(json.dumps(to_dict(config), indent=2))
        (output / "history.json").write_text(json.dumps(progress["history"], indent=2))
        accelerator.print("test: " + json.dumps(results))
    return results


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

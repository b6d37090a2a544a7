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
from dataclasses import dataclass, field
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
from speaksphere.data.splits import class_weights
from speaksphere.model import SpeakSphereConfig, SpeakSphereModel
from speaksphere.plots import plot_confusion

METRICS_DIR = Path(__file__).resolve().parent / "speaksphere" / "metrics"


@dataclass
class DataConfig:
    manifest: str = ""  # manifest CSV written by speaksphere.data.build (or --manifest)
    tasks: list[str] = field(default_factory=lambda: ["language", "accent", "emotion", "command"])
    crop_s: float = 4.0  # seconds per training example: the length of an analysis window
    num_workers: int = 0  # DataLoader worker processes


@dataclass
class ModelConfig:
    backbone: dict = field(default_factory=dict)  # Wav2Vec2Config arguments (with model_type), for a new encoder
    pretrained: str | None = None  # or a hub name / folder of a pretrained encoder to start from
    head_hidden: int = 256  # width of each task head's hidden layer
    head_dropout: float = 0.1  # dropout inside the heads
    use_weighted_layer_sum: bool = True  # pool a learned mix of all encoder layers
    pooling: str = "mean"  # "mean" or "mean_std" (statistics pooling) of each layer's frames
    freeze_feature_encoder: bool = True  # keep the convolutional front end fixed
    freeze_backbone: bool = False  # train the heads only
    loss_weights: dict[str, float] = field(default_factory=dict)  # task -> weight in the total loss
    class_weighting: bool = True  # weight each class by 1 / its training count
    label_smoothing: float = 0.0  # cross-entropy label smoothing


@dataclass
class TrainConfig:
    epochs: int = 10  # passes over the training split
    max_steps: int | None = None  # stop after this many optimiser steps (smoke tests)
    batch_size: int = 8  # examples per process per step
    gradient_accumulation_steps: int = 1  # steps accumulated before each optimiser update
    learning_rate: float = 3e-4  # peak learning rate of the cosine schedule
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup_ratio: float = 0.1  # fraction of updates spent warming up linearly
    patience: int = 3  # epochs without a better validation score before stopping
    seed: int = 0  # for initialisation, crops and shuffling
    cache_features: bool = False  # frozen backbone only: pool every clip once, then train the heads on that


@dataclass
class Experiment:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


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


def build_model(config: ModelConfig, tasks: dict[str, list[str]], train_rows: list[dict]) -> SpeakSphereModel:
    weights = {}
    if config.class_weighting:  # mean count / count over the training split, for the model's labels only
        for task, labels in tasks.items():
            per_class = class_weights(train_rows, task)
            weights[task] = [round(float(per_class[VOCABULARIES[task].index(label)]), 4) for label in labels]
    model_config = SpeakSphereConfig(
        backbone=config.backbone, tasks=tasks, head_hidden=config.head_hidden, head_dropout=config.head_dropout,
        use_weighted_layer_sum=config.use_weighted_layer_sum, pooling=config.pooling, loss_weights=config.loss_weights,
        class_weights=weights, label_smoothing=config.label_smoothing,
    )
    model = SpeakSphereModel.from_backbone(config.pretrained, model_config) if config.pretrained \
        else SpeakSphereModel(model_config)
    if config.freeze_feature_encoder:
        model.freeze_feature_encoder()
    if config.freeze_backbone:
        model.freeze_backbone()
    return model


@torch.no_grad()
def predict(model, dataloader, accelerator, tasks) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Task -> (predicted ids, reference ids) over labelled examples, gathered from every process."""
    model.eval()
    found = {t: ([], []) for t in tasks}
    for batch in dataloader:
        logits = model(batch["input_values"], batch["attention_mask"]).logits
        for task in tasks:
            predictions, references = accelerator.gather_for_metrics((logits[task].argmax(-1), batch["labels"][task]))
            keep = references != -100
            found[task][0].append(predictions[keep].cpu().numpy())
            found[task][1].append(references[keep].cpu().numpy())
    model.train()
    return {t: (np.concatenate(p), np.concatenate(r)) for t, (p, r) in found.items()}


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


@torch.no_grad()
def layer_statistics(model, rows, tasks, config: Experiment, feature_extractor, accelerator, desc: str):
    """Per-layer statistics of every row (n_rows, n_layers, dim) and labels {task: (n_rows,)}, in row order."""
    loader = accelerator.prepare(DataLoader(
        ClipDataset(rows, tasks, config.data.crop_s, random=False), batch_size=config.train.batch_size,
        collate_fn=partial(collate, feature_extractor=feature_extractor), num_workers=config.data.num_workers))
    statistics, labels = [], {t: [] for t in tasks}
    model.eval()
    for batch in tqdm(loader, desc=desc, disable=not accelerator.is_local_main_process, mininterval=10):
        found = model.layer_statistics(batch["input_values"], batch["attention_mask"])
        statistics.append(accelerator.gather_for_metrics(found).cpu())
        for task in tasks:
            labels[task].append(accelerator.gather_for_metrics(batch["labels"][task]).cpu())
    return torch.cat(statistics), {t: torch.cat(v) for t, v in labels.items()}


def heads_predict(model, statistics, labels) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Task -> (predicted ids, reference ids) for every row, -100 references kept."""
    model.eval()
    with torch.no_grad():
        logits = model(layer_statistics=statistics).logits
    return {t: (logits[t].argmax(-1).numpy(), labels[t].numpy()) for t in labels}


def labelled(found: dict) -> dict:
    return {t: (p[r != -100], r[r != -100]) for t, (p, r) in found.items()}


def train_on_statistics(config: Experiment, args, accelerator, splits, tasks, feature_extractor, model, metrics) -> dict:
    """Frozen backbone: pool each clip once, then train the layer mix and heads on those statistics.

    Exactly the full model's computation (pooling is per layer, the mix linear), at a fraction of the
    cost: the backbone runs once per clip instead of once per clip and epoch.
    """
    output = Path(args.output_dir)
    # clips of similar length share a batch (little padding); the order of rows is otherwise irrelevant here
    splits = {name: sorted(rows, key=lambda r: float(r.get("duration_s") or 0)) for name, rows in splits.items()}
    model = accelerator.prepare(model)
    unwrapped = accelerator.unwrap_model(model)
    data = {name: layer_statistics(unwrapped, splits[name], tasks, config, feature_extractor, accelerator,
                                   f"pooling {name} clips") for name in ("train", "val", "test") if splits[name]}
    generator = torch.Generator().manual_seed(config.train.seed)
    trainable = [p for p in unwrapped.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.train.learning_rate, weight_decay=config.train.weight_decay)
    statistics, labels = data["train"]
    steps = math.ceil(len(statistics) / config.train.batch_size)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.train.warmup_ratio * steps * config.train.epochs),
                                                steps * config.train.epochs)
    progress = {"epoch": 0, "best": -1.0, "stale": 0, "history": []}
    for epoch in range(config.train.epochs):
        unwrapped.train()
        for index in torch.randperm(len(statistics), generator=generator).split(config.train.batch_size):
            loss = unwrapped(layer_statistics=statistics[index], labels={t: v[index] for t, v in labels.items()}).loss
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        results = score(labelled(heads_predict(unwrapped, *data["val"])), metrics)
        val_score = mean_macro_f1(results)
        improved = val_score > progress["best"]
        progress["history"].append({"epoch": epoch + 1, "val": results})
        progress.update(epoch=epoch + 1, best=max(val_score, progress["best"]), stale=0 if improved else progress["stale"] + 1)
        accelerator.print(f"epoch {epoch + 1}: val mean macro-F1 {val_score:.3f}"
                          + "".join(f" | {t} acc {r['accuracy']:.3f}" for t, r in results.items()))
        if improved and accelerator.is_main_process:
            unwrapped.save_pretrained(output / "model")
            feature_extractor.save_pretrained(output / "model")
        if progress["stale"] >= config.train.patience:
            break
    results = {}
    if "test" in data:
        best = SpeakSphereModel.from_pretrained(output / "model")
        found = heads_predict(best, *data["test"])
        results = score(labelled(found), metrics)
        results["subsets"] = score_subsets(found, splits["test"], metrics)
        if accelerator.is_main_process:
            report(labelled(found), results, tasks, output / "test")  # metrics.json keeps the subsets too
    if accelerator.is_main_process:
        (output / "train_config.json").write_text(json.dumps(to_dict(config), indent=2))
        (output / "history.json").write_text(json.dumps(progress["history"], indent=2))
        accelerator.print("test: " + json.dumps(results))
    return results


def training_function(config: Experiment, args: argparse.Namespace) -> dict:
    accelerator = Accelerator(gradient_accumulation_steps=config.train.gradient_accumulation_steps)
    set_seed(config.train.seed)
    output = Path(args.output_dir)
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                                 do_normalize=True, return_attention_mask=True)
    manifest = Path(args.manifest or config.data.manifest)
    train_dl, val_dl, splits, tasks = get_dataloaders(config, manifest, feature_extractor)
    model = build_model(config.model, tasks, splits["train"])
    metrics = [evaluate.load(str(METRICS_DIR / "accuracy.py")), evaluate.load(str(METRICS_DIR / "macro_f1.py"))]
    if config.train.cache_features:
        if not config.model.freeze_backbone:
            raise SystemExit("train.cache_features needs model.freeze_backbone: true (a trained backbone changes its features)")
        return train_on_statistics(config, args, accelerator, splits, tasks, feature_extractor, model, metrics)
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
    args = parser.parse_args()
    training_function(load_config(args.config, Experiment), args)


if __name__ == "__main__":
    main()

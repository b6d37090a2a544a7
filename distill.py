"""Distil a compact wav2vec2 encoder from the Whisper-base encoder (the first stage of the embedded model).

    accelerate launch distill.py --config configs/distill.yaml --manifest CORPUS/manifest.csv --output-dir runs/distill

1. Teacher cache (once, main process): every clip of the chosen splits, cropped to max_clip_s, packed
   30 s a window through Whisper base; frames kept in OUTPUT/teacher/ and reused by later runs.
2. Student: a small wav2vec2 learns to predict those frames (speaksphere.distill.student) with
   accelerate; each epoch checkpoints (--resume continues) and the encoder is saved to OUTPUT/student,
   a transformers folder that configs/embedded.yaml starts the multi-task model from.
No labels are used here by default, so real recordings of the training voices can join; the test voices
never do. An optional language term (data.language_targets, train.language_weight) adds synthetic clips'
labels or the teacher's own language probabilities; real clips' corpus labels are never read.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import Wav2Vec2FeatureExtractor, get_cosine_schedule_with_warmup

from speaksphere.checkpoint import load_progress, save_progress
from speaksphere.config import load_config, to_dict
from speaksphere.data.labels import LANGUAGES
from speaksphere.data.manifest import is_real, read_manifest
from speaksphere.distill.cache import (LANGUAGE_TARGETS, TeacherCache, build_language_targets, build_teacher_cache,
                                      read_language_targets)
from speaksphere.distill.student import DistilStudent, FrameDataset, LengthBatches, collate_frames


@dataclass
class DistillData:
    manifest: str = ""  # manifest CSV (or --manifest)
    splits: list[str] = field(default_factory=lambda: ["train", "val"])  # never the test voices
    unlabelled_voices: list[str] = field(default_factory=list)  # voices joining from any split, as audio only
    max_clips: int = 9000  # clips in the distillation set: every real one, the rest sampled
    max_clip_s: float = 6.0  # longer clips are cropped (randomly, frame-aligned) before the teacher
    val_fraction: float = 0.03  # clips kept aside to watch the distillation loss
    num_workers: int = 0  # DataLoader worker processes
    # language term (train.language_weight > 0): "labels" = synthetic clips' own labels; "labels+teacher"
    # adds Whisper's language probabilities on real clips (their corpus labels are never read); "teacher"
    # = Whisper's probabilities on every clip, no label read
    language_targets: str = "none"


@dataclass
class DistillTeacher:
    compute_type: str = "int8"  # CTranslate2 precision of Whisper base on CPU
    threads: int = 2  # CPU threads of the teacher
    batch_windows: int = 4  # 30-s windows per teacher call
    clips_per_window: int | None = None  # None: pack clips into each 30-s window; 1: one clip alone a window
    cache_dir: str = "~/.cache/speaksphere"  # where the joined Whisper weights are kept


@dataclass
class DistillTrain:
    epochs: int = 4  # passes over the distillation set
    max_steps: int | None = None  # cap on optimiser updates (smoke tests)
    batch_size: int = 16  # crops per step
    crop_s: float = 4.0  # seconds per crop
    learning_rate: float = 5e-4  # peak of the cosine schedule
    weight_decay: float = 0.01  # AdamW
    warmup_ratio: float = 0.05  # fraction of updates warming up
    degrade_probability: float = 0.0  # share of training crops given noise/reverb/telephone (clean targets)
    language_weight: float = 0.0  # weight of the language cross-entropy (0: frames only, DistilHuBERT)
    seed: int = 0  # sampling, crops, initialisation


@dataclass
class DistillExperiment:
    data: DistillData = field(default_factory=DistillData)
    teacher: DistillTeacher = field(default_factory=DistillTeacher)
    student: dict = field(default_factory=dict)  # Wav2Vec2Config arguments with model_type
    train: DistillTrain = field(default_factory=DistillTrain)


def select_rows(rows: list[dict], config: DistillData, seed: int) -> list[dict]:
    """Every real clip of the allowed splits and of the unlabelled voices, then synthetic ones sampled
    up to max_clips. Distillation never reads a label, so a test voice named in unlabelled_voices is
    heard as audio only: its test figures then count as "heard unlabelled", not "never heard"."""
    allowed = [r for r in rows if r["split"] in config.splits or r["voice"] in config.unlabelled_voices]
    real = [r for r in allowed if is_real(r)]
    synthetic = [r for r in allowed if not is_real(r)]
    rng = np.random.default_rng(seed)
    take = max(0, min(len(synthetic), config.max_clips - len(real)))
    chosen = real + [synthetic[i] for i in sorted(rng.choice(len(synthetic), take, replace=False))]
    return chosen


def check_cache(cache: TeacherCache, rows: list[dict], config: DistillExperiment) -> None:
    """Refuse a finished cache that was built for another selection of clips or another packing: its
    targets would silently train a student on a recipe other than the config's."""
    built, wanted = sorted(c.audio for c in cache.clips), sorted(r["audio"] for r in rows)
    if built != wanted:
        raise SystemExit(f"The teacher cache in {cache.folder} holds {len(built)} clips, but this config selects "
                         f"{len(wanted)} ({len(set(built) ^ set(wanted))} differ): it was built for another data "
                         "selection. Delete that folder to rebuild it, or give another --output-dir.")
    if cache.clips_per_window != config.teacher.clips_per_window:
        raise SystemExit(f"The teacher cache in {cache.folder} was built with clips_per_window "
                         f"{cache.clips_per_window}, the config asks for {config.teacher.clips_per_window}. "
                         "Delete that folder to rebuild it, or give another --output-dir.")


def teacher_cache(config: DistillExperiment, manifest: Path, output: Path,
                  accelerator: Accelerator) -> tuple[TeacherCache, dict[str, np.ndarray] | None]:
    """The teacher's frames for the config's clips (built once), and their language targets when the
    config asks for a language term (None otherwise)."""
    folder = output / "teacher"
    if config.data.language_targets not in LANGUAGE_TARGETS or ((config.train.language_weight > 0)
                                                                != (config.data.language_targets != "none")):
        raise SystemExit(f"data.language_targets ({config.data.language_targets!r}, one of {LANGUAGE_TARGETS}) "
                         f"and train.language_weight ({config.train.language_weight}) must be set together: "
                         "a language term needs both, frames only need 'none' and 0.")
    rows = select_rows(read_manifest(manifest, absolute=True), config.data, config.train.seed)
    wants_languages = config.train.language_weight > 0
    built = (folder / "clips.json").is_file()  # checked in every process, so that all stop together
    if built:
        check_cache(TeacherCache(folder), rows, config)
    new_languages = wants_languages and not (folder / "languages.json").is_file()
    if accelerator.is_main_process and (not built or new_languages):
        from speaksphere.distill.teacher import WhisperTeacher

        teacher = None
        if not built or config.data.language_targets in ("labels+teacher", "teacher"):
            teacher = WhisperTeacher(Path(config.teacher.cache_dir).expanduser(), config.teacher.threads,
                                     config.teacher.compute_type)
        if not built:
            heard = f" and voices {config.data.unlabelled_voices} (audio only)" if config.data.unlabelled_voices else ""
            accelerator.print(f"teacher cache: {len(rows)} clips from splits {config.data.splits}{heard}")
            build_teacher_cache(rows, folder, teacher, config.data.max_clip_s, config.teacher.batch_windows,
                                config.train.seed, config.teacher.clips_per_window)
        if new_languages:
            build_language_targets(TeacherCache(folder), rows, config.data.language_targets, LANGUAGES, teacher,
                                   config.teacher.batch_windows)
    accelerator.wait_for_everyone()
    cache = TeacherCache(folder)
    languages = read_language_targets(cache, config.data.language_targets, LANGUAGES) if wants_languages else None
    return cache, languages


@torch.no_grad()
def validate(model, dataloader, accelerator) -> dict[str, float]:
    model.eval()
    sums = {"loss": [], "l1": [], "cosine": [], "language_ce": []}
    for batch in dataloader:
        out = model(**batch)
        for key in sums:  # every process gathers every key (NaN where not measured), so none waits alone
            value = out[key].reshape(1) if key in out else torch.full((1,), float("nan"), device=out["loss"].device)
            gathered = accelerator.gather_for_metrics(value)
            if key == "language_ce":  # measured only in batches holding a clip with a language target
                gathered = gathered[~gathered.isnan()]
            if gathered.numel():
                sums[key].append(gathered.mean().item())  # a diverged loss stays NaN and shows
    model.train()
    return {k: float(np.mean(v)) for k, v in sums.items() if v}


def distill(config: DistillExperiment, args: argparse.Namespace) -> dict:
    accelerator = Accelerator()
    set_seed(config.train.seed)
    output = Path(args.output_dir)
    cache, languages = teacher_cache(config, Path(args.manifest or config.data.manifest), output, accelerator)
    if args.teacher_only:
        return {"teacher_clips": len(cache.clips)}
    order = np.random.default_rng(config.train.seed).permutation(len(cache.clips))
    n_val = max(1, int(config.data.val_fraction * len(order)))
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                                 do_normalize=True, return_attention_mask=True)
    batch = partial(collate_frames, feature_extractor=feature_extractor)
    train_set = FrameDataset(cache, order[n_val:].tolist(), config.train.crop_s, True, config.train.seed,
                             config.train.degrade_probability, languages)
    lengths = [min(cache.clips[i].n_frames, train_set.crop_frames) for i in train_set.indices]
    train_dl = DataLoader(train_set, batch_sampler=LengthBatches(lengths, config.train.batch_size, seed=config.train.seed),
                          collate_fn=batch, num_workers=config.data.num_workers)
    val_dl = DataLoader(FrameDataset(cache, order[:n_val].tolist(), config.train.crop_s, False, languages=languages),
                        batch_size=config.train.batch_size, collate_fn=batch)
    model = DistilStudent(config.student, teacher_dim=cache.frames.shape[1], n_languages=len(LANGUAGES) if languages else 0,
                          language_weight=config.train.language_weight)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.train.learning_rate, weight_decay=config.train.weight_decay)
    total = config.train.max_steps or config.train.epochs * math.ceil(len(train_dl) / accelerator.num_processes)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.train.warmup_ratio * total), total)
    model, optimizer, train_dl, val_dl, scheduler = accelerator.prepare(model, optimizer, train_dl, val_dl, scheduler)

    progress, resumed = load_progress(accelerator, output / "checkpoint", {"epoch": 0, "step": 0, "history": []},
                                      args.resume)
    if resumed:
        accelerator.print(f"resumed after epoch {progress['epoch']}")
    bar = tqdm(total=total, initial=progress["step"], disable=not accelerator.is_local_main_process, desc="distilling")
    for epoch in range(progress["epoch"], config.train.epochs):
        for step_batch in train_dl:
            out = model(**step_batch)
            accelerator.backward(out["loss"])
            accelerator.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            progress["step"] += 1
            bar.update(1)
            bar.set_postfix(loss=f"{out['loss'].item():.3f}", cos=f"{out['cosine'].item():.3f}", epoch=epoch + 1)
            if progress["step"] >= total:
                break
        val = validate(model, val_dl, accelerator)
        progress["history"].append({"epoch": epoch + 1, "step": progress["step"], "val": val})
        progress["epoch"] = epoch + 1
        language = f", language CE {val['language_ce']:.3f}" if "language_ce" in val else ""
        accelerator.print(f"epoch {epoch + 1}: val loss {val['loss']:.3f}, L1 {val['l1']:.3f}, cosine {val['cosine']:.3f}{language}")
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            accelerator.unwrap_model(model).backbone.save_pretrained(output / "student")
            feature_extractor.save_pretrained(output / "student")
        save_progress(accelerator, output / "checkpoint", progress)
        if progress["step"] >= total:
            break
    bar.close()
    if accelerator.is_main_process:
        (output / "distill_config.json").write_text(json.dumps(to_dict(config), indent=2))
    return progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML (see configs/distill.yaml)")
    parser.add_argument("--manifest", help="manifest CSV (overrides data.manifest)")
    parser.add_argument("--output-dir", default="runs/distill", help="teacher cache, checkpoint and student go here")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --output-dir")
    parser.add_argument("--teacher-only", action="store_true", help="build the teacher cache and stop")
    args = parser.parse_args()
    distill(load_config(args.config, DistillExperiment), args)


if __name__ == "__main__":
    main()

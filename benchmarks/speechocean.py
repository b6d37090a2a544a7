"""Our scores against experts' ratings of real learners: speechocean762 (Mandarin-L1 adults and children
reading English).

    python benchmarks/speechocean.py --root DIR --ratings TSV                 # score, then print the figures
    python benchmarks/speechocean.py --root DIR --ratings TSV --jobs 2 --cache so-train.jsonl
    python benchmarks/speechocean.py --report so-train.jsonl                  # figures of a cache again

DIR is the corpus's tree (WAVE/, train/ and test/ with Kaldi-style text, utt2spk, spk2age), exported
from its repository (github jimbozhang/speechocean762; shared/DATA.md says how). TSV holds the
experts' ratings, one utterance a line (utt_id, accuracy, completeness, fluency, prosodic, total, text,
word_accuracies, word_totals; the corpus's scores.json as ../shared/speechocean762 lays it out). The
project never needs the corpus to run or to pass its tests.

Every rated utterance is scored twice with `assess` (its text typed, the reference synthesised as a
learner's typed text would be): against its own text (right) and against another utterance's text
(wrong: the rated utterance half the list away, with other words). Prints Pearson and Spearman of each
skill against the experts' (x10), of each word's score against the experts' word accuracy, the ROC
AUC of right vs wrong by overall, how often "another sentence" is said of right and of wrong readings,
and children (under 18) against adults. The cache (JSON lines, one scoring each, with every measure
of measures.py) is what `benchmarks/fit_experts.py` fits the experts' calibration on: only ever the
train split's, with folds by speaker; the test split is where the shipped calibration is measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from speaksphere.data.speechocean import read_split  # noqa: E402
from speaksphere.skills import RESULT_SCORES  # noqa: E402
from validity import write_figures  # noqa: E402  (benchmarks/validity.py: the figures behind docs/VALIDITY.md)

SKILLS = {"accuracy": "accuracy", "fluency": "fluency", "prosodic": "prosody", "completeness": "completeness",
          "total": "overall"}  # the experts' column -> our skill
CHILD_BELOW_AGE = 18


def read_ratings(path: Path) -> list[dict]:
    """The experts' rows (quoting off: one text holds a double quote)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    for row in rows:
        for key in SKILLS:
            row[key] = float(row[key])
        for key in ("word_accuracies", "word_totals"):
            row[key] = [float(v) for v in row[key].split(",") if v]
    return rows


def read_corpus(root: Path) -> dict[str, dict]:
    """utt_id -> {wav, speaker, age, text, split} over the train and test lists (speaksphere.data.speechocean)."""
    return {u["utt"]: {"wav": u["wav"], "speaker": u["speaker"], "age": float(u["age"]), "text": u["text"],
                       "split": split}
            for split in ("train", "test") if (root / split).is_dir() for u in read_split(root, split)}


def jobs_of(ratings: list[dict], corpus: dict[str, dict]) -> list[dict]:
    """One job per scoring: each rated utterance with its own text, and with another utterance's text."""
    jobs = []
    n = len(ratings)
    for i, row in enumerate(ratings):
        utt = corpus[row["utt_id"]]
        base = {"utt_id": row["utt_id"], "wav": utt["wav"], "speaker": utt["speaker"], "age": utt["age"],
                "split": utt["split"], "ratings": {k: row[k] for k in SKILLS},
                "word_accuracies": row["word_accuracies"], "word_totals": row["word_totals"]}
        jobs.append({**base, "kind": "right", "text": row["text"]})
        for step in range(n // 2, n):  # another utterance's text: half the list away, with other words
            other = ratings[(i + step) % n]["text"]
            if set(other.lower().split()) != set(row["text"].lower().split()):
                jobs.append({**base, "kind": "wrong", "text": other})
                break
    return jobs


def score_job(job: dict) -> dict:
    """Score one job; the row of the cache (with every measure, and per word its measures)."""
    from speaksphere.audio import AudioError
    from speaksphere.pronounce import ScoringError, assess_file

    started = time.perf_counter()
    try:
        assessment = assess_file(job["wav"], text=job["text"], language="en")
    except (ScoringError, AudioError) as error:
        return {**job, "error": str(error)}
    result = assessment.result
    words = [w for w in result.get("words", []) if w["word"] is not None]
    return {**job, "seconds": round(time.perf_counter() - started, 3),
            "scores": {k: result[k] for k in RESULT_SCORES},
            "another_sentence": bool(result.get("another_sentence")), "measures": result["details"]["measures"],
            "words": [{"word": w["word"], "score": w["score"], "heard_as": w.get("heard_as"), "miscue": w["miscue"]}
                      for w in words],
            "word_measures": [{k: (None if not np.isfinite(v) else round(v, 4)) for k, v in m.items()}
                              for m in assessment.word_measures],
            "transcript": result.get("heard", {}).get("transcript")}


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def score_all(jobs: list[dict], cache: Path, n_jobs: int) -> list[dict]:
    """Score every job not in the cache yet (appending each row as it comes: resumable); all rows."""
    done = {}
    if cache.exists():
        for line in open(cache):
            row = json.loads(line)
            done[(row["utt_id"], row["kind"])] = row
    todo = [j for j in jobs if (j["utt_id"], j["kind"]) not in done]
    print(f"{len(done)} scorings in {cache}, {len(todo)} to go", file=sys.stderr)
    started = time.perf_counter()
    with open(cache, "a") as out, multiprocessing.get_context("spawn").Pool(n_jobs, _worker_init) as pool:
        for k, row in enumerate(pool.imap_unordered(score_job, todo, chunksize=4), 1):
            out.write(json.dumps(row) + "\n")
            out.flush()
            done[(row["utt_id"], row["kind"])] = row
            if k % 50 == 0 or k == len(todo):
                rate = k / (time.perf_counter() - started)
                print(f"  {k}/{len(todo)} ({rate:.2f}/s, {(len(todo) - k) / rate / 60:.0f} min left)", file=sys.stderr)
    return [done[(j["utt_id"], j["kind"])] for j in jobs if (j["utt_id"], j["kind"]) in done]


def _correlations(ours, theirs) -> tuple[float, float, int]:
    from scipy.stats import pearsonr, spearmanr

    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    keep = np.isfinite(ours) & np.isfinite(theirs)
    if keep.sum() < 3 or np.std(ours[keep]) == 0:
        return float("nan"), float("nan"), int(keep.sum())
    return float(pearsonr(ours[keep], theirs[keep])[0]), float(spearmanr(ours[keep], theirs[keep])[0]), int(keep.sum())


def report(rows: list[dict], scores_of=lambda row: row["scores"], word_scores_of=None) -> dict:
    """The figures of a set of cache rows (scores_of: a row's skills; word_scores_of: a row's word
    scores, in the order of its expected words). Returns them as a dict, and prints them."""
    from sklearn.metrics import roc_auc_score

    right = [r for r in rows if r["kind"] == "right" and "error" not in r]
    wrong = [r for r in rows if r["kind"] == "wrong" and "error" not in r]
    figures = {"n_right": len(right), "n_wrong": len(wrong), "speakers": len({r["speaker"] for r in right}),
               "errors": sum("error" in r for r in rows)}
    print(f"{len(right)} right readings of {figures['speakers']} speakers, {len(wrong)} readings of another text,"
          f" {figures['errors']} refused")
    for theirs, ours in SKILLS.items():
        values = [scores_of(r)[ours] for r in right]
        values = [np.nan if v is None else v for v in values]
        pearson, spearman, n = _correlations(values, [10 * r["ratings"][theirs] for r in right])
        figures[ours] = {"pearson": pearson, "spearman": spearman, "n": n}
        print(f"  {ours:<13} vs experts' {theirs:<12} Pearson {pearson:6.3f}  Spearman {spearman:6.3f}  (n = {n})")
    word_scores_of = word_scores_of or (lambda row: [w["score"] for w in row["words"]])
    ours, theirs = [], []
    for r in right:
        scores = word_scores_of(r)
        if len(scores) == len(r["word_accuracies"]):
            ours += list(scores)
            theirs += [10 * a for a in r["word_accuracies"]]
    pearson, spearman, n = _correlations(ours, theirs)
    figures["word_accuracy"] = {"pearson": pearson, "spearman": spearman, "n": n}
    print(f"  word score    vs experts' word accuracy  Pearson {pearson:6.3f}  Spearman {spearman:6.3f}  "
          f"(n = {n} words)")
    if right and wrong:
        overall = [scores_of(r)["overall"] for r in right + wrong]
        auc = roc_auc_score([1] * len(right) + [0] * len(wrong), overall)
        said_right = sum(scores_of(r).get("another_sentence", r["another_sentence"]) for r in right)
        said_wrong = sum(scores_of(r).get("another_sentence", r["another_sentence"]) for r in wrong)
        figures.update(auc=float(auc), another_sentence_right=said_right / len(right),
                       another_sentence_wrong=said_wrong / len(wrong))
        print(f"  right vs another text: AUC {auc:.3f}; 'another sentence' on {said_right} of {len(right)} "
              f"right readings ({100 * said_right / len(right):.1f}%), on {said_wrong} of {len(wrong)} of another text "
              f"({100 * said_wrong / len(wrong):.1f}%)")
    for name, group in (("children", [r for r in right if r["age"] < CHILD_BELOW_AGE]),
                        ("adults", [r for r in right if r["age"] >= CHILD_BELOW_AGE])):
        if group:
            ours_mean = float(np.mean([scores_of(r)["overall"] for r in group]))
            experts = float(np.mean([10 * r["ratings"]["total"] for r in group]))
            figures[name] = {"n": len(group), "ours": ours_mean, "experts": experts}
            print(f"  {name:<9} n = {len(group):<4} our overall {ours_mean:5.1f}   experts' total x10 {experts:5.1f}")
    if "children" in figures and "adults" in figures:
        ours_gap = figures["children"]["ours"] - figures["adults"]["ours"]
        experts_gap = figures["children"]["experts"] - figures["adults"]["experts"]
        figures["children_minus_adults"] = {"ours": ours_gap, "experts": experts_gap}
        print(f"  children minus adults: ours {ours_gap:+.1f}, experts' {experts_gap:+.1f}")
    seconds = [r["seconds"] for r in right + wrong if "seconds" in r]
    if seconds:
        print(f"  scoring time per reading: median {1000 * np.median(seconds):.0f} ms "
              f"(n = {len(seconds)}, jobs in parallel)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="the corpus's tree (WAVE/, train/, test/)")
    parser.add_argument("--ratings", type=Path, help="the experts' ratings (TSV)")
    parser.add_argument("--cache", type=Path, help="JSON lines of scorings (resumable); default: a temporary file")
    parser.add_argument("--report", type=Path, help="print the figures of this cache and stop")
    parser.add_argument("--json", action="store_true", help="with --report: also write the figures to "
                        "reports/validity/speechocean_<split>.json (docs/VALIDITY.md reports the test split's)")
    parser.add_argument("--jobs", type=int, default=1, help="processes in parallel (one thread each)")
    parser.add_argument("--limit", type=int, help="the first N rated utterances only (a quick look)")
    args = parser.parse_args()
    if args.report:
        rows = [json.loads(line) for line in open(args.report)]
        figures = report(rows)
        if args.json:
            splits = sorted({row["split"] for row in rows})
            print(f"figures written to {write_figures('speechocean_' + '_'.join(splits), figures)}")
        return
    if not (args.root and args.ratings):
        parser.error("--root and --ratings are needed (or --report CACHE)")
    ratings = read_ratings(args.ratings)[: args.limit]
    jobs = jobs_of(ratings, read_corpus(args.root))
    cache = args.cache or Path(os.environ.get("TMPDIR", "/tmp")) / f"speechocean-{os.getpid()}.jsonl"
    report(score_all(jobs, cache, args.jobs))


if __name__ == "__main__":
    main()

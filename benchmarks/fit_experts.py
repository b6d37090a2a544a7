"""Fit the experts' calibration (speaksphere/pronounce/experts.json) on speechocean762's train split.

    python benchmarks/speechocean.py --root DIR --ratings ratings_train.tsv --jobs 2 --cache so-train.jsonl
    python benchmarks/fit_experts.py so-train.jsonl                 # figures on folds by speaker, then write
    python benchmarks/fit_experts.py so-train.jsonl --dry-run       # figures only

The cache holds every rated train utterance scored against its own text (right) and against another
utterance's text (wrong), with its measures (speaksphere/pronounce/measures.py). For each skill the
experts rate (accuracy, fluency, prosodic, total; x10) and for each word's accuracy: a ridge regression
over the standardised measures, its penalty chosen by out-of-fold Pearson on 5 folds by speaker (no
speaker in two folds), then its spread matched to the experts' (predictions stretched about their mean
by the experts' standard deviation over the out-of-fold predictions'; Pearson is unchanged). "Another
sentence": a logistic regression of wrong against right readings, each measure's weight kept to the
sign measures.py gives it, said at the probability that 1.5% of the right readings reach out of fold
(and, as assess does, where the anchors' rule says so of a voice the listener hears clearly). Every
figure printed is out of fold: each reading predicted by a model fitted without its speaker. Refuses a
cache with readings outside the train split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from speaksphere.pronounce.experts import EXPERTS_PATH, Z_LIMIT, ExpertModels, LinearModel, standardised  # noqa: E402
from speaksphere.pronounce.measures import ANOTHER_SENTENCE_MEASURES, SKILL_MEASURES, WORD_MEASURES, listener_floored
from speaksphere.pronounce.scores import ScoreConfig, another_sentence_by_anchors  # noqa: E402
from speechocean import report  # noqa: E402

TARGETS = {"accuracy": "accuracy", "fluency": "fluency", "prosody": "prosodic", "overall": "total"}
ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
FOLDS = 5
RIGHT_FLAGGED = 0.015  # the share of right readings (out of fold) that may be called another sentence
LOGISTIC_C = 1.0  # out of fold, 1.5% of right readings flagged: 95.1% of wrong ones at C = 0.1, 96.9% at 1, 97.1% at 10


def fit_linear(x: np.ndarray, y: np.ndarray, features, model, clip: bool = True) -> LinearModel:
    """A LinearModel of an sklearn linear model fitted on x (n, d) standardised, NaN at the column mean
    (and clipped to +-Z_LIMIT where `clip`), as LinearModel applies it."""
    mean = np.nan_to_num(np.nanmean(x, axis=0))
    scale = np.nanstd(x, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 1e-9), scale, 1.0)
    model.fit(standardised(x, mean, scale, Z_LIMIT if clip else np.inf), y)
    return LinearModel(tuple(features), mean, scale, np.ravel(model.coef_).astype(float),
                       float(np.ravel(model.intercept_)[0]), clip)


class SignedLogistic:
    """A logistic regression whose weight on each (standardised) column keeps the given sign, with an L2
    penalty 1 / (2 C); sklearn's interface as fit_linear uses it (coef_, intercept_)."""

    def __init__(self, signs, C: float = 1.0):
        self.signs, self.C = np.asarray(signs, float), C

    def fit(self, z: np.ndarray, y: np.ndarray) -> SignedLogistic:
        oriented = z * self.signs

        def loss(w):
            logits = oriented @ w[1:] + w[0]
            error = 1.0 / (1.0 + np.exp(-logits)) - y
            value = np.sum(np.logaddexp(0.0, logits) - y * logits) + 0.5 / self.C * np.sum(w[1:] ** 2)
            return value, np.concatenate([[error.sum()], oriented.T @ error + w[1:] / self.C])

        bounds = [(None, None)] + [(0.0, None)] * z.shape[1]
        w = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
        self.coef_, self.intercept_ = w[1:] * self.signs, np.array([w[0]])
        return self


def stretched(model: LinearModel, factor: float, centre: float) -> LinearModel:
    """The model's predictions stretched by `factor` about `centre`."""
    return LinearModel(model.features, model.mean, model.scale, model.coef * factor,
                       centre + factor * (model.intercept - centre))


def out_of_fold(rows: list[dict], y: np.ndarray, groups: np.ndarray, make) -> np.ndarray:
    """Each row's prediction by a model fitted on the other speakers' folds (make(rows, y) -> LinearModel)."""
    predictions = np.zeros(len(y))
    for train, held in GroupKFold(FOLDS).split(rows, y, groups):
        predictions[held] = make([rows[i] for i in train], y[train]).predict([rows[i] for i in held])
    return predictions


def matrix(rows: list[dict], features) -> np.ndarray:
    return np.array([[np.nan if r.get(f) is None else float(r[f]) for f in features] for r in rows], dtype=np.float64)


def fit_ridge(rows, y, groups, features, name: str, alphas=ALPHAS) -> tuple[LinearModel, np.ndarray]:
    """The ridge with the best out-of-fold Pearson among `alphas`, fitted on all rows and its spread
    matched to the experts'; with its out-of-fold predictions (stretched alike)."""
    best = None
    for alpha in alphas:
        make = lambda r, t, alpha=alpha: fit_linear(matrix(r, features), t, features, Ridge(alpha=alpha))  # noqa: E731
        predicted = out_of_fold(rows, y, groups, make)
        pearson = np.corrcoef(predicted, y)[0, 1]
        if best is None or pearson > best[0]:
            best = (pearson, alpha, predicted)
    pearson, alpha, predicted = best
    factor, centre = y.std() / predicted.std(), predicted.mean()
    print(f"  {name:<24} ridge alpha {alpha:>6g}: out-of-fold Pearson {pearson:.3f} (n = {len(y)}), "
          f"spread x{factor:.2f}")
    model = fit_linear(matrix(rows, features), y, features, Ridge(alpha=alpha))
    return stretched(model, factor, model.predict(rows).mean()), centre + factor * (predicted - centre)


def anchors_say_another(measures: dict, config: ScoreConfig) -> bool:
    """assess's second route to "another sentence": the anchors' rule on a voice the listener is sure of
    (ScoreConfig.another_sentence_clear_transcript), from a reading's measures."""
    values = [measures.get(k) for k in ("listener_word_error_rate", "listener_floored", "listener_transcript")]
    if any(v is None for v in values):
        return False
    wer, floored, transcript = values
    return (another_sentence_by_anchors(wer, floored, measures.get("heard_cost_mean"), config)
            and transcript >= config.another_sentence_clear_transcript)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path, help="benchmarks/speechocean.py's cache of the train split")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    parser.add_argument("--out", type=Path, default=EXPERTS_PATH)
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.cache)]
    rows = [r for r in rows if "error" not in r]
    if any(r["split"] != "train" for r in rows):
        sys.exit("the cache holds readings outside the train split: fit on the train split only")
    for r in rows:  # caches written before the measure existed
        m = r["measures"]
        if m.get("listener_floored") is None and m.get("listener_attempt") is not None:
            m["listener_floored"] = listener_floored(m["listener_attempt"], m["listener_relative"])
    right = [r for r in rows if r["kind"] == "right"]
    wrong = [r for r in rows if r["kind"] == "wrong"]
    groups = np.array([r["speaker"] for r in right])
    if len(set(groups)) < FOLDS:
        sys.exit(f"{FOLDS} folds by speaker need at least {FOLDS} speakers; the cache has {len(set(groups))}")
    print(f"{len(right)} right readings of {len(set(groups))} train speakers, {FOLDS} folds by speaker")
    measures = [r["measures"] for r in right]
    skills, oof = {}, {}
    for skill, column in TARGETS.items():
        y = np.array([10.0 * r["ratings"][column] for r in right])
        skills[skill], oof[skill] = fit_ridge(measures, y, groups, SKILL_MEASURES, f"{skill} ({column})")
    # words: each expected word of a right reading against the experts' accuracy of that word
    word_rows, word_y, word_groups = [], [], []
    for r in right:
        if len(r["word_measures"]) == len(r["word_accuracies"]):
            word_rows += r["word_measures"]
            word_y += [10.0 * a for a in r["word_accuracies"]]
            word_groups += [r["speaker"]] * len(r["word_accuracies"])
    words, oof["words"] = fit_ridge(word_rows, np.array(word_y), np.array(word_groups), WORD_MEASURES, "word accuracy")
    # another sentence: wrong (1) against right (0) readings
    both = [r["measures"] for r in right + wrong]
    ys = np.array([0] * len(right) + [1] * len(wrong))
    gs = np.array([r["speaker"] for r in right + wrong])
    features, signs = tuple(ANOTHER_SENTENCE_MEASURES), tuple(ANOTHER_SENTENCE_MEASURES.values())
    make = lambda r, t: fit_linear(matrix(r, features), t, features, SignedLogistic(signs, LOGISTIC_C),  # noqa: E731
                                   clip=False)
    probability = 1.0 / (1.0 + np.exp(-out_of_fold(both, ys, gs, make)))
    threshold = float(np.quantile(probability[ys == 0], 1.0 - RIGHT_FLAGGED))
    another = make(both, ys)
    print(f"  another sentence: probability >= {threshold:.3f}")

    # the out-of-fold figures, as speechocean.py reports shipped scores (the overall gated and capped as
    # assess._score does)
    config = ScoreConfig()
    word_oof = iter(oof["words"])
    for k, r in enumerate(right + wrong):
        gate = min(1.0, (0.5 * r["measures"]["skill_accuracy"] + 0.5 * r["measures"]["skill_completeness"]) / 50.0)
        said = bool(probability[k] >= threshold) or anchors_say_another(r["measures"], config)
        if k < len(right):
            r["oof"] = {skill: float(np.clip(oof[skill][k], 0, 100)) for skill in TARGETS}
            if len(r["word_measures"]) == len(r["word_accuracies"]):
                r["oof_words"] = [float(np.clip(next(word_oof), 0, 100)) for _ in r["word_accuracies"]]
        else:  # a reading of another text: the overall the model fitted on all right readings gives it
            r["oof"] = {"overall": float(np.clip(skills["overall"].predict([r["measures"]])[0], 0, 100))}
        r["oof"]["overall"] = r["oof"]["overall"] * gate
        r["oof"]["overall"] = min(r["oof"]["overall"], config.another_sentence_cap) if said else r["oof"]["overall"]
        r["oof"]["another_sentence"] = said
        r["oof"]["completeness"] = r["scores"]["completeness"]
    print(f"\nOut-of-fold figures (speechocean762 train split, {FOLDS} folds by speaker):")
    figures = report(right + wrong, scores_of=lambda r: r["oof"], word_scores_of=lambda r: r.get("oof_words", []))
    if args.dry_run:
        return
    info = {"fitted_on": "speechocean762 train split: the experts' ratings (ratings_train.tsv) of "
                         f"{len(right)} utterances of {len(set(groups))} speakers (Mandarin L1, children and adults), "
                         f"and {len(wrong)} of them scored against another utterance's text",
            "folds": f"{FOLDS} by speaker", "out_of_fold": figures}
    ExpertModels(skills, words, another, threshold, info).save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()

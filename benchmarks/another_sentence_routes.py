"""Rules for "another sentence", chosen on speechocean762's train folds; the real natives only reported.

    python benchmarks/another_sentence_routes.py so-train.jsonl --natives natives.jsonl

The shipped rule (assess._as_experts_would, fit_experts.py): the learners' logistic regression says it
where its probability reaches the value that RIGHT_FLAGGED of right readings reach out of fold, or the
anchors' rule (scores.another_sentence_by_anchors) says it of a voice the listener is sure of (its
transcript at least CLEAR nats a token). This prints, for a grid of both thresholds, and with or without
a third route (the anchors' rule where the transcript's likelihood is missing: before
listener.kept_log_probability, wherever Whisper had looped; a cache heard since has none), the share of
the learners' right readings and of their readings of another text called another sentence, each
reading judged by a logistic regression fitted without its speaker; and, from
`pronunciation_languages.py --real --measures-out`'s file, the same for the natives per language
(the rule fitted on all learners). Choose on the learners' columns; the natives' are where it is measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_experts import FOLDS, LOGISTIC_C, SignedLogistic, fit_linear, matrix, out_of_fold  # noqa: E402
from speaksphere.pronounce.measures import ANOTHER_SENTENCE_MEASURES  # noqa: E402
from speaksphere.pronounce.scores import ScoreConfig, another_sentence_by_anchors  # noqa: E402

RIGHT_FLAGGED = (0.015, 0.0125, 0.01)  # the shipped 0.015 first
CLEAR = (-0.5, -0.6, -0.7, -0.8)  # the shipped -0.5 first


def evidence(measures: dict, config: ScoreConfig) -> tuple[bool, float, bool]:
    """(the anchors' rule says it, the transcript's log-probability per token, the transcript looped)."""
    wer, floored = measures.get("listener_word_error_rate"), measures.get("listener_floored")
    if wer is None or floored is None:  # no listener
        return False, -np.inf, False
    transcript = measures.get("listener_transcript")
    said = another_sentence_by_anchors(wer, floored, measures.get("heard_cost_mean"), config)
    return said, -np.inf if transcript is None else transcript, transcript is None


def rule(probability, evidences, threshold: float, clear: float, looped: bool) -> np.ndarray:
    return np.array([p >= threshold or (said and (transcript >= clear or (looped and loop)))
                     for p, (said, transcript, loop) in zip(probability, evidences)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path, help="benchmarks/speechocean.py's cache of the train split")
    parser.add_argument("--natives", type=Path, help="pronunciation_languages.py --real --measures-out's file")
    args = parser.parse_args()
    rows = [r for r in map(json.loads, open(args.cache)) if "error" not in r]
    if any(r["split"] != "train" for r in rows):
        sys.exit("the cache holds readings outside the train split: choose on the train split only")
    rows = [r for r in rows if r["kind"] == "right"] + [r for r in rows if r["kind"] == "wrong"]
    measures = [r["measures"] for r in rows]
    is_wrong = np.array([r["kind"] == "wrong" for r in rows])
    features, signs = tuple(ANOTHER_SENTENCE_MEASURES), tuple(ANOTHER_SENTENCE_MEASURES.values())
    make = lambda r, t: fit_linear(matrix(r, features), t, features, SignedLogistic(signs, LOGISTIC_C),  # noqa: E731
                                   clip=False)
    speakers = np.array([r["speaker"] for r in rows])
    probability = 1.0 / (1.0 + np.exp(-out_of_fold(measures, is_wrong.astype(int), speakers, make)))
    config = ScoreConfig()
    evidences = [evidence(m, config) for m in measures]
    natives = list(map(json.loads, open(args.natives))) if args.natives else []
    if natives:
        fitted = make(measures, is_wrong.astype(int))
        native_probability = 1.0 / (1.0 + np.exp(-np.clip(fitted.predict([r["measures"] for r in natives]), -50, 50)))
        native_evidences = [evidence(r["measures"], config) for r in natives]
    print(f"learners: {(~is_wrong).sum()} right readings, {is_wrong.sum()} of another text ({FOLDS} folds by "
          "speaker); natives: % of readings of another text / of right readings said to be another sentence")
    for share in RIGHT_FLAGGED:
        threshold = float(np.quantile(probability[~is_wrong], 1.0 - share))
        for clear in CLEAR:
            for looped in (False, True):
                said = rule(probability, evidences, threshold, clear, looped)
                line = (f"right {share:.2%} (p >= {threshold:.3f}), clear >= {clear}, "
                        f"looped {'yes' if looped else 'no '}: learners right {said[~is_wrong].mean():6.2%}, "
                        f"another text {said[is_wrong].mean():6.2%}")
                if natives:
                    line += " | natives " + rates(rule(native_probability, native_evidences, threshold, clear, looped),
                                                  natives)
                print(line)


def rates(said: np.ndarray, natives: list[dict]) -> str:
    """Per language: % of readings of another text, then of right readings, said to be another sentence."""
    def share(language, right):
        return 100 * np.mean([s for s, r in zip(said, natives) if r["language"] == language and r["right"] == right])
    return " ".join(f"{language} {share(language, False):.0f}/{share(language, True):.0f}"
                    for language in sorted({r["language"] for r in natives}))


if __name__ == "__main__":
    main()

"""Fit free speech's calibration (speaksphere/speak/speaking.json) on speechocean762's train split,
with the text withheld.

    python benchmarks/speak_speechocean.py --root DIR --ratings ratings_train.tsv --jobs 2 --cache speak-train.jsonl
    python benchmarks/fit_speaking.py speak-train.jsonl              # figures on folds by speaker, then write
    python benchmarks/fit_speaking.py speak-train.jsonl --dry-run    # figures only

The measures are recomputed from the cache's raw rows (speaksphere/speak/measures.py), so a change of a
measure needs no second listening. Pronunciation is fitted to the experts' accuracy, fluency to their
fluency, overall to their total (x10), each word the listener heard to the experts' accuracy of the
expected word it aligns with (listener.align_words; insertions have none). Each is a ridge over
standardised measures, its penalty chosen by out-of-fold Pearson on 5 folds by speaker, its spread
matched to the experts' (fit_experts.fit_ridge). Every figure printed is out of fold. Refuses a cache
with utterances outside the train split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_experts import fit_ridge  # noqa: E402
from speaksphere.pronounce.listener import align_words, normalise_word, spell_number  # noqa: E402
from speaksphere.speak.assess import MIN_SPEECH_S, MIN_WORDS, SPEAKING_PATH, SpeakingModels  # noqa: E402
from speaksphere.speak.measures import (  # noqa: E402
    EMBEDDING_MEASURES,
    FLUENCY_MEASURES,
    OVERALL_MEASURES,
    PRONUNCIATION_MEASURES,
    WORD_MEASURES,
    embedding_measures,
    speech_measures,
    word_measures,
)

TARGETS = {"pronunciation": ("accuracy", PRONUNCIATION_MEASURES + EMBEDDING_MEASURES),
           "fluency": ("fluency", FLUENCY_MEASURES + EMBEDDING_MEASURES),
           "overall": ("total", OVERALL_MEASURES + EMBEDDING_MEASURES)}
CHILD_BELOW_AGE = 18
ALPHAS = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)  # 512 encoder dimensions need stronger penalties


def measures_of(row: dict) -> dict:
    """A cache row's measures, recomputed by speaksphere.speak.measures from its raw listening."""
    prosody = {k: (np.nan if v is None else v) for k, v in row["prosody"].items()}
    token = row["token_log_probability_mean"]
    return {**speech_measures(row["words"], [tuple(s) for s in row["segments"]], "en",
                              row["language_probabilities"]["en"], np.nan if token is None else token, prosody),
            **embedding_measures(row["embedding"])}


def word_rows(row: dict) -> list[tuple[dict, float]]:
    """(measures, expert accuracy x10) for each heard word aligned with an expected word."""
    expected = [normalise_word(w) for w in row["text"].split()]
    written = frozenset(expected)
    heard, owners = [], []
    for index, word in enumerate(row["words"]):
        for spelled in spell_number(normalise_word(word["text"]), "en", written):
            heard.append(spelled)
            owners.append(index)
    pairs = {}
    for i, j in align_words(expected, heard):
        if i is not None and j is not None and i < len(row["word_accuracies"]):
            pairs.setdefault(owners[j], []).append(10.0 * row["word_accuracies"][i])
    return [(word_measures(row["words"][k]), float(np.mean(v))) for k, v in sorted(pairs.items())]


OFFSET_LANGUAGES = ("en", "es", "fr", "it", "de", "ru")


def language_offsets() -> dict[str, np.ndarray]:
    """Per language, the mean encoder frame of espeak-ng saying that language's 15 Speak prompts (texts
    outside the library, whose recordings check the natives) minus English's: (512,) each. The learners
    the models are fitted on speak English; a voice speaking another language sits elsewhere in the
    encoder's space for its language alone (native French scored 83 before this, 92 after)."""
    from speaksphere.pronounce.references import synthesised_reference
    from speaksphere.speak.listening import listen
    from speaksphere.speak.prompts import prompts

    means = {}
    for language in OFFSET_LANGUAGES:
        embeddings = []
        for text in [p.text for p in prompts(language)]:
            recording = synthesised_reference(text, language).recording
            embeddings.append(listen(recording.wave, recording.segments, language).embedding)
        means[language] = np.mean(embeddings, axis=0).astype(np.float64)
        print(f"  {language}: {len(embeddings)} synthetic sayings", file=sys.stderr)
    return {language: mean - means["en"] for language, mean in means.items() if language != "en"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--out", type=Path, default=SPEAKING_PATH)
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.cache)]
    errors = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    if any(r["split"] != "train" for r in rows):
        sys.exit("the cache holds utterances outside the train split: fit on the train split only")
    short = [r for r in rows if sum(b - a for a, b in r["segments"]) < MIN_SPEECH_S or len(r["words"]) < MIN_WORDS]
    rows = [r for r in rows if r not in short]  # what assess_speech refuses as too little to judge
    if any(r["split"] != "train" for r in rows):
        sys.exit("the cache holds utterances outside the train split: fit on the train split only")
    groups = np.array([r["speaker"] for r in rows])
    measures = [measures_of(r) for r in rows]
    english = np.mean([max(r["language_probabilities"], key=r["language_probabilities"].get) == "en" for r in rows])
    print(f"{len(rows)} utterances of {len(set(groups))} speakers ({len(errors)} unreadable, {len(short)} too short "
          "to assess); the language heard "
          f"is English for {english:.1%}")
    models, figures = {}, {}
    for name, (rating, features) in TARGETS.items():
        y = np.array([10.0 * r["ratings"][rating] for r in rows])
        model, predicted = fit_ridge(measures, y, groups, features, f"{name} vs experts' {rating}", ALPHAS)
        children = np.array([r["age"] < CHILD_BELOW_AGE for r in rows])
        figures[name] = {"pearson": round(float(np.corrcoef(predicted, y)[0, 1]), 3), "n": len(y),
                         "mean": round(float(predicted.mean()), 1),
                         "children_minus_adults": round(float(predicted[children].mean()
                                                              - predicted[~children].mean()), 1),
                         "experts_children_minus_adults": round(float(y[children].mean() - y[~children].mean()), 1)}
        models[name] = model
    pairs = [(m, y, r["speaker"]) for r in rows for m, y in word_rows(r)]
    word_model, word_predicted = fit_ridge([p[0] for p in pairs], np.array([p[1] for p in pairs]),
                                           np.array([p[2] for p in pairs]), WORD_MEASURES,
                                           "words vs experts' accuracy", ALPHAS)
    figures["words"] = {"pearson": round(float(np.corrcoef(word_predicted, [p[1] for p in pairs])[0, 1]), 3),
                        "n": len(pairs)}
    figures["english_heard"] = round(float(english), 4)
    print(json.dumps(figures, indent=1))
    if args.dry_run:
        return
    info = {"data": "speechocean762 train split (Mandarin-L1 adults and children reading English), text withheld",
            "utterances": len(rows), "speakers": int(len(set(groups))), "folds": "5 by speaker",
            "out_of_fold": figures}
    SpeakingModels(models, word_model, info, language_offsets()).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

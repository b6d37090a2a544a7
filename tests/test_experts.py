"""Scores a teacher would give: the measures behind a scoring, the shipped calibration to experts' ratings
(speaksphere/pronounce/experts.json), and the speechocean762 benchmark that fits and measures it, run on a
small corpus made here (the real corpus is never needed by the tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaksphere.pronounce import assess_file, score_pronunciation
from speaksphere.pronounce.experts import EXPERTS_PATH, ExpertModels, LinearModel
from speaksphere.pronounce.features import fold_octaves
from speaksphere.pronounce.measures import ANOTHER_SENTENCE_MEASURES, SKILL_MEASURES, WORD_MEASURES, prosody_measures
from speaksphere.pronounce.scores import ScoreConfig
from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parent.parent
TEXT = "My brother works in a big hospital."


def test_a_linear_model_takes_missing_measures_at_their_mean():
    model = LinearModel(("a", "b"), np.array([1.0, 10.0]), np.array([2.0, 5.0]), np.array([3.0, -1.0]), 50.0)
    assert model.predict([{"a": 1.0, "b": 10.0}])[0] == pytest.approx(50.0)
    assert model.predict([{"a": 3.0, "b": None}])[0] == pytest.approx(53.0)  # b missing: adds nothing
    assert model.predict([{"a": 3.0, "b": 15.0}])[0] == pytest.approx(52.0)
    # an infinite measure (a looping transcript's -inf) is missing, as the published (null) measures were fitted
    assert model.predict([{"a": float("-inf"), "b": 10.0}])[0] == pytest.approx(50.0)
    assert model.predict([{"a": 101.0, "b": 10.0}])[0] == pytest.approx(50.0 + 3.0 * 4.0)  # clipped at 4 sd
    assert LinearModel.from_dict(model.to_dict()).predict([{"a": 2.0, "b": 0.0}]) == pytest.approx(
        model.predict([{"a": 2.0, "b": 0.0}]))


def test_octave_errors_are_folded_back():
    """YIN on 8-kHz prompts jumped by +-12 semitones: one such frame made a native's prosody 0."""
    contour = np.array([0.0, 1.0, 12.5, -11.0, 2.0, np.nan, -2.0, 24.0])
    np.testing.assert_allclose(fold_octaves(contour), [0.0, 1.0, 0.5, 1.0, 2.0, np.nan, -2.0, 0.0])
    steady = np.tile([0.0, 1.0, -1.0, 12.0], 25)  # a level voice with one tracker error in four frames
    measured = prosody_measures(fold_octaves(steady), np.zeros(100))
    assert measured["pitch_range_st"] < 3 and measured["voiced_share"] == 1.0


def test_the_shipped_calibration_is_small_and_says_what_it_was_fitted_on():
    assert EXPERTS_PATH.stat().st_size < 1_000_000
    models = ExpertModels.load()
    assert set(models.skills) == {"accuracy", "fluency", "prosody", "overall"}
    assert all(model.features == SKILL_MEASURES for model in models.skills.values())
    assert (models.words.features == WORD_MEASURES
            and models.another_sentence.features == tuple(ANOTHER_SENTENCE_MEASURES))
    signs = np.sign(models.another_sentence.coef)
    assert all(s in (0, ANOTHER_SENTENCE_MEASURES[f]) for f, s in zip(models.another_sentence.features, signs))
    assert "train split" in models.info["fitted_on"] and "by speaker" in models.info["folds"]
    assert 0.0 < models.another_sentence_threshold < 1.0
    # the ridges do not extrapolate; the sign-kept rule takes an extreme value as the strongest evidence
    assert all(m.clip for m in models.skills.values()) and models.words.clip and not models.another_sentence.clip


def test_scores_come_from_the_calibration():
    """With the calibration, accuracy, fluency, prosody (now from the reading itself, also against a
    typed text's synthesis) and overall are its predictions from the result's measures."""
    audio = _wav(TEXT, "en-us+m3")
    result = score_pronunciation(audio, text=TEXT, language="en")
    plain = assess_file(audio, text=TEXT, language="en", config=ScoreConfig(experts=False)).result
    assert result["prosody"] is not None and result["not_scored"] == {}
    assert plain["prosody"] is None  # the anchors alone do not score prosody against a synthesis
    measures = result["details"]["measures"]
    assert set(SKILL_MEASURES) <= set(measures)
    assert measures == plain["details"]["measures"]  # the measures do not depend on the calibration
    fitted = assess_file(audio, text=TEXT, language="en").word_measures
    assert len(fitted) == len([w for w in result["words"] if w["word"] is not None])


def test_another_text_is_another_sentence_and_the_right_one_is_not():
    right = score_pronunciation(_wav(TEXT, "en-gb+f2"), text=TEXT, language="en")
    wrong = score_pronunciation(_wav("The weather is lovely by the sea today.", "en-gb+f2"), text=TEXT, language="en")
    assert not right["another_sentence"] and wrong["another_sentence"]
    assert wrong["overall"] <= ScoreConfig().another_sentence_cap < right["overall"]


def _wav(text: str, voice: str) -> bytes:
    import io

    wave, rate = synthesize(text, voice=voice)
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """A speechocean762-shaped corpus of 4 utterances by 2 speakers (synthesised), and its ratings TSV."""
    root = tmp_path_factory.mktemp("speechocean")
    texts = {"000010011": "WE CALL IT BEAR", "000010035": "ZERO THREE FIVE ONE",
             "000020011": "MARK IS GOING TO SEE ELEPHANT", "000020012": "THE BOOK IS ON THE TABLE"}
    (root / "train").mkdir()
    lists = {name: open(root / "train" / name, "w") for name in ("text", "wav.scp", "utt2spk", "spk2age")}
    for utt, text in texts.items():
        speaker = utt[1:5]
        folder = root / "WAVE" / f"SPEAKER{speaker}"
        folder.mkdir(parents=True, exist_ok=True)
        wave, rate = synthesize(text.lower(), voice="en-us+f3" if speaker == "0001" else "en-gb+m3")
        import librosa

        sf.write(folder / f"{utt}.WAV", librosa.resample(wave, orig_sr=rate, target_sr=16000), 16000)
        lists["text"].write(f"{utt}\t{text}\n")
        lists["wav.scp"].write(f"{utt}\tWAVE/SPEAKER{speaker}/{utt}.WAV\n")
        lists["utt2spk"].write(f"{utt}\t{speaker}\n")
    lists["spk2age"].write("0001\t8\n0002\t30\n")
    for handle in lists.values():
        handle.close()
    ratings = root / "ratings.tsv"
    with open(ratings, "w") as out:
        out.write("utt_id\taccuracy\tcompleteness\tfluency\tprosodic\ttotal\ttext\tword_accuracies\tword_totals\n")
        for k, (utt, text) in enumerate(texts.items()):
            n = len(text.split())
            out.write(f"{utt}\t{6 + k}\t10\t{7 + k % 2}\t{6 + k % 3}\t{6 + k}\t{text}\t"
                      f"{','.join(['8'] * n)}\t{','.join(['8'] * n)}\n")
    return root, ratings


def test_the_speechocean_benchmark_scores_and_reports(tiny_corpus, tmp_path):
    root, ratings = tiny_corpus
    cache = tmp_path / "so.jsonl"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speechocean.py"), "--root", str(root),
                          "--ratings", str(ratings), "--cache", str(cache)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for expected in ("4 right readings of 2 speakers", "accuracy      vs experts' accuracy", "word score",
                     "right vs another text: AUC", "'another sentence' on", "children  n = 2", "adults    n = 2",
                     "children minus adults"):
        assert expected in run.stdout, expected
    rows = [json.loads(line) for line in open(cache)]
    assert {r["kind"] for r in rows} == {"right", "wrong"} and len(rows) == 8
    assert all(set(SKILL_MEASURES) <= set(r["measures"]) and len(r["word_measures"]) == len(r["words"]) for r in rows)
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "speechocean.py"), "--root", str(root),
                            "--ratings", str(ratings), "--cache", str(cache)],
                           capture_output=True, text=True, timeout=600)
    assert "8 scorings in" in again.stderr and "0 to go" in again.stderr  # resumed: nothing scored twice
    fit = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fit_experts.py"), str(cache), "--dry-run"],
                         capture_output=True, text=True, timeout=600)
    assert fit.returncode != 0 and "5 folds by speaker need at least 5 speakers" in fit.stderr  # 2 here


def test_leaving_words_out_never_raises_a_score():
    """Review: with omissions among the measures (3 of 876 train readings had one), standardising by their
    tiny spread made a reading with a fifth of its words left out score higher on every skill."""
    full = score_pronunciation(_wav(TEXT, "en-gb+f2"), text=TEXT, language="en")
    shortened = score_pronunciation(_wav("My brother works hospital.", "en-gb+f2"), text=TEXT, language="en")
    assert shortened["completeness"] < full["completeness"]
    assert shortened["overall"] < full["overall"] and shortened["accuracy"] <= full["accuracy"] + 5
    left_out = [s for s in shortened["segments"] if s["miscue"] == "omission"]
    assert left_out and all(s["flag"] for s in left_out)  # a word left out is flagged, whatever its score


def test_the_another_sentence_routes_and_language_offsets_benchmarks_compute_what_they_print():
    """benchmarks/another_sentence_routes.py's rule (the learners' probability, or the anchors' rule where
    the listener is clear, or, asked, where its transcript looped) and scores_per_language.py's offsets."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import repository_module

    routes = repository_module("benchmarks/another_sentence_routes.py")
    other = {"listener_word_error_rate": 1.0, "listener_floored": -4.0, "heard_cost_mean": 0.5}
    clear, looped = dict(other, listener_transcript=-0.3), dict(other, listener_transcript=None)
    assert routes.evidence(looped, ScoreConfig()) == (True, -np.inf, True)
    assert routes.evidence({"listener_transcript": -0.3}, ScoreConfig()) == (False, -np.inf, False)  # no listener
    evidences = [routes.evidence(m, ScoreConfig()) for m in (clear, looped, dict(clear, listener_floored=-1.0))]
    assert routes.rule([0.1, 0.1, 0.1], evidences, 0.75, -0.5, looped=False).tolist() == [True, False, False]
    assert routes.rule([0.1, 0.1, 0.1], evidences, 0.75, -0.5, looped=True).tolist() == [True, True, False]
    assert routes.rule([0.1, 0.1, 0.8], evidences, 0.75, -0.2, looped=False).tolist() == [False, False, True]
    bias = repository_module("benchmarks/scores_per_language.py")
    rows = [{"language": "en", "measures": {"cost_mean": 0.4, "pauses": None}},
            {"language": "en", "measures": {"cost_mean": 0.6, "pauses": 1.0}},
            {"language": "es", "measures": {"cost_mean": 0.7, "pauses": None}}]
    shifts = bias.offsets(rows)
    assert set(shifts) == {"es"} and set(shifts["es"]) == set(SKILL_MEASURES)
    assert shifts["es"]["cost_mean"] == pytest.approx(0.2) and shifts["es"]["pauses"] == 0.0  # missing in es: 0

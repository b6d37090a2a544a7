"""The recommender: catalogue, Thompson sampler, cold-start prior, learning a planted best drill (in
memory and through the store), explanations, concurrency of one learner's state, and the simulation."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest

from speaksphere.config import ConfigError
from speaksphere.learner.recommend import BanditConfig, Recommender, load_catalogue
from speaksphere.learner.recommend.bandit import LinearThompsonSampler
from speaksphere.learner.recommend.catalogue import FIRST_LANGUAGE_NAMES, L1_ACCENTS, LANGUAGES, Catalogue
from speaksphere.learner.recommend.context import LearnerContext, learner_context
from speaksphere.learner.recommend.policy import choose_exercise, learn_from_attempt, learn_from_thumb, new_policy_state
from speaksphere.learner.recommend.population import SimulationConfig
from speaksphere.learner.recommend.simulate import main as simulate_main
from speaksphere.learner.recommend.simulate import run_simulation, summarise
from speaksphere.learner.store import SKILLS, LearnerError, LearnerStore

CATALOGUE = load_catalogue()
ENGLISH = CATALOGUE.for_language("en")
CONFIG = BanditConfig()


def context(accent: str | None = "L1-de", **levels: float) -> LearnerContext:
    level = {"accuracy": 70.0, "fluency": 70.0, "prosody": 70.0, "completeness": 70.0, "coherence": 70.0, **levels}
    return LearnerContext("en", accent, level, dict.fromkeys(SKILLS, 0.0), attempts=10)


@pytest.fixture
def store(tmp_path) -> LearnerStore:
    return LearnerStore(tmp_path / "learners.sqlite3", synchronous="NORMAL")


# ---- catalogue ----

def test_catalogue_covers_every_skill_in_every_language_and_every_first_language():
    for language in LANGUAGES:
        assert {e.skill for e in CATALOGUE.for_language(language)} == set(SKILLS), language
    assert set(FIRST_LANGUAGE_NAMES) == set(L1_ACCENTS) and FIRST_LANGUAGE_NAMES["L1-zh"] == "Mandarin"
    for accent in L1_ACCENTS:
        pairs = [e for e in ENGLISH if e.kind == "minimal_pairs" and accent in e.accents]
        assert len(pairs) >= 2, accent
    kinds = {e.kind for e in ENGLISH}
    assert {"minimal_pairs", "shadowing", "chunking", "pausing", "intonation", "slow_reading", "command_drill"} <= kinds
    for exercise in CATALOGUE:
        assert exercise.reference.language == exercise.language and exercise.reference.text.strip()
        assert exercise.practises.startswith("practises ")


def test_catalogue_files_with_a_typo_or_a_duplicate_are_refused(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("exercises:\n- {id: a, kind: shadowing, skil: prosody}\n")
    with pytest.raises(ConfigError, match="skil"):
        load_catalogue(typo)
    with pytest.raises(ValueError, match="duplicate"):
        Catalogue([ENGLISH[0], ENGLISH[0]])


# ---- the sampler ----

def test_sampler_posterior_recovers_planted_weights_and_samples_match_its_covariance():
    rng = np.random.default_rng(0)
    truth = np.array([2.0, -1.0, 0.5, 3.0])
    sampler = LinearThompsonSampler.from_prior(np.zeros(4), np.full(4, 10.0))
    for _ in range(2000):
        phi = rng.normal(size=4)
        sampler.update(phi, phi @ truth + rng.normal(0, 0.5), noise_sd=0.5)
    np.testing.assert_allclose(sampler.mean(), truth, atol=0.05)
    restored = LinearThompsonSampler.from_state(json.loads(json.dumps(sampler.to_state())))
    draws = np.array([restored.sample(rng) for _ in range(4000)])
    np.testing.assert_allclose(np.cov(draws.T), np.linalg.inv(sampler.precision), rtol=0.15, atol=1e-5)


def test_sampler_learns_a_planted_best_arm():
    rng = np.random.default_rng(1)
    means = np.array([1.0, 2.0, 3.0, 5.0, 2.5])
    arms = np.eye(5)
    sampler = LinearThompsonSampler.from_prior(np.full(5, 3.0), np.full(5, 3.0))
    chosen = []
    for _ in range(300):
        arm, _ = sampler.choose(arms, rng)
        sampler.update(arms[arm], means[arm] + rng.normal(0, 1.0), noise_sd=1.0)
        chosen.append(arm)
    assert np.mean(np.array(chosen[-100:]) == 3) > 0.9
    assert abs(sampler.mean()[3] - 5.0) < 0.3


# ---- the policy ----

def test_cold_start_follows_the_teachers_rule():
    greedy = replace(CONFIG, exploration=1e-9)
    rng = np.random.default_rng(0)
    german = choose_exercise(context("L1-de", accuracy=45.0), ENGLISH, new_policy_state(), greedy, rng).exercise
    assert german.skill == "accuracy" and "L1-de" in german.accents
    # the accent head's real class (issue 36): a Mandarin-L1 learner gets a drill written for Mandarin
    mandarin = choose_exercise(context("L1-zh", accuracy=45.0), ENGLISH, new_policy_state(), greedy, rng).exercise
    assert mandarin.skill == "accuracy" and "L1-zh" in mandarin.accents
    native = choose_exercise(context("en-GB", prosody=40.0), ENGLISH, new_policy_state(), greedy, rng).exercise
    assert native.skill == "prosody"


def test_policy_learns_a_planted_best_drill_the_prior_did_not_favour():
    rng = np.random.default_rng(2)
    learner = context("L1-de", accuracy=50.0, coherence=65.0)  # the prior starts on accuracy drills
    state, planted, chosen = new_policy_state(), "en-seq-morning", []
    for _ in range(40):
        choice = choose_exercise(learner, ENGLISH, state, CONFIG, rng)
        helped = choice.exercise.id == planted
        attempt = {"scores": {choice.exercise.skill: choice.context["baseline"] + (3.0 if helped else 0.0)}}
        learn_from_attempt(state, choice.context, attempt, CONFIG)
        learn_from_thumb(state, choice.context, helped, CONFIG)
        chosen.append(choice.exercise.id)
    assert chosen[:3].count(planted) == 0
    assert chosen[-10:].count(planted) >= 8


def test_explanations_are_one_sentence_naming_the_skill():
    rng = np.random.default_rng(3)
    for learner in [context("L1-fr", fluency=40.0), context(None, prosody=30.0), learner_context([], "en")]:
        choice = choose_exercise(learner, ENGLISH, new_policy_state(), CONFIG, rng)
        text = choice.explanation
        assert text.endswith(".") and "\n" not in text and text.count(". ") == 0
        assert choice.exercise.skill in text and choice.exercise.title in text
    assert "not heard" in choose_exercise(learner_context([], "en"), ENGLISH, new_policy_state(), CONFIG,
                                          rng).explanation


# ---- the recommender with its store ----

def attempt_for(store, learner, recommendation, accuracy=60.0):
    return store.record_attempt(learner, "pronounce", {skill: 70.0 for skill in SKILLS} | {"accuracy": accuracy},
                                language="en", accent="L1-de", exercise_id=recommendation.exercise.id,
                                recommendation_id=recommendation.id)


def test_recommender_learns_each_outcome_once_and_refuses_bad_requests(store):
    recommender = Recommender(store, seed=0)
    learner = store.new_learner()
    first = recommender.recommend(learner)
    assert store.recommendations(learner)[0]["explanation"] == first.explanation
    attempt_for(store, learner, first)
    second = recommender.recommend(learner)  # learns nothing: the first had no baseline yet
    attempt_for(store, learner, second, accuracy=66.0)
    recommender.feedback(learner, second.id, thumbs_up=True)
    state, _ = store.load_policy_state(learner)
    assert state["models"]["en"]["evidence"][second.exercise.id] == 2  # the score change and the thumb
    assert recommender.learn(learner) == 0  # nothing is learned twice
    assert first.to_dict()["exercise"]["reference"]["text"]
    with pytest.raises(LearnerError):
        recommender.recommend("not-an-id")
    with pytest.raises(ValueError, match="no exercises"):
        recommender.recommend(learner, language="ja")
    with pytest.raises(LearnerError):
        recommender.feedback(store.new_learner(), second.id, thumbs_up=False)  # not that learner's


def test_recommender_learns_a_planted_best_drill_through_the_store(store):
    recommender = Recommender(store, seed=4)
    learner, planted, chosen = store.new_learner(), "en-pause-news", []
    store.record_attempt(learner, "pronounce", {s: 70.0 for s in SKILLS} | {"accuracy": 50.0}, language="en",
                         accent="L1-de")
    for _ in range(30):
        recommendation = recommender.recommend(learner)
        attempt_for(store, learner, recommendation, accuracy=50.0)
        recommender.feedback(learner, recommendation.id, thumbs_up=recommendation.exercise.id == planted)
        chosen.append(recommendation.exercise.id)
    assert chosen[-8:].count(planted) >= 6
    # A smaller catalogue (one drill withdrawn) keeps what was learned about the rest.
    smaller = Catalogue([e for e in CATALOGUE if e.id != "en-mp-w-v"])
    assert Recommender(store, smaller, seed=5).recommend(learner).exercise.id == planted


def test_one_learner_in_many_tabs_loses_no_evidence(store):
    recommender = Recommender(store)
    learner = store.new_learner()
    store.record_attempt(learner, "pronounce", {s: 60.0 for s in SKILLS}, language="en")
    recommendations = [recommender.recommend(learner, fresh=True) for _ in range(8)]
    threads = [threading.Thread(target=recommender.feedback, args=(learner, r.id, i % 2 == 0))
               for i, r in enumerate(recommendations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recommender.learn(learner)
    state, _ = store.load_policy_state(learner)
    assert sum(state["models"]["en"]["evidence"].values()) == 8


def test_a_recommendation_stays_until_acted_on_or_dismissed(store):
    recommender = Recommender(store, seed=1)
    learner = store.new_learner()
    first = recommender.recommend(learner, "en")
    again = recommender.recommend(learner, "en")
    assert again.id == first.id and again.pending and not first.pending  # "Suggest" twice: the same exercise
    assert again.exercise == first.exercise and again.explanation == first.explanation
    assert recommender.recommend(learner, "fr").id != first.id  # another language has its own
    assert recommender.recommend(learner, "en").id == first.id  # ... and the English one still waits
    recommender.feedback(learner, first.id, thumbs_up=True)
    assert recommender.recommend(learner, "en").id == first.id  # liked, not yet practised: it stays
    attempt_for(store, learner, first)
    practised = recommender.recommend(learner, "en")
    assert practised.id != first.id and not practised.pending  # acted on: a new one
    recommender.feedback(learner, practised.id, thumbs_up=False)
    assert recommender.recommend(learner, "en").id not in (first.id, practised.id)  # dismissed: a new one
    assert len(store.recommendations(learner)) == 4


def test_one_thumb_per_recommendation_the_latest_wins(store):
    changed, down = store.new_learner(), store.new_learner()
    for learner in (changed, down):
        store.record_attempt(learner, "pronounce", {s: 60.0 for s in SKILLS}, language="en", accent="L1-de")
    first = Recommender(store, seed=3).recommend(changed)
    second = Recommender(store, seed=3).recommend(down)  # the same context and seed: the same drill
    assert first.exercise.id == second.exercise.id
    recommender = Recommender(store)
    recommender.feedback(changed, first.id, thumbs_up=True)
    recommender.feedback(changed, first.id, thumbs_up=False)  # changed their mind
    recommender.feedback(changed, first.id, thumbs_up=False)  # the same thumb twice counts once
    recommender.feedback(down, second.id, thumbs_up=False)
    models = [store.load_policy_state(learner)[0]["models"]["en"] for learner in (changed, down)]
    np.testing.assert_allclose(models[0]["precision_mean"], models[1]["precision_mean"], atol=1e-9)
    np.testing.assert_allclose(models[0]["precision"], models[1]["precision"], atol=1e-9)
    assert models[0]["evidence"][first.exercise.id] == models[1]["evidence"][first.exercise.id] == 1


# ---- the simulation ----

def test_a_small_simulation_shows_the_bandit_beating_random_choice():
    config = SimulationConfig(seeds=[7], learners=24, sessions=30)
    results = run_simulation(config, CONFIG, CATALOGUE, ["bandit", "random", "weakest_skill"])
    summary = summarise(results)
    assert summary["bandit_vs_random"] > 1.3
    assert summary["mean_gain"]["bandit"] > summary["mean_gain"]["weakest_skill"]
    assert results["curves"]["bandit"].shape == (1, 31)


def test_the_simulate_command_writes_its_figures(tmp_path):
    report = simulate_main(["--seeds", "3", "--learners", "4", "--sessions", "6", "--out", str(tmp_path)])
    assert (tmp_path / "learning_curves.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["bandit_vs_best_rule"] == pytest.approx(report["bandit_vs_best_rule"])
    assert set(saved["mean_gain"]) >= {"bandit", "random", "weakest_skill", "prior_greedy", "oracle"}

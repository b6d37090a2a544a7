"""Does the bandit help simulated learners more than fixed rules and random choice?

    python -m speaksphere.learner.recommend.simulate [--config speaksphere/learner/recommend/simulate.yaml]
                                             [--seeds 0 1 2] [--learners 200] [--sessions 50] [--out reports/recommend]

Every policy teaches the same simulated learners (population.py; same seeds, so the same people and
the same noise draws wherever their choices allow) for `sessions` sessions. A session: the policy
recommends an exercise; the learner follows it or does a drill of their own choosing; practice raises
their hidden skills; the attempt is scored with noise; sometimes a thumb follows. The bandit runs the
very functions the app's Recommender runs (learner_context, choose_exercise, learn_from_attempt,
learn_from_thumb) with the shipped speaksphere/learner/recommend/recommend.yaml settings; only the database is left out.

Policies:
  bandit         Thompson sampling with the rule-based prior (policy.py)
  prior_greedy   the bandit's cold-start prior, never updated: the teacher's rule in full
  weakest_skill  a drill for the weakest skill, suited to the detected accent, varied in turn
  accent_first   minimal pairs for the detected first language until accuracy reaches 75, then as above
  round_robin    the skills in turn, drills suited to the detected accent
  random         any exercise of the language
  oracle         (a reference, not a policy) sees the hidden skills, affinities and problems; greedy
The best fixed rule is the non-random fixed policy with the highest mean gain.

Measure: cumulative skill gain, the sum over the five skills of true skill after minus before, per
learner, averaged. Prints each policy's mean, `bandit_vs_best_rule` and `bandit_vs_random`, and
writes learning_curves.png and results.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ...config import load_config, to_dict
from ..store import SKILLS
from .catalogue import Catalogue, Exercise, load_catalogue
from .context import LearnerContext, feature_matrix, feature_names, learner_context
from .policy import BanditConfig, choose_exercise, learn_from_attempt, learn_from_thumb, new_policy_state, rule_prior
from .population import SimulatedLearner, SimulationConfig, effectiveness, make_population, observe, practise, thumbs
from .recommender import DEFAULT_RECOMMEND_CONFIG_PATH, load_recommend_config

__all__ = ["make_policies", "simulate_learner", "run_simulation", "plot_learning_curves", "main"]

DEFAULT_SIMULATION_CONFIG_PATH = Path(__file__).resolve().with_name("simulate.yaml")
ACCENT_FIRST_UNTIL = 75.0  # accent_first's accuracy target, points


class BanditPolicy:
    """The app's policy for one learner, its state kept in memory instead of the store."""

    def __init__(self, exercises: tuple[Exercise, ...], config: BanditConfig, rng: np.random.Generator):
        self.exercises, self.config, self.rng = exercises, config, rng
        self.state = new_policy_state()
        self.pending: dict | None = None

    def choose(self, context: LearnerContext) -> Exercise:
        choice = choose_exercise(context, self.exercises, self.state, self.config, self.rng)
        self.pending = choice.context
        return choice.exercise

    def learn(self, outcome: dict | None, thumb: bool | None) -> None:
        if outcome is not None:
            learn_from_attempt(self.state, self.pending, outcome, self.config)
        if thumb is not None:
            learn_from_thumb(self.state, self.pending, thumb, self.config)


class RulePolicy:
    """A fixed rule: `pick(policy, context)` gives the candidate drills; the least recently used wins,
    so the practice phrases vary."""

    def __init__(self, exercises: tuple[Exercise, ...], pick: Callable, rng: np.random.Generator):
        self.exercises, self.pick, self.rng = exercises, pick, rng
        self.last_used: dict[str, int] = {}
        self.session = 0

    def choose(self, context: LearnerContext) -> Exercise:
        candidates = self.pick(self, context)
        exercise = min(candidates, key=lambda e: (self.last_used.get(e.id, -1), self.rng.random()))
        self.last_used[exercise.id] = self.session
        self.session += 1
        return exercise

    def learn(self, outcome: dict | None, thumb: bool | None) -> None:
        pass  # fixed rules do not learn

    def suited(self, context: LearnerContext, skill: str) -> list[Exercise]:
        """Drills for `skill` written for everyone or for the detected accent; those for the accent first."""
        drills = [e for e in self.exercises if e.skill == skill and e.suits_accent(context.accent)]
        matched = [e for e in drills if e.accent_specific]
        return matched or drills or [e for e in self.exercises if e.skill == skill]


def _weakest_skill(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
    return policy.suited(context, context.weakest_skill() or "accuracy")


def _accent_first(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
    accuracy = context.level["accuracy"]
    if context.accent and context.accent.startswith("L1-") and (accuracy is None or accuracy < ACCENT_FIRST_UNTIL):
        return policy.suited(context, "accuracy")
    return _weakest_skill(policy, context)


def _round_robin(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
    return policy.suited(context, SKILLS[policy.session % len(SKILLS)])


def _random(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
    return [policy.exercises[policy.rng.integers(len(policy.exercises))]]


def _prior_greedy(config: BanditConfig) -> Callable:
    def pick(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
        mean, _ = rule_prior(config, feature_names(policy.exercises))
        expected = feature_matrix(context, policy.exercises) @ mean
        return [e for e, value in zip(policy.exercises, expected) if value >= expected.max() - 1e-9]

    return pick


class OraclePolicy(RulePolicy):
    """Not a real policy: it sees the learner's hidden skills and affinities and takes the drill with
    the largest expected gain now. An upper reference for what adapting to the learner can achieve."""

    def __init__(self, exercises: tuple[Exercise, ...], learner: SimulatedLearner, world: SimulationConfig,
                 rng: np.random.Generator):
        def pick(policy: RulePolicy, context: LearnerContext) -> list[Exercise]:
            room = (100.0 - learner.skills) / 100.0
            expected = [effectiveness(learner, e, world) * (room[SKILLS.index(e.skill)] + world.secondary_share * sum(
                room[SKILLS.index(s)] for s in e.also)) for e in exercises]
            return [exercises[int(np.argmax(expected))]]

        super().__init__(exercises, pick, rng)


def make_policies(config: BanditConfig, world: SimulationConfig) -> dict[str, Callable]:
    """Policy name -> factory(exercises, learner, rng) building that policy for one learner."""
    rules = {"prior_greedy": _prior_greedy(config), "weakest_skill": _weakest_skill, "accent_first": _accent_first,
             "round_robin": _round_robin, "random": _random}
    policies = {"bandit": lambda exercises, learner, rng: BanditPolicy(exercises, config, rng)}
    policies.update({name: lambda exercises, learner, rng, pick=pick: RulePolicy(exercises, pick, rng)
                     for name, pick in rules.items()})
    policies["oracle"] = lambda exercises, learner, rng: OraclePolicy(exercises, learner, world, rng)
    return policies


def simulate_learner(learner: SimulatedLearner, policy, exercises: tuple[Exercise, ...], sessions: int,
                     world: np.random.Generator, config: SimulationConfig) -> np.ndarray:
    """Teach one learner (modified in place) for `sessions` sessions; `world` draws everything the
    learner does (follow or not, gains, scores, thumbs). Returns the cumulative skill gain
    (sessions + 1,) in points, summed over the five skills, after each session (0 before the first)."""
    start = learner.skills.copy()
    history = [observe(learner, world, config, 0, None, None)]  # a first reading before any advice
    gains = np.zeros(sessions + 1)
    for session in range(1, sessions + 1):
        recommended = policy.choose(learner_context(history, config.language))
        followed = world.random() < learner.follow_probability
        practised = recommended if followed else exercises[world.integers(len(exercises))]
        practise(learner, practised, world, config)
        attempt = observe(learner, world, config, session, practised.id, session if followed else None)
        history.append(attempt)
        policy.learn(attempt if followed else None, thumbs(learner, practised, world, config) if followed else None)
        gains[session] = float(np.sum(learner.skills - start))
    return gains


def run_simulation(config: SimulationConfig, bandit: BanditConfig, catalogue: Catalogue,
                   policies: list[str] | None = None) -> dict:
    """Every policy on every seed's population. Returns {"curves": {policy: (seeds, sessions + 1)},
    "gains": {policy: (seeds,)} (mean final gain per seed), "seconds": {policy: wall time}}."""
    exercises = catalogue.for_language(config.language)
    factories = make_policies(bandit, config)
    names = policies or list(factories)
    curves = {name: np.zeros((len(config.seeds), config.sessions + 1)) for name in names}
    seconds = dict.fromkeys(names, 0.0)
    for s, seed in enumerate(config.seeds):
        for name in names:
            began = time.perf_counter()
            # The same seed gives every policy the same learners and, as far as their choices allow, the
            # same noise: the differences are the policies', not the luck of the draw.
            population = make_population(config.learners, np.random.default_rng([seed, 0]), config, exercises)
            for i, learner in enumerate(population):
                policy = factories[name](exercises, learner, np.random.default_rng([seed, 1, i]))
                world = np.random.default_rng([seed, 2, i])
                curves[name][s] += simulate_learner(learner, policy, exercises, config.sessions, world, config)
            curves[name][s] /= config.learners
            seconds[name] += time.perf_counter() - began
    return {"curves": curves, "gains": {name: curve[:, -1] for name, curve in curves.items()}, "seconds": seconds}


def summarise(results: dict) -> dict:
    """Mean gain per policy over seeds, the best fixed rule and the two ratios (also per seed)."""
    gains = results["gains"]
    means = {name: float(np.mean(values)) for name, values in gains.items()}
    rules = [name for name in gains if name not in ("bandit", "random", "oracle")] or ["random"]
    best = max(rules, key=means.get)
    return {"mean_gain": means, "best_rule": best,
            "bandit_vs_best_rule": means["bandit"] / means[best], "bandit_vs_random": means["bandit"] / means["random"],
            "bandit_vs_best_rule_per_seed": (gains["bandit"] / gains[best]).tolist(),
            "bandit_vs_random_per_seed": (gains["bandit"] / gains["random"]).tolist()}


def plot_learning_curves(results: dict, summary: dict, config: SimulationConfig) -> Figure:
    """Mean cumulative skill gain against session, one line per policy, shaded over seeds (min to max)."""
    figure = Figure(figsize=(8, 5), layout="constrained")
    ax = figure.subplots()
    sessions = np.arange(config.sessions + 1)
    for name, curve in sorted(results["curves"].items(), key=lambda item: -item[1][:, -1].mean()):
        style = {"linewidth": 2.5} if name == "bandit" else {"linewidth": 1.2}
        (line,) = ax.plot(sessions, curve.mean(axis=0), label=f"{name} ({curve[:, -1].mean():.1f})", **style)
        ax.fill_between(sessions, curve.min(axis=0), curve.max(axis=0), color=line.get_color(), alpha=0.15)
    ax.set_xlabel("session")
    ax.set_ylabel("cumulative skill gain (points, sum of 5 skills)")
    ax.set_title(f"Simulated learners: {config.learners} per seed x {len(config.seeds)} seeds; "
                 f"bandit / {summary['best_rule']} = {summary['bandit_vs_best_rule']:.2f}, "
                 f"/ random = {summary['bandit_vs_random']:.2f}", fontsize="medium")
    ax.legend(title="policy (mean gain after the last session)", fontsize="small")
    ax.grid(alpha=0.3)
    return figure


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_SIMULATION_CONFIG_PATH), help="simulation YAML")
    parser.add_argument("--recommend-config", default=None,
                        help="recommender YAML (default speaksphere/learner/recommend/recommend.yaml)")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the seeds")
    parser.add_argument("--learners", type=int, help="override learners per seed")
    parser.add_argument("--sessions", type=int, help="override sessions per learner")
    parser.add_argument("--out", help="override the output folder")
    args = parser.parse_args(argv)
    data = to_dict(load_config(args.config, SimulationConfig) if Path(args.config).exists() else SimulationConfig())
    data.update({k: v for k, v in {"seeds": args.seeds, "learners": args.learners, "sessions": args.sessions,
                                   "output_dir": args.out}.items() if v is not None})
    config = SimulationConfig(**data)
    recommend = load_recommend_config(args.recommend_config or DEFAULT_RECOMMEND_CONFIG_PATH)
    catalogue = load_catalogue(recommend.catalogue) if recommend.catalogue else load_catalogue()

    began = time.perf_counter()
    results = run_simulation(config, recommend.bandit, catalogue)
    summary = summarise(results)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_learning_curves(results, summary, config).savefig(out / "learning_curves.png", dpi=120)
    report = {**summary, "seeds": config.seeds, "learners_per_seed": config.learners, "sessions": config.sessions,
              "mean_gain_per_seed": {k: v.tolist() for k, v in results["gains"].items()},
              "curves_mean": {k: v.mean(axis=0).round(3).tolist() for k, v in results["curves"].items()},
              "simulation": to_dict(config), "bandit": to_dict(recommend.bandit)}
    (out / "results.json").write_text(json.dumps(report, indent=1))  # no timings: the same run writes the same file

    print(f"{config.learners} simulated learners x {len(config.seeds)} seeds {config.seeds}, "
          f"{config.sessions} sessions each ({time.perf_counter() - began:.0f} s)")
    print("mean cumulative skill gain (points, sum over 5 skills; per-seed range):")
    for name, value in sorted(summary["mean_gain"].items(), key=lambda item: -item[1]):
        per_seed = results["gains"][name]
        print(f"  {name:14s} {value:6.2f}   [{per_seed.min():.2f} .. {per_seed.max():.2f}]")
    print(f"best fixed rule: {summary['best_rule']}")
    print(f"bandit_vs_best_rule = {summary['bandit_vs_best_rule']:.3f}   (per seed: "
          + ", ".join(f"{r:.2f}" for r in summary["bandit_vs_best_rule_per_seed"]) + ")")
    print(f"bandit_vs_random    = {summary['bandit_vs_random']:.3f}   (per seed: "
          + ", ".join(f"{r:.2f}" for r in summary["bandit_vs_random_per_seed"]) + ")")
    print("wall-clock seconds per policy: " + ", ".join(f"{k} {v:.1f}" for k, v in results["seconds"].items()))
    print(f"wrote {out / 'learning_curves.png'} and {out / 'results.json'}")
    return report


if __name__ == "__main__":
    main()

"""Black-box searchers on the toy simulator (known optimum x=7, y=8, mode='a', reward 1)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from archgym.testing import ToySimulator

import archgym
from archgym.env import BudgetExhausted, DSEEnv, EnvInputError
from archgym.agents import (AntColony, AskTellAgent, BayesianOptimization, GeneticAlgorithm, GridSearch,
                            HyperParameterError, RandomWalk)
from archgym.agents.moves import mutate_indices
from archgym.pareto import crowding_distance, non_dominated_sort, nondominated
from archgym.features import SpaceEncoder
from archgym.agents.optuna_samplers import OptunaNSGA2, OptunaTPE

OPTIMUM = {"x": 7, "y": 8, "mode": "a"}
# every registered ask/tell searcher but the random baseline (tested alongside it)
BLACK_BOX = [n for n in archgym.list_agents()
             if n != "random" and issubclass(archgym.registry.agent_class(n), AskTellAgent)]


def make_env(objective=None) -> DSEEnv:
    return DSEEnv(ToySimulator(), objective=objective)


def frame(df):
    return df.drop(columns="wall_time_s").reset_index(drop=True)


# budgets within which each searcher (seeds 0 and 1) reaches the optimum of the 441-design toy space
@pytest.mark.parametrize("name,budget", [("random_walk", 60), ("grid", 441), ("ga", 150), ("aco", 150),
                                         ("bo", 80), ("optuna_tpe", 100), ("optuna_nsga2", 120)])
@pytest.mark.parametrize("seed", [0, 1])
def test_finds_known_optimum(name, budget, seed):
    env = make_env()
    df = archgym.make_agent(name).run(env, budget, seed)
    assert len(df) <= budget
    best = df.loc[df.reward.idxmax()]
    assert best.reward == pytest.approx(1.0)
    assert {k: best[k] for k in OPTIMUM} == OPTIMUM


@pytest.mark.parametrize("name", ["random"] + BLACK_BOX)
def test_budget_never_exceeded_and_history_complete(name):
    env = make_env()
    env.evaluate(OPTIMUM)  # an earlier evaluation: the budget counts from here
    df = archgym.make_agent(name).run(env, 37, seed=5)
    assert len(df) == 37
    assert env.n_evaluations == 38
    assert env.max_evaluations is None  # the cap is lifted after the run
    assert list(df.evaluation) == list(range(2, 39))


@pytest.mark.parametrize("name", ["random"] + BLACK_BOX)
def test_same_seed_same_trajectory(name):
    a = frame(archgym.make_agent(name).run(make_env(), 40, seed=11))
    b = frame(archgym.make_agent(name).run(make_env(), 40, seed=11))
    assert a.equals(b)
    if name != "grid":
        c = frame(archgym.make_agent(name).run(make_env(), 40, seed=12))
        assert not a.equals(c)


@pytest.mark.parametrize("name", ["random_walk", "grid", "ga", "aco", "bo", "optuna_tpe", "optuna_nsga2"])
def test_ask_tell_matches_run(name):
    env = make_env()
    agent = archgym.make_agent(name)
    agent.setup(env.space, 4, env.objective)
    with env.budget(30, patience=agent.repeat_patience):  # the repeat rule, as inside run()
        while env.n_evaluations < 30:
            cfg = agent.ask()
            reward, info = env.evaluate(cfg)
            agent.tell(info["config"], reward, info)
    manual = frame(env.trajectory())
    ran = frame(archgym.make_agent(name).run(make_env(), 30, seed=4))
    assert manual.equals(ran)


def test_ask_tell_without_env_info():
    sim = ToySimulator()
    ga = GeneticAlgorithm(population_size=4, elitism=1).setup(sim.space, 0)
    for _ in range(12):
        cfg = ga.ask()
        ga.tell(cfg, -float(sim.evaluate(cfg)["cost"] or 0.0))
    assert ga.generation_ >= 2


@pytest.mark.parametrize("cls,params,match", [
    (GeneticAlgorithm, {"population_size": 0}, "population_size"),
    (GeneticAlgorithm, {"elitism": 5, "population_size": 5}, "elitism"),
    (GeneticAlgorithm, {"mutation_rate": 1.5}, "mutation_rate"),
    (GeneticAlgorithm, {"crossover": "two_point"}, "crossover"),
    (AntColony, {"evaporation": -0.1}, "evaporation"),
    (AntColony, {"ant_count": 2.5}, "ant_count"),
    (BayesianOptimization, {"acquisition": "pi"}, "acquisition"),
    (RandomWalk, {"n_changes": 0}, "n_changes"),
    (GridSearch, {"stride": 0}, "stride"),
    (OptunaTPE, {"n_startup_trials": 0}, "n_startup_trials"),
    (OptunaNSGA2, {"population_size": 1}, "population_size"),
    (GeneticAlgorithm, {"populaton_size": 10}, "unknown hyperparameter 'populaton_size'"),
])
def test_invalid_hyperparameters(cls, params, match):
    with pytest.raises(HyperParameterError, match=match):
        cls(**params)


def test_unknown_name_through_registry():
    with pytest.raises(HyperParameterError, match="unknown hyperparameter"):
        archgym.make_agent("aco", ants=3)


@pytest.mark.parametrize("name", BLACK_BOX)
def test_declared_defaults_are_valid(name):
    cls = archgym.registry.agent_class(name)
    agent = cls()
    assert agent.get_params() == {h.name: h.default for h in cls.hyperparameters}
    rng = np.random.default_rng(0)
    for h in cls.hyperparameters:  # sampled values from the declared ranges are accepted
        h.validate(h.sample(rng))


# --------------------------------------------------------------------------- grid
def test_grid_exhaustive_visits_every_design_once_then_stops():
    env = make_env()
    df = GridSearch().run(env, 1000, seed=0)
    assert len(df) == 441
    assert not df[["x", "y", "mode"]].duplicated().any()


def test_grid_strided_then_refined_and_shuffled():
    env = make_env()
    df = GridSearch(stride=4, shuffle=True).run(env, 441, seed=3)
    coarse = 6 * 3 * 2  # x: 0,4,8,12,16,20; y: indices 0,4,6; mode: indices 0,2
    head = df.head(coarse)
    assert set(head.x) == {0, 4, 8, 12, 16, 20} and set(head.y) == {1, 16, 64} and set(head["mode"]) == {"a", "c"}
    assert len(df) == 441 and not df[["x", "y", "mode"]].duplicated().any()
    no_refine = GridSearch(stride=4, refine=False).run(make_env(), 441, seed=0)
    assert len(no_refine) == coarse
    lexi = GridSearch(stride=4).run(make_env(), coarse, seed=0)
    assert not frame(head).equals(frame(lexi))


# --------------------------------------------------------------------------- multi-objective
def _assert_non_dominated(front, traj, names):
    F_all = traj[["cost", "area"]].to_numpy()
    assert len(front) >= 2
    assert np.all(nondominated(front[names].to_numpy()))
    # no evaluated design dominates a front member in raw (lower-better) metrics
    lookup = {(r.x, r.y, r.mode): (r.cost, r.area) for r in traj.itertuples()}
    for r in front.itertuples():
        c, a = lookup[(r.x, r.y, r.mode)]
        dominated = (F_all[:, 0] <= c) & (F_all[:, 1] <= a) & ((F_all[:, 0] < c) | (F_all[:, 1] < a))
        assert not dominated.any()


@pytest.mark.parametrize("cls", [GeneticAlgorithm, OptunaNSGA2])
def test_multi_objective_returns_non_dominated_set(cls):
    env = make_env("pareto:cost,area")
    agent = cls(population_size=10)
    traj = agent.run(env, 80, seed=0)
    front = agent.pareto_front_
    assert list(front.columns[:3]) == ["x", "y", "mode"]
    assert {"cost", "area", "reward"} <= set(front.columns)
    _assert_non_dominated(front, traj[traj.feasible], ["cost", "area"])
    # the extreme of the conflicting metric 'area' (x=0, y=1) is reachable and should be found
    assert front.area.max() > 0.9


def test_nsga2_survival_keeps_fronts():
    env = make_env("pareto:cost,area")
    ga = GeneticAlgorithm(population_size=8).setup(env.space, 0, env.objective)
    for _ in range(40):
        cfg = ga.ask()
        r, info = env.evaluate(cfg)
        ga.tell(info["config"], r, info)
    assert ga.multi_objective and ga.generation_ >= 4
    assert len(ga.population_) == 8
    assert set(np.unique(ga._rank)) <= set(range(8))


# --------------------------------------------------------------------------- shared helpers
def test_non_dominated_sort_and_crowding():
    F = np.array([[3, 1], [1, 3], [2, 2], [1, 1], [0, 0], [2, 1]])
    fronts = non_dominated_sort(F)
    assert [sorted(f.tolist()) for f in fronts] == [[0, 1, 2], [5], [3], [4]]  # (2,1) dominates (1,1)
    assert nondominated(F).tolist() == [True, True, True, False, False, False]
    cd = crowding_distance(F[[0, 1, 2]])
    assert np.isinf(cd[0]) and np.isinf(cd[1]) and cd[2] == pytest.approx(2.0)


def test_mutate_indices_changes_exactly_k_parameters():
    rng = np.random.default_rng(0)
    nvec = np.array([5, 1, 3, 7])
    base = np.array([2, 0, 1, 6])
    for k in (1, 2, 3, 5):
        out = mutate_indices(base, nvec, rng, k)
        assert (out != base).sum() == min(k, 3) and out[1] == 0
        assert np.all((out >= 0) & (out < nvec))


def test_space_encoder_scaled_index_and_one_hot():
    enc = SpaceEncoder(ToySimulator().space)
    X = enc.transform(np.array([[0, 0, 0], [20, 6, 2]]))
    assert X.shape == (2, 5)
    assert X[0].tolist() == [0, 0, 1, 0, 0] and X[1].tolist() == [1, 1, 0, 0, 1]


# --------------------------------------------------------------------------- bo, optuna, imports
def test_bo_scales_with_refit_schedule():
    env = make_env()
    bo = BayesianOptimization(n_initial=5, refit_every=20, max_train=30, hyperopt_points=20)
    df = bo.run(env, 120, seed=0)
    assert len(df) == 120 and not df[["x", "y", "mode"]].duplicated().any()  # never re-proposes
    assert bo.timings_["n_hyperopt"] == 6  # at 5, 25, 45, 65, 85, 105 observations


def test_optuna_missing_gives_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"pip install archgym\[optuna\]"):
        OptunaTPE().run(make_env(), 5, seed=0)


def test_import_agents_is_light():
    code = ("import sys, archgym.agents, archgym.agents.rl, archgym.agents.optuna_samplers; "
            "print(any(m in sys.modules for m in ('torch', 'stable_baselines3', 'optuna', 'sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- the repeat rule
A, B = {"x": 1, "y": 2, "mode": "a"}, {"x": 3, "y": 4, "mode": "b"}


def test_a_repeat_is_answered_from_the_record_inside_a_budget_block():
    env = make_env()
    with env.budget(3):
        ra, ia = env.evaluate(A)
        rb, ib = env.evaluate(A)  # free: no budget, no history, no simulator call
        assert (rb, ib["metrics"], ib["config"]) == (ra, ia["metrics"], ia["config"])
        assert ib["reused"] is True and "reused" not in ia
        env.evaluate(B)
        env.evaluate(A)
        assert env.n_evaluations == 2 and env.evaluations_left == 1 and env.repeats_free == 2
    env.evaluate(A)  # outside a budget block every design is paid for
    assert env.n_evaluations == 3 and env.repeats_free == 2


def test_a_changed_info_does_not_change_the_record():
    env = make_env()
    with env.budget(2):
        _, info = env.evaluate(A)
        info["metrics"]["cost"] = -1.0
        assert env.evaluate(A)[1]["metrics"]["cost"] != -1.0


def test_patience_charges_the_next_repeat_and_restarts_the_count():
    env = make_env()
    with env.budget(10, patience=2):
        for _ in range(7):  # paid, free, free, charged, free, free, charged
            env.evaluate(A)
    assert env.n_evaluations == 3 and (env.repeats_free, env.repeats_charged) == (4, 2)
    assert [r["config"] for r in env.history] == [A] * 3


def test_reuse_false_pays_for_every_repeat_and_blocks_restore_the_rule():
    env = make_env()
    with env.budget(5):
        env.evaluate(A)
        with env.budget(2, reuse=False):
            env.evaluate(A)
            env.evaluate(A)
        env.evaluate(A)  # the outer block's record still answers A
    assert env.n_evaluations == 3 and env.repeats_free == 1


def test_a_constraint_breaking_design_is_recorded_once_then_answered():
    from archgym.simulator import Metric, Simulator
    from archgym.space import Constraint, DesignSpace, Integer

    class Constrained(Simulator):
        name, version = "Constrained", "1"
        metrics = (Metric("cost", "u", True),)

        def __init__(self):
            self.space = DesignSpace([Integer("a", 0, 3), Integer("b", 0, 3)],
                                     constraints=[Constraint("a <= b", lambda c: c["a"] <= c["b"])])

        def _evaluate(self, config):
            return {"cost": float(config["a"] + config["b"])}

    env = DSEEnv(Constrained())
    with env.budget(3):
        r1, i1 = env.evaluate({"a": 3, "b": 0})
        r2, i2 = env.evaluate({"a": 3, "b": 0})
    assert not i1["feasible"] and i2["reused"] and r1 == r2 and env.n_evaluations == 1


class _BatchToy(ToySimulator):
    batch_friendly = True


def test_evaluate_many_equals_evaluate_in_order_with_repeats_in_and_across_batches():
    designs = [A, B, A, {"x": 5, "y": 1, "mode": "c"}, B, B, A]
    seq, bat = DSEEnv(_BatchToy()), DSEEnv(_BatchToy())
    with seq.budget(4, patience=2), bat.budget(4, patience=2):
        one = [seq.evaluate(d) for d in designs[:2]] + [seq.evaluate(d) for d in designs[2:]]
        many = bat.evaluate_many(designs[:2]) + bat.evaluate_many(designs[2:])
    strip = [{k: v for k, v in r.items() if k != "wall_time_s"} for r in seq.history]
    assert strip == [{k: v for k, v in r.items() if k != "wall_time_s"} for r in bat.history]
    # A, B paid; A free; the new one paid; B, B free; A charged (2 free answers in a row before it)
    assert one == many and [r["config"] for r in seq.history] == [A, B, designs[3], A]
    assert (bat.repeats_free, bat.repeats_charged) == (seq.repeats_free, seq.repeats_charged) == (3, 1)


def test_a_batch_is_refused_only_when_its_new_designs_exceed_the_budget():
    env = DSEEnv(_BatchToy())
    with env.budget(2):
        env.evaluate_many([A, B, A, B])  # two new designs, two repeats: fits
        with pytest.raises(BudgetExhausted):
            env.evaluate_many([A, {"x": 5, "y": 1, "mode": "c"}])
    assert env.n_evaluations == 2


def test_bad_patience_is_one_line():
    with pytest.raises(EnvInputError, match="patience must be an integer >= 0"):
        with make_env().budget(3, patience=-1):
            pass


def test_random_search_buys_distinct_designs_and_pays_for_repeats_when_told():
    env = make_env()
    df = archgym.make_agent("random").run(env, 300, seed=0)  # 441 designs: draws repeat often
    assert len(df) == 300 and not df.duplicated(["x", "y", "mode"]).any() and env.repeats_free > 0
    paying = make_env()
    df = archgym.make_agent("random", reuse_evaluations=False).run(paying, 300, seed=0)
    assert paying.repeats_free == 0 and df.duplicated(["x", "y", "mode"]).any()


@pytest.mark.parametrize("name,patience", [("ga", 200), ("aco", 200), ("random_walk", 200), ("random", 200),
                                           ("optuna_tpe", 10), ("optuna_nsga2", 10)])
def test_searchers_that_repeat_get_the_rule_through_run(name, patience):
    """One mechanism: the env answers repeats; the patience is the searcher's declared one."""
    agent = archgym.make_agent(name)
    assert agent.repeat_patience == patience
    env = make_env()
    df = agent.run(env, 200, seed=3)
    assert len(df) == 200
    assert df.duplicated(["x", "y", "mode"]).sum() == env.repeats_charged

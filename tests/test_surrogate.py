"""The surrogate (active-learning) searcher and the ``archgym proxy`` CLI."""
import json

import pytest

import archgym
from archgym.agents.base import HyperParameterError
from archgym.cli import main
from archgym.space import DesignSpace, Integer
from archgym.simulator import Metric, Simulator


class _Tiny(Simulator):
    """24 designs; cost = (a - 3)^2 + (b - 1)^2, minimum 0 at a=3, b=1."""

    name = "Tiny"
    version = "1"
    metrics = (Metric("cost", "units", True),)

    def __init__(self, workload=None):
        self.space = DesignSpace([Integer("a", 0, 5), Integer("b", 0, 3)])
        self.calls = 0

    def _evaluate(self, config):
        self.calls += 1
        return {"cost": (config["a"] - 3) ** 2 + (config["b"] - 1) ** 2}


@pytest.mark.parametrize("budget, seed, target", [(15, 0, "reward"), (30, 2, "reward"), (30, 1, "rank")])
def test_never_simulates_twice_and_respects_budget(budget, seed, target):
    from archgym.env import DSEEnv

    sim = _Tiny()
    env = DSEEnv(sim, objective="cost")
    traj = archgym.make_agent("surrogate", n_initial=4, n_candidates=50, target=target).run(env, budget, seed)
    keys = [tuple(r["config"].values()) for r in env.history]
    assert len(keys) == len(set(keys))  # never twice
    # the budget, and an early stop once the space is exhausted (+1: the env's reference design)
    assert len(traj) == min(budget, sim.space.size) == sim.calls - 1
    if budget >= sim.space.size:
        assert traj["cost"].min() == 0


@pytest.mark.parametrize("seed, target", [(0, "reward"), (1, "reward"), (0, "rank")])
def test_finds_toy_optimum_with_few_simulations(toy_registered, seed, target):
    """Toy (441 designs): the optimum (cost 0) within 60 real simulations."""
    env = archgym.make(toy_registered)
    traj = archgym.make_agent("surrogate", n_trees=20, n_candidates=500, target=target).run(env, 60, seed)
    assert traj["cost"].min() == 0
    assert len({tuple(r["config"].values()) for r in env.history}) == len(env.history) == 60


def test_same_seed_same_trajectory(toy_registered):
    runs = [archgym.make_agent("surrogate", n_candidates=200).run(archgym.make(toy_registered), 25, 7)
            .drop(columns="wall_time_s") for _ in range(2)]
    assert runs[0].equals(runs[1])


def test_bad_hyperparameter():
    with pytest.raises(HyperParameterError, match="n_initial"):
        archgym.make_agent("surrogate", n_initial=1)


def _cli(*args):
    return main(["--import", "toy_register", *args])


def test_cli_dataset_train_evaluate_search_hash(tmp_path, capsys):
    d, t, p = tmp_path / "d.npz", tmp_path / "t.npz", tmp_path / "p.npz"
    assert _cli("proxy", "dataset", "Toy-v0", "--out", str(d), "--n", "200", "--method", "lhs") == 0
    assert _cli("proxy", "dataset", "Toy-v0", "--out", str(t), "--n", "60", "--seed", "9") == 0
    assert _cli("proxy", "train", "Toy-v0", "--data", str(d), "--out", str(p), "--trees", "30") == 0
    assert _cli("proxy", "evaluate", "Toy-v0", "--proxy", str(p), "--data", str(t), "--json") == 0
    out = capsys.readouterr().out
    score = json.loads(out[out.index("{"):])
    assert score["metrics"]["area"]["rmse_pct"] < 5 and score["feasibility_accuracy"] > 0.9
    assert _cli("proxy", "hash", str(p)) == 0
    from archgym.cost_models import file_hash

    assert file_hash(p) in capsys.readouterr().out
    assert _cli("proxy", "search", "Toy-v0", "--budget", "30", "--save", str(tmp_path / "s.npz"), "--json") == 0
    res = json.loads(capsys.readouterr().out)
    assert res["real_simulations"] == res["distinct_designs"] == 30
    assert all("proxy_reward" in b and "real_reward" in b for b in res["best"])
    # a proxy-backed run re-scores its best designs on the real simulator
    assert _cli("run", "Toy-v0", "--agent", "random", "--budget", "20", "--option", f"backend={p}", "--json") == 0
    run = json.loads(capsys.readouterr().out)
    assert len(run["rescored_on_simulator"]) == 5
    r = run["rescored_on_simulator"][0]
    from archgym.testing import ToySimulator

    env = archgym.make("Toy-v0")
    assert r["real_reward"] == env.evaluate(r["config"])[0]
    assert r["real_metrics"]["cost"] == ToySimulator().evaluate(r["config"])["cost"]


@pytest.mark.parametrize("args, words", [
    (["proxy", "train", "Toy-v0", "--data", "/nonexistent.npz", "--out", "x.npz"], "does not exist"),
    (["proxy", "train", "Toy-v0", "--data", "{d}", "--out", "x.npz", "--model", "svm"], "invalid choice"),
    (["proxy", "train", "Toy-v0", "--data", "{d}", "--out", "x.npz", "--cv", "1"], "--cv must be an integer >= 2"),
    (["proxy", "dataset", "Toy-v0", "--out", "x.npz", "--n", "0"], "--n must be an integer >= 1"),
    (["proxy", "dataset", "Toy-v0", "--out", "x.npz", "--method", "sobol"], "invalid choice"),
    (["proxy", "evaluate", "Toy-v0", "--proxy", "{d}", "--data", "{d}"], "not an archgym proxy file"),
    (["proxy", "evaluate", "Toy-v0", "--proxy", "{p}", "--data", "{d}", "--set", "offset=2"], "trained with options"),
    (["proxy", "search", "Toy-v0", "--budget", "5", "--hp", "kappa=-1"], "kappa"),
    (["proxy", "hash", "{d}"], "not an archgym proxy file"),
    (["proxy", "frobnicate"], "invalid choice"),
    (["run", "Toy-v0", "--agent", "random", "--budget", "3", "--option", "backend={d}"], "not an archgym proxy file"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    d, p = tmp_path / "d.npz", tmp_path / "p.npz"
    assert _cli("proxy", "dataset", "Toy-v0", "--out", str(d), "--n", "40") == 0
    assert _cli("proxy", "train", "Toy-v0", "--data", str(d), "--out", str(p), "--trees", "5") == 0
    capsys.readouterr()
    args = [a.format(d=d, p=p) for a in args]
    try:
        code = _cli(*args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("archgym") and words in err and err.count("\n") == 1, err

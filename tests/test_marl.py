"""The multi-agent searcher (``marl``): learning on a separable problem, the searcher
contract (exact budget, seeds), parameter groups, the CLI and sweep specs, and the
PettingZoo view's ``episode_length``."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import archgym  # noqa: E402
from archgym.agents.base import HyperParameterError  # noqa: E402
from archgym.agents.marl import MARLAgent  # noqa: E402
from archgym.env import DSEEnv  # noqa: E402
from archgym.errors import GroupsError  # noqa: E402
from archgym.testing import SeparableSimulator  # noqa: E402

NAMES, OPTIMUM, PAIRS = SeparableSimulator.NAMES, SeparableSimulator.OPTIMUM, SeparableSimulator.PAIRS
from test_cli import cli  # noqa: E402
from test_experiments_plugin import restore_registry  # noqa: E402,F401


def sep_env(groups: bool = False) -> DSEEnv:
    return DSEEnv(SeparableSimulator(groups=groups))


def frame(df):
    return df.drop(columns="wall_time_s").reset_index(drop=True)


# ----------------------------------------------------------------------------- learning
def test_reaches_the_separable_optimum_and_beats_random():
    """8**10 designs, 400 evaluations: marl (defaults, one agent per parameter)
    hits the unique optimum on at least 4 of 5 seeds (measured: 5/5 at median
    ~190 evaluations) and beats random search on every seed."""
    hits = 0
    for seed in range(5):
        marl = frame(MARLAgent().run(sep_env(), 400, seed))
        rand = frame(archgym.make_agent("random").run(sep_env(), 400, seed))
        best = marl.loc[marl.reward.idxmax()]
        hits += best.reward == pytest.approx(1.0) and {n: best[n] for n in NAMES} == OPTIMUM
        assert marl.reward.max() > rand.reward.max() + 0.1
    assert hits >= 4


def test_finds_the_optimum_and_most_policies_concentrate_on_their_best_value():
    agent = MARLAgent()
    df = agent.run(sep_env(), 400, seed=1)
    assert df["best_reward"].iloc[-1] == pytest.approx(1.0)  # the unique optimum is found
    # most agents' policies concentrate on their optimal value; once the optimum is found, its repeats
    # are answered free and the learners see the neutral reward for them, so a policy is not pushed
    # to collapse onto the optimum (reward_scaling's docstring)
    assert sum(int(np.argmax(p)) == int(OPTIMUM[n][1:]) and max(p) > 0.5 for n, p in agent.policy_.items()) >= 8
    assert agent.updates_ >= 400 // 16  # repeats answered free are steps too


# ----------------------------------------------------------------------------- contract
@pytest.mark.parametrize("budget, batch", [(37, 16), (1, 16), (5, 2)])
def test_budget_is_exact_for_any_budget(budget, batch):
    env = sep_env()
    env.evaluate(OPTIMUM)  # an earlier evaluation: the budget counts from here
    df = MARLAgent(batch_size=batch).run(env, budget, seed=5)
    assert len(df) == budget and env.n_evaluations == budget + 1
    assert list(df.evaluation) == list(range(2, budget + 2))
    assert env.max_evaluations is None


def test_runs_on_a_parameter_mode_env_through_a_design_view():
    env = DSEEnv(SeparableSimulator(), mode="parameter")
    df = MARLAgent(batch_size=4).run(env, 10, seed=0)
    assert len(df) == 10 and env.n_evaluations == 10


@pytest.mark.parametrize("critic", ["local", "central"])
def test_same_seed_same_trajectory_and_seeds_differ(critic):
    a = frame(MARLAgent(critic=critic, batch_size=8).run(sep_env(), 40, seed=11))
    b = frame(MARLAgent(critic=critic, batch_size=8).run(sep_env(), 40, seed=11))
    c = frame(MARLAgent(critic=critic, batch_size=8).run(sep_env(), 40, seed=12))
    assert a.equals(b)
    assert not a[NAMES].equals(c[NAMES])


@pytest.mark.parametrize("params, match", [
    ({"learning_rate": 0.0}, "outside the allowed range"),
    ({"batch_size": 1}, "outside the allowed range"),
    ({"critic": "shared"}, "'shared' not allowed"),
    ({"groups": "pairs"}, "'pairs' not allowed"),
    ({"groups": {"a": [1, 2]}}, "group 'a' must list parameter names"),
    ({"hidden": 8}, "unknown hyperparameter 'hidden'"),
])
def test_bad_hyperparameters(params, match):
    with pytest.raises(HyperParameterError, match=match):
        MARLAgent(**params)


def test_import_does_not_load_torch():
    code = "import sys, archgym, archgym.agents.marl; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- groups
@pytest.mark.parametrize("declared, groups, expected", [
    (False, "declared", {n: [n] for n in NAMES}),  # no declared groups: one agent per parameter
    (True, "declared", PAIRS),  # the simulator's groups
    (True, "parameters", {n: [n] for n in NAMES}),  # overridden: one per parameter
    (True, {"even": NAMES[::2], "odd": NAMES[1::2]}, {"even": NAMES[::2], "odd": NAMES[1::2]}),
    (False, {"all": NAMES[::-1]}, {"all": NAMES}),  # members come back in space order
])
def test_groups_default_declared_and_overridden(declared, groups, expected):
    agent = MARLAgent(groups=groups, batch_size=4)
    df = agent.run(sep_env(declared), 9, seed=0)
    assert agent.groups_ == expected and len(df) == 9


@pytest.mark.parametrize("groups, match", [
    ({"a": NAMES[:5], "b": NAMES[5:9]}, "parameter 'p9' is in no group"),
    ({"a": NAMES[:6], "b": NAMES[5:]}, "parameter 'p5' is in two groups"),
    ({"a": NAMES, "b": ["p10"]}, "unknown parameter 'p10'"),
    ({"a": NAMES, "b": []}, "group 'b' is empty"),
])
def test_groups_that_do_not_partition_fail_before_any_evaluation(groups, match):
    env = sep_env()
    with pytest.raises(GroupsError, match=match):
        MARLAgent(groups=groups).run(env, 10, seed=0)
    assert env.n_evaluations == 0


def test_grouped_agents_also_reach_the_optimum():
    """Five agents of two parameters each (the declared pairs), 400 evaluations."""
    hits = sum(MARLAgent().run(sep_env(True), 400, seed).reward.max() == pytest.approx(1.0) for seed in range(3))
    assert hits >= 2


# ----------------------------------------------------------------------------- CLI and sweeps
def test_cli_run_and_one_line_groups_error():
    out = cli("run", "Toy-v0", "--agent", "marl", "--budget", "33", "--seed", "2", "--set", "batch_size=8",
              "--set", 'groups={"size": ["x", "y"], "mode": ["mode"]}', "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["evaluations"] == 33 and len(res["trajectory"]) == 33
    again = cli("run", "Toy-v0", "--agent", "marl", "--budget", "33", "--seed", "2", "--set", "batch_size=8",
                "--set", 'groups={"size": ["x", "y"], "mode": ["mode"]}', "--json")
    designs = [[(r["x"], r["y"], r["mode"], r["reward"]) for r in json.loads(o.stdout)["trajectory"]]
               for o in (out, again)]
    assert designs[0] == designs[1]
    bad = cli("run", "Toy-v0", "--agent", "marl", "--budget", "10", "--set", 'groups={"size": ["x", "y"]}')
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "parameter 'mode' is in no group" in bad.stderr


def test_sweep_spec_with_groups(tmp_path):
    from archgym.experiments.sweep import load_spec, load_spec_plugins, run_sweep
    from archgym.store import Store

    spec = tmp_path / "marl.yaml"
    spec.write_text("""\
study: marl_small
register:
  simulators: {Separable-v0: "archgym.testing:SeparableSimulator"}
budget: 21
seeds: 2
environments:
  - id: Separable-v0
    kwargs: {groups: true}
searchers:
  - agent: marl
    hyperparameters:
      batch_size: 8
      groups: [declared, parameters, {left: [p0, p1, p2, p3, p4], right: [p5, p6, p7, p8, p9]}]
""")
    parsed = load_spec(spec)
    load_spec_plugins(parsed)
    assert len(parsed.trials()) == 6
    summary = run_sweep(str(spec), executor="inline", progress=False)
    assert summary["completed"] == 6
    with Store(str(tmp_path / "marl.db")) as db:
        ev = db.evaluations()
    assert len(ev) == 6 * 21


def test_sweep_spec_rejects_a_malformed_groups_value(tmp_path):
    from archgym.experiments.sweep.spec import SpecError, parse_spec

    text = ("study: s\nbudget: 5\nseeds: 1\nenvironments: [DRAM-v0]\n"
            "searchers:\n  - agent: marl\n    hyperparameters: {groups: 3}\n")
    with pytest.raises(SpecError, match="groups.*3 not allowed"):
        parse_spec(text).resolve()


# ----------------------------------------------------------------------------- PettingZoo view
def test_multi_agent_view_episode_length():
    pytest.importorskip("pettingzoo")
    from archgym.multi_agent import MultiAgentDSEEnv

    env = sep_env(True)
    ma = MultiAgentDSEEnv(env, episode_length=3)
    assert ma.possible_agents == list(PAIRS)
    ma.reset(seed=0)
    terms = []
    for _ in range(3):
        _, rewards, term, _, _ = ma.step({a: np.array([0, 0]) for a in ma.possible_agents})
        terms.append(all(term.values()))
    assert terms == [False, False, True] and ma.agents == [] and env.n_evaluations == 3
    ma.reset(seed=1)
    assert ma.agents == list(PAIRS)
    assert MultiAgentDSEEnv(DSEEnv(SeparableSimulator(), episode_length=2)).episode_length == 2
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="episode_length must be an integer >= 1"):
            MultiAgentDSEEnv(env, episode_length=bad)

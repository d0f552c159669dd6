"""stable-baselines3 searchers on the toy simulator: budgets, determinism, threads, views."""
from __future__ import annotations

import pytest
from archgym.testing import ToySimulator

pytest.importorskip("stable_baselines3")
import torch  # noqa: E402

import archgym  # noqa: E402
from archgym.agents import HyperParameterError  # noqa: E402
from archgym.agents.rl import A2CAgent, DQNAgent, PPOAgent, SACAgent  # noqa: E402
from archgym.env import DSEEnv  # noqa: E402

RL = ["ppo", "a2c", "dqn", "sac"]
SMALL = {"ppo": {"n_steps": 16, "batch_size": 8, "n_epochs": 2, "net_width": 16},
         "a2c": {"n_steps": 5, "net_width": 16},
         "dqn": {"learning_starts": 10, "batch_size": 8, "net_width": 16},
         "sac": {"learning_starts": 10, "batch_size": 8, "net_width": 16}}


def make_env(**kw) -> DSEEnv:
    return DSEEnv(ToySimulator(), **kw)


@pytest.mark.parametrize("name", RL)
@pytest.mark.parametrize("budget", [1, 37])
def test_budget_exact_and_one_thread(name, budget):
    env = make_env()
    env.evaluate({"x": 1, "y": 1, "mode": "b"})
    torch.set_num_threads(2)
    df = archgym.make_agent(name, **SMALL[name]).run(env, budget, seed=0)
    assert torch.get_num_threads() == 2  # one thread inside run (test below), the caller's setting restored
    assert len(df) == budget and env.n_evaluations == budget + 1  # every design in the given env's history
    assert env.max_evaluations is None
    assert list(df.evaluation) == list(range(2, budget + 2))


@pytest.mark.parametrize("name", RL)
def test_same_seed_same_trajectory(name):
    a = archgym.make_agent(name, **SMALL[name]).run(make_env(), 25, seed=7).drop(columns="wall_time_s")
    b = archgym.make_agent(name, **SMALL[name]).run(make_env(), 25, seed=7).drop(columns="wall_time_s")
    c = archgym.make_agent(name, **SMALL[name]).run(make_env(), 25, seed=8).drop(columns="wall_time_s")
    assert a.equals(b)
    assert not a.equals(c)


def test_one_torch_thread_inside_run():
    seen = []
    env = make_env()
    env.listeners.append(lambda record: seen.append(torch.get_num_threads()))
    torch.set_num_threads(2)
    PPOAgent(**SMALL["ppo"]).run(env, 20, seed=0)
    assert seen and set(seen) == {1}


def test_dqn_uses_parameter_mode_through_the_given_env():
    env = make_env()  # design mode
    agent = DQNAgent(**SMALL["dqn"])
    df = agent.run(env, 12, seed=1)
    assert len(env.history) == 12 and len(df) == 12
    assert agent.model_.action_space.n == 21  # Discrete(max cardinality): one parameter per step
    # an env already in parameter mode is used as is
    penv = make_env(mode="parameter")
    assert len(DQNAgent(**SMALL["dqn"]).run(penv, 5, seed=1)) == 5


def test_sac_box_relaxation_maps_to_valid_designs():
    env = make_env()
    agent = SACAgent(**SMALL["sac"])
    df = agent.run(env, 15, seed=2)
    assert agent.model_.action_space.shape == (3,)
    assert df.x.between(0, 20).all() and set(df["mode"]) <= {"a", "b", "c"}


def test_ppo_learns_something_on_the_toy():
    """PPO's mean reward in its last 60 designs beats its first 60 (seeded)."""
    df = PPOAgent(learning_rate=3e-3, n_steps=20, batch_size=20, net_width=32).run(make_env(), 300, seed=0)
    assert df.reward.iloc[-60:].mean() > df.reward.iloc[:60].mean()


@pytest.mark.parametrize("cls,params,match", [
    (PPOAgent, {"learning_rate": -1e-3}, "learning_rate"),
    (PPOAgent, {"clip_range": 0.0}, "clip_range"),
    (A2CAgent, {"ent_coef": 2.0}, "ent_coef"),
    (DQNAgent, {"batch_size": 1}, "batch_size"),
    (SACAgent, {"net_width": 0}, "net_width"),
    (PPOAgent, {"lr": 1e-3}, "unknown hyperparameter 'lr'"),
])
def test_invalid_hyperparameters(cls, params, match):
    with pytest.raises(HyperParameterError, match=match):
        cls(**params)


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="budget"):
        PPOAgent().run(make_env(), 0, seed=0)

"""stable-baselines3 searchers on the toy simulator: budgets, determinism, threads, views."""
from __future__ import annotations

import numpy as np
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


def test_dqn_sets_one_parameter_per_step_through_the_given_env():
    env = make_env()  # design mode
    agent = DQNAgent(**SMALL["dqn"])
    df = agent.run(env, 12, seed=1)
    assert len(env.history) == 12 and len(df) == 12
    assert agent.model_.action_space.n == 21  # Discrete(max cardinality): one parameter per step
    # a parameter-mode env is driven through a design view of it
    penv = make_env(mode="parameter")
    assert len(DQNAgent(**SMALL["dqn"]).run(penv, 5, seed=1)) == 5 and penv.n_evaluations == 5


class _EightByThree(ToySimulator):
    """8 x 3 designs: with Discrete(8) actions, a floor map would give the 3 modes 3/3/2 actions."""

    def __init__(self):
        super().__init__()
        from archgym.space import Categorical, DesignSpace, Integer
        self.space = DesignSpace([Integer("x", 0, 7), Categorical("mode", ["a", "b", "c"])])

    def _evaluate(self, config):
        return {"cost": float(config["x"]), "area": 1.0}


def test_dqn_masks_invalid_actions_so_exploration_spreads_evenly():
    """Pure exploration (epsilon 1 throughout): each of the 3 modes is drawn
    about a third of the time (a floor map of 8 actions would give 3/8, 3/8, 2/8)."""
    env = DSEEnv(_EightByThree())
    agent = DQNAgent(exploration_initial_eps=1.0, exploration_final_eps=1.0, learning_starts=0, net_width=8,
                     reuse_evaluations=False)
    df = agent.run(env, 600, seed=0)
    share = df["mode"].value_counts(normalize=True)
    assert set(share.index) == {"a", "b", "c"} and (share - 1 / 3).abs().max() < 0.05
    assert df.x.between(0, 7).all()
    obs = np.zeros((2, agent.model_.observation_space.shape[0]), dtype=np.float32)
    obs[0, -2], obs[1, -1] = 1.0, 1.0  # next parameter: x (8 values), then mode (3 values)
    assert agent.model_.policy.valid(obs).sum(axis=1).tolist() == [8, 3]
    with torch.no_grad():  # the greedy action is a valid one
        assert int(agent.model_.policy.q_net(torch.as_tensor(obs[1:])).argmax()) < 3


def test_dqn_epsilon_follows_the_budget_in_evaluations():
    """Epsilon falls from 1 to 0.1 over the first half of the budget, counted in evaluations."""
    env = make_env()
    agent = DQNAgent(exploration_initial_eps=1.0, exploration_final_eps=0.1, exploration_fraction=0.5,
                     **SMALL["dqn"])
    rates = []
    env.listeners.append(lambda record: rates.append(agent.model_.exploration_rate))
    agent.run(env, 20, seed=0)
    assert rates[0] == 1.0 and rates[-1] == pytest.approx(0.1) and rates[12] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(rates, rates[1:])) and 0.1 < rates[5] < 1.0


def test_sac_box_relaxation_maps_to_valid_designs():
    env = make_env()
    agent = SACAgent(**SMALL["sac"])
    df = agent.run(env, 15, seed=2)
    assert agent.model_.action_space.shape == (3,)
    assert df.x.between(0, 20).all() and set(df["mode"]) <= {"a", "b", "c"}


def test_sac_entropy_settings_reach_the_model():
    fixed = SACAgent(ent_coef=0.05, learn_ent_coef=False, **SMALL["sac"])
    fixed.run(make_env(), 5, seed=0)
    assert float(fixed.model_.ent_coef_tensor) == pytest.approx(0.05) and fixed.model_.log_ent_coef is None
    learned = SACAgent(ent_coef=0.2, target_entropy=-0.5, **SMALL["sac"])
    learned.run(make_env(), 5, seed=0)  # no update yet (learning_starts 10): the initial value
    assert float(learned.model_.log_ent_coef.exp()) == pytest.approx(0.2)
    assert learned.model_.target_entropy == pytest.approx(-0.5 * 3)  # per dimension x 3 parameters


def test_a2c_and_ppo_pass_advantage_normalization():
    for cls in (A2CAgent, PPOAgent):
        on, off = cls(normalize_advantage=True, **SMALL[cls.name]), cls(normalize_advantage=False, **SMALL[cls.name])
        on.run(make_env(), 3, seed=0)
        off.run(make_env(), 3, seed=0)
        assert on.model_.normalize_advantage is True and off.model_.normalize_advantage is False


# ----------------------------------------------------------------------------- presets
def test_presets_fill_unset_hyperparameters_and_explicit_values_win():
    default = PPOAgent()
    assert default.preset == "small_budget" and default.get_params() == {h.name: h.default for h in
                                                                           PPOAgent.hyperparameters}
    sb3 = PPOAgent(preset="sb3")
    assert (sb3.learning_rate, sb3.n_steps, sb3.batch_size, sb3.observation) == (3e-4, 2048, 64, "last")
    arch = PPOAgent(preset="archgym", learning_rate=0.01)
    assert (arch.learning_rate, arch.ent_coef, arch.net_width, arch.net_depth) == (0.01, 0.1, 32, 3)
    assert (arch.observation, arch.reward_scaling, arch.reuse_evaluations) == ("constant", "none", False)
    assert PPOAgent(**arch.get_params()).get_params() == arch.get_params()
    for cls in (A2CAgent, DQNAgent, SACAgent):
        assert cls(preset="archgym").observation == "constant" and cls(preset="sb3").reward_scaling == "rank"
    assert SACAgent(preset="sb3").net_width == 256 and DQNAgent(preset="sb3").target_update_interval == 10000
    with pytest.raises(HyperParameterError, match="preset"):
        PPOAgent(preset="stable")


def test_the_archgym_preset_pays_for_repeats_and_sees_a_constant_observation():
    env = make_env()
    agent = A2CAgent(preset="archgym", net_width=16)
    agent.run(env, 40, seed=0)
    assert env.repeats_free == 0
    assert not agent.model_.rollout_buffer.observations.any()  # every reset observation is all zeros


# ----------------------------------------------------------------------------- what the learner sees
def test_the_learner_sees_the_last_design_and_a_scaled_reward_and_the_trajectory_keeps_the_true_one():
    from archgym.agents.reward_scaling import RewardScaler
    from archgym.agents.rl import _LearnerView

    env = make_env()
    view = _LearnerView(env, "last", RewardScaler("rank"))
    first, _ = view.reset(seed=0)
    assert not first.any()
    obs, learner_reward, *_ = view.step(np.array([7, 3, 0]))
    again, _ = view.reset()
    assert np.array_equal(again, obs) and again[-3:].any()  # the design part of the last evaluation
    assert learner_reward == 0.0 and env.history[-1]["reward"] == pytest.approx(1.0)
    constant = _LearnerView(make_env(), "constant", RewardScaler("none"))
    constant.reset(seed=0)
    _, raw, *_ = constant.step(np.array([7, 3, 0]))
    assert not constant.reset()[0].any() and raw == pytest.approx(1.0)


def test_ppo_rollouts_see_informative_observations():
    agent = PPOAgent(**SMALL["ppo"])
    agent.run(make_env(), 40, seed=0)
    obs = agent.model_.rollout_buffer.observations
    assert obs.any() and len(np.unique(obs.reshape(len(obs), -1), axis=0)) > 1


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


# ----------------------------------------------------------------------------- reward scaling
def test_rank_scaling_values_ties_and_infeasible_clipping():
    from archgym.agents.reward_scaling import RewardScaler

    s = RewardScaler("rank")
    r12 = 12 ** 0.5
    assert s(-1.0, False) == 0.0                       # nothing feasible yet: all infeasible designs tie
    assert s(0.4, True) == pytest.approx(0.0)          # ties with the infeasible one (the worst feasible)
    assert s(0.6, True) == pytest.approx((2.5 / 3 - 0.5) * r12)
    assert s(-1.0, False) == pytest.approx((1.5 / 4 - 0.5) * r12)  # clipped to 0.4: ties with 0.4 and 1 infeasible
    assert s(0.3, True) == pytest.approx((1.5 / 5 - 0.5) * r12)     # new worst feasible: the 2 infeasible ones tie with it


def test_standard_scaling_uses_feasible_rewards_and_clips_infeasible_ones():
    from archgym.agents.reward_scaling import RewardScaler

    s = RewardScaler("standard")
    assert s(-1.0, False) == 0.0 and s(0.4, True) == 0.0
    assert s(0.6, True) == pytest.approx(1.0)           # mean 0.5, std 0.1
    assert s(-1.0, False) == pytest.approx(-1.0)         # clipped to 0.4
    assert RewardScaler("none")(-1.0, False) == -1.0


@pytest.mark.parametrize("mode", ["rank", "standard"])
def test_scaling_is_monotone_and_bounded(mode):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, strategies as st

    from archgym.agents.reward_scaling import RewardScaler

    rewards = st.lists(st.tuples(st.floats(-1, 1, allow_nan=False), st.booleans()), min_size=1, max_size=30)

    @given(rewards, st.floats(-1, 1), st.floats(-1, 1))
    @hypothesis.settings(max_examples=60, deadline=None)
    def check(history, a, b):
        import copy

        s = RewardScaler(mode)
        for r, f in history:
            out = s(r, f)
            assert np.isfinite(out) and (mode != "rank" or abs(out) <= 12 ** 0.5 / 2 + 1e-9)
        lo, hi = sorted((a, b))
        s2 = copy.deepcopy(s)
        assert s(lo, True) <= s2(hi, True) + 1e-12  # a better design never looks worse to the learner
        if mode == "rank":  # an infeasible design ranks exactly as the worst feasible one seen
            worst = min([r for r, f in history if f] + [lo])  # s has seen lo too
            s3, s4 = copy.deepcopy(s), copy.deepcopy(s)
            assert s3(-1.0, False) == pytest.approx(s4(worst, True))

    check()

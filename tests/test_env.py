"""DSEEnv: Gymnasium and SB3 checks over the whole registry, modes, budget, info."""
import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import archgym
from archgym.env import BudgetExhausted

# Simulators whose env is slow to build get small workloads in the registry sweep.
FAST_KWARGS = {
    "DRAM-v0": {"workload": {"pattern": "sequential", "n": 200}},
    "Accelerator-v0": {"workload": "resnet20_cifar"},
    # a 2x2x2 GEMM on the 16-PE three-level hierarchy: every mapping of the space fits (the checker compares
    # step infos, and an infeasible design's NaN metrics never compare equal)
    "DataflowMapping-v0": {"workload": {"name": "gemm2", "m": 2, "n": 2, "k": 2}, "arch": "three_level"},
    "AcceleratorArch-v0": {"workload": [{"name": "gemm8", "m": 8, "n": 8, "k": 8}], "mapper_budget": 20},
}


def _sb3_check(env):
    sb3 = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3.check_env(env, warn=True)


@pytest.mark.parametrize("env_id", archgym.list_envs())
def test_every_registered_env_passes_checkers(env_id):
    env = gymnasium.make(f"archgym/{env_id}", **FAST_KWARGS.get(env_id, {}))
    check_env(env.unwrapped, skip_render_check=True)
    _sb3_check(env.unwrapped)


@pytest.mark.parametrize("mode", ["design", "parameter"])
def test_toy_env_passes_checkers(toy_registered, mode):
    env = archgym.make(toy_registered, mode=mode)
    check_env(env, skip_render_check=True)
    _sb3_check(archgym.make(toy_registered, mode=mode))


def test_step_info_and_observation(toy_registered):
    env = gymnasium.make("archgym/Toy-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2 + 1 + 3,) and not obs.any()
    action = env.unwrapped.space.encode({"x": 7, "y": 8, "mode": "a"})
    obs, r, term, trunc, info = env.step(action)
    assert term and not trunc
    assert info["config"] == {"x": 7, "y": 8, "mode": "a"}
    assert info["metrics"] == {"cost": 0.0, "area": 10.0}
    assert info["units"] == {"cost": "units", "area": "mm^2"}
    assert info["feasible"] and info["reason"] == ""
    assert r == 1.0  # cost 0 -> score ref/(ref+0) = 1
    assert obs[0] == 0.0 and obs[2] == 1.0  # normalized cost, feasible flag
    assert obs[3] == pytest.approx(7.5 / 21)
    # an infeasible design: explicit flag, reason, penalty reward, worst observation
    obs, r, *_ , info = env.step(env.unwrapped.space.encode({"x": 20, "y": 8, "mode": "a"}))
    assert not info["feasible"] and "too hot" in info["reason"] and r == -1.0
    assert obs[0] == 1.0 and obs[2] == 0.0


def test_parameter_mode_sets_one_parameter_per_step(toy_registered):
    env = archgym.make(toy_registered, mode="parameter")
    env.reset(seed=0)
    assert env.action_space.n == 21
    _, r1, t1, *_ = env.step(7)   # x: 7 * 21 // 21 = 7
    _, r2, t2, *_ = env.step(9)   # y: 9 * 7 // 21 = 3 -> 8
    assert (r1, t1, r2, t2) == (0.0, False, 0.0, False)
    _, r3, t3, _, info = env.step(0)  # mode a
    assert t3 and info["config"] == {"x": 7, "y": 8, "mode": "a"} and r3 == 1.0
    assert env.n_evaluations == 1


def test_budget_is_enforced_and_history_recorded(toy_registered):
    env = archgym.make(toy_registered, max_evaluations=3)
    for _ in range(3):
        env.evaluate({"x": 1, "y": 2, "mode": "b"})
    with pytest.raises(BudgetExhausted):
        env.evaluate({"x": 1, "y": 2, "mode": "b"})
    t = env.trajectory()
    assert t["evaluation"].tolist() == [1, 2, 3]
    assert list(t.columns[:6]) == ["evaluation", "reward", "best_reward", "feasible", "reason", "wall_time_s"]
    assert t["cost"].tolist() == [41.0] * 3  # 36 + 4 + 1


def test_objective_and_backend_kwargs(toy_registered):
    from archgym.testing import ToySimulator

    env = gymnasium.make("archgym/Toy-v0", objective="cost<=4")
    env.reset(seed=0)
    _, r, *_ = env.step(env.unwrapped.space.encode({"x": 9, "y": 8, "mode": "a"}))
    assert r == 1.0
    proxy = ToySimulator(offset=100.0)  # any Simulator can answer in place of the real one
    env = gymnasium.make("archgym/Toy-v0", backend=proxy)
    env.reset(seed=0)
    *_, info = env.step(env.unwrapped.space.encode({"x": 7, "y": 8, "mode": "a"}))
    assert info["metrics"]["cost"] == 100.0
    with pytest.raises(ValueError, match="no such file"):
        archgym.make(toy_registered, backend="/no/such/proxy.pkl")
    with pytest.raises(ValueError, match="mode"):
        archgym.make(toy_registered, mode="weird")


def test_gymnasium_check_env_passes_on_every_registered_env_that_is_not_a_simulator_env():
    """Simulator envs are checked by check_simulator (tests/test_contract_checkers.py); the others here,
    with Gymnasium's own checker exactly as a user runs it."""
    from gymnasium.utils.env_checker import check_env

    others = [e for e in archgym.list_envs() if e not in archgym.list_simulators()]
    assert others  # ScratchpadSchedule-v0
    for env_id in others:
        check_env(archgym.make(env_id), skip_render_check=True)

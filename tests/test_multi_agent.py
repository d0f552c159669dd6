"""The PettingZoo ParallelEnv view: API test, joint action = canonical encoding, shared reward."""
import numpy as np
import pytest

pytest.importorskip("pettingzoo")

import archgym  # noqa: E402
from archgym.multi_agent import MultiAgentDSEEnv  # noqa: E402


def test_parallel_api(toy_registered):
    from pettingzoo.test import parallel_api_test

    parallel_api_test(MultiAgentDSEEnv(archgym.make(toy_registered, episode_length=3)), num_cycles=20)


def test_groups_share_reward_and_join_to_the_canonical_action(toy_registered):
    env = archgym.make(toy_registered)
    ma = MultiAgentDSEEnv(env, groups={"size": ["x", "y"], "policy": ["mode"]})
    obs, _ = ma.reset(seed=0)
    assert ma.action_space("size").nvec.tolist() == [21, 7] and ma.action_space("policy").n == 3
    _, rewards, terms, _, infos = ma.step({"size": np.array([7, 3]), "policy": 0})
    assert rewards == {"size": 1.0, "policy": 1.0}
    assert all(terms.values()) and ma.agents == []
    assert infos["policy"]["config"] == {"x": 7, "y": 8, "mode": "a"}
    assert env.n_evaluations == 1


def test_bad_groups(toy_registered):
    env = archgym.make(toy_registered)
    with pytest.raises(ValueError, match="unknown parameter 'z'"):
        MultiAgentDSEEnv(env, groups={"a": ["x", "z"]})
    with pytest.raises(ValueError, match="not owned: y"):
        MultiAgentDSEEnv(env, groups={"a": ["x"], "b": ["mode"]})
    with pytest.raises(ValueError, match="mode='design'"):
        MultiAgentDSEEnv(archgym.make(toy_registered, mode="parameter"))

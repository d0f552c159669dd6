"""A multi-agent view of a :class:`~archgym.env.DSEEnv` (PettingZoo ``ParallelEnv`` API).

As in the MARL memory-controller study on ArchGym, each agent owns one
parameter (or one named group of parameters) and all agents share the reward.

### Agents
``groups`` maps agent name -> list of parameter names; by default the groups
the simulator declares in its space (``space.groups``), else every parameter
is its own agent, named after it.  Groups must partition the space
(:class:`~archgym.errors.GroupsError` otherwise).

### Action spaces
An agent owning one parameter acts with ``Discrete(n)`` (the parameter's
canonical index); an agent owning several acts with ``MultiDiscrete`` of their
cardinalities, in space order.  Joined, the actions form exactly the
canonical index vector of the underlying env: no second encoding.

### Observations
Every agent observes the underlying env's observation (normalized metrics,
feasibility flag, design; see :mod:`archgym.env`).

### Reward and episode end
One parallel step evaluates one design (counting one evaluation against the
env's budget); every agent receives the same reward.  All agents terminate
after ``episode_length`` parallel steps (an integer >= 1; default: the
underlying env's ``episode_length``, 1 unless set, i.e. a bandit).  The view
counts its own steps, so the wrapped env is not modified.
``infos[agent]`` carries the env's info (config, metrics, feasibility).

Needs the ``marl`` extra (``pip install archgym[marl]``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces

try:
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the multi-agent view needs PettingZoo: pip install 'archgym[marl]'") from exc

from .env import DSEEnv
from .errors import UserInputError

__all__ = ["MultiAgentDSEEnv"]


class MultiAgentDSEEnv(ParallelEnv):
    """Shared-reward, one-agent-per-parameter-group view of a DSEEnv."""

    metadata = {"name": "archgym_multi_agent_v0", "render_modes": []}

    def __init__(self, env: Any, groups: Mapping[str, Sequence[str]] | None = None,
                 episode_length: int | None = None) -> None:
        dse = getattr(env, "unwrapped", env)
        if not isinstance(dse, DSEEnv):
            raise TypeError(f"MultiAgentDSEEnv wraps an archgym DSEEnv, got {type(dse).__name__}")
        if dse.mode != "design":
            raise ValueError("the multi-agent view needs a DSEEnv in mode='design'")
        self.env = dse
        if episode_length is None:
            episode_length = dse.episode_length
        if isinstance(episode_length, bool) or not isinstance(episode_length, (int, np.integer)) \
                or episode_length < 1:
            raise UserInputError(f"episode_length must be an integer >= 1, got {episode_length!r}")
        self.episode_length = int(episode_length)
        self._steps = 0
        names = dse.space.names
        groups = dse.space.resolve_groups(groups)
        order = {n: i for i, n in enumerate(names)}
        self._columns = {a: sorted((order[p] for p in g)) for a, g in groups.items()}
        self.possible_agents = list(groups)
        self.agents: list[str] = []
        nvec = dse.space.nvec
        self._action_spaces = {}
        for a, cols in self._columns.items():
            self._action_spaces[a] = (spaces.Discrete(int(nvec[cols[0]])) if len(cols) == 1
                                      else spaces.MultiDiscrete(nvec[cols]))
        self._obs_space = dse.observation_space

    def observation_space(self, agent: str):
        return self._obs_space

    def action_space(self, agent: str):
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Reset every agent.  ``options`` is accepted and not used: the view has
        no per-episode options, and PettingZoo's own API test
        (``parallel_api_test``) resets with an arbitrary ``options`` dict, which
        a conforming env must take.  (The single-agent :class:`DSEEnv` refuses
        options it would ignore.)"""
        obs, info = self.env.reset(seed=seed)
        if seed is not None:
            for i, a in enumerate(self.possible_agents):
                self._action_spaces[a].seed(seed + i)
        self.agents = list(self.possible_agents)
        self._steps = 0
        return {a: obs.copy() for a in self.agents}, {a: dict(info) for a in self.agents}

    def joint_action(self, actions: Mapping[str, Any]) -> np.ndarray:
        """The canonical index vector assembled from every agent's action."""
        idx = np.zeros(len(self.env.space), dtype=np.int64)
        for a, cols in self._columns.items():
            if a not in actions:
                raise ValueError(f"no action for agent {a!r}")
            idx[cols] = np.atleast_1d(np.asarray(actions[a], dtype=np.int64))
        return idx

    def step(self, actions: Mapping[str, Any]):
        obs, reward, _, truncated, info = self.env.step(self.joint_action(actions))
        self._steps += 1
        terminated = self._steps >= self.episode_length
        agents = list(self.agents)
        if terminated or truncated:
            self.agents = []
        return ({a: obs.copy() for a in agents}, {a: float(reward) for a in agents},
                {a: bool(terminated) for a in agents}, {a: bool(truncated) for a in agents},
                {a: dict(info) for a in agents})

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()

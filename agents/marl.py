"""Multi-agent RL searcher: independent PPO learners, one per parameter group, one shared reward.

The form of Krishnan et al., "Multi-Agent Reinforcement Learning for
Microprocessor Design Space Exploration" (arXiv 2211.16385; the DRAM
memory-controller case study of ArchGym): the design is split among agents,
each agent picks the values of its own parameters, the joint choice is
evaluated once, and every agent is trained on the same (shared) reward.

### Agents and groups
``groups`` (hyperparameter): ``"declared"`` (default) uses the groups the
simulator declares in its space (:attr:`DesignSpace.groups`; one agent per
parameter when it declares none), ``"parameters"`` gives one agent per
parameter (the paper's form), and a mapping ``{agent: [parameter, ...]}``
sets them explicitly.  Groups must partition the space
(:meth:`DesignSpace.resolve_groups` raises a one-line
:class:`~archgym.errors.GroupsError` naming the missing, repeated or unknown
parameter).

### What each agent observes, and why
Each agent's policy and value baseline see the normalized metrics of the last
evaluated design and its feasibility flag: the first ``m + 1`` entries of
:class:`~archgym.env.DSEEnv`'s observation (all zeros before the first
evaluation).  This is the shared outcome every agent could observe in a real
co-design loop, and it makes the problem contextual: an agent can learn e.g.
"the last design was infeasible / slow, move my knob" rather than a bandit
over one fixed distribution.  The observation's design part is left out on
purpose: it would let each agent read the other agents' choices, which a
decentralized learner does not have (only the centralized critic below sees
them).

### Learning (independent PPO, Schulman et al. 2017)
Every policy is a one-hidden-layer tanh MLP (``net_width`` units) with one
softmax head per parameter of its group (the group's action is the product of
its heads).  Episodes are one step long (one joint action = one design = one
evaluation), so the return is the reward itself and no GAE or discount is
needed.  Every ``batch_size`` joint actions, each agent takes ``n_epochs``
full-batch Adam steps on its clipped surrogate (``clip_range``) with an entropy
bonus (``ent_coef``), and its value baseline is regressed on the reward.
The learners see the reward as every RL searcher does
(:mod:`archgym.agents.reward_scaling`, ``reward_scaling``: ranked by default,
or standardized with the running mean and standard deviation, infeasible
designs clipped to the worst feasible reward; unbounded objectives such as
``archgym:`` stay well scaled), and each agent's advantages are normalized
within the batch.  No parameter is
shared between agents: the networks are stored stacked (one slice per agent)
so that all agents run in one batched matrix product, and every agent's
gradient comes only from its own loss (Adam is per element, so this equals one
optimizer per agent).

``critic``: ``"local"`` (default; the paper's form) gives each agent its own
value function of the observation.  ``"central"`` (MAPPO/COMA-style, Yu et
al. 2022; Foerster et al. 2018) uses one shared value network that sees the
observation, the *other* agents' actions (one-hot) and the agent's id; the
baseline then removes the reward variance caused by the other agents'
exploration while staying independent of the agent's own action (so the
policy gradient stays unbiased).  Which one helps is measured in the README
("Multi-agent searcher").

### Budget, seeds, records
One joint action is one design through the given environment: a new design
is an evaluation (recorded in its history, counted against its budget), a
repeat is answered from the record without spending budget (the repeat rule
of :mod:`archgym.env`; ``reuse_evaluations=False`` pays for it) and still
trains the learners.  The search runs until the budget is spent, so the
budget is exact for any value, including budgets that are not a multiple of
``batch_size``.  All
randomness (weight initialization, action sampling) comes from one NumPy
generator seeded by ``seed``; torch runs on the CPU with one thread, so the
same seed gives the same trajectory.  torch is imported inside :meth:`run`
(``import archgym.agents`` stays light).  After a run, ``policy_`` holds each
parameter's action probabilities for the zero observation and ``updates_`` the
number of PPO updates.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from archgym.env import BudgetExhausted, DSEEnv

from .base import Agent, HyperParameter, HyperParameterError
from .reward_scaling import MODES, RewardScaler

__all__ = ["MARLAgent", "GroupsHyperParameter"]


class GroupsHyperParameter(HyperParameter):
    """The ``groups`` hyperparameter: ``"declared"``, ``"parameters"`` or a
    mapping of agent name -> parameter names (a single name may be a string).
    Its form is checked here; whether it partitions the space is checked
    against the environment's space at the start of a run."""

    def validate(self, value: Any) -> Any:
        if value in ("declared", "parameters"):
            return value
        if isinstance(value, Mapping) and value:
            out = {}
            for k, v in value.items():
                members = [v] if isinstance(v, str) else v
                if not isinstance(members, (list, tuple)) or not all(isinstance(p, str) for p in members):
                    raise HyperParameterError(f"hyperparameter 'groups': group {k!r} must list parameter "
                                              f"names, got {v!r}")
                out[str(k)] = list(members)
            return out
        raise HyperParameterError(f"hyperparameter 'groups': {value!r} not allowed; allowed: 'declared', "
                                  "'parameters' or a mapping of group name -> parameter names")

    def describe(self) -> str:
        return f"{self.name}={self.default!r} {{declared, parameters, {{group: [parameter, ...]}}}}"

    def sample(self, rng: np.random.Generator) -> Any:
        return self.default


class MARLAgent(Agent):
    """Independent PPO learners, one per parameter group, trained on the shared reward.

    Hyperparameters: ``learning_rate`` (1e-5..1, log, default 0.01),
    ``batch_size`` (joint actions = evaluations per update, 2..4096, default
    16), ``n_epochs`` (1..100, default 4), ``clip_range`` (0.01..1, default
    0.2), ``ent_coef`` (0..1, default 0.01), ``net_width`` (hidden units per
    agent, 4..512, default 32), ``critic`` (``local`` or ``central``, default
    ``local``), ``groups`` (``declared``, ``parameters`` or a mapping; default
    ``declared``), ``reward_scaling`` (``rank``, ``standard`` or ``none``;
    default ``rank``), ``reuse_evaluations`` (default True).  See the module
    docstring.
    """

    name = "marl"
    repeat_patience = 20  # as the SB3 searchers (archgym.agents.rl): a collapsed policy pays for its repeats
    hyperparameters = (
        HyperParameter("learning_rate", 0.01, float, 1e-5, 1.0, log=True, description="Adam step size"),
        HyperParameter("batch_size", 16, int, 2, 4096, log=True, description="joint actions per PPO update"),
        HyperParameter("n_epochs", 4, int, 1, 100, description="gradient steps per batch"),
        HyperParameter("clip_range", 0.2, float, 0.01, 1.0, description="PPO ratio clip"),
        HyperParameter("ent_coef", 0.01, float, 0.0, 1.0, description="entropy bonus"),
        HyperParameter("net_width", 32, int, 4, 512, log=True, description="hidden units per agent"),
        HyperParameter("critic", "local", str, choices=("local", "central"),
                       description="per-agent value of the observation, or one that also sees the others' actions"),
        GroupsHyperParameter("groups", "declared", str, description="agents: declared, parameters, or a mapping"),
        HyperParameter("reward_scaling", "rank", str, choices=MODES,
                       description="learners' reward: rank, running standardization, or raw"),
        HyperParameter("reuse_evaluations", True, bool, description="repeats answered free (False: paid)"),
    )

    def search(self, env: DSEEnv, budget: int, seed: int) -> None:
        groups = env.space.resolve_groups(self.groups)  # GroupsError before any evaluation
        from archgym.threads import math_threads

        from .rl import _view

        with math_threads(1):
            rng = np.random.default_rng(int(seed))
            learner = _Learners(env.space, groups, len(env.simulator.metric_names) + 1, self, rng)
            view = _view(env, "design")
            scale = RewardScaler(self.reward_scaling)
            obs = np.zeros(learner.n_obs, dtype=np.float32)
            buf_obs, buf_act, buf_rew = [], [], []
            start = env.n_evaluations
            try:
                while env.n_evaluations - start < budget:  # evaluations made: a free repeat is no step
                    action = learner.act(obs)
                    o, reward, _, _, info = view.step(action)
                    buf_obs.append(obs)
                    buf_act.append(action)
                    buf_rew.append(scale(reward, info["feasible"], info.get("reused", False)))
                    obs = np.asarray(o[:learner.n_obs], dtype=np.float32)
                    if len(buf_rew) == self.batch_size:
                        learner.update(np.array(buf_obs), np.array(buf_act), np.array(buf_rew))
                        buf_obs, buf_act, buf_rew = [], [], []
            except BudgetExhausted:  # a user's cap below the budget: the learned state is still reported
                pass
            self.groups_ = groups
            self.updates_ = learner.n_updates
            self.policy_ = learner.probabilities(np.zeros(learner.n_obs, dtype=np.float32))


class _Learners:
    """The stacked per-agent networks, action sampling and the PPO update."""

    def __init__(self, space, groups: dict[str, list[str]], n_obs: int, hp: MARLAgent,
                 rng: np.random.Generator) -> None:
        import torch

        self.torch, self.rng, self.hp, self.n_obs = torch, rng, hp, n_obs
        self.space = space
        names = space.names
        nvec = space.nvec
        self.nvec = nvec
        A, d, H = len(groups), len(names), hp.net_width
        owner = np.zeros(d, dtype=np.int64)
        offset = np.zeros(d, dtype=np.int64)
        width = np.zeros(A, dtype=np.int64)  # logits per agent (sum of its parameters' cardinalities)
        col = {n: i for i, n in enumerate(names)}
        for a, members in enumerate(groups.values()):
            for p in members:
                j = col[p]
                owner[j], offset[j] = a, width[a]
                width[a] += nvec[j]
        L, nmax = int(width.max()), int(nvec.max())
        # per-parameter logits gathered from the (agent, logit) table; padding masked out
        gather = np.zeros((d, nmax), dtype=np.int64)
        valid = np.zeros((d, nmax), dtype=bool)
        for j in range(d):
            gather[j, :nvec[j]] = owner[j] * L + offset[j] + np.arange(nvec[j])
            valid[j, :nvec[j]] = True
        self.gather = torch.as_tensor(gather)
        self.valid = torch.as_tensor(valid)
        self.member = torch.as_tensor(np.eye(A, dtype=np.float32)[owner])  # (d, A): parameter -> agent
        self.A = A

        def init(shape, fan_in, gain=1.0):
            bound = gain / np.sqrt(fan_in)
            return torch.nn.Parameter(torch.as_tensor(rng.uniform(-bound, bound, size=shape).astype(np.float32)))

        # policies: agent a's slice [a] of every tensor is its own network
        self.pi = [init((A, n_obs, H), n_obs), init((A, 1, H), n_obs),
                   init((A, H, L), H, 0.01), torch.nn.Parameter(torch.zeros(A, 1, L))]
        if hp.critic == "local":
            self.vf = [init((A, n_obs, H), n_obs), init((A, 1, H), n_obs),
                       init((A, H, 1), H), torch.nn.Parameter(torch.zeros(A, 1, 1))]
        else:
            S = int(nvec.sum())
            k = n_obs + S + A
            self.vf = [init((k, H), k), init((H,), k), init((H, 1), H), torch.nn.Parameter(torch.zeros(1))]
            starts = np.concatenate([[0], np.cumsum(nvec)[:-1]])
            self.onehot_start = torch.as_tensor(starts)
            others = np.ones((A, S), dtype=np.float32)  # others[a]: one-hot columns not owned by agent a
            for j in range(d):
                others[owner[j], starts[j]:starts[j] + nvec[j]] = 0.0
            self.others = torch.as_tensor(others)
            self.agent_id = torch.eye(A)
            self.S = S
        self.opt = torch.optim.Adam(self.pi + self.vf, lr=hp.learning_rate)
        self.n_updates = 0

    # ------------------------------------------------------------------ policy
    def _log_probs(self, obs):
        """Per-parameter log-probabilities, ``(B, d, nmax)`` (padding = -inf)."""
        torch = self.torch
        W1, b1, W2, b2 = self.pi
        h = torch.tanh(torch.einsum("bo,aoh->bah", obs, W1) + b1.transpose(0, 1))
        logits = torch.einsum("bah,ahl->bal", h, W2) + b2.transpose(0, 1)
        per_param = logits.reshape(len(obs), -1)[:, self.gather]
        per_param = per_param.masked_fill(~self.valid, float("-inf"))
        return torch.log_softmax(per_param, dim=-1)

    def probabilities(self, obs: np.ndarray) -> dict[str, list[float]]:
        with self.torch.no_grad():
            p = self._log_probs(self.torch.as_tensor(obs[None])).exp()[0].numpy()
        return {name: p[j, :n].tolist() for j, (name, n) in enumerate(zip(self.space.names, self.nvec))}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """One joint action (the canonical index vector), every agent sampling its own parameters."""
        with self.torch.no_grad():
            p = self._log_probs(self.torch.as_tensor(obs[None])).exp()[0].numpy().astype(np.float64)
        cdf = np.cumsum(p, axis=1)
        u = self.rng.random(len(cdf)) * cdf[:, -1]
        return np.minimum((cdf < u[:, None]).sum(axis=1), self.nvec - 1).astype(np.int64)

    # ------------------------------------------------------------------ value
    def _values(self, obs, actions):
        """Value baseline of every agent, ``(B, A)``."""
        torch = self.torch
        W1, b1, W2, b2 = self.vf
        if self.hp.critic == "local":
            h = torch.tanh(torch.einsum("bo,aoh->bah", obs, W1) + b1.transpose(0, 1))
            return (torch.einsum("bah,ahl->bal", h, W2) + b2.transpose(0, 1))[..., 0]
        B = len(obs)
        onehot = torch.zeros(B, self.S)
        onehot.scatter_(1, actions + self.onehot_start, 1.0)
        x = torch.cat([obs[:, None, :].expand(B, self.A, -1), onehot[:, None, :] * self.others,
                       self.agent_id.expand(B, -1, -1)], dim=-1)
        return (torch.tanh(x @ W1 + b1) @ W2 + b2)[..., 0]

    # ------------------------------------------------------------------ update
    def update(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
        torch, hp = self.torch, self.hp
        obs_t = torch.as_tensor(obs, dtype=torch.float32)
        act_t = torch.as_tensor(actions, dtype=torch.int64)
        ret = torch.as_tensor(rewards, dtype=torch.float32)[:, None]  # (B, 1): the learners' (scaled) rewards

        def agent_logp_entropy():
            logp = self._log_probs(obs_t)  # (B, d, nmax)
            taken = logp.gather(2, act_t[:, :, None])[..., 0]  # (B, d)
            p = logp.exp()
            ent = -(p * logp.masked_fill(~self.valid, 0.0)).sum(-1)  # (B, d)
            return taken @ self.member, ent @ self.member  # per agent: (B, A)

        with torch.no_grad():
            old_logp, _ = agent_logp_entropy()
            adv = ret - self._values(obs_t, act_t)
            if len(adv) > 1:
                adv = (adv - adv.mean(0)) / (adv.std(0) + 1e-8)
        for _ in range(hp.n_epochs):
            logp, ent = agent_logp_entropy()
            ratio = torch.exp(logp - old_logp)
            surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - hp.clip_range, 1 + hp.clip_range) * adv)
            value_loss = (self._values(obs_t, act_t) - ret).pow(2)
            # summed over agents: each agent's parameters get exactly its own loss's gradient
            loss = (-surrogate - hp.ent_coef * ent + 0.5 * value_loss).mean(0).sum()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.n_updates += 1

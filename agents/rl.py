"""Reinforcement-learning searchers: stable-baselines3 PPO, A2C, DQN and SAC on DSEEnv.

The budget is the number of designs evaluated.  SB3 collects experience in
rollouts that may overshoot a budget, so a callback stops learning as soon as
the budget is spent, and the environment's own cap
(:meth:`~archgym.env.DSEEnv.budget`, entered by :meth:`Agent.run`) raises
:class:`~archgym.env.BudgetExhausted` as a safety net: the budget is never
exceeded, and budgets that are not a multiple of a rollout (e.g. 37) work.
Repeated designs follow the one rule of every searcher (:mod:`archgym.env`):
the environment answers them from its record without spending budget, and
the learner still gets the step (``reuse_evaluations=False`` pays instead).

Why these searchers differ from ArchGym's, and the measurements behind each
choice, are in ``docs/searchers.md``.  In short:

* **Small-budget defaults** (``preset="small_budget"``): learning rates and
  rollouts that move a policy within a few hundred evaluations, chosen by a
  tuning run on problems outside the benchmark suite
  (``experiments/studies/rl_tuning.yaml``).  ``preset="sb3"`` gives SB3's own
  defaults and ``preset="archgym"`` ArchGym's settings and formulation (the
  constant observation, the raw reward, every repeat paid), for
  reproduction; explicitly given hyperparameters override a preset's.
* **An informative observation** (``observation="last"``): the learner sees
  the last evaluated design, its normalized metrics and its feasibility (the
  environment's observation, :mod:`archgym.env`), so the policy can condition
  on what it found.  ArchGym resets every one-step episode to a constant
  observation (``observation="constant"``), which makes the policy a product
  of independent per-parameter distributions.
* **Standardized rewards** (``reward_scaling="rank"``, :mod:`.reward_scaling`):
  infeasible designs clipped to the worst feasible reward, then ranked; the
  trajectory keeps the true reward.

Action views, all evaluating through the *given* environment (so every design
lands in its history and counts against its budget):

* PPO, A2C: design mode, ``MultiDiscrete(nvec)`` -- one step = one design
  (ArchGym's contextual-bandit formulation);
* DQN (needs ``Discrete``): one step sets one parameter, in space order, and
  the last step evaluates the design.  The action space is
  ``Discrete(max_n)`` for the largest cardinality ``max_n``; actions at or
  beyond the current parameter's cardinality ``n`` are masked (their
  Q-values and exploration probability are zero), so each value has exactly
  one action and exploration spreads evenly over the values.  The
  observation adds the design being built and which parameter is next.
* SAC (needs ``Box``): the continuous relaxation ``Box(-1, 1, (d,))``, mapped to
  ``[0, 1]^d`` and then to indices by :meth:`DesignSpace.unit_to_indices`.

The policy/value networks are MLPs of ``net_depth`` layers of ``net_width``
units.  torch and SB3 are imported inside :meth:`run` (``import
archgym.agents`` stays light); a run uses one math thread (torch and BLAS,
restored afterwards, :func:`archgym.threads.math_threads`) and the CPU.  The
seed fixes SB3's seeds (Python, NumPy, torch, action space) and the env's
reset seed, so the same seed gives the same trajectory.
"""
from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from archgym.env import DSEEnv

from .base import Agent, HyperParameter
from .reward_scaling import MODES, RewardScaler

__all__ = ["PPOAgent", "A2CAgent", "DQNAgent", "SACAgent", "PRESETS"]

#: named presets of every SB3 searcher: the defaults, SB3's own, ArchGym's
PRESETS = ("small_budget", "sb3", "archgym")

# ArchGym's formulation: the constant reset observation, the raw reward, every step a paid evaluation
_ARCHGYM_FORM = {"observation": "constant", "reward_scaling": "none", "reuse_evaluations": False}


class _ForwardingEnv(DSEEnv):
    """A DSEEnv on the same simulator and objective as ``target`` (possibly in
    another mode) whose evaluations go through ``target.evaluate``."""

    def __init__(self, target: DSEEnv, mode: str) -> None:
        super().__init__(target.simulator, target.objective, mode=mode)
        self._target = target

    def evaluate(self, config):
        return self._target.evaluate(config)

    @property
    def n_evaluations(self) -> int:
        return self._target.n_evaluations


def _view(dse: DSEEnv, mode: str) -> DSEEnv:
    """``dse`` itself if it already has ``mode`` (and one design per episode in
    design mode), else a forwarding view."""
    if dse.mode == mode and (mode == "parameter" or dse.episode_length == 1):
        return dse
    return _ForwardingEnv(dse, mode)


class _BoxActions(gym.ActionWrapper):
    """``Box(-1, 1, (d,))`` actions mapped to design indices via ``unit_to_indices``."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(len(env.unwrapped.space),), dtype=np.float32)

    def action(self, action):
        return self.env.unwrapped.space.unit_to_indices((np.asarray(action, dtype=np.float64) + 1.0) / 2.0)


class _ObservationMemory:
    """The observation a learner acts on: of the last evaluated design
    (``"last"``), of the best one so far (``"best"``), or the environment's
    reset observation (``"constant"``, all zeros)."""

    def __init__(self, mode: str, size: int) -> None:
        self.mode = mode
        self._obs = np.zeros(size, dtype=np.float32)
        self._best = -np.inf

    def update(self, obs: np.ndarray, reward: float) -> None:
        if self.mode == "last" or (self.mode == "best" and reward > self._best):
            self._obs = np.asarray(obs, dtype=np.float32).copy()
            self._best = max(self._best, reward)

    def observation(self, reset_obs: np.ndarray | None = None) -> np.ndarray:
        if self.mode == "constant":
            return self._obs.copy() if reset_obs is None else reset_obs
        return self._obs.copy()


class _LearnerView(gym.Wrapper):
    """What a design-mode learner sees: the observation of the last evaluated
    design on every reset (``observation="last"``; the environment's reset
    observation, all zeros, with ``"constant"``) and the scaled reward
    (:class:`RewardScaler`).  ``info`` and the env's history keep the true reward."""

    def __init__(self, env: gym.Env, observation: str, scaler: RewardScaler) -> None:
        super().__init__(env)
        self._memory = _ObservationMemory(observation, env.observation_space.shape[0])
        self._scaler = scaler

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self._memory.observation(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._memory.update(obs, reward)
        return obs, self._scaler(reward, info["feasible"], info.get("reused", False)), terminated, truncated, info


class _ParameterSteps(gym.Env):
    """DQN's view: one step sets one parameter (value index = action), the last
    step evaluates the design through ``dse.step`` (a design-mode env).

    Observation ``Box(0, 1, (m + 1 + 3d,))``: the last evaluated design's
    normalized metrics and feasibility flag and its design part (as in
    :class:`DSEEnv`'s observation; zeros with ``observation="constant"``),
    then the design being built (``(index + 0.5) / n``, 0 where unset) and a
    one-hot of the parameter to set next.  Action ``Discrete(max_n)``; an
    action ``>= n`` of the current parameter is refused (the DQN masks them)."""

    def __init__(self, dse: DSEEnv, observation: str, scaler: RewardScaler) -> None:
        self.dse = dse
        self.space = dse.space
        self.nvec = self.space.nvec.astype(np.int64)
        d = len(self.nvec)
        self._head = dse.observation_space.shape[0]      # m + 1 + d
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(self._head + 2 * d,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(int(self.nvec.max()))
        self._memory = _ObservationMemory(observation, self._head)
        self._scaler = scaler
        self._partial: list[int] = []

    def valid_actions(self, obs: np.ndarray) -> np.ndarray:
        """Mask (int8, one row per observation) of the actions allowed for the parameter each observation is at."""
        onehot = np.asarray(obs).reshape(-1, self.observation_space.shape[0])[:, -len(self.nvec):]
        n = self.nvec[np.argmax(onehot, axis=1)]
        return (np.arange(self.action_space.n)[None, :] < n[:, None]).astype(np.int8)

    def _obs(self) -> np.ndarray:
        d = len(self.nvec)
        k = len(self._partial)
        built = np.zeros(d)
        built[:k] = (np.asarray(self._partial, dtype=np.float64) + 0.5) / self.nvec[:k]
        onehot = np.zeros(d)
        onehot[k] = 1.0
        return np.concatenate([self._memory.observation(), built, onehot]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
        self._partial = []
        return self._obs(), {}

    def step(self, action):
        a = int(np.asarray(action).item())
        k = len(self._partial)
        if not 0 <= a < self.nvec[k]:
            raise ValueError(f"action {a} for parameter {self.space.names[k]!r} with {self.nvec[k]} values")
        self._partial.append(a)
        if len(self._partial) < len(self.nvec):
            return self._obs(), 0.0, False, False, {}
        head, reward, _, _, info = self.dse.step(np.array(self._partial, dtype=np.int64))  # one design evaluated
        self._memory.update(head, reward)
        self._partial = []
        obs = self._obs()
        return obs, self._scaler(reward, info["feasible"], info.get("reused", False)), True, False, info


# --------------------------------------------------------------------------- hyperparameters
def _lr(default: float) -> HyperParameter:
    return HyperParameter("learning_rate", default, float, 1e-6, 1.0, log=True, description="optimizer step size")


def _net(width: int, depth: int) -> tuple[HyperParameter, HyperParameter]:
    return (HyperParameter("net_width", width, int, 4, 1024, log=True, description="units per hidden layer"),
            HyperParameter("net_depth", depth, int, 1, 4, description="hidden layers"))


_FORM = (
    HyperParameter("preset", "small_budget", str, choices=PRESETS,
                   description="defaults: small_budget (tuned), sb3 (SB3's own), archgym (ArchGym's)"),
    HyperParameter("observation", "last", str, choices=("last", "best", "constant"),
                   description="last (or best) design + its metrics, or ArchGym's constant observation"),
    HyperParameter("reward_scaling", "rank", str, choices=MODES,
                   description="learner's reward: rank, running standardization, or raw"),
    HyperParameter("reuse_evaluations", True, bool, description="repeats answered free (False: paid)"),
)
_GAMMA = HyperParameter("gamma", 0.99, float, 0.0, 1.0, description="discount (irrelevant for one-step episodes)")
_NORM_ADV = HyperParameter("normalize_advantage", True, bool, description="advantages standardized per batch")
_VF = HyperParameter("vf_coef", 0.5, float, 0.0, 10.0, description="value-loss weight")


class _SB3Agent(Agent):
    """Shared run loop of the SB3 searchers (see the module docstring).

    ``presets`` maps a preset name to the hyperparameter values it changes
    from the declared defaults (which are the ``small_budget`` preset)."""

    algo: ClassVar[str] = ""
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    # a learner step costs model work even when the env answers it free, and 20 repeats in a row mean the
    # policy has collapsed onto designs it knows: the env charges the next repeat (archgym.env's repeat rule)
    repeat_patience: ClassVar[int] = 20

    def __init__(self, *args: Any, **params: Any) -> None:
        preset = params.get("preset", "small_budget")
        base = self.presets.get(preset, {}) if isinstance(preset, str) else {}
        super().__init__(*args, **{**base, **params})

    def _learner_env(self, dse: DSEEnv, scaler: RewardScaler) -> gym.Env:
        return _LearnerView(_view(dse, "design"), self.observation, scaler)

    def _kwargs(self, env: DSEEnv) -> dict:
        """The SB3 constructor's keyword arguments."""
        return {"learning_rate": self.learning_rate, "gamma": self.gamma}

    def _policy(self, train_env: gym.Env) -> tuple[Any, dict]:
        return "MlpPolicy", {"net_arch": [self.net_width] * self.net_depth}

    def _model_class(self, sb3):
        return getattr(sb3, self.algo)

    def _steps_per_evaluation(self, dse: DSEEnv) -> int:
        return 1

    def _prepare(self, model, env: DSEEnv, budget: int) -> None:
        """Adjust the built model before learning (e.g. DQN's exploration schedule)."""

    def search(self, env: DSEEnv, budget: int, seed: int) -> None:
        import stable_baselines3 as sb3
        from stable_baselines3.common.callbacks import BaseCallback

        from archgym.threads import math_threads

        class StopAtBudget(BaseCallback):
            def _on_step(self) -> bool:
                return bool(env.evaluations_left)

        with math_threads(1):
            train_env = self._learner_env(env, RewardScaler(self.reward_scaling))
            policy, policy_kwargs = self._policy(train_env)
            model = self._model_class(sb3)(policy, train_env, seed=int(seed), device="cpu", verbose=0,
                                           policy_kwargs=policy_kwargs, **self._kwargs(env))
            self._prepare(model, env, budget)
            self.model_ = model
            # a step cap no run reaches (free repeats are steps too); the callback stops at the budget
            per_eval = self._steps_per_evaluation(env)
            total = (budget * (self.repeat_patience + 1) + 10) * per_eval
            model.learn(total_timesteps=total, callback=StopAtBudget())


class PPOAgent(_SB3Agent):
    """Proximal policy optimization (Schulman et al. 2017) on the MultiDiscrete design action.

    Hyperparameters (defaults = ``preset="small_budget"``; module docstring):
    ``learning_rate``, ``n_steps`` (rollout length), ``batch_size``
    (minibatch, clipped to ``n_steps``), ``n_epochs``, ``ent_coef``,
    ``clip_range``, ``gae_lambda``, ``normalize_advantage``, ``vf_coef``,
    ``gamma``, ``net_width``, ``net_depth``, plus ``preset``,
    ``observation``, ``reward_scaling`` and ``reuse_evaluations``.
    """

    name = "ppo"
    algo = "PPO"
    hyperparameters = _FORM + (
        _lr(0.01),
        HyperParameter("n_steps", 16, int, 2, 8192, log=True, description="rollout length"),
        HyperParameter("batch_size", 16, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("n_epochs", 10, int, 1, 100, description="passes over each rollout"),
        HyperParameter("ent_coef", 0.0, float, 0.0, 1.0, description="entropy bonus"),
        HyperParameter("clip_range", 0.2, float, 0.01, 1.0, description="PPO ratio clip"),
        HyperParameter("gae_lambda", 0.95, float, 0.0, 1.0, description="GAE lambda"),
        _NORM_ADV, _VF, _GAMMA, *_net(64, 2),
    )
    presets = {
        "sb3": {"learning_rate": 3e-4, "n_steps": 2048, "batch_size": 64, "n_epochs": 10, "ent_coef": 0.0},
        # ArchGym's PPO (acme.agents.jax.ppo via sims/DRAM/train_single_agent_DRAMSys.py): learning rate 2e-5,
        # entropy cost 0.1, clip 0.2, 3 x 32 networks; ACME's defaults for the rest (8-step unrolls x 256 per
        # update = 2048 steps, 8 minibatches, 2 epochs, value cost 1, no advantage normalization)
        "archgym": {**_ARCHGYM_FORM, "learning_rate": 2e-5, "n_steps": 2048, "batch_size": 256, "n_epochs": 2,
                    "ent_coef": 0.1, "normalize_advantage": False, "vf_coef": 1.0, "net_width": 32,
                    "net_depth": 3},
    }

    def _kwargs(self, env: DSEEnv) -> dict:
        return {**super()._kwargs(env), "n_steps": self.n_steps, "batch_size": min(self.batch_size, self.n_steps),
                "n_epochs": self.n_epochs, "ent_coef": self.ent_coef, "clip_range": self.clip_range,
                "gae_lambda": self.gae_lambda, "normalize_advantage": self.normalize_advantage,
                "vf_coef": self.vf_coef}


class A2CAgent(_SB3Agent):
    """Advantage actor-critic (Mnih et al. 2016, synchronous variant) on the design action.

    Hyperparameters (defaults = ``preset="small_budget"``): ``learning_rate``,
    ``n_steps``, ``ent_coef``, ``gae_lambda``, ``normalize_advantage`` (SB3's
    default is off), ``vf_coef``, ``gamma``, ``net_width``, ``net_depth``,
    plus ``preset``, ``observation``, ``reward_scaling`` and
    ``reuse_evaluations``.  The optimizer is SB3's RMSprop.
    """

    name = "a2c"
    algo = "A2C"
    hyperparameters = _FORM + (
        _lr(0.003),
        HyperParameter("n_steps", 16, int, 1, 8192, log=True, description="rollout length"),
        HyperParameter("ent_coef", 0.0, float, 0.0, 1.0, description="entropy bonus"),
        HyperParameter("gae_lambda", 1.0, float, 0.0, 1.0, description="GAE lambda"),
        _NORM_ADV, _VF, _GAMMA, *_net(64, 2),
    )
    presets = {
        "sb3": {"learning_rate": 7e-4, "n_steps": 5, "ent_coef": 0.0, "normalize_advantage": False},
        # ArchGym ran no A2C: its formulation with SB3's hyperparameters
        "archgym": {**_ARCHGYM_FORM, "learning_rate": 7e-4, "n_steps": 5, "ent_coef": 0.0,
                    "normalize_advantage": False},
    }

    def _kwargs(self, env: DSEEnv) -> dict:
        return {**super()._kwargs(env), "n_steps": self.n_steps, "ent_coef": self.ent_coef,
                "gae_lambda": self.gae_lambda, "normalize_advantage": self.normalize_advantage,
                "vf_coef": self.vf_coef}


class DQNAgent(_SB3Agent):
    """Deep Q-network (Mnih et al. 2015), one parameter per step, invalid actions masked.

    Hyperparameters (defaults = ``preset="small_budget"``): ``learning_rate``,
    ``batch_size``, ``buffer_size``, ``learning_starts`` (random steps first),
    ``exploration_initial_eps``, ``exploration_final_eps`` and
    ``exploration_fraction`` (epsilon falls linearly from the initial to the
    final value over that fraction of the *budget*, counted in evaluations --
    SB3 counts it in steps of ``total_timesteps``, which a budget does not
    fix), ``target_update_interval``, ``train_freq``, ``gradient_steps``,
    ``gamma``, ``net_width``, ``net_depth``, plus ``preset``,
    ``observation``, ``reward_scaling`` and ``reuse_evaluations``.  Step
    counts are parameter steps (``d`` per design).
    """

    name = "dqn"
    algo = "DQN"
    hyperparameters = _FORM + (
        _lr(1e-3),
        HyperParameter("batch_size", 32, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("buffer_size", 10000, int, 100, 10**7, log=True, description="replay capacity"),
        HyperParameter("learning_starts", 50, int, 0, 10**6, description="random steps before learning"),
        HyperParameter("exploration_initial_eps", 1.0, float, 0.0, 1.0, description="first epsilon"),
        HyperParameter("exploration_final_eps", 0.05, float, 0.0, 1.0, description="final epsilon"),
        HyperParameter("exploration_fraction", 0.3, float, 0.0, 1.0,
                       description="fraction of the budget over which epsilon falls"),
        HyperParameter("target_update_interval", 100, int, 1, 10**6, log=True, description="target net period"),
        HyperParameter("train_freq", 4, int, 1, 1000, description="steps between updates"),
        HyperParameter("gradient_steps", 1, int, 1, 100, description="gradient steps per update"),
        HyperParameter("gamma", 1.0, float, 0.0, 1.0, description="discount over the d steps of a design"),
        *_net(64, 2),
    )
    _SB3 = {"learning_rate": 1e-4, "batch_size": 32, "buffer_size": 1_000_000, "learning_starts": 100,
            "exploration_initial_eps": 1.0, "exploration_final_eps": 0.05, "exploration_fraction": 0.1,
            "target_update_interval": 10000, "train_freq": 4, "gradient_steps": 1, "gamma": 0.99}
    presets = {"sb3": _SB3, "archgym": {**_ARCHGYM_FORM, **_SB3}}  # ArchGym ran no DQN

    def _learner_env(self, dse: DSEEnv, scaler: RewardScaler) -> gym.Env:
        return _ParameterSteps(_view(dse, "design"), self.observation, scaler)

    def _steps_per_evaluation(self, dse: DSEEnv) -> int:
        return len(dse.space)

    def _model_class(self, sb3):
        return _masked_dqn_class(sb3)

    def _policy(self, train_env: gym.Env) -> tuple[Any, dict]:
        from stable_baselines3.dqn.policies import DQNPolicy

        return _masked_policy_class(DQNPolicy), {"net_arch": [self.net_width] * self.net_depth,
                                                 "valid": train_env.valid_actions}

    def _kwargs(self, env: DSEEnv) -> dict:
        return {**super()._kwargs(env), "batch_size": self.batch_size, "buffer_size": self.buffer_size,
                "learning_starts": self.learning_starts, "exploration_initial_eps": self.exploration_initial_eps,
                "exploration_final_eps": self.exploration_final_eps,
                "exploration_fraction": self.exploration_fraction,
                "target_update_interval": self.target_update_interval, "train_freq": self.train_freq,
                "gradient_steps": self.gradient_steps}

    def _prepare(self, model, env: DSEEnv, budget: int) -> None:
        start, eps0, eps1 = env.n_evaluations, self.exploration_initial_eps, self.exploration_final_eps
        span = self.exploration_fraction * budget

        def epsilon(_progress_remaining: float) -> float:  # by evaluations made, not by SB3's step count
            done = env.n_evaluations - start
            return eps1 if done >= span else eps0 + (eps1 - eps0) * done / span

        model.exploration_schedule = epsilon
        model.exploration_rate = eps0


def _masked_dqn_class(sb3):
    """SB3's DQN whose random actions (warm-up and epsilon-greedy) are drawn
    uniformly from the valid actions of the current parameter
    (``_ParameterSteps.valid_actions`` of the training env)."""

    class MaskedDQN(sb3.DQN):
        def _random_valid(self, obs) -> np.ndarray:
            mask = self.policy.valid(obs)
            return np.array([self.action_space.sample(mask=m) for m in mask])

        def predict(self, observation, state=None, episode_start=None, deterministic=False):
            if not deterministic and np.random.rand() < self.exploration_rate:
                return self._random_valid(observation), state
            return self.policy.predict(observation, state, episode_start, deterministic)

        def _sample_action(self, learning_starts, action_noise=None, n_envs=1):
            if self.num_timesteps < learning_starts:
                action = self._random_valid(self._last_obs)
                return action, action
            return super()._sample_action(learning_starts, action_noise, n_envs)

    return MaskedDQN


def _masked_policy_class(base):
    """A DQN policy whose Q-values of invalid actions are pushed far below any
    valid one (so the greedy action and the TD target's max are valid)."""
    import torch

    class MaskedQPolicy(base):
        def __init__(self, *args, valid=None, **kwargs):
            self.valid = valid  # obs -> int8 mask of valid actions (numpy)
            super().__init__(*args, **kwargs)

        def make_q_net(self):
            net = super().make_q_net()
            inner = net.forward
            valid = self.valid

            def forward(obs):
                q = inner(obs)
                mask = torch.as_tensor(valid(obs.detach().cpu().numpy()), dtype=q.dtype, device=q.device)
                return q - (1.0 - mask) * 1e6

            net.forward = forward
            return net

    return MaskedQPolicy


class SACAgent(_SB3Agent):
    """Soft actor-critic (Haarnoja et al. 2018) on the Box relaxation of the design.

    Hyperparameters (defaults = ``preset="small_budget"``): ``learning_rate``,
    ``batch_size``, ``buffer_size``, ``learning_starts``, ``tau``,
    ``train_freq``, ``gradient_steps``, ``ent_coef`` (the entropy
    coefficient: its fixed value, or its initial value when
    ``learn_ent_coef``), ``learn_ent_coef`` (SB3's ``"auto"``: tuned towards
    the target entropy), ``target_entropy`` (per action dimension; SB3's
    ``"auto"`` is -1), ``gamma``, ``net_width``, ``net_depth``, plus
    ``preset``, ``observation``, ``reward_scaling`` and ``reuse_evaluations``.
    """

    name = "sac"
    algo = "SAC"
    hyperparameters = _FORM + (
        _lr(1e-3),
        HyperParameter("batch_size", 64, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("buffer_size", 10000, int, 100, 10**7, log=True, description="replay capacity"),
        HyperParameter("learning_starts", 20, int, 0, 10**6, description="random steps before learning"),
        HyperParameter("tau", 0.005, float, 0.0, 1.0, description="target smoothing"),
        HyperParameter("train_freq", 1, int, 1, 1000, description="steps between updates"),
        HyperParameter("gradient_steps", 1, int, 1, 100, description="gradient steps per update"),
        HyperParameter("ent_coef", 0.1, float, 1e-5, 10.0, log=True,
                       description="entropy coefficient (fixed, or initial when learned)"),
        HyperParameter("learn_ent_coef", True, bool, description="tune the coefficient towards target_entropy"),
        HyperParameter("target_entropy", -1.0, float, -20.0, 5.0, description="target entropy per dimension"),
        _GAMMA, *_net(64, 2),
    )
    _SB3 = {"learning_rate": 3e-4, "batch_size": 256, "buffer_size": 1_000_000, "learning_starts": 100,
            "tau": 0.005, "train_freq": 1, "gradient_steps": 1, "ent_coef": 1.0, "learn_ent_coef": True,
            "target_entropy": -1.0, "net_width": 256, "net_depth": 2}
    presets = {
        "sb3": _SB3,
        # ArchGym's SAC (acme.agents.jax.sac): learning rate 2e-5, 3 x 32 networks; SB3's defaults otherwise
        "archgym": {**_ARCHGYM_FORM, **_SB3, "learning_rate": 2e-5, "net_width": 32, "net_depth": 3},
    }

    def _learner_env(self, dse: DSEEnv, scaler: RewardScaler) -> gym.Env:
        return _LearnerView(_BoxActions(_view(dse, "design")), self.observation, scaler)

    def _kwargs(self, env: DSEEnv) -> dict:
        d = len(env.space)
        return {**super()._kwargs(env), "batch_size": self.batch_size, "buffer_size": self.buffer_size,
                "learning_starts": self.learning_starts, "tau": self.tau, "train_freq": self.train_freq,
                "gradient_steps": self.gradient_steps,
                "ent_coef": f"auto_{self.ent_coef!r}" if self.learn_ent_coef else self.ent_coef,
                "target_entropy": self.target_entropy * d}

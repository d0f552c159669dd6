"""Reinforcement-learning searchers: stable-baselines3 PPO, A2C, DQN and SAC on DSEEnv.

The budget is the number of designs evaluated (= env steps in design mode).
SB3 collects experience in rollouts that may overshoot a budget, so a callback
stops learning as soon as the budget is spent, and the environment's own cap
(:meth:`~archgym.env.DSEEnv.budget`, entered by :meth:`Agent.run`) raises
:class:`~archgym.env.BudgetExhausted` as a safety net: the budget is never
exceeded, and budgets that are not a multiple of a rollout (e.g. 37) work.

Action views, all evaluating through the *given* environment (so every design
lands in its history and counts against its budget):

* PPO, A2C: design mode, ``MultiDiscrete(nvec)`` -- one step = one design
  (ArchGym's contextual-bandit formulation);
* DQN (needs ``Discrete``): parameter mode -- one step sets one parameter, the
  last step of an episode evaluates the design (a ``DSEEnv(simulator,
  objective, mode="parameter")`` whose evaluations are forwarded to the given
  env);
* SAC (needs ``Box``): the continuous relaxation ``Box(-1, 1, (d,))``, mapped to
  ``[0, 1]^d`` and then to indices by :meth:`DesignSpace.unit_to_indices`.

Exposed hyperparameters follow the ones ArchGym swept (learning rate, entropy
coefficient, clip range, rollout length / batch size, network width).  The
policy/value networks are MLPs of ``net_depth`` layers of ``net_width`` units.
torch and SB3 are imported inside :meth:`run` (``import archgym.agents`` stays
light); a run uses one math thread (torch and BLAS, restored afterwards,
:func:`archgym.threads.math_threads`) and the CPU.  The seed fixes SB3's seeds
(Python, NumPy, torch, action space) and the env's reset seed, so the same seed
gives the same trajectory.
"""
from __future__ import annotations


import gymnasium as gym
import numpy as np

from archgym.env import DSEEnv

from .base import Agent, HyperParameter

__all__ = ["PPOAgent", "A2CAgent", "DQNAgent", "SACAgent"]


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


class _BoxActions(gym.ActionWrapper):
    """``Box(-1, 1, (d,))`` actions mapped to design indices via ``unit_to_indices``."""

    def __init__(self, env: DSEEnv) -> None:
        super().__init__(env)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(len(env.space),), dtype=np.float32)

    def action(self, action):
        return self.env.unwrapped.space.unit_to_indices((np.asarray(action, dtype=np.float64) + 1.0) / 2.0)


def _view(dse: DSEEnv, mode: str) -> DSEEnv:
    """``dse`` itself if it already has ``mode`` (and one design per episode in
    design mode), else a forwarding view."""
    if dse.mode == mode and (mode == "parameter" or dse.episode_length == 1):
        return dse
    return _ForwardingEnv(dse, mode)


_LR = HyperParameter("learning_rate", 3e-4, float, 1e-6, 1.0, log=True, description="optimizer step size")
_WIDTH = HyperParameter("net_width", 64, int, 4, 1024, log=True, description="units per hidden layer")
_DEPTH = HyperParameter("net_depth", 2, int, 1, 4, description="hidden layers")
_GAMMA = HyperParameter("gamma", 0.99, float, 0.0, 1.0, description="discount (irrelevant for one-step episodes)")


class _SB3Agent(Agent):
    """Shared run loop of the SB3 searchers (see the module docstring)."""

    algo: str = ""
    mode: str = "design"

    def _train_env(self, dse: DSEEnv):
        return _view(dse, self.mode)

    def _kwargs(self) -> dict:
        return {"learning_rate": self.learning_rate, "gamma": self.gamma}

    def _steps_per_evaluation(self, dse: DSEEnv) -> int:
        return len(dse.space) if self.mode == "parameter" else 1

    def search(self, env: DSEEnv, budget: int, seed: int) -> None:
        import stable_baselines3 as sb3
        from stable_baselines3.common.callbacks import BaseCallback

        from archgym.threads import math_threads

        class StopAtBudget(BaseCallback):
            def _on_step(self) -> bool:
                return bool(env.evaluations_left)

        with math_threads(1):
            train_env = self._train_env(env)
            net = [self.net_width] * self.net_depth
            model = getattr(sb3, self.algo)(
                "MlpPolicy", train_env, seed=int(seed), device="cpu", verbose=0,
                policy_kwargs={"net_arch": net}, **self._kwargs())
            self.model_ = model
            # generous step cap; the callback stops at the budget
            total = budget * self._steps_per_evaluation(env) + 10 * len(env.space) + 10
            model.learn(total_timesteps=total, callback=StopAtBudget())


class PPOAgent(_SB3Agent):
    """Proximal policy optimization (Schulman et al. 2017) on the MultiDiscrete design action.

    Hyperparameters: ``learning_rate`` (1e-6..1, log, default 3e-4),
    ``n_steps`` (2..8192, default 32; rollout length), ``batch_size`` (2..8192,
    default 32; clipped to ``n_steps``), ``n_epochs`` (1..100, default 10),
    ``ent_coef`` (0..1, default 0.01), ``clip_range`` (0.01..1, default 0.2),
    ``gae_lambda`` (0..1, default 0.95), ``gamma``, ``net_width`` (4..1024,
    default 64), ``net_depth`` (1..4, default 2).
    """

    name = "ppo"
    algo = "PPO"
    hyperparameters = (
        _LR,
        HyperParameter("n_steps", 32, int, 2, 8192, log=True, description="rollout length"),
        HyperParameter("batch_size", 32, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("n_epochs", 10, int, 1, 100, description="passes over each rollout"),
        HyperParameter("ent_coef", 0.01, float, 0.0, 1.0, description="entropy bonus"),
        HyperParameter("clip_range", 0.2, float, 0.01, 1.0, description="PPO ratio clip"),
        HyperParameter("gae_lambda", 0.95, float, 0.0, 1.0, description="GAE lambda"),
        _GAMMA, _WIDTH, _DEPTH,
    )

    def _kwargs(self) -> dict:
        return {**super()._kwargs(), "n_steps": self.n_steps, "batch_size": min(self.batch_size, self.n_steps),
                "n_epochs": self.n_epochs, "ent_coef": self.ent_coef, "clip_range": self.clip_range,
                "gae_lambda": self.gae_lambda}


class A2CAgent(_SB3Agent):
    """Advantage actor-critic (Mnih et al. 2016, synchronous variant) on the design action.

    Hyperparameters: ``learning_rate`` (default 7e-4), ``n_steps`` (1..8192,
    default 8), ``ent_coef`` (0..1, default 0.01), ``gae_lambda`` (0..1, default
    1.0), ``gamma``, ``net_width``, ``net_depth``.
    """

    name = "a2c"
    algo = "A2C"
    hyperparameters = (
        HyperParameter("learning_rate", 7e-4, float, 1e-6, 1.0, log=True, description="optimizer step size"),
        HyperParameter("n_steps", 8, int, 1, 8192, log=True, description="rollout length"),
        HyperParameter("ent_coef", 0.01, float, 0.0, 1.0, description="entropy bonus"),
        HyperParameter("gae_lambda", 1.0, float, 0.0, 1.0, description="GAE lambda"),
        _GAMMA, _WIDTH, _DEPTH,
    )

    def _kwargs(self) -> dict:
        return {**super()._kwargs(), "n_steps": self.n_steps, "ent_coef": self.ent_coef,
                "gae_lambda": self.gae_lambda}


class DQNAgent(_SB3Agent):
    """Deep Q-network (Mnih et al. 2015) in parameter mode (one parameter per step).

    Hyperparameters: ``learning_rate`` (default 1e-3), ``batch_size`` (2..8192,
    default 32), ``buffer_size`` (100..10**7, default 10000), ``learning_starts``
    (0..10**6 steps, default 50), ``exploration_fraction`` (0..1, default 0.3),
    ``exploration_final_eps`` (0..1, default 0.05), ``target_update_interval``
    (1..10**6, default 100), ``train_freq`` (1..1000, default 4), ``gamma``,
    ``net_width``, ``net_depth``.  Step counts are parameter steps (``d`` per
    design).
    """

    name = "dqn"
    algo = "DQN"
    mode = "parameter"
    hyperparameters = (
        HyperParameter("learning_rate", 1e-3, float, 1e-6, 1.0, log=True, description="optimizer step size"),
        HyperParameter("batch_size", 32, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("buffer_size", 10000, int, 100, 10**7, log=True, description="replay capacity"),
        HyperParameter("learning_starts", 50, int, 0, 10**6, description="random steps before learning"),
        HyperParameter("exploration_fraction", 0.3, float, 0.0, 1.0, description="epsilon decay fraction"),
        HyperParameter("exploration_final_eps", 0.05, float, 0.0, 1.0, description="final epsilon"),
        HyperParameter("target_update_interval", 100, int, 1, 10**6, log=True, description="target net period"),
        HyperParameter("train_freq", 4, int, 1, 1000, description="steps between updates"),
        _GAMMA, _WIDTH, _DEPTH,
    )

    def _kwargs(self) -> dict:
        return {**super()._kwargs(), "batch_size": self.batch_size, "buffer_size": self.buffer_size,
                "learning_starts": self.learning_starts, "exploration_fraction": self.exploration_fraction,
                "exploration_final_eps": self.exploration_final_eps,
                "target_update_interval": self.target_update_interval, "train_freq": self.train_freq}


class SACAgent(_SB3Agent):
    """Soft actor-critic (Haarnoja et al. 2018) on the Box relaxation of the design.

    Hyperparameters: ``learning_rate`` (default 3e-4), ``batch_size`` (2..8192,
    default 64), ``buffer_size`` (100..10**7, default 10000), ``learning_starts``
    (0..10**6, default 50), ``tau`` (0..1, default 0.005), ``train_freq``
    (1..1000, default 1), ``gamma``, ``net_width``, ``net_depth``.
    """

    name = "sac"
    algo = "SAC"
    hyperparameters = (
        _LR,
        HyperParameter("batch_size", 64, int, 2, 8192, log=True, description="minibatch size"),
        HyperParameter("buffer_size", 10000, int, 100, 10**7, log=True, description="replay capacity"),
        HyperParameter("learning_starts", 50, int, 0, 10**6, description="random steps before learning"),
        HyperParameter("tau", 0.005, float, 0.0, 1.0, description="target smoothing"),
        HyperParameter("train_freq", 1, int, 1, 1000, description="steps between updates"),
        _GAMMA, _WIDTH, _DEPTH,
    )

    def _train_env(self, dse: DSEEnv):
        return _BoxActions(_view(dse, "design"))

    def _kwargs(self) -> dict:
        return {**super()._kwargs(), "batch_size": self.batch_size, "buffer_size": self.buffer_size,
                "learning_starts": self.learning_starts, "tau": self.tau, "train_freq": self.train_freq}

"""``DSEEnv``: any simulator + workload + objective as a Gymnasium environment.

### Modes
* ``mode="design"`` (default; ArchGym's contextual bandit): one step = one whole
  design evaluated.  **Action**: ``MultiDiscrete(space.nvec)``, the canonical
  index vector of the design (see :mod:`archgym.space`).  The episode ends
  (``terminated=True``) after ``episode_length`` designs (default 1).
* ``mode="parameter"``: one parameter is set per step, in space order.
  **Action**: ``Discrete(max_n)`` where ``max_n`` is the largest parameter
  cardinality; action ``a`` picks value index ``floor(a * n / max_n)`` of the
  current parameter (``n`` values), so every value is reachable and the map is
  deterministic.  Intermediate rewards are 0; the last step evaluates the design
  and terminates the episode.

### Observation
``Box(0, 1, (m + 1 + d,), float32)`` for ``m`` metrics and ``d`` parameters:

* ``m`` normalized metrics of the last evaluated design, ``x / (x + ref)`` with
  ``ref`` the metric at the simulator's reference design (0.5 there), so every
  entry lies in ``[0, 1)`` whatever the units; an infeasible design shows 1.0;
* one feasibility flag (1 feasible, 0 not);
* ``d`` entries of the (partial) design, ``(index + 0.5) / n`` for parameters set
  so far and 0 for unset ones.

``reset`` returns all zeros (nothing evaluated yet).

### Reward
``objective.reward(result)`` (see :mod:`archgym.objective`): higher is better,
bounded in ``[infeasible_reward, 1]`` for the default objectives.

### Info
``config`` (decoded design), ``metrics`` (every metric; None where an
infeasible design has no value -- NaN in :attr:`history` and trajectories),
``units``, ``feasible``, ``reason``, ``reward``; with a proxy backend also
``proxy_uncertainty``, ``proxy_p_feasible`` and ``proxy_ood`` (see
``archgym.cost_models.proxy``).  (The running count is
:attr:`DSEEnv.n_evaluations`; it is kept out of ``info`` so equal actions give
equal infos, as Gymnasium's determinism check requires.)

### Budget and records
Every evaluated design -- through :meth:`step` or :meth:`evaluate` -- is appended
to :attr:`history` and counts against the cap ``max_evaluations`` (if set;
the user's option), as does every design of :meth:`evaluate_many` (a batch
for population searchers): exceeding it raises :class:`BudgetExhausted`.  A
design that breaks a space constraint is recorded as infeasible without
calling the simulator, and counts.

A searcher's budget is owned by one context manager, :meth:`DSEEnv.budget`:
``with env.budget(n) as start:`` allows ``n`` more evaluations (never more
than the user's cap), and restores the previous cap on exit.
:meth:`archgym.agents.Agent.run` enters it for every searcher.

### The simulator contract
Designs are validated against the space (searchers stay in it), then costed
through the simulator's public :meth:`~archgym.simulator.Simulator.evaluate`,
so a simulator that overrides ``evaluate`` is never bypassed.

### Bad input
A bad option (``mode``, ``episode_length``, ``render_mode``), an action outside
the action space or a non-integer action raises :class:`EnvInputError`, a
:class:`~archgym.errors.UserInputError` (one line naming the value and what is
allowed).
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Callable, Iterator, Mapping

import gymnasium as gym
import numpy as np

from .errors import UserInputError
from .objective import Objective, make_objective
from .simulator import FEASIBLE, REASON, Simulator, ValidatedDesign
from .space import ConstraintViolation

__all__ = ["DSEEnv", "BudgetExhausted", "EnvInputError"]


class EnvInputError(UserInputError):
    """A bad environment option or action (one line: the value and what is allowed)."""


def _integer_action(action: Any) -> np.ndarray:
    """``action`` as an int64 array; float or other non-integer input is refused
    (never truncated), as Gymnasium's discrete spaces hold integers only."""
    a = np.asarray(action)
    if a.dtype.kind not in "iu":
        raise EnvInputError(f"action {action!r} has {a.dtype} values; discrete actions must be integers")
    return a.astype(np.int64, copy=False)


class BudgetExhausted(RuntimeError):
    """More evaluations were requested than the budget allows."""


class DSEEnv(gym.Env):
    """A design-space exploration environment (see the module docstring)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        simulator: Simulator,
        objective: Any = None,
        mode: str = "design",
        episode_length: int = 1,
        max_evaluations: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if mode not in ("design", "parameter"):
            raise EnvInputError(f"mode must be 'design' or 'parameter', got {mode!r}")
        if isinstance(episode_length, (bool, np.bool_)) or not isinstance(episode_length, (int, np.integer)) \
                or episode_length < 1:
            raise EnvInputError(f"episode_length must be an integer >= 1, got {episode_length!r}")
        if render_mode not in (None, "ansi"):
            raise EnvInputError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if max_evaluations is not None and (isinstance(max_evaluations, (bool, np.bool_)) or not isinstance(
                max_evaluations, (int, np.integer)) or max_evaluations < 0):
            raise EnvInputError(f"max_evaluations must be None or an integer >= 0, got {max_evaluations!r}")
        self.simulator = simulator
        self.space = simulator.space
        self.mode = mode
        self.episode_length = int(episode_length)
        self.render_mode = render_mode
        self.reference = simulator.reference_metrics()
        default = simulator.default_objective or simulator.metric_names[0]
        self.objective: Objective = make_objective(objective, default=default).bind(simulator.metrics, self.reference)
        self._metric_names = simulator.metric_names
        self._units = {m.name: m.unit for m in simulator.metrics}
        self._ref = np.array([self.reference[n] for n in self._metric_names], dtype=np.float64)
        m, d = len(self._metric_names), len(self.space)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(m + 1 + d,), dtype=np.float32)
        if mode == "design":
            self.action_space = self.space.to_multidiscrete()
        else:
            self._max_n = int(self.space.nvec.max())
            self.action_space = gym.spaces.Discrete(self._max_n)
        r = self.objective.reward_range
        self.reward_range = (float(r[0]), float(r[1]))
        self.max_evaluations = max_evaluations
        self.history: list[dict] = []
        self.listeners: list[Callable[[dict], None]] = []
        self._obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        self._partial: list[int] = []
        self._steps = 0

    # ------------------------------------------------------------------ evaluation
    @property
    def n_evaluations(self) -> int:
        return len(self.history)

    @property
    def evaluations_left(self) -> int | None:
        """Evaluations the current cap still allows (None: no cap)."""
        return None if self.max_evaluations is None else max(0, self.max_evaluations - len(self.history))

    @contextlib.contextmanager
    def budget(self, n: int) -> Iterator[int]:
        """Allow at most ``n`` more evaluations inside the ``with`` block,
        never more than a cap already set (the user's ``max_evaluations``, or
        an enclosing budget); restore that cap on exit, however the block
        ends.  Yields the number of evaluations made before the block, so
        ``env.trajectory(start)`` is the block's trajectory."""
        start = len(self.history)
        previous = self.max_evaluations
        self.max_evaluations = start + int(n) if previous is None else min(previous, start + int(n))
        try:
            yield start
        finally:
            self.max_evaluations = previous

    def evaluate(self, config: Mapping[str, Any]) -> tuple[float, dict]:
        """Evaluate one design (validated), record it, return ``(reward, info)``.

        This is the black-box entry point searchers use; it counts against the budget.
        """
        if self.max_evaluations is not None and len(self.history) >= self.max_evaluations:
            raise BudgetExhausted(f"budget of {self.max_evaluations} evaluations exhausted")
        t0 = time.perf_counter()
        try:
            cfg = self.space.validate(config)  # searchers stay inside the space
            result = self.simulator.evaluate(ValidatedDesign(cfg, self.space))
        except ConstraintViolation as exc:
            cfg = self.space.validate(config, check_constraints=False)
            result = self.simulator.infeasible(str(exc))
        return self._record(cfg, result, time.perf_counter() - t0)

    def evaluate_many(self, configs: list[Mapping[str, Any]]) -> list[tuple[float, dict]]:
        """Evaluate several designs at once (one batch call when the simulator
        is ``batch_friendly``, e.g. a proxy; else one by one).  Each design is
        recorded and counted exactly as by :meth:`evaluate`; a batch larger
        than the remaining budget raises :class:`BudgetExhausted` before any
        evaluation.  Wall time is split evenly over the batch."""
        if self.max_evaluations is not None and len(self.history) + len(configs) > self.max_evaluations:
            raise BudgetExhausted(f"budget of {self.max_evaluations} evaluations cannot take {len(configs)} more")
        if not self.simulator.batch_friendly or len(configs) < 2:
            return [self.evaluate(c) for c in configs]
        t0 = time.perf_counter()
        cfgs, broken = [], []
        for c in configs:
            try:
                cfgs.append(self.space.validate(c))
                broken.append("")
            except ConstraintViolation as exc:
                cfgs.append(self.space.validate(c, check_constraints=False))
                broken.append(str(exc))
        frame = self.simulator.evaluate_batch([c for c, why in zip(cfgs, broken) if not why])
        rows = iter(frame[self._metric_names + [FEASIBLE, REASON]].to_dict(orient="records"))
        wall = (time.perf_counter() - t0) / len(cfgs)
        return [self._record(cfg, self.simulator.infeasible(why) if why else next(rows), wall)
                for cfg, why in zip(cfgs, broken)]

    def _record(self, cfg: dict, result: Mapping[str, Any], wall: float) -> tuple[float, dict]:
        reward = float(self.objective.reward(result))
        metrics = {n: result[n] for n in self._metric_names}
        record = {
            "evaluation": len(self.history) + 1,
            "config": cfg,
            "metrics": metrics,
            "feasible": bool(result[FEASIBLE]),
            "reason": result[REASON],
            "reward": reward,
            "wall_time_s": wall,
        }
        self.history.append(record)
        for listener in self.listeners:
            listener(record)
        info = {
            "config": dict(cfg),
            # a metric an infeasible design lacks is None in info (NaN in history and trajectories):
            # NaN != NaN would make equal steps compare unequal (Gymnasium's determinism check)
            "metrics": {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in metrics.items()},
            "units": dict(self._units),
            "feasible": record["feasible"],
            "reason": record["reason"],
            "reward": reward,
        }
        info.update(self.simulator.evaluation_info(cfg))  # e.g. a proxy's uncertainty and OOD flag
        return reward, info

    def trajectory(self, start: int = 0):
        """The evaluations since index ``start`` as a DataFrame: ``evaluation``,
        ``reward``, ``best_reward`` (running max), ``feasible``, ``reason``,
        ``wall_time_s``, one column per parameter and one per metric."""
        return history_frame(self.history[start:], self.space.names, self._metric_names)

    # ------------------------------------------------------------------ gym API
    def _normalized_metrics(self, metrics: Mapping[str, float], feasible: bool) -> np.ndarray:
        x = np.array([metrics[n] for n in self._metric_names], dtype=np.float64)
        if not feasible or not np.all(np.isfinite(x)):
            return np.ones(len(x))
        x = np.maximum(x, 0.0)
        return x / (x + self._ref)

    def _design_part(self, indices: list[int] | np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.space), dtype=np.float64)
        k = len(indices)
        if k:
            out[:k] = (np.asarray(indices, dtype=np.float64) + 0.5) / self.space.nvec[:k]
        return out

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if options:  # nothing is configurable per episode: an option would be silently ignored
            raise EnvInputError(f"reset() takes no options, got {sorted(options)}; set env options when making "
                                "the env (archgym.make(..., mode=..., episode_length=...))")
        super().reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
        self._steps = 0
        self._partial = []
        self._obs = np.zeros(self.observation_space.shape, dtype=np.float32)
        return self._obs.copy(), {}

    def step(self, action):
        if self.mode == "parameter":
            p = self.space.parameters[len(self._partial)]
            a = _integer_action(action)
            if a.size != 1 or not 0 <= int(a.item()) < self._max_n:
                raise EnvInputError(f"action {action!r} outside Discrete({self._max_n})")
            a = int(a.item())
            self._partial.append(a * p.n // self._max_n)
            if len(self._partial) < len(self.space):
                m = len(self._metric_names)
                obs = np.zeros(self.observation_space.shape, dtype=np.float64)
                obs[m + 1:] = self._design_part(self._partial)
                self._obs = obs.astype(np.float32)
                return self._obs.copy(), 0.0, False, False, {}
            indices = np.array(self._partial, dtype=np.int64)
            self._partial = []
            terminated = True
        else:
            indices = _integer_action(action)
            if indices.shape != (len(self.space),) or np.any(indices < 0) or np.any(indices >= self.space.nvec):
                raise EnvInputError(f"action {action!r} outside MultiDiscrete({self.space.nvec.tolist()})")
            self._steps += 1
            terminated = self._steps >= self.episode_length
        reward, info = self.evaluate(self.space.decode(indices))
        obs = np.concatenate([
            self._normalized_metrics(info["metrics"], info["feasible"]),
            [1.0 if info["feasible"] else 0.0],
            self._design_part(indices),
        ])
        self._obs = np.clip(obs, 0.0, 1.0).astype(np.float32)
        return self._obs.copy(), reward, terminated, False, info

    def render(self):
        if self.render_mode != "ansi":
            return None
        if not self.history:
            return "no design evaluated yet"
        r = self.history[-1]
        metrics = ", ".join(f"{k}={v:.4g} {self._units[k]}" for k, v in r["metrics"].items())
        return f"#{r['evaluation']} {r['config']} -> reward {r['reward']:.4g}; {metrics}"

    def __repr__(self) -> str:
        return f"DSEEnv({self.simulator!r}, objective={self.objective!r}, mode={self.mode!r})"


def history_frame(history: list[dict], param_names: list[str], metric_names: list[str]):
    """Evaluation records (as in :attr:`DSEEnv.history`) as a flat DataFrame."""
    import pandas as pd

    cols = ["evaluation", "reward", "best_reward", "feasible", "reason", "wall_time_s"]
    if not history:
        return pd.DataFrame(columns=cols + list(param_names) + list(metric_names))
    rows = []
    best = -math.inf
    for r in history:
        best = max(best, r["reward"])
        row = {"evaluation": r["evaluation"], "reward": r["reward"], "best_reward": best,
               "feasible": r["feasible"], "reason": r["reason"], "wall_time_s": r["wall_time_s"]}
        row.update(r["config"])
        row.update(r["metrics"])
        rows.append(row)
    return pd.DataFrame(rows, columns=cols + list(param_names) + list(metric_names))

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
``units``, ``feasible``, ``reason``, ``reward``; ``reused`` (True) on a repeat
answered from the record (see *The repeat rule*); with a proxy backend also
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

### The repeat rule (one rule for every searcher)
Inside a budget block (``reuse=True``, the default, and what
:meth:`archgym.agents.Agent.run` enters unless a searcher's
``reuse_evaluations`` hyperparameter is False), a design already evaluated
in that block is **answered from the record and costs nothing**: the
recorded reward and a copy of its info (with ``info["reused"] = True``) are
returned, nothing is appended to :attr:`history`, no budget is spent and the
simulator is not called.  So no searcher pays for a repeat, whatever its
kind (ask/tell, population, RL through :meth:`step`).  To guarantee
progress, after ``patience`` such free answers in a row (no new design in
between) the next repeat is evaluated and charged like a new design (a
searcher that proposes only repeats, e.g. once a tiny space is exhausted,
still ends).  :attr:`repeats_free` and :attr:`repeats_charged` count both
kinds over the env's life.  With ``reuse=False`` every design is paid for,
as outside a budget block.

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

__all__ = ["DSEEnv", "BudgetExhausted", "EnvInputError", "DEFAULT_REPEAT_PATIENCE"]

#: free answers to repeats in a row before the next repeat is charged (:meth:`DSEEnv.budget`)
DEFAULT_REPEAT_PATIENCE = 200


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
        self.repeats_free = 0      # repeats answered from the record (no budget spent), see budget()
        self.repeats_charged = 0   # repeats evaluated and charged after `patience` free answers in a row
        self._repeats: _RepeatRecord | None = None
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
    def budget(self, n: int, reuse: bool = True, patience: int = DEFAULT_REPEAT_PATIENCE) -> Iterator[int]:
        """Allow at most ``n`` more evaluations inside the ``with`` block,
        never more than a cap already set (the user's ``max_evaluations``, or
        an enclosing budget); restore that cap on exit, however the block
        ends.  Yields the number of evaluations made before the block, so
        ``env.trajectory(start)`` is the block's trajectory.

        ``reuse`` (default True) applies the repeat rule inside the block: a
        design already evaluated in this block is answered from the record
        without spending budget, and after ``patience`` (an integer >= 0)
        such answers in a row the next repeat is charged (module docstring,
        *The repeat rule*)."""
        if isinstance(patience, (bool, np.bool_)) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise EnvInputError(f"patience must be an integer >= 0, got {patience!r}")
        start = len(self.history)
        previous, previous_repeats = self.max_evaluations, self._repeats
        self.max_evaluations = start + int(n) if previous is None else min(previous, start + int(n))
        self._repeats = _RepeatRecord(int(patience)) if reuse else None
        try:
            yield start
        finally:
            self.max_evaluations, self._repeats = previous, previous_repeats

    def evaluate(self, config: Mapping[str, Any]) -> tuple[float, dict]:
        """Evaluate one design (validated), record it, return ``(reward, info)``.

        This is the black-box entry point searchers use; it counts against the
        budget, except for a repeat answered from the record (module
        docstring, *The repeat rule*)."""
        t0 = time.perf_counter()
        cfg, broken = self._validated(config)
        repeats = self._repeats
        key = self._key(cfg) if repeats is not None else None
        if repeats is not None and repeats.decide(key):
            return self._reused(repeats, key)
        if self.max_evaluations is not None and len(self.history) >= self.max_evaluations:
            raise BudgetExhausted(f"budget of {self.max_evaluations} evaluations exhausted")
        result = self.simulator.infeasible(broken) if broken else self.simulator.evaluate(ValidatedDesign(cfg, self.space))
        return self._record(cfg, result, time.perf_counter() - t0, key)

    def evaluate_many(self, configs: list[Mapping[str, Any]]) -> list[tuple[float, dict]]:
        """Evaluate several designs at once (one batch call when the simulator
        is ``batch_friendly``, e.g. a proxy; else one by one).  Each design is
        recorded, counted and, under the repeat rule, answered from the record
        exactly as by :meth:`evaluate` called on each in order (a design
        repeated within the batch included); a batch whose new designs exceed
        the remaining budget raises :class:`BudgetExhausted` before any
        evaluation.  Wall time is split evenly over the designs evaluated."""
        repeats = self._repeats
        checked = [self._validated(c) for c in configs]
        keys = [self._key(cfg) for cfg, _ in checked] if repeats is not None else [None] * len(checked)
        paid = repeats.plan(keys) if repeats is not None else [True] * len(checked)
        if self.max_evaluations is not None and len(self.history) + sum(paid) > self.max_evaluations:
            raise BudgetExhausted(f"budget of {self.max_evaluations} evaluations cannot take {sum(paid)} more")
        if not self.simulator.batch_friendly or sum(paid) < 2:
            return [self.evaluate(c) for c in configs]
        t0 = time.perf_counter()
        todo = [cfg for (cfg, why), p in zip(checked, paid) if p and not why]
        frame = self.simulator.evaluate_batch(todo)
        rows = iter(frame[self._metric_names + [FEASIBLE, REASON]].to_dict(orient="records"))
        wall = (time.perf_counter() - t0) / sum(paid)
        out = []
        for (cfg, why), key, p in zip(checked, keys, paid):
            if repeats is not None and repeats.decide(key):
                out.append(self._reused(repeats, key))
            else:
                out.append(self._record(cfg, self.simulator.infeasible(why) if why else next(rows), wall, key))
        return out

    def _validated(self, config: Mapping[str, Any]) -> tuple[dict, str]:
        """The design validated against the space (searchers stay in it), and
        the reason it breaks a space constraint ("" if it does not)."""
        try:
            return self.space.validate(config), ""
        except ConstraintViolation as exc:
            return self.space.validate(config, check_constraints=False), str(exc)

    def _key(self, cfg: Mapping[str, Any]) -> tuple:
        return tuple(p.index_of(cfg[p.name]) for p in self.space.parameters)

    def _reused(self, repeats: "_RepeatRecord", key: tuple) -> tuple[float, dict]:
        """A repeat answered from the record: no budget, no history, no simulator call."""
        self.repeats_free += 1
        reward, info = repeats.answers[key]
        info = _copy_info(info)
        info["reused"] = True
        return reward, info

    def _record(self, cfg: dict, result: Mapping[str, Any], wall: float,
                key: tuple | None = None) -> tuple[float, dict]:
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
        if self._repeats is not None and key is not None:
            if self._repeats.store(key, reward, info):
                self.repeats_charged += 1
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


def _copy_info(info: dict) -> dict:
    """A copy of an evaluation's info, its dicts (config, metrics, units) copied too."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in info.items()}


class _RepeatRecord:
    """What one budget block has evaluated, for the repeat rule (module docstring).

    ``answers`` maps a design's index tuple to its recorded ``(reward, info)``;
    ``streak`` counts repeats answered free since the last evaluation."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.answers: dict[tuple, tuple[float, dict]] = {}
        self.streak = 0

    def decide(self, key: tuple) -> bool:
        """True if ``key`` is answered from the record now (and count it);
        False if it must be evaluated (new, or a repeat past the patience)."""
        if key in self.answers and self.streak < self.patience:
            self.streak += 1
            return True
        return False

    def plan(self, keys: list[tuple]) -> list[bool]:
        """Which of ``keys``, handled in order, would be evaluated (paid), without changing the record."""
        seen, streak, paid = set(self.answers), self.streak, []
        for key in keys:
            free = key in seen and streak < self.patience
            streak = streak + 1 if free else 0
            seen.add(key)
            paid.append(not free)
        return paid

    def store(self, key: tuple, reward: float, info: dict) -> bool:
        """Record an evaluation; True if it was a charged repeat."""
        repeat = key in self.answers
        self.answers[key] = (reward, _copy_info(info))  # the caller may change the info it was given
        self.streak = 0
        return repeat


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

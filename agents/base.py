"""The searcher interface every agent follows.

Habits borrowed from scikit-learn and Optuna:

* hyperparameters are keyword arguments of ``__init__``, declared once in the
  class attribute ``hyperparameters`` (default, range or choices, log scale) so
  sweeps can grid or sample them; ``__init__`` validates every one (defaults
  included) and stores it as a plain instance attribute of the same name
  (``GeneticAlgorithm(population_size=8).population_size == 8``), no work;
  ``get_params()`` returns them all, resolved;
* black-box searchers implement ask-and-tell: :meth:`Agent.setup` (space, seed,
  objective) then ``ask() -> design`` / ``tell(design, reward, info)``;
* every searcher runs with :meth:`Agent.run` ``(env, budget, seed) -> DataFrame``.
  The budget counts designs evaluated by the environment (simulator calls),
  identically for every searcher; the environment enforces it.  Same seed, same
  trajectory.

A multi-agent searcher (several policies over parameter groups) is an
:class:`Agent` whose ``run`` drives those policies; nothing here assumes a
single policy.

Writing a searcher
------------------
* One design at a time: subclass :class:`AskTellAgent`, implement ``ask()``
  (and ``tell()`` if it learns); ``setup`` gives ``self.space``, ``self.rng``
  (seeded) and ``self.objective``.
* A population (batches of designs, learning once a batch is scored): subclass
  :class:`archgym.agents.population.QueuedSearch` (also exported as
  ``archgym.agents.QueuedSearch``), the public base that the genetic
  algorithm, ant colony and random walk share.  Implement two methods:
  ``_propose() -> list of index vectors`` (the next batch, on the canonical
  index encoding of :mod:`archgym.space`) and ``_batch_done(results)``
  (``results``: ``(index vector, reward, objective vector)`` per design of the
  batch, in proposal order).  Declare ``HyperParameter("reuse_evaluations",
  True, bool)`` to have designs already evaluated answered from memory instead
  of spending budget.  It keeps ``evaluated_`` and gives ``pareto_front()``.
  Helpers: :mod:`archgym.agents.moves` (mutations on index vectors),
  :mod:`archgym.agents.pareto` (non-dominated sorting, crowding distance).
* Check it with :func:`archgym.testing.check_searcher` and register it with
  :func:`archgym.register_agent` or the ``archgym.agents`` entry-point group.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from archgym.env import BudgetExhausted, DSEEnv
from archgym.errors import UserInputError
from archgym.space import DesignSpace

__all__ = ["HyperParameter", "HyperParameterError", "RunInputError", "Agent", "AskTellAgent", "unwrap_env",
           "check_seed"]


class HyperParameterError(UserInputError):
    """An unknown hyperparameter, or a value outside its declared range."""


class RunInputError(UserInputError):
    """A bad argument of :meth:`Agent.run`: budget, seed, or an env a searcher cannot drive."""


@dataclass(frozen=True)
class HyperParameter:
    """Declaration of one hyperparameter: a default plus either a numeric range
    (``low``/``high``, optionally ``log``) or a list of ``choices``.  ``type`` is
    ``int``, ``float``, ``str`` or ``bool``."""

    name: str
    default: Any
    type: type = float
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    log: bool = False
    description: str = ""

    def validate(self, value: Any) -> Any:
        if self.choices is not None:
            if value not in self.choices:
                raise HyperParameterError(f"hyperparameter {self.name!r}: {value!r} not allowed; allowed: {list(self.choices)}")
            return value
        if self.type is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise HyperParameterError(f"hyperparameter {self.name!r}: expected true/false, got {value!r}")
            return bool(value)
        if self.type in (int, float):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise HyperParameterError(f"hyperparameter {self.name!r}: expected a number, got {value!r}")
            if self.type is int:
                if float(value) != int(value):
                    raise HyperParameterError(f"hyperparameter {self.name!r}: expected an integer, got {value!r}")
                value = int(value)
            else:
                value = float(value)
                if not math.isfinite(value):
                    raise HyperParameterError(f"hyperparameter {self.name!r}: must be finite, got {value!r}")
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise HyperParameterError(f"hyperparameter {self.name!r}: {value!r} outside the allowed range "
                                          f"[{self.low}, {self.high}]")
            return value
        return self.type(value)

    def describe(self) -> str:
        if self.choices is not None:
            rng = "{" + ", ".join(map(str, self.choices)) + "}"
        elif self.low is not None or self.high is not None:
            rng = f"[{self.low}, {self.high}]" + (" log" if self.log else "")
        else:
            rng = self.type.__name__
        return f"{self.name}={self.default!r} {rng}"

    def sample(self, rng: np.random.Generator) -> Any:
        """A random value from the declared range (for random hyperparameter search)."""
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.type is bool:
            return bool(rng.integers(2))
        lo, hi = self.low, self.high
        if lo is None or hi is None:
            return self.default
        if self.log:
            v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        else:
            v = rng.uniform(lo, hi)
        return int(round(v)) if self.type is int else float(v)


def unwrap_env(env: Any) -> DSEEnv:
    """The :class:`DSEEnv` under any Gymnasium wrappers."""
    inner = getattr(env, "unwrapped", env)
    if not isinstance(inner, DSEEnv):
        raise RunInputError(f"searchers need an archgym DSEEnv (a simulator's env), got {type(inner).__name__}")
    return inner


class Agent:
    """Base class of every searcher (see the module docstring)."""

    name: ClassVar[str] = "agent"
    hyperparameters: ClassVar[tuple[HyperParameter, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every ``run`` a subclass defines checks ``budget`` and ``seed`` first
        (one-line :class:`RunInputError`), so no searcher can be run with
        ``seed=None`` or a fractional budget by accident."""
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and not getattr(run, "_checks_run_args", False):
            @functools.wraps(run)
            def checked_run(self, env: Any, budget: int, seed: int, *args: Any, **kw: Any):
                return run(self, env, _check_budget(budget), check_seed(seed), *args, **kw)

            checked_run._checks_run_args = True  # type: ignore[attr-defined]
            cls.run = checked_run

    def __init__(self, **params: Any) -> None:
        declared = {h.name: h for h in self.hyperparameters}
        unknown = [k for k in params if k not in declared]
        if unknown:
            raise HyperParameterError(
                f"{self.name}: unknown hyperparameter {unknown[0]!r}; allowed: {', '.join(declared) or '(none)'}")
        for h in self.hyperparameters:
            setattr(self, h.name, h.validate(params.get(h.name, h.default)))

    def get_params(self) -> dict:
        """Every declared hyperparameter with its value (defaults included), in declaration order."""
        return {h.name: getattr(self, h.name) for h in self.hyperparameters}

    @classmethod
    def describe(cls) -> str:
        hps = ", ".join(h.describe() for h in cls.hyperparameters) or "no hyperparameters"
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        return f"{cls.name}: {doc} ({hps})"

    def run(self, env: Any, budget: int, seed: int):
        """Search for ``budget`` evaluations; return the trajectory DataFrame
        (see :meth:`archgym.env.DSEEnv.trajectory`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _check_budget(budget: int) -> int:
    if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise RunInputError(f"budget must be a positive integer number of evaluations, got {budget!r}")
    return int(budget)


def check_seed(seed: int) -> int:
    """A seed as ``run`` takes it: an integer >= 0 (``None`` is refused: the
    same seed must give the same trajectory)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RunInputError(f"seed must be an integer >= 0 (same seed, same trajectory), got {seed!r}")
    return int(seed)


class SearchExhausted(RuntimeError):
    """Raised by :meth:`AskTellAgent.ask` when the searcher has nothing new to
    propose (a finished grid, a fully simulated space): :meth:`AskTellAgent.run`
    then stops early and returns the trajectory so far."""


class AskTellAgent(Agent):
    """A black-box searcher: implement :meth:`setup`, :meth:`ask`, :meth:`tell`;
    :meth:`run` is the ask-evaluate-tell loop."""

    space: DesignSpace
    rng: np.random.Generator

    def setup(self, space: DesignSpace, seed: int, objective: Any = None) -> "AskTellAgent":
        """Reset search state for ``space`` with a fresh seeded generator."""
        self.space = space
        self.objective = objective
        self.rng = np.random.default_rng(seed)
        return self

    def ask(self) -> dict:
        raise NotImplementedError

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        """Report the reward (higher better) of a design from :meth:`ask`."""

    def ask_many(self, n: int) -> list[dict]:
        """1 to ``n`` designs that may be evaluated together before any is told
        (the same designs, in the same order, as ``ask``/``tell`` one by one
        would give).  The default asks one; population searchers return more,
        so :meth:`run` can hand a batch-friendly backend (a proxy) one batch."""
        return [self.ask()]

    def run(self, env: Any, budget: int, seed: int):
        budget = _check_budget(budget)
        dse = unwrap_env(env)
        start = dse.n_evaluations
        dse.reset(seed=int(seed))
        dse.set_budget(start + budget)
        self.setup(dse.space, int(seed), dse.objective)
        batched = getattr(dse.simulator, "batch_friendly", False)  # e.g. a proxy: one call for many designs
        try:
            done = 0
            while done < budget:
                cfgs = self.ask_many(budget - done) if batched else [self.ask()]
                for reward, info in dse.evaluate_many(cfgs):
                    self.tell(info["config"], reward, info)
                done += len(cfgs)
        except (BudgetExhausted, SearchExhausted):
            pass
        finally:
            dse.set_budget(None)
        return dse.trajectory(start)

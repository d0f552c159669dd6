"""The searcher interface every agent follows (the core contract; searchers live in :mod:`archgym.agents`).

Habits borrowed from scikit-learn and Optuna:

* hyperparameters are keyword arguments of ``__init__``, declared once in the
  class attribute ``hyperparameters`` (default, range or choices, log scale) so
  sweeps can grid or sample them; ``__init__`` validates every one (defaults
  included) and stores it as a plain instance attribute of the same name
  (``GeneticAlgorithm(population_size=8).population_size == 8``), no work;
  ``get_params()`` returns them all, resolved;
* every searcher runs with :meth:`Agent.run` ``(env, budget, seed) -> DataFrame``,
  written once here: it checks the budget and seed, enters the environment's
  budget (:meth:`archgym.env.DSEEnv.budget`, which respects a user's cap and
  restores it), resets the env with the seed, calls the searcher's
  :meth:`Agent.search`, and returns the trajectory of exactly the evaluations
  made.  The budget counts designs evaluated by the environment (simulator
  calls), identically for every searcher.  Same seed, same trajectory.
* one repeat rule for every searcher, applied by the environment, not by
  searchers: inside ``run`` a design already evaluated in the run is answered
  from the record and costs no budget (see "The repeat rule" in
  :mod:`archgym.env`).  A searcher that declares the hyperparameter
  ``reuse_evaluations`` and sets it False pays for repeats instead;
  ``repeat_patience`` (class attribute, default
  :data:`archgym.env.DEFAULT_REPEAT_PATIENCE`) is how many free answers in a
  row the env gives before it charges the next repeat.  A searcher therefore
  counts its budget in evaluations made (``env.n_evaluations``), never in
  designs proposed.

A searcher subclasses :class:`Agent` and implements ``search(env, budget,
seed)``; black-box searchers subclass :class:`archgym.agents.AskTellAgent`
instead (ask-and-tell).  :func:`archgym.testing.check_searcher` checks the
contract.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .env import DEFAULT_REPEAT_PATIENCE, BudgetExhausted, DSEEnv
from .errors import UserInputError

__all__ = ["HyperParameter", "HyperParameterError", "RunInputError", "Agent", "SearchExhausted", "unwrap_env",
           "check_budget", "check_seed"]


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
                if not isinstance(value, (int, np.integer)):  # 4.0 or nan: a float where an integer is declared
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
    #: free answers to repeated designs in a row before the env charges the next one (module docstring)
    repeat_patience: ClassVar[int] = DEFAULT_REPEAT_PATIENCE

    def __init__(self, *args: Any, **params: Any) -> None:
        if args:
            raise HyperParameterError(f"{self.name}: hyperparameters are keyword arguments (name=value), got "
                                      f"positional {args!r}; allowed: {', '.join(h.name for h in self.hyperparameters) or '(none)'}")
        declared = {h.name: h for h in self.hyperparameters}
        unknown = [k for k in params if k not in declared]
        if unknown:
            raise HyperParameterError(
                f"{self.name}: unknown hyperparameter {unknown[0]!r}; allowed: {', '.join(declared) or '(none)'}")
        for h in self.hyperparameters:
            setattr(self, h.name, h.validate(params.get(h.name, h.default)))
        self.check_params()

    def check_params(self) -> None:
        """Refuse hyperparameters that are valid one by one but impossible
        together (e.g. a tournament larger than the population): raise
        :class:`HyperParameterError` naming both.  Checks that need the design
        space belong at the start of :meth:`search` (raise :class:`RunInputError`)."""

    def get_params(self) -> dict:
        """Every declared hyperparameter with its value (defaults included), in declaration order."""
        return {h.name: getattr(self, h.name) for h in self.hyperparameters}

    @classmethod
    def describe(cls) -> str:
        hps = ", ".join(h.describe() for h in cls.hyperparameters) or "no hyperparameters"
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        return f"{cls.name}: {doc} ({hps})"

    def run(self, env: Any, budget: int, seed: int):
        """Search for at most ``budget`` evaluations (fewer if the env's cap
        allows fewer) from ``seed``; return the trajectory of exactly those
        evaluations (see :meth:`archgym.env.DSEEnv.trajectory`).  The one run
        loop of every searcher (module docstring); override :meth:`search`."""
        budget, seed = check_budget(budget), check_seed(seed)
        dse = unwrap_env(env)
        reuse = bool(getattr(self, "reuse_evaluations", True))
        with dse.budget(budget, reuse=reuse, patience=self.repeat_patience) as start:
            dse.reset(seed=seed)
            try:
                self.search(dse, budget, seed)
            except (BudgetExhausted, SearchExhausted):
                pass
        return dse.trajectory(start)

    def search(self, env: DSEEnv, budget: int, seed: int) -> None:
        """Evaluate designs through ``env`` (already reset with ``seed``) until
        ``budget`` are spent or the searcher is done; raising
        :class:`~archgym.env.BudgetExhausted` ends the search normally."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def check_budget(budget: int) -> int:
    """A budget as ``run`` takes it: an integer >= 1 of evaluations."""
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
    """Raised by a searcher (e.g. :meth:`archgym.agents.AskTellAgent.ask`)
    when it has nothing new to propose (a finished grid, a fully simulated
    space): :meth:`Agent.run` then stops early and returns the trajectory so far."""

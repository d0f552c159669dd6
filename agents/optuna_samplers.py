"""Optuna's samplers (TPE, NSGA-II) through Optuna's ask-and-tell interface.

The search space given to Optuna is the canonical index encoding of
:mod:`archgym.space`, parameter by parameter under the parameter's name:
with ``encoding="index"`` (default) an ordered parameter (integer/ordinal) is
``suggest_int(name, 0, n - 1)`` (so TPE can use the order) and a categorical
one is ``suggest_categorical(name, [0, ..., n - 1])``; ``encoding="categorical"``
makes every parameter categorical over its indices.  Either way the sampled
index vector is decoded by the space itself: same space, same encoding as
every other searcher.

Rewards are maximized.  :class:`OptunaNSGA2` with a Pareto objective
(``n_objectives > 1``) runs a multi-objective study (one ``maximize`` direction
per objective, told ``objective.vector``) and exposes the non-dominated set of
every evaluated design as ``pareto_front_`` / :meth:`pareto_front`.

A suggested design that was already evaluated in the run is answered by the
environment from its record without spending budget (the repeat rule of
:mod:`archgym.env`; ``reuse_evaluations=False`` pays instead); its value is
told to Optuna and Optuna is asked again.  After 10 such free answers in a
row (``repeat_patience``) the next repeat is charged, so the budget buys new
designs.  Optuna is imported lazily: ``pip install archgym[optuna]``.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from archgym.features import ordered_mask

from .pareto import ParetoFrontMixin, result_vector
from .base import AskTellAgent, HyperParameter


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the optuna searchers need Optuna: pip install archgym[optuna]") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class _OptunaSearch(ParetoFrontMixin, AskTellAgent):
    """Shared ask/tell plumbing around an Optuna study (see the module docstring)."""

    repeat_patience = 10  # free answers in a row before a repeat is charged (archgym.env's repeat rule)

    def _sampler(self, optuna, seed: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        optuna = _import_optuna()
        self._optuna = optuna
        self.n_objectives = getattr(objective, "n_objectives", 1) if objective is not None else 1
        directions = ["maximize"] * self.n_objectives
        self.study_ = optuna.create_study(directions=directions, sampler=self._sampler(optuna, int(seed)))
        self._ordered = ordered_mask(space)
        self._pending: dict[tuple, list] = {}
        self._memo: dict[tuple, np.ndarray] = {}
        self.evaluated_: list[tuple[np.ndarray, float, np.ndarray]] = []
        return self

    def _suggest(self, trial) -> np.ndarray:
        out = []
        for p, o in zip(self.space.parameters, self._ordered):
            if o and self.encoding == "index":
                out.append(trial.suggest_int(p.name, 0, p.n - 1))
            else:
                out.append(trial.suggest_categorical(p.name, list(range(p.n))))
        return np.array(out, dtype=np.int64)

    def _values(self, vec: np.ndarray):
        return float(vec[0]) if self.n_objectives == 1 else [float(v) for v in vec]

    def ask(self) -> dict:
        trial = self.study_.ask()
        idx = self._suggest(trial)
        self._pending.setdefault(tuple(int(v) for v in idx), []).append(trial)
        return self.space.decode(idx)

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        idx = self.space.encode(config)
        key = tuple(int(v) for v in idx)
        vec = result_vector(self.objective, reward, info)
        if key not in self._memo:
            self._memo[key] = vec
            self.evaluated_.append((idx, float(reward), vec))
        trials = self._pending.get(key)
        if trials:
            self.study_.tell(trials.pop(0), self._values(vec))


_COMMON = (
    HyperParameter("encoding", "index", str, choices=("index", "categorical"),
                   description="ordered parameters as int indices, or everything categorical"),
    HyperParameter("reuse_evaluations", True, bool, description="re-ask instead of re-evaluating repeats"),
)


class OptunaTPE(_OptunaSearch):
    """Optuna's Tree-structured Parzen Estimator (Bergstra et al. 2011, NeurIPS).

    Hyperparameters: ``n_startup_trials`` (int, 1..10000, default 10; random
    trials first), ``n_ei_candidates`` (int, 1..10000, default 24),
    ``multivariate`` (bool, default True; joint Parzen estimators), plus
    ``encoding`` and ``reuse_evaluations`` (module docstring).
    """

    name = "optuna_tpe"
    hyperparameters = (
        HyperParameter("n_startup_trials", 10, int, 1, 10000, log=True, description="random trials first"),
        HyperParameter("n_ei_candidates", 24, int, 1, 10000, log=True, description="candidates per suggestion"),
        HyperParameter("multivariate", True, bool, description="multivariate TPE"),
    ) + _COMMON

    def _sampler(self, optuna, seed: int):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # multivariate is flagged experimental
            return optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials,
                                              n_ei_candidates=self.n_ei_candidates,
                                              multivariate=self.multivariate, seed=seed)


class OptunaNSGA2(_OptunaSearch):
    """Optuna's NSGA-II sampler (Deb et al. 2002); multi-objective with a Pareto objective.

    Hyperparameters: ``population_size`` (int, 2..10000, default 20),
    ``mutation_prob`` (0..1, default 0 = Optuna's ``1 / n_params``),
    ``crossover_prob`` (0..1, default 0.9), ``swapping_prob`` (0..1, default
    0.5; uniform crossover), plus ``encoding`` and ``reuse_evaluations``.
    """

    name = "optuna_nsga2"
    hyperparameters = (
        HyperParameter("population_size", 20, int, 2, 10000, log=True, description="designs per generation"),
        HyperParameter("mutation_prob", 0.0, float, 0.0, 1.0, description="per-parameter mutation (0 = 1/d)"),
        HyperParameter("crossover_prob", 0.9, float, 0.0, 1.0, description="P(crossover)"),
        HyperParameter("swapping_prob", 0.5, float, 0.0, 1.0, description="uniform-crossover swap probability"),
    ) + _COMMON

    def _sampler(self, optuna, seed: int):
        return optuna.samplers.NSGAIISampler(population_size=self.population_size,
                                             mutation_prob=self.mutation_prob or None,
                                             crossover_prob=self.crossover_prob,
                                             swapping_prob=self.swapping_prob, seed=seed)

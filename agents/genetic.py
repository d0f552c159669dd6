"""Genetic algorithm on the canonical index encoding (integer genes).

One gene per parameter: its value index.  Generation 0 is ``population_size``
uniformly random designs.  Each later generation breeds children by
tournament selection, crossover (uniform or k-point) with probability
``crossover_rate``, and per-gene mutation (each gene changes with probability
``mutation_rate``; an ordered gene moves to a neighbouring value with
probability ``local_prob``, else to a random other value).  The number of
generations follows from the budget (the run stops when the budget is spent).

*Single objective* (the default): a generational GA with elitism -- the
``elitism`` best designs survive unchanged and ``population_size - elitism``
children are evaluated per generation.

*Multi-objective* (the env's objective has ``n_objectives > 1``, e.g.
``"pareto:cycles,energy_pj"``): NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002,
"A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEC 6(2)):
``population_size`` children per generation, parents and children pooled, the
next population filled front by front (fast non-dominated sorting) with ties on
the last front broken by crowding distance; tournaments compare rank, then
crowding distance.  ``pareto_front_`` (after :meth:`run`) and
:meth:`pareto_front` give the non-dominated set of every design evaluated.

With ``reuse_evaluations`` a child identical to a design already evaluated is
mutated again (up to 20 times) so the budget buys new designs; a child that
stays a repeat reuses its remembered result without an evaluation.
"""
from __future__ import annotations

import numpy as np

from archgym.pareto import crowding_distance, non_dominated_sort

from .base import HyperParameter, HyperParameterError, RunInputError
from .moves import mutate_genes, mutate_indices
from .population import QueuedSearch


class GeneticAlgorithm(QueuedSearch):
    """Genetic algorithm (single-objective with elitism, or NSGA-II for Pareto objectives).

    Hyperparameters:

    * ``population_size`` (int, 2..10000, default 20);
    * ``tournament_size`` (int, 1..64, default 3; 1 = random parent);
    * ``crossover`` ("uniform" or "k_point", default "uniform");
    * ``crossover_points`` (int, 1..64, default 2; k of k-point crossover);
    * ``crossover_rate`` (0..1, default 0.9);
    * ``mutation_rate`` (0..1, default 0.1; per gene);
    * ``local_prob`` (0..1, default 0.3; ordered genes step to a neighbour);
    * ``elitism`` (int, 0..9999, default 2; < population_size; single objective);
    * ``reuse_evaluations`` (bool, default True).
    """

    name = "ga"
    hyperparameters = (
        HyperParameter("population_size", 20, int, 2, 10000, description="designs per generation"),
        HyperParameter("tournament_size", 3, int, 1, 64, description="contestants per tournament"),
        HyperParameter("crossover", "uniform", str, choices=("uniform", "k_point"), description="crossover operator"),
        HyperParameter("crossover_points", 2, int, 1, 64, description="k of k-point crossover"),
        HyperParameter("crossover_rate", 0.9, float, 0.0, 1.0, description="P(crossover) per child"),
        HyperParameter("mutation_rate", 0.1, float, 0.0, 1.0, description="P(mutation) per gene"),
        HyperParameter("local_prob", 0.3, float, 0.0, 1.0, description="P(ordered gene steps to a neighbour)"),
        HyperParameter("elitism", 2, int, 0, 9999, description="best designs kept unchanged (single objective)"),
        HyperParameter("reuse_evaluations", True, bool, description="avoid re-evaluating designs"),
    )

    def check_params(self) -> None:
        if self.elitism >= self.population_size:
            raise HyperParameterError(f"{self.name}: elitism ({self.elitism}) must be smaller than "
                                      f"population_size ({self.population_size})")
        if self.tournament_size > self.population_size:
            raise HyperParameterError(f"{self.name}: tournament_size ({self.tournament_size}) must be at most "
                                      f"population_size ({self.population_size})")

    def setup(self, space, seed, objective=None):
        if self.crossover == "k_point" and self.crossover_points >= len(space):
            raise RunInputError(f"{self.name}: crossover_points ({self.crossover_points}) must be smaller than the "
                                f"number of parameters ({len(space)}) for k_point crossover")
        super().setup(space, seed, objective)
        self.population_: list[tuple[np.ndarray, float, np.ndarray]] = []
        self._rank = np.zeros(0)
        self._crowd = np.zeros(0)
        self.generation_ = 0
        return self

    @property
    def multi_objective(self) -> bool:
        return self.n_objectives > 1

    # -- breeding -------------------------------------------------------------------
    def _better(self, i: int, j: int) -> bool:
        if self.multi_objective:
            if self._rank[i] != self._rank[j]:
                return self._rank[i] < self._rank[j]
            return self._crowd[i] > self._crowd[j]
        return self.population_[i][1] > self.population_[j][1]

    def _tournament(self) -> np.ndarray:
        n = len(self.population_)
        contestants = self.rng.choice(n, size=min(self.tournament_size, n), replace=False)
        best = int(contestants[0])
        for c in contestants[1:]:
            if self._better(int(c), best):
                best = int(c)
        return self.population_[best][0]

    def _crossover(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = len(a)
        if d < 2 or self.rng.random() >= self.crossover_rate:
            return a.copy()
        if self.crossover == "uniform":
            return np.where(self.rng.random(d) < 0.5, a, b)
        k = min(self.crossover_points, d - 1)
        cuts = np.sort(self.rng.choice(np.arange(1, d), size=k, replace=False))
        segment = np.searchsorted(cuts, np.arange(d), side="right")  # segment number per gene
        return np.where(segment % 2 == 0, a, b)

    def _child(self, taken: set) -> np.ndarray:
        child = self._crossover(self._tournament(), self._tournament())
        child = mutate_genes(child, self.nvec, self.rng, self.mutation_rate, self.ordered, self.local_prob)
        if self.reuse_evaluations:
            for _ in range(20):
                key = tuple(int(v) for v in child)
                if key not in self._memo and key not in taken:
                    break
                child = mutate_indices(child, self.nvec, self.rng, 1, self.ordered, self.local_prob)
        taken.add(tuple(int(v) for v in child))
        return child

    def _propose(self) -> list[np.ndarray]:
        if not self.population_:
            return list(self.space.sample_indices(self.rng, self.population_size))
        n_children = self.population_size if self.multi_objective else self.population_size - self.elitism
        taken: set = set()
        return [self._child(taken) for _ in range(n_children)]

    # -- survival -------------------------------------------------------------------
    def _batch_done(self, results) -> None:
        self.generation_ += 1
        if not self.multi_objective:
            elites = sorted(self.population_, key=lambda r: -r[1])[: self.elitism] if self.population_ else []
            self.population_ = elites + list(results)
            return
        pool = self.population_ + list(results)
        F = np.array([r[2] for r in pool])
        chosen: list[int] = []
        for front in non_dominated_sort(F):
            if len(chosen) + len(front) <= self.population_size:
                chosen.extend(int(i) for i in front)
            else:
                cd = crowding_distance(F[front])
                order = np.argsort(-cd, kind="stable")
                chosen.extend(int(front[i]) for i in order[: self.population_size - len(chosen)])
            if len(chosen) >= self.population_size:
                break
        self.population_ = [pool[i] for i in chosen]
        F = F[chosen]
        self._rank = np.zeros(len(chosen))
        self._crowd = np.zeros(len(chosen))
        for r, front in enumerate(non_dominated_sort(F)):
            self._rank[front] = r
            self._crowd[front] = crowding_distance(F[front])

"""Ant colony optimization over parameter values (as ArchGym's DRAM/Timeloop ACO).

Every (parameter, value index) pair carries a pheromone level ``tau``.  An ant
builds a design parameter by parameter: with probability ``greediness`` it
takes the value with the most pheromone (the pseudo-random-proportional rule of
Ant Colony System, Dorigo & Gambardella 1997, "Ant colony system: a cooperative
learning approach to the TSP", IEEE TEC 1(1), where it is called ``q0``),
otherwise it samples a value with probability proportional to ``tau ** alpha``.
There is no problem-specific heuristic (the simulator is a black box).

After each colony of ``ant_count`` ants, all pheromone evaporates,
``tau <- (1 - evaporation) * tau``, and the ``n_elite`` best ants of the colony
deposit ``(n_elite - rank) / n_elite`` on the values they chose (rank 0 =
best), and the best design found so far deposits 1.  Levels are kept within
``[pheromone_floor, 1]`` (the bounds of the MAX-MIN Ant System, Stuetzle & Hoos
2000, "MAX-MIN Ant System", FGCS 16(8)), which keeps every value reachable.
Pheromone starts at the upper bound.  The number of colonies follows from the
budget (ArchGym's ``depth``).
"""
from __future__ import annotations

import numpy as np

from .base import HyperParameter, HyperParameterError
from .population import QueuedSearch


class AntColony(QueuedSearch):
    """Ant colony optimization with per-value pheromone, evaporation and greediness.

    Hyperparameters:

    * ``ant_count`` (int, 1..1024, default 10): ants (designs) per colony;
    * ``evaporation`` (0..1, default 0.2): fraction of pheromone lost per colony;
    * ``greediness`` (0..1, default 0.3): P(an ant takes the strongest value);
    * ``alpha`` (0..10, default 1.0): pheromone exponent of the sampling rule;
    * ``n_elite`` (int, 1..1024, default 3): best ants of a colony that deposit;
    * ``pheromone_floor`` (0.001..1, default 0.05): lower pheromone bound;
    * ``reuse_evaluations`` (bool, default True): repeated designs reuse the
      remembered reward instead of spending budget.
    """

    name = "aco"
    hyperparameters = (
        HyperParameter("ant_count", 10, int, 1, 1024, description="ants per colony"),
        HyperParameter("evaporation", 0.2, float, 0.0, 1.0, description="pheromone evaporation rate"),
        HyperParameter("greediness", 0.3, float, 0.0, 1.0, description="P(choose the strongest value)"),
        HyperParameter("alpha", 1.0, float, 0.0, 10.0, description="pheromone exponent"),
        HyperParameter("n_elite", 3, int, 1, 1024, description="depositing ants per colony"),
        HyperParameter("pheromone_floor", 0.05, float, 0.001, 1.0, log=True, description="MMAS lower bound"),
        HyperParameter("reuse_evaluations", True, bool, description="avoid re-evaluating designs"),
    )

    def check_params(self) -> None:
        if self.n_elite > self.ant_count:
            raise HyperParameterError(f"{self.name}: n_elite ({self.n_elite}) must be at most ant_count "
                                      f"({self.ant_count})")

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        self.pheromone_ = [np.ones(int(n)) for n in self.nvec]
        self._best: tuple[np.ndarray, float] | None = None
        self.colonies_ = 0
        return self

    def _ant(self) -> np.ndarray:
        out = np.empty(len(self.nvec), dtype=np.int64)
        for g, tau in enumerate(self.pheromone_):
            if self.rng.random() < self.greediness:
                best = np.flatnonzero(tau == tau.max())
                out[g] = best[int(self.rng.integers(len(best)))]
            else:
                w = tau ** self.alpha
                out[g] = int(self.rng.choice(len(tau), p=w / w.sum()))
        return out

    def _propose(self) -> list[np.ndarray]:
        ants = []
        for _ in range(self.ant_count):
            ant = self._ant()
            if self.space.constraints:
                for _ in range(50):  # resample ants that break a constraint
                    if self.space.satisfies_constraints(self.space.decode(ant)):
                        break
                    ant = self._ant()
            ants.append(ant)
        return ants

    def _deposit(self, idx: np.ndarray, amount: float) -> None:
        for g, v in enumerate(idx):
            self.pheromone_[g][int(v)] += amount

    def _batch_done(self, results) -> None:
        self.colonies_ += 1
        for tau in self.pheromone_:
            tau *= 1.0 - self.evaporation
        ranked = sorted(results, key=lambda r: -r[1])
        k = min(self.n_elite, len(ranked))
        for rank, (idx, reward, _) in enumerate(ranked[:k]):
            self._deposit(idx, (k - rank) / k)
        if ranked and (self._best is None or ranked[0][1] > self._best[1]):
            self._best = (ranked[0][0], ranked[0][1])
        if self._best is not None:
            self._deposit(self._best[0], 1.0)
        for tau in self.pheromone_:
            np.clip(tau, self.pheromone_floor, 1.0, out=tau)

"""Random walk: mutate one or a few parameters of the incumbent design.

ArchGym's random walker explores by random perturbation; ours keeps an
incumbent (the design the walk stands on), proposes a neighbour that changes
between 1 and ``n_changes`` parameters, and moves there when it is at least as
good (``accept="improve"``) or always (``accept="always"``, a memoryless walk).
After ``restart_patience`` proposals without improving the best design, the
walk jumps to a uniformly random design.
"""
from __future__ import annotations

import numpy as np

from .moves import mutate_indices
from .population import QueuedSearch
from .base import HyperParameter


class RandomWalk(QueuedSearch):
    """Random walk over the index encoding: neighbour moves from an incumbent.

    Hyperparameters:

    * ``n_changes`` (int, 1..64, default 1): at most this many parameters change
      per step (the number is drawn uniformly from ``1..n_changes``);
    * ``local_prob`` (0..1, default 0.5): probability that an ordered parameter
      (integer/ordinal) moves to an adjacent value rather than a random one;
    * ``accept`` ("improve" or "always", default "improve");
    * ``restart_patience`` (int, 0..10**6, default 50; 0 = never restart);
    * ``reuse_evaluations`` (bool, default True): do not re-evaluate designs
      already seen (their remembered reward is used).
    """

    name = "random_walk"
    hyperparameters = (
        HyperParameter("n_changes", 1, int, 1, 64, description="max parameters changed per step"),
        HyperParameter("local_prob", 0.5, float, 0.0, 1.0, description="P(ordered parameter moves to a neighbour)"),
        HyperParameter("accept", "improve", str, choices=("improve", "always"), description="move rule"),
        HyperParameter("restart_patience", 50, int, 0, 10**6, description="steps without improvement before a restart"),
        HyperParameter("reuse_evaluations", True, bool, description="skip designs already evaluated"),
    )

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        self._current: np.ndarray | None = None
        self._current_reward = -np.inf
        self._stale = 0
        self._best_seen = -np.inf
        self._restarting = False
        return self

    def _propose(self) -> list[np.ndarray]:
        if self._current is None:
            return [self.space.sample_indices(self.rng, 1)[0]]
        if self.restart_patience and self._stale >= self.restart_patience:
            self._stale = 0
            self._restarting = True
            return [self.space.sample_indices(self.rng, 1)[0]]
        k = int(self.rng.integers(1, self.n_changes + 1))
        return [mutate_indices(self._current, self.nvec, self.rng, k, self.ordered, self.local_prob)]

    def _batch_done(self, results) -> None:
        for idx, reward, _ in results:
            if reward > self._best_seen:
                self._best_seen = reward
                self._stale = 0
            else:
                self._stale += 1
            if self._current is None or self.accept == "always" or reward >= self._current_reward or self._restarting:
                self._current, self._current_reward = idx, reward
            self._restarting = False

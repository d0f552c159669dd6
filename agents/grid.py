"""Grid search over the canonical index encoding: exhaustive or strided.

The grid is enumerated lazily (mixed-radix counting over the per-parameter
index lists), so it works on spaces far too large to materialize.  With
``stride > 1`` each parameter first takes only every ``stride``-th index (plus
its last index, so both ends are covered); with ``refine=True`` the rest of the
full grid follows once that coarse grid is done.  ``shuffle=True`` visits each
phase in a seeded pseudo-random order: the bijection ``k -> (a k + b) mod N``
with ``gcd(a, N) = 1`` (a full-period affine permutation), which needs no
memory.  Designs that break a space constraint are skipped (not evaluated).
When the grid is exhausted the search stops early (fewer evaluations than the
budget).
"""
from __future__ import annotations

import math

import numpy as np

from .base import AskTellAgent, HyperParameter, SearchExhausted


class GridExhausted(SearchExhausted):
    """Every design of the grid has been asked."""


def _affine(n: int, rng: np.random.Generator | None) -> tuple[int, int]:
    """``(a, b)`` of a seeded bijection ``k -> (a k + b) mod n`` (identity without rng)."""
    if rng is None or n <= 1:
        return 1, 0
    def draw() -> int:
        return int(rng.integers(0, 2**62)) * (2**62) + int(rng.integers(0, 2**62))
    while True:
        a = draw() % n
        if a and math.gcd(a, n) == 1:
            return a, draw() % n


class GridSearch(AskTellAgent):
    """Exhaustive or strided grid over the index encoding (seeded shuffle option).

    Hyperparameters:

    * ``stride`` (int, 1..1024, default 1): per parameter, indices
      ``0, stride, 2*stride, ...`` plus the last index; 1 = the full grid;
    * ``refine`` (bool, default True): after a strided grid, continue with the
      remaining designs of the full grid;
    * ``shuffle`` (bool, default False): seeded pseudo-random visiting order
      within each phase (lexicographic order otherwise).
    """

    name = "grid"
    hyperparameters = (
        HyperParameter("stride", 1, int, 1, 1024, description="take every stride-th index per parameter"),
        HyperParameter("refine", True, bool, description="visit the rest of the full grid afterwards"),
        HyperParameter("shuffle", False, bool, description="seeded pseudo-random order"),
    )

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        nvec = [int(n) for n in space.nvec]
        coarse = [sorted(set(range(0, n, self.stride)) | {n - 1}) for n in nvec]
        self._phases: list[list[list[int]]] = [coarse]
        if self.refine and any(len(c) < n for c, n in zip(coarse, nvec)):
            self._phases.append([list(range(n)) for n in nvec])
        self._coarse_sets = [set(c) for c in coarse]
        self._phase = 0
        self._k = 0
        self._start_phase()
        return self

    def _start_phase(self) -> None:
        lists = self._phases[self._phase]
        self._n = math.prod(len(v) for v in lists)
        self._a, self._b = _affine(self._n, self.rng if self.shuffle else None)
        self._k = 0

    def _point(self, k: int) -> list[int]:
        lists = self._phases[self._phase]
        j = (self._a * k + self._b) % self._n
        out = []
        for values in reversed(lists):
            j, r = divmod(j, len(values))
            out.append(values[r])
        return out[::-1]

    def ask(self) -> dict:
        while True:
            if self._k >= self._n:
                if self._phase + 1 >= len(self._phases):
                    raise GridExhausted(f"{self.name}: every design of the grid has been asked")
                self._phase += 1
                self._start_phase()
            idx = self._point(self._k)
            self._k += 1
            if self._phase > 0 and all(i in s for i, s in zip(idx, self._coarse_sets)):
                continue  # already visited in the coarse phase
            cfg = self.space.decode(idx)
            if self.space.constraints and not self.space.satisfies_constraints(cfg):
                continue
            return cfg

    def ask_many(self, n: int) -> list[dict]:
        out = [self.ask()]  # asks do not depend on tells
        try:
            while len(out) < min(n, 1024):
                out.append(self.ask())
        except GridExhausted:
            pass
        return out

"""Surrogate-assisted search (active learning): simulate few designs, screen many on a model.

Loop, one real simulation per :meth:`SurrogateSearch.ask`:

1. the first ``n_initial`` designs are distinct uniformly random designs;
2. afterwards an extremely-randomized-trees regressor (``n_trees`` trees,
   scikit-learn, one thread) is fitted on every design simulated so far
   (:class:`~archgym.features.SpaceEncoder` features -> reward), refitted
   every ``refit_every`` results;
3. ``n_candidates`` proposals are screened on it: uniformly random designs and
   (share ``local_fraction``) local moves -- one or two genes changed -- around
   the ten best designs so far;
4. the next design to simulate is the candidate with the highest
   ``mean + kappa * spread`` (the most promising; ``spread`` is the standard
   deviation over trees), except every ``explore_every``-th pick, which is the
   most uncertain candidate (largest spread).

A design is never simulated twice: candidates already asked are dropped, and
when every design of the space has been asked the run stops early.  The budget
counts real simulations, exactly as for every other searcher.  Single
objective: the env's scalar reward (higher better).

Reference for the idea (not the code): surrogate-assisted evolutionary search
and the upper-confidence-bound acquisition of Srinivas et al., "Gaussian
Process Optimization in the Bandit Setting" (ICML 2010); the forest spread as
uncertainty follows Hutter et al., SMAC (LION 2011).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from archgym.features import SpaceEncoder

from .moves import index_keys, mutate_rows
from .base import AskTellAgent, HyperParameter, SearchExhausted


class SpaceExhausted(SearchExhausted):
    """Every design of the space has been asked (the run stops early)."""


class SurrogateSearch(AskTellAgent):
    """Surrogate-assisted search: forest on what was simulated, screen many, simulate the best/most uncertain.

    Hyperparameters:

    * ``n_initial`` (int, 2..10000, default 10): random designs before the first fit;
    * ``n_candidates`` (int, 10..1000000, default 3000): proposals screened per pick;
    * ``local_fraction`` (0..1, default 0.5): share of proposals that are local moves;
    * ``explore_every`` (int, 0..1000, default 4): every k-th pick is the most uncertain (0: never);
    * ``kappa`` (0..100, default 1.0): weight of the spread in the promising pick;
    * ``n_trees`` (int, 5..1000, default 50);
    * ``refit_every`` (int, 1..1000, default 1).
    """

    name = "surrogate"
    hyperparameters = (
        HyperParameter("n_initial", 10, int, 2, 10000, description="random designs before the first fit"),
        HyperParameter("n_candidates", 3000, int, 10, 1_000_000, description="proposals screened per pick"),
        HyperParameter("local_fraction", 0.5, float, 0.0, 1.0, description="share of local-move proposals"),
        HyperParameter("explore_every", 4, int, 0, 1000, description="every k-th pick is the most uncertain"),
        HyperParameter("kappa", 1.0, float, 0.0, 100.0, description="UCB weight of the forest spread"),
        HyperParameter("n_trees", 50, int, 5, 1000, description="trees of the surrogate forest"),
        HyperParameter("refit_every", 1, int, 1, 1000, description="results between refits"),
    )

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        self.encoder = SpaceEncoder(space)
        self.nvec = space.nvec
        self._asked: set[int] = set()
        self._X: list[np.ndarray] = []  # index vectors told
        self._y: list[float] = []
        self._model = None
        self._fitted_at = 0
        self._picks = 0
        return self

    # -- helpers ------------------------------------------------------------------
    def _keys(self, idx: np.ndarray) -> np.ndarray:
        return index_keys(idx, self.nvec)

    def _fresh(self, cand: np.ndarray) -> np.ndarray:
        """Distinct rows of ``cand`` never asked before (constraint-satisfying)."""
        keys = self._keys(cand)
        _, first = np.unique(keys, return_index=True)
        keep = np.sort(first)
        keep = keep[[int(k) not in self._asked for k in keys[keep]]]
        cand = cand[keep]
        if self.space.constraints:
            cand = cand[[self.space.satisfies_constraints(self.space.decode(r)) for r in cand]]
        return cand

    def _random_fresh(self) -> np.ndarray:
        for _ in range(50):
            cand = self._fresh(self.space.sample_indices(self.rng, 64))
            if len(cand):
                return cand[0]
        if len(self._asked) >= self.space.size:
            raise SpaceExhausted(f"{self.name}: every design of the space has been simulated")
        rest = self._fresh(self.space.grid_indices())  # small, nearly exhausted space
        if not len(rest):
            raise SpaceExhausted(f"{self.name}: every design of the space has been simulated")
        return rest[int(self.rng.integers(len(rest)))]

    def _fit(self) -> None:
        from sklearn.ensemble import ExtraTreesRegressor

        X = self.encoder.transform(np.array(self._X))
        y = np.asarray(self._y, dtype=np.float64)
        y = np.where(np.isfinite(y), y, np.nanmin(np.where(np.isfinite(y), y, np.nan)) if np.isfinite(y).any() else 0)
        self._model = ExtraTreesRegressor(n_estimators=self.n_trees, random_state=int(self.rng.integers(2**31)),
                                          n_jobs=1).fit(X, y)
        self._fitted_at = len(self._y)

    def _candidates(self) -> np.ndarray:
        n_local = int(round(self.n_candidates * self.local_fraction))
        parts = [self.space.sample_indices(self.rng, max(self.n_candidates - n_local, 1))]
        if n_local:
            order = np.argsort(-np.asarray(self._y), kind="stable")[:10]
            base = np.array(self._X)[order][self.rng.integers(len(order), size=n_local)]
            parts.append(mutate_rows(base, self.nvec, self.rng, max_changes=2))
        return self._fresh(np.vstack(parts))

    def predict(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Surrogate mean and spread (std over trees) of the reward of index vectors."""
        X = self.encoder.transform(np.atleast_2d(indices)).astype(np.float32)  # the trees' own dtype
        per_tree = np.stack([t.predict(X, check_input=False) for t in self._model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    # -- ask/tell --------------------------------------------------------------------
    def ask(self) -> dict:
        if len(self._y) < self.n_initial:
            idx = self._random_fresh()
        else:
            if self._model is None or len(self._y) - self._fitted_at >= self.refit_every:
                self._fit()
            cand = self._candidates()
            if not len(cand):
                idx = self._random_fresh()
            else:
                mu, sd = self.predict(cand)
                self._picks += 1
                explore = self.explore_every and self._picks % self.explore_every == 0
                idx = cand[int(np.argmax(sd if explore else mu + self.kappa * sd))]
        self._asked.add(int(self._keys(idx[None, :])[0]))
        return self.space.decode(idx)

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        idx = self.space.encode(config)
        self._asked.add(int(self._keys(idx[None, :])[0]))
        self._X.append(idx)
        self._y.append(float(reward))

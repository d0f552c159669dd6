"""Bayesian optimization with a Gaussian-process surrogate (scikit-learn).

Surrogate: ``GaussianProcessRegressor`` with kernel
``C * Matern(nu, ARD length scales) + White`` on the features of
:class:`~archgym.features.SpaceEncoder` (ordered parameters as the scaled index,
categorical ones one-hot), targets normalized.  An infeasible design's reward
(``-1`` by default) would dominate the target scale, so in the training set it
is replaced by the worst feasible reward seen (a common constant-liar style
clamp; the trajectory keeps the true reward).

Acquisition, maximized over a candidate pool of ``n_candidates`` random designs
plus ``n_local`` one- or two-parameter moves around the 5 best designs (or over
every unevaluated design when the space has at most ``n_candidates``):

* ``"ei"``: expected improvement over the best observed value ``f*`` (Jones,
  Schonlau & Welch 1998, "Efficient global optimization of expensive black-box
  functions", J. Global Optim. 13):
  ``EI = (mu - f* - xi) Phi(z) + sigma phi(z)``, ``z = (mu - f* - xi) / sigma``,
  with ``xi`` in units of the reward's standard deviation;
* ``"ucb"``: upper confidence bound ``mu + kappa sigma`` (Srinivas et al. 2010,
  "Gaussian process optimization in the bandit setting", ICML).

Already evaluated designs are never proposed again.  The first ``n_initial``
designs are uniformly random.

Scaling to thousands of evaluations: kernel hyperparameters are re-optimized
(L-BFGS on the log marginal likelihood, warm-started from the previous kernel)
only every ``refit_every`` new observations and on at most
``hyperopt_points`` points; after every observation the GP is conditioned on
at most ``max_train`` points with the kernel fixed (one Cholesky
factorization).  Both subsets are the best half by reward plus a seeded random
sample of the rest.  Measured on Systolic-v0 (9 features, 2-core machine
shared with other jobs, one math thread): re-optimizing the kernel on 300
points takes ~6.5 s but on 64 points ~0.3 s; over a 1,000-evaluation run
(median of 10 seeds) conditioning took 17 s, the 20 re-optimizations 5 s,
prediction on ~700 candidates 21 s and building candidates 6 s, i.e. ~50 ms
per evaluation, flat once ``max_train`` points are reached (see
experiments/benchmarks/searchers.py).  ``timings_`` records seconds
spent fitting, predicting and building candidates.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from archgym.features import SpaceEncoder

from .moves import index_keys, mutate_rows
from .base import AskTellAgent, HyperParameter


class BayesianOptimization(AskTellAgent):
    """GP-based Bayesian optimization (Matern kernel; EI or UCB acquisition).

    Hyperparameters:

    * ``n_initial`` (int, 1..10000, default 10): random designs before the GP;
    * ``acquisition`` ("ei" or "ucb", default "ei");
    * ``xi`` (0..1, default 0.01): EI exploration margin (in reward std units);
    * ``kappa`` (0..10, default 2.0): UCB exploration weight;
    * ``nu`` (0.5, 1.5 or 2.5, default 2.5): Matern smoothness;
    * ``n_candidates`` (int, 10..100000, default 500): random candidates per ask;
    * ``n_local`` (int, 0..100000, default 200): local moves around the best;
    * ``refit_every`` (int, 1..10000, default 50): kernel re-optimization period;
    * ``hyperopt_points`` (int, 10..100000, default 64): points the kernel is
      re-optimized on (warm-started from the previous kernel);
    * ``max_train`` (int, 10..100000, default 200): GP training-set cap.
    """

    name = "bo"
    hyperparameters = (
        HyperParameter("n_initial", 10, int, 1, 10000, description="random designs first"),
        HyperParameter("acquisition", "ei", str, choices=("ei", "ucb"), description="acquisition function"),
        HyperParameter("xi", 0.01, float, 0.0, 1.0, description="EI margin (reward std units)"),
        HyperParameter("kappa", 2.0, float, 0.0, 10.0, description="UCB exploration weight"),
        HyperParameter("nu", 2.5, float, choices=(0.5, 1.5, 2.5), description="Matern smoothness"),
        HyperParameter("n_candidates", 500, int, 10, 100000, log=True, description="random candidates per ask"),
        HyperParameter("n_local", 200, int, 0, 100000, description="local candidates around the best"),
        HyperParameter("refit_every", 50, int, 1, 10000, log=True, description="kernel re-optimization period"),
        HyperParameter("hyperopt_points", 64, int, 10, 100000, log=True,
                       description="points used to re-optimize the kernel"),
        HyperParameter("max_train", 200, int, 10, 100000, log=True, description="GP training-set cap"),
    )

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        self.encoder = SpaceEncoder(space)
        self.nvec = space.nvec
        self._X: list[np.ndarray] = []   # index vectors, tell order
        self._y: list[float] = []
        self._feasible: list[bool] = []
        self._seen: set[tuple] = set()
        self._seen_keys: set[int] = set()
        self._keys_ok = space.size < 2**62
        self._kernel = None              # last optimized kernel
        self._n_at_refit = 0
        self._gp = None
        self._gp_n = -1
        self.timings_ = {"fit_s": 0.0, "hyperopt_s": 0.0, "predict_s": 0.0, "candidates_s": 0.0, "n_hyperopt": 0}
        return self

    # -- surrogate ---------------------------------------------------------------------
    def _subset(self, y: np.ndarray, cap: int) -> np.ndarray:
        """Indices of at most ``cap`` points: the best half plus a seeded random rest."""
        if len(y) <= cap:
            return np.arange(len(y))
        order = np.argsort(-y, kind="stable")
        top, rest = order[: cap // 2], order[cap // 2:]
        extra = self.rng.choice(rest, size=cap - len(top), replace=False)
        return np.sort(np.concatenate([top, extra]))

    def _targets(self) -> np.ndarray:
        y = np.array(self._y, dtype=np.float64)
        feas = np.array(self._feasible)
        if feas.any() and not feas.all():
            y = np.where(feas, y, y[feas].min())
        return y

    def _make_kernel(self):
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        d = self.encoder.n_features
        return (ConstantKernel(1.0, (1e-3, 1e3))
                * Matern(length_scale=np.full(d, 0.5), length_scale_bounds=(5e-2, 2e1), nu=self.nu)
                + WhiteKernel(1e-4, (1e-8, 1e-1)))

    def _gp_fit(self, X: np.ndarray, y: np.ndarray, kernel, optimize: bool):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        gp = GaussianProcessRegressor(kernel=kernel, optimizer="fmin_l_bfgs_b" if optimize else None,
                                      normalize_y=True, n_restarts_optimizer=0,
                                      random_state=int(self.rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gp.fit(X, y)

    def _fit(self) -> None:
        n = len(self._y)
        if self._gp is not None and self._gp_n == n:
            return
        X, y = np.array(self._X), self._targets()
        if self._kernel is None or n - self._n_at_refit >= self.refit_every:
            t0 = time.perf_counter()
            sub = self._subset(y, self.hyperopt_points)
            start = self._kernel if self._kernel is not None else self._make_kernel()  # warm start
            self._kernel = self._gp_fit(self.encoder.transform(X[sub]), y[sub], start, True).kernel_
            self._n_at_refit = n
            self.timings_["hyperopt_s"] += time.perf_counter() - t0
            self.timings_["n_hyperopt"] += 1
        t0 = time.perf_counter()
        keep = self._subset(y, self.max_train)
        self._gp = self._gp_fit(self.encoder.transform(X[keep]), y[keep], self._kernel, False)
        self._gp_n = n
        self.timings_["fit_s"] += time.perf_counter() - t0

    # -- candidates ---------------------------------------------------------------------
    def _candidates(self) -> np.ndarray:
        if self.space.size <= self.n_candidates and not self.space.constraints:
            pool = self.space.grid_indices()
        else:
            parts = [self.space.sample_indices(self.rng, self.n_candidates)]
            if self.n_local and self._y:
                best = np.argsort(-np.array(self._y), kind="stable")[:5]
                base = np.repeat(np.array(self._X)[best], max(1, self.n_local // len(best)), axis=0)
                parts.append(mutate_rows(base, self.nvec, self.rng, 2))
            pool = np.vstack(parts)
            if self.space.constraints:
                ok = np.array([self.space.satisfies_constraints(self.space.decode(p)) for p in pool])
                pool = pool[ok] if ok.any() else pool
        if self._keys_ok:
            keys = index_keys(pool, self.nvec)
            _, first = np.unique(keys, return_index=True)
            first = np.sort(first)
            pool, keys = pool[first], keys[first]
            fresh = ~np.isin(keys, np.fromiter(self._seen_keys, dtype=np.int64, count=len(self._seen_keys)))
        else:
            pool = np.unique(pool, axis=0)
            fresh = np.array([tuple(p) not in self._seen for p in pool])
        return pool[fresh] if fresh.any() else pool

    def _acquisition(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        if self.acquisition == "ucb":
            return mu + self.kappa * sigma
        from scipy.stats import norm

        y = np.array(self._y)
        best = y.max()
        margin = self.xi * (y.std() if y.std() > 0 else 1.0)
        sigma = np.maximum(sigma, 1e-12)
        imp = mu - best - margin
        z = imp / sigma
        return imp * norm.cdf(z) + sigma * norm.pdf(z)

    # -- ask/tell ------------------------------------------------------------------------
    def ask(self) -> dict:
        if len(self._y) < self.n_initial:
            for _ in range(100):
                idx = self.space.sample_indices(self.rng, 1)[0]
                if tuple(idx) not in self._seen:
                    break
            return self.space.decode(idx)
        self._fit()
        t0 = time.perf_counter()
        pool = self._candidates()
        t1 = time.perf_counter()
        mu, sigma = self._gp.predict(self.encoder.transform(pool), return_std=True)
        score = self._acquisition(mu, sigma)
        self.timings_["candidates_s"] += t1 - t0
        self.timings_["predict_s"] += time.perf_counter() - t1
        return self.space.decode(pool[int(np.argmax(score))])

    def tell(self, config, reward, info=None) -> None:
        idx = self.space.encode(config)
        self._X.append(idx)
        self._y.append(float(reward))
        feasible = bool(info.get("feasible", True)) if info else math.isfinite(reward)
        self._feasible.append(feasible)
        self._seen.add(tuple(int(v) for v in idx))
        if self._keys_ok:
            self._seen_keys.add(int(index_keys(idx, self.nvec)[0]))

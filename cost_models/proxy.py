"""Proxy cost models: tree ensembles that stand in for a simulator.

:class:`ProxyModel` follows scikit-learn's habits: hyperparameters in
``__init__`` (no work there), :meth:`ProxyModel.fit` on a
:class:`~archgym.cost_models.dataset.Dataset`, :meth:`ProxyModel.predict`.
Designs are featurized with :class:`archgym.features.SpaceEncoder` (ordered
parameters as ``index / (n - 1)``, categorical one-hot).  One regressor per
metric is fitted on the feasible rows -- ``rf`` (random forest, ArchGym's
model), ``et`` (extremely randomized trees, the default: smoother on the
small discrete grids of design spaces) or ``hgb`` (histogram gradient
boosting) -- and then flattened to arrays (:mod:`.forest`): the scikit-learn
objects are dropped, so what is saved is exactly what predicts.  Metrics that
are positive in the data are learned as ``log(x)`` (``log_targets``): errors
become relative and the heavy-tailed latency metrics become learnable.  If the
data holds infeasible designs, a forest on the 0/1 feasibility label predicts
feasibility (``p >= 0.5``).

For a space small enough to enumerate, :meth:`ProxyModel.tabulate` walks
the forest once over every design and afterwards answers from that table (one
indexed read per design instead of hundreds of tree walks): the same numbers,
derived in memory and never stored in a proxy file.

Per prediction the model also gives an **uncertainty** per metric (forests:
the standard deviation over trees of the (log-)prediction, i.e. roughly a
relative error; 0 for boosting) and an **out-of-distribution** flag (the design
uses a parameter value absent from the training data).

:class:`ProxySimulator` wraps a fitted model as a :class:`~archgym.simulator.Simulator`
with the real simulator's space, metrics, reference design and reference
metrics (so a proxy env's rewards equal the real env's for equal metrics).
It is saved to a *proxy file* (:mod:`.proxy_file`): arrays + JSON, no code.
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from archgym.errors import UserInputError
from archgym.features import SpaceEncoder
from archgym.simulator import FEASIBLE, REASON, Metric, Simulator
from archgym.standin import StandInSimulator
from archgym.space import DesignSpace

from .dataset import Dataset
from .forest import FlatForest, flatten

__all__ = ["ProxyModel", "ProxySimulator", "ProxyModelError", "MODELS"]

MODELS = ("et", "rf", "hgb")


class ProxyModelError(UserInputError):
    """A proxy model kind, hyperparameter or training set a user gave is unusable."""


def _regressor(kind: str, n_estimators: int, min_samples_leaf: int, max_features: float, seed: int):
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=n_estimators * 5, learning_rate=0.1, max_leaf_nodes=63,
                                             min_samples_leaf=max(min_samples_leaf, 2), random_state=seed)
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    cls = ExtraTreesRegressor if kind == "et" else RandomForestRegressor
    return cls(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, max_features=max_features,
               random_state=seed, n_jobs=1)


class ProxyModel:
    """Per-metric flattened tree ensembles (+ a feasibility forest) over design features.

    Parameters
    ----------
    model: ``"et"`` (default), ``"rf"`` or ``"hgb"`` (see the module docstring).
    n_estimators: trees per metric (boosting: ``5 x`` this many iterations).
    min_samples_leaf, max_features: as in scikit-learn's forests.
    log_targets: learn ``log(x)`` for metrics that are positive in the data.
    random_state: seed of the regressors.
    """

    def __init__(self, model: str = "et", n_estimators: int = 100, min_samples_leaf: int = 1,
                 max_features: float = 1.0, log_targets: bool = True, random_state: int = 0) -> None:
        self.model = model
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.log_targets = log_targets
        self.random_state = random_state

    def get_params(self) -> dict:
        return {"model": self.model, "n_estimators": self.n_estimators, "min_samples_leaf": self.min_samples_leaf,
                "max_features": self.max_features, "log_targets": self.log_targets,
                "random_state": self.random_state}

    def _check_params(self) -> None:
        if self.model not in MODELS:
            raise ProxyModelError(f"unknown proxy model {self.model!r}; allowed: {', '.join(MODELS)}")
        if isinstance(self.n_estimators, bool) or int(self.n_estimators) != self.n_estimators \
                or not 1 <= self.n_estimators <= 2000:
            raise ProxyModelError(f"n_estimators must be an integer in [1, 2000], got {self.n_estimators!r}")
        if isinstance(self.min_samples_leaf, bool) or int(self.min_samples_leaf) != self.min_samples_leaf \
                or self.min_samples_leaf < 1:
            raise ProxyModelError(f"min_samples_leaf must be an integer >= 1, got {self.min_samples_leaf!r}")
        if not isinstance(self.max_features, (int, float)) or not 0 < float(self.max_features) <= 1:
            raise ProxyModelError(f"max_features must be a fraction in (0, 1], got {self.max_features!r}")

    def fit(self, space: DesignSpace, metrics: Sequence[Metric], data: Dataset) -> "ProxyModel":
        """Fit on ``data`` (designs of ``space`` with ``metrics``), on one math
        thread (boosting's OpenMP pool oversubscribes small machines; see
        :mod:`archgym.threads`)."""
        from archgym.threads import math_threads

        with math_threads(1):
            return self._fit(space, metrics, data)

    def _fit(self, space: DesignSpace, metrics: Sequence[Metric], data: Dataset) -> "ProxyModel":
        self._check_params()
        if len(data) < 2:
            raise ProxyModelError(f"need at least 2 designs to fit a proxy, got {len(data)}")
        self.encoder_ = SpaceEncoder(space)
        self.metric_names_ = [m.name for m in metrics]
        idx = np.array([space.encode(c) for c in data.configs], dtype=np.int64)
        X = self.encoder_.transform(idx)
        feasible = data.results[FEASIBLE].to_numpy(bool)
        if feasible.sum() < 2:
            raise ProxyModelError("need at least 2 feasible designs to fit a proxy")
        args = (self.model, int(self.n_estimators), int(self.min_samples_leaf), float(self.max_features),
                int(self.random_state))
        fitted = []
        self.log_: dict[str, bool] = {}
        for name in self.metric_names_:
            y = data.results[name].to_numpy(float)[feasible]
            ok = np.isfinite(y)  # e.g. an optimality gap that is NaN for heuristics
            if ok.sum() < 2:
                y, ok = np.zeros(feasible.sum()), np.ones(feasible.sum(), bool)
            use_log = bool(self.log_targets and np.all(y[ok] > 0))
            fitted.append(_regressor(*args).fit(X[feasible][ok], np.log(y[ok]) if use_log else y[ok]))
            self.log_[name] = use_log
        self.has_feasibility_ = not feasible.all()
        if self.has_feasibility_:
            from sklearn.ensemble import RandomForestRegressor

            fitted.append(RandomForestRegressor(n_estimators=50, random_state=int(self.random_state), n_jobs=1)
                          .fit(X, feasible.astype(float)))
        self.ensemble_: FlatForest = flatten(fitted, self.encoder_.n_features)
        self.seen_ = np.zeros(int(space.nvec.sum()), dtype=bool)  # every (parameter, value) in the training data
        self.seen_[(idx + self._offsets()).ravel()] = True
        self.n_train_ = len(data)
        return self

    # -- prediction ---------------------------------------------------------------------
    def _offsets(self) -> np.ndarray:
        """Start of every parameter's values in :attr:`seen_`."""
        if not hasattr(self, "_offsets_"):
            self._offsets_ = np.concatenate([[0], np.cumsum(self.encoder_.nvec)[:-1]]).astype(np.int64)
        return self._offsets_

    def features(self, idx: np.ndarray) -> np.ndarray:
        """:class:`~archgym.features.SpaceEncoder` features of ``(m, d)`` index
        vectors, computed with two indexed writes (fast for one design too)."""
        if not hasattr(self, "_layout"):
            enc = self.encoder_
            width = np.where(enc.ordered, 1, enc.nvec)
            start = np.concatenate([[0], np.cumsum(width)[:-1]])
            ordp = np.flatnonzero(enc.ordered)
            catp = np.flatnonzero(~enc.ordered)
            self._layout = (ordp, start[ordp], np.maximum(enc.nvec[ordp] - 1, 1), catp, start[catp])
        ordp, ordc, denom, catp, catc = self._layout
        X = np.zeros((len(idx), self.encoder_.n_features))
        X[:, ordc] = idx[:, ordp] / denom
        X[np.arange(len(idx))[:, None], catc + idx[:, catp]] = 1.0
        return X

    #: designs :meth:`tabulate` accepts by default (the table holds 2 x outputs float64 per design)
    TABLE_LIMIT = 2_000_000

    def tabulate(self, max_designs: int | None = None, chunk: int = 50_000) -> int:
        """Predict every design of the space once and answer later predictions
        from the table (identical values; ``table_mean_``/``table_spread_``,
        rows in mixed-radix order of the index vector, last parameter fastest).
        Returns the number of designs; refuses a space larger than
        ``max_designs`` (default :attr:`TABLE_LIMIT`)."""
        nvec = self.encoder_.nvec.astype(np.int64)
        size = int(np.prod(nvec))
        limit = self.TABLE_LIMIT if max_designs is None else int(max_designs)
        if size > limit:
            raise ProxyModelError(f"space has {size} designs, more than the table limit {limit}")
        strides = self.encoder_.space.key_strides()
        mean = np.empty((size, self.ensemble_.n_outputs))
        spread = np.empty_like(mean)
        for lo in range(0, size, chunk):
            keys = np.arange(lo, min(lo + chunk, size), dtype=np.int64)
            idx = (keys[:, None] // strides) % nvec
            mean[lo:lo + len(keys)], spread[lo:lo + len(keys)] = self.ensemble_.predict(self.features(idx))
        self.table_mean_, self.table_spread_, self._strides = mean, spread, strides
        return size

    def _mean_spread(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forest outputs of index vectors: from the table when there is one."""
        if getattr(self, "table_mean_", None) is not None:
            key = idx @ self._strides
            return self.table_mean_[key], self.table_spread_[key]
        return self.ensemble_.predict(self.features(idx))

    def predict_indices(self, idx: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                                         np.ndarray, np.ndarray]:
        """``(values, uncertainty, p_feasible, ood)`` for ``(m, d)`` index vectors:
        metric arrays in the simulator's units, per-metric spread over trees (in
        the learned space: ``log`` for log-target metrics), feasibility
        probability and the out-of-distribution flag."""
        idx = np.atleast_2d(np.asarray(idx, dtype=np.int64))
        mean, spread = self._mean_spread(idx)
        values, sd = {}, {}
        for j, name in enumerate(self.metric_names_):
            values[name] = np.exp(mean[:, j]) if self.log_[name] else mean[:, j]
            sd[name] = spread[:, j]
        p = mean[:, -1] if self.has_feasibility_ else np.ones(len(idx))
        ood = ~self.seen_[idx + self._offsets()].all(axis=1)
        return values, sd, p, ood

    def frame(self, values: Mapping[str, np.ndarray], p: np.ndarray) -> pd.DataFrame:
        """Metrics, ``feasible`` and ``reason`` as a simulator batch frame."""
        df = pd.DataFrame(dict(values))
        df[FEASIBLE] = p >= 0.5
        df[REASON] = ""
        if not df[FEASIBLE].all():
            bad = ~df[FEASIBLE].to_numpy()
            df.loc[bad, REASON] = [f"proxy predicts infeasible (p_feasible={v:.2f})" for v in p[bad]]
            df.loc[bad, self.metric_names_] = math.nan
        return df

    def predict_features(self, idx: np.ndarray) -> pd.DataFrame:
        """Metrics, ``feasible`` and ``reason`` of ``(m, d)`` index vectors."""
        values, _, p, _ = self.predict_indices(idx)
        return self.frame(values, p)

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        space = self.encoder_.space
        return self.predict_features(np.array([space.encode(c) for c in configs], dtype=np.int64))


class ProxySimulator(StandInSimulator):
    """A fitted :class:`ProxyModel` standing in for the simulator it imitates
    (the stand-in protocol of :mod:`archgym.standin`: the real simulator's
    name, space, metrics, workload, reference design and metrics; version
    ``<real>+proxy.<file hash>``; batch-friendly).  :meth:`evaluation_info`
    gives the uncertainty and OOD flag of a design for the env's ``info``.
    """

    kind = "proxy"

    def __init__(self, base: Simulator | None, model: ProxyModel, *, identity: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None, reference_config: Mapping[str, Any] | None = None,
                 reference_metrics: Mapping[str, float] | None = None, provenance: Mapping[str, Any] | None = None,
                 content_hash: str = "") -> None:
        if not hasattr(model, "ensemble_"):
            raise ProxyModelError("the proxy model is not fitted; call ProxyModel.fit first")
        if base is None:
            raise ProxyModelError("a proxy needs the simulator it imitates (its space and metrics)")
        self.model = model
        super().__init__(base, identity=identity, options=options, reference_config=reference_config,
                         reference_metrics=reference_metrics, provenance=provenance, content_hash=content_hash)
        self._infos: dict[tuple, dict] = {}

    # -- simulator protocol -----------------------------------------------------------
    def _evaluate(self, config: dict) -> dict:
        # ``config`` is validated already (Simulator.evaluate): index it without validating again
        idx = np.array([p.index_of(config[p.name]) for p in self.space.parameters], dtype=np.int64)
        values, spread, p, ood = self.model.predict_indices(idx[None, :])
        self._infos = {tuple(idx.tolist()): self._info(spread, p, ood, 0)}
        if p[0] < 0.5:
            return self.infeasible(f"proxy predicts infeasible (p_feasible={p[0]:.2f})")
        return {k: float(v[0]) for k, v in values.items()}

    def _evaluate_batch(self, configs: list[dict]) -> pd.DataFrame:
        idx = np.array([self.space.encode(c) for c in configs], dtype=np.int64)
        values, spread, p, ood = self.model.predict_indices(idx)
        self._infos = {tuple(row): self._info(spread, p, ood, i) for i, row in enumerate(idx.tolist())}
        return self.model.frame(values, p)

    @staticmethod
    def _info(spread: dict, p: np.ndarray, ood: np.ndarray, i: int) -> dict:
        return {"proxy_uncertainty": {k: float(v[i]) for k, v in spread.items()},
                "proxy_p_feasible": float(p[i]), "proxy_ood": bool(ood[i])}

    def evaluation_info(self, config: Mapping[str, Any]) -> dict:
        """``proxy_uncertainty`` (per metric, spread over trees; log-space for
        log-target metrics, so ~relative), ``proxy_p_feasible`` and ``proxy_ood``
        of a validated design (kept from the last prediction of that design)."""
        key = tuple(self.space.encode(config).tolist())
        hit = self._infos.get(key)
        if hit is not None:
            return dict(hit)
        _, spread, p, ood = self.model.predict_indices(np.array([key]))
        return self._info(spread, p, ood, 0)

    def describe(self) -> dict:
        d = super().describe()
        d["stands_in_for"]["model"] = {**self.model.get_params(), "n_train": self.model.n_train_}
        return d

    def predict_with_uncertainty(self, configs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Metrics plus ``std.<metric>``, ``p_feasible`` and ``ood`` per design."""
        idx = np.array([self.space.encode(self.space.validate(c)) for c in configs], dtype=np.int64)
        values, spread, p, ood = self.model.predict_indices(idx)
        df = pd.DataFrame(values)
        for k, v in spread.items():
            df[f"std.{k}"] = v
        df["p_feasible"], df["ood"] = p, ood
        return df

    # -- training and files -----------------------------------------------------------
    @classmethod
    def train(cls, base: Simulator, data: Dataset, options: Mapping[str, Any] | None = None,
              **model_params: Any) -> "ProxySimulator":
        """Fit a :class:`ProxyModel` on ``data`` and wrap it.  ``options``: the
        simulator options (besides the workload) ``base`` was made with; a proxy
        file refuses to load under different ones."""
        model = ProxyModel(**model_params).fit(base.space, base.metrics, data)
        prov = {**data.provenance, "n_train": len(data)}
        return cls(base, model, options=options, provenance=prov)

    def save(self, path: str | os.PathLike) -> str:
        """Write a proxy file (arrays + JSON; usable as ``backend=path``);
        returns its content hash (SHA-256 of the file's bytes)."""
        from .proxy_file import write_proxy

        self.set_content_hash(write_proxy(self, path))
        return self.content_hash

    @staticmethod
    def load(path: str | os.PathLike, base: Simulator, options: Mapping[str, Any] | None = None) -> "ProxySimulator":
        """Read a proxy file for ``base`` (refused, in one line, if it was made
        for another simulator, version, space, workload or options)."""
        from .proxy_file import read_proxy

        return read_proxy(path, base, options)

"""Proxy cost models: scikit-learn regressors that stand in for a simulator.

:class:`ProxyModel` follows scikit-learn's habits: hyperparameters in
``__init__`` (no work there), :meth:`ProxyModel.fit` on a
:class:`~archgym.cost_models.dataset.Dataset`, :meth:`ProxyModel.predict`.
Designs are featurized with :class:`archgym.features.SpaceEncoder` (the
canonical index encoding: ordered parameters scaled to ``[0, 1]``, categorical
one-hot).  One regressor per metric is fitted on the feasible rows; metrics
that are positive everywhere are learned in ``log`` space (errors become
relative, which is what design ranking needs).  If the data holds infeasible
designs, a classifier predicts feasibility too.

:class:`ProxySimulator` wraps a fitted model as a :class:`~archgym.simulator.Simulator`
with the original space and metrics, so it works anywhere a simulator does:
``gymnasium.make("archgym/Systolic-v0", backend=proxy)`` or a path to a file
written by :meth:`ProxySimulator.save`.
"""
from __future__ import annotations

import math
import os
import pickle
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from archgym.features import SpaceEncoder
from archgym.simulator import FEASIBLE, REASON, Metric, Simulator
from archgym.space import DesignSpace

from .dataset import Dataset

__all__ = ["ProxyModel", "ProxySimulator", "MODELS"]

MODELS = ("hgb", "rf", "knn")


def _regressor(kind: str, seed: int):
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=seed)
    if kind == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1)
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor(n_neighbors=5, weights="distance")


class ProxyModel:
    """Per-metric regressors (+ a feasibility classifier) over design features.

    Parameters
    ----------
    model: ``"hgb"`` (HistGradientBoosting, default), ``"rf"`` (random forest)
        or ``"knn"`` (distance-weighted 5-NN).
    log_targets: learn ``log(x)`` for metrics that are positive in the data.
    random_state: seed of the regressors.
    """

    def __init__(self, model: str = "hgb", log_targets: bool = True, random_state: int = 0) -> None:
        self.model = model
        self.log_targets = log_targets
        self.random_state = random_state

    def get_params(self) -> dict:
        return {"model": self.model, "log_targets": self.log_targets, "random_state": self.random_state}

    def fit(self, space: DesignSpace, metrics: Sequence[Metric], data: Dataset) -> "ProxyModel":
        if self.model not in MODELS:
            raise ValueError(f"unknown proxy model {self.model!r}; allowed: {', '.join(MODELS)}")
        if len(data) < 2:
            raise ValueError(f"need at least 2 designs to fit a proxy, got {len(data)}")
        self.encoder_ = SpaceEncoder(space)
        self.metric_names_ = [m.name for m in metrics]
        X = self.encoder_.transform_configs(data.configs)
        feasible = data.results[FEASIBLE].to_numpy(bool)
        if feasible.sum() < 2:
            raise ValueError("need at least 2 feasible designs to fit a proxy")
        self.regressors_: dict[str, Any] = {}
        self.log_: dict[str, bool] = {}
        for name in self.metric_names_:
            y = data.results[name].to_numpy(float)[feasible]
            use_log = bool(self.log_targets and np.all(y > 0))
            reg = _regressor(self.model, self.random_state)
            reg.fit(X[feasible], np.log(y) if use_log else y)
            self.regressors_[name], self.log_[name] = reg, use_log
        self.classifier_ = None
        if not feasible.all():
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.classifier_ = HistGradientBoostingClassifier(random_state=self.random_state).fit(X, feasible)
        self.n_train_ = len(data)
        return self

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        out = {}
        for name in self.metric_names_:
            y = self.regressors_[name].predict(X)
            out[name] = np.exp(y) if self.log_[name] else y
        df = pd.DataFrame(out)
        if self.classifier_ is not None:
            p = self.classifier_.predict_proba(X)[:, list(self.classifier_.classes_).index(True)]
            df[FEASIBLE] = p >= 0.5
            df[REASON] = np.where(p >= 0.5, "", [f"proxy predicts infeasible (p_feasible={v:.2f})" for v in p])
            df.loc[~df[FEASIBLE], self.metric_names_] = math.nan
        else:
            df[FEASIBLE] = True
            df[REASON] = ""
        return df

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        return self.predict_features(self.encoder_.transform_configs(configs))


class ProxySimulator(Simulator):
    """A fitted :class:`ProxyModel` behind the simulator protocol of the simulator it imitates."""

    def __init__(self, base: Simulator, model: ProxyModel) -> None:
        if not hasattr(model, "regressors_"):
            raise ValueError("the proxy model is not fitted; call ProxyModel.fit first")
        self.base_name = base.name
        self.base_version = base.version
        self.name = f"{base.name}-proxy"
        self.version = f"{base.version}+proxy-{model.model}-n{model.n_train_}"
        self.metrics = tuple(base.metrics)
        self.space = base.space
        self.workload = base.workload_label
        self.default_objective = base.default_objective
        self.model = model

    def _evaluate(self, config: dict) -> dict:
        return self.model.predict([config]).iloc[0].to_dict()

    def _evaluate_batch(self, configs: list[dict]) -> pd.DataFrame:
        return self.model.predict(configs)

    @classmethod
    def train(cls, base: Simulator, data: Dataset, **model_params: Any) -> "ProxySimulator":
        """Fit a :class:`ProxyModel` on ``data`` and wrap it."""
        return cls(base, ProxyModel(**model_params).fit(base.space, base.metrics, data))

    def save(self, path: str | os.PathLike) -> None:
        """Pickle to ``path`` (usable as ``backend=path``)."""
        with open(path, "wb") as fh:
            pickle.dump(self, fh)

    @staticmethod
    def load(path: str | os.PathLike) -> "ProxySimulator":
        with open(path, "rb") as fh:
            obj = pickle.load(fh)
        if not isinstance(obj, ProxySimulator):
            raise TypeError(f"{os.fspath(path)!r} does not hold a ProxySimulator")
        return obj

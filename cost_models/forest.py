"""Fitted tree ensembles flattened to numpy arrays: fast per call and in batch, safe to store.

Fitted scikit-learn forests (``RandomForestRegressor``, ``ExtraTreesRegressor``)
and gradient-boosted models (``HistGradientBoostingRegressor``), one per
output (metric), are copied into flat arrays over all nodes of all trees --
``feature`` (int32), ``threshold`` (float64; go left if ``x[feature] <=
threshold``), ``left``/``right`` (int32 global node ids, -1 at leaves),
``value`` (float64) -- plus ``roots`` (first node of every tree) and
``groups`` (the trees of each output).  Prediction walks every tree to a leaf:

* compiled with numba (:mod:`archgym.jit`: on first use, cached on disk): one
  call for all outputs, looping tree-outer / design-inner (a tree stays in
  cache while a batch walks it) over a derived ``(nodes, 4)`` array of
  (feature, threshold, left, right) rows, so a node visit touches one cache
  line -- large forests are memory-bound;
* with ``ARCHGYM_NOJIT=1``: a numpy loop over tree depth that advances all
  (design, tree) pairs at once (same numbers; fine in batch, slower per call).

A forest output predicts the mean leaf value and gives the spread over trees
(the uncertainty); a boosted output predicts ``baseline + sum`` (spread 0).
:meth:`FlatForest.check` validates arrays read from a file (dtypes, bounds,
every child id larger than its parent's so a walk always ends) because the
compiled walk does no bounds checks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archgym.jit import Kernel, disabled

__all__ = ["FlatForest", "flatten", "numba_available"]

def _predict_loop(X, packed, value, roots, groups, is_sum, baseline):
    """The compiled walk (see the module docstring): ``(mean, std)``, each ``(n, outputs)``."""
    # tree-outer, design-inner: one tree stays in cache while every design walks it;
    # ``packed`` rows (feature, threshold, left, right) put a node in one cache line
    n, g = X.shape[0], groups.shape[0] - 1
    mean = np.empty((n, g))
    std = np.zeros((n, g))
    s = np.empty(n)
    s2 = np.empty(n)
    for j in range(g):
        s[:] = 0.0
        s2[:] = 0.0
        for k in range(groups[j], groups[j + 1]):
            root = roots[k]
            for i in range(n):
                node = root
                while packed[node, 2] >= 0:
                    if X[i, int(packed[node, 0])] <= packed[node, 1]:
                        node = int(packed[node, 2])
                    else:
                        node = int(packed[node, 3])
                v = value[node]
                s[i] += v
                s2[i] += v * v
        m = groups[j + 1] - groups[j]
        for i in range(n):
            if is_sum[j]:
                mean[i, j] = baseline[j] + s[i]
            else:
                mu = s[i] / m
                mean[i, j] = mu
                var = s2[i] / m - mu * mu
                std[i, j] = np.sqrt(var) if var > 0 else 0.0
    return mean, std


def _example_arguments() -> tuple:
    """Writable C-contiguous arrays of the dtypes :meth:`FlatForest.predict` passes (it copies others)."""
    return (np.zeros((1, 1)), np.zeros((1, 4)), np.zeros(1), np.zeros(1, np.int32), np.array([0, 1], np.int32),
            np.zeros(1, np.bool_), np.zeros(1))


def _writable(a: np.ndarray) -> np.ndarray:
    """``a`` as a writable C-contiguous array (the compiled walk's signature), copied only if needed."""
    a = np.ascontiguousarray(a)
    return a if a.flags.writeable else a.copy()


#: the compiled walk (compiled on first use; see :mod:`archgym.jit`)
KERNEL = Kernel(_predict_loop, label="the forest predictor kernel", example=_example_arguments, expected_s=2,
                nogil=True)


def numba_available() -> bool:
    """True when predictions use the compiled walk (numba installed, ``ARCHGYM_NOJIT`` unset)."""
    return KERNEL.available()


def _predict_numpy(X, feature, threshold, left, right, value, roots, groups, is_sum, baseline):
    node = np.broadcast_to(roots, (X.shape[0], roots.shape[0])).copy()
    rows = np.arange(X.shape[0])[:, None]
    while True:
        inner = left[node] >= 0
        if not inner.any():
            break
        go_left = X[rows, np.where(inner, feature[node], 0)] <= threshold[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    per_tree = value[node]
    g = len(groups) - 1
    mean, std = np.empty((X.shape[0], g)), np.zeros((X.shape[0], g))
    for j in range(g):
        part = per_tree[:, groups[j]:groups[j + 1]]
        if is_sum[j]:
            mean[:, j] = baseline[j] + part.sum(axis=1)
        else:
            mean[:, j], std[:, j] = part.mean(axis=1), part.std(axis=1)
    return mean, std


ARRAYS = ("feature", "threshold", "left", "right", "value", "roots", "groups", "is_sum", "baseline")
_DTYPES = {"feature": np.int32, "left": np.int32, "right": np.int32, "roots": np.int32, "groups": np.int32,
           "threshold": np.float64, "value": np.float64, "is_sum": np.bool_, "baseline": np.float64}


@dataclass
class FlatForest:
    """Arrays of flattened tree ensembles, one *group* of trees per output
    (see the module docstring): trees ``groups[j]:groups[j+1]`` of ``roots``
    make output ``j``, combined by mean (``is_sum[j]`` False) or
    ``baseline[j] + sum``."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    groups: np.ndarray
    is_sum: np.ndarray
    baseline: np.ndarray
    n_features: int

    @property
    def n_outputs(self) -> int:
        return len(self.groups) - 1

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, spread)``, each ``(n, n_outputs)``: the prediction and the
        standard deviation over trees (0 for boosted groups)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if disabled():
            return _predict_numpy(X, *(getattr(self, k) for k in ARRAYS))
        if not hasattr(self, "_packed"):  # derived, not stored: one row per node
            self._packed = np.column_stack([self.feature, self.threshold, self.left, self.right]).astype(np.float64)
            self._walked = tuple(_writable(getattr(self, k)) for k in ARRAYS[4:])
        return KERNEL.compiled()(X if X.flags.writeable else X.copy(), self._packed, *self._walked)

    # -- persistence -----------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_features: int) -> "FlatForest":
        forest = cls(**{k: arrays[k] for k in ARRAYS}, n_features=int(n_features))
        forest.check()
        return forest

    def check(self) -> None:
        """Raise ``ValueError`` unless the arrays form valid trees (see the module docstring)."""
        for k, dt in _DTYPES.items():
            a = getattr(self, k)
            if not isinstance(a, np.ndarray) or a.dtype != dt or a.ndim != 1:
                raise ValueError(f"array {k!r} must be 1-D {np.dtype(dt).name}")
        n = len(self.feature)
        if n == 0 or any(len(getattr(self, k)) != n for k in ("threshold", "left", "right", "value")):
            raise ValueError("node arrays differ in length")
        r = self.roots
        if len(r) == 0 or r[0] != 0 or np.any(np.diff(r) <= 0) or r[-1] >= n:
            raise ValueError("tree roots out of range")
        g = self.groups
        if len(g) < 2 or g[0] != 0 or g[-1] != len(r) or np.any(np.diff(g) <= 0):
            raise ValueError("tree groups out of range")
        if len(self.is_sum) != len(g) - 1 or len(self.baseline) != len(g) - 1:
            raise ValueError("group headers differ in length")
        tree_end = np.repeat(np.append(r[1:], n), np.diff(np.append(r, n)))
        ids = np.arange(n)
        inner = self.left >= 0
        if np.any((self.right >= 0) != inner):
            raise ValueError("a node has one child")
        for child in (self.left, self.right):
            c = child[inner]
            if np.any(c <= ids[inner]) or np.any(c >= tree_end[inner]):
                raise ValueError("child node ids out of range")
        f = self.feature[inner]
        if np.any(f < 0) or np.any(f >= self.n_features):
            raise ValueError("split feature out of range")
        if not (np.all(np.isfinite(self.value)) and np.all(np.isfinite(self.baseline))):
            raise ValueError("non-finite leaf values")


def _tree_parts(model) -> tuple[list[tuple], bool, float]:
    """Per tree (feature, threshold, left, right, value, is_leaf) local arrays of a fitted model."""
    if hasattr(model, "_predictors"):
        if getattr(model, "is_categorical_", None) is not None:
            raise ValueError("HistGradientBoosting with categorical features cannot be flattened")
        trees = []
        for it in model._predictors:
            nd = it[0].nodes
            trees.append((nd["feature_idx"], nd["num_threshold"], nd["left"], nd["right"], nd["value"],
                          nd["is_leaf"].astype(bool)))
        return trees, True, float(np.ravel(model._baseline_prediction)[0])
    if hasattr(model, "estimators_"):
        trees = []
        for est in model.estimators_:
            t = est.tree_
            trees.append((t.feature, t.threshold, t.children_left, t.children_right, t.value[:, 0, 0],
                          t.children_left < 0))
        return trees, False, 0.0
    raise ValueError(f"cannot flatten a {type(model).__name__}")


def flatten(models, n_features: int) -> FlatForest:
    """One :class:`FlatForest` equal in prediction to fitted scikit-learn
    single-output forests / HistGradientBoosting regressors (one output each)."""
    cols = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
    roots, groups, is_sum, baseline, offset = [], [0], [], [], 0
    for model in models:
        trees, boosted, base = _tree_parts(model)
        for feat, thr, lft, rgt, val, leaf in trees:
            roots.append(offset)
            cols["feature"].append(np.where(leaf, 0, feat))
            cols["threshold"].append(np.where(leaf, 0.0, thr))
            cols["left"].append(np.where(leaf, -1, np.asarray(lft, np.int64) + offset))
            cols["right"].append(np.where(leaf, -1, np.asarray(rgt, np.int64) + offset))
            cols["value"].append(np.where(leaf, val, 0.0))
            offset += len(feat)
        groups.append(len(roots))
        is_sum.append(boosted)
        baseline.append(base)
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    forest = FlatForest(cat["feature"].astype(np.int32), cat["threshold"].astype(np.float64),
                        cat["left"].astype(np.int32), cat["right"].astype(np.int32), cat["value"].astype(np.float64),
                        np.array(roots, np.int32), np.array(groups, np.int32), np.array(is_sum, np.bool_),
                        np.array(baseline, np.float64), int(n_features))
    forest.check()
    return forest

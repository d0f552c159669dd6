"""Pareto tools for searchers (maximization: every objective vector is higher-better,
see :mod:`archgym.objective`).

* :func:`dominates`, :func:`pareto_mask`;
* :func:`non_dominated_sort` and :func:`crowding_distance` (Deb et al. 2002,
  "A fast and elitist multiobjective genetic algorithm: NSGA-II");
* :func:`result_vector`: the objective vector of an evaluation's ``info``;
* :func:`pareto_front_frame`, :func:`objective_names` and
  :class:`ParetoFrontMixin`: the non-dominated designs a searcher evaluated,
  as a DataFrame.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from archgym.space import DesignSpace

__all__ = ["dominates", "pareto_mask", "non_dominated_sort", "crowding_distance", "result_vector",
           "pareto_front_frame", "objective_names", "ParetoFrontMixin"]


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` Pareto-dominates ``b`` (maximization): no worse anywhere, better somewhere."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all(a >= b) and np.any(a > b))


def pareto_mask(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``F`` (``(m, k)``, maximization)."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    ge = np.all(F[:, None, :] >= F[None, :, :], axis=2)
    gt = np.any(F[:, None, :] > F[None, :, :], axis=2)
    dominated = np.any(ge & gt, axis=0)  # column j dominated by some row i
    return ~dominated


def non_dominated_sort(F: np.ndarray) -> list[np.ndarray]:
    """Fronts of ``F`` (maximization) as index arrays, best front first.

    Deb et al. (2002), NSGA-II, "fast non-dominated sort": count for each point
    how many others dominate it, peel off the points with count zero."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    m = len(F)
    if m == 0:
        return []
    ge = np.all(F[:, None, :] >= F[None, :, :], axis=2)
    gt = np.any(F[:, None, :] > F[None, :, :], axis=2)
    dom = ge & gt  # dom[i, j]: i dominates j
    count = dom.sum(axis=0)
    fronts = []
    current = np.flatnonzero(count == 0)
    while current.size:
        fronts.append(current)
        count = count - dom[current].sum(axis=0)
        count[current] = -1
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the points of one front (Deb et al. 2002):
    per objective, the normalized gap between each point's two neighbours;
    boundary points get infinity."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    m, k = F.shape
    dist = np.zeros(m)
    if m <= 2:
        return np.full(m, np.inf)
    for j in range(k):
        order = np.argsort(F[:, j], kind="stable")
        f = F[order, j]
        span = f[-1] - f[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (f[2:] - f[:-2]) / span
    return dist


def result_vector(objective: Any, reward: float, info: Mapping[str, Any] | None) -> np.ndarray:
    """The objective vector (higher better) of one evaluation.  Single-objective
    (or no objective): ``[reward]``; multi-objective: ``objective.vector`` of
    the metrics and feasibility in ``info``."""
    k = getattr(objective, "n_objectives", 1) if objective is not None else 1
    if k <= 1:
        return np.array([float(reward)])
    if not info or "metrics" not in info:
        raise ValueError("a multi-objective searcher needs the evaluation info (metrics, feasible) in tell()")
    result = dict(info["metrics"])
    result["feasible"] = bool(info.get("feasible", True))
    return np.asarray(objective.vector(result), dtype=np.float64)


def pareto_front_frame(space: DesignSpace, indices: Sequence[np.ndarray], vectors: Sequence[np.ndarray],
                       names: Sequence[str], rewards: Sequence[float] | None = None):
    """The non-dominated, de-duplicated designs among ``indices`` as a DataFrame:
    one column per parameter, one per objective (``names``, higher better),
    and ``reward`` if given; sorted by the first objective, best first."""
    import pandas as pd

    if "reward" in names:
        rewards = None
    cols = list(space.names) + list(names) + (["reward"] if rewards is not None else [])
    if len(indices) == 0:
        return pd.DataFrame(columns=cols)
    seen: dict[tuple, int] = {}
    for i, idx in enumerate(indices):
        seen.setdefault(tuple(int(v) for v in idx), i)
    keep = np.array(sorted(seen.values()))
    F = np.asarray([vectors[i] for i in keep], dtype=np.float64)
    front = keep[pareto_mask(F)]
    rows = []
    for i in front:
        row = dict(space.decode(indices[i]))
        row.update({n: float(v) for n, v in zip(names, vectors[i])})
        if rewards is not None:
            row["reward"] = float(rewards[i])
        rows.append(row)
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(list(names)[0], ascending=False, kind="stable").reset_index(drop=True)


def objective_names(objective: Any) -> list[str]:
    """Names of the objective vector's entries (metric names, or ``["reward"]``)."""
    k = getattr(objective, "n_objectives", 1) if objective is not None else 1
    if k <= 1:
        return ["reward"]
    names = list(getattr(objective, "metrics", []))
    return names if len(names) == k else [f"objective_{i}" for i in range(k)]


class ParetoFrontMixin:
    """``pareto_front()`` over ``self.evaluated_`` (tuples of index vector,
    reward, objective vector), and ``pareto_front_`` set after every ``run``."""

    def pareto_front(self):
        """Non-dominated designs among all evaluated so far (DataFrame; see
        :func:`pareto_front_frame`)."""
        ev = getattr(self, "evaluated_", [])
        return pareto_front_frame(self.space, [e[0] for e in ev], [e[2] for e in ev],
                                  objective_names(self.objective), [e[1] for e in ev])

    def run(self, env: Any, budget: int, seed: int):
        traj = super().run(env, budget, seed)
        self.pareto_front_ = self.pareto_front()
        return traj

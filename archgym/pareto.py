"""Pareto dominance, fronts and hypervolume -- the one implementation every layer uses.

Conventions (every function here):

* **Maximization.**  Objective vectors are higher-is-better, as
  :meth:`archgym.objective.ParetoObjective.vector` returns them (scores in
  ``[0, 1]`` for feasible designs, the negative ``infeasible_reward``
  otherwise).  ``points`` is an ``(n, k)`` array; a 1-D array is ``n`` points
  of one objective.
* **Dominance.**  ``a`` dominates ``b`` when ``a >= b`` in every objective and
  ``a > b`` in at least one.
* **Duplicate points.**  Identical vectors never dominate each other.  A
  *front* (:func:`nondominated`) keeps the **first** of identical
  non-dominated points (lowest row index) and drops later copies, so a front
  is a set of distinct vectors whatever order or repetition the input has.
  :func:`non_dominated_sort` ranks points, it does not extract a set:
  identical points share a rank.
* **Hypervolume** is measured against a reference point (default the
  origin): a point counts only if it is strictly better than the reference
  in every objective.  The exact algorithm slices along the last objective
  (HSO); it suits fronts of tens to hundreds of points in 2-4 objectives.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dominates", "nondominated", "non_dominated_sort", "crowding_distance", "hypervolume"]


def _as_points(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    return p[:, None] if p.ndim == 1 else p


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` Pareto-dominates ``b``: no worse anywhere, better somewhere."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all(a >= b) and np.any(a > b))


def _front_2d(p: np.ndarray) -> np.ndarray:
    """Mask of the front of ``n x 2`` points by one sort (O(n log n))."""
    order = np.lexsort((np.arange(len(p)), -p[:, 1], -p[:, 0]))  # x desc, y desc, then first row first
    keep = np.zeros(len(p), dtype=bool)
    best_y = -np.inf
    for i in order:
        if p[i, 1] > best_y:
            keep[i] = True
            best_y = p[i, 1]
    return keep


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the front of ``points``: rows no other row dominates,
    the first of identical rows only (see the module docstring)."""
    p = _as_points(points)
    n = len(p)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if p.shape[1] == 2 and np.all(np.isfinite(p)):
        return _front_2d(p)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        others = p[keep]
        if np.any(np.all(others >= p[i], axis=1) & np.any(others > p[i], axis=1)):
            keep[i] = False
            continue
        beaten = np.all(p[i] >= p, axis=1) & np.any(p[i] > p, axis=1)  # everything i dominates
        later_copy = np.all(p == p[i], axis=1)
        later_copy[: i + 1] = False
        keep &= ~(beaten | later_copy)
    return keep


def non_dominated_sort(points: np.ndarray) -> list[np.ndarray]:
    """Fronts of ``points`` as index arrays, best first (Deb et al. 2002,
    NSGA-II's fast non-dominated sort: peel off the points no remaining point
    dominates).  Identical points share a front."""
    p = _as_points(points)
    if len(p) == 0:
        return []
    dom = np.all(p[:, None, :] >= p[None, :, :], axis=2) & np.any(p[:, None, :] > p[None, :, :], axis=2)
    count = dom.sum(axis=0)  # how many points dominate each point
    fronts = []
    current = np.flatnonzero(count == 0)
    while current.size:
        fronts.append(current)
        count = count - dom[current].sum(axis=0)
        count[current] = -1
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the points of one front (Deb et al. 2002):
    per objective, the gap between each point's two neighbours normalized by
    the objective's span, summed; boundary points (and fronts of at most two
    points) get infinity."""
    p = _as_points(points)
    m, k = p.shape
    if m <= 2:
        return np.full(m, np.inf)
    dist = np.zeros(m)
    for j in range(k):
        order = np.argsort(p[:, j], kind="stable")
        f = p[order, j]
        span = f[-1] - f[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (f[2:] - f[:-2]) / span
    return dist


def hypervolume(points: np.ndarray, ref: np.ndarray | float = 0.0) -> float:
    """Volume dominated by ``points`` and bounded below by ``ref`` (see the module docstring)."""
    p = _as_points(points)
    if len(p) == 0:
        return 0.0
    r = np.broadcast_to(np.asarray(ref, dtype=np.float64), (p.shape[1],))
    p = p[np.all(p > r, axis=1) & np.all(np.isfinite(p), axis=1)]
    if len(p) == 0:
        return 0.0
    return _hso(p[nondominated(p)] - r)


def _hso(p: np.ndarray) -> float:
    """Hypervolume of positive, mutually non-dominated points against the origin."""
    if p.shape[1] == 1:
        return float(p[:, 0].max())
    if p.shape[1] == 2:
        q = p[np.argsort(-p[:, 0], kind="stable")]
        vol, best_y = 0.0, 0.0
        for x, y in q:
            if y > best_y:
                vol += x * (y - best_y)
                best_y = y
        return float(vol)
    q = p[np.argsort(-p[:, -1], kind="stable")]
    vol = 0.0
    for i in range(len(q)):
        depth = q[i, -1] - (q[i + 1, -1] if i + 1 < len(q) else 0.0)
        if depth > 0:
            sub = q[: i + 1, :-1]
            vol += _hso(sub[nondominated(sub)]) * depth
    return float(vol)

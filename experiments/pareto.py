"""Pareto fronts and hypervolume for objective vectors where higher is better.

Assumptions: vectors come from :meth:`archgym.objective.ParetoObjective.vector`
(scores in ``[0, 1]`` for feasible designs, ``infeasible_reward`` < 0 otherwise),
so the origin is a natural reference point: a point counts toward the
hypervolume only if it is strictly better than the reference in every
objective.  The exact algorithm slices along the last objective (HSO); it is
meant for the fronts of one study (tens to hundreds of points, 2-4 objectives).
"""
from __future__ import annotations

import numpy as np

__all__ = ["nondominated", "hypervolume", "hypervolume_curve"]


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (n x d, maximize) no other row dominates.
    Of identical rows, the first is kept."""
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        others = p[keep]
        dominated = np.all(others >= p[i], axis=1) & np.any(others > p[i], axis=1)
        if dominated.any():
            keep[i] = False
            continue
        # drop later exact duplicates and everything i dominates
        dom_by_i = np.all(p[i] >= p, axis=1) & np.any(p[i] > p, axis=1)
        dup = np.all(p == p[i], axis=1)
        dup[: i + 1] = False
        keep &= ~(dom_by_i | dup)
    return keep


def hypervolume(points: np.ndarray, ref: np.ndarray | float = 0.0) -> float:
    """Volume dominated by ``points`` (maximize) and bounded below by ``ref``."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        return 0.0
    r = np.broadcast_to(np.asarray(ref, dtype=np.float64), (p.shape[1],))
    p = p[np.all(p > r, axis=1) & np.all(np.isfinite(p), axis=1)]
    if len(p) == 0:
        return 0.0
    p = p[nondominated(p)]
    return _hso(p - r)


def _hso(p: np.ndarray) -> float:
    """Hypervolume of positive points against the origin."""
    d = p.shape[1]
    if d == 1:
        return float(p[:, 0].max())
    if d == 2:
        q = p[np.argsort(-p[:, 0])]
        vol, best_y = 0.0, 0.0
        for x, y in q:
            if y > best_y:
                vol += x * (y - best_y)
                best_y = y
        return float(vol)
    q = p[np.argsort(-p[:, -1])]
    vol = 0.0
    for i in range(len(q)):
        lower = q[i + 1, -1] if i + 1 < len(q) else 0.0
        depth = q[i, -1] - lower
        if depth > 0:
            sub = q[: i + 1, :-1]
            vol += _hso(sub[nondominated(sub)]) * depth
    return float(vol)


def hypervolume_curve(points: np.ndarray, steps: np.ndarray, ref: np.ndarray | float = 0.0) -> np.ndarray:
    """Hypervolume of the first ``s`` points for each ``s`` in ``steps`` (one trial's trajectory)."""
    p = np.asarray(points, dtype=np.float64)
    return np.array([hypervolume(p[: int(s)], ref) for s in steps])

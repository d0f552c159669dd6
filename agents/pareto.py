"""Pareto tools for searchers (maximization: every objective vector is higher-better,
see :mod:`archgym.objective`).  Dominance, fronts, NSGA-II sorting and
crowding live once in :mod:`archgym.pareto`; this module adds what searchers
need on top:

* :func:`result_vector`: the objective vector of an evaluation's ``info``;
* :func:`pareto_front_frame`, :func:`objective_names` and
  :class:`ParetoFrontMixin`: the non-dominated designs a searcher evaluated,
  as a DataFrame.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from archgym.space import DesignSpace

from archgym.pareto import nondominated

__all__ = ["result_vector", "pareto_front_frame", "objective_names", "ParetoFrontMixin"]


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
    front = keep[nondominated(F)]  # identical vectors: the first design
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
    reward, objective vector); ``pareto_front_`` is the front after a run."""

    def pareto_front(self):
        """Non-dominated designs among all evaluated so far (DataFrame; see
        :func:`pareto_front_frame`)."""
        ev = getattr(self, "evaluated_", [])
        return pareto_front_frame(self.space, [e[0] for e in ev], [e[2] for e in ev],
                                  objective_names(self.objective), [e[1] for e in ev])

    @property
    def pareto_front_(self):
        """The front of the last run (see :meth:`pareto_front`)."""
        return self.pareto_front()

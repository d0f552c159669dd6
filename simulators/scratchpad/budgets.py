"""Scratchpad budgets where the schedule matters, per workload.

Below ``M_R`` (the largest single-operator working set) nothing runs; at or
above ``P`` (the peak live footprint of the default order,
:func:`~archgym.simulators.workloads.transforms.peak_live_bytes`) the default
order already needs no non-compulsory traffic.  Every interesting budget lies
in ``[M_R, P]``, so the design space offers, per workload,

    ``ceil(M_R * (P / M_R) ** f / 1024)`` KiB  for  f in :data:`BUDGET_LEVELS`

(geometric spacing: training graphs have ``P / M_R`` above 20, and the
traffic changes fastest near ``M_R``).  ``f = 0`` is the tightest feasible
budget, ``f = 1/2`` the middle one, ``f = 1`` the first with no pressure.
"""
from __future__ import annotations

import math
from typing import Sequence

from archgym.simulators.workloads.transforms import peak_live_bytes

from .graph import Graph

__all__ = ["BUDGET_LEVELS", "budget_range", "budget_kb"]

#: fractions of the way from M_R to P (log scale)
BUDGET_LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def budget_range(graph: Graph) -> tuple[int, int]:
    """``(M_R, P)`` in bytes (see the module docstring); ``P >= M_R``."""
    mr = graph.max_working_set()[0]
    return mr, max(mr, peak_live_bytes(graph))


def budget_kb(graph: Graph, levels: Sequence[float] = BUDGET_LEVELS) -> list[int]:
    """Distinct budgets in KiB, ascending, one per level (fewer if they coincide)."""
    mr, peak = budget_range(graph)
    bad = [f for f in levels if not 0.0 <= float(f) <= 1.0]
    if bad or not levels:
        from archgym.simulator import WorkloadError

        raise WorkloadError(f"budget levels must be fractions in [0, 1], got {list(levels)!r}")
    return sorted({math.ceil(mr * (peak / mr) ** float(f) / 1024) for f in levels})

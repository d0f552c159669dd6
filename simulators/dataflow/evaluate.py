"""One entry point from (problem, architecture, mappings) to counts, metrics and feasibility.

Used by both environments and by the Python API::

    from archgym.simulators.dataflow import evaluate_mapping, read_problem, read_architecture, read_mapping
    prob = read_problem("problem.yaml"); arch = read_architecture("arch.yaml")
    result = evaluate_mapping(prob, arch, read_mapping("mapping.yaml", prob, arch), reuse="timeloop")
    result["rows"]      # one dict per (level, data space), Timeloop's per-instance counts
    result["metrics"]   # cycles, energy_pj, edp, area_mm2, dram_accesses, utilization, macs
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .arch import Architecture
from .costs import costs
from .ert import EnergyTable
from .errors import DataflowInputError
from .mapping import Mapping, capacity_reasons, nest_of, structural_reasons, subset
from .model import REUSE_MODES, Nest, analyze
from .problem import Problem

__all__ = ["evaluate_nest", "evaluate_mapping", "count_rows", "level_rows", "check_reuse", "check_imperfect"]

#: per-level arrays of :func:`.costs.costs` moved from the metrics into the counts
LEVEL_ARRAYS = ("level_energy_pj", "dataspace_energy_pj", "level_throttling")
ROW_KEYS = ("reads_per_instance", "fills_per_instance", "updates_per_instance", "utilized_instances",
            "utilized_capacity", "partition_size")


def check_reuse(reuse: str) -> str:
    if reuse not in REUSE_MODES:
        raise DataflowInputError(f"reuse {reuse!r} is not a counting mode; allowed: {', '.join(REUSE_MODES)}")
    return reuse


def check_imperfect(imperfect: Any, reuse: str) -> bool:
    """The ``imperfect`` option (a bool; residual factors are costed with ``reuse="exact"`` only)."""
    if not isinstance(imperfect, (bool, np.bool_)):
        raise DataflowInputError(f"imperfect {imperfect!r} must be true or false")
    if imperfect and reuse != "exact":
        raise DataflowInputError(f"imperfect=true needs reuse=exact (got reuse={reuse}): Timeloop's residual "
                                 "iteration procedure is not modelled")
    return bool(imperfect)


def evaluate_nest(problem: Problem, arch: Architecture, nest: Nest, reuse: str = "exact",
                  table: EnergyTable | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """Metric arrays, reason strings (``""`` = feasible; metrics NaN otherwise) and raw counts
    (zeros for mappings rejected by the cheap structural checks, which skip the model) with the
    per-level energy and throttling arrays (``LEVEL_ARRAYS``).  ``table``: energy per action
    (default: the built-in 45 nm table)."""
    check_reuse(reuse)
    n = nest.n
    reasons = structural_reasons(problem, arch, nest)
    ok = np.nonzero(reasons == "")[0]
    sub = analyze(problem, arch, subset(nest, ok), reuse)
    counts: dict[str, Any] = {}
    for k, v in sub.items():
        full = np.zeros((n,) + v.shape[1:], dtype=v.dtype)
        full[ok] = v
        counts[k] = full
    reasons[ok] = capacity_reasons(problem, arch, sub["capacity"])
    metrics = costs(arch, counts, problem.macs, table)
    for k in LEVEL_ARRAYS:
        counts[k] = metrics.pop(k)
    bad = reasons != ""
    for v in metrics.values():
        v[bad] = np.nan
    return metrics, reasons, counts


def count_rows(problem: Problem, arch: Architecture, counts: dict, i: int = 0) -> list[dict[str, Any]]:
    """Rows (innermost level first) of mapping ``i``: one per kept (level, data space)."""
    rows = []
    for lv in range(len(arch.levels) - 1, -1, -1):
        for s, ds in enumerate(problem.dataspaces):
            if not counts["keep"][i, lv, s]:
                continue
            rows.append({
                "level": arch.levels[lv].name, "dataspace": ds.name,
                "reads_per_instance": int(counts["reads"][i, lv, s]),
                "fills_per_instance": int(counts["fills"][i, lv, s]),
                "updates_per_instance": int(counts["updates"][i, lv, s]),
                "utilized_instances": int(counts["instances"][i, lv]),
                "utilized_capacity": int(counts["capacity"][i, lv, s]),
                "partition_size": int(counts["partition"][i, lv, s]),
                "energy_total_pj": float(counts["dataspace_energy_pj"][i, lv, s]),
            })
    return rows


def level_rows(arch: Architecture, counts: dict, i: int = 0) -> list[dict[str, Any]]:
    """One row per level (outermost first, then the MACs): ``level``, ``energy_pj`` (leakage included),
    ``throttling`` (1 = keeps up with compute)."""
    rows = []
    for lv, level in enumerate(arch.levels):
        if not level.is_dummy:
            rows.append({"level": level.name, "energy_pj": float(counts["level_energy_pj"][i, lv]),
                         "throttling": float(counts["level_throttling"][i, lv])})
    rows.append({"level": arch.compute.name, "energy_pj": float(counts["level_energy_pj"][i, -1]), "throttling": 1.0})
    return rows


def evaluate_mapping(problem: Problem, arch: Architecture, mapping: Mapping, reuse: str = "exact",
                     table: EnergyTable | None = None) -> dict:
    """Counts and metrics of one mapping: ``{"rows", "levels", "metrics", "feasible", "reason"}``."""
    mapping.check(problem, arch)
    nest = nest_of([mapping], problem, arch)
    metrics, reasons, counts = evaluate_nest(problem, arch, nest, reuse, table)
    return {"rows": count_rows(problem, arch, counts), "levels": level_rows(arch, counts),
            "metrics": {k: float(v[0]) for k, v in metrics.items()},
            "feasible": reasons[0] == "", "reason": str(reasons[0])}

"""Folding, cycles, utilization and SRAM access counts of a systolic array (SCALE-Sim 3.0.0's model).

Every function here is elementwise numpy over broadcastable arrays, so one
call evaluates any grid of (array shape, dataflow) x layer.  Quantities are
float64 holding exact integers (well below 2**53); counts are in *words*.

The GEMM of a layer is ``(M x K) @ (K x N)`` (see
:mod:`archgym.simulators.workloads.layers`).  Dataflow -> spatial/temporal
assignment on an ``R x C`` array (rows carry ``Sr``, columns ``Sc``, ``T`` is
streamed in time)::

    os: Sr = M, Sc = N, T = K     (partial sums stationary in the PEs)
    ws: Sr = K, Sc = N, T = M     (an R x C filter tile stationary)
    is: Sr = K, Sc = M, T = N     (an R x C ifmap tile stationary)

Folds: ``Fr = ceil(Sr/R)``, ``Fc = ceil(Sc/C)``, ``F = Fr*Fc``; the column
fold is the outer loop.  The pipeline drains completely between folds, so one
fold takes ``L = T + R + C - 2`` cycles (os) or ``L = T + 2R + C - 2`` (ws/is:
R extra cycles to load the stationary tile), and the ideal compute time is
``F*L`` cycles.  SCALE-Sim's report differs in documented ways (the -1 of
its "Total Cycles", the ws/is compute-utilization denominator, the os
ofmap-write count); the ``report_*`` helpers reproduce them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "DATAFLOWS",
    "OS",
    "WS",
    "IS",
    "dataflow_code",
    "FoldGeometry",
    "fold_geometry",
    "mapping_efficiency",
    "compute_utilization",
    "report_compute_utilization",
    "sram_reads",
]

DATAFLOWS = ("os", "ws", "is")
OS, WS, IS = 0, 1, 2


class DataflowError(ValueError):
    """An unknown dataflow name or code."""


def dataflow_code(dataflow: Any) -> np.ndarray:
    """Integer codes (os=0, ws=1, is=2) of a dataflow name, code or array of either."""
    arr = np.asarray(dataflow)
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 2):
            raise DataflowError(f"dataflow codes must be 0 (os), 1 (ws) or 2 (is); got {np.unique(arr)[:5]}")
        return arr.astype(np.int8)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    lookup = []
    for u in uniq:
        name = str(u).strip().lower()
        if name not in DATAFLOWS:
            raise DataflowError(f"unknown dataflow {str(u)!r}; allowed: os, ws, is")
        lookup.append(DATAFLOWS.index(name))
    return np.asarray(lookup, dtype=np.int8)[inverse].reshape(arr.shape)


class FoldGeometry:
    """Spatial/temporal mapping and fold counts for one dataflow (attributes are float64 arrays).

    ``df``: the dataflow code (a Python int); ``Sr, Sc, T``: rows/columns/time
    dimensions; ``Fr, Fc, F``: fold counts; ``L``: cycles per fold;
    ``stationary``: True for ws/is.
    """

    __slots__ = ("R", "C", "df", "Sr", "Sc", "T", "Fr", "Fc", "F", "L", "stationary")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def compute_cycles(self) -> np.ndarray:
        """Ideal (stall-free) cycles ``F*L``."""
        return self.F * self.L


def fold_geometry(R: Any, C: Any, df: int, M: Any, K: Any, N: Any) -> FoldGeometry:
    """Folds and per-fold latency for array ``R x C``, dataflow code ``df`` (0/1/2) and GEMM ``M, K, N``.

    The dataflow is a scalar: callers group designs by dataflow (see
    :func:`archgym.simulators.systolic.model.evaluate_arrays`), which keeps the
    per-element work free of selects.
    """
    df = int(df)
    R = np.asarray(R, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    if df == OS:
        Sr, Sc, T = M, N, K
    elif df == WS:
        Sr, Sc, T = K, N, M
    elif df == IS:
        Sr, Sc, T = K, M, N
    else:
        raise DataflowError(f"unknown dataflow code {df}; allowed: 0 (os), 1 (ws), 2 (is)")
    Fr = np.ceil(Sr / R)
    Fc = np.ceil(Sc / C)
    stationary = df != OS
    L = T + ((2.0 * R if stationary else R) + (C - 2.0))
    return FoldGeometry(R=R, C=C, df=df, Sr=Sr, Sc=Sc, T=T, Fr=Fr, Fc=Fc, F=Fr * Fc, L=L, stationary=stationary)


def mapping_efficiency(g: FoldGeometry) -> np.ndarray:
    """Mean fraction of PEs mapped per fold: ``Sr*Sc / (F*R*C)`` (SCALE-Sim's Mapping Efficiency / 100)."""
    return g.Sr * g.Sc / (g.F * g.R * g.C)


def compute_utilization(g: FoldGeometry) -> np.ndarray:
    """Physical compute utilization: busy PE-cycles / (R*C*F*L) = ``Sr*Sc*T / (R*C*F*L)``."""
    return g.Sr * g.Sc * g.T / (g.R * g.C * g.F * g.L)


def report_compute_utilization(g: FoldGeometry) -> np.ndarray:
    """SCALE-Sim's ``Compute Util %`` / 100: as :func:`compute_utilization`, but for ws/is
    the per-fold denominator is ``L + C - 1`` (quirk 4, reproduced for the report column)."""
    L = g.L + (g.C - 1.0) if g.stationary else g.L
    return g.Sr * g.Sc * g.T / (g.R * g.C * g.F * L)


def sram_reads(g: FoldGeometry, M: Any, K: Any, N: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Words moved between the SRAMs and the array: ``(ifmap reads, filter reads, ofmap writes)``.

    ifmap: ``Fc*M*K`` (os, ws) / ``M*K`` (is); filter: ``Fr*K*N`` (os) / ``K*N`` (ws) /
    ``Fc*K*N`` (is); ofmap writes: ``M*N`` (os) / ``Fr*M*N`` (ws, is; one partial-sum
    write per row fold).  These are the physical counts; SCALE-Sim's os ofmap column
    adds ``F*(R+C)`` (quirk 3, see :func:`report_ofmap_writes`).
    """
    MK, KN, MN = M * K, K * N, M * N
    if g.df == OS:
        return g.Fc * MK, g.Fr * KN, MN
    if g.df == WS:
        return g.Fc * MK, KN, g.Fr * MN
    return MK, g.Fc * KN, g.Fr * MN


def report_ofmap_writes(g: FoldGeometry, ofmap_writes: np.ndarray) -> np.ndarray:
    """SCALE-Sim's ``SRAM OFMAP writes``: adds ``F*(R+C)`` for os (quirk 3, a bookkeeping artifact)."""
    return ofmap_writes if g.stationary else ofmap_writes + g.F * (g.R + g.C)


__all__ += ["report_ofmap_writes", "DataflowError"]

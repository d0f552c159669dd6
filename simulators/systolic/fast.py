"""A compiled per-point kernel for the metrics path of :func:`.model.evaluate_arrays`.

The numpy model (:mod:`.compute`, :mod:`.memory`, :mod:`.model`) is the
reference: it is readable, covers SCALE-Sim's report columns, and is what the
SCALE-Sim tests check.  Its elementwise form allocates a temporary per
operation, which caps it at ~5x10^6 (design, layer) points/s on one core.
This module evaluates the same closed form point by point in one compiled
loop (numba), with no temporaries, for the columns searchers and sweeps use
(``cycles``, ``stall_cycles``, ``macs``, ``utilization``, ``dram_words``,
``sram_words``, ``energy_pj``, ``feasible``, ``infeasible_code``).

It is a transcription of those formulas, not a second model: every line
below names the numpy function it mirrors, the operations run in the same
order so results are bit-identical, and ``tests/test_systolic_fast.py``
checks equality with the numpy model on random points (hypothesis) and on
every SCALE-Sim reference layer.  The loop is compiled through
:mod:`archgym.jit` (on first use, cached on disk; an error if numba is
missing or fails); with ``ARCHGYM_NOJIT=1`` the caller uses the numpy model
(same numbers, slower).

Broadcasting: any inputs whose broadcast shape has at most two dimensions
(e.g. designs ``(P, 1)`` x layers ``(1, L)``, or equal-length flat arrays) are
read through zero-stride views, so nothing is copied; higher-dimensional
inputs go to the numpy model.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from archgym.jit import Kernel, disabled

from . import energy

__all__ = ["available", "evaluate_points", "METRIC_COLUMNS", "KERNEL"]

METRIC_COLUMNS = ("cycles", "stall_cycles", "macs", "utilization", "dram_words", "sram_words", "energy_pj")
_LAYER_FIELDS = ("M", "K", "N", "ifmap_footprint", "repeat", "ofmap_w", "filt_h", "filt_w", "row_step",
                 "col_step", "rows_touched", "cols_touched", "channels")

def _point_loop(D, Lt, n0, n1, wb, shared, pe_mac, sram_k, dram_pj, any_rep, out, feas, code):
    """For every point (i, j) of an ``n0 x n1`` grid: design fields ``D`` (rows, cols,
    dataflow, kb_i, kb_f, kb_o, bw) and layer fields ``Lt`` (:data:`_LAYER_FIELDS`),
    each a 2-D (possibly zero-strided, broadcast) array; writes
    :data:`METRIC_COLUMNS` into ``out[:, i*n1 + j]``."""
    for i in range(n0):
        for j in range(n1):
            R, C, df, kb_i, kb_f, kb_o, bw = (D[0][i, j], D[1][i, j], int(D[2][i, j]), D[3][i, j], D[4][i, j],
                                              D[5][i, j], D[6][i, j])
            M, K, N, U, rep = Lt[0][i, j], Lt[1][i, j], Lt[2][i, j], Lt[3][i, j], Lt[4][i, j]
            ofmap_w, filt_h, filt_w, row_step, col_step = Lt[5][i, j], Lt[6][i, j], Lt[7][i, j], Lt[8][i, j], Lt[9][i, j]
            rows_touched, cols_touched, channels = Lt[10][i, j], Lt[11][i, j], Lt[12][i, j]
            if not any_rep:                       # model._evaluate_dataflow: rep = 1.0
                rep = 1.0
            # compute.fold_geometry
            if df == 0:
                Sr, Sc, T = M, N, K
            elif df == 1:
                Sr, Sc, T = K, N, M
            else:
                Sr, Sc, T = K, M, N
            Fr = np.ceil(Sr / R)
            Fc = np.ceil(Sc / C)
            F = Fr * Fc
            stationary = df != 0
            L = T + ((2.0 * R if stationary else R) + (C - 2.0))
            # memory.dram_traffic
            wpk = 1024.0 / wb
            half_i = (kb_i * wpk) * 0.5
            half_f = (kb_f * wpk) * 0.5
            half_o = (kb_o * wpk) * 0.5
            KN = K * N
            MN = M * N
            U_fits = U <= half_i
            # memory._sweep_ifmap / ifmap_tile_unique
            if df == 1:
                sweep_if = U if U_fits else M * K
            else:
                p = min(C if df == 2 else R, M)
                rows_out = np.ceil(p / ofmap_w)
                in_rows = min((rows_out - 1.0) * row_step + filt_h, rows_touched)
                in_cols = cols_touched if p >= ofmap_w else (p - 1.0) * col_step + filt_w
                u = min(in_rows * in_cols * channels, p * K)
                if U_fits:
                    sweep_if = U
                elif u <= half_i:
                    sweep_if = max(u * (M / p), U)
                else:
                    sweep_if = M * K
            if df == 0:
                A, A_fits, Y, Cv = sweep_if, U_fits, KN, MN
                Y_fits = K * min(C, N) <= half_f
            elif df == 1:
                A, A_fits, Y, Cv = sweep_if, U_fits, MN, KN
                Y_fits = M * min(C, N) <= half_o
            else:
                A, A_fits, Y, Cv = KN, KN <= half_f, MN, sweep_if
                Y_fits = N * min(C, M) <= half_o
            dram_A = A if A_fits else Fc * A
            dram_Y = Y if Y_fits else Fr * Y
            a = A / Fr
            a_later = 0.0 if A_fits else a
            x = Y / Fc
            x_inner = 0.0 if Y_fits else (x if df == 0 else 2.0 * x)
            c = Cv / F
            if shared:
                ac = a + c
                lc = a_later + c
                t00, t01, t10, t11 = ac + x, ac + x_inner, lc + x, lc + x_inner
            else:
                t00 = max(max(a, x), c)
                t01 = max(max(a, x_inner), c)
                t10 = max(max(a_later, x), c)
                t11 = max(max(a_later, x_inner), c)
            Lbw = L * bw
            n01 = Fr - 1.0
            stall = (max(t00 - Lbw, 0.0) + n01 * max(t01 - Lbw, 0.0)
                     + (Fc - 1.0) * (max(t10 - Lbw, 0.0) + n01 * max(t11 - Lbw, 0.0)))
            stall = np.ceil(stall / bw - 1e-9)
            spill = 0.0 if Y_fits else n01 * MN
            if df == 0:
                t_if, t_f, t_ow, t_or = dram_A, dram_Y, MN, 0.0
            elif df == 1:
                t_if, t_f, t_ow, t_or = dram_A, KN, dram_Y, spill
            else:
                t_if, t_f, t_ow, t_or = sweep_if, dram_A, dram_Y, spill
            dram = t_if + t_f + t_ow + t_or
            # model._evaluate_dataflow
            cycles = (F * L + stall) * rep
            macs = M * K * N * rep
            RC = R * C
            # compute.sram_reads
            MK = M * K
            if df == 0:
                s_if, s_f, s_of = Fc * MK, Fr * KN, MN
            elif df == 1:
                s_if, s_f, s_of = Fc * MK, KN, Fr * MN
            else:
                s_if, s_f, s_of = MK, Fc * KN, Fr * MN
            sram_i = s_if + t_if
            sram_f = s_f + t_f
            sram_o = s_of + t_ow + t_or
            if stationary:
                sram_o = sram_o + (Fr - 1.0) * (M * N)
            e = macs * pe_mac + (rep * wb) * (
                sram_i * (math.sqrt(kb_i) * sram_k) + sram_f * (math.sqrt(kb_f) * sram_k)
                + sram_o * (math.sqrt(kb_o) * sram_k) + dram * dram_pj)
            tile = min(R, Sr) * min(C, Sc)
            cap = (kb_o if df == 0 else (kb_f if df == 1 else kb_i)) * (wpk * 0.5)
            k = i * n1 + j
            out[0, k] = cycles
            out[1, k] = stall * rep
            out[2, k] = macs
            out[3, k] = macs / (cycles * RC)
            out[4, k] = dram * rep
            out[5, k] = (sram_i + sram_f + sram_o) * rep
            out[6, k] = e
            ok = tile <= cap
            feas[k] = ok
            code[k] = 0 if ok else df + 1


def _example_arguments() -> tuple:
    """Arguments of :func:`evaluate_points`'s types: read-only 2-D broadcast views (layout ``A``;
    contiguous views convert to it), so one compilation serves every broadcast pattern."""
    view = np.broadcast_to(np.zeros((1, 1)), (2, 2))
    return ((view,) * 7, (view,) * len(_LAYER_FIELDS), 2, 2, 1.0, True, 1.0, 1.0, 1.0, True,
            np.zeros((len(METRIC_COLUMNS), 4)), np.zeros(4, np.bool_), np.zeros(4, np.int8))


#: the per-point loop (compiled on first use; see :mod:`archgym.jit`)
KERNEL = Kernel(_point_loop, label="the systolic batch kernel", example=_example_arguments, expected_s=2,
                nogil=True)


def available() -> bool:
    """True when the compiled kernel is used (numba installed, ``ARCHGYM_NOJIT`` unset)."""
    return KERNEL.available()


def _grid_views(arrays: list[np.ndarray], shape2: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Each array as a float64 2-D view broadcast to ``shape2`` (zero strides, no copy)."""
    return tuple(np.broadcast_to(np.asarray(a, dtype=np.float64).reshape((1,) * (2 - a.ndim) + a.shape), shape2)
                 for a in arrays)


def evaluate_points(df: np.ndarray, design: list[np.ndarray], lay: Mapping[str, np.ndarray], *,
                    wb: float, sharing: str) -> dict[str, np.ndarray] | None:
    """The metric columns of :func:`.model.evaluate_arrays` (``report=False``) from
    the compiled kernel, or None when ``ARCHGYM_NOJIT`` is set or the inputs have
    more than two dimensions (the caller then uses the numpy model).  Raises
    :class:`archgym.jit.JitError` if numba is missing or fails.

    ``df``: dataflow codes; ``design``: rows, cols, kb_i, kb_f, kb_o, bw arrays;
    ``lay``: the per-layer arrays (:func:`.model.layer_arrays`).
    """
    if disabled():
        return None
    d_arrays = [design[0], design[1], df.astype(np.float64), design[2], design[3], design[4], design[5]]
    l_arrays = [lay[k] for k in _LAYER_FIELDS]
    shape = np.broadcast_shapes(*(a.shape for a in d_arrays), *(a.shape for a in l_arrays))
    if len(shape) > 2:
        return None
    shape2 = (1,) * (2 - len(shape)) + tuple(shape)
    n = shape2[0] * shape2[1]
    out = np.empty((len(METRIC_COLUMNS), n), dtype=np.float64)
    feas = np.empty(n, dtype=np.bool_)
    code = np.empty(n, dtype=np.int8)
    any_rep = bool(np.any(lay["repeat"] != 1.0))
    KERNEL.compiled()(_grid_views(d_arrays, shape2), _grid_views(l_arrays, shape2), shape2[0], shape2[1], float(wb),
         sharing == "shared", energy.pe_energy_per_mac_pj(wb), energy.SRAM_PJ_PER_BYTE_8KB / math.sqrt(8.0),
         energy.DRAM_PJ_PER_BYTE, any_rep, out, feas, code)
    res = {k: out[i].reshape(shape) for i, k in enumerate(METRIC_COLUMNS)}
    res["feasible"] = feas.reshape(shape)
    res["infeasible_code"] = code.reshape(shape)
    return res

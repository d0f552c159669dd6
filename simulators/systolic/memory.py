"""SRAM/DRAM traffic and bandwidth stalls of a double-buffered systolic array (analytical).

Model (ours; physically motivated, not a copy of SCALE-Sim's trace replay):

* Three scratchpads (ifmap, filter, ofmap), each double-buffered: half of
  each holds the data the array is working on, the other half is filled
  (or drained) from/to DRAM during the current fold.  Capacities in words:
  ``kb * 1024 / word_bytes``; ``half = capacity / 2``.
* Folds run column-fold outer, row-fold inner (as SCALE-Sim).  Each
  operand plays one of three roles, by which fold index its tile depends on:

  ========  ==========================  ==========================  ====================
  dataflow  ``A``: row-fold tile (i)    ``Y``: column-fold tile (j)  ``Cv``: used once
  ========  ==========================  ==========================  ====================
  os        ifmap (R pixels x K)        filter (K x C)               outputs (R x C)
  ws        ifmap (M x R-slice of K)    outputs (M x C partial sums) filter (R x C)
  is        filter (R-slice of K x N)   outputs (C x N partial sums) ifmap (R x C)
  ========  ==========================  ==========================  ====================

* Reuse (a tile is reused only while it stays in the SRAM's working half):

  - ``A`` is swept ``Fc`` times.  If the whole operand fits in half its
    SRAM it is fetched once (compulsory); otherwise once per sweep.
  - ``Y`` is reused by the ``Fr`` consecutive inner folds if the tile fits;
    otherwise the os filter tile is fetched again every fold, and ws/is
    partial sums spill: every fold writes them (``Fr*M*N`` writes) and the
    next row fold reads them back (``(Fr-1)*M*N`` reads).  If it fits, ws/is
    accumulate on chip and write ``M*N``.
  - Ifmap words repeat across overlapping conv windows.  When the whole
    distinct footprint ``U`` fits, it is fetched once.  Otherwise a sweep
    costs the lowered volume ``M*K`` reduced by the reuse *inside one
    working set*: os fetches each fold's ``R`` output pixels x all of ``K``;
    is fetches each column fold's ``C`` output pixels x all of ``K`` over its
    inner folds; both are deduplicated when the distinct words of that
    working set (:func:`ifmap_tile_unique`) fit in the half.  ws's working set
    is a K-slice of all pixels (no overlap inside it), so a ws sweep costs
    ``M*K``.
* Stalls: during each fold of ``L`` cycles the next fold's new input tiles are
  prefetched and the previous fold's outputs drained at ``bw`` words/cycle.
  A fold whose transfer volume ``V`` needs longer stalls the array for
  ``V/bw - L`` cycles.  Per-fold volumes take at most four values (first
  column fold or not x first row fold or not), so the sum over folds is
  closed-form (no per-fold loop).  Steady state is assumed across layers:
  fold 0's data is prefetched during the preceding fold (the previous
  layer's last fold), and the last fold's outputs drain during the next one.
* ``sharing="shared"`` (default): one DRAM interface of ``bw`` words/cycle
  carries all three streams (physical: one memory controller).
  ``sharing="per_operand"``: each SRAM has its own ``bw`` port (SCALE-Sim's
  USER mode gives ifmap, filter and ofmap the same ``bw`` each).

Agreement with SCALE-Sim 3.0.0 on its small-SRAM runs
-----------------------------------------------------
(``tests/test_systolic_reference.py``; errors are |ours/theirs - 1|.)

* ``small_sram_calc_bw`` (6 cases, no stalls by construction): cycles and
  SRAM counts exact; ifmap+filter DRAM reads median 0.8%, worst 14%.
* ``small_sram_user_bw`` (81 cases): ``compute_cycles`` median 38%, worst
  300% (shared interface; 43% / 117% with ``per_operand``).  The cause is
  SCALE-Sim's DRAM read counts, not our timing: SCALE-Sim's cycles equal
  ``max(F*L, its own per-operand DRAM reads / bw)`` (median ratio 1.00,
  10th-90th percentile 0.91-1.02), and its USER-mode reads are inflated by
  re-requested prefetch rows (quirk 8) and whole-line padding -- up to 49x
  the filter size for a ws layer whose filter is used exactly once.  On the
  28 cases where SCALE-Sim reads at most 1.25x our DRAM words, our cycles
  agree to median 0.1% (worst 103%: a one-fold GEMM whose initial fill
  SCALE-Sim does not count as a stall; its incl-prefetch total, 916, matches
  our 917).
* Choice: physical plausibility over copying quirks 7 and 8 -- no stall
  double counting, no re-requests.  Our stalls are the bandwidth-bound time
  a double-buffered schedule really needs; our DRAM reads are never below
  the compulsory footprint and grow only when reuse is impossible.

What this does not model: DRAM latency/row effects, SRAM bank conflicts,
the ofmap SRAM's own size limit on os draining beyond one tile.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .compute import IS, OS, WS, FoldGeometry  # noqa: F401

__all__ = ["Traffic", "dram_traffic", "ifmap_tile_unique", "SHARING_MODES", "FoldTransfers",
           "fold_transfers", "ROLES"]

SHARING_MODES = ("shared", "per_operand")


class Traffic:
    """DRAM words per layer and bandwidth stalls (float64 arrays).

    ``ifmap_reads``, ``filter_reads``, ``ofmap_writes``, ``ofmap_reads``
    (partial-sum read-backs after a spill) and ``stall_cycles``.
    """

    __slots__ = ("ifmap_reads", "filter_reads", "ofmap_writes", "ofmap_reads", "stall_cycles")

    def __init__(self, **kw: np.ndarray) -> None:
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def total(self) -> np.ndarray:
        return self.ifmap_reads + self.filter_reads + self.ofmap_writes + self.ofmap_reads


def ifmap_tile_unique(p: Any, lay: Mapping[str, Any]) -> np.ndarray:
    """Distinct ifmap words of ``p`` consecutive output pixels (raster order) x the whole window.

    ``lay`` holds the per-layer arrays of :func:`archgym.simulators.systolic.model.layer_arrays`.
    Capped at ``p*K`` (no reuse).  For GEMMs it is ``p*K``.
    """
    rows_out = np.ceil(p / lay["ofmap_w"])
    in_rows = np.minimum((rows_out - 1.0) * lay["row_step"] + lay["filt_h"], lay["rows_touched"])
    in_cols = np.where(p >= lay["ofmap_w"], lay["cols_touched"], (p - 1.0) * lay["col_step"] + lay["filt_w"])
    return np.minimum(in_rows * in_cols * lay["channels"], p * lay["K"])


def _sweep_ifmap(g: FoldGeometry, lay: Mapping[str, Any], half_i: np.ndarray, U_fits: np.ndarray) -> np.ndarray:
    """Ifmap words fetched by one sweep (module docstring, "Reuse")."""
    M, K, U = lay["M"], lay["K"], lay["ifmap_footprint"]
    if g.df == WS:
        return np.where(U_fits, U, M * K)
    p = np.minimum(g.C if g.df == IS else g.R, M)
    u = ifmap_tile_unique(p, lay)
    # never below the footprint U, so that a bigger SRAM can only lower the traffic
    return np.where(U_fits, U, np.where(u <= half_i, np.maximum(u * (M / p), U), M * K))


class FoldTransfers:
    """Per-fold DRAM transfer volumes of one layer (words, float64 arrays), by fold class.

    Folds ``(j, i)`` run column-fold ``j`` outer, row-fold ``i`` inner.  ``a`` /
    ``a_later``: the ``A`` operand's tile in the first / a later column fold;
    ``x`` / ``x_inner``: the ``Y`` tile in the first / a later row fold (ws/is:
    ``x_inner`` is a partial-sum spill, half written and half read back);
    ``c``: the ``Cv`` operand, every fold.  ``roles`` names the operand of
    ``A``, ``Y``, ``Cv`` (module docstring table); ``A_fits``, ``Y_fits``,
    ``sweep_if`` and the layer totals ``A, Y, Cv`` are kept for the traffic totals.
    """

    __slots__ = ("roles", "a", "a_later", "x", "x_inner", "c", "A", "A_fits", "Y", "Y_fits", "Cv", "sweep_if")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


#: operand of each role (A, Y, Cv) per dataflow code
ROLES = {OS: ("ifmap", "filter", "ofmap"), WS: ("ifmap", "ofmap", "filter"), IS: ("filter", "ofmap", "ifmap")}


def fold_transfers(g: FoldGeometry, lay: Mapping[str, Any], ifmap_words: Any, filter_words: Any,
                   ofmap_words: Any) -> FoldTransfers:
    """Words each fold moves to/from DRAM, per operand role and fold class (see :class:`FoldTransfers`).

    The volumes :func:`dram_traffic` turns into stalls; the composite
    ``Accelerator-v0`` turns them into a DRAM request stream.  Arguments as
    :func:`dram_traffic` (SRAM capacities in words).
    """
    M, K, N, U = lay["M"], lay["K"], lay["N"], lay["ifmap_footprint"]
    KN = K * N
    MN = M * N
    half_i = np.asarray(ifmap_words, dtype=np.float64) * 0.5
    half_f = np.asarray(filter_words, dtype=np.float64) * 0.5
    half_o = np.asarray(ofmap_words, dtype=np.float64) * 0.5
    Fr, Fc, F = g.Fr, g.Fc, g.F
    U_fits = U <= half_i
    sweep_if = _sweep_ifmap(g, lay, half_i, U_fits)
    # A: row-fold operand, fetched once or once per sweep; Y: column-fold tile
    # (os: K x C filter tile, ws/is: T x C output tile); Cv: the operand each fold uses once
    if g.df == OS:
        A, A_fits, Y, Cv = sweep_if, U_fits, KN, MN
        Y_fits = K * np.minimum(g.C, N) <= half_f
    elif g.df == WS:
        A, A_fits, Y, Cv = sweep_if, U_fits, MN, KN
        Y_fits = M * np.minimum(g.C, N) <= half_o
    else:
        A, A_fits, Y, Cv = KN, KN <= half_f, MN, sweep_if
        Y_fits = N * np.minimum(g.C, M) <= half_o
    # per-fold transfer volumes in the four fold classes (j==0?, i==0?)
    a = A / Fr
    a_later = np.where(A_fits, 0.0, a)
    x = Y / Fc
    x_inner = np.where(Y_fits, 0.0, x if g.df == OS else 2.0 * x)   # ws/is spill: write + read back
    c = Cv / F
    return FoldTransfers(roles=ROLES[g.df], a=a, a_later=a_later, x=x, x_inner=x_inner, c=c, A=A, A_fits=A_fits,
                         Y=Y, Y_fits=Y_fits, Cv=Cv, sweep_if=sweep_if)


def dram_traffic(g: FoldGeometry, lay: Mapping[str, Any], ifmap_words: Any, filter_words: Any,
                 ofmap_words: Any, bw: Any, sharing: str = "shared") -> Traffic:
    """DRAM traffic and stalls of one layer per design, for the (scalar) dataflow of ``g``.

    ``lay``: per-layer arrays (``M, K, N, ifmap_footprint`` and the window geometry,
    see :func:`ifmap_tile_unique`); ``ifmap_words`` etc.: SRAM capacities in words;
    ``bw``: DRAM words per cycle.
    """
    if sharing not in SHARING_MODES:
        raise ValueError(f"sharing must be one of {SHARING_MODES}, got {sharing!r}")
    M, N = lay["M"], lay["N"]
    KN = lay["K"] * N
    MN = M * N
    ft = fold_transfers(g, lay, ifmap_words, filter_words, ofmap_words)
    A, A_fits, Y, Y_fits, sweep_if = ft.A, ft.A_fits, ft.Y, ft.Y_fits, ft.sweep_if
    a, a_later, x, x_inner, c = ft.a, ft.a_later, ft.x, ft.x_inner, ft.c
    Fr, Fc = g.Fr, g.Fc
    dram_A = np.where(A_fits, A, Fc * A)
    dram_Y = np.where(Y_fits, Y, Fr * Y)
    if sharing == "shared":
        ac = a + c
        lc = a_later + c
        t00, t01, t10, t11 = ac + x, ac + x_inner, lc + x, lc + x_inner
    else:
        t00 = np.maximum(np.maximum(a, x), c)
        t01 = np.maximum(np.maximum(a, x_inner), c)
        t10 = np.maximum(np.maximum(a_later, x), c)
        t11 = np.maximum(np.maximum(a_later, x_inner), c)
    Lbw = g.L * bw                    # stall of a fold = max(V - L*bw, 0) / bw
    n01 = Fr - 1.0
    stall = (np.maximum(t00 - Lbw, 0.0) + n01 * np.maximum(t01 - Lbw, 0.0)
             + (Fc - 1.0) * (np.maximum(t10 - Lbw, 0.0) + n01 * np.maximum(t11 - Lbw, 0.0)))
    stall = np.ceil(stall / bw - 1e-9)     # tolerance: V == L*bw must not round up to a stall
    zero = np.zeros(())
    if g.df == OS:
        return Traffic(ifmap_reads=dram_A, filter_reads=dram_Y, ofmap_writes=MN, ofmap_reads=zero,
                       stall_cycles=stall)
    spill_reads = np.where(Y_fits, 0.0, n01 * MN)
    if g.df == WS:
        return Traffic(ifmap_reads=dram_A, filter_reads=KN, ofmap_writes=dram_Y, ofmap_reads=spill_reads,
                       stall_cycles=stall)
    return Traffic(ifmap_reads=sweep_if, filter_reads=dram_A, ofmap_writes=dram_Y, ofmap_reads=spill_reads,
                   stall_cycles=stall)

"""The vectorized systolic-array model: (design arrays) x (layer arrays) -> per-layer figures.

:func:`evaluate_arrays` is the low-level entry point (benchmarks, custom
sweeps): every argument broadcasts, e.g. designs as shape ``(P, 1)`` and
layers as ``(1, L)`` give ``(P, L)`` results, or equal-length flat arrays
give one result per (design, layer) point.

Conventions of the returned figures (all per layer, all repeats of a
depthwise layer included):

* ``cycles`` -- physical latency in cycles: ``F*L + stall_cycles`` (no -1).
* ``compute_cycles`` (with ``report=True``) -- SCALE-Sim's "Total Cycles":
  ``F*L - 1 + stall_cycles`` (the zero-based index of the last ofmap write);
  ``repeat*(F*L + stalls) - 1`` for a depthwise layer.
* ``utilization`` -- MACs / (cycles * R * C), a fraction.
* ``dram_*`` -- words from our reuse model (:mod:`.memory`); ``dram_words`` is
  all physical traffic incl. partial-sum spills and read-backs.
* ``sram_words`` -- every SRAM access: array reads/writes, DRAM fills and
  drains, partial-sum read-back for accumulation.
* ``energy_pj`` -- dynamic energy (see :mod:`.energy`).
* ``feasible`` -- False when a stationary tile (os: the ``R x C`` output tile
  drained to the ofmap SRAM; ws: the filter tile; is: the ifmap tile) does not
  fit in half of its SRAM, which the double-buffered fold schedule requires.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..workloads.layers import Layer
from . import compute, energy, fast, memory

__all__ = ["evaluate_arrays", "layer_arrays", "REPORT_COLUMNS", "LAYER_KEYS"]

REPORT_COLUMNS = (
    "compute_cycles", "stall_cycles", "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct",
    "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes",
    "dram_ifmap_reads", "dram_filter_reads", "dram_ofmap_writes",
    "avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
    "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw",
)


#: points per numpy block: temporaries stay in cache and below glibc's 128 KiB mmap
#: threshold (larger blocks page-fault on every temporary and run ~3x slower)
CHUNK_POINTS = 12288

#: batches at least this large use the compiled kernel (:mod:`.fast`) when numba is importable
JIT_MIN_POINTS = 4096

LAYER_KEYS = ("M", "K", "N", "ifmap_footprint", "repeat", "ofmap_w", "filt_h", "filt_w", "row_step",
              "col_step", "rows_touched", "cols_touched", "channels")


def layer_arrays(layers: Layer | Sequence[Layer]) -> dict[str, np.ndarray]:
    """The per-layer arrays the kernel needs (float64, the layer axis), from Layer objects.

    ``M, K, N`` (GEMM, per repeat), ``ifmap_footprint`` (distinct ifmap words),
    ``repeat`` (depthwise channels), and the window geometry used for ifmap reuse:
    ``ofmap_w``, ``filt_h``, ``filt_w``, ``row_step``/``col_step`` (``min(stride,
    filter)``), ``rows_touched``/``cols_touched``, ``channels`` (per repeat).
    """
    if isinstance(layers, Layer):
        layers = [layers]
    rows = []
    for lay in layers:
        rs, cs = min(lay.stride, lay.filt_h), min(lay.stride, lay.filt_w)
        rows.append((lay.M, lay.K, lay.N, lay.ifmap_footprint, lay.repeat, lay.ofmap_w, lay.filt_h, lay.filt_w,
                     rs, cs, (lay.ofmap_h - 1) * rs + lay.filt_h, (lay.ofmap_w - 1) * cs + lay.filt_w,
                     1 if lay.kind == "dwconv" else lay.channels))
    arr = np.array(rows, dtype=np.float64).reshape(-1, len(LAYER_KEYS))
    return {k: arr[:, i].copy() for i, k in enumerate(LAYER_KEYS)}


def evaluate_arrays(rows: Any, cols: Any, dataflow: Any, ifmap_sram_kb: Any, filter_sram_kb: Any,
                    ofmap_sram_kb: Any, dram_bw: Any, layer: Layer | Sequence[Layer] | Mapping[str, Any], *,
                    word_bytes: float = 1, sharing: str = "shared", report: bool = False,
                    jit: bool | None = None) -> dict[str, np.ndarray]:
    """Evaluate broadcastable arrays of designs x layers.

    Parameters: array ``rows``/``cols`` (PEs), ``dataflow`` (names or codes
    os=0/ws=1/is=2), SRAM sizes in KB, ``dram_bw`` in words/cycle, and
    ``layer``: a :class:`Layer`, a list of Layers (a trailing layer axis), or
    the dict of :func:`layer_arrays` (any shape that broadcasts with the
    design arrays).  ``report=True`` adds SCALE-Sim's report columns
    (:data:`REPORT_COLUMNS`).

    Returns a dict of float64 arrays of the broadcast shape (``feasible`` is
    bool): ``cycles``, ``stall_cycles``, ``macs``, ``utilization``,
    ``dram_words``, ``sram_words``, ``energy_pj``, ``feasible``,
    ``infeasible_code`` (0 ok, 1 ofmap, 2 filter, 3 ifmap tile too big)
    [+ report columns].

    Without ``report``, batches of at least :data:`JIT_MIN_POINTS` points go to
    the compiled per-point kernel of :mod:`.fast` (the same numbers, bit for
    bit) when numba is importable; smaller ones stay in numpy, so one design's
    evaluation never pays numba's import.  ``jit=False`` forces the numpy
    model, ``jit=True`` requires the kernel.

    Points are grouped by dataflow (along the first axis when the dataflow
    varies only there, e.g. designs ``(P, 1)`` x layers ``(1, L)``), so each
    group runs select-free formulas.
    """
    if sharing not in memory.SHARING_MODES:
        raise ValueError(f"sharing must be one of {memory.SHARING_MODES}, got {sharing!r}")
    lay = layer if isinstance(layer, Mapping) else layer_arrays(layer)
    missing = [k for k in LAYER_KEYS if k not in lay]
    if missing:
        raise KeyError(f"layer arrays lack {missing}; build them with layer_arrays()")
    lay = {k: np.asarray(lay[k], dtype=np.float64) for k in LAYER_KEYS}
    df = compute.dataflow_code(dataflow)
    design = [np.asarray(x, dtype=np.float64) for x in (rows, cols, ifmap_sram_kb, filter_sram_kb, ofmap_sram_kb,
                                                         dram_bw)]
    for name, x in zip(("rows", "cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "dram_bw"), design):
        if x.size and not x.min() > 0:       # also catches NaN
            raise ValueError(f"evaluate_arrays: {name} must be positive, got minimum {x.min()}")
    for name in ("M", "K", "N", "ifmap_footprint", "repeat"):
        if lay[name].size and not lay[name].min() > 0:
            raise ValueError(f"evaluate_arrays: layer {name} must be positive, got minimum {lay[name].min()}")
    if not word_bytes > 0:
        raise ValueError(f"evaluate_arrays: word_bytes must be positive, got {word_bytes}")
    if not report and (jit or (jit is None and _n_points(df, design, lay) >= JIT_MIN_POINTS)):
        res = fast.evaluate_points(df, design, lay, wb=float(word_bytes), sharing=sharing)
        if res is not None:
            return res
        if jit:
            raise RuntimeError("the compiled systolic kernel needs numba and inputs of at most two dimensions")
    kw = dict(wb=float(word_bytes), sharing=sharing, report=report)
    shape = np.broadcast_shapes(df.shape, *(x.shape for x in design), *(v.shape for v in lay.values()))
    size = int(np.prod(shape))
    codes = np.unique(df)
    if size <= CHUNK_POINTS and codes.size <= 1:      # small and one dataflow: no copies at all
        res = _evaluate_dataflow(int(codes[0]) if codes.size else 0, *design, lay, **kw)
        return {k: np.broadcast_to(v, shape) for k, v in res.items()}

    nd = max(len(shape), 1)
    shape = shape or (1,)
    pad = lambda a: a.reshape((1,) * (nd - a.ndim) + a.shape)  # noqa: E731
    df = pad(df)
    design = [pad(x) for x in design]
    lay = {k: pad(v) for k, v in lay.items()}
    shape_out = shape
    if any(n != 1 for n in df.shape[1:]):        # dataflow varies beyond axis 0: flatten everything
        df = np.broadcast_to(df, shape).reshape(-1, 1)
        design = [np.broadcast_to(x, shape).reshape(-1, 1) for x in design]
        lay = {k: np.broadcast_to(v, shape).reshape(-1, 1) for k, v in lay.items()}
        shape = df.shape
    df0 = df.reshape(df.shape[0], -1)[:, 0]
    # a block holds ~CHUNK_POINTS points per dataflow, so each kernel call still sees
    # ~CHUNK_POINTS points after the block is split by dataflow
    step = max(1, CHUNK_POINTS * codes.size // max(1, int(np.prod(shape[1:]))))
    out: dict[str, np.ndarray] = {}
    # blocks along axis 0; inside a block, one kernel call per dataflow present
    # (a plain slice when there is one)
    for lo in range(0, shape[0], step):
        hi = min(lo + step, shape[0])
        f = df0[lo:hi]
        counts = np.bincount(f, minlength=3) if codes.size > 1 else None
        if counts is None or counts.max() == hi - lo:
            parts = [(int(f[0]), slice(lo, hi))]
        else:
            parts = [(c, np.flatnonzero(f == c) + lo) for c in range(3) if counts[c]]
        for code, rows in parts:
            res = _evaluate_dataflow(code, *(_rows(x, rows) for x in design),
                                     {k: _rows(v, rows) for k, v in lay.items()}, **kw)
            for k, v in res.items():
                if k not in out:
                    out[k] = np.empty(shape, dtype=np.asarray(v).dtype)
                out[k][rows] = v          # numpy broadcasts v over the block
    return {k: v.reshape(shape_out) for k, v in out.items()}


def _n_points(df: np.ndarray, design: list[np.ndarray], lay: Mapping[str, np.ndarray]) -> int:
    return int(np.prod(np.broadcast_shapes(df.shape, *(x.shape for x in design), *(v.shape for v in lay.values()))))


def _rows(a: np.ndarray, rows: slice | np.ndarray) -> np.ndarray:
    """Rows ``rows`` of ``a`` (``a`` itself when it broadcasts along axis 0)."""
    if a.shape[0] == 1:
        return a
    return a[rows] if isinstance(rows, slice) else np.take(a, rows, axis=0)


def _evaluate_dataflow(df: int, rows: np.ndarray, cols: np.ndarray, kb_i: np.ndarray, kb_f: np.ndarray,
                       kb_o: np.ndarray, bw: np.ndarray, lay: Mapping[str, np.ndarray], *, wb: float,
                       sharing: str, report: bool) -> dict[str, np.ndarray]:
    """:func:`evaluate_arrays` for one dataflow code (no per-element selects on the dataflow)."""
    M, K, N, rep = lay["M"], lay["K"], lay["N"], lay["repeat"]
    g = compute.fold_geometry(rows, cols, df, M, K, N)
    words_per_kb = 1024.0 / wb
    tr = memory.dram_traffic(g, lay, kb_i * words_per_kb, kb_f * words_per_kb, kb_o * words_per_kb,
                             bw, sharing)
    stall = tr.stall_cycles
    if not np.any(rep != 1.0):        # no depthwise layer: skip the repeat products
        rep = 1.0
    cycles = (g.F * g.L + stall) * rep
    macs = M * K * N * rep
    RC = g.R * g.C
    util = macs / (cycles * RC)

    s_if, s_f, s_of = compute.sram_reads(g, M, K, N)
    sram_i = s_if + tr.ifmap_reads
    sram_f = s_f + tr.filter_reads
    sram_o = s_of + tr.ofmap_writes + tr.ofmap_reads
    if g.stationary:       # ws/is partial sums are read back from the ofmap SRAM to be accumulated
        sram_o = sram_o + (g.Fr - 1.0) * (M * N)
    dram = tr.total
    e = macs * energy.pe_energy_per_mac_pj(wb) + (rep * wb) * (
        sram_i * energy.sram_energy_per_byte_pj(kb_i) + sram_f * energy.sram_energy_per_byte_pj(kb_f)
        + sram_o * energy.sram_energy_per_byte_pj(kb_o) + dram * energy.DRAM_PJ_PER_BYTE)

    # the stationary / drained R x C tile must fit in half of its SRAM
    tile = np.minimum(g.R, g.Sr) * np.minimum(g.C, g.Sc)
    code = {compute.OS: 1, compute.WS: 2, compute.IS: 3}[df]
    cap = {1: kb_o, 2: kb_f, 3: kb_i}[code] * (words_per_kb * 0.5)
    ok = tile <= cap
    out = {
        "cycles": cycles,
        "stall_cycles": stall * rep,
        "macs": macs,
        "utilization": util,
        "dram_words": dram * rep,
        "sram_words": (sram_i + sram_f + sram_o) * rep,
        "energy_pj": e,
        "feasible": ok,
        "infeasible_code": np.where(ok, np.int8(0), np.int8(code)),
    }
    if report:
        tc = cycles - 1.0
        out.update({
            "compute_cycles": tc,
            "overall_util_pct": 100.0 * macs / (tc * RC),
            "mapping_efficiency_pct": 100.0 * compute.mapping_efficiency(g),
            "compute_util_pct": 100.0 * compute.report_compute_utilization(g),
            "sram_ifmap_reads": s_if * rep,
            "sram_filter_reads": s_f * rep,
            "sram_ofmap_writes": compute.report_ofmap_writes(g, s_of) * rep,
            "dram_ifmap_reads": tr.ifmap_reads * rep,
            "dram_filter_reads": tr.filter_reads * rep,
            # SCALE-Sim's convention: one DRAM write per partial sum produced (no on-chip accumulation)
            "dram_ofmap_writes": s_of * rep,
        })
        for op, kind, col in (("ifmap", "sram", "sram_ifmap_reads"), ("filter", "sram", "sram_filter_reads"),
                              ("ofmap", "sram", "sram_ofmap_writes"), ("ifmap", "dram", "dram_ifmap_reads"),
                              ("filter", "dram", "dram_filter_reads"), ("ofmap", "dram", "dram_ofmap_writes")):
            out[f"avg_{op}_{kind}_bw"] = out[col] / tc
    return out

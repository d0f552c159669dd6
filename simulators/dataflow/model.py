"""The analytical loop-nest model, vectorized over mappings (numpy).

Nest and conventions
--------------------
A mapping gives every storage level ``l`` (0 = backing store) temporal loops
(one per dimension, in a loop order) and, when a fan-out sits below it,
spatial loops; the spatial loops of a level are innermost in its block.  The
tile a level holds (per instance) is the projection of all loops of its block
and below.  Counts are *per instance*, in words, with Timeloop's conventions
(``../shared/notes/dataflow.md``):

* read-only data spaces: ``fills`` = words written by the parent level,
  ``reads`` = words sent to the child level (the next inner level that keeps
  the data space, or the MACs, one word per MAC);
* the read-write data space (Outputs): ``updates`` = words arriving from the
  child (or the MACs); ``reads = updates - partition`` (the first update of
  each element reads nothing), ``fills = drains - partition``;
* across a fan-out, children whose tiles are identical share one parent access
  (multicast for inputs, spatial reduction for outputs): the parent sees one
  access per *distinct* child tile.  Nested fan-outs (through container levels
  that hold nothing) apply this level by level: a child of an outer fan-out is
  the whole subtree below it, and the distinct counts multiply (Eyeriss's
  ``PE_column`` then ``PE``: columns differ, then PEs within a column differ);
* partition (the words one instance owns): ``exact`` counts the distinct words
  an instance touches; ``timeloop`` follows Timeloop's chain, the outer
  partition times the level's tile over the union of the sibling tiles at the
  fan-out above it (integer division).

Tile walk (fills / drains of a level)
-------------------------------------
Over the iterations of the temporal loops above a level, the level fetches its
first tile, then at every step the new tile minus what it holds.  Let the
outer loops be ``k = 1..m`` (outer to inner), ``n_k`` iterations and
``tau_k`` the tile translation when loop ``k`` advances by one.  The step
where loop ``k`` advances happens ``(n_k - 1) * prod_{i<k} n_i`` times.

* ``reuse="exact"``: the step's translation is ``tau_k - sum_{i>k} (n_i-1) tau_i``
  (inner loops wrap back) and the level fetches exactly the words of the new
  tile it does not hold, ``|T| - |T ∩ (T + shift)|``, over the exact index sets.
* ``reuse="timeloop"``: Timeloop before commit a12fff5 (January 2025), whose
  outputs are the reference data.  Tiles are bounding boxes; Timeloop runs
  iterations 0 and 1 of each loop and scales iteration 1 (temporal
  extrapolation), so a wrapping step translates by
  ``T_k = tau_k - sum_{i>k, n_i>1} tau_i``; and it resets on a stride change
  (``OperationSpace::SaveAndSubtractIfSameStride``).  Solving that state
  machine over the walk gives: the innermost advancing loop ``m'`` always
  reuses (``|T| - overlap(T_m')``), every other step reuses only if
  ``T_k == T_m'`` and otherwise re-fetches the whole tile.

Both modes use the same multicast, reduction and first-read conventions.
Mappings with Timeloop's residual factors (imperfect factorization) take the
tile sizes, partitions, MACs and walks of :mod:`.residual` (``exact`` only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .arch import Architecture
from .errors import UnsupportedFeatureError
from .problem import Problem
from .residual import imperfect_rows, residual_extents, residual_walk
from .sets import contiguous_span, per_row, sumset_overlap, sumset_size

__all__ = ["Nest", "REUSE_MODES", "analyze"]

REUSE_MODES = ("exact", "timeloop")


@dataclass
class Nest:
    """Mappings as arrays: ``tf``, ``sx``, ``sy`` are ``(N, L, D)`` temporal and spatial X/Y
    factors, ``order`` ``(N, L, D)`` dimension indices outer to inner, ``keep`` ``(N, L, S)``;
    ``rt`` ``(N, L, D)`` the temporal loops' residual ends (None: every loop is perfect, ``rt == tf``)."""

    tf: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    order: np.ndarray
    keep: np.ndarray
    rt: Optional[np.ndarray] = None

    @property
    def n(self) -> int:
        return int(self.tf.shape[0])


def _coeffs(problem: Problem) -> list[tuple[np.ndarray, list[list[tuple[int, int]]]]]:
    """Per data space: ``(C[J, D] coefficient matrix, [[(dim index, coef), ...] per data dim])``."""
    idx = {d: i for i, d in enumerate(problem.dims)}
    out = []
    for ds in problem.dataspaces:
        mat = np.zeros((len(ds.projection), len(problem.dims)), dtype=np.int64)
        terms = []
        for j, dd in enumerate(ds.projection):
            t = []
            for d, c in dd:
                mat[j, idx[d]] = c
                t.append((idx[d], c))
            terms.append(t)
        out.append((mat, terms))
    return out


def _set_size(terms: list[tuple[int, int]], ext: np.ndarray, exact: bool) -> np.ndarray:
    """Size of the data-dimension index set for extents ``ext`` ``(N, D)``."""
    if not terms:
        return np.ones(ext.shape[0], dtype=np.int64)
    if len(terms) == 1:
        return ext[:, terms[0][0]].astype(np.int64)
    if not exact:
        return sum(c * (ext[:, d] - 1) for d, c in terms) + 1
    coefs = tuple(c for _, c in terms)
    cols = np.stack([ext[:, d] for d, _ in terms], axis=1)
    out = contiguous_span(coefs, cols)
    slow = out < 0
    if slow.any():
        out[slow] = per_row(cols[slow], lambda r: sumset_size(tuple(zip(coefs, r))))
    return out


def _overlap(terms: list[tuple[int, int]], ext: np.ndarray, shift: np.ndarray, exact: bool,
             mask: np.ndarray) -> np.ndarray:
    """``|S ∩ (S + shift)|`` for ``shift`` ``(N, K)``; entries outside ``mask`` may be left 0."""
    n, k = shift.shape
    if not terms:
        return (shift == 0).astype(np.int64)
    if len(terms) == 1:
        d, c = terms[0]
        e = ext[:, d][:, None]
        if exact:
            return np.where(shift % c == 0, np.maximum(0, e - np.abs(shift) // c), 0)
        return np.maximum(0, c * (e - 1) + 1 - np.abs(shift))
    if not exact:
        box = (sum(c * (ext[:, d] - 1) for d, c in terms) + 1)[:, None]
        return np.maximum(0, box - np.abs(shift))
    coefs = tuple(c for _, c in terms)
    cols = np.stack([ext[:, d] for d, _ in terms], axis=1)
    span = contiguous_span(coefs, cols)
    out = np.maximum(0, span[:, None] - np.abs(shift))
    ii, kk = np.nonzero(mask & (span < 0)[:, None])
    if ii.size:
        rows = np.concatenate([cols[ii], shift[ii, kk][:, None]], axis=1)
        out[ii, kk] = per_row(rows, lambda r: sumset_overlap(tuple(zip(coefs, r[:-1])), r[-1]))
    return out


def _distinct(terms: list[tuple[int, int]], sf: np.ndarray, inner: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Distinct child offsets along one data dimension over the fan-outs of levels ``lo..hi-1``."""
    n = sf.shape[0]
    loops = [(d, c, lv) for d, c in terms for lv in range(lo, hi)]
    if not loops:
        return np.ones(n, dtype=np.int64)
    counts = np.stack([sf[:, lv, d] for d, _, lv in loops], axis=1)
    out = np.prod(counts, axis=1)
    if len(terms) == 1:
        return out  # nested strides of one dimension never collide
    slow = np.nonzero(np.sum(counts > 1, axis=1) > 1)[0]
    if slow.size:
        steps = np.stack([c * inner[slow, lv + 1, d] for d, c, lv in loops], axis=1)
        rows = np.concatenate([steps, counts[slow]], axis=1)
        m = len(loops)
        out[slow] = per_row(rows, lambda r: sumset_size(tuple(zip(r[:m], r[m:]))))
    return out


def analyze(problem: Problem, arch: Architecture, nest: Nest, reuse: str = "exact") -> dict[str, Any]:
    """Per-instance counts of ``N`` mappings.

    Returns arrays: ``reads``, ``fills``, ``updates``, ``capacity`` (utilized words),
    ``partition`` -- all ``(N, L, S)``, zero where a level does not keep a data space --
    ``instances`` ``(N, L)`` (utilized), ``macs_per_instance`` ``(N,)``, ``mac_instances`` ``(N,)``.
    """
    exact = reuse == "exact"
    tf = nest.tf.astype(np.int64)
    sf = (nest.sx * nest.sy).astype(np.int64)
    order = nest.order.astype(np.int64)
    keep = nest.keep.astype(bool).copy()
    keep[:, 0, :] = True
    for lv, level in enumerate(arch.levels):
        if level.is_dummy:
            keep[:, lv, :] = False  # a container's level holds nothing: data passes through
    n, L, D = tf.shape
    S = len(problem.dataspaces)
    bounds = np.array([problem.bounds[d] for d in problem.dims], dtype=np.int64)

    inner = np.ones((n, L + 1, D), dtype=np.int64)
    for lv in range(L - 1, -1, -1):
        inner[:, lv] = inner[:, lv + 1] * tf[:, lv] * sf[:, lv]
    tstride = sf * inner[:, 1:]
    K = L * D
    dim_k = order.reshape(n, K)
    n_k = np.take_along_axis(tf, order, axis=2).reshape(n, K)
    s_k = np.take_along_axis(tstride, order, axis=2).reshape(n, K)
    prefix = np.cumprod(np.concatenate([np.ones((n, 1), dtype=np.int64), n_k[:, :-1]], axis=1), axis=1)
    w_k = (n_k - 1) * prefix
    fan = np.prod(sf, axis=2)  # (n, L)
    instances = np.cumprod(np.concatenate([np.ones((n, 1), dtype=np.int64), fan[:, :-1]], axis=1), axis=1)
    macs_pi = np.prod(tf.reshape(n, L * D), axis=1)
    mac_instances = np.prod(fan, axis=1)
    imp = imperfect_rows(nest)
    if imp.size:
        if not exact:
            raise UnsupportedFeatureError("residual factors (imperfect factorization) are costed with reuse=exact "
                                          "only; Timeloop's residual iteration procedure is not modelled")
        r_first, r_part, macs_pi[imp], r_last = residual_extents(nest, imp)

    reads = np.zeros((n, L, S), dtype=np.int64)
    fills = np.zeros_like(reads)
    updates = np.zeros_like(reads)
    capacity = np.zeros_like(reads)
    partition = np.zeros_like(reads)

    for s, (mat, terms) in enumerate(_coeffs(problem)):
        rw = problem.dataspaces[s].read_write
        tau = mat.T[dim_k] * s_k[:, :, None]  # (n, K, J)
        tile = np.empty((n, L), dtype=np.int64)
        part = np.empty((n, L), dtype=np.int64)
        walk = np.empty((n, L), dtype=np.int64)
        for lv in range(L):
            ext = inner[:, lv]
            if imp.size:
                ext = ext.copy()
                ext[imp] = r_first[:, lv]  # the first tile is the largest
            sizes = [_set_size(t, ext, exact) for t in terms]
            tile[:, lv] = np.prod(np.stack(sizes, axis=1), axis=1) if sizes else 1
            if exact:
                pext = bounds[None, :] // np.maximum(1, instances_dims(sf, lv))
                if imp.size:
                    pext[imp] = r_part[:, lv]
                psz = [_set_size(t, pext, exact) for t in terms]
                part[:, lv] = np.prod(np.stack(psz, axis=1), axis=1) if psz else 1
            elif lv == 0:
                part[:, lv] = tile[:, 0]
            else:  # Timeloop's chain: outer partition x tile / (union of the sibling tiles at the outer fan-out)
                uext = inner[:, lv] * sf[:, lv - 1]
                usz = [_set_size(t, uext, exact) for t in terms]
                union = np.prod(np.stack(usz, axis=1), axis=1) if usz else np.ones(n, dtype=np.int64)
                part[:, lv] = part[:, lv - 1] * tile[:, lv] // union
            walk[:, lv] = tile[:, lv] + _walk_extra(lv * D, n_k, w_k, tau, terms, ext, tile[:, lv], exact)
            for q, i in enumerate(imp):
                walk[i, lv] = residual_walk(nest, int(i), lv, terms, inner[i, lv], r_last[q, lv], tstride[i])
        # child of each level for this data space, and the counts
        for lv in range(L):
            kept = keep[:, lv, s]
            child = np.full(n, L, dtype=np.int64)
            for c in range(L - 1, lv, -1):
                child = np.where(keep[:, c, s], c, child)
            dist = np.ones(n, dtype=np.int64)
            from_child = np.zeros(n, dtype=np.int64)
            for c in np.unique(child):
                m = child == c
                dd = np.ones(n, dtype=np.int64)
                for t in terms:
                    for f in range(lv, min(int(c), L)):  # level by level: nested fan-outs multicast separately
                        dd = dd * _distinct(t, sf, inner, f, f + 1)
                dist[m] = dd[m]
                from_child[m] = walk[m, c] if c < L else macs_pi[m]
            arrivals = from_child * dist
            if rw:
                upd = arrivals
                rd = upd - part[:, lv]
                fl = walk[:, lv] - part[:, lv] if lv > 0 else np.zeros(n, dtype=np.int64)
            else:
                upd = np.zeros(n, dtype=np.int64)
                rd = arrivals
                fl = walk[:, lv] if lv > 0 else np.zeros(n, dtype=np.int64)
            reads[:, lv, s] = np.where(kept, rd, 0)
            fills[:, lv, s] = np.where(kept, fl, 0)
            updates[:, lv, s] = np.where(kept, upd, 0)
            capacity[:, lv, s] = np.where(kept, tile[:, lv], 0)
            partition[:, lv, s] = np.where(kept, part[:, lv], 0)
    return {"reads": reads, "fills": fills, "updates": updates, "capacity": capacity, "partition": partition,
            "instances": instances, "macs_per_instance": macs_pi, "mac_instances": mac_instances, "keep": keep,
            "inner": inner, "sx": np.prod(nest.sx, axis=2), "sy": np.prod(nest.sy, axis=2)}


def instances_dims(sf: np.ndarray, lv: int) -> np.ndarray:
    """Per-dimension product of the spatial factors above level ``lv`` ``(N, D)``."""
    return np.prod(sf[:, :lv], axis=1) if lv > 0 else np.ones((sf.shape[0], sf.shape[2]), dtype=np.int64)


def _walk_extra(kmax: int, n_k: np.ndarray, w_k: np.ndarray, tau: np.ndarray, terms, ext: np.ndarray,
                tile: np.ndarray, exact: bool) -> np.ndarray:
    """Words fetched after the first tile over the ``kmax`` outer loops (see the module docstring)."""
    n = n_k.shape[0]
    if kmax == 0:
        return np.zeros(n, dtype=np.int64)
    nk = n_k[:, :kmax]
    tk = tau[:, :kmax]
    active = nk > 1
    if not active.any():
        return np.zeros(n, dtype=np.int64)
    if exact:
        contrib = tk * (nk - 1)[:, :, None]
    else:
        contrib = tk * active[:, :, None]
    cum = np.cumsum(contrib, axis=1)
    shift = tk - (cum[:, -1:, :] - cum)  # (n, k, J)
    ov = np.ones(nk.shape, dtype=np.int64)
    for j, t in enumerate(terms):
        ov = ov * _overlap(t, ext, shift[:, :, j], exact, active)
    delta = tile[:, None] - ov
    if not exact:
        last = kmax - 1 - np.argmax(active[:, ::-1], axis=1)
        t_last = np.take_along_axis(tk, last[:, None, None], axis=1)  # (n, 1, J)
        same = np.all(shift == t_last, axis=2)
        is_last = np.arange(kmax)[None, :] == last[:, None]
        delta = np.where(same | is_last, delta, tile[:, None])
    return np.sum(np.where(active, w_k[:, :kmax] * delta, 0), axis=1)

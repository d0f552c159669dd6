"""Imperfect factorization: Timeloop's residual factors, checked and counted (``reuse="exact"``).

Semantics (Timeloop's ``loop::Descriptor::residual_end``, ``NestAnalysis::IsLastGlobalIteration_``)
----------------------------------------------------------------------------------------------
A temporal loop written ``M=4,3`` has ``end`` 4 and ``residual_end`` 3: it runs 3
iterations when every loop of the same dimension outside it is in its own last
iteration (the dimension's *global last* iteration), 4 otherwise.  The
dimension's loops, outer to inner with ends ``E_k``, residual ends ``R_k`` and
strides ``stride_k = prod of the E of the inner loops of that dimension``, then
cover the indices ``0 .. 1 + sum_k (R_k - 1) * stride_k - 1`` exactly once: the
iteration tuples are the mixed-radix digit tuples lexicographically at most
``(R_k - 1)_k``, i.e. a prefix of the padded perfect nest.  Timeloop's mapping
parser checks the same covering formula against the bound.

What is modelled
----------------
Residuals on *temporal* loops that have no spatial loop of the same dimension
outside them.  Then every instance of every level does the same work (the
spatial loops below a residual loop are perfect, so which instance is in the
last iteration never matters), and the per-instance counts of
:mod:`.model` stay well defined.  Spatial residuals (fewer instances in the
last iteration) are refused with one line.

Counting (closed form, checked against the literal interpreter in tests)
-------------------------------------------------------------------------
For a level ``l`` and the temporal loops above it (walk order), dimension
``d``'s tile is a box of extent ``F_d`` (the level's full tile) except in ``d``'s
global last iteration above ``l``, where it is ``X_d = 1 + sum (R-1) * stride``
over ``d``'s loops at ``l`` and below.  Each step "loop ``k`` advances" falls in a
class given, for every dimension, by whether its digits above ``k`` equal the
residual digits; the class fixes both tiles' extents and the translation (inner
loops wrap back by their full or residual span), and the number of steps in a
class is a product of per-dimension prefix counts ``cnt = (cnt - 1) * E + R``.
The level fetches ``|T'| - |T ∩ T'|`` per step, exactly as for perfect nests.
Only ``reuse="exact"`` is modelled; Timeloop's own residual procedure (iterations
0, 1, second-last and last, extrapolated; ``NestAnalysis::ComputeTemporalWorkingSet``)
is not, so ``reuse="timeloop"`` refuses residual mappings.
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .errors import MappingError, UnsupportedFeatureError
from .sets import sumset

if TYPE_CHECKING:  # pragma: no cover
    from .arch import Architecture
    from .mapping import Mapping
    from .model import Nest
    from .problem import Problem

__all__ = ["covered", "check_residuals", "imperfect_rows", "spatial_residual_rows", "residual_extents",
           "residual_walk"]


def _inner(tf: np.ndarray, sf: np.ndarray) -> np.ndarray:
    """``(N, L+1, D)`` products of the factors at each level and below (the full tile extents)."""
    n, L, D = tf.shape
    inner = np.ones((n, L + 1, D), dtype=np.int64)
    for lv in range(L - 1, -1, -1):
        inner[:, lv] = inner[:, lv + 1] * tf[:, lv] * sf[:, lv]
    return inner


def _span_below(rt: np.ndarray, sf: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``(N, L+1, D)``: ``sum (R - 1) * stride`` over the loops at each level and below (Timeloop's
    covering formula minus 1; the spatial loops are perfect)."""
    n, L, D = rt.shape
    out = np.zeros((n, L + 1, D), dtype=np.int64)
    for lv in range(L - 1, -1, -1):
        out[:, lv] = out[:, lv + 1] + (rt[:, lv] - 1) * sf[:, lv] * inner[:, lv + 1] + (sf[:, lv] - 1) * inner[:, lv + 1]
    return out


def covered(nest: "Nest") -> np.ndarray:
    """``(N, D)`` indices each dimension's loops cover: the product of the factors, or with residuals
    Timeloop's ``1 + sum_k (R_k - 1) * stride_k``."""
    sf = nest.sx * nest.sy
    if nest.rt is None:
        return np.prod(nest.tf * sf, axis=1)
    return 1 + _span_below(nest.rt, sf, _inner(nest.tf, sf))[:, 0]


def imperfect_rows(nest: "Nest") -> np.ndarray:
    """Indices of the mappings with a residual loop (``rt != tf`` somewhere)."""
    if nest.rt is None or nest.n == 0:
        return np.zeros(0, dtype=np.int64)
    return np.nonzero(np.any(nest.rt != nest.tf, axis=(1, 2)))[0]


def spatial_residual_rows(nest: "Nest") -> np.ndarray:
    """Mappings with a residual loop below a spatial loop of its dimension (outside the model)."""
    rows = imperfect_rows(nest)
    if not rows.size:
        return rows
    sf = nest.sx[rows] * nest.sy[rows]
    above = np.cumsum(sf > 1, axis=1) - (sf > 1)  # spatial loops of the dimension at levels above
    bad = np.any((nest.rt[rows] != nest.tf[rows]) & (above > 0), axis=(1, 2))
    return rows[bad]


def check_residuals(problem: "Problem", arch: "Architecture", mapping: "Mapping") -> None:
    """One-line errors for a mapping with residual factors: a residual loop below a spatial loop of the
    same dimension (:class:`UnsupportedFeatureError`), loops that do not cover the bound
    (:class:`MappingError`, naming the loops)."""
    for d in problem.dims:
        spatial_above = None
        for lv, lm in zip(arch.levels, mapping.levels):
            r = (lm.residual or {}).get(d)
            if r is not None and r != lm.temporal.get(d, 1) and spatial_above is not None:
                raise UnsupportedFeatureError(
                    f"level {lv.name!r}: residual factor {d}={lm.temporal.get(d, 1)},{r} below the spatial loop of "
                    f"{d!r} at {spatial_above!r}; only temporal residuals outside every spatial loop of their "
                    "dimension are modelled")
            if (lm.spatial_x or {}).get(d, 1) * (lm.spatial_y or {}).get(d, 1) > 1:
                spatial_above = lv.name
    from .mapping import nest_of  # late: mapping imports this module

    nest = nest_of([mapping], problem, arch)
    cov = covered(nest)[0]
    for j, d in enumerate(problem.dims):
        if cov[j] != problem.bounds[d]:
            loops = [f"{lv.name} {lm.temporal.get(d, 1)}" + (f",{lm.residual[d]}" if d in (lm.residual or {}) else "")
                     for lv, lm in zip(arch.levels, mapping.levels) if lm.temporal.get(d, 1) > 1]
            raise MappingError(f"dimension {d!r}: factors with residuals cover {int(cov[j])} indices "
                               f"(1 + sum (residual - 1) x stride; {' x '.join(loops) or 'no loops'}), "
                               f"bound is {problem.bounds[d]}")


def residual_extents(nest: "Nest", rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the mappings ``rows``: ``first`` ``(n, L, D)`` the extents of each level's first (largest) tile,
    ``part`` ``(n, L, D)`` the indices one instance of the level touches per dimension, ``macs`` ``(n,)``
    the MACs per compute instance, ``last`` ``(n, L, D)`` the tile extents in the global last iteration."""
    tf, rt = nest.tf[rows], nest.rt[rows]
    sf = nest.sx[rows] * nest.sy[rows]
    n, L, D = tf.shape
    inner = _inner(tf, sf)
    last = 1 + _span_below(rt, sf, inner)[:, :L]
    cnt = np.ones((n, L + 1, D), dtype=np.int64)  # prefix tuples of each dimension's temporal loops above a level
    for lv in range(L):
        cnt[:, lv + 1] = (cnt[:, lv] - 1) * tf[:, lv] + rt[:, lv]
    first = np.where(cnt[:, :L] == 1, last, inner[:, :L])
    part = (cnt[:, :L] - 1) * inner[:, :L] + last
    return first, part, np.prod(cnt[:, L], axis=1), last


@lru_cache(maxsize=262144)
def _overlap_sets(terms_a: tuple, terms_b: tuple, shift: int) -> int:
    """``|A ∩ (B + shift)|`` for sumsets ``A``, ``B`` (``((coef, extent), ...)``)."""
    a, b = sumset(terms_a), sumset(terms_b)
    return int(np.intersect1d(a, b + shift, assume_unique=True).size)


def _size(terms, ext) -> int:
    out = 1
    for t in terms:
        if len(t) == 1:
            out *= ext[t[0][0]]
        elif t:
            out *= int(sumset(tuple((c, ext[d]) for d, c in t)).size)
    return out


def _overlap(terms, ext_a, ext_b, shift) -> int:
    """Words of tile ``ext_a`` (at 0) still valid in tile ``ext_b`` at problem offset ``shift``."""
    out = 1
    for t in terms:
        if not t:
            continue
        if len(t) == 1:
            d = t[0][0]
            lo, hi = max(0, shift[d]), min(ext_a[d], shift[d] + ext_b[d])
            out *= max(0, hi - lo)
        else:
            out *= _overlap_sets(tuple((c, ext_a[d]) for d, c in t), tuple((c, ext_b[d]) for d, c in t),
                                 sum(c * shift[d] for d, c in t))
        if out == 0:
            return 0
    return out


def residual_walk(nest: "Nest", i: int, lv: int, terms, full: np.ndarray, last: np.ndarray,
                  tstride: np.ndarray) -> int:
    """Words level ``lv`` of mapping ``i`` fetches over the walk of the temporal loops above it (first tile
    included), ``reuse="exact"``; ``full``/``last`` ``(D,)`` its full and global-last tile extents,
    ``tstride`` ``(L, D)`` the temporal loops' strides (see the module docstring)."""
    tf, rt, order = nest.tf[i, :lv].tolist(), nest.rt[i, :lv].tolist(), nest.order[i, :lv].tolist()
    st = tstride[:lv].tolist()
    loops = tuple((d, tf[l][d], rt[l][d], st[l][d]) for l in range(lv) for d in order[l] if tf[l][d] > 1)
    return _walk(loops, tuple(tuple(tuple(x) for x in t) for t in terms), tuple(full.tolist()), tuple(last.tolist()))


@lru_cache(maxsize=65536)
def _walk(loops: tuple, terms: tuple, full: tuple, last: tuple) -> int:
    """:func:`residual_walk` over the loops with more than one iteration ``((dim, E, R, stride), ...)``."""
    D = len(full)
    full_l, last_l = list(full), list(last)
    m = len(loops)
    cnt = [1] * D
    before = []
    for d, e, r, _ in loops:
        before.append(list(cnt))
        cnt[d] = (cnt[d] - 1) * e + r
    first = [lst if c == 1 else f for c, lst, f in zip(cnt, last_l, full_l)]
    total = _size(terms, first)
    wrap_full, wrap_res, ones = [0] * D, [0] * D, [True] * D  # over the loops inside loop k (built inner to outer)
    for k in range(m - 1, -1, -1):
        dk, e, r, s = loops[k]
        if e > 1:
            total += _steps(terms, dk, e, r, s, before[k], full_l, last_l, wrap_full, wrap_res, ones)
        wrap_full[dk] += (e - 1) * s
        wrap_res[dk] += (r - 1) * s
        ones[dk] = ones[dk] and r == 1
    return total


def _steps(terms, dk, e, r, s, cnt, full, last, wrap_full, wrap_res, ones) -> int:
    """Words fetched over every step where loop ``k`` (dimension ``dk``) advances, summed over its classes."""
    D = len(full)
    varying = [d for d in range(D) if d != dk and (last[d] != full[d] or wrap_res[d] != wrap_full[d]) and cnt[d] > 1]
    fixed_weight = 1
    for d in range(D):
        if d != dk and d not in varying:
            fixed_weight *= cnt[d]
    # dk's classes: (weight, lands in dk's global last)
    if last[dk] != full[dk] and ones[dk]:
        dk_classes = [((cnt[dk] - 1) * (e - 1) + max(0, r - 2), False), (1 if r >= 2 else 0, True)]
    else:
        dk_classes = [((cnt[dk] - 1) * (e - 1) + (r - 1), False)]
    total = 0
    for flags in itertools.product((False, True), repeat=len(varying)):
        w = fixed_weight
        for d, a in zip(varying, flags):
            w *= 1 if a else cnt[d] - 1
        if w == 0:
            continue
        prev, new, shift = list(full), list(full), [-wf for wf in wrap_full]
        for d, a in zip(varying, flags):
            if a:
                prev[d] = last[d]
                new[d] = last[d] if ones[d] else full[d]
                shift[d] = -wrap_res[d]
        # a dimension whose digits above k cannot be off the residual ones (cnt == 1) is always at its last
        for d in range(D):
            if d != dk and cnt[d] == 1:
                prev[d] = last[d]
                new[d] = last[d] if ones[d] else full[d]
                shift[d] = -wrap_res[d]
        shift[dk] = s - wrap_full[dk]
        for wk, at_last in dk_classes:
            if wk == 0:
                continue
            nw = list(new)
            nw[dk] = last[dk] if at_last else full[dk]
            total += w * wk * (_size(terms, nw) - _overlap(terms, prev, nw, shift))
    return total

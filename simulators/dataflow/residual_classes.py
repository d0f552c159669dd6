"""Residual factors that make instances differ: spatial residuals and residuals inside a spatial loop.

Semantics
---------
A dimension's loops (temporal and spatial, outer to inner; a level's spatial
loop of a dimension is the X and Y loops together, X outer) with ends ``E_k``
and residual ends ``R_k`` run the digit tuples lexicographically at most
``(R_k - 1)_k`` (:mod:`.residual`).  A spatial loop ``M=4,3`` thus uses 3 of
its 4 instances in the dimension's global last iteration.  Fixing the digits
of the spatial loops above a level (one *instance*) leaves, per dimension,
the tuples of the other loops lexicographically at most some tuple ``r`` (or
none: the instance is idle): :func:`prefix_bound`.  So every instance runs a
temporal residual nest of its own, which :mod:`.residual`'s closed forms
count; instances with the same ``r`` per dimension form a *class*.

A spatial loop *splits* its dimension when it is in use (end > 1) and it or a
loop of the dimension inside it has a residual: its digits then give different
``r``.  Modelled: at most one splitting spatial loop per dimension, and a
split dimension indexes its data spaces alone (not in a sliding window such
as ``P+R``); other mappings get one line (:func:`unsupported_reason`).

Counts when instances differ
----------------------------
* per instance (``reads``, ``fills``, ``updates``, ``capacity``, ``partition``,
  ``macs_per_instance``): the *first* instance (every spatial index 0), which
  runs every iteration any instance runs (its ``r`` is the largest): its
  tiles are the largest (capacity), its MACs the most (compute cycles = the
  critical path) and bandwidth demand is its words over those cycles;
* ``instances``: the instances that do any work (leakage, utilization);
* energy: summed over instance classes (``class_counts``: class size x that
  class's per-instance counts, each rounded to vector accesses per instance).

Timeloop (``NestAnalysis::CollectWorkingSets``) instead averages each
instance's stats in floating point and multiplies back by the average number
of utilized instances (``InitNumSpatialElems``), and takes compute cycles as
the product of the loop ends (``max_temporal_iterations``); totals agree,
per-instance figures are means there and the first instance's here.

Multicast: at a step, children of one parent whose deltas are identical share
one access.  Children that differ in a split dimension which the data space
does not index receive identical deltas whenever both are active, and the
child with index 0 is active whenever any is, so a group of them costs the
first child's walk; children that differ in an indexed dimension hold
disjoint data.  Hence a parent's arrivals are, per class of the indexed split
dimensions, the class size times the class's walk, times the distinct child
offsets of the other loops (level by level, as for perfect nests).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from .residual import _size, _walk

if TYPE_CHECKING:  # pragma: no cover
    from .model import Nest

__all__ = ["prefix_bound", "split_rows", "split_positions", "unsupported_reason", "row_counts"]


def _loops(nest: "Nest", i: int, j: int) -> tuple[list[int], list[int]]:
    """Ends and residual ends of dimension ``j``'s loops of mapping ``i``, outer to inner: level ``l``'s
    temporal loop at position ``2l``, its spatial loop (X and Y together) at ``2l + 1``."""
    L = nest.tf.shape[1]
    sf = nest.sx[i, :, j] * nest.sy[i, :, j]
    rs = nest.rs[i, :, j] if nest.rs is not None else sf
    rt = nest.rt[i, :, j] if nest.rt is not None else nest.tf[i, :, j]
    ends, res = [], []
    for lv in range(L):
        ends += [int(nest.tf[i, lv, j]), int(sf[lv])]
        res += [int(rt[lv]), int(rs[lv])]
    return ends, res


def split_positions(ends: list[int], res: list[int]) -> list[int]:
    """Spatial positions (odd) in use whose loop or an inner loop of the dimension has a residual."""
    out = []
    for k in range(1, len(ends), 2):
        if ends[k] > 1 and any(res[m] != ends[m] for m in range(k, len(ends))):
            out.append(k)
    return out


def split_rows(nest: "Nest") -> np.ndarray:
    """Mappings where instances differ (a spatial loop splits some dimension)."""
    if nest.rt is None or nest.n == 0:
        return np.zeros(0, dtype=np.int64)
    sf = nest.sx * nest.sy
    rs = nest.rs if nest.rs is not None else sf
    n, L, D = sf.shape
    # residual at a level's temporal loop or its spatial loop, and the same at any deeper level
    res_here = (nest.rt != nest.tf) | (rs != sf)
    res_below = np.flip(np.cumsum(np.flip(res_here, axis=1), axis=1), axis=1) > 0  # at this level or deeper
    spatial_res = (rs != sf)
    deeper_t = np.zeros_like(res_below)
    deeper_t[:, :-1] = res_below[:, 1:]
    split = (sf > 1) & (spatial_res | deeper_t)
    return np.nonzero(np.any(split, axis=(1, 2)))[0]


def unsupported_reason(nest: "Nest", i: int, dims: list[str], multi_dims: set[int], level_names: list[str]) -> str:
    """Why mapping ``i`` is outside the class model (``""`` if it is inside): a dimension split by two
    spatial loops, or a split dimension that shares a data-space index with another dimension."""
    for j, d in enumerate(dims):
        pos = split_positions(*_loops(nest, i, j))
        if len(pos) > 1:
            where = " and ".join(level_names[k // 2] for k in pos)
            return (f"dimension {d!r} has residual loops inside spatial loops at two fan-outs ({where}); one "
                    "splitting fan-out per dimension is modelled")
        if pos and j in multi_dims:
            return (f"dimension {d!r}: a spatial loop with a residual inside or on it, but {d!r} shares a data "
                    "index with another dimension (a sliding window); not modelled")
    return ""


def prefix_bound(ends: list[int], res: list[int], fixed: dict[int, int]) -> Optional[dict[int, int]]:
    """The largest digits of the unfixed loops such that the whole tuple is at most ``(R_k - 1)_k``
    lexicographically (the tuples an instance with the ``fixed`` spatial digits runs are exactly those at
    most it); None when no tuple is (an idle instance)."""
    top = [r - 1 for r in res]
    free = [k for k in range(len(ends)) if k not in fixed]
    for k in range(len(ends)):
        if k in fixed and fixed[k] != top[k]:
            break
    else:
        return {m: top[m] for m in free}
    out = {m: (top[m] if m < k else ends[m] - 1) for m in free}
    if fixed[k] < top[k]:
        return out
    before = [m for m in free if m < k]
    for q in range(len(before) - 1, -1, -1):  # the predecessor of the tight prefix
        m = before[q]
        if top[m] > 0:
            out[m] = top[m] - 1
            for m2 in before[q + 1:]:
                out[m2] = ends[m2] - 1
            return out
    return None


def _count(ends: list[int], bound: dict[int, int], positions: list[int]) -> int:
    """Digit tuples of ``positions`` at most ``bound`` lexicographically (a mixed-radix value + 1)."""
    v = 0
    for m in positions:
        v = v * ends[m] + bound[m]
    return v + 1


class _Row:
    """One mapping's loops per dimension and the per-instance quantities of a level."""

    def __init__(self, nest: "Nest", i: int) -> None:
        self.nest, self.i = nest, i
        self.L, self.D = nest.tf.shape[1], nest.tf.shape[2]
        self.loops = [_loops(nest, i, j) for j in range(self.D)]
        self.stride = []
        for ends, _ in self.loops:
            s = [1] * len(ends)
            for k in range(len(ends) - 2, -1, -1):
                s[k] = s[k + 1] * ends[k + 1]
            self.stride.append(s)
        self.split = [split_positions(*lp) for lp in self.loops]

    def bounds(self, lv: int, digits: dict[int, int]) -> Optional[list[dict[int, int]]]:
        """Per dimension the bound of the loops left free when the spatial loops above level ``lv`` are
        fixed (at 0, or at ``digits[j]`` for dimension ``j``'s split loop); None if the instance idles."""
        out = []
        for j, (ends, res) in enumerate(self.loops):
            fixed = {k: 0 for k in range(1, 2 * lv, 2)}
            if self.split[j] and self.split[j][0] < 2 * lv:
                fixed[self.split[j][0]] = digits.get(j, 0)
            b = prefix_bound(ends, res, fixed)
            if b is None:
                return None
            out.append(b)
        return out

    def classes(self, lv: int, lo: int, dims: list[int], base: dict[int, int] | None = None
                ) -> list[tuple[int, dict[int, int]]]:
        """``(size, digits)`` per distinct class of busy instances of level ``lv`` over the split loops of
        ``dims`` at the fan-outs of levels ``lo..lv-1`` (``base``: the digits of the split loops above,
        other split loops at 0)."""
        out: dict[tuple, list] = {}
        choices = []
        for j in dims:
            k = self.split[j][0] if self.split[j] else None
            choices.append(range(self.loops[j][0][k]) if k is not None and lo * 2 < k < 2 * lv else range(1))
        for combo in np.ndindex(*[len(c) for c in choices]) if choices else [()]:
            digits = {**(base or {}), **{j: int(c) for j, c in zip(dims, combo)}}
            b = self.bounds(lv, digits)
            key = None if b is None else tuple(tuple(sorted(x.items())) for x in b)
            out.setdefault(key, [0, digits])[0] += 1
        return [(n, dg) for key, (n, dg) in out.items() if key is not None]

    def perfect_instances(self, lv: int) -> int:
        """Instances of level ``lv`` per class: the product of the ends of the spatial loops above it that do
        not split their dimension (their indices leave the work unchanged)."""
        out = 1
        for j, (ends, _) in enumerate(self.loops):
            for k in range(1, 2 * lv, 2):
                if k not in self.split[j]:
                    out *= ends[k]
        return out

    def walk(self, lv: int, b: list[dict[int, int]], terms) -> int:
        """Words level ``lv``'s instance with bounds ``b`` fetches over its tile walk."""
        order = self.nest.order[self.i]
        loops = []
        for l in range(lv):
            for j in order[l].tolist():
                e = self.loops[j][0][2 * l]
                if e > 1:
                    loops.append((j, e, b[j][2 * l] + 1, self.stride[j][2 * l]))
        full, last = self.extents(lv, b)
        return _walk(tuple(loops), tuple(tuple(tuple(x) for x in t) for t in terms), tuple(full), tuple(last))

    def extents(self, lv: int, b: list[dict[int, int]]) -> tuple[list[int], list[int]]:
        """Full tile extents of level ``lv`` and those of the instance's global last iteration."""
        full, last = [], []
        for j, (ends, _) in enumerate(self.loops):
            ks = range(2 * lv, len(ends))
            full.append(int(np.prod([ends[k] for k in ks])) if len(ks) else 1)
            last.append(1 + sum(b[j][k] * self.stride[j][k] for k in ks))
        return full, last

    def first_tile(self, lv: int, b: list[dict[int, int]]) -> list[int]:
        """Extents of the instance's first (largest) tile at level ``lv``."""
        full, last = self.extents(lv, b)
        out = []
        for j, (ends, _) in enumerate(self.loops):
            above = [k for k in range(0, 2 * lv, 2)]
            out.append(last[j] if _count(ends, b[j], above) == 1 else full[j])
        return out

    def touched(self, lv: int, b: list[dict[int, int]]) -> list[int]:
        """Indices per dimension the instance touches over the whole nest (its partition's extents)."""
        return [_count(ends, b[j], sorted(b[j])) for j, (ends, _) in enumerate(self.loops)]

    def macs(self, b: list[dict[int, int]]) -> int:
        out = 1
        for j, (ends, _) in enumerate(self.loops):
            out *= _count(ends, b[j], sorted(b[j]))
        return out


def row_counts(nest: "Nest", i: int, problem_terms: list, read_write: list[bool], keep: np.ndarray,
               distinct, capacity_words: list) -> dict:
    """Counts of mapping ``i`` (a split row): per level ``lv`` and data space ``s`` the first instance's
    ``reads``/``fills``/``updates``/``capacity``/``partition``, ``instances`` (busy ones), ``macs`` of the
    first MAC instance, ``mac_instances``, and ``classes[lv]`` = ``[(size, reads (S,), fills, updates)]``.
    ``distinct(terms, sf, lo, hi)`` counts the distinct child offsets of the perfect loops (model's rule).
    A mapping whose first instance's tiles overflow a level (``capacity_words``, None = unbounded) cannot
    run: only its ``capacity`` and ``instances`` are filled (the other counts stay 0), which saves the walks."""
    row = _Row(nest, i)
    L, D = row.L, row.D
    S = len(problem_terms)
    sf = (nest.sx[i:i + 1] * nest.sy[i:i + 1]).copy()
    first = {k: np.zeros((L, S), dtype=np.int64) for k in ("reads", "fills", "updates", "capacity", "partition")}
    instances = np.zeros(L, dtype=np.int64)
    classes: list[list] = [[] for _ in range(L)]
    for lv in range(L):
        instances[lv] = row.perfect_instances(lv) * sum(n for n, _ in row.classes(lv, -1, list(range(D))))
        b = row.bounds(lv, {})
        if b is not None:
            ext = row.first_tile(lv, b)
            for s, (_, terms) in enumerate(problem_terms):
                if keep[lv, s]:
                    first["capacity"][lv, s] = _size(terms, ext)
    if any(cap is not None and first["capacity"][lv].sum() > cap for lv, cap in enumerate(capacity_words)):
        return {**first, "instances": instances, "macs": 0, "mac_instances": 0, "classes": classes}
    zero = row.bounds(L, {})
    macs = row.macs(zero) if zero is not None else 0
    mac_instances = row.perfect_instances(L) * sum(n for n, _ in row.classes(L, -1, list(range(D))))
    for lv in range(L):
        same = row.perfect_instances(lv)
        parent_classes = [(n * same, dg) for n, dg in row.classes(lv, -1, list(range(D)))]
        for n_c, digits in parent_classes:
            b = row.bounds(lv, digits)
            is_first = all(v == 0 for v in digits.values())
            vals = np.zeros((3, S), dtype=np.int64)
            for s, (_, terms) in enumerate(problem_terms):
                if not keep[lv, s]:
                    continue
                child = next((c for c in range(lv + 1, L) if keep[c, s]), L)
                indexed = sorted({d for t in terms for d, _ in t})
                split_here = [j for j in indexed if row.split[j] and 2 * lv < row.split[j][0] < 2 * child]
                mod = sf.copy()
                for j in split_here:
                    mod[0, row.split[j][0] // 2, j] = 1
                dist = 1
                for t in terms:
                    for f in range(lv, min(child, L)):
                        dist *= int(distinct(t, mod, f, f + 1)[0])
                arrivals = 0
                for n_k, kd in row.classes(child, lv, split_here, digits):
                    cb = row.bounds(child, kd)
                    arrivals += n_k * (row.walk(child, cb, terms) if child < L else row.macs(cb))
                arrivals *= dist
                walk = row.walk(lv, b, terms) if lv > 0 else 0
                if read_write[s]:
                    part = _size(terms, row.touched(lv, b))
                    upd, rd, fl = arrivals, arrivals - part, (walk - part if lv > 0 else 0)
                else:
                    part, upd, rd, fl = _size(terms, row.touched(lv, b)), 0, arrivals, walk
                vals[:, s] = rd, fl, upd
                if is_first:
                    first["reads"][lv, s], first["fills"][lv, s], first["updates"][lv, s] = rd, fl, upd
                    first["partition"][lv, s] = part
            classes[lv].append((n_c, vals[0], vals[1], vals[2]))
    return {**first, "instances": instances, "macs": macs, "mac_instances": mac_instances, "classes": classes}

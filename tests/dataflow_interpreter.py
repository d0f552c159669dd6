"""A literal loop-nest interpreter for the dataflow model's tests (independent of the analytical code).

It expands a mapping into its explicit loop list, enumerates the iterations,
builds every tile as a Python set of data-space points, and counts each
level's traffic by set differences -- no closed forms:

* ``exact``: every step of the loops above a level (all iterations, in order);
  the level fetches ``tile_t - tile_(t-1)``.
* ``timeloop``: Timeloop's own procedure before its commit a12fff5, written from
  its source: tiles are bounding boxes of the projected points; each loop above
  the level runs iteration 0 and iteration 1, the latter weighted by ``n - 1``
  (temporal extrapolation); a per-level state machine (last tile, last
  translation) subtracts the last tile when the translation is unchanged or
  unknown and otherwise keeps the whole tile (``SaveAndSubtractIfSameStride``).

Child instances under one parent instance that receive an identical delta in
the same step share one parent access (multicast / spatial reduction), fan-out
level by fan-out level (:func:`distinct_arrivals`); the MACs read one word per
operation.  Outputs follow first-read elision: ``reads = updates - partition``,
``fills = drains - partition``; the partition is the set of words an instance
touches (``exact``) or Timeloop's chain of box sizes (``timeloop``: the outer
partition times the level's tile over the tile at the outer level's spatial
loops).  Container levels (dummy) hold nothing.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np


def loops_of(problem, arch, mapping):
    """Explicit loops outer to inner: (level, kind 't'|'s', dim, n, residual end); kind 's' loops of a
    level come after its temporal loops.  Also the index of each level's first loop."""
    loops, first = [], []
    for lv, lm in enumerate(mapping.levels):
        first.append(len(loops))
        order = list(lm.order) + []
        order = [d for d in problem.dims if d not in order] + order
        for d in order:
            n = int(lm.temporal.get(d, 1))
            loops.append((lv, "t", d, n, int((lm.residual or {}).get(d, n))))
        for fac in (lm.spatial_x or {}, lm.spatial_y or {}):
            for d in problem.dims:
                loops.append((lv, "s", d, int(fac.get(d, 1)), int(fac.get(d, 1))))
    first.append(len(loops))
    strides = []
    for i, loop in enumerate(loops):
        s = 1
        for other in loops[i + 1:]:
            if other[2] == loop[2]:
                s *= other[3]
        strides.append(s)
    return loops, first, strides


def tuples(loops, positions, fixed):
    """Index tuples of the loops at ``positions`` (outer to inner) given the outer indices ``fixed``,
    with Timeloop's residual rule: a loop runs its residual end when every loop of its dimension
    outside it is in its last iteration (index >= that loop's residual end - 1), else its full end."""
    def rec(k, vals):
        if k == len(positions):
            yield tuple(vals[p] for p in positions)
            return
        i = positions[k]
        last = all(vals.get(j, 0) >= loops[j][4] - 1 for j in range(i) if loops[j][2] == loops[i][2])
        for v in range(loops[i][4] if last else loops[i][3]):
            vals[i] = v
            yield from rec(k + 1, vals)
        vals.pop(i, None)

    yield from rec(0, dict(fixed))


def _points(problem, ds, loops, strides, fixed, lo):
    """Data-space points of the sub-nest from loop ``lo`` inwards, outer loop indices ``fixed``."""
    base = {d: 0 for d in problem.dims}
    for i, v in fixed.items():
        base[loops[i][2]] += v * strides[i]
    inner = [i for i in range(lo, len(loops)) if loops[i][3] > 1]
    pts = set()
    for combo in tuples(loops, inner, fixed):
        idx = dict(base)
        for i, v in zip(inner, combo):
            idx[loops[i][2]] += v * strides[i]
        pts.add(tuple(sum(c * idx[d] for d, c in dd) for dd in ds.projection))
    return pts


def _box(pts):
    arr = np.array(sorted(pts))
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    return set(itertools.product(*[range(a, b + 1) for a, b in zip(lo, hi)])), tuple(int(x) for x in lo)


def walk(problem, ds, loops, strides, lo, spatial_fixed, mode):
    """Steps of the tile walk of the sub-nest starting at loop ``lo``: list of (weight, delta set)."""
    time_loops = [i for i in range(lo) if loops[i][1] == "t"]
    steps = []
    if mode == "exact":
        prev = None
        for combo in tuples(loops, time_loops, spatial_fixed):
            fixed = {**spatial_fixed, **dict(zip(time_loops, combo))}
            cur = _points(problem, ds, loops, strides, fixed, lo)
            steps.append((1, frozenset(cur - prev if prev is not None else cur)))
            prev = cur
        return steps
    state = {"prev": None, "prev_min": None, "tr": None}

    def visit(fixed, weight):
        cur, cmin = _box(_points(problem, ds, loops, strides, fixed, lo))
        if state["prev"] is None:
            tr = None
        else:
            tr = tuple(a - b for a, b in zip(cmin, state["prev_min"]))
        if state["tr"] is None:
            delta = cur - state["prev"] if state["prev"] is not None else cur
            state["tr"] = tr
        elif tr == state["tr"]:
            delta = cur - state["prev"]
        else:
            delta = cur
            state["tr"] = None
        state["prev"], state["prev_min"] = cur, cmin
        steps.append((weight, frozenset(delta)))

    def rec(k, fixed, weight):
        if k == len(time_loops):
            visit({**spatial_fixed, **fixed}, weight)
            return
        i = time_loops[k]
        n = loops[i][3]
        rec(k + 1, {**fixed, i: 0}, weight)
        if n >= 2:
            rec(k + 1, {**fixed, i: 1}, weight * (n - 1))

    rec(0, {}, 1)
    return steps


def mac_walk(problem, ds, loops, strides, spatial_fixed, mode):
    """One word per MAC per step (no reuse at the MACs); ``timeloop`` walks Timeloop's weighted tree."""
    time_loops = [i for i in range(len(loops)) if loops[i][1] == "t"]
    if mode == "exact":
        choices = [[(v, 1) for v in range(loops[i][3])] for i in time_loops]
        if any(loop[3] != loop[4] for loop in loops):
            return [(1, frozenset(_points(problem, ds, loops, strides, {**spatial_fixed, **dict(zip(time_loops, c))},
                                          len(loops)))) for c in tuples(loops, time_loops, spatial_fixed)]
    else:
        choices = [[(0, 1)] + ([(1, loops[i][3] - 1)] if loops[i][3] >= 2 else []) for i in time_loops]
    steps = []
    for combo in itertools.product(*choices):
        fixed = {**spatial_fixed, **{i: v for i, (v, _) in zip(time_loops, combo)}}
        w = int(np.prod([m for _, m in combo])) if combo else 1
        steps.append((w, frozenset(_points(problem, ds, loops, strides, fixed, len(loops)))))
    return steps


def distinct_arrivals(deltas, groups):
    """Words the parent sends for one step: children are index tuples over the spatial loops between
    the parent and the child level, ``groups`` the positions of each fan-out level's loops (outer
    first).  Level by level: children of the outer fan-out whose whole subtrees receive identical
    data share one access; inside each distinct subtree the next fan-out is counted the same way."""
    if not groups:
        (only,) = deltas.values()
        return len(only)
    here = groups[0]
    subtrees = {}
    for combo, d in deltas.items():
        subtrees.setdefault(tuple(combo[i] for i in here), {})[combo] = d
    seen, total = set(), 0
    for sub in subtrees.values():
        key = tuple(sorted((tuple(v for i, v in enumerate(c) if i not in here), d) for c, d in sub.items()))
        if key not in seen:
            seen.add(key)
            total += distinct_arrivals(sub, groups[1:])
    return total


def interpret(problem, arch, mapping, mode):
    """Per-instance counts ``{(level name, data space): {reads, fills, updates, capacity, instances}}``."""
    loops, first, strides = loops_of(problem, arch, mapping)
    if mode != "exact" and any(loop[3] != loop[4] for loop in loops):
        raise NotImplementedError("residual loops are interpreted in exact mode only")
    L = len(arch.levels)
    D = len(problem.dims)
    out = {}
    for ds in problem.dataspaces:
        kept = [lv for lv in range(L) if lv == 0 or not arch.levels[lv].is_dummy and (
            mapping.levels[lv].keep is None or ds.name in mapping.levels[lv].keep)]
        box = lambda lo: len(_box(_points(problem, ds, loops, strides, {i: 0 for i in range(lo)}, lo))[0])
        chain = [box(0)]  # Timeloop's partition chain over every level (timeloop mode)
        for lv in range(1, L):
            chain.append(chain[-1] * box(first[lv]) // box(first[lv - 1] + D))
        for lv in kept:
            above_s = {i: 0 for i in range(first[lv]) if loops[i][1] == "s"}
            own = walk(problem, ds, loops, strides, first[lv], above_s, mode)
            tile = len(_points(problem, ds, loops, strides, dict(above_s), first[lv])) if mode == "exact" else \
                len(_box(_points(problem, ds, loops, strides, dict(above_s), first[lv]))[0])
            drains = sum(w * len(d) for w, d in own)
            child = next((c for c in kept if c > lv), L)
            between = [i for i in range(first[lv], first[child]) if loops[i][1] == "s" and loops[i][3] > 1]
            groups = [[k for k, i in enumerate(between) if loops[i][0] == f] for f in range(lv, child)]
            groups = [g for g in groups if g]
            per_child = {}
            for combo in itertools.product(*[range(loops[i][3]) for i in between]):
                fixed = {**above_s, **{i: 0 for i in range(first[lv], first[child]) if loops[i][1] == "s"}}
                fixed.update(zip(between, combo))
                per_child[combo] = walk(problem, ds, loops, strides, first[child], fixed, mode) if child < L \
                    else mac_walk(problem, ds, loops, strides, fixed, mode)
            combos = list(per_child)
            arrivals = 0
            for step in zip(*per_child.values()):
                arrivals += step[0][0] * distinct_arrivals({c: d for c, (_, d) in zip(combos, step)}, groups)
            instances = int(np.prod([loops[i][3] for i in range(first[lv]) if loops[i][1] == "s"]))
            if ds.read_write:
                if mode == "exact":
                    time_all = [i for i in range(first[lv]) if loops[i][1] == "t"]
                    part = set()
                    for combo in tuples(loops, time_all, above_s):
                        part |= _points(problem, ds, loops, strides, {**above_s, **dict(zip(time_all, combo))},
                                        first[lv])
                    p = len(part)
                else:
                    p = chain[lv]
                row = {"reads": arrivals - p, "fills": drains - p if lv > 0 else 0, "updates": arrivals}
            else:
                row = {"reads": arrivals, "fills": drains if lv > 0 else 0, "updates": 0}
            row.update(capacity=tile, instances=instances)
            out[(arch.levels[lv].name, ds.name)] = row
    return out


def throttled_cycles(problem, arch, mapping, counts):
    """Cycles under Timeloop's bandwidth throttling, from interpreted per-instance counts: the compute
    cycles are the temporal iterations one instance runs (the product of every temporal factor when
    there are no residuals); each level with a bandwidth slows the nest by
    ``bandwidth / demand`` where the per-instance demand is words per compute cycle (reads against the
    read bandwidth, fills + updates against the write bandwidth, all against the shared one)."""
    loops, _, _ = loops_of(problem, arch, mapping)
    time_loops = [i for i, loop in enumerate(loops) if loop[1] == "t" and loop[3] > 1]
    spatial = {i: 0 for i, loop in enumerate(loops) if loop[1] == "s"}
    compute = sum(1 for _ in tuples(loops, time_loops, spatial))
    slowest = Fraction(1)
    for level in arch.levels:
        reads = sum(r["reads"] for (lv, _), r in counts.items() if lv == level.name)
        writes = sum(r["fills"] + r["updates"] for (lv, _), r in counts.items() if lv == level.name)
        for bw, words in ((level.read_bw, reads), (level.write_bw, writes), (level.shared_bw, reads + writes)):
            if bw is not None and Fraction(words, compute) > Fraction(bw):
                slowest = min(slowest, Fraction(bw) / Fraction(words, compute))
    return math.ceil(compute / slowest), float(slowest)

"""Scratchpad addresses for a plan whose residency is already chosen.

Each maximal run of steps during which a tensor stays resident is one
*interval*; an interval needs one offset (tensors never move while resident;
a reloaded tensor may land elsewhere).  Intervals alive at the same step must
not overlap in address.  This is dynamic storage allocation:

1. greedy heuristics (:func:`best_fit`): several interval orders x
   first-fit / best-fit holes;
2. if that fails, an address ILP: integer offsets, one order binary per pair
   of intervals alive together, big-M non-overlap;
3. if no placement exists, the joint residency + address model
   (:func:`.ilp_free.solve_free_order` with the order pinned and offsets on).
"""
from __future__ import annotations

import math

import pulp

from .graph import Graph
from .plan import Plan, plan_from_residency
from .solver import new_var, solve_model

__all__ = ["intervals", "best_fit", "place_ilp", "place_plan"]

Interval = tuple[str, int, int]  # tensor, first step, last step (inclusive)


def intervals(plan: Plan) -> list[Interval]:
    """Maximal residency runs of every tensor in ``plan``."""
    out: list[Interval] = []
    open_: dict[str, int] = {}
    n = len(plan.resident)
    for t in range(n + 1):
        cur = plan.resident[t] if t < n else {}
        for x in list(open_):
            if x not in cur:
                out.append((x, open_.pop(x), t - 1))
        for x in cur:
            open_.setdefault(x, t)
    return out


def _overlap(a: Interval, b: Interval) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


_ORDERS = {
    "size": lambda g, v: (-g.size(v[0]), v[1], v[0]),
    "start": lambda g, v: (v[1], -g.size(v[0]), v[0]),
    "area": lambda g, v: (-g.size(v[0]) * (v[2] - v[1] + 1), v[1], v[0]),
    "length": lambda g, v: (-(v[2] - v[1]), -g.size(v[0]), v[0]),
}


def _greedy(graph: Graph, ivs: list[Interval], capacity: int, key, tightest: bool) -> dict[Interval, int] | None:
    placed: dict[Interval, int] = {}
    for iv in sorted(ivs, key=lambda v: key(graph, v)):
        size = graph.size(iv[0])
        busy = sorted((placed[p], placed[p] + graph.size(p[0])) for p in placed if _overlap(p, iv))
        holes, pos = [], 0
        for lo, hi in busy:
            if lo - pos >= size:
                holes.append((lo - pos, pos))
            pos = max(pos, hi)
        if capacity - pos >= size:
            holes.append((capacity - pos, pos))
        if not holes:
            return None
        placed[iv] = min(holes)[1] if tightest else holes[0][1]
    return placed


def best_fit(graph: Graph, ivs: list[Interval], capacity: int) -> dict[Interval, int] | None:
    """Greedy placement (``None`` if every variant fails): intervals sorted by
    size, start, area or length, each at the lowest free address (first fit)
    or in the tightest hole (best fit) over its whole lifetime."""
    for key in _ORDERS.values():
        for tightest in (False, True):
            where = _greedy(graph, ivs, capacity, key, tightest)
            if where is not None:
                return where
    return None


def place_ilp(graph: Graph, ivs: list[Interval], capacity: int, *, solver: str = "auto",
              time_limit_s: float = 10.0) -> dict[Interval, int] | None:
    """Exact feasibility of a placement (``None``: none exists or none found in time)."""
    prob = pulp.LpProblem("placement", pulp.LpMinimize)
    off = {iv: new_var(prob, f"o{k}", 0, capacity - graph.size(iv[0]), cat="Integer")
           for k, iv in enumerate(ivs)}
    prob += pulp.LpAffineExpression(0)
    for i, a in enumerate(ivs):
        for j in range(i + 1, len(ivs)):
            b = ivs[j]
            if _overlap(a, b):
                z = new_var(prob, f"z{i}_{j}", cat="Binary")
                prob += off[a] + graph.size(a[0]) <= off[b] + capacity * (1 - z)
                prob += off[b] + graph.size(b[0]) <= off[a] + capacity * z
    out = solve_model(prob, solver=solver, time_limit_s=time_limit_s)
    if not out.has_solution:
        return None
    return {iv: int(round(v.varValue)) for iv, v in off.items()}


def apply_placement(graph: Graph, plan: Plan, where: dict[Interval, int]) -> Plan:
    """Copy of ``plan`` with the interval offsets ``where`` written into its resident sets."""
    res = [dict(r) for r in plan.resident]
    for (x, a, b), o in where.items():
        for t in range(a, b + 1):
            res[t][x] = o
    out = plan_from_residency(graph, plan.order, res, method=plan.method, status=plan.status,
                              bound=plan.bound, solve_time_s=plan.solve_time_s, solver=plan.solver)
    out.info = dict(plan.info)
    return out


def place_plan(graph: Graph, plan: Plan, capacity: int, *, solver: str = "auto",
               time_limit_s: float = 10.0) -> Plan:
    """``plan`` with offsets for every resident tensor (see the module docstring).

    Keeps the plan's cost when a placement exists; otherwise returns the joint
    model's plan (status reflects that solve; bound stays the capacity bound)."""
    ivs = intervals(plan)
    where = best_fit(graph, ivs, capacity)
    how = "best_fit"
    if where is None:
        where, how = place_ilp(graph, ivs, capacity, solver=solver, time_limit_s=time_limit_s), "ilp"
    if where is not None:
        out = apply_placement(graph, plan, where)
        out.info["placement"] = how
        return out
    from .baselines import PlacementError, first_fit
    from .ilp_free import solve_free_order

    try:
        warm = first_fit(graph, plan.order, capacity)
    except PlacementError:
        warm = False
    joint = solve_free_order(graph, capacity, offsets=True, pin_order=plan.order, warm=warm, solver=solver,
                             time_limit_s=time_limit_s)
    if not math.isnan(plan.bound):
        joint.bound = max(joint.bound, plan.bound) if not math.isnan(joint.bound) else plan.bound
    joint.info["placement"] = "joint"
    return joint

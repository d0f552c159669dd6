"""Formulations (1) and (2): fixed operator order, exact replacement.

(1) *Capacity only*, formulated per reuse gap.  For a tensor used at steps
``u_1 < u_2 < ... < u_k`` (an activation's first use is its producer), each
gap ``(u_j, u_{j+1})`` with at least one step in between gets one binary
``keep``: keep the tensor resident across the gap, or drop it after ``u_j``
and reload it just before ``u_{j+1}``.  Loading just in time and dropping
right after a use is without loss of generality (earlier loads and later drops
only occupy space), so this model is exact for the execution model of
:mod:`.plan`.  Cost: ``bytes * (1 - keep)`` per gap, plus one write-back of
``bytes`` for an activation dropped at least once.  Capacity: at each step,
the operator's working set plus the kept tensors spanning it fit.

(2) *With offsets*: residency from (1), then addresses for each residency
interval (:mod:`.placement`: best-fit, then an address ILP).  The capacity
optimum is a lower bound for (2), so a successful placement proves
optimality.  If no placement is found (fragmentation), the joint model of
:mod:`.ilp_free` with the order pinned solves residency and addresses
together; if that finds nothing within its node budget, a checked first-fit
placement is the fallback (``info["placement"] == "fallback"``).

This follows the per-tensor create/preserve/spill/retrieve view of COSMA
(Li, Gupta, Malik, arXiv:2311.18246) but with one variable per reuse gap,
which makes the fixed-order problem solve in well under a second.
"""
from __future__ import annotations

import math
from typing import Sequence

import pulp

from .baselines import belady, check_working_sets
from .checker import PlanError, check_plan
from .graph import Graph
from .limits import SolveContext
from .plan import Plan, plan_from_residency
from .solver import new_var, solve_model

__all__ = ["reuse_gaps", "solve_fixed_order"]


def reuse_gaps(graph: Graph, order: Sequence[int]) -> list[tuple[str, int, int]]:
    """``(tensor, a, b)`` for consecutive uses ``a < b`` with ``b - a >= 2``."""
    out = []
    for x, u in graph.uses(order).items():
        out.extend((x, a, b) for a, b in zip(u, u[1:]) if b - a >= 2)
    return out


def _residency(graph: Graph, order: Sequence[int], kept: Sequence[tuple[str, int, int]]) -> list[dict]:
    res: list[dict[str, int | None]] = [dict.fromkeys(graph.ops[op].tensors) for op in order]
    for x, a, b in kept:
        for t in range(a + 1, b):
            res[t][x] = None
    return res


def solve_fixed_order(graph: Graph, capacity: int, order: Sequence[int] | None = None, *,
                      offsets: bool = False, ctx: SolveContext | None = None) -> Plan:
    """Exact replacement for a fixed ``order`` (default: the graph's) in ``capacity`` bytes.

    Returns a :class:`Plan` with ``status`` optimal / feasible / unsolved (then
    the Belady plan, warm-started into the solver, is returned) and ``bound``.
    ``ctx``: solver, work budget and safety net (default: :class:`~.limits.SolveContext`).
    Raises :class:`~.baselines.InfeasibleError` naming an operator whose
    working set does not fit."""
    ctx = SolveContext() if ctx is None else ctx
    order = list(graph.default_order() if order is None else order)
    if not graph.is_topological(order):
        raise ValueError("order is not a topological order of the graph")
    check_working_sets(graph, capacity)
    warm = belady(graph, order, capacity)
    gaps = reuse_gaps(graph, order)
    base = [graph.working_set(op) for op in order]
    prob = pulp.LpProblem("fixed_order", pulp.LpMinimize)
    keep: dict[int, pulp.LpVariable] = {}
    span: list[list[int]] = [[] for _ in order]
    for g, (x, a, b) in enumerate(gaps):
        fits = all(base[t] + graph.size(x) <= capacity for t in range(a + 1, b))
        keep[g] = new_var(prob, f"k{g}", 0, 1 if fits else 0, cat="Binary")
        for t in range(a + 1, b):
            span[t].append(g)
    wb = {x: new_var(prob, f"w{i}", 0, 1) for i, x in enumerate(dict.fromkeys(x for x, _, _ in gaps))
          if not graph.tensors[x].offchip}
    obj = []
    for g, (x, _, _) in enumerate(gaps):
        obj.append(graph.size(x) * (1 - keep[g]))
        if x in wb:
            prob += wb[x] >= 1 - keep[g]
    obj.extend(graph.size(x) * w for x, w in wb.items())
    prob += pulp.lpSum(obj) if obj else pulp.LpAffineExpression(0)
    for t, gs in enumerate(span):
        if gs and base[t] + sum(graph.size(gaps[g][0]) for g in gs) > capacity:
            prob += pulp.lpSum(graph.size(gaps[g][0]) * keep[g] for g in gs) <= capacity - base[t], f"cap{t}"
    # warm start from Belady: a gap is kept iff the tensor stays resident throughout it
    for g, (x, a, b) in enumerate(gaps):
        kept = all(x in warm.resident[t] for t in range(a + 1, b))
        keep[g].setInitialValue(1 if kept else 0)
    for x, w in wb.items():
        w.setInitialValue(1 if any(keep[g].varValue < 0.5 for g, gg in enumerate(gaps) if gg[0] == x) else 0)
    if not keep:
        plan = plan_from_residency(graph, order, _residency(graph, order, []), method="ilp_fixed_order",
                                   status="optimal", bound=0.0, solver="none")
    else:
        out = solve_model(prob, ctx, warm_start=True, what="fixed-order model")
        plan = None
        if out.has_solution:
            kept = [gaps[g] for g, v in keep.items() if (v.varValue or 0) > 0.5]
            plan = plan_from_residency(graph, order, _residency(graph, order, kept), method="ilp_fixed_order",
                                       status=out.status, bound=out.bound, solve_time_s=out.time_s,
                                       solver=out.solver)
            try:  # the solver's point within its tolerances, rounded: re-check before trusting it
                check_plan(graph, plan, capacity)
            except PlanError:
                plan = None
        if plan is None:
            warm.method, warm.status, warm.bound = "ilp_fixed_order", "unsolved", out.bound
            warm.solve_time_s, warm.solver = out.time_s, out.solver
            plan = warm
        if plan.noncompulsory_bytes > warm.noncompulsory_bytes:  # a gap > 0 or a node-limited solve
            bound = plan.bound
            plan = warm
            plan.method, plan.status, plan.bound, plan.solver = "ilp_fixed_order", "feasible", bound, out.solver
    if offsets:
        from .placement import place_plan

        plan = place_plan(graph, plan, capacity, ctx)
        plan.method = "ilp_fixed_order_offsets"
    if plan.status == "optimal" and math.isnan(plan.bound):
        plan.bound = float(plan.noncompulsory_bytes)
    return plan

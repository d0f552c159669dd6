"""Windowed re-scheduling: free-order search for graphs too large for the exact model.

Start from the exact fixed-order plan of the best cheap heuristic order
(:func:`.orders.best_start`: the default order, greedy minimum-live-bytes
and depth-first list schedules), so the result is never worse than the
fixed-order optimum on the default order.  Then slide a window of
``window_ops`` consecutive positions over the current order; for each window:

1. *re-order locally*: the operators inside the window are re-scheduled by
   the exact free-order model (:func:`.ilp_free.solve_free_order`) on the
   window's sub-graph (:meth:`~.graph.Graph.subgraph`: tensors from outside
   become inputs, tensors used after it become outputs), in the capacity
   left by the tensors the current plan keeps resident across the whole
   window without using them, warm-started from the window's current
   order.  Two local models are tried: the plain sub-graph, then (if that
   did not help) one with a pinned *sink* operator at the end of the window
   that reads every tensor used again after it, so leaving the window with
   those tensors resident is part of the local problem.  Any topological order of a window, between
   the fixed prefix and suffix, is a topological order of the whole graph.
2. *replace globally, exactly*: the whole new order gets its optimal
   replacement from the fixed-order solver (:func:`.ilp_fixed.solve_fixed_order`);
   the candidate is kept only if its exact cost is lower.

The window grid starts at a seeded random offset on each pass; a pass that
improves nothing doubles the window (up to ``max_window_ops``); after
``patience`` passes at that size without an improvement the search ends
(between them it starts over at ``window_ops``).
*Deterministic*: the budget is counted (:mod:`.limits`): no window is
started once the search's solver calls have used ``budget.search_iterations``
simplex iterations, each local model is limited to ``budget.window_nodes``
branch-and-bound nodes and each whole-graph solve to ``budget.nodes``; for a
given ``seed`` the same windows are tried in the same order, so the plan depends on the design only, never on the machine's speed
or load (``info["windows_cut"]`` counts window models that found no plan or
candidate orders whose replacement was not proven optimal).

Lower bound: graphs with at most ``exact_max_ops`` operators are first
given to the exact free-order model; its bound (proven optimum, or the
solver's dual bound at its node limit) is reported, so ``optimality_gap`` is
meaningful and the status is "optimal" only if that bound proves the plan;
for larger graphs no bound is known (NaN) unless the plan has no
non-compulsory traffic.

Idea after COSMA's divide-and-conquer (Li, Gupta, Malik, arXiv:2311.18246,
Sec. V), with the exact fixed-order solver kept global instead of stitching
independently solved blocks.
"""
from __future__ import annotations

import math
import random

from .baselines import InfeasibleError, check_working_sets
from .graph import Graph, Op, Tensor
from .ilp_fixed import solve_fixed_order
from .ilp_free import solve_free_order
from .limits import SolveContext
from .orders import best_start
from .plan import Plan

__all__ = ["windowed_search", "improve_window"]


def windowed_search(graph: Graph, capacity: int, *, window_ops: int = 16, max_window_ops: int = 24,
                    seed: int = 0, exact_max_ops: int = 16, patience: int = 2,
                    ctx: SolveContext | None = None) -> Plan:
    """Best schedule + replacement found within the context's work budget (see the module docstring).

    ``window_ops``: first window size (operators); ``max_window_ops``: the
    largest; ``patience``: passes at the largest size without an improvement
    before the search ends (after each, it starts over at ``window_ops``);
    ``exact_max_ops``: graphs this small go to the exact free-order model
    first.  Raises :class:`~.baselines.InfeasibleError` if an
    operator's working set does not fit."""
    ctx = SolveContext() if ctx is None else ctx
    check_working_sets(graph, capacity)
    n = graph.n_ops
    spent_before = ctx.iterations
    plan = best_start(graph, capacity, ctx)
    start, start_order = plan.info["default_order_bytes"], plan.info.get("start_order", "")
    bound = math.nan
    if n <= exact_max_ops and plan.noncompulsory_bytes > 0:
        exact = solve_free_order(graph, capacity, warm=plan, ctx=ctx)
        bound = exact.bound
        if exact.noncompulsory_bytes <= plan.noncompulsory_bytes:
            plan = exact
    rng = random.Random(seed)
    trace = [(ctx.iterations - spent_before, plan.noncompulsory_bytes)]  # (simplex iterations, bytes) at improvements
    size, solved, improved, cut = min(window_ops, n), 0, 0, 0
    passes = stalls = 0
    stop = plan.status == "optimal" and plan.method.startswith("ilp_free_order")
    while not stop and plan.noncompulsory_bytes > 0 and size >= 2:
        passes += 1
        step = max(1, size // 2)
        offset = rng.randrange(step)
        windows = [(a, min(n, a + size)) for a in range(offset - step if offset else 0, n - 1, step)]
        windows = [(max(0, a), b) for a, b in windows if b - max(0, a) >= 2]
        before = plan.noncompulsory_bytes
        for a, b in windows:
            if plan.noncompulsory_bytes == 0 or ctx.iterations - spent_before >= ctx.budget.search_iterations:
                stop = True
                break
            solved += 1
            plan, better, missed = improve_window(graph, capacity, plan, a, b, ctx)
            improved, cut = improved + better, cut + missed
            if better:
                trace.append((ctx.iterations - spent_before, plan.noncompulsory_bytes))
        if stop:
            break
        if plan.noncompulsory_bytes < before:
            stalls = 0
        elif size < min(n, max_window_ops):  # stalled: widen the windows
            size = min(n, max_window_ops, 2 * size)
        else:  # stalled at the widest windows: start over small, on a new random grid
            stalls += 1
            if stalls >= patience:
                break
            size = min(window_ops, n)
    plan.info = dict(plan.info, windows=solved, improvements=improved, windows_cut=cut, passes=passes,
                     default_order_bytes=start, last_window_ops=size, seed=seed, trace=trace,
                     start_order=start_order,
                     iterations=ctx.iterations - spent_before)
    if not plan.method.startswith("ilp_free_order") or plan.status != "optimal":
        plan.method, plan.status = "windowed_search", "heuristic"
    plan.bound = 0.0 if plan.noncompulsory_bytes == 0 else bound
    if plan.noncompulsory_bytes == 0 or (not math.isnan(bound) and plan.noncompulsory_bytes - bound < 0.5):
        plan.status = "optimal"  # proven by the exact model's bound (constant included, see .solver)
    return plan


def improve_window(graph: Graph, capacity: int, plan: Plan, a: int, b: int,
                   ctx: SolveContext) -> tuple[Plan, bool, int]:
    """One window step: re-order positions ``a..b-1`` of ``plan`` locally (plain
    sub-graph, then with the end-of-window sink), re-solve the whole order's
    replacement exactly, keep the first candidate that lowers the traffic.

    Returns ``(plan, improved, cut)``; ``cut`` counts local models without a
    plan and candidate replacements not proven optimal."""
    ctx.check_deadline("window search")
    tried: list[list[int]] = []
    cut = 0
    for sink in (False, True):
        order = _reorder_window(graph, capacity, plan, a, b, ctx, sink=sink)
        if order is None:
            cut += 1
            continue
        if order == plan.order or order in tried:
            continue
        tried.append(order)
        cand = solve_fixed_order(graph, capacity, order, ctx=ctx)
        if cand.status != "optimal":
            cut += 1
        if cand.noncompulsory_bytes < plan.noncompulsory_bytes:
            return cand, True, cut
    return plan, False, cut


def _reorder_window(graph: Graph, capacity: int, plan: Plan, a: int, b: int, ctx: SolveContext,
                    sink: bool = True) -> list[int] | None:
    """The plan's order with positions ``a..b-1`` re-ordered by the exact
    free-order model of the window's sub-graph (at most ``window_nodes``
    nodes); None if that model found nothing (or the window does not fit next
    to what the plan keeps).

    With ``sink``, the sub-graph ends with a pinned *sink* operator that
    reads every tensor the window touches and the rest of the run uses again,
    so the local model pays for leaving the window with them resident (as
    the current order does) instead of treating them as stored and gone."""
    ops = plan.order[a:b]
    sub = graph.subgraph(ops)
    touched = set(sub.tensors)
    after = {x for op in plan.order[b:] for x in graph.ops[op].tensors}
    background = set.intersection(*(set(plan.resident[t]) for t in range(a, b))) - touched
    room = capacity - sum(graph.size(x) for x in background)
    outgoing = tuple(x for x in sub.tensors if x in after)
    pin = None
    if sink and outgoing and sum(graph.size(x) for x in outgoing) + 1 <= room:
        sink = Op("__sink__", outgoing, ("__sink__.out",))
        sub = Graph.build(sub.name, list(sub.tensors.values()) + [Tensor("__sink__.out", 1, "activation")],
                          sub.ops + [sink])
        pin = list(range(sub.n_ops))
    try:
        local = solve_free_order(sub, room, pin_order=pin, free_window=None if pin is None else (0, len(ops)),
                                 ctx=ctx, nodes=ctx.budget.window_nodes)  # MIP start: the window's current order
    except InfeasibleError:  # the window's working sets do not fit next to the background
        return None  # (PlacementError, no plan from the solver, is an InfeasibleError too)
    if local.status not in ("optimal", "feasible"):
        return None
    return plan.order[:a] + [ops[i] for i in local.order if i < len(ops)] + plan.order[b:]

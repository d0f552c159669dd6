"""Windowed re-scheduling: free-order search for graphs too large for the exact model.

Start from the exact fixed-order plan on the default order (so the result is
never worse than the fixed-order optimum).  Then slide a window of
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
improves nothing doubles the window (up to ``max_window_ops``).  *Anytime*:
the best plan so far is returned when ``time_limit_s`` runs out.
*Deterministic*: for a given ``seed``, the same windows are tried in the same
order, so the result is reproducible whenever neither the time limit nor a
solver time limit cuts the search (``max_windows`` gives a budget that does
not depend on machine speed; ``info["windows_cut"]`` counts solves stopped
by their time limit or without a plan).

Lower bound: graphs with at most ``exact_max_ops`` operators are first
given to the exact free-order model; its bound (proven optimum, or the
solver's dual bound if it timed out) is reported, so ``optimality_gap`` is
meaningful; for larger graphs no bound is known (NaN) unless the plan has no
non-compulsory traffic.

Idea after COSMA's divide-and-conquer (Li, Gupta, Malik, arXiv:2311.18246,
Sec. V), with the exact fixed-order solver kept global instead of stitching
independently solved blocks.
"""
from __future__ import annotations

import math
import random
import time

from .baselines import InfeasibleError, check_working_sets
from .graph import Graph, Op, Tensor
from .ilp_fixed import solve_fixed_order
from .ilp_free import solve_free_order
from .plan import Plan

__all__ = ["windowed_search"]


def windowed_search(graph: Graph, capacity: int, *, window_ops: int = 10, max_window_ops: int = 24,
                    seed: int = 0, time_limit_s: float = 10.0, max_windows: int | None = None,
                    exact_max_ops: int = 16, window_time_s: float = 2.0, solver: str = "auto",
                    gap_rel: float = 0.0) -> Plan:
    """Best schedule + replacement found within ``time_limit_s`` (see the module docstring).

    ``window_ops``: first window size (operators); ``max_window_ops``: the
    largest; ``max_windows``: stop after this many window solves (None: only
    time); ``window_time_s``: time limit of each solver call; ``exact_max_ops``:
    graphs this small go to the exact free-order model first.  Raises
    :class:`~.baselines.InfeasibleError` if an operator's working set does
    not fit."""
    check_working_sets(graph, capacity)
    t0 = time.perf_counter()
    n = graph.n_ops

    def left() -> float:
        return time_limit_s - (time.perf_counter() - t0)

    kw = dict(solver=solver, gap_rel=gap_rel)
    plan = solve_fixed_order(graph, capacity, time_limit_s=max(0.2, min(window_time_s * 2, left())), **kw)
    start = plan.noncompulsory_bytes
    bound = math.nan
    if n <= exact_max_ops and plan.noncompulsory_bytes > 0:
        exact = solve_free_order(graph, capacity, warm=plan, time_limit_s=max(0.2, left() / 2), **kw)
        bound = exact.bound
        if exact.noncompulsory_bytes <= plan.noncompulsory_bytes:
            plan = exact
    rng = random.Random(seed)
    size, solved, improved, cut = min(window_ops, n), 0, 0, 0
    passes = 0
    stop = plan.status == "optimal" and plan.method.startswith("ilp_free_order")
    while not stop and plan.noncompulsory_bytes > 0 and size >= 2:
        passes += 1
        step = max(1, size // 2)
        offset = rng.randrange(step)
        windows = [(a, min(n, a + size)) for a in range(offset - step if offset else 0, n - 1, step)]
        windows = [(max(0, a), b) for a, b in windows if b - max(0, a) >= 2]
        before = plan.noncompulsory_bytes
        for a, b in windows:
            if plan.noncompulsory_bytes == 0 or left() <= 0 or (max_windows is not None and solved >= max_windows):
                stop = True
                break
            solved += 1
            tried: list[list[int]] = []
            for sink in (False, True):
                order = _reorder_window(graph, capacity, plan, a, b, min(window_time_s, max(0.05, left())), kw,
                                        sink=sink)
                if order is None:
                    cut += 1
                    continue
                if order == plan.order or order in tried:
                    continue
                tried.append(order)
                cand = solve_fixed_order(graph, capacity, order,
                                         time_limit_s=min(window_time_s, max(0.05, left())), **kw)
                if cand.status != "optimal":
                    cut += 1
                if cand.noncompulsory_bytes < plan.noncompulsory_bytes:
                    plan, improved = cand, improved + 1
                    break
        if stop:
            break
        if plan.noncompulsory_bytes >= before:  # stalled: widen the windows
            if size >= min(n, max_window_ops):
                break
            size = min(n, max_window_ops, 2 * size)
    plan.info = dict(plan.info, windows=solved, improvements=improved, windows_cut=cut, passes=passes,
                     default_order_bytes=start, last_window_ops=size, seed=seed)
    if not plan.method.startswith("ilp_free_order") or plan.status != "optimal":
        plan.method, plan.status = "windowed_search", "heuristic"
    plan.bound = 0.0 if plan.noncompulsory_bytes == 0 else bound
    if plan.noncompulsory_bytes == 0 or (not math.isnan(bound) and bound >= plan.noncompulsory_bytes - 0.5):
        plan.status = "optimal"
    plan.solve_time_s = time.perf_counter() - t0
    return plan


def _reorder_window(graph: Graph, capacity: int, plan: Plan, a: int, b: int, time_s: float,
                    kw: dict, sink: bool = True) -> list[int] | None:
    """The plan's order with positions ``a..b-1`` re-ordered by the exact
    free-order model of the window's sub-graph; None if that model found
    nothing in time (or the window does not fit next to what the plan keeps).

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
                                 time_limit_s=time_s, **kw)  # MIP start: the window's current order
    except InfeasibleError:  # the window's working sets do not fit next to the background
        return None
    except ValueError:  # no plan from the solver in time (PlacementError is a ValueError)
        return None
    if local.status not in ("optimal", "feasible"):
        return None
    return plan.order[:a] + [ops[i] for i in local.order if i < len(ops)] + plan.order[b:]

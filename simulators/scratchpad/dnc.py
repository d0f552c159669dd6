"""Divide-and-conquer heuristic for graphs too large for the free-order ILPs.

In the spirit of COSMA's divide-and-conquer (Li, Gupta, Malik,
arXiv:2311.18246), but without losing the context between blocks: start
from the exact fixed-order plan on the default order, then slide a window of
``block_ops`` consecutive positions over the order (half-overlapping
windows).  For each window, the free-order model
(:func:`.ilp_free.solve_free_order`) re-optimizes the order of the operators
inside it -- any topological order of a window, between the fixed prefix and
suffix, is a topological order of the whole graph -- together with the
replacement of *every* tensor of the graph, warm-started from the current
plan, so each step can only keep or lower the traffic.  A pass that
improves nothing doubles the window size for the next pass.  With
``offsets`` the final order gets addresses from formulation (2).

The result is never worse than the fixed-order optimum on the default order.
No optimality bound: status ``heuristic`` (``info`` records the windows
solved, the improvements and the last window size).
"""
from __future__ import annotations

import math
import time

from .baselines import check_working_sets
from .graph import Graph
from .ilp_fixed import solve_fixed_order
from .ilp_free import solve_free_order
from .plan import Plan

__all__ = ["divide_and_conquer"]


def divide_and_conquer(graph: Graph, capacity: int, *, block_ops: int = 16, sweeps: int = 3,
                       offsets: bool = False, solver: str = "auto", time_limit_s: float = 10.0,
                       gap_rel: float = 0.0) -> Plan:
    """Windowed re-scheduling from the default order (see the module docstring).

    At most ``sweeps`` passes; a pass that improves nothing doubles the
    window size (up to the whole graph).  ``time_limit_s`` bounds the whole
    search; each window gets an equal share of the time left."""
    check_working_sets(graph, capacity)
    t0 = time.perf_counter()
    n = graph.n_ops
    plan = solve_fixed_order(graph, capacity, solver=solver, time_limit_s=time_limit_s / 4, gap_rel=gap_rel)
    start_bytes = plan.noncompulsory_bytes
    size, solved, improved = min(block_ops, n), 0, 0
    for sweep in range(sweeps):
        if plan.noncompulsory_bytes == 0 or size < 2:
            break
        step = max(1, size // 2)
        windows = [(a, min(n, a + size)) for a in range(0, max(1, n - step), step)]
        before = plan.noncompulsory_bytes
        for k, (a, b) in enumerate(windows):
            left = time_limit_s - (time.perf_counter() - t0)
            if plan.noncompulsory_bytes == 0 or left <= 0:
                break
            share = left / (len(windows) - k + (sweeps - sweep - 1) * len(windows))
            cand = solve_free_order(graph, capacity, pin_order=plan.order, free_window=(a, b), warm=plan,
                                    solver=solver, time_limit_s=max(0.2, share), gap_rel=gap_rel)
            solved += 1
            if cand.noncompulsory_bytes < plan.noncompulsory_bytes:
                plan, improved = cand, improved + 1
        if plan.noncompulsory_bytes >= before:  # stalled: widen the windows
            if size >= n:
                break
            size = min(n, 2 * size)
    if offsets:
        plan = solve_fixed_order(graph, capacity, plan.order, offsets=True, solver=solver,
                                 time_limit_s=max(1.0, time_limit_s / 4), gap_rel=gap_rel)
    plan.info = dict(plan.info, windows=solved, improvements=improved, default_order_bytes=start_bytes,
                     last_window_ops=size)
    plan.method, plan.status, plan.bound = "divide_and_conquer", "heuristic", math.nan
    plan.solve_time_s = time.perf_counter() - t0
    return plan

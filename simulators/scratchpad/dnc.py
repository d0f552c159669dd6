"""Divide-and-conquer heuristic: one pass of disjoint blocks, stitched.

After COSMA's divide-and-conquer (Li, Gupta, Malik, arXiv:2311.18246,
Sec. V): cut the order into consecutive blocks of ``block_ops`` operators
(the order: the best cheap heuristic order, :func:`.orders.best_start`), re-schedule each block by the exact free-order model of its
sub-graph, and stitch the blocks back in order -- any topological order of a
block, between the fixed prefix and suffix, is a topological order of the
whole graph.  Unlike COSMA's, the context is not lost between blocks: each
block is solved in the capacity the current plan leaves it, and each
stitched order gets its replacement from the exact fixed-order solver
(:func:`.search.improve_window`, the step the windowed search repeats with
overlapping, widening windows); a block's new order is kept only if that
lowers the traffic, so the result is never worse than the fixed-order
optimum on the default order.  With ``offsets`` the final order gets
addresses from formulation (2).

One pass and no overlap make it the cheap free-order heuristic; the windowed
search (:mod:`.search`) is the thorough one.  No optimality bound: status
``heuristic`` (``info`` records the blocks solved and the improvements).  The
budget is counted (:mod:`.limits`): no block is started once the solver
calls have used ``budget.search_iterations`` simplex iterations, each local
model is limited to ``budget.window_nodes`` branch-and-bound nodes.
"""
from __future__ import annotations

import math

from .baselines import check_working_sets
from .graph import Graph
from .ilp_fixed import solve_fixed_order
from .limits import SolveContext
from .orders import best_start
from .plan import Plan
from .search import improve_window

__all__ = ["divide_and_conquer"]


def divide_and_conquer(graph: Graph, capacity: int, *, block_ops: int = 20, offsets: bool = False,
                       ctx: SolveContext | None = None) -> Plan:
    """Disjoint-block re-scheduling from the default order (see the module docstring)."""
    ctx = SolveContext() if ctx is None else ctx
    check_working_sets(graph, capacity)
    n = graph.n_ops
    spent_before = ctx.iterations
    plan = best_start(graph, capacity, ctx)
    start_bytes = plan.info["default_order_bytes"]
    solved = improved = 0
    for a in range(0, n, max(2, block_ops)):
        if plan.noncompulsory_bytes == 0 or ctx.iterations - spent_before >= ctx.budget.search_iterations:
            break
        b = min(n, a + max(2, block_ops))
        if b - a < 2:
            break
        solved += 1
        plan, better, _ = improve_window(graph, capacity, plan, a, b, ctx)
        improved += better
    if offsets:
        plan = solve_fixed_order(graph, capacity, plan.order, offsets=True, ctx=ctx)
    plan.info = dict(plan.info, windows=solved, improvements=improved, default_order_bytes=start_bytes,
                     block_ops=block_ops)
    plan.method, plan.status, plan.bound = "divide_and_conquer", "heuristic", math.nan
    return plan

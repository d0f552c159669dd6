"""One entry point for every scheduling/replacement policy, by name.

=========================== ===================================================
policy                      what it does
=========================== ===================================================
``ilp_fixed_order``         (1) exact replacement on the default order
``ilp_fixed_order_offsets`` (2) (1) plus scratchpad addresses
``ilp_free_order``          (3) best topological order + replacement; graphs
                            with more than ``free_order_max_ops`` operators
                            use the windowed search instead
``ilp_free_order_offsets``  (4) (3) plus addresses (one per tensor); beyond
                            ``free_order_max_ops // 2`` operators, the
                            windowed search's order placed by (2)
``divide_and_conquer``      block-wise free order, stitched (see :mod:`.dnc`)
``windowed_search``         windowed re-scheduling around the exact
                            fixed-order solver (:mod:`.search`): anytime,
                            seeded, never worse than (1)
``belady`` / ``lru``        replacement heuristics on the default order
``first_fit``               Belady + first-fit address allocator
=========================== ===================================================
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

from archgym.errors import OptionError

from .baselines import BASELINES, belady, lru
from .checker import PlanError, check_plan
from .dnc import divide_and_conquer
from .graph import Graph
from .ilp_fixed import solve_fixed_order
from .ilp_free import solve_free_order
from .limits import SolveContext
from .placement import fallback_placement
from .plan import Plan, with_bound
from .search import windowed_search

__all__ = ["POLICIES", "run_policy", "needs_offsets", "uses_search"]

LOGGER = logging.getLogger(__name__)

POLICIES = ("ilp_fixed_order", "ilp_fixed_order_offsets", "ilp_free_order", "ilp_free_order_offsets",
            "divide_and_conquer", "belady", "lru", "first_fit", "windowed_search")


def needs_offsets(policy: str) -> bool:
    """Whether ``policy`` assigns scratchpad addresses (its plans must carry offsets)."""
    return policy.endswith(("offsets", "fit"))


def uses_search(policy: str, graph: Graph, free_order_max_ops: int = 40) -> bool:
    """Whether ``policy`` plans ``graph`` with the windowed search (its own, or as the
    stand-in for a free-order model too large for the graph); the search is then the
    same computation for every such policy (the exact model is skipped at these sizes)."""
    if policy == "windowed_search":
        return graph.n_ops > free_order_max_ops // 2
    if policy in ("ilp_free_order", "ilp_free_order_offsets"):
        return graph.n_ops > (free_order_max_ops // 2 if policy.endswith("offsets") else free_order_max_ops)
    return False


def run_policy(policy: str, graph: Graph, capacity: int, *, order: Sequence[int] | None = None,
               ctx: SolveContext | None = None, free_order_max_ops: int = 40, block_ops: int = 20,
               seed: int = 0, searched: Plan | None = None) -> Plan:
    """Plan for ``graph`` in ``capacity`` bytes under ``policy`` (see the table),
    checked by the independent checker.

    ``ctx``: solver, deterministic work budget and safety net (:mod:`.limits`).
    ``searched``: the windowed search's plan for this graph, capacity, seed and
    budget, if already computed (a simulator's cache): a policy for which
    :func:`uses_search` holds starts from it instead of searching again.
    Raises :class:`~.baselines.InfeasibleError` (naming the operator) when a
    working set does not fit, :class:`~.baselines.PlacementError` when no
    address allocator can place any plan, :class:`~.limits.SafetyNetError`
    when the wall-clock safety net runs out."""
    ctx = SolveContext() if ctx is None else ctx
    if searched is not None and not uses_search(policy, graph, free_order_max_ops):
        searched = None
    plan = _plan(policy, graph, capacity, order, ctx, free_order_max_ops, block_ops, seed, searched)
    try:
        check_plan(graph, plan, capacity, require_offsets=needs_offsets(policy))
    except PlanError as e:  # a solver point the earlier checks missed: never let it through
        LOGGER.warning("%s plan rejected by the checker (%s); using the fallback", policy, e)
        plan = _fallback(graph, plan, capacity, needs_offsets(policy), str(e))
    return plan


def _fallback(graph: Graph, rejected: Plan, capacity: int, offsets: bool, why: str) -> Plan:
    """A checked heuristic plan in place of a rejected one (same method, its bound kept)."""
    if offsets:
        plan = fallback_placement(graph, rejected, capacity)
    else:
        order = graph.default_order()
        plan = min((belady(graph, order, capacity), lru(graph, order, capacity)), key=lambda p: p.noncompulsory_bytes)
        plan.info["placement"] = "fallback"
    plan.method, plan.status, plan.bound = rejected.method, "heuristic", rejected.bound
    plan.info["fallback_reason"] = why
    return plan


def _plan(policy: str, graph: Graph, capacity: int, order: Sequence[int] | None, ctx: SolveContext,
          free_order_max_ops: int, block_ops: int, seed: int, searched: Plan | None) -> Plan:
    if policy in BASELINES:
        return BASELINES[policy](graph, list(graph.default_order() if order is None else order), capacity)
    if policy in ("ilp_fixed_order", "ilp_fixed_order_offsets"):
        return solve_fixed_order(graph, capacity, order, offsets=policy.endswith("offsets"), ctx=ctx)
    if policy in ("ilp_free_order", "ilp_free_order_offsets"):
        offsets = policy.endswith("offsets")
        if uses_search(policy, graph, free_order_max_ops):
            plan = (replace(searched, info=dict(searched.info)) if searched is not None
                    else windowed_search(graph, capacity, seed=seed, ctx=ctx))
            if offsets:  # addresses for the order found, as formulation (2) does
                found = plan
                plan = solve_fixed_order(graph, capacity, found.order, offsets=True, ctx=ctx)
                plan.info = {**found.info, **plan.info}
                plan.method = found.method
                # "optimal" for that order is not optimal over all orders: the search's claim and bound stand
                plan.status = found.status if plan.noncompulsory_bytes == found.noncompulsory_bytes else "heuristic"
                plan = with_bound(plan, found.bound)
            plan.info["solved_by"] = "windowed_search"  # the graph is beyond the exact model
            return plan
        return solve_free_order(graph, capacity, offsets=offsets, ctx=ctx)
    if policy == "windowed_search":
        if searched is not None:
            return replace(searched, info=dict(searched.info))
        return windowed_search(graph, capacity, seed=seed, exact_max_ops=free_order_max_ops // 2, ctx=ctx)
    if policy == "divide_and_conquer":
        return divide_and_conquer(graph, capacity, block_ops=block_ops, ctx=ctx)
    raise OptionError(f"unknown policy {policy!r}; policies are {', '.join(POLICIES)}")

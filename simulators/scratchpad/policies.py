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

from typing import Sequence

from archgym.errors import OptionError

from .baselines import BASELINES
from .dnc import divide_and_conquer
from .graph import Graph
from .ilp_fixed import solve_fixed_order
from .ilp_free import solve_free_order
from .plan import Plan
from .search import windowed_search

__all__ = ["POLICIES", "run_policy"]

POLICIES = ("ilp_fixed_order", "ilp_fixed_order_offsets", "ilp_free_order", "ilp_free_order_offsets",
            "divide_and_conquer", "belady", "lru", "first_fit", "windowed_search")


def run_policy(policy: str, graph: Graph, capacity: int, *, order: Sequence[int] | None = None,
               solver: str = "auto", time_limit_s: float = 10.0, gap_rel: float = 0.0,
               free_order_max_ops: int = 40, block_ops: int = 20, seed: int = 0) -> Plan:
    """Plan for ``graph`` in ``capacity`` bytes under ``policy`` (see the table).

    Raises :class:`~.baselines.InfeasibleError` (naming the operator) when a
    working set does not fit, :class:`~.baselines.PlacementError` when an
    address allocator cannot place a plan."""
    kw = dict(solver=solver, time_limit_s=time_limit_s, gap_rel=gap_rel)
    if policy in BASELINES:
        return BASELINES[policy](graph, list(graph.default_order() if order is None else order), capacity)
    if policy in ("ilp_fixed_order", "ilp_fixed_order_offsets"):
        return solve_fixed_order(graph, capacity, order, offsets=policy.endswith("offsets"), **kw)
    if policy in ("ilp_free_order", "ilp_free_order_offsets"):
        offsets = policy.endswith("offsets")
        if graph.n_ops > (free_order_max_ops // 2 if offsets else free_order_max_ops):
            plan = windowed_search(graph, capacity, seed=seed, **kw)
            if offsets:  # addresses for the order found, as formulation (2) does
                found = plan
                plan = solve_fixed_order(graph, capacity, found.order, offsets=True, **kw)
                plan.info = dict(found.info)
            plan.info["fallback"] = "windowed_search"
            return plan
        return solve_free_order(graph, capacity, offsets=offsets, **kw)
    if policy == "windowed_search":
        return windowed_search(graph, capacity, seed=seed, exact_max_ops=free_order_max_ops // 2, **kw)
    if policy == "divide_and_conquer":
        return divide_and_conquer(graph, capacity, block_ops=block_ops, **kw)
    raise OptionError(f"unknown policy {policy!r}; policies are {', '.join(POLICIES)}")

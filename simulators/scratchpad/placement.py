"""Scratchpad addresses for a plan whose residency is already chosen.

Each maximal run of steps during which a tensor stays resident is one
*interval*; an interval needs one offset (tensors never move while resident;
a reloaded tensor may land elsewhere).  Intervals alive at the same step must
not overlap in address.  This is dynamic storage allocation:

1. greedy heuristics (:func:`best_fit`): several interval orders x
   first-fit / best-fit holes;
2. if that fails, an address ILP: integer offsets, one order binary per pair
   of intervals alive together, big-M non-overlap (``placement_nodes`` nodes);

and if neither places the plan (no placement exists, or none was found
within the budget), the best checked plan of

3. *re-solved*: the replacement for the same order re-solved exactly in a
   smaller capacity -- the plan's peak footprint shrunk by the greedy's
   overshoot -- until the greedy places it in the real one (at most
   :data:`RESOLVE_TRIES` times; the capacity model of formulation (1) solves
   in milliseconds);
4. *fallback*: checked heuristics -- first-fit following the plan's residency
   (:func:`~.baselines.guided_first_fit`), Belady + first-fit on the plan's
   order and on the default order;
5. on graphs of at most :data:`JOINT_MAX_OPS` operators, the joint residency +
   address model (:func:`.ilp_free.solve_free_order` with the order pinned
   and offsets on), warm-started from the best of 3-4.

If nothing places any plan, :class:`~.baselines.PlacementError` (the design
is reported infeasible with that reason).  Every placement is re-checked by
:func:`~.checker.check_plan`; ``info["placement"]`` says which step produced
it (best_fit, ilp, resolved, fallback, joint), and the bound stays the
capacity bound (a plan is "optimal" only if that bound proves it).
"""
from __future__ import annotations

import pulp

from .baselines import InfeasibleError, PlacementError, first_fit, guided_first_fit
from .checker import PlanError, check_plan
from .graph import Graph
from .limits import SolveContext
from .plan import Plan, plan_from_residency, with_bound
from .solver import new_var, solve_model

__all__ = ["intervals", "best_fit", "place_ilp", "place_residency", "place_plan", "fallback_placement",
           "RESOLVE_TRIES", "JOINT_MAX_OPS"]

#: step 3: re-solves of the capacity model in a shrunk capacity
RESOLVE_TRIES = 6
#: step 5: largest graph (operators) given to the joint residency + address model
JOINT_MAX_OPS = 20

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


def place_ilp(graph: Graph, ivs: list[Interval], capacity: int, ctx: SolveContext) -> dict[Interval, int] | None:
    """Exact feasibility of a placement (``None``: none exists or none found within the node budget)."""
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
    out = solve_model(prob, ctx, nodes=ctx.budget.placement_nodes, what="address model")
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


def _checked(graph: Graph, plan: Plan, capacity: int) -> Plan | None:
    try:
        check_plan(graph, plan, capacity, require_offsets=True)
    except PlanError:
        return None
    return plan


def place_residency(graph: Graph, plan: Plan, capacity: int, ctx: SolveContext) -> Plan | None:
    """``plan`` with addresses for its own residency (steps 1-2: greedy, then
    the address ILP), checked, with ``info["placement"]`` set; None if neither
    places it."""
    ivs = intervals(plan)
    for how in ("best_fit", "ilp"):
        where = best_fit(graph, ivs, capacity) if how == "best_fit" else place_ilp(graph, ivs, capacity, ctx)
        out = None if where is None else _checked(graph, apply_placement(graph, plan, where), capacity)
        if out is not None:
            out.info["placement"] = how
            return out
    return None


def greedy_height(graph: Graph, ivs: list[Interval]) -> int:
    """The smallest top address (bytes) any greedy variant of :func:`best_fit`
    reaches when the scratchpad is unbounded."""
    top = 0
    for key in _ORDERS.values():
        for tightest in (False, True):
            where = _greedy(graph, ivs, 1 << 62, key, tightest) or {}
            h = max((o + graph.size(iv[0]) for iv, o in where.items()), default=0)
            top = h if top == 0 else min(top, h)
    return top


def place_plan(graph: Graph, plan: Plan, capacity: int, ctx: SolveContext) -> Plan:
    """``plan`` with offsets for every resident tensor (see the module docstring).

    Keeps the plan's cost when steps 1-2 place it; otherwise returns the best
    plan of steps 3-5 (its cost can be higher).  Raises
    :class:`~.baselines.PlacementError` when nothing can be placed."""
    placed = place_residency(graph, plan, capacity, ctx)
    if placed is not None:
        return placed
    cands = [c for c in (_resolved(graph, plan, capacity, ctx), _fallback_or_none(graph, plan, capacity))
             if c is not None]
    if not cands:
        raise PlacementError(f"no placement of any plan found for capacity {capacity} bytes "
                             f"(fragmentation beats every allocator tried)")
    best = min(cands, key=lambda p: p.noncompulsory_bytes)
    if graph.n_ops <= JOINT_MAX_OPS and best.noncompulsory_bytes > plan.noncompulsory_bytes:
        from .ilp_free import solve_free_order

        joint = _checked(graph, solve_free_order(graph, capacity, offsets=True, pin_order=plan.order, warm=best,
                                                 ctx=ctx, nodes=ctx.budget.placement_nodes), capacity)
        if joint is not None and joint.noncompulsory_bytes < best.noncompulsory_bytes:
            joint.info["placement"] = "joint"
            best = joint
    if best.info.get("placement") in ("resolved", "fallback"):
        best.status = "heuristic"
    return with_bound(best, plan.bound)


def _resolved(graph: Graph, plan: Plan, capacity: int, ctx: SolveContext) -> Plan | None:
    """Step 3: the capacity model for ``plan.order`` in a shrunk capacity, placed greedily."""
    from .ilp_fixed import solve_fixed_order

    cur, target = plan, capacity
    for _ in range(RESOLVE_TRIES):
        height = greedy_height(graph, intervals(cur))
        peak = max(sum(graph.size(x) for x in r) for r in cur.resident)
        target = min(target - 1, peak * capacity // max(height, 1))
        try:
            cur = solve_fixed_order(graph, target, plan.order, ctx=ctx)
        except InfeasibleError:  # shrunk below an operator's working set
            return None
        where = best_fit(graph, intervals(cur), capacity)
        out = None if where is None else _checked(graph, apply_placement(graph, cur, where), capacity)
        if out is not None:
            out.info["placement"] = "resolved"
            out.info["resolved_capacity"] = target
            return out
    return None


def _fallback_or_none(graph: Graph, plan: Plan, capacity: int) -> Plan | None:
    try:
        return fallback_placement(graph, plan, capacity)
    except PlacementError:
        return None


def fallback_placement(graph: Graph, plan: Plan, capacity: int) -> Plan:
    """Step 4: the cheapest checked heuristic plan with addresses -- first-fit
    following ``plan``'s residency, Belady + first-fit on its order and on the
    default order (``info["placement"] = "fallback"``, status heuristic).
    Raises :class:`~.baselines.PlacementError` if none places."""
    err: PlacementError | None = None
    out: Plan | None = None
    makers = (lambda: guided_first_fit(graph, plan, capacity), lambda: first_fit(graph, plan.order, capacity),
              lambda: first_fit(graph, graph.default_order(), capacity))
    for make in makers:
        try:
            cand = _checked(graph, make(), capacity)
        except PlacementError as e:
            err = err or e
            continue
        if cand is not None and (out is None or cand.noncompulsory_bytes < out.noncompulsory_bytes):
            out = cand
    if out is None:
        raise err or PlacementError(f"no placement found for capacity {capacity} bytes")
    out.status, out.info["placement"] = "heuristic", "fallback"
    return out

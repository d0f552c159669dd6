"""Formulations (3) and (4): free operator order (any topological order).

Time-indexed model in the style of COSMA (Li, Gupta, Malik,
arXiv:2311.18246), over steps ``t = 0..n-1``:

* ``x[o,t]`` (binary): operator ``o`` runs at step ``t``; one operator per
  step, one step per operator, restricted to the window
  ``[#ancestors, n-1-#descendants]``; precedence in cumulative form
  (``sum_{t'<=t} x[q,t'] <= sum_{t'<t} x[p,t']`` for every edge ``p -> q``).
* ``r[y,t]`` (binary): tensor ``y`` resident during step ``t``; forced by a
  use (``r[y,t] >= x[o,t]``), impossible before an activation is produced.
  (Symmetry cuts forbidding residency before the first / after the last use
  are valid but made HiGHS slower on NAS cells, so they are left out.)
* ``l[y,t] >= r[y,t] - r[y,t-1] - x[producer(y),t]`` (continuous): a load.
* ``w[y] >= l[y,t]`` (continuous): one write-back for an activation reloaded
  at least once.
* capacity: ``sum_y bytes(y) r[y,t] <= C``.
* objective: reload bytes (every load of an activation, every load after the
  first of a weight/input) plus write-back bytes.

(3) is this model.  (4) first solves (3) and places its residency
(:mod:`.placement`); since (3) is a lower bound for (4), a successful
placement keeps (3)'s status and bound.  Only if that fails does it solve the
monolithic model: (3) plus integer offsets with big-M pairwise non-overlap
for tensors resident at the same step.  *Assumption of the monolithic
model*: a tensor has one address for its whole life (a reload returns to the
same place); COSMA lets a reload land elsewhere, so it is a restriction, its
plan is an upper bound, and the bound reported is (3)'s (a plan is "optimal"
only if that bound proves it).  With ``pin_order`` the order is
fixed, which makes (3) equivalent to formulation (1) and (4) the joint
fixed-order residency + address model.

The solver gets a MIP start from the exact fixed-order plan on the best
cheap heuristic order (:mod:`.orders`; or a given warm plan), so the result
is never worse than the fixed-order optimum on the default order; if the
solver finds nothing better within its node budget, that plan is returned
with status ``unsolved`` (no feasible point) or ``feasible``.  A solver point
becomes a plan only if it is primal feasible (:mod:`.solver`) and passes the
independent checker.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import pulp

from .baselines import PlacementError, check_working_sets
from .checker import PlanError, check_plan
from .graph import Graph
from .limits import SolveContext
from .plan import Plan, plan_from_residency, with_bound
from .solver import new_var, solve_model

__all__ = ["solve_free_order"]
#: add the liveness/reload valid inequalities of :func:`_live_cuts` (ablation switch)
_LIVE_CUTS = True


def solve_free_order(graph: Graph, capacity: int, *, offsets: bool = False,
                     pin_order: Sequence[int] | None = None, free_window: tuple[int, int] | None = None,
                     warm: Plan | None | bool = None, ctx: SolveContext | None = None,
                     nodes: int | None = None) -> Plan:
    """Best schedule + replacement (+ addresses if ``offsets``) in ``capacity`` bytes.

    ``pin_order`` fixes the order; with ``free_window=(a, b)`` the operators
    at positions ``a..b-1`` of ``pin_order`` may still be reordered (the
    sub-problem of the windowed search in :mod:`.dnc`).
    ``warm``: a legal plan to start from (None: the exact fixed-order plan on
    the default or pinned order, placed if ``offsets``; False: no start).
    ``ctx``: solver, work budget, safety net; ``nodes``: this model's node
    limit (default: the budget's).
    Raises :class:`~.baselines.InfeasibleError` if an operator's working set
    does not fit, :class:`~.baselines.PlacementError` if no plan was found
    (no start and no feasible point within the node budget)."""
    ctx = SolveContext() if ctx is None else ctx
    check_working_sets(graph, capacity)
    n = graph.n_ops
    method = ("ilp_free_order" if pin_order is None else "ilp_pinned_order") + ("_offsets" if offsets else "")
    if offsets and pin_order is None and warm is None:
        # offsets second: place the capacity optimum; (3) is a lower bound for (4)
        from .placement import place_plan, place_residency

        first = solve_free_order(graph, capacity, ctx=ctx, nodes=nodes)
        placed = place_residency(graph, first, capacity, ctx)
        if placed is not None:
            placed.method = method
            return placed
        try:  # (3)'s order placed another way (re-solved, fallback, joint): the start of the monolithic model
            start: Plan | bool = place_plan(graph, first, capacity, ctx)
        except PlacementError:
            start = False
        try:
            joint = solve_free_order(graph, capacity, offsets=True, warm=start, ctx=ctx, nodes=nodes)
        except PlacementError:  # no start and no feasible point within the budget
            raise PlacementError(f"no placed plan found for capacity {capacity} bytes: every allocator and the "
                                 f"monolithic model failed") from None
        if start is not False and start.noncompulsory_bytes <= joint.noncompulsory_bytes:
            joint = start
        joint.method = method
        return with_bound(joint, first.bound)  # the monolithic model is a restriction: (3) bounds it
    if warm is None:
        warm = _default_warm(graph, capacity, offsets, pin_order, ctx)
    warm = replace(warm, info=dict(warm.info)) if warm else None  # never mutate the caller's plan
    if warm is not None and warm.noncompulsory_bytes == 0:  # nothing to improve on
        warm.method, warm.status, warm.bound = method, "optimal", 0.0
        return warm
    if pin_order is not None:
        pos = {op: t for t, op in enumerate(pin_order)}
        es, ls = [pos[o] for o in range(n)], [pos[o] for o in range(n)]
        if free_window is not None:  # operators at positions a..b-1 may permute among themselves
            a, b = free_window
            inside = set(pin_order[a:b])
            for o in inside:
                anc = _within(graph.preds, o, inside)
                desc = _within(graph.succs, o, inside)
                es[o], ls[o] = a + anc, b - 1 - desc
    else:
        es = graph.ancestors_count()
        ls = [n - 1 - d for d in graph.descendants_count()]
    steps = range(n)
    prob = pulp.LpProblem(method, pulp.LpMinimize)
    x = {(o, t): new_var(prob, f"x{o}_{t}", cat="Binary") for o in range(n) for t in range(es[o], ls[o] + 1)}

    def X(o: int, t: int):  # noqa: N802
        return x.get((o, t), 0)

    for o in range(n):
        prob += pulp.lpSum(x[o, t] for t in range(es[o], ls[o] + 1)) == 1
    for t in steps:
        prob += pulp.lpSum(x[o, t] for o in range(n) if (o, t) in x) == 1
    for q in range(n):
        for p in graph.preds[q]:
            for t in range(es[q], ls[p] + 1):
                prob += (pulp.lpSum(X(q, s) for s in range(es[q], t + 1))
                         <= pulp.lpSum(X(p, s) for s in range(es[p], t)))
    users: dict[str, list[int]] = {}
    for o, op in enumerate(graph.ops):
        for y in op.tensors:
            users.setdefault(y, []).append(o)
    win = {y: (min(es[o] for o in us), max(ls[o] for o in us)) for y, us in users.items()}
    r = {(y, t): new_var(prob, f"r{i}_{t}", cat="Binary")
         for i, y in enumerate(users) for t in range(win[y][0], win[y][1] + 1)}
    ids = {y: i for i, y in enumerate(users)}
    obj = []
    wb = {}
    lvars: dict[tuple[str, int], pulp.LpVariable] = {}
    for y, us in users.items():
        lo, hi = win[y]
        size = graph.size(y)
        act = not graph.tensors[y].offchip
        prod = graph.producer.get(y)
        for o in us:
            for t in range(es[o], ls[o] + 1):
                prob += r[y, t] >= x[o, t]
        if act:
            wb[y] = new_var(prob, f"w{ids[y]}", 0, 1)
            obj.append(size * wb[y])
            for t in range(lo, hi + 1):
                prob += r[y, t] <= pulp.lpSum(X(prod, s) for s in range(es[prod], t + 1))
        loads = []
        for t in range(lo, hi + 1):
            if act and t == lo:
                continue  # an activation is produced, never loaded, at its first possible step
            lv = new_var(prob, f"l{ids[y]}_{t}", 0, 1)
            prev = r[y, t - 1] if t > lo else 0
            prob += lv >= r[y, t] - prev - (X(prod, t) if act else 0)
            loads.append(lv)
            lvars[y, t] = lv
            if act:
                prob += wb[y] >= lv
        obj.append(size * pulp.lpSum(loads))
        if not act:
            obj.append(-size)  # the first load is compulsory
        if _LIVE_CUTS:
            _live_cuts(prob, y, act, us, prod, es, ls, lo, hi, X, r, lvars, wb)
    prob += pulp.lpSum(obj)
    for t in steps:
        live = [(y, graph.size(y)) for y in users if (y, t) in r]
        if sum(s for _, s in live) > capacity:
            prob += pulp.lpSum(s * r[y, t] for y, s in live) <= capacity, f"cap{t}"
    off: dict[str, pulp.LpVariable] = {}
    if offsets:
        off = _add_offsets(prob, graph, users, win, r, capacity)
    if warm is not None:
        _set_warm(graph, warm, x, r, wb, lvars, off, prob)
    out = solve_model(prob, ctx, nodes=nodes, warm_start=warm is not None, what=f"{method} model")
    if out.has_solution:
        order = [max((o for o in range(n) if (o, t) in x), key=lambda o: x[o, t].varValue or 0) for t in steps]
        res = []
        for t in steps:
            cur = {}
            for y in users:
                if (y, t) in r and (r[y, t].varValue or 0) > 0.5:
                    cur[y] = int(round(off[y].varValue)) if offsets else None
            res.append(cur)
        plan = _accepted(graph, order, res, capacity, offsets, method=method, status=out.status,
                         bound=out.bound, solve_time_s=out.time_s, solver=out.solver)
        if plan is not None and (warm is None or plan.noncompulsory_bytes <= warm.noncompulsory_bytes):
            return plan
    if warm is None:
        raise PlacementError(f"no {'placed ' if offsets else ''}plan found for capacity {capacity} "
                             f"within {nodes or ctx.budget.nodes} branch-and-bound nodes ({out.status})")
    plan = warm
    plan.method, plan.status = method, ("unsolved" if not out.has_solution else "feasible")
    plan.bound, plan.solve_time_s, plan.solver = out.bound, out.time_s + plan.solve_time_s, out.solver
    return plan


def _accepted(graph: Graph, order: list[int], res: list[dict], capacity: int, offsets: bool,
              **meta) -> Plan | None:
    """The plan of a primal-feasible solver point, if it passes the independent
    checker (a point within the solver's tolerances can still be off by a
    rounding: an offset, a residency at 0.5)."""
    if sorted(order) != list(range(graph.n_ops)):
        return None
    plan = plan_from_residency(graph, order, res, **meta)
    try:
        check_plan(graph, plan, capacity, require_offsets=offsets)
    except PlanError:
        return None
    return plan


def _within(adj: list[set[int]], o: int, inside: set[int]) -> int:
    """Number of operators of ``inside`` reachable from ``o`` along ``adj``."""
    seen: set[int] = set()
    stack = [o]
    while stack:
        for p in adj[stack.pop()]:
            if p in inside and p not in seen:
                seen.add(p)
                stack.append(p)
    return len(seen)


def _live_cuts(prob, y, act, us, prod, es, ls, lo, hi, X, r, lvars, wb) -> None:
    """Valid inequalities linking liveness to reloads (they tighten the LP a lot).

    If ``y`` has been used (an activation: produced) by step ``t`` by operator
    ``a``, a consumer ``c`` has not run yet, and ``y`` is not resident at
    ``t``, then ``y`` is loaded again after ``t`` (and, for an activation,
    written back once)."""
    def done(o: int, t: int):
        return pulp.lpSum(X(o, s) for s in range(es[o], t + 1))

    firsts = [prod] if act else us
    for c in us:
        if act and c == prod:
            continue
        for a in firsts:
            if a == c:
                continue
            for t in range(max(lo, es[a]), min(hi, ls[c] - 1) + 1):
                gap = done(a, t) - done(c, t) - r[y, t]
                later = [lvars[y, s] for s in range(t + 1, hi + 1) if (y, s) in lvars]
                prob += pulp.lpSum(later) >= gap
                if act:
                    prob += wb[y] >= gap


def _default_warm(graph: Graph, capacity: int, offsets: bool, pin_order, ctx: SolveContext) -> Plan | None:
    """The MIP start: the exact fixed-order plan on ``pin_order``, or without one on the
    best cheap heuristic order (:func:`.orders.best_start`); placed if ``offsets``."""
    from .ilp_fixed import solve_fixed_order
    from .orders import best_start
    from .placement import place_residency

    plan = best_start(graph, capacity, ctx) if pin_order is None else solve_fixed_order(graph, capacity, pin_order,
                                                                                           ctx=ctx)
    if not offsets:
        return plan
    placed = place_residency(graph, plan, capacity, ctx)
    if placed is not None:
        return placed
    from .baselines import first_fit

    try:
        return first_fit(graph, plan.order, capacity)
    except PlacementError:
        return None


def _add_offsets(prob, graph: Graph, users, win, r, capacity: int) -> dict:
    ys = list(users)
    off = {y: new_var(prob, f"o{i}", 0, capacity - graph.size(y), cat="Integer") for i, y in enumerate(ys)}
    for i, a in enumerate(ys):
        for j in range(i + 1, len(ys)):
            b = ys[j]
            lo, hi = max(win[a][0], win[b][0]), min(win[a][1], win[b][1])
            if lo > hi:
                continue
            z = new_var(prob, f"z{i}_{j}", cat="Binary")
            for t in range(lo, hi + 1):
                both = 2 - r[a, t] - r[b, t]
                prob += off[a] + graph.size(a) <= off[b] + capacity * (1 - z) + capacity * both
                prob += off[b] + graph.size(b) <= off[a] + capacity * z + capacity * both
    return off


def _set_warm(graph: Graph, warm: Plan, x, r, wb, lvars, off, prob) -> None:
    """Initial values of every variable from ``warm`` (a legal plan)."""
    for v in prob.variables():
        v.setInitialValue(0)
    step = {o: t for t, o in enumerate(warm.order)}
    for t, o in enumerate(warm.order):
        if (o, t) in x:
            x[o, t].setInitialValue(1)
    for t, cur in enumerate(warm.resident):
        for y in cur:
            if (y, t) in r:
                r[y, t].setInitialValue(1)
    for (y, t), lv in lvars.items():
        here = y in warm.resident[t]
        before = t > 0 and y in warm.resident[t - 1]
        made = graph.producer.get(y) is not None and step[graph.producer[y]] == t
        if here and not before and not made:
            lv.setInitialValue(1)
            if y in wb:
                wb[y].setInitialValue(1)
    if off and warm.has_offsets:
        where: dict[str, int] = {}
        for cur in warm.resident:
            for y, o in cur.items():
                where.setdefault(y, o)
        for y, v in off.items():
            v.setInitialValue(where.get(y, 0))
        ys = list(off)
        zs = prob.variablesDict()
        for i, a in enumerate(ys):
            for j in range(i + 1, len(ys)):
                zv = zs.get(f"z{i}_{j}")
                if zv is not None:
                    zv.setInitialValue(1 if where.get(a, 0) <= where.get(ys[j], 0) else 0)

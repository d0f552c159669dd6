"""Scratchpad ILPs vs brute force, baselines and the independent checker."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archgym.simulators.scratchpad.baselines import (InfeasibleError, PlacementError, belady, first_fit, lru)
from archgym.simulators.scratchpad.bruteforce import brute_force_fixed, brute_force_free
from archgym.simulators.scratchpad.checker import PlanError, check_plan
from archgym.simulators.scratchpad.dnc import divide_and_conquer
from archgym.simulators.scratchpad.graph import Graph, Op, Tensor
from archgym.simulators.scratchpad.ilp_fixed import solve_fixed_order
from archgym.simulators.scratchpad.ilp_free import solve_free_order
from archgym.simulators.scratchpad.limits import SolveContext, WorkBudget
from archgym.simulators.scratchpad.plan import STATUSES, Plan
from archgym.simulators.scratchpad.policies import POLICIES, run_policy
from archgym.simulators.scratchpad.solver import available_solvers

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def dags(draw, max_ops: int = 7):
    """Random small operator DAGs with weights, multi-use activations and 2-output ops."""
    n = draw(st.integers(1, max_ops))
    size = st.integers(1, 9)
    tensors = [Tensor("in0", draw(size), "input")]
    avail = ["in0"]
    ops = []
    for i in range(n):
        k = draw(st.integers(1, min(3, len(avail))))
        ins = draw(st.lists(st.sampled_from(avail), min_size=k, max_size=k, unique=True))
        if draw(st.booleans()):
            tensors.append(Tensor(f"w{i}", draw(size), "weight"))
            ins.append(f"w{i}")
        outs = [f"a{i}_{j}" for j in range(draw(st.integers(1, 2)))]
        tensors += [Tensor(o, draw(size), "activation") for o in outs]
        ops.append(Op(f"op{i}", tuple(ins), tuple(outs), draw(st.integers(0, 50))))
        avail += outs
    g = Graph.build("random", tensors, ops)
    slack = draw(st.integers(0, 20))
    return g, g.max_working_set()[0] + slack


def _legal(g: Graph, plan: Plan, cap: int, offsets: bool = False) -> int:
    res = check_plan(g, plan, cap, require_offsets=offsets)
    assert res.compulsory_bytes == g.compulsory_bytes()
    assert res.noncompulsory_bytes >= 0 and res.offchip_bytes >= g.compulsory_bytes()
    assert plan.status in STATUSES
    return res.noncompulsory_bytes


@FAST
@given(dags())
def test_fixed_order_ilp_equals_brute_force_and_beats_baselines(case):
    g, cap = case
    order = g.default_order()
    plan = solve_fixed_order(g, cap)
    assert plan.status == "optimal"
    cost = _legal(g, plan, cap)
    assert cost == brute_force_fixed(g, order, cap)
    for base in (belady, lru):
        assert cost <= _legal(g, base(g, order, cap), cap)
    try:
        assert cost <= _legal(g, first_fit(g, order, cap), cap, offsets=True)
    except PlacementError:
        pass  # fragmentation: the greedy allocator cannot place this plan at all
    with_offsets = solve_fixed_order(g, cap, offsets=True)
    assert _legal(g, with_offsets, cap, offsets=True) >= cost


@SLOW
@given(dags())
def test_free_order_ilp_equals_brute_force(case):
    g, cap = case
    plan = solve_free_order(g, cap)
    assert plan.status == "optimal"
    cost = _legal(g, plan, cap)
    assert g.is_topological(plan.order)
    assert cost == brute_force_free(g, cap)
    assert cost <= solve_fixed_order(g, cap).noncompulsory_bytes
    full = solve_free_order(g, cap, offsets=True)
    assert _legal(g, full, cap, offsets=True) >= cost
    dc = divide_and_conquer(g, cap, block_ops=3)
    assert cost <= _legal(g, dc, cap) <= solve_fixed_order(g, cap).noncompulsory_bytes


@SLOW
@given(dags(), st.integers(1, 30))
def test_more_scratchpad_never_increases_optimal_traffic(case, extra):
    g, cap = case
    for solve in (solve_fixed_order, solve_free_order):
        small = solve(g, cap)
        big = solve(g, cap + extra)
        assert small.status == big.status == "optimal"
        assert big.noncompulsory_bytes <= small.noncompulsory_bytes


@FAST
@given(dags(max_ops=6))
def test_pinned_free_model_matches_gap_model(case):
    """The time-indexed model with the order pinned is an independent formulation of (1)."""
    g, cap = case
    pinned = solve_free_order(g, cap, pin_order=g.default_order(), warm=False)
    fixed = solve_fixed_order(g, cap)
    assert _legal(g, pinned, cap) == fixed.noncompulsory_bytes
    # a free window inside a pinned order: legal, never worse than its warm start, never below (3)
    a = g.n_ops // 3
    win = solve_free_order(g, cap, pin_order=fixed.order, free_window=(a, g.n_ops), warm=fixed)
    assert win.order[:a] == fixed.order[:a]
    assert brute_force_free(g, cap) <= _legal(g, win, cap) <= fixed.noncompulsory_bytes


def test_free_order_beats_fixed_order_on_inception():
    from archgym.simulators.workloads.graphs import inception_stack

    g = inception_stack(modules=("3a",))
    cap = g.max_working_set()[0]
    fixed = solve_fixed_order(g, cap)
    free = solve_free_order(g, cap)
    assert free.status == "optimal"
    assert _legal(g, free, cap) < _legal(g, fixed, cap)


@pytest.mark.skipif("cbc" not in available_solvers() or "highs" not in available_solvers(),
                    reason="needs both HiGHS and CBC")
@settings(max_examples=8, deadline=None)
@given(dags(max_ops=5))
def test_cbc_agrees_with_highs(case):
    g, cap = case
    for solve in (solve_fixed_order, solve_free_order):
        a, b = solve(g, cap, ctx=SolveContext(solver="highs")), solve(g, cap, ctx=SolveContext(solver="cbc"))
        assert b.solver == "cbc" or b.noncompulsory_bytes == 0
        assert a.noncompulsory_bytes == _legal(g, b, cap)


def _spill_graph() -> Graph:
    """x is produced first and needed last; the middle operators crowd it out."""
    t = [Tensor("in", 4, "input"), Tensor("x", 4, "activation"), Tensor("y", 4, "activation"),
         Tensor("z", 4, "activation"), Tensor("w", 4, "weight"), Tensor("out", 2, "activation")]
    ops = [Op("a", ("in",), ("x",)), Op("b", ("in", "w"), ("y",)), Op("c", ("y", "w"), ("z",)),
           Op("d", ("x", "z"), ("out",))]
    return Graph.build("spill", t, ops)


def test_spill_costs_writeback_and_reload_and_free_order_avoids_it():
    g = _spill_graph()
    cap = 12
    fixed = solve_fixed_order(g, cap)
    # x (4 B) must leave during b or c: one write-back + one reload
    assert _legal(g, fixed, cap) == 8
    free = solve_free_order(g, cap)
    assert _legal(g, free, cap) < 8


def test_infeasible_working_set_names_operator():
    g = _spill_graph()
    for policy in POLICIES:
        with pytest.raises(InfeasibleError, match="operator 'b'"):
            run_policy(policy, g, 11)


def test_checker_rejects_illegal_plans():
    g = _spill_graph()
    good = solve_fixed_order(g, 12)
    check_plan(g, good, 12)
    with pytest.raises(PlanError, match="capacity"):
        check_plan(g, good, 11)
    wrong_cost = Plan(good.order, good.resident, good.loads, good.writebacks, good.noncompulsory_bytes + 1)
    with pytest.raises(PlanError, match="claims"):
        check_plan(g, wrong_cost, 12)
    no_wb = Plan(good.order, good.resident, good.loads, [[] for _ in good.order], 4)
    with pytest.raises(PlanError, match="without writing it back"):
        check_plan(g, no_wb, 12)
    res = [dict.fromkeys(r, 0) for r in good.resident]  # everything at offset 0
    with pytest.raises(PlanError, match="overlaps"):
        check_plan(g, Plan(good.order, res, good.loads, good.writebacks, good.noncompulsory_bytes), 12)
    bad_order = Plan([3, 0, 1, 2], good.resident, good.loads, good.writebacks, 0)
    with pytest.raises(PlanError):
        check_plan(g, bad_order, 12)


def test_statuses_and_bounds_are_reported():
    from archgym.simulators.workloads.graphs import nas_cells

    g = nas_cells(cells=1)
    cap = g.max_working_set()[0]
    plan = solve_fixed_order(g, cap)
    assert plan.status == "optimal" and plan.bound == plan.noncompulsory_bytes and plan.optimality_gap == 0
    quick = solve_free_order(g, cap, ctx=SolveContext(budget=WorkBudget(nodes=1)))
    assert quick.status in ("optimal", "feasible", "unsolved")
    assert quick.noncompulsory_bytes <= plan.noncompulsory_bytes  # never worse than its warm start
    _legal(g, quick, cap)

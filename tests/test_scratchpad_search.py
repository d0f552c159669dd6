"""Windowed re-scheduling search, budgets where scheduling matters, solver output."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from archgym.errors import UserInputError
from archgym.simulators.scratchpad import ScratchpadSimulator
from archgym.simulators.scratchpad.bruteforce import brute_force_free
from archgym.simulators.scratchpad.checker import check_plan
from archgym.simulators.scratchpad.graph import Graph, Op, Tensor
from archgym.simulators.scratchpad.ilp_fixed import solve_fixed_order
from archgym.simulators.scratchpad.ilp_free import solve_free_order
from archgym.simulators.scratchpad.limits import SolveContext, WorkBudget
from archgym.simulators.scratchpad.search import windowed_search
from archgym.simulators.workloads.graphs import inception_stack

from test_scratchpad import dags

SEARCH = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _highs_trap() -> Graph:
    """7 operators on which HiGHS 1.16 with presolve and a MIP start claimed 40 B optimal."""
    sizes = {"in0": 4, "a2_1": 8, "a3_0": 9, "a4_0": 4}
    ops = [("op0", ["in0"], ["a0_0"]), ("op1", ["in0", "a0_0", "w1"], ["a1_0", "a1_1"]),
           ("op2", ["in0", "a0_0", "a1_0"], ["a2_0", "a2_1"]), ("op3", ["in0", "a2_0", "w3"], ["a3_0"]),
           ("op4", ["a2_1", "w4"], ["a4_0", "a4_1"]), ("op5", ["a3_0", "a1_1", "a4_0"], ["a5_0", "a5_1"]),
           ("op6", ["in0", "a0_0", "a5_1"], ["a6_0"])]
    names = list(dict.fromkeys(t for _, i, o in ops for t in i + o))
    kind = {t: "input" if t == "in0" else "weight" if t.startswith("w") else "activation" for t in names}
    return Graph.build("trap", [Tensor(t, sizes.get(t, 1), kind[t]) for t in names],
                       [Op(n, tuple(i), tuple(o)) for n, i, o in ops])


def test_highs_warm_start_keeps_the_true_optimum():
    g = _highs_trap()
    plan = solve_free_order(g, 16)  # warm-started from the fixed order (40 B)
    assert solve_fixed_order(g, 16).noncompulsory_bytes == 40
    assert plan.status == "optimal" and plan.noncompulsory_bytes == brute_force_free(g, 16) == 18
    assert plan.order == [0, 1, 2, 4, 3, 5, 6]


@SEARCH
@given(dags())
def test_windowed_search_exact_on_small_graphs_and_never_worse(case):
    g, cap = case
    fixed = solve_fixed_order(g, cap).noncompulsory_bytes
    best = brute_force_free(g, cap)
    exact = windowed_search(g, cap)  # <= exact_max_ops: the exact model first
    assert check_plan(g, exact, cap).noncompulsory_bytes == exact.noncompulsory_bytes == best
    assert exact.status == "optimal" and exact.optimality_gap == 0.0
    windows = windowed_search(g, cap, exact_max_ops=0, window_ops=3, seed=1)
    cost = check_plan(g, windows, cap).noncompulsory_bytes
    assert g.is_topological(windows.order) and best <= cost <= fixed


def _small(iterations: int) -> SolveContext:
    return SolveContext(budget=WorkBudget(search_iterations=iterations, window_nodes=50))


def test_windowed_search_is_deterministic_and_a_smaller_budget_cuts_a_prefix():
    g = inception_stack(modules=("3a", "3b"))
    cap = g.max_working_set()[0]
    fixed = solve_fixed_order(g, cap)
    a, b = (windowed_search(g, cap, seed=3, window_ops=6, exact_max_ops=0, ctx=_small(20_000)) for _ in range(2))
    assert a.order == b.order and a.noncompulsory_bytes == b.noncompulsory_bytes and a.info == b.info
    assert a.info["default_order_bytes"] == fixed.noncompulsory_bytes == 1103872
    assert check_plan(g, a, cap).noncompulsory_bytes == a.noncompulsory_bytes < fixed.noncompulsory_bytes
    assert math.isnan(a.optimality_gap) and a.status == "heuristic"
    # the budget is counted between windows: a larger one runs the same windows first
    big = windowed_search(g, cap, seed=3, window_ops=6, exact_max_ops=0, ctx=_small(60_000))
    assert big.info["trace"][: len(a.info["trace"])] == a.info["trace"]
    assert big.info["windows"] > a.info["windows"] and big.noncompulsory_bytes <= a.noncompulsory_bytes


def test_every_shipped_workload_has_budgets_with_different_optimal_costs():
    """At the tightest budget of the space the fixed-order optimum is provably > 0
    (the solver's lower bound), at the largest it is 0: no workload is degenerate."""
    for name in ScratchpadSimulator.workload_names:
        sim = ScratchpadSimulator(name)
        kb = sim.space["scratchpad_kb"].values
        assert len(kb) >= 2, name
        tight = solve_fixed_order(sim.graph, kb[0] * 1024)
        loose = solve_fixed_order(sim.graph, kb[-1] * 1024)
        assert tight.bound > 0 and tight.noncompulsory_bytes > 0, name
        assert loose.noncompulsory_bytes == 0 and loose.status == "optimal", name


def test_evaluate_json_prints_only_json():
    cfg = {"scratchpad_kb": 461, "dram_bw_gbps": 16, "compute_macs_per_cycle": 512, "policy": "ilp_fixed_order"}
    out = subprocess.run([sys.executable, "-m", "archgym.cli", "evaluate", "Scratchpad-v0", "--workload", "inception",
                          "--config", json.dumps(cfg), "--json", "--set", "time_limit_s=5"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    expected = ScratchpadSimulator("inception").evaluate(cfg)["noncompulsory_bytes"]  # the ILP ran in HiGHS
    assert res["feasible"] and res["noncompulsory_bytes"] == expected > 0


def test_workloads_do_not_import_scratchpad():
    code = ("import sys, archgym.simulators.workloads.graphs as g; g.build_graph('nas_cells', training=True); "
            "print([m for m in sys.modules if 'scratchpad' in m])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("make, message", [
    (lambda: ScratchpadSimulator("inception", budget_levels=(0.0, 1.5)), "budget levels must be fractions"),
    (lambda: ScratchpadSimulator("resnet18", graph_options={"batch": 0}), "batch must be a positive integer"),
    (lambda: ScratchpadSimulator("attention", graph_options={"depth": 3}), "workload 'attention'"),
])
def test_bad_workload_options_are_user_errors(make, message):
    with pytest.raises(UserInputError, match=message):
        make()


def test_optimality_gap_ignores_solver_rounding():
    from archgym.simulators.scratchpad.plan import Plan

    plan = Plan([0], [{}], [[]], [[]], 11, status="optimal", bound=11 - 1.9e-13)  # HiGHS's float objective
    assert plan.optimality_gap == 0.0
    plan.bound = 5.5
    assert plan.optimality_gap == 0.5

"""Scratchpad solver honesty: bounds with the objective constant, proven-only
"optimal", primal-feasible points only, counted budgets, bad options."""
from __future__ import annotations

import math

import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archgym.errors import UserInputError
from archgym.simulators.scratchpad import ScratchpadSimulator
from archgym.simulators.scratchpad.bruteforce import brute_force_fixed, brute_force_free
from archgym.simulators.scratchpad.checker import check_plan
from archgym.simulators.scratchpad.ilp_fixed import solve_fixed_order
from archgym.simulators.scratchpad.ilp_free import solve_free_order
from archgym.simulators.scratchpad.limits import SafetyNetError, SolveContext, WorkBudget
from archgym.simulators.scratchpad.search import windowed_search
from archgym.simulators.scratchpad.solver import _highs_outcome, new_var, solve_model
from archgym.simulators.workloads.graphs import inception_stack

from test_scratchpad import dags

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ctx(nodes: int = 1000, **kw) -> SolveContext:
    return SolveContext(budget=WorkBudget(nodes=nodes, **kw))


def _probe(constant: float) -> pulp.LpProblem:
    prob = pulp.LpProblem("probe", pulp.LpMinimize)
    x = new_var(prob, "x", 0, 10, cat="Integer")
    y = new_var(prob, "y", 0, 10, cat="Integer")
    prob += 2 * x + 3 * y + constant
    prob += x + y >= 4
    return prob


@pytest.mark.parametrize("constant", [-100.0, 0.0, 1e6])
def test_the_bound_includes_the_objective_constant(constant):
    """min 2x + 3y + c, x + y >= 4: optimum and bound 8 + c (HiGHS alone reports 8)."""
    out = solve_model(_probe(constant), SolveContext())
    assert out.status == "optimal"
    assert out.objective == pytest.approx(8 + constant) and out.bound == pytest.approx(8 + constant)


def test_a_node_limited_fixed_order_bound_is_a_true_lower_bound():
    """The reuse-gap model has a large constant (every gap's bytes); an unproven
    solve must report a bound below the cost and above 0, not off by the constant."""
    g = inception_stack(modules=("3a", "3b"))
    cap = g.max_working_set()[0]
    exact = solve_fixed_order(g, cap)
    assert exact.status == "optimal" and exact.bound == pytest.approx(exact.noncompulsory_bytes, abs=0.5)
    free = solve_free_order(g, cap, ctx=_ctx(nodes=1))
    assert free.status in ("feasible", "unsolved") and not math.isnan(free.bound)
    assert 0 <= free.bound <= free.noncompulsory_bytes <= exact.noncompulsory_bytes
    assert 0 < free.optimality_gap < 1


@PROPS
@given(dags(), st.integers(1, 4))
def test_bounds_never_exceed_the_cost_and_optimal_means_proven(case, nodes):
    g, cap = case
    ctx = _ctx(nodes=nodes)
    for plan, best in ((solve_fixed_order(g, cap, ctx=ctx), brute_force_fixed(g, g.default_order(), cap)),
                       (solve_free_order(g, cap, ctx=ctx), brute_force_free(g, cap))):
        cost = check_plan(g, plan, cap).noncompulsory_bytes
        assert math.isnan(plan.bound) or plan.bound <= cost + 1e-6
        assert math.isnan(plan.bound) or plan.bound <= best + 1e-6  # a lower bound on the optimum itself
        if plan.status == "optimal":
            assert cost == best


def test_windowed_search_never_calls_an_unproven_plan_optimal():
    """Inception at 590 KiB: 100,352 B is the optimum (proven by a long exact solve);
    with a tiny node budget the exact model cannot prove it."""
    sim = ScratchpadSimulator("inception")
    cap = 590 * 1024
    plan = windowed_search(sim.graph, cap, exact_max_ops=20, ctx=_ctx(nodes=5, search_iterations=5_000))
    assert check_plan(sim.graph, plan, cap).noncompulsory_bytes == plan.noncompulsory_bytes >= 100352
    assert plan.status != "optimal" or plan.noncompulsory_bytes == 100352
    assert math.isnan(plan.bound) or plan.bound <= plan.noncompulsory_bytes
    if plan.noncompulsory_bytes > 100352:
        assert not plan.optimality_gap == 0.0


def test_a_point_that_is_not_primal_feasible_is_never_accepted():
    import highspy

    prob = _probe(0.0)
    for status in (highspy.HighsModelStatus.kSolutionLimit, highspy.HighsModelStatus.kInterrupt,
                   highspy.HighsModelStatus.kOptimal):
        raw = {"model_status": status, "feasible_point": False, "bound": 5.0, "objective": 7.0,
               "iterations": 3, "nodes": 1}
        out = _highs_outcome(prob, raw, 0.0, "probe", SolveContext())
        assert out.status == "unsolved" and not out.has_solution and math.isnan(out.objective)


def test_the_safety_net_is_an_error_never_an_answer():
    g = inception_stack(modules=("3a", "3b"))
    ctx = SolveContext(time_limit_s=1e-9)
    with pytest.raises(SafetyNetError, match="time_limit_s"):
        solve_free_order(g, g.max_working_set()[0], ctx=ctx)


def test_unplaceable_residency_falls_back_to_a_checked_placement():
    """GoogLeNet (batch 2) at its tightest budget: the capacity optimum cannot be
    placed by the greedy allocators and, with 50 nodes, the address model finds no
    placement (5,000 do); the plan is a checked heuristic one, said so in the env's info."""
    sim = ScratchpadSimulator("googlenet", placement_node_limit=50)
    cfg = {"scratchpad_kb": 980, "dram_bw_gbps": 32, "compute_macs_per_cycle": 128,
           "policy": "ilp_fixed_order_offsets"}
    out = sim.evaluate(cfg)
    info = sim.evaluation_info(cfg)
    assert out["feasible"] and info["placement"] == "fallback" and info["plan_status"] == "heuristic"
    fixed = sim.evaluate({**cfg, "policy": "ilp_fixed_order"})
    assert out["noncompulsory_bytes"] >= fixed["noncompulsory_bytes"]
    assert 0 < out["optimality_gap"] < 1  # the capacity optimum still bounds it
    plan, check, _ = sim.plan(980 * 1024, "ilp_fixed_order_offsets")
    assert plan.has_offsets and check.noncompulsory_bytes == out["noncompulsory_bytes"]


# -- bad options: one line naming the option and what is allowed ---------------------------------------
@pytest.mark.parametrize("options, words", [
    ({"time_limit_s": -1}, ["time_limit_s=-1", "positive number of seconds"]),
    ({"time_limit_s": math.nan}, ["time_limit_s=nan", "positive number"]),
    ({"time_limit_s": 0}, ["time_limit_s=0", "positive"]),
    ({"time_limit_s": [1]}, ["time_limit_s=[1]", "positive number"]),
    ({"time_limit_s": "10"}, ["time_limit_s='10'", "positive number"]),
    ({"time_limit_s": True}, ["time_limit_s=True", "positive number"]),
    ({"gap_rel": -1}, ["gap_rel=-1", "[0, 1)"]),
    ({"gap_rel": 1.5}, ["gap_rel=1.5", "[0, 1)"]),
    ({"gap_rel": math.nan}, ["gap_rel=nan", "[0, 1)"]),
    ({"policies": []}, ["policies=[]", "non-empty list"]),
    ({"policies": "belady"}, ["policies='belady'", "non-empty list"]),
    ({"policies": ["belady", "magic"]}, ["'magic'", "ilp_fixed_order"]),
    ({"policies": ["lru", "lru"]}, ["repeats", "lru"]),
    ({"free_order_max_ops": -1}, ["free_order_max_ops=-1", "whole number >= 0"]),
    ({"free_order_max_ops": 2.5}, ["free_order_max_ops=2.5", "whole number"]),
    ({"node_limit": 0}, ["node_limit=0", "whole number >= 1"]),
    ({"search_iterations": math.inf}, ["search_iterations=inf", "whole number"]),
    ({"window_node_limit": "5"}, ["window_node_limit='5'", "whole number"]),
    ({"search_seed": -3}, ["search_seed=-3", ">= 0"]),
    ({"precision_bytes": 0}, ["precision_bytes=0", ">= 1"]),
    ({"solver": "gurobi"}, ["solver='gurobi'", "auto, highs or cbc"]),
    ({"graph_options": 3}, ["graph_options=3", "mapping"]),
])
def test_bad_options_are_one_line_user_errors(options, words):
    with pytest.raises(UserInputError) as exc:
        ScratchpadSimulator("inception", **options)
    msg = str(exc.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


@pytest.mark.parametrize("value, words", [("-1", ["time_limit_s=-1"]), ("NaN", ["time_limit_s=nan"]),
                                          ("[1]", ["time_limit_s", "[1]"])])
def test_bad_time_limits_from_the_cli_exit_2_with_one_line(value, words, capsys):
    from archgym.cli import main as cli_main

    cfg = '{"scratchpad_kb": 461, "dram_bw_gbps": 16, "compute_macs_per_cycle": 512, "policy": "belady"}'
    code = cli_main(["evaluate", "Scratchpad-v0", "--workload", "inception", "--config", cfg,
                     "--set", f"time_limit_s={value}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and all(w in err for w in words), err

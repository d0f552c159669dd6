"""Scratchpad-v0 never raises for an in-space design, and its answers do not depend on the machine's load."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archgym.simulators.scratchpad import ScratchpadSimulator
from archgym.simulators.scratchpad.policies import POLICIES

#: a small work budget: node-limited solves, cut searches and placement fallbacks happen often
SMALL = {"node_limit": 20, "search_iterations": 20_000, "window_node_limit": 10, "placement_node_limit": 10}

_SIMS: dict[str, ScratchpadSimulator] = {}


def _sim(workload: str) -> ScratchpadSimulator:
    if workload not in _SIMS:
        _SIMS[workload] = ScratchpadSimulator(workload, **SMALL)
    return _SIMS[workload]


def _assert_sound(sim: ScratchpadSimulator, cfg: dict) -> None:
    out = sim.evaluate(cfg)
    assert isinstance(out["feasible"], bool) and out["in_space"] is True
    if not out["feasible"]:
        assert out["reason"] and math.isnan(out["offchip_bytes"])
        return
    for m in sim.metric_names:
        if m != "optimality_gap":
            assert math.isfinite(out[m]) and out[m] >= 0, (cfg, m)
    gap = out["optimality_gap"]
    assert math.isnan(gap) or 0 <= gap <= 1
    plan, check, _ = sim.plan(cfg["scratchpad_kb"] * 1024, cfg["policy"])
    assert check.noncompulsory_bytes == out["noncompulsory_bytes"] == plan.noncompulsory_bytes
    assert math.isnan(plan.bound) or plan.bound <= plan.noncompulsory_bytes + 1e-6
    info = sim.evaluation_info(cfg)
    assert info["plan_status"] in ("optimal", "feasible", "unsolved", "heuristic")


@pytest.mark.parametrize("workload", ScratchpadSimulator.workload_names)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_in_space_designs_never_raise(workload, data):
    sim = _sim(workload)
    cfg = {name: data.draw(st.sampled_from(list(sim.space[name].values)), label=name) for name in sim.space.names}
    _assert_sound(sim, cfg)


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_at_the_tightest_budget_of_a_branchy_graph(policy):
    sim = _sim("nas_cells_train")
    _assert_sound(sim, {"scratchpad_kb": sim.space["scratchpad_kb"].values[0], "dram_bw_gbps": 16,
                        "compute_macs_per_cycle": 512, "policy": policy})


@pytest.mark.parametrize("workload, kb", [("googlenet", 1315), ("attention", 1064)])
def test_designs_that_crashed_before_evaluate_at_the_default_budget(workload, kb):
    """Issue 26: an infeasible solver point accepted as a plan raised PlanError here."""
    sim = ScratchpadSimulator(workload)
    _assert_sound(sim, {"scratchpad_kb": kb, "dram_bw_gbps": 32, "compute_macs_per_cycle": 128,
                        "policy": "ilp_fixed_order_offsets"})


# -- the same metrics on an idle and on a loaded machine ------------------------------------------------
_DESIGNS = [("inception", 461, "ilp_free_order"), ("inception", 590, "windowed_search"),
            ("inception", 522, "ilp_free_order_offsets"), ("nas_cells", 404, "ilp_free_order")]
_BUDGET = {"node_limit": 100, "search_iterations": 20_000, "window_node_limit": 20, "placement_node_limit": 50}

_EVALUATE = textwrap.dedent("""
    import json, sys
    from archgym.simulators.scratchpad import ScratchpadSimulator
    designs, budget = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    sims, out = {}, []
    for workload, kb, policy in designs:
        sim = sims.setdefault(workload, ScratchpadSimulator(workload, **budget))
        cfg = {"scratchpad_kb": kb, "dram_bw_gbps": 16, "compute_macs_per_cycle": 512, "policy": policy}
        out.append([sim.evaluate(cfg), sim.evaluation_info(cfg)])
    print(json.dumps(out))
""")


def _evaluate_in_subprocess(hash_seed: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    res = subprocess.run([sys.executable, "-c", _EVALUATE, json.dumps(_DESIGNS), json.dumps(_BUDGET)],
                         capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_metrics_are_identical_with_and_without_a_cpu_hog_beside_them():
    """No wall-clock limit decides a plan: two processes (different hash seeds), one of
    them next to two busy-looping processes, give bit-identical metrics and plan info."""
    quiet = _evaluate_in_subprocess("1")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = _evaluate_in_subprocess("2")
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert json.dumps(quiet, sort_keys=True) == json.dumps(loaded, sort_keys=True)
    assert any(info["plan_status"] in ("feasible", "heuristic") for _, info in quiet)  # budgets did bind

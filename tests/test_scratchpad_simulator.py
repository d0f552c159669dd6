"""ScratchpadSimulator contract and the scheduling environment."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from archgym.simulators.scratchpad import ScratchpadScheduleEnv, ScratchpadSimulator
from archgym.space import InvalidConfigError


def _cfg(kb, policy="ilp_fixed_order"):
    return {"scratchpad_kb": kb, "dram_bw_gbps": 16, "compute_macs_per_cycle": 512, "policy": policy}


@pytest.fixture(scope="module")
def nas():
    return ScratchpadSimulator("nas_cells", graph_options={"cells": 2}, scratchpad_kb=(64, 8192),
                               search_iterations=50_000, window_node_limit=20)  # a small, counted budget


def test_contract_and_metrics(nas):
    assert nas.name == "Scratchpad" and nas.version and "resnet18" in nas.workload_names
    assert set(nas.space.names) == {"scratchpad_kb", "dram_bw_gbps", "compute_macs_per_cycle", "policy"}
    rows = nas.evaluate_batch([_cfg(512, p) for p in ("ilp_fixed_order", "belady", "lru", "ilp_free_order")])
    assert rows["feasible"].all()
    assert (rows["offchip_bytes"] == rows["compulsory_bytes"] + rows["noncompulsory_bytes"]).all()
    ilp, bel, lru, free = rows["noncompulsory_bytes"]
    assert ilp <= min(bel, lru) and free <= ilp
    assert rows["optimality_gap"].iloc[0] == 0.0 and (bel == 0 or math.isnan(rows["optimality_gap"].iloc[1]))
    assert (rows["latency_ns"] > 0).all() and (rows["energy_pj"] > 0).all()


def test_more_scratchpad_and_bandwidth_help(nas):
    small, big = nas.evaluate(_cfg(512)), nas.evaluate(_cfg(1024))
    assert big["noncompulsory_bytes"] <= small["noncompulsory_bytes"]
    fast = nas.evaluate({**_cfg(512), "dram_bw_gbps": 128})
    assert fast["latency_ns"] <= small["latency_ns"]


def test_infeasible_names_operator(nas):
    r = nas.evaluate(_cfg(256))
    assert r["feasible"] is False and "operator '" in r["reason"] and math.isnan(r["offchip_bytes"])


def test_designs_outside_the_space_are_costed(nas):
    out = nas.evaluate(_cfg(100))  # 100 KiB is not a power of two: outside the space, still a scratchpad
    assert out["in_space"] is False and out["feasible"] is False and "operator '" in out["reason"]
    inside = nas.evaluate(_cfg(512))
    assert inside["in_space"] is True and nas.evaluate({**_cfg(512), "dram_bw_gbps": 12.5})["in_space"] is False


@pytest.mark.parametrize("bad, message", [
    ({"scratchpad_kb": 0.5}, "'scratchpad_kb': 0.5 is not a value the model can cost; allowed: a positive integer"),
    ({"scratchpad_kb": 0}, "'scratchpad_kb': 0 is not"),
    ({"scratchpad_kb": True}, "'scratchpad_kb': True is not"),
    ({"dram_bw_gbps": -1}, "'dram_bw_gbps': -1 is not a value the model can cost; allowed: a positive number"),
    ({"dram_bw_gbps": "fast"}, "'dram_bw_gbps': 'fast' is not"),
    ({"compute_macs_per_cycle": 2.5}, "'compute_macs_per_cycle': 2.5 is not"),
    ({"policy": "magic"}, "'policy': 'magic' is not a policy; allowed: ilp_fixed_order"),
])
def test_bad_config_is_rejected(nas, bad, message):
    with pytest.raises(InvalidConfigError, match=message):
        nas.evaluate({**_cfg(512), **bad})


def test_unknown_policy_in_constructor():
    with pytest.raises(ValueError, match="unknown policy"):
        ScratchpadSimulator(policies=("magic",))


def test_workload_as_dict_and_json_path(tmp_path):
    from archgym.simulators.workloads.graphs import nas_cells

    d = nas_cells(cells=1).to_dict()
    p = tmp_path / "cell.json"
    p.write_text(json.dumps(d))
    a = ScratchpadSimulator(d).evaluate(_cfg(321))
    b = ScratchpadSimulator(str(p)).evaluate(_cfg(321))
    assert a["offchip_bytes"] == b["offchip_bytes"] and a["feasible"] and a["noncompulsory_bytes"] > 0


def test_default_budgets_span_min_feasible_to_peak():
    from archgym.simulators.workloads.transforms import peak_live_bytes

    sim = ScratchpadSimulator("nas_cells", graph_options={"cells": 2})
    kb = sim.space["scratchpad_kb"].values
    g = sim.graph
    assert kb[0] == math.ceil(g.max_working_set()[0] / 1024) and kb[-1] == math.ceil(peak_live_bytes(g) / 1024)
    assert kb == (404, 430, 457, 486, 516)  # 403.5 KiB (cell c1's pre-processing conv) .. 515.3 KiB
    assert sim.describe()["scratchpad_budgets"]["kb"] == list(kb)


def test_offset_policies_return_placed_plans(nas):
    plan, check, _ = nas.plan(512 * 1024, "ilp_fixed_order_offsets")
    capacity_only = nas.plan(512 * 1024, "ilp_fixed_order")[1]
    assert plan.has_offsets and check.noncompulsory_bytes == capacity_only.noncompulsory_bytes


def test_schedule_env_passes_check_env():
    from gymnasium.utils.env_checker import check_env

    env = ScratchpadScheduleEnv("nas_cells", graph_options={"cells": 1})
    check_env(env, skip_render_check=True)


def test_schedule_env_episode_and_invalid_actions():
    env = ScratchpadScheduleEnv("nas_cells", graph_options={"cells": 1}, reward_policy="ilp")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    done, steps, info, r = False, 0, {}, 0.0
    while not done:
        mask = env.action_masks()
        first = env.ready()[0]
        obs, r, done, trunc, info = env.step(env.max_ready - 1 if mask.sum() < env.max_ready else 0)
        assert info["operator"] == env.graph.ops[first].name  # invalid index -> first ready op
        steps += 1
    assert steps == env.graph.n_ops and not trunc
    # picking the first ready operator every time replays the default order
    assert info["order"] == env.graph.default_order()
    assert r == pytest.approx(-info["noncompulsory_bytes"] * env.reward_scale)
    assert info["noncompulsory_bytes"] == info["default_order_bytes"]


def test_schedule_env_belady_reward_and_masks():
    env = ScratchpadScheduleEnv("nas_cells", graph_options={"cells": 1}, reward_policy="belady")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    done = False
    while not done:
        valid = np.flatnonzero(env.action_masks())
        _, r, done, _, info = env.step(int(rng.choice(valid)))
        assert not info["invalid_action"]
    assert env.graph.is_topological(info["order"]) and r <= 0

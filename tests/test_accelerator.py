"""Accelerator-v0 agrees with its parts: Systolic-v0's compute model, DRAM-v0 on the same trace,
the physics of faster memory, the windowed extrapolation's stated error, the env/multi-agent checkers,
and one-line errors on bad input."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import archgym
from archgym.errors import UserInputError
from archgym.simulators.accelerator import MEMORIES, AcceleratorSimulator, write_stl
from archgym.simulators.accelerator.stream import split_channels
from archgym.simulators.accelerator.serve import serve_full
from archgym.simulators.dram import DRAMSimulator, run
from archgym.simulators.dram.knobs import DEFAULT_MCCONFIG, KNOBS
from archgym.simulators.systolic import SystolicSimulator
from archgym.simulators.systolic import compute, memory
from archgym.simulators.systolic.model import evaluate_arrays
from archgym.simulators.workloads.layers import load_network

LAYERS = load_network("resnet18") + load_network("bert_base_layer") + load_network("mobilenetv2")[:4]
SMALL = [lay for lay in LAYERS if lay.macs < 3e7]
POW = [4, 8, 16, 32, 64, 128, 256]
KB = [16, 32, 64, 128, 256, 512, 1024]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def design(rows=32, cols=32, dataflow="ws", kb=(256, 256, 256), mem="ddr4-2400", channels=1, **knobs):
    cfg = {"array_rows": rows, "array_cols": cols, "dataflow": dataflow, "ifmap_sram_kb": kb[0],
           "filter_sram_kb": kb[1], "ofmap_sram_kb": kb[2], "act_buffer_kb": 0, "act_buffer_policy": "none",
           "memory": mem, "channels": channels}
    cfg.update({k: DEFAULT_MCCONFIG[k] for k in KNOBS})
    cfg.update(knobs)
    return cfg


designs = st.builds(lambda r, c, df, i, f, o: design(r, c, df, (i, f, o)), st.sampled_from(POW),
                    st.sampled_from(POW), st.sampled_from(["os", "ws", "is"]), st.sampled_from(KB),
                    st.sampled_from(KB), st.sampled_from(KB))


def systolic_config(cfg, bw=64):
    out = {k: cfg[k] for k in ("array_rows", "array_cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb",
                               "ofmap_sram_kb")}
    out["dram_bw_words_per_cycle"] = bw
    return out


@FAST
@given(designs, st.sampled_from(LAYERS))
def test_ideal_memory_cycles_equal_systolic_compute_cycles(cfg, layer):
    acc = AcceleratorSimulator(layer, ideal_memory=True).evaluate(cfg)
    ref = SystolicSimulator(layer).evaluate(systolic_config(cfg))
    assert acc["feasible"] == ref["feasible"]
    if ref["feasible"]:
        assert acc["cycles"] == ref["cycles"] - ref["stall_cycles"]
        assert acc["stall_cycles"] == 0 and acc["dram_energy_pj"] == 0


@FAST
@given(designs, st.sampled_from(LAYERS))
def test_stream_moves_exactly_the_systolic_dram_traffic(cfg, layer):
    sim = AcceleratorSimulator(layer)
    (stream,) = sim.layer_streams(cfg)[1]
    la = sim._arrays
    df = int(compute.dataflow_code(cfg["dataflow"]))
    g = compute.fold_geometry(cfg["array_rows"], cfg["array_cols"], df, la["M"], la["K"], la["N"])
    tr = memory.dram_traffic(g, la, cfg["ifmap_sram_kb"] * 1024, cfg["filter_sram_kb"] * 1024,
                             cfg["ofmap_sram_kb"] * 1024, 1.0)
    want = [tr.ifmap_reads, tr.filter_reads, tr.ofmap_reads, tr.ofmap_writes]
    got = stream.counts.sum(axis=0)
    for words, bursts in zip(want, got):
        assert bursts == math.ceil(float(np.squeeze(words)) / 64 - 1e-7)
    for c in (2, 8):                      # the channels' sub-streams share out every burst
        parts = split_channels(stream, c)
        assert np.array_equal(sum(p.counts for p in parts), stream.counts)
        assert max(p.n_requests for p in parts) - min(p.n_requests for p in parts) <= 4 * stream.n_batches


@pytest.mark.parametrize("mem, channels", [("ddr3-1600", 1), ("hbm2", 1), ("lpddr4-3200", 4)])
def test_dram_part_equals_dram_v0_on_the_trace_file(tmp_path, mem, channels):
    """Per channel: the channel's sub-stream written as an STL file gives DRAM-v0's figures."""
    layer = load_network("resnet18")[7]
    sim = AcceleratorSimulator(layer, window=None)
    cfg = design(16, 16, "os", (64, 64, 64), mem, channels, PagePolicy="Closed", Scheduler="Fifo")
    (whole,) = sim.layer_streams(cfg)[1]
    stream = split_channels(whole, channels)[-1]
    trace, slot = stream.trace()
    assert 1000 < len(trace) < 20000
    mc = {k: cfg[k] for k in KNOBS}
    ours = run(sim.spec(mem), trace, mc)
    path = write_stl(trace, tmp_path / "layer.stl")
    dram = DRAMSimulator(workload=str(path), memory=mem)
    theirs = dram.simulate(mc)
    assert ours.metrics() == theirs.metrics()
    assert np.array_equal(ours.complete_ns, theirs.complete_ns)
    res = dram.evaluate(mc)
    assert {k: res[k] for k in ours.metrics()} == ours.metrics()
    svc = serve_full(stream, sim.spec(mem), mc)
    assert svc.dynamic_pj + svc.busy_background_pj == pytest.approx(theirs.energy.total_pj)
    # at the window's end the layer also owes the refreshes the run postponed (see .idle)
    spec = sim.spec(mem)
    owed = spec.simulated_ranks * int(theirs.energy.window_ns / spec.tck_ns / spec.timing["REFI"]) - theirs.n_refresh
    tail = svc.energy_pj(theirs.energy.window_ns) - theirs.energy.total_pj
    assert np.sign(tail) == np.sign(owed)    # owed < 0: the run pulled refreshes in, taken off


@settings(max_examples=10, deadline=None)
@given(designs, st.sampled_from(SMALL), st.sampled_from(MEMORIES))
@example(design(64, 32, "os", (16, 16, 16)), next(lay for lay in SMALL if lay.name == "block1_expand"), "ddr3-1600")
def test_more_channels_never_stall_longer(cfg, layer, mem):
    """Doubling the channels never increases the stall, up to 5 % of the cycles (a compute-bound
    layer's stall is a tail latency -- one request the FR-FCFS scheduler holds back behind row
    hits: 64x32 ``os``, 16 KB SRAMs, MobileNetV2 ``block1_expand``, DDR3-1600, the default
    staggered layout: 724 stall cycles on 4 channels, 3,038 on 8, 4.6 % of the 65,404 cycles;
    the last request of the first fold of column fold 1 completes 3 us after its slot, with
    the refresh off too)."""
    sim = AcceleratorSimulator(layer)
    res = [sim.evaluate({**cfg, "memory": mem, "channels": c}) for c in (1, 2, 4, 8)]
    if not res[0]["feasible"]:
        return
    for few, more in zip(res, res[1:]):
        assert more["stall_cycles"] <= few["stall_cycles"] + 0.05 * few["cycles"]


@settings(max_examples=10, deadline=None)
@given(designs, st.sampled_from(SMALL), st.sampled_from([1, 4]))
def test_faster_standard_never_stalls_longer(cfg, layer, channels):
    """At the same channel count, every standard stalls no longer than LPDDR4-3200 (one x16
    channel, 6.4 GB/s, the least peak bandwidth), up to 5 % of the cycles (a compute-bound
    layer's stall is a tail latency, and an idle controller pulls refreshes in, DRAM-v0 >= 1.2:
    32x16 ``is``, 16 KB SRAMs, BERT ``attn_context_h0``, 4 channels: HBM2 stalls 193 cycles,
    LPDDR4-3200 90, of 4,634).

    Peak bandwidth per channel orders nothing else (findings, full stream, 16x4 ``os`` with
    16 KB SRAMs on ``layer2.0.downsample``, one channel): DDR4-2400 (19.2 GB/s) stalls 27,851
    cycles against DDR3-1600's (12.8 GB/s) 15,059 (same-bank-group CAS every tCCD_L = 5 ns as
    DDR3's tCCD, longer row cycles); one HBM2 pseudo-channel (16 GB/s, 32 B bursts) stalls
    157,982.  The same traces through DRAM-v0 give the same.
    """
    sim = AcceleratorSimulator(layer)
    res = {mem: sim.evaluate({**cfg, "memory": mem, "channels": channels}) for mem in MEMORIES}
    if not res["hbm2"]["feasible"]:
        return
    slow = res["lpddr4-3200"]
    for mem in ("ddr3-1600", "ddr4-2400", "hbm2"):
        assert res[mem]["stall_cycles"] <= slow["stall_cycles"] + 0.05 * slow["cycles"], mem


@settings(max_examples=15, deadline=None)
@given(designs, st.sampled_from(SMALL), st.sampled_from(MEMORIES), st.sampled_from([1, 2, 4, 8]))
def test_latency_never_below_systolic_at_the_designs_peak_bandwidth(cfg, layer, mem, channels):
    """Systolic-v0 at the design's peak bandwidth (channels x the standard's, in words per cycle)
    is the bound a double-buffered schedule cannot beat; compute cycles are equal."""
    sim = AcceleratorSimulator(layer)
    acc = sim.evaluate({**cfg, "memory": mem, "channels": channels})
    # Systolic-v0's model at a bandwidth its space (powers of two) cannot name
    ref = evaluate_arrays(cfg["array_rows"], cfg["array_cols"], cfg["dataflow"], cfg["ifmap_sram_kb"],
                          cfg["filter_sram_kb"], cfg["ofmap_sram_kb"], sim.peak_words_per_cycle(mem, channels), layer)
    if bool(np.all(ref["feasible"])):
        assert acc["cycles"] >= float(np.sum(ref["cycles"]))


def test_exact_service_is_the_default_and_a_window_covering_every_stream_equals_it():
    """The window's error is not bounded (docs/accelerator.md: worst 92-180 % at 4096), so the
    default serves every request; a window no smaller than a layer's stream serves it whole."""
    cfg = design(64, 16, "os", (128, 64, 64), "hbm2", 2, PagePolicy="ClosedAdaptive")
    exact = AcceleratorSimulator("bert_base_layer")
    assert exact.window is None
    n = max(s.n_requests for s in exact.layer_streams(cfg)[1])
    assert AcceleratorSimulator("bert_base_layer", window=n).evaluate(cfg) == exact.evaluate(cfg)
    small = AcceleratorSimulator("bert_base_layer", window=1024).evaluate(cfg)
    assert small["onchip_energy_pj"] == exact.evaluate(cfg)["onchip_energy_pj"]
    assert small["latency_ns"] != exact.evaluate(cfg)["latency_ns"]


def test_groups_are_declared_and_partition_the_space():
    sim = AcceleratorSimulator("bert_base_layer")
    assert list(sim.space.groups) == ["compute", "on_chip", "dram"]
    assert sim.space.groups["compute"] == ["array_rows", "array_cols", "dataflow"]
    assert sim.space.groups["dram"][:3] == ["memory", "channels", "PagePolicy"]
    assert set(sim.space.groups["dram"]) == {"memory", "channels", *KNOBS}
    systolic = SystolicSimulator().space
    for p in ("array_rows", "dataflow", "ofmap_sram_kb"):
        assert sim.space[p].values == systolic[p].values


def test_check_env_and_parallel_api_on_the_declared_groups():
    pytest.importorskip("pettingzoo")
    from gymnasium.utils.env_checker import check_env
    from pettingzoo.test import parallel_api_test

    from archgym.multi_agent import MultiAgentDSEEnv

    env = archgym.make("Accelerator-v0", workload="resnet20_cifar")
    check_env(env.unwrapped, skip_render_check=True)
    ma = MultiAgentDSEEnv(archgym.make("Accelerator-v0", workload="resnet20_cifar", episode_length=2))
    assert ma.possible_agents == ["compute", "on_chip", "dram"]
    parallel_api_test(ma, num_cycles=4)


def test_metrics_add_up():
    sim = AcceleratorSimulator("bert_base_layer")
    r = sim.evaluate(design())
    assert r["energy_pj"] == pytest.approx(r["onchip_energy_pj"] + r["dram_energy_pj"])
    assert r["edp_pj_s"] == pytest.approx(r["energy_pj"] * r["latency_ns"] * 1e-9)
    assert r["latency_ns"] == r["cycles"]            # 1 GHz
    assert 0 < r["row_hit_rate"] <= 1 and 0 < r["utilization"] <= 1
    det = sim.evaluate_details(design())
    assert det["cycles"].sum() == r["cycles"]
    assert (det["stall_cycles"] >= det["peak_rule_stall"]).all()


def test_infeasible_design_names_the_layer_and_sram():
    r = AcceleratorSimulator("resnet18").evaluate(design(256, 256, "ws", (16, 16, 16)))
    assert not r["feasible"] and "filter SRAM" in r["reason"] and math.isnan(r["latency_ns"])


@pytest.mark.parametrize("change, match", [
    ({"memory": "ddr5-6400"}, "memory"),
    ({"channels": 3}, "channels"),
    ({"PagePolicy": "Sometimes"}, "PagePolicy"),
    ({"Scheduler": "Lottery"}, "Scheduler"),
    ({"dram_bw_words_per_cycle": 16}, "dram_bw_words_per_cycle"),
])
def test_bad_design_is_one_line(change, match):
    sim = AcceleratorSimulator("bert_base_layer")
    with pytest.raises(UserInputError, match=match) as e:
        sim.evaluate({**design(), **change})
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kwargs", [{"workload": "resnet1800"}, {"workload": "/no/such/topology.csv"}])
def test_bad_workload_is_one_line(kwargs):
    with pytest.raises(UserInputError) as e:
        AcceleratorSimulator(**kwargs)
    assert "\n" not in str(e.value)


def test_cli_bad_standard_exits_2_with_one_line():
    cfg = json.dumps({**design(), "memory": "ddr9"})
    p = subprocess.run([sys.executable, "-m", "archgym.cli", "evaluate", "Accelerator-v0", "--workload",
                        "bert_base_layer", "--config", cfg], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "ddr9" in p.stderr

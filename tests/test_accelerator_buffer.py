"""Accelerator-v0's activation buffer (second step): the systolic layer -> graph operator table,
buffer 0 = no buffer exactly, an unbounded buffer leaves only input, weights and final output in
DRAM, and more buffer never adds DRAM traffic."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.simulators.accelerator import AcceleratorSimulator
from archgym.simulators.accelerator.act_buffer import activation_graph, layer_ops
from archgym.simulators.accelerator.stream import STREAMS
from archgym.simulators.scratchpad import InfeasibleError
from archgym.simulators.workloads.layers import load_network

COL = {name: s for s, (name, _) in enumerate(STREAMS)}


def belady(cfg, kb):
    return {**cfg, "act_buffer_kb": kb, "act_buffer_policy": "belady"}


@pytest.mark.parametrize("net", ["resnet18", "resnet50", "mobilenetv2"])
def test_every_layer_maps_to_the_operators_with_its_macs(net):
    """The name table is checked against an independent quantity: the graph operators mapped to a
    systolic layer do exactly that layer's MACs (tiles summed), and no operator serves two layers."""
    layers = load_network(net)
    g = activation_graph(net)
    ops = layer_ops(g, [lay.name for lay in layers])
    assert [sum(g.ops[i].macs for i in idx) for idx in ops] == [lay.macs for lay in layers]
    flat = [i for idx in ops for i in idx]
    assert len(flat) == len(set(flat))


def test_buffer_zero_or_policy_none_equals_no_buffer():
    sim = AcceleratorSimulator("resnet18")
    cfg = sim.reference_config()
    base = sim.evaluate(cfg)
    assert sim.evaluate(belady(cfg, 0)) == base
    off = sim.evaluate({**cfg, "act_buffer_kb": 4096})            # a buffer, unused (policy none)
    assert {k: v for k, v in off.items() if k != "area_mm2"} == {k: v for k, v in base.items() if k != "area_mm2"}
    assert off["area_mm2"] > base["area_mm2"]


def test_large_buffer_leaves_only_input_weights_and_final_output_in_dram():
    sim = AcceleratorSimulator("resnet18")
    cfg = sim.reference_config()
    _, before = sim.layer_streams(cfg)
    _, after = sim.layer_streams(belady(cfg, 4096))     # >= ResNet-18's peak live activations (batch 1)
    names = [lay.name for lay in sim.layers]
    for name, b, a in zip(names, before, after):
        tot_b, tot_a = b.counts.sum(axis=0), a.counts.sum(axis=0)
        assert tot_a[COL["filter_read"]] == tot_b[COL["filter_read"]]
        assert (tot_a[COL["ifmap_read"]] > 0) == (name == "conv1")
        assert (tot_a[COL["ofmap_write"]] > 0) == (name == "fc")
    r0, r1 = sim.evaluate(cfg), sim.evaluate(belady(cfg, 4096))
    assert r1["dram_bytes"] < r0["dram_bytes"] and r1["dram_energy_pj"] < r0["dram_energy_pj"]


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["resnet18", "mobilenetv2"]), st.sampled_from([4, 8, 16, 32, 64]),
       st.sampled_from(["os", "ws", "is"]), st.sampled_from([32, 128, 512]),
       st.lists(st.sampled_from([0, 256, 512, 1024, 2048, 4096]), min_size=2, max_size=2, unique=True))
def test_more_buffer_never_adds_dram_traffic(net, n, df, kb, sizes):
    sim = AcceleratorSimulator(net)
    cfg = {**sim.reference_config(), "array_rows": n, "array_cols": n, "dataflow": df,
           "ifmap_sram_kb": kb, "filter_sram_kb": kb, "ofmap_sram_kb": kb}
    traffic = []
    for size in sorted(sizes):
        try:
            traffic.append(sum(s.n_requests for s in sim.layer_streams(belady(cfg, size))[1]))
        except InfeasibleError as e:    # the buffer cannot hold some operator's activations
            assert "scratchpad holds" in str(e) and size > 0
            return
    assert traffic[1] <= traffic[0]


def test_too_small_buffer_or_no_graph_is_an_infeasible_design_named():
    sim = AcceleratorSimulator("resnet18")
    r = sim.evaluate(belady(sim.reference_config(), 256))
    assert not r["feasible"] and "conv1" in r["reason"] and "\n" not in r["reason"]
    bert = AcceleratorSimulator("bert_base_layer")
    r = bert.evaluate(belady(bert.reference_config(), 1024))
    assert not r["feasible"] and "bert_base_layer" in r["reason"] and np.isnan(r["latency_ns"])

"""SystolicSimulator: contract, invariants (hypothesis), vectorized == per-point, errors, .cfg parsing."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.simulator import FEASIBLE, REASON, WorkloadError
from archgym.space import InvalidConfigError
from archgym.simulators.systolic import REPORT_COLUMNS, ConfigFileError, SystolicSimulator, evaluate_arrays
from archgym.simulators.systolic.compute import DataflowError
from archgym.simulators.workloads import Layer, list_networks

POW2 = [4, 8, 16, 32, 64, 128, 256]
SRAM = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024]
BW = [1, 2, 4, 8, 16, 32, 64]


@st.composite
def layers(draw):
    if draw(st.booleans()):
        return Layer.gemm("g", draw(st.integers(1, 600)), draw(st.integers(1, 600)), draw(st.integers(1, 600)))
    fh = draw(st.integers(1, 7))
    fw = draw(st.integers(1, 7))
    h = draw(st.integers(fh, 40))
    w = draw(st.integers(fw, 40))
    kind = draw(st.sampled_from(["conv", "conv", "dwconv"]))
    ci = draw(st.integers(1, 64))
    co = draw(st.integers(1, 2)) if kind == "dwconv" else draw(st.integers(1, 128))
    return Layer("l", kind, h, w, fh, fw, ci, co, draw(st.integers(1, 4)))


def run(lay, R, C, df, kb=(64, 64, 64), bw=8.0, **kw):
    out = evaluate_arrays(R, C, df, *kb, bw, lay, report=True, **kw)
    return {k: np.asarray(v).reshape(-1)[0].item() for k, v in out.items()}


design = dict(R=st.sampled_from(POW2), C=st.sampled_from(POW2), df=st.sampled_from(["os", "ws", "is"]),
              kb=st.tuples(*[st.sampled_from(SRAM)] * 3), bw=st.sampled_from(BW))


@settings(max_examples=150, deadline=None)
@given(lay=layers(), **design)
def test_invariants(lay, R, C, df, kb, bw):
    r = run(lay, R, C, df, kb, bw)
    assert r["cycles"] >= lay.macs / (R * C)
    assert r["compute_cycles"] + 1 >= lay.macs / (R * C)
    assert 0 < r["utilization"] <= 1.0
    assert r["overall_util_pct"] <= 100.0 and r["compute_util_pct"] <= 100.0
    assert 0 < r["mapping_efficiency_pct"] <= 100.0
    assert r["stall_cycles"] >= 0
    assert r["dram_ifmap_reads"] >= lay.ifmap_footprint * lay.repeat
    assert r["dram_filter_reads"] >= lay.K * lay.N * lay.repeat
    assert r["dram_words"] >= lay.repeat * (lay.ifmap_footprint + lay.K * lay.N + lay.M * lay.N)
    assert r["energy_pj"] > 0 and r["sram_words"] > 0


@settings(max_examples=100, deadline=None)
@given(lay=layers(), sharing=st.sampled_from(["shared", "per_operand"]), **design)
def test_more_bandwidth_or_sram_never_hurts(lay, R, C, df, kb, bw, sharing):
    base = run(lay, R, C, df, kb, bw, sharing=sharing)
    faster = run(lay, R, C, df, kb, bw * 2, sharing=sharing)
    assert faster["stall_cycles"] <= base["stall_cycles"]
    assert faster["dram_words"] == base["dram_words"]
    bigger = run(lay, R, C, df, tuple(2 * k for k in kb), bw, sharing=sharing)
    assert bigger["dram_words"] <= base["dram_words"]
    assert bigger["stall_cycles"] <= base["stall_cycles"]


def test_per_operand_ports_never_stall_more_than_shared():
    lay = Layer("c", "conv", 30, 30, 3, 3, 64, 128, 1)
    for df in ("os", "ws", "is"):
        a = run(lay, 16, 16, df, (16, 16, 16), 2, sharing="shared")
        b = run(lay, 16, 16, df, (16, 16, 16), 2, sharing="per_operand")
        assert b["stall_cycles"] <= a["stall_cycles"]


def test_unlimited_bandwidth_means_no_stalls_and_exact_cycles():
    lay = Layer("c", "conv", 34, 34, 3, 3, 16, 16, 1)
    r = run(lay, 8, 8, "os", (1024, 1024, 1024), 1e12)
    assert r["stall_cycles"] == 0
    # os: Fr = ceil(1024/8) = 128, Fc = 2, L = K + R + C - 2 = 144 + 14
    assert r["cycles"] == 128 * 2 * (144 + 14)
    assert r["compute_cycles"] == r["cycles"] - 1


def test_depthwise_is_repeat_of_single_channel_layer():
    dw = Layer("b_DP", "dwconv", 16, 16, 3, 3, 32, 1, 1)
    one = Layer("one", "conv", 16, 16, 3, 3, 1, 1, 1)
    a, b = run(dw, 8, 8, "ws"), run(one, 8, 8, "ws")
    for k in ("cycles", "stall_cycles", "macs", "dram_words", "energy_pj", "sram_ifmap_reads"):
        assert a[k] == pytest.approx(32 * b[k])
    assert a["utilization"] == pytest.approx(b["utilization"])
    assert a["compute_cycles"] == 32 * (b["compute_cycles"] + 1) - 1


# -- the simulator class ---------------------------------------------------------
@pytest.fixture(scope="module")
def sim():
    return SystolicSimulator("resnet20_cifar")


def test_contract(sim):
    assert sim.name == "Systolic" and sim.version
    assert set(sim.workload_names) == set(list_networks())
    assert sim.space.size <= 500_000
    assert sim.metric_names == ["cycles", "stall_cycles", "utilization", "energy_pj", "area_mm2", "latency_ns",
                                "dram_bytes", "sram_bytes"]
    assert not sim.metric("utilization").lower_is_better
    res = sim.evaluate(sim.reference_config())
    assert res[FEASIBLE] and res[REASON] == ""
    assert all(math.isfinite(res[m]) and res[m] > 0 for m in sim.metric_names)
    assert res["latency_ns"] == pytest.approx(res["cycles"])   # 1 GHz default


def test_clock_and_word_size():
    a = SystolicSimulator("alexnet", clock_mhz=500)
    cfg = a.reference_config()
    r = a.evaluate(cfg)
    assert r["latency_ns"] == pytest.approx(2 * r["cycles"])
    b = SystolicSimulator("alexnet", word_bytes=2).evaluate(cfg)
    assert b["energy_pj"] > r["energy_pj"] and b["area_mm2"] > r["area_mm2"]
    assert b["dram_bytes"] >= 2 * r["dram_bytes"] * 0.99


def test_batch_equals_per_point(sim):
    idx = sim.space.sample_indices(3, 300)
    cfgs = [sim.space.decode(i) for i in idx]
    cfgs.append({"array_rows": 256, "array_cols": 256, "dataflow": "ws", "ifmap_sram_kb": 16,
                 "filter_sram_kb": 16, "ofmap_sram_kb": 16, "dram_bw_words_per_cycle": 1})
    batch = sim.evaluate_batch(cfgs)
    assert len(batch) == len(cfgs)
    for i in (0, 1, 2, 50, 299, 300):
        one = sim.evaluate(cfgs[i])
        assert bool(batch[FEASIBLE].iloc[i]) == one[FEASIBLE]
        assert batch[REASON].iloc[i] == one[REASON]
        for m in sim.metric_names:
            a, b = batch[m].iloc[i], one[m]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)
    # chunked path gives the same numbers
    small = SystolicSimulator("resnet20_cifar")
    small.CHUNK_POINTS = 64
    pd.testing.assert_frame_equal(small.evaluate_batch(cfgs), batch)


def test_infeasible_design_has_reason_and_nan(sim):
    cfg = {"array_rows": 256, "array_cols": 256, "dataflow": "ws", "ifmap_sram_kb": 16,
           "filter_sram_kb": 16, "ofmap_sram_kb": 16, "dram_bw_words_per_cycle": 1}
    r = sim.evaluate(cfg)
    assert not r[FEASIBLE] and "filter SRAM" in r[REASON]
    assert all(math.isnan(r[m]) for m in sim.metric_names)


def test_details_columns_and_totals(sim):
    cfg = sim.reference_config()
    det = sim.evaluate_details(cfg)
    assert list(det["layer"]) == [lay.name for lay in sim.layers]
    for col in REPORT_COLUMNS:
        assert col in det
    tot = sim.evaluate(cfg)
    assert det["cycles"].sum() == pytest.approx(tot["cycles"])
    assert det["stall_cycles"].sum() == pytest.approx(tot["stall_cycles"])
    assert (det["compute_cycles"] == det["cycles"] - 1).all()


def test_evaluate_arrays_method_shape(sim):
    out = sim.evaluate_arrays(array_rows=[8, 16], array_cols=[8, 32], dataflow=["os", "is"],
                              ifmap_sram_kb=[64, 64], filter_sram_kb=[64, 64], ofmap_sram_kb=[64, 64],
                              dram_bw_words_per_cycle=[4, 4])
    assert out["cycles"].shape == (2, len(sim.layers))


def test_workload_forms(tmp_path):
    lay = Layer("x", "conv", 10, 10, 3, 3, 8, 8, 1)
    assert SystolicSimulator(lay).layers == (lay,)
    assert SystolicSimulator([lay, {"name": "g", "M": 4, "N": 5, "K": 6}]).layers[1].K == 6
    p = tmp_path / "net.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "c1, 10, 10, 3, 3, 8, 8, 1,\n")
    assert SystolicSimulator(str(p)).workload == "net"
    with pytest.raises(WorkloadError, match="unknown workload"):
        SystolicSimulator("nonet")


def test_bad_input_errors():
    with pytest.raises(DataflowError, match="unknown dataflow 'xs'"):
        evaluate_arrays(8, 8, "xs", 64, 64, 64, 4, Layer.gemm("g", 10, 10, 10))
    with pytest.raises(ValueError, match="rows must be positive"):
        evaluate_arrays(0, 8, "os", 64, 64, 64, 4, Layer.gemm("g", 10, 10, 10))
    with pytest.raises(ValueError, match="dram_bw must be positive"):
        evaluate_arrays(8, 8, "os", 64, 64, 64, [4, -1], Layer.gemm("g", 10, 10, 10))
    with pytest.raises(ValueError):
        SystolicSimulator("alexnet", clock_mhz=0)
    with pytest.raises(ValueError):
        SystolicSimulator("alexnet", dram_sharing="magic")
    with pytest.raises(TypeError, match="unknown option"):
        SystolicSimulator("alexnet", bogus=1)
    sim = SystolicSimulator("alexnet")
    cfg = dict(sim.reference_config(), dataflow="rs")
    with pytest.raises(InvalidConfigError, match="dataflow"):
        sim.evaluate(cfg)


# -- SCALE-Sim .cfg -------------------------------------------------------------
CFG = """[general]
run_name = test

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  128
OfmapSramSzkB:   32
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : {bw}
Dataflow : {df}
MemoryBanks:   1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[run_presets]
InterfaceBandwidth: {mode}
UseRamulatorTrace: False
"""


def test_parse_scalesim_cfg(tmp_path, sim):
    p = tmp_path / "a.cfg"
    p.write_text(CFG.format(bw=16, df="is", mode="USER"))
    d = sim.parse_config_file(str(p))
    assert d == {"array_rows": 32, "array_cols": 16, "dataflow": "is", "ifmap_sram_kb": 64, "filter_sram_kb": 128,
                 "ofmap_sram_kb": 32, "dram_bw_words_per_cycle": 16}
    sim.evaluate(d)
    p.write_text(CFG.format(bw=10, df="ws", mode="CALC"))   # CALC: bandwidth is estimated -> the space's max
    assert sim.parse_config_file(str(p))["dram_bw_words_per_cycle"] == 64
    assert sim.parse_config_file(str(tmp_path / "x.json")) is None


def test_parse_cfg_errors_name_the_key(tmp_path, sim):
    p = tmp_path / "b.cfg"
    # sizes outside the search space are costed (the space is a search domain, not the model's limit)
    p.write_text(CFG.format(bw=10, df="os", mode="USER").replace("ArrayHeight:    32", "ArrayHeight: 3"))
    cfg = sim.parse_config_file(str(p))
    assert cfg["dram_bw_words_per_cycle"] == 10 and cfg["array_rows"] == 3
    assert sim.evaluate(cfg)["in_space"] is False
    p.write_text(CFG.format(bw=10.5, df="os", mode="USER"))
    with pytest.raises(ConfigFileError, match="Bandwidth"):
        sim.parse_config_file(str(p))
    p.write_text(CFG.format(bw=8, df="rs", mode="USER"))
    with pytest.raises(ConfigFileError, match="Dataflow"):
        sim.parse_config_file(str(p))
    p.write_text(CFG.format(bw=8, df="os", mode="USER").replace("ArrayHeight:    32", "ArrayHeight: 32.9"))
    with pytest.raises(ConfigFileError, match="ArrayHeight"):  # refused, never truncated to 32
        sim.parse_config_file(str(p))
    p.write_text(CFG.format(bw=8, df="os", mode="USER").replace("OfmapSramSzkB:   32\n", ""))
    with pytest.raises(ConfigFileError, match="OfmapSramSzkB"):
        sim.parse_config_file(str(p))


def test_evaluate_arrays_layouts_agree(monkeypatch):
    """Flat mixed-dataflow points, a (designs x layers) grid and a transposed grid
    (dataflow varying along the last axis) all give the per-point numbers."""
    import archgym.simulators.systolic.model as model

    monkeypatch.setattr(model, "CHUNK_POINTS", 64)      # force several blocks
    rng = np.random.default_rng(7)
    layers = [Layer("c", "conv", 18, 18, 3, 3, 16, 32, 1), Layer.gemm("g", 37, 19, 53),
              Layer("d_DP", "dwconv", 12, 12, 3, 3, 8, 2, 2)]
    n = 300
    pts = dict(R=rng.choice(POW2, n), C=rng.choice(POW2, n), df=rng.integers(0, 3, n),
               kb=rng.choice(SRAM, (3, n)), bw=rng.choice(BW, n), lay=rng.integers(0, len(layers), n))
    la = model.layer_arrays(layers)
    flat = evaluate_arrays(pts["R"], pts["C"], pts["df"], *pts["kb"], pts["bw"],
                           {k: v[pts["lay"]] for k, v in la.items()}, report=True)
    grid = evaluate_arrays(pts["R"][:, None], pts["C"][:, None], pts["df"][:, None], *pts["kb"][:, :, None],
                           pts["bw"][:, None], {k: v[None, :] for k, v in la.items()})
    tgrid = evaluate_arrays(pts["R"][None, :], pts["C"][None, :], pts["df"][None, :], *pts["kb"][:, None, :],
                            pts["bw"][None, :], {k: v[:, None] for k, v in la.items()})
    for i in range(0, n, 7):
        one = evaluate_arrays(pts["R"][i], pts["C"][i], int(pts["df"][i]), *pts["kb"][:, i], pts["bw"][i],
                              layers[pts["lay"][i]], report=True)
        j = pts["lay"][i]
        for k in ("cycles", "stall_cycles", "energy_pj", "dram_words", "feasible", "compute_cycles"):
            assert flat[k][i] == one[k][0]
        for k in ("cycles", "energy_pj", "infeasible_code"):
            assert grid[k][i, j] == one[k][0] and tgrid[k][j, i] == one[k][0]


@pytest.mark.parametrize("sharing", ["shared", "per_operand"])
def test_monotone_on_a_full_grid(sharing):
    """Exhaustive check on a design grid x every layer of three networks: a bigger SRAM or
    more bandwidth never increases DRAM traffic, stalls or cycles."""
    from archgym.simulators.systolic import layer_arrays
    from archgym.simulators.workloads import load_network

    layers = load_network("resnet18") + load_network("mobilenetv2") + load_network("bert_base_layer")
    la = {k: v.reshape((1,) * 7 + (-1,)) for k, v in layer_arrays(layers).items()}
    ax = lambda vals, i: np.array(vals, float).reshape([-1 if j == i else 1 for j in range(8)])  # noqa: E731
    out = evaluate_arrays(ax([4, 32, 256], 0), ax([4, 32, 256], 1), np.arange(3).reshape(1, 1, 3, 1, 1, 1, 1, 1),
                          ax([16, 64, 256, 1024], 3), ax([16, 64, 256, 1024], 4), ax([16, 64, 256, 1024], 5),
                          ax([1, 8, 64], 6), la, sharing=sharing)
    for key in ("dram_words", "stall_cycles", "cycles"):
        for axis in (3, 4, 5, 6):
            assert (np.diff(out[key], axis=axis) <= 0).all(), (key, axis)
    assert (np.diff(out["dram_words"], axis=6) == 0).all()
    assert (out["utilization"] <= 1.0).all()

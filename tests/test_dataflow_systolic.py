"""Consistency with Systolic-v0: weight- and output-stationary mappings of the dataflow model on a
systolic-like architecture give the systolic simulator's MAC cycles (folds x streamed length) when
compute-bound."""
from __future__ import annotations

import pytest

import archgym
from archgym.simulators.dataflow import (Architecture, Compute, Fanout, LevelMapping, Mapping, StorageLevel,
                                         evaluate_mapping, problem_from_layer)
from archgym.simulators.systolic.compute import OS, WS, fold_geometry
from archgym.simulators.workloads import Layer

ROWS, COLS = 16, 8


def systolic_like() -> Architecture:
    """DRAM, a large SRAM, a ROWS x COLS PE array (meshY = rows), one stationary register per PE."""
    return Architecture("systolic_like", (
        StorageLevel("DRAM", "DRAM", None, 8),
        StorageLevel("SRAM", "SRAM", 1 << 20, 8),
        StorageLevel("PEReg", "regfile", 1, 8),
    ), (None, Fanout("PE", COLS, ROWS), None), Compute("mac", 8))


LAYERS = [
    # conv: GEMM M = 8*8 output pixels, K = 3*3*16, N = 32 filters
    (Layer("conv3x3", "conv", 10, 10, 3, 3, 16, 32, 1),
     {"ws": ({"C": 16}, {"M": 8}, {"P": 8, "Q": 8}, {"R": 3, "S": 3, "M": 4}, "Weights"),
      "os": ({"P": 8, "Q": 2}, {"M": 8}, {"C": 16, "R": 3, "S": 3}, {"Q": 4, "M": 4}, "Outputs")}),
    # pointwise conv with a larger reduction: M = 4*4, K = 64, N = 16
    (Layer("conv1x1", "conv", 4, 4, 1, 1, 64, 16, 1),
     {"ws": ({"C": 16}, {"M": 8}, {"P": 4, "Q": 4}, {"C": 4, "M": 2}, "Weights"),
      "os": ({"P": 4, "Q": 4}, {"M": 8}, {"C": 64}, {"M": 2}, "Outputs")}),
]


def _mapping(problem, y, x, reg_loops, sram_loops, stationary):
    order = tuple(problem.dims)
    return Mapping((
        LevelMapping({}, order),
        LevelMapping(sram_loops, order, spatial_x=x, spatial_y=y, keep=frozenset(ds.name for ds in problem.dataspaces)),
        LevelMapping(reg_loops, order, keep=frozenset({stationary})),
    ))


@pytest.mark.parametrize("layer, plans", LAYERS, ids=[lay.name for lay, _ in LAYERS])
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_mac_cycles_match_systolic(layer, plans, dataflow):
    problem = problem_from_layer(layer)
    y, x, reg, sram, stationary = plans[dataflow]
    res = evaluate_mapping(problem, systolic_like(), _mapping(problem, y, x, reg, sram, stationary))
    assert res["feasible"], res["reason"]
    g = fold_geometry(ROWS, COLS, WS if dataflow == "ws" else OS, layer.M, layer.K, layer.N)
    assert res["metrics"]["cycles"] == g.F * g.T            # MAC cycles: folds x streamed length
    assert res["metrics"]["utilization"] == pytest.approx(layer.macs / (g.F * g.T * ROWS * COLS))
    # the systolic simulator's own per-layer report: its cycles are those MAC cycles plus per-fold fill/drain
    sim = archgym.make_simulator("Systolic-v0", workload=[layer])
    det = sim.evaluate_details({"array_rows": ROWS, "array_cols": COLS, "dataflow": dataflow, "ifmap_sram_kb": 1024,
                                "filter_sram_kb": 1024, "ofmap_sram_kb": 1024, "dram_bw_words_per_cycle": 64})
    fill_drain = g.F * (g.L - g.T)
    assert det["cycles"].iloc[0] == res["metrics"]["cycles"] + fill_drain

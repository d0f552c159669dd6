"""Dataflow simulator: Python and CLI use of Timeloop files, the mapping space, costs, validity, bad input."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import archgym
from archgym.cli import main
from archgym.simulators.dataflow import (DataflowInputError, DataflowMappingSimulator, MappingError,
                                         UnsupportedFeatureError, conv_problem, eyeriss_like, evaluate_mapping,
                                         read_mapping, read_problem)
from archgym.simulators.dataflow.costs import level_energy_per_word_pj
from archgym.simulators.dataflow.mapping_space import MappingSpace
from archgym.simulators.dataflow.timeloop_io import parse_architecture, read_architecture

CASE = "ex04_conv1d_oc_ic_3levelspatial_cp"
ROW_KEYS = {"level", "dataspace", "reads_per_instance", "fills_per_instance", "updates_per_instance",
            "utilized_instances", "utilized_capacity", "partition_size"}


@pytest.fixture
def case_dir(shared_data, tmp_path):
    dst = tmp_path / CASE
    shutil.copytree(shared_data / "dataflow" / CASE, dst)
    return dst


def _cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_per_layer_rows_equal_timeloop(case_dir, capsys):
    code, out, err = _cli(capsys, "evaluate", "DataflowMapping-v0", "--workload", str(case_dir / "problem.yaml"),
                          "--set", f"arch={case_dir / 'arch.yaml'}", "--config", str(case_dir / "mapping.yaml"),
                          "--per-layer", "--json", "--set", "reuse=timeloop", "--set", f"ert={case_dir / 'ERT.yaml'}")
    assert code == 0, err
    rows = json.loads(out)
    expected = json.loads((case_dir / "expected.json").read_text())["rows"]
    assert [set(r) for r in rows] == [ROW_KEYS | {"energy_total_pj"}] * len(expected)
    key = lambda r: (r["level"], r["dataspace"])  # noqa: E731
    assert sorted(({k: r[k] for k in ROW_KEYS} for r in rows), key=key) == \
        sorted(({k: r[k] for k in ROW_KEYS} for r in expected), key=key)
    mine = {key(r): r["energy_total_pj"] for r in rows}
    for r in expected:   # Timeloop's Energy (total) of the row, from the case's ERT.yaml
        assert mine[key(r)] == pytest.approx(r["energy_total_pj"], rel=0.01), key(r)
    code, out, _ = _cli(capsys, "evaluate", "DataflowMapping-v0", "--workload", str(case_dir / "problem.yaml"),
                        "--set", f"arch={case_dir / 'arch.yaml'}", "--config", str(case_dir / "mapping.yaml"),
                        "--json")
    metrics = json.loads(out)
    assert metrics["cycles"] == 3072 and metrics["macs"] == 49152 and metrics["feasible"] and metrics["in_space"]
    assert metrics["dram_accesses"] == 3072 + 576 + 512   # MainMemory reads + updates (exact = timeloop here)
    assert metrics["throttling"] == 1.0


def test_energy_of_every_handed_over_case_within_one_percent(shared_data):
    """The 11 handed-over cases with their ERT.yaml: every row's and the summed energy (expected.json;
    its total sums the rows and the MACs, without leakage)."""
    from archgym.simulators.dataflow.ert import read_ert

    cases = sorted(p.name for p in (shared_data / "dataflow").iterdir() if (p / "ERT.yaml").exists())
    assert len(cases) == 11
    for case in cases:
        d = shared_data / "dataflow" / case
        prob, arch = read_problem(d / "problem.yaml"), read_architecture(d / "arch.yaml")
        res = evaluate_mapping(prob, arch, read_mapping(d / "mapping.yaml", prob, arch), "timeloop",
                               read_ert(d / "ERT.yaml", arch))
        exp = json.loads((d / "expected.json").read_text())
        got = {(r["level"], r["dataspace"]): r["energy_total_pj"] for r in res["rows"]}
        for r in exp["rows"]:
            assert got[(r["level"], r["dataspace"])] == pytest.approx(r["energy_total_pj"], rel=0.01, abs=0.01)
        dynamic = res["metrics"]["energy_pj"] - res["metrics"]["leakage_pj"]
        assert dynamic == pytest.approx(exp["energy_total_pj_sum_of_levels"], rel=0.01), case


def test_mapping_outside_the_space_is_costed_with_in_space_false(case_dir, capsys):
    """A temporal factor at the PE container's level has no place in the mapping space (container levels
    get no slot): the file is costed anyway, as the model sees it, and says in_space: false."""
    _edit(case_dir / "mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: [C=1, K=32, R=3, P=1]")
    text = (case_dir / "mapping.yaml").read_text()
    (case_dir / "mapping.yaml").write_text(text + "- target: inter_PE_spatial\n  type: temporal\n  factors: [C=2]\n"
                                           "  permutation: [C]\n")
    prob = read_problem(case_dir / "problem.yaml")
    arch = read_architecture(case_dir / "arch.yaml")
    direct = evaluate_mapping(prob, arch, read_mapping(case_dir / "mapping.yaml", prob, arch))
    code, out, err = _cli(capsys, "evaluate", "DataflowMapping-v0", "--workload", str(case_dir / "problem.yaml"),
                          "--set", f"arch={case_dir / 'arch.yaml'}", "--config", str(case_dir / "mapping.yaml"),
                          "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["in_space"] is False and res["feasible"]
    assert res["edp"] == pytest.approx(direct["metrics"]["edp"]) and res["cycles"] == direct["metrics"]["cycles"]
    sim = DataflowMappingSimulator(workload=str(case_dir / "problem.yaml"), arch=str(case_dir / "arch.yaml"))
    cfg = sim.parse_config_file(str(case_dir / "mapping.yaml"))
    assert sim.evaluate_details(cfg).to_dict(orient="records") == direct["rows"]


def test_file_mapping_round_trips_through_the_design_space(shared_data):
    for case in ("ex05_mapper_conv1d_oc_3level_baked", CASE, "design_simple_output_stationary"):
        d = shared_data / "dataflow" / case
        sim = DataflowMappingSimulator(workload=str(d / "problem.yaml"), arch=str(d / "arch.yaml"), reuse="timeloop")
        cfg = sim.parse_config_file(str(d / "mapping.yaml"))
        direct = evaluate_mapping(sim.problem, sim.arch, read_mapping(d / "mapping.yaml", sim.problem, sim.arch),
                                  "timeloop")
        assert sim.evaluate_details(cfg).to_dict(orient="records") == direct["rows"]
        res = sim.evaluate(cfg)
        assert res["feasible"] and res["cycles"] == direct["metrics"]["cycles"]
        assert res["energy_pj"] == pytest.approx(direct["metrics"]["energy_pj"])


def test_batch_equals_single_and_infeasible_reasons_name_level_or_fanout():
    sim = archgym.make_simulator("DataflowMapping-v0")
    assert sim.problem.macs == 64 * 64 * 9 * 56 * 56 and sim.arch.mac_instances == 168
    rng = np.random.default_rng(0)
    configs = [sim.space.decode(i) for i in sim.space.sample_indices(rng, n=300)] + [sim.reference_config()]
    df = sim.evaluate_batch(configs)
    assert df["feasible"].iloc[-1] and 0 < df["feasible"].sum() < len(df)
    for i in [0, 1, 2, len(configs) - 1]:
        one = sim.evaluate(configs[i])
        assert one["feasible"] == df["feasible"].iloc[i] and one["reason"] == df["reason"].iloc[i]
        if one["feasible"]:
            assert one["edp"] == pytest.approx(df["edp"].iloc[i])
    bad = df.loc[~df["feasible"], "reason"]
    assert bad.str.match(r"^(fan-out 'PE': spatial [XY] factors|level '\w+': tiles need \d+ words)").all()
    assert df.loc[~df["feasible"], "cycles"].isna().all()
    base = df.iloc[-1]   # everything at DRAM, one MAC busy
    assert base["cycles"] == sim.problem.macs and base["utilization"] == pytest.approx(1 / 168)


def test_energy_table_orders_levels_and_counts_every_access():
    arch = eyeriss_like()
    e = [level_energy_per_word_pj(lv) for lv in arch.levels]
    assert e[0] > e[1] > e[2] == e[3] == e[4]             # DRAM > SRAM > register files
    assert e[0] == pytest.approx(162.5 * 2)                 # 16-bit words, Horowitz DRAM pJ/byte


def test_bandwidth_bound_cycles():
    prob = conv_problem(C=4, M=4, R=1, S=1, P=4, Q=4)
    slow = DataflowMappingSimulator(workload=prob, arch=eyeriss_like(dram_bw=0.01))
    fast = DataflowMappingSimulator(workload=prob, arch=eyeriss_like())
    cfg = slow.reference_config()
    assert fast.evaluate(cfg)["cycles"] == prob.macs                     # compute-bound
    assert slow.evaluate(cfg)["cycles"] > 10 * prob.macs                  # DRAM-bound


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


BAD = [
    ("mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: [C=4, K=32, R=3, P=1]",
     "dimension 'C': factors multiply to 64 (MainMemory 1 x PE 16 x GlobalBuffer 4 x RegisterFile 1), bound is 32"),
    ("mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: [C=2, K=32, R=3, Z=1]",
     "'GlobalBuffer': unknown dimension 'Z'"),
    ("mapping.yaml", "target: GlobalBuffer\n  type: temporal", "target: L2Buffer\n  type: temporal",
     "temporal entry for 'L2Buffer': unknown level; levels: MainMemory, inter_PE_spatial, GlobalBuffer, RegisterFile"),
    ("mapping.yaml", "permutation: [R, P, K, C]", "permutation: [R, P, P, C]",
     "level 'RegisterFile': dimension 'P' repeated in permutation"),
    ("mapping.yaml", "permutation: [P, R, K, C]\n- target: GlobalBuffer\n  type: dataspace",
     "permutation: [P, K, C]\n- target: GlobalBuffer\n  type: dataspace",
     "level 'GlobalBuffer': dimension 'R' (factor 3) missing from the permutation"),
    ("mapping.yaml", "factors: [C=1, K=1, R=1, P=16]", "factors: [C=1, K=1, R=1, P=-16]",
     "'RegisterFile': factor of 'P' must be positive, got -16"),
    ("problem.yaml", "instance: {C: 32, K: 32, R: 3, P: 16}", "instance: {C: 32, K: 32, R: 3, P: -16}",
     "dimension 'P' bound must be a positive integer, got -16"),
    ("arch.yaml", "attributes: {datawidth: 8, width: 8, depth: 64}", "attributes: {datawidth: 8, width: 8, depth: -64}",
     "'RegisterFile' depth must be a positive integer, got -64"),
    ("arch.yaml", "name: GlobalBuffer", "name: SharedBuffer",
     "unknown level; levels: MainMemory, inter_PE_spatial, SharedBuffer"),
    ("arch.yaml", "  - !Component\n    name: MainMemory", "  - !Systolic\n    name: MainMemory",
     "YAML tag !Systolic (line 7) is not supported"),
    ("mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: C=2,1 K=32 R=3 P=1",
     "level 'GlobalBuffer': residual factor C=2,1 below the spatial loop of 'C' at 'inter_PE_spatial'"),
    ("mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: C=2 K=10,3 R=3 P=1",
     "dimension 'K': factors with residuals cover 3 indices"),
    ("mapping.yaml", "factors: [C=2, K=32, R=3, P=1]", "factors: C=2 K=32,33 R=3 P=1",
     "residual factor 'K=32,33': the residual must be from 1 to the factor 32"),
    ("mapping.yaml", "keep: [Weights, Inputs, Outputs]\n  bypass: []\n- target: PE",
     "keep: [Weights, Inputs, Outputs]\n  bypass: []\n- target: PE\n  type: spatial\n  factors: [C=16]\n"
     "- target: PE\n  type: bypass\n  keep: [Inputs]\n- target: PE",
     "'inter_PE_spatial' is a spatial container's level and holds no data; keep must be empty (got Inputs)"),
    ("arch.yaml", "attributes: {datawidth: 8, width: 64, depth: 32768}",
     "attributes: {datawidth: 8, width: 64, depth: {{ depth }}}", "Jinja templates are not supported"),
    ("arch.yaml", "class: regfile", "class: regfile\n    sparse_optimizations: {}",
     "sparse optimizations are not supported"),
    ("mapping.yaml", "split: 4", "split: -1", "spatial entry for 'PE': split must be a non-negative integer, got -1"),
    ("mapping.yaml", "keep: [Weights, Inputs, Outputs]\n  bypass: []\n- target: PE",
     "keep: [Weights, Inputs]\n  bypass: [Outputs]\n- target: PE",
     "the backing store 'MainMemory' must keep every data space ('Outputs' is bypassed)"),
]


@pytest.mark.parametrize("fname, old, new, needle", BAD, ids=[b[3][:40] for b in BAD])
def test_bad_timeloop_input_is_one_line_exit_2(case_dir, capsys, fname, old, new, needle):
    _edit(case_dir / fname, old, new)
    code, _, err = _cli(capsys, "evaluate", "DataflowMapping-v0", "--workload", str(case_dir / "problem.yaml"),
                        "--set", f"arch={case_dir / 'arch.yaml'}", "--config", str(case_dir / "mapping.yaml"),
                        "--per-layer", "--json")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("archgym: error:"), err
    assert needle in lines[0]


def test_bad_options_raise_user_input_errors(case_dir):
    with pytest.raises(DataflowInputError, match="reuse 'lru' is not a counting mode; allowed: exact, timeloop"):
        DataflowMappingSimulator(reuse="lru")
    with pytest.raises(DataflowInputError, match="arch 'tpu'"):
        DataflowMappingSimulator(arch="tpu")
    with pytest.raises(UnsupportedFeatureError, match="compound components are not supported"):
        parse_architecture({"compound_components": {}})
    prob = read_problem(case_dir / "problem.yaml")
    other = eyeriss_like()
    with pytest.raises(MappingError, match="unknown level; levels: DRAM, shared_glb"):
        read_mapping(case_dir / "mapping.yaml", prob, other)


def test_mapping_space_encodes_divisors_and_is_searchable():
    prob = conv_problem(C=64, M=64, R=3, S=3, P=56, Q=56)
    ms = MappingSpace(prob, eyeriss_like())
    assert sum(n.startswith("f_") for n in ms.names) == 6 + 6 + 1 + 1 + 4 + 4   # prime factors
    assert len(ms.space["order_DRAM"].values) == 720 and ms.space.size > 10 ** 30
    nest = ms.nest(ms.space.sample_indices(0, n=50))
    assert (np.prod(nest.tf * nest.sx * nest.sy, axis=1) == [64, 64, 3, 3, 1, 56, 56]).all()


def test_einsum_and_library_layers_convert_to_problems():
    from archgym.simulators.dataflow import LevelMapping, Mapping, einsum_problem, gemm_problem, problem_from_layer
    from archgym.simulators.dataflow.arch import simple_three_level
    from archgym.simulators.workloads import Layer

    mm = einsum_problem("mk,kn->mn", {"m": 8, "k": 16, "n": 4})          # dims M, K, N; operands A, B, Z
    ref = gemm_problem(M=8, N=4, K=16)                                    # dims M, N, K; same operand names
    mapping = Mapping((LevelMapping({"K": 2}, ("K", "M", "N")),
                       LevelMapping({"M": 4, "N": 2}, ("N", "M", "K"), spatial_x={"K": 8}),
                       LevelMapping({"M": 2, "N": 2}, ("M", "N", "K"), keep=frozenset({"A", "Z"}))))
    arch = simple_three_level()
    for reuse in ("exact", "timeloop"):
        a, b = (evaluate_mapping(p, arch, mapping, reuse) for p in (mm, ref))
        assert a["rows"] == b["rows"] and a["metrics"] == b["metrics"]
    att = einsum_problem("hqd,hkd->hqk", {"h": 12, "q": 128, "k": 128, "d": 64}, operands=["Q", "K", "S"])
    assert att.macs == 12 * 128 * 128 * 64 and att.dataspace("S").read_write
    assert att.dataspace("Q").dims == {"H", "Q", "D"}
    dw = problem_from_layer(Layer("dw", "dwconv", 10, 10, 3, 3, 32, 1, 1))
    assert dw.macs == 32 * 9 * 8 * 8 and "C" in dw.dataspace("Outputs").dims


def test_accelerator_arch_is_deterministic_grouped_and_sums_layers():
    sim = archgym.make_simulator("AcceleratorArch-v0", mapper_budget=12)
    assert sim.space.groups == {"compute": ["pe_rows", "pe_cols", "word_bits"],
                                "on_chip": ["glb_kb", "ifmap_spad_words", "weights_spad_words", "psum_spad_words",
                                            "glb_bw", "dram_bw"]}
    cfg = sim.reference_config()
    first, again = sim.evaluate(cfg), sim.evaluate(cfg)
    assert first == again and first["feasible"]
    assert first["edp"] == pytest.approx(first["energy_pj"] * first["cycles"])
    layers = sim.evaluate_details(cfg)
    assert len(layers) == 21 and layers["cycles"].sum() == pytest.approx(first["cycles"])

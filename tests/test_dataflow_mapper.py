"""The mapper and ``archgym map``: Timeloop's inputs in, a mapping at least as good as timeloop-mapper's out;
bad constraints, energy tables and mapper files are one line."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from archgym.cli import main
from archgym.simulators.dataflow import evaluate_mapping
from archgym.simulators.dataflow.ert import read_ert
from archgym.simulators.dataflow.mapper import map_layer
from archgym.simulators.dataflow.mapping_space import MappingSpace
from archgym.simulators.dataflow.timeloop_io import (load_yaml, parse_architecture_and_constraints, parse_mapping,
                                                      parse_problem, read_mapping)

ROOT = Path(__file__).resolve().parent / "data" / "dataflow_exercises"


def _cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _timeloop_edp(case: str) -> float:
    d = ROOT / case
    doc = load_yaml(d / "parsed-processed-input.yaml")
    prob = parse_problem(doc)
    arch, _ = parse_architecture_and_constraints(doc)
    return evaluate_mapping(prob, arch, parse_mapping(load_yaml(d / "map.yaml"), prob, arch), "timeloop",
                            read_ert(d / "ERT.yaml", arch))["metrics"]["edp"]


@pytest.mark.parametrize("case", ["ex05_mapper_conv1d_oc_3level_null", "design_eyeriss_like"])
def test_map_cli_finds_at_most_timeloops_edp_and_writes_a_timeloop_mapping(case, capsys, tmp_path):
    d = ROOT / case
    inp = str(d / "parsed-processed-input.yaml")
    out_file = tmp_path / "map.yaml"
    code, out, err = _cli(capsys, "map", "--arch", inp, "--problem", inp, "--mapper", inp, "--set",
                          f"ert={d / 'ERT.yaml'}", "--set", "reuse=timeloop", "--budget", "3000", "--json",
                          "--out", str(out_file))
    assert code == 0, err
    res = json.loads(out)
    assert res["evaluated"] == 3000 and res["searcher"] == "mapper"
    assert res["metrics"]["edp"] <= _timeloop_edp(case)
    assert [r["level"] for r in res["levels"]][-1] == parse_architecture_and_constraints(load_yaml(inp))[0].compute.name
    doc = load_yaml(inp)
    prob = parse_problem(doc)
    arch, _ = parse_architecture_and_constraints(doc)
    again = evaluate_mapping(prob, arch, read_mapping(out_file, prob, arch), "timeloop", read_ert(d / "ERT.yaml", arch))
    assert again["metrics"]["edp"] == pytest.approx(res["metrics"]["edp"])


def test_mapper_is_seeded_budgeted_and_any_searcher_can_drive_the_space(capsys):
    d = ROOT / "ex05_mapper_conv1d_oc_3level_null"
    doc = load_yaml(d / "parsed-processed-input.yaml")
    prob = parse_problem(doc)
    arch, _ = parse_architecture_and_constraints(doc)
    ms = MappingSpace(prob, arch)
    a, b = (map_layer(prob, arch, 700, 3, space=ms, restarts=2) for _ in range(2))
    assert a.evaluated == 700 and np.array_equal(a.indices, b.indices) and a.metrics == b.metrics
    one = map_layer(prob, arch, 700, 3, space=ms)
    best = [h[1] for h in one.history]
    assert one.history[-1][0] == 700 and best == sorted(best, reverse=True)   # the best only improves
    inp = str(d / "parsed-processed-input.yaml")
    code, out, err = _cli(capsys, "map", "--arch", inp, "--problem", inp, "--budget", "40", "--searcher", "random",
                          "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["searcher"] == "random" and res["evaluated"] == 40 and res["metrics"]["edp"] > 0


def _bad(capsys, tmp_path, *extra):
    d = ROOT / "ex05_mapper_conv1d_oc_3level_null"
    inp = str(d / "parsed-processed-input.yaml")
    code, _, err = _cli(capsys, "map", "--arch", inp, "--problem", inp, "--budget", "10", *extra)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("archgym: error:"), err
    return lines[0]


def test_bad_constraints_energy_tables_and_mapper_files_are_one_line(capsys, tmp_path):
    c = tmp_path / "c.yaml"
    c.write_text("targets:\n- {target: L2Buffer, type: temporal, factors: [K=2]}\n")
    assert "temporal entry for 'L2Buffer': unknown level; levels: MainMemory, GlobalBuffer, RegisterFile" in \
        _bad(capsys, tmp_path, "--constraints", str(c))
    c.write_text("targets:\n- {target: GlobalBuffer, type: temporal, factors: [K=8]}\n"
                 "- {target: RegisterFile, type: temporal, factors: [K=8]}\n")
    assert "constraints over-constrain dimension 'K': fixed factors GlobalBuffer 8 x RegisterFile 8 = 64 do not " \
           "divide its bound 32" in _bad(capsys, tmp_path, "--constraints", str(c))
    c.write_text("targets:\n- {target: GlobalBuffer, type: temporal, factors: [K=2], no_link_transfer: [Inputs]}\n")
    assert "key 'no_link_transfer' is not supported" in _bad(capsys, tmp_path, "--constraints", str(c))
    ert = tmp_path / "ERT.yaml"
    ert.write_text((ROOT / "ex05_mapper_conv1d_oc_3level_null" / "ERT.yaml").read_text()
                   .replace("System_top_level.GlobalBuffer[1..1]", "System_top_level.L2Buffer[1..1]"))
    assert "energy table for component 'L2Buffer', which the architecture lacks; components: GlobalBuffer, " \
           "MainMemory, RegisterFile, MACC" in _bad(capsys, tmp_path, "--set", f"ert={ert}")
    m = tmp_path / "mapper.yaml"
    m.write_text("mapper: {optimization_metrics: [last_level_accesses]}\n")
    assert "optimization_metrics ['last_level_accesses'] not supported" in _bad(capsys, tmp_path, "--mapper", str(m))
    assert "--set color: unknown option; allowed: ert, reuse, imperfect" in _bad(capsys, tmp_path, "--set", "color=red")


def test_map_cli_imperfect_space_writes_residuals_that_evaluate_to_the_same_edp(capsys, tmp_path):
    """``--set imperfect=true``: the best mapping of a layer whose bounds have large primes (P=Q=7, C=M=...)
    may carry residual factors; the written Timeloop mapping re-evaluates (outside the perfect space) to
    the EDP the mapper printed."""
    out = tmp_path / "map.yaml"
    args = ["--arch", "three_level", "--problem", "resnet18:layer4.0.conv2", "--budget", "600", "--json"]
    code, text, err = _cli(capsys, "map", *args, "--set", "imperfect=true", "--out", str(out))
    assert code == 0, err
    res = json.loads(text)
    factors = " ".join(str(e.get("factors", "")) for e in load_yaml(out)["mapping"])
    code, text, err = _cli(capsys, "evaluate", "DataflowMapping-v0", "--workload", "resnet18:layer4.0.conv2",
                           "--set", "arch=three_level", "--config", str(out), "--json")
    assert code == 0, err
    again = json.loads(text)
    assert again["edp"] == pytest.approx(res["metrics"]["edp"], rel=1e-12)
    assert ("," in factors) == (again["in_space"] is False)


def test_ruby_mapspace_template_searches_the_imperfect_space(capsys, tmp_path):
    """A mapper file with Timeloop's ``mapspace: {template: ruby}`` (imperfect factors) searches what
    ``--set imperfect=true`` searches; ``uber`` (Timeloop's default) the perfect-only space."""
    args = ["map", "--arch", "three_level", "--problem", "resnet18:layer4.0.conv2", "--budget", "300", "--json"]
    runs = {}
    for template in ("ruby", "uber"):
        mapper = tmp_path / f"{template}.yaml"
        mapper.write_text(f"mapper: {{optimization_metrics: [edp]}}\nmapspace: {{template: {template}}}\n")
        code, text, err = _cli(capsys, *args, "--mapper", str(mapper))
        assert code == 0, err
        runs[template] = json.loads(text)["mapping"]
    for key, opt in (("ruby", "true"), ("uber", "false")):
        code, text, err = _cli(capsys, *args, "--set", f"imperfect={opt}")
        assert code == 0, err
        assert json.loads(text)["mapping"] == runs[key]
    assert runs["ruby"] != runs["uber"]

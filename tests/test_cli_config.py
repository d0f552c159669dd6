"""``--config reference`` and partial designs (the reference design with the
parameters given changed), ``archgym info`` saying so, and the objective line of
``archgym run``; checked against the simulator called directly."""
from __future__ import annotations

import json

import pytest

import archgym
from archgym.cli import main


def _json(capsys, *argv) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_reference_is_the_simulators_reference_design(capsys, toy_registered):
    sim = archgym.make_simulator("DRAM-v0", workload="stream")
    got = _json(capsys, "evaluate", "DRAM-v0", "--workload", "stream", "--config", "reference", "--json")
    want = sim.evaluate(sim.reference_config())
    assert got["total_time_ns"] == want["total_time_ns"] and got["energy_pj"] == pytest.approx(want["energy_pj"])


def test_a_partial_design_is_the_reference_with_that_change(capsys):
    sim = archgym.make_simulator("DRAM-v0", workload="stream")
    ref = sim.reference_config()
    assert ref["PagePolicy"] != "Closed"
    got = _json(capsys, "evaluate", "DRAM-v0", "--workload", "stream", "--config", '{"PagePolicy": "Closed"}', "--json")
    want = sim.evaluate({**ref, "PagePolicy": "Closed"})
    assert got["total_time_ns"] == want["total_time_ns"] and got["row_hit_rate"] == want["row_hit_rate"]
    assert got["total_time_ns"] != sim.evaluate(ref)["total_time_ns"]  # the change changed something


def test_a_list_of_partial_designs(capsys, toy_registered):
    rows = _json(capsys, "evaluate", "Toy-v0", "--config", '[{"x": 7, "y": 8, "mode": "a"}, {"mode": "c"}]', "--json")
    sim = archgym.make_simulator("Toy-v0")
    assert rows[0]["cost"] == 0.0
    assert rows[1]["cost"] == sim.evaluate({**sim.reference_config(), "mode": "c"})["cost"]
    assert rows[1]["x"] == sim.reference_config()["x"]


def test_a_partial_design_with_a_bad_value_is_one_line(capsys, toy_registered):
    assert main(["evaluate", "Toy-v0", "--config", '{"y": 3}']) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'y'" in err and "allowed" in err


def test_info_names_the_reference_design(capsys):
    assert main(["info", "Systolic-v0"]) == 0
    out = capsys.readouterr().out
    sim = archgym.make_simulator("Systolic-v0")
    line = out.split("\nreference design (")[1].splitlines()
    assert "--config reference" in line[0] and "partial --config" in line[0]
    assert json.loads(line[1]) == sim.reference_config()


@pytest.mark.parametrize("spec, text", [
    (None, "cost (minimize; reward in [0, 1], -1 if infeasible)"),
    ("cost<=4, 3*area", "1*cost<=4, 3*area (minimize cost, minimize area, weighted mean of the scores; "
                        "reward in [0, 1], -1 if infeasible)"),
    ("pareto:cost,area", "pareto:cost,area (minimize cost, minimize area: 2 objectives, each scored in [0, 1]; "
                         "reward = their mean, -1 if infeasible)"),
    ("archgym:cost=3", "archgym:cost=3 (ArchGym's reward target/|x - target| per metric, multiplied; unbounded, "
                       "-1 if infeasible)"),
])
def test_run_prints_its_objective_in_the_spec_grammar(capsys, toy_registered, spec, text):
    argv = ["run", "Toy-v0", "--agent", "random", "--budget", "3"] + (["--objective", spec] if spec else [])
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"objective: {text}"
    from archgym.objective import make_objective

    written = text.split(" (")[0]
    env = archgym.make("Toy-v0", objective=written)  # the printed spec is a spec: it builds the same objective
    assert env.unwrapped.objective.to_spec()["kind"] == archgym.make("Toy-v0", objective=spec).unwrapped \
        .objective.to_spec()["kind"]
    assert make_objective(written).metrics == make_objective(spec or "cost").metrics

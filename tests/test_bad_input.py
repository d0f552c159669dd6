"""The bad-input catalogue: every known mistake gets one line and exit status 2.

One parametrized case per bad input.  CLI cases run ``archgym.cli.main`` in
this process (the same code path as the console script, much faster than a
subprocess per case) and assert: exit status 2, exactly one stderr line
``archgym: error: ...``, no traceback, and that the line names the offending
value and what is allowed (the ``needles``).  API cases assert the exception
is an :class:`archgym.errors.UserInputError` with a one-line message.  The
opposite direction -- a bug keeps its traceback and exits 1 -- is tested too.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import archgym
from archgym.cli import main
from archgym.errors import UserInputError

TESTS = Path(__file__).resolve().parent

TOY_SPEC = """\
study: bad
budget: 3
seeds: 1
pythonpath: [{tests}]
register:
  simulators: {{Toy-v0: "archgym.testing:ToySimulator"}}
environments:
{env}
searchers:
{searchers}
"""


def _spec(tmp: Path, name: str, env: str = "  - Toy-v0", searchers: str = "  - agent: random") -> str:
    p = tmp / f"{name}.yaml"
    p.write_text(TOY_SPEC.format(tests=TESTS, env=env, searchers=searchers))
    return str(p)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    """Every file the cases point at."""
    import toy_register  # noqa: F401  (registers Toy-v0 in this process)

    d = tmp_path_factory.mktemp("bad_input")
    (d / "folder").mkdir()
    (d / "corrupt.db").write_bytes(b"this is not a database, just bytes\n" * 40)
    con = sqlite3.connect(d / "other.db")
    con.execute("CREATE TABLE people (name TEXT)")
    con.commit()
    con.close()
    from archgym.store import Store

    with Store(d / "empty_store.db"):
        pass
    assert main(["run", "Toy-v0", "--agent", "random", "--budget", "5", "--store", str(d / "store.db")]) == 0
    (d / "existing.txt").write_text("not a folder\n")
    (d / "empty.stl").write_text("")
    (d / "bad.cfg").write_text(textwrap.dedent("""\
        [architecture_presets]
        ArrayHeight: 32.9
        ArrayWidth: 32
        IfmapSramSzkB: 64
        FilterSramSzkB: 64
        OfmapSramSzkB: 64
        Dataflow: os
        Bandwidth: 10
        [run_presets]
        InterfaceBandwidth: USER
        """))
    _spec(d, "good")
    _spec(d, "unknown_env", env="  - NoSuchEnv-v0")
    _spec(d, "unknown_workload", env="  - id: Toy-v0\n    workloads: [nosuch]")
    _spec(d, "unknown_option", env="  - id: Toy-v0\n    kwargs: {speed: 3}")
    _spec(d, "bad_hp", searchers="  - agent: ga\n    hyperparameters: {population_size: 1}")
    _spec(d, "unknown_agent", searchers="  - agent: nope")
    _spec(d, "bad_objective", env="  - id: Toy-v0\n    objectives: ['cost + ']")
    (d / "dup.yaml").write_text(TOY_SPEC.format(tests=TESTS, env="  - Toy-v0", searchers="  - agent: random")
                                + "budget: 4\n")
    (d / "trace.yaml").write_text("study: t\nbudget: 3\nenvironments:\n  - id: DRAM-v0\n    workloads: [cloud-1]\n"
                                  "searchers:\n  - agent: random\n")
    (d / "empty_trace.yaml").write_text(f"study: t\nbudget: 3\nenvironments:\n  - id: DRAM-v0\n"
                                        f"    workloads: [{d / 'empty.stl'}]\nsearchers:\n  - agent: random\n")
    # issue 22's classes: each gets its own cases here
    _spec(d, "null_workload", env="  - id: Toy-v0\n    workloads: [null]")
    (d / "bomb.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg")))
    (d / "binary.yaml").write_bytes(b"\x00\x01\x02binary junk\xff" * 20)
    (d / "binary.json").write_bytes(b"\x00\x01\x02binary junk\xff" * 20)
    (d / "folder.csv").mkdir()
    (d / "designs.json").write_text("")
    (d / "folder.stl").mkdir()
    (d / "junk.stl").write_bytes(b"\x00\x9f\x92\x96binary\xff" * 10)
    (d / "extra.stl").write_text("0:\tread\t0x0\n1:\tread\t0x40\tsize=64\n")
    (d / "frac.csv").write_text("time,command,address\n0,r,0x0\n10.5,r,0x40\n")
    (d / "cols.csv").write_text("time,command,address,bytes\n0,r,0x0,64\n")
    (d / "late.stl").write_text("0:\tread\t0x0\n99999999999999999999:\tread\t0x40\n")
    (d / "wrap.stl").write_text("0:\tread\t0x0\n9223372036854775000:\tread\t0x40\n")
    (d / "addr.stl").write_text("0:\tread\t0x1ffffffffffffffffff\n")
    (d / "cap.stl").write_text("0:\tread\t0x0\n1:\tread\t0x40000000\n")
    (d / "blank.jsonl").write_text("\n\n   \n")
    (d / "dupkey.json").write_text('{"x": 7, "x": 8, "y": 8, "mode": "a"}')
    (d / "syntax_plugin.py").write_text("def broken(:\n")
    (d / "raising_plugin.py").write_text("raise RuntimeError('plugin exploded')\n")
    (d / "store_file").write_text("a file where a folder is expected\n")
    # issue 28: Timeloop residual factors (the conv1d exercise: R=3, P=16 on MainMemory -> Buffer)
    ex01 = TESTS / "data" / "dataflow_exercises" / "ex01_conv1d_2level_os" / "parsed-processed-input.yaml"
    (d / "conv1d.yaml").write_text(ex01.read_text())
    for name, main_f, buf_f in (("resid_ok", "R=1 P=4", "R=3 P=5,1"), ("resid_three", "R=1 P=4", "R=3 P=5,1,1"),
                                ("resid_over", "R=1 P=4", "R=3 P=5,6"), ("resid_cover", "R=1 P=4", "R=3 P=5,2"),
                                ("resid_semicolon", "R=1 P=4", "R=3 P=5;")):
        (d / f"{name}.yaml").write_text(
            f"mapping:\n- {{target: MainMemory, type: temporal, factors: '{main_f}', permutation: PR}}\n"
            f"- {{target: Buffer, type: temporal, factors: '{buf_f}', permutation: RP}}\n")
    (d / "mapper_hybrid.yaml").write_text("mapspace: {template: hybrid}\n")
    return d


TOY = '{"x": 7, "y": 8, "mode": "a"}'
RUN = ["run", "Toy-v0", "--agent", "random", "--budget", "3"]
SYS_CFG = ('{"array_rows": 32, "array_cols": 32, "dataflow": "os", "ifmap_sram_kb": 64, "filter_sram_kb": 64, '
           '"ofmap_sram_kb": 64, "dram_bw_words_per_cycle": %s}')

# (id, argv, strings the one line must contain); "{tmp}" is the fixture folder
CASES = [
    # arguments argparse checks
    ("unknown-command", ["frobnicate"], ["'frobnicate'", "choose from"]),
    ("budget-not-int", RUN[:4] + ["--budget", "x"], ["'x'", "integer >= 1"]),
    ("budget-zero", RUN[:4] + ["--budget", "0"], ["'0'", "integer >= 1"]),
    ("seed-negative", RUN + ["--seed", "-1"], ["'-1'", "integer >= 0"]),
    ("workers-zero", ["sweep", "{tmp}/good.yaml", "--workers", "0"], ["'0'", "integer >= 1"]),
    ("executor-unknown", ["sweep", "{tmp}/good.yaml", "--executor", "ray"], ["'ray'", "local", "dask"]),
    ("import-missing", ["--import", "no_such_module_xyz", "list"], ["no_such_module_xyz"]),
    # info / evaluate
    ("env-unknown", ["info", "NoSuchEnv-v0"], ["'NoSuchEnv-v0'", "known:", "Toy-v0"]),
    ("config-value", ["evaluate", "Toy-v0", "--config", '{"x": 99, "y": 8, "mode": "a"}'], ["99", "'x'", "0..20"]),
    ("config-unknown-param", ["evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, "mode": "a", "z": 1}'],
     ["'z'", "parameters are"]),
    ("config-partial-value", ["evaluate", "Toy-v0", "--config", '{"y": 3}'], ["'y'", "3", "allowed"]),
    ("config-bad-json", ["evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, '], ["--config", "valid JSON"]),
    ("config-not-object", ["evaluate", "Toy-v0", "--config", "[1, 2]"], ["JSON object"]),
    ("config-folder", ["evaluate", "Toy-v0", "--config", "{tmp}/folder"], ["folder", "JSON"]),
    ("config-float-for-int", ["evaluate", "Toy-v0", "--config", '{"x": 7.5, "y": 8, "mode": "a"}'],
     ["7.5", "'x'"]),
    ("cfg-non-integer", ["evaluate", "Systolic-v0", "--workload", "alexnet", "--config", "{tmp}/bad.cfg"],
     ["ArrayHeight", "'32.9'", "whole number"]),
    ("model-cannot-cost", ["evaluate", "Systolic-v0", "--workload", "alexnet", "--config", SYS_CFG % "0"],
     ["'dram_bw_words_per_cycle'", "0", "integers 1.."]),
    ("sim-option-unknown", ["evaluate", "Systolic-v0", "--config", TOY, "--set", "foo=1"], ["'foo'", "allowed",
                                                                                             "workload"]),
    ("sim-option-value", ["evaluate", "Systolic-v0", "--config", TOY, "--set", "word_bytes=0"],
     ["word_bytes", "positive integer", "0"]),
    ("set-without-equals", ["evaluate", "Toy-v0", "--config", TOY, "--set", "foo"], ["'foo'", "key=value"]),
    ("workload-unknown", ["info", "Systolic-v0", "--workload", "nosuchnet"], ["nosuchnet"]),
    ("per-layer-unsupported", ["evaluate", "Toy-v0", "--config", TOY, "--per-layer"], ["no per-component"]),
    # run
    ("agent-unknown", ["run", "Toy-v0", "--agent", "nope", "--budget", "3"], ["'nope'", "known:", "random"]),
    ("hp-unknown", RUN + ["--set", "foo=1"], ["'foo'", "allowed", "reuse_evaluations"]),
    ("hp-unknown-ga", ["run", "Toy-v0", "--agent", "ga", "--budget", "3", "--set", "lr=1"],
     ["'lr'", "population_size"]),
    ("hp-out-of-range", ["run", "Toy-v0", "--agent", "ga", "--budget", "3", "--set", "population_size=1"],
     ["1", "population_size", "[2"]),
    ("hp-wrong-type", ["run", "Toy-v0", "--agent", "ga", "--budget", "3", "--set", "crossover=blend"],
     ["'blend'", "uniform", "k_point"]),
    ("env-option-unknown", RUN + ["--option", "foo=1"], ["'foo'", "allowed", "offset"]),
    ("env-option-mode", RUN + ["--option", "mode=sideways"], ["'sideways'", "design", "parameter"]),
    ("not-a-design-env", ["run", "ScratchpadSchedule-v0", "--agent", "random", "--budget", "3"],
     ["ScratchpadSchedule-v0", "searchers run on", "Systolic-v0"]),
    ("dram-memory-unknown", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--option", "memory=ddr9"],
     ["'ddr9'", "ddr4-2400"]),
    ("dram-fixed-not-mapping", ["evaluate", "DRAM-v0", "--config", "{}", "--set", "fixed=3"], ["fixed", "mapping", "3"]),
    ("dram-trace-missing", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload", "{tmp}/no.stl"],
     ["no.stl", "no such file"]),
    # --- issue 22, DRAM traces and options
    ("dram-trace-folder", ["info", "DRAM-v0", "--workload", "{tmp}"], ["bad_input", "folder"]),
    ("dram-trace-folder-stl", ["evaluate", "DRAM-v0", "--workload", "{tmp}/folder.stl", "--config", "{}"],
     ["folder.stl", "folder"]),
    ("dram-trace-binary", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload", "{tmp}/junk.stl"],
     ["junk.stl", "not a text file"]),
    ("dram-trace-extra-field", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                                "{tmp}/extra.stl"], ["extra.stl:2", "'size=64'", "unexpected field"]),
    ("dram-trace-fraction", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload", "{tmp}/frac.csv"],
     ["frac.csv:3", "10.5", "whole number"]),
    ("dram-trace-csv-column", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                               "{tmp}/cols.csv"], ["cols.csv:1", "'bytes'", "unknown"]),
    ("dram-trace-huge-time", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                              "{tmp}/late.stl"], ["late.stl:2", "99999999999999999999", "64 bits"]),
    ("dram-trace-wrapping-time", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                                  "{tmp}/wrap.stl"], ["wrap.stl:2", "9223372036854775000", "26 days"]),
    ("dram-trace-huge-address", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                                 "{tmp}/addr.stl"], ["addr.stl:1", "0x1ffffffffffffffffff", "64 bits"]),
    ("dram-trace-beyond-capacity", ["run", "DRAM-v0", "--agent", "random", "--budget", "2", "--workload",
                                    "{tmp}/cap.stl"], ["cap.stl:2", "0x40000000", "capacity"]),
    ("dram-fixed-unknown-knob", ["evaluate", "DRAM-v0", "--config", "{}", "--set", "fixed={\"Bogus\": 1}"],
     ["fixed", "'Bogus'", "CmdMux"]),
    ("dram-fixed-design-knob", ["evaluate", "DRAM-v0", "--config", "{}", "--set", "fixed={\"PagePolicy\": \"Open\"}"],
     ["fixed", "'PagePolicy'", "design parameter"]),
    ("serve-trace-missing", ["serve", "DRAM-v0", "--workload", "{tmp}/no.stl"], ["no.stl", "no such file"]),
    ("scratchpad-solver-unknown", ["run", "Scratchpad-v0", "--agent", "random", "--budget", "2", "--option",
                                   "solver=foo"], ["'foo'", "highs", "cbc"]),
    ("backend-missing", RUN + ["--option", "backend={tmp}/no_proxy.pkl"], ["no_proxy.pkl", "no such file"]),
    ("store-folder", RUN + ["--store", "{tmp}/folder"], ["folder", "directory", "file path"]),
    ("store-corrupt", RUN + ["--store", "{tmp}/corrupt.db"], ["corrupt.db", "not an archgym results store"]),
    ("store-other-sqlite", RUN + ["--store", "{tmp}/other.db"], ["other.db", "people", "not an archgym"]),
    # objectives (one line naming the position or the metric)
    ("objective-unknown-metric", RUN + ["--objective", "speed"], ["'speed'", "metrics are", "cost"]),
    ("objective-trailing-op", RUN + ["--objective", "0.7*cost + "], ["character 10", "'+'", "empty term"]),
    ("objective-empty-term", RUN + ["--objective", "cost,,area"], ["character 6", "empty term"]),
    ("objective-duplicate", RUN + ["--objective", "cost, 2*cost"], ["'cost'", "twice"]),
    ("objective-pareto-one", RUN + ["--objective", "pareto:cost"], ["pareto", "two metrics", "cost"]),
    ("objective-unmeetable", RUN + ["--objective", "cost<=-5"], ["'cost'", "-5", "positive"]),
    ("objective-wrong-direction", RUN + ["--objective", "cost>=5"], ["'cost'", "lower-is-better", "cost<="]),
    ("objective-garbage", RUN + ["--objective", "cost ** 2"], ["character", "'*'"]),
    # report / compare / failures
    ("report-missing", ["report", "{tmp}/nope.db"], ["nope.db", "no such results store"]),
    ("report-folder", ["report", "{tmp}/folder"], ["folder", "directory"]),
    ("report-corrupt", ["report", "{tmp}/corrupt.db", "--out", "{tmp}/r1"], ["corrupt.db", "not an archgym"]),
    ("report-other-sqlite", ["report", "{tmp}/other.db", "--out", "{tmp}/r2"], ["other.db", "not an archgym"]),
    ("report-out-is-file", ["report", "{tmp}/store.db", "--out", "{tmp}/existing.txt"],
     ["existing.txt", "is a file", "folder"]),
    ("report-empty-store", ["report", "{tmp}/empty_store.db", "--out", "{tmp}/r3"], ["empty_store.db", "no trials"]),
    ("compare-empty-store", ["compare", "{tmp}/empty_store.db"], ["empty_store.db", "no complete trials"]),
    ("compare-other-sqlite", ["compare", "{tmp}/other.db"], ["other.db", "not an archgym"]),
    ("compare-budgets-text", ["compare", "{tmp}/store.db", "--budgets", "a,b"], ["'a,b'", "integers"]),
    ("compare-budget-zero", ["compare", "{tmp}/store.db", "--budgets", "0"], ["budget 0", "1..5"]),
    ("compare-budget-too-big", ["compare", "{tmp}/store.db", "--budgets", "2,6"], ["budget 6", "1..5"]),
    ("failures-corrupt", ["failures", "{tmp}/corrupt.db"], ["corrupt.db", "not an archgym"]),
    # sweep: every problem checked before anything runs
    ("spec-missing", ["sweep", "{tmp}/nope.yaml"], ["nope.yaml", "sweep spec", "no such file"]),
    ("spec-unknown-env", ["sweep", "{tmp}/unknown_env.yaml"], ["'NoSuchEnv-v0'", "known:"]),
    ("spec-unknown-workload", ["sweep", "{tmp}/unknown_workload.yaml"], ["unknown_workload.yaml:", "'nosuch'",
                                                                         "allowed: default"]),
    ("spec-unknown-option", ["sweep", "{tmp}/unknown_option.yaml"], ["unknown_option.yaml:", "'speed'", "allowed"]),
    ("spec-bad-hp", ["sweep", "{tmp}/bad_hp.yaml"], ["bad_hp.yaml:", "population_size", "1"]),
    ("spec-unknown-agent", ["sweep", "{tmp}/unknown_agent.yaml"], ["'nope'", "known:"]),
    ("spec-bad-objective", ["sweep", "{tmp}/bad_objective.yaml"], ["bad_objective.yaml:", "empty term"]),
    ("spec-duplicate-key", ["sweep", "{tmp}/dup.yaml"], ["dup.yaml:", "duplicate key 'budget'", "line 2"]),
    ("spec-trace-needs-folder", ["sweep", "{tmp}/trace.yaml"], ["'cloud-1'", "ARCHGYM_DRAM_TRACES", "trace_dir"]),
    ("spec-empty-trace", ["sweep", "{tmp}/empty_trace.yaml"], ["empty.stl", "no requests"]),
    ("sweep-store-folder", ["sweep", "{tmp}/good.yaml", "--store", "{tmp}/folder"], ["folder", "directory"]),
    # --- issue 22: plugins and paths
    ("import-empty", ["--import", "", "list"], ["''", "module name or a .py file"]),
    ("import-dotdot", ["--import", "..", "list"], ["'..'", "no such file"]),
    ("import-missing-file", ["--import", "{tmp}/nope_plugin.py", "list"], ["nope_plugin.py", "no such file"]),
    ("import-syntax-error", ["--import", "{tmp}/syntax_plugin.py", "list"], ["syntax_plugin.py", "SyntaxError", ":1"]),
    ("import-raises", ["--import", "{tmp}/raising_plugin.py", "list"], ["raising_plugin.py", "plugin exploded"]),
    # --- unreadable files
    ("spec-binary", ["sweep", "{tmp}/binary.yaml"], ["binary.yaml", "not a text file"]),
    ("spec-folder", ["sweep", "{tmp}/folder"], ["folder", "is a folder"]),
    ("suite-binary", ["leaderboard", "--suite", "{tmp}/binary.yaml"], ["binary.yaml", "not a text file"]),
    ("runs-binary", ["leaderboard", "{tmp}/binary.yaml"], ["binary.yaml"]),
    # --- repeated values never silently take the last
    ("budget-twice", RUN[:-2] + ["--budget", "3", "--budget", "4"], ["--budget", "twice", "3", "4"]),
    ("set-twice", RUN + ["--set", "x=1", "--set", "x=2"], ["--set x", "twice"]),
    ("workload-twice", ["info", "Toy-v0", "--workload", "a", "--workload", "b"], ["--workload", "twice"]),
    ("workload-and-set-workload", ["evaluate", "Toy-v0", "--workload", "default", "--set", "workload=default",
                                   "--config", TOY], ["workload", "twice"]),
    ("config-duplicate-key", ["evaluate", "Toy-v0", "--config", '{"x": 7, "x": 8, "y": 8, "mode": "a"}'],
     ["'x'", "twice"]),
    ("config-file-duplicate-key", ["evaluate", "Toy-v0", "--config", "{tmp}/dupkey.json"], ["'x'", "twice"]),
    # --- silent type coercion
    ("design-value-string", ["evaluate", "Toy-v0", "--config", '{"x": "7", "y": 8, "mode": "a"}'],
     ["'7'", "a string, not a number"]),
    ("option-bool-for-number", ["evaluate", "Toy-v0", "--set", "offset=true", "--config", TOY],
     ["offset", "a number", "True"]),
    ("hp-float-for-int", RUN[:2] + ["--agent", "ga", "--budget", "3", "--set", "population_size=4.0"],
     ["population_size", "integer", "4.0"]),
    ("budget-underscore", RUN[:-1] + ["1_0"], ["--budget", "'1_0'"]),
    # --- jointly impossible hyperparameters
    ("hp-tournament-over-population", RUN[:2] + ["--agent", "ga", "--budget", "3", "--set", "population_size=4",
                                                 "--set", "tournament_size=9"], ["tournament_size", "population_size"]),
    ("hp-elite-ants-over-ants", RUN[:2] + ["--agent", "aco", "--budget", "3", "--set", "ant_count=2",
                                           "--set", "n_elite=5"], ["n_elite", "ant_count"]),
    ("hp-crossover-points", RUN[:2] + ["--agent", "ga", "--budget", "3", "--set", "crossover=k_point",
                                       "--set", "crossover_points=5"], ["crossover_points", "number of parameters"]),
    # --- options silently ignored
    ("scheduler-without-dask", ["sweep", "{tmp}/good.yaml", "--scheduler", "tcp://x:1"], ["--scheduler", "dask"]),
    ("study-empty", RUN + ["--study", "", "--store", "{tmp}/s_empty.db"], ["--study", "''"]),
    ("store-empty", RUN + ["--store", ""], ["--store", "''"]),
    ("spec-null-workload", ["sweep", "{tmp}/null_workload.yaml"], ["null_workload.yaml:", "None"]),
    # --- YAML alias bombs
    ("spec-alias-bomb", ["sweep", "{tmp}/bomb.yaml"], ["bomb.yaml", "aliases"]),
    # --- empty inputs
    ("config-empty-list", ["evaluate", "Toy-v0", "--config", "[]"], ["[]", "no design"]),
    ("config-empty-file", ["evaluate", "Toy-v0", "--config", "{tmp}/designs.json"], ["designs.json", "no design"]),
    ("config-blank-jsonl", ["evaluate", "Toy-v0", "--config", "{tmp}/blank.jsonl"], ["blank.jsonl", "no design"]),
    # --- output paths
    ("report-out-empty", ["report", "{tmp}/store.db", "--out", ""], ["--out", "''"]),
    ("report-out-under-a-file", ["report", "{tmp}/store.db", "--out", "{tmp}/existing.txt/sub"],
     ["existing.txt", "cannot"]),
    ("bench-out-is-file", ["bench", "run", "--out", "{tmp}/existing.txt"], ["existing.txt", "is a file"]),
    ("proxy-dataset-out-folder", ["proxy", "dataset", "Toy-v0", "--n", "5", "--out", "{tmp}/folder"],
     ["folder", "is a folder"]),
    ("proxy-table-out-empty", ["proxy", "table", "Toy-v0", "--out", ""], ["--out", "''"]),
    # --- workload files: missing, a folder, binary junk, alias bombs
    ("graph-json-missing", ["info", "Scratchpad-v0", "--workload", "{tmp}/nope_graph.json"],
     ["nope_graph.json", "no such file"]),
    ("graph-json-binary", ["info", "Scratchpad-v0", "--workload", "{tmp}/binary.json"],
     ["binary.json", "not a text file"]),
    ("topology-csv-folder", ["info", "Systolic-v0", "--workload", "{tmp}/folder.csv"], ["folder.csv"]),
    ("timeloop-yaml-binary", ["info", "DataflowMapping-v0", "--workload", "{tmp}/binary.yaml"],
     ["binary.yaml", "not a text file"]),
    ("timeloop-yaml-alias-bomb", ["info", "DataflowMapping-v0", "--workload", "{tmp}/bomb.yaml"],
     ["bomb.yaml", "aliases"]),
    # --- simulator options refused by the constructor itself
    ("dataflow-bogus-option", ["evaluate", "DataflowMapping-v0", "--set", "bogus=1", "--config", "{}"],
     ["bogus", "options are"]),
    # --- issue 28: residual factors (imperfect factorization)
    *[(f"dataflow-{name}", ["evaluate", "DataflowMapping-v0", "--workload", "{tmp}/conv1d.yaml", "--set",
                            "arch={tmp}/conv1d.yaml", *extra, "--config", f"{{tmp}}/{name}.yaml"], needles)
      for name, extra, needles in (
          ("resid_three", [], ["'P=5,1,1'", "DIM=N,R"]),
          ("resid_over", [], ["'P=5,6'", "from 1 to the factor 5"]),
          ("resid_cover", [], ["'P'", "cover 17 indices", "bound is 16"]),
          ("resid_semicolon", [], ["'P=5;'", "DIM=N,R"]),
          ("resid_ok", ["--set", "reuse=timeloop"], ["reuse=exact only"]))],
    ("dataflow-imperfect-not-bool", ["evaluate", "DataflowMapping-v0", "--set", "imperfect=maybe", "--config", "{}"],
     ["imperfect 'maybe'", "true or false"]),
    ("dataflow-imperfect-timeloop", ["evaluate", "DataflowMapping-v0", "--set", "imperfect=true", "--set",
                                     "reuse=timeloop", "--config", "{}"], ["imperfect=true needs reuse=exact"]),
    ("map-imperfect-timeloop", ["map", "--arch", "{tmp}/conv1d.yaml", "--problem", "{tmp}/conv1d.yaml", "--set",
                                "imperfect=true", "--set", "reuse=timeloop", "--budget", "5"],
     ["imperfect=true needs reuse=exact"]),
    ("map-mapspace-template", ["map", "--arch", "{tmp}/conv1d.yaml", "--problem", "{tmp}/conv1d.yaml", "--mapper",
                               "{tmp}/mapper_hybrid.yaml", "--budget", "5"], ["'hybrid'", "uber, ruby"]),
    ("sweep-store-other-sqlite", ["sweep", "{tmp}/good.yaml", "--store", "{tmp}/other.db"],
     ["other.db", "not an archgym"]),
]


def run_cli(argv, capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_bad_input_is_one_line_exit_2(argv, needles, tmp, capsys, monkeypatch):
    monkeypatch.delenv("ARCHGYM_DRAM_TRACES", raising=False)
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    code, out, err = run_cli(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("archgym: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_read_only_commands_leave_foreign_files_untouched(tmp, capsys):
    """report/compare on another program's SQLite file: one line, the file is
    byte-identical afterwards and no -wal/-shm files appear."""
    other = tmp / "other.db"
    before = other.read_bytes()
    for argv in (["report", str(other), "--out", str(tmp / "r9")], ["compare", str(other)]):
        assert run_cli(argv, capsys)[0] == 2
    assert other.read_bytes() == before
    assert not any(Path(str(other) + s).exists() for s in ("-wal", "-shm", "-journal"))
    store = tmp / "store.db"
    before = store.read_bytes()
    assert run_cli(["compare", str(store)], capsys)[0] == 0
    assert store.read_bytes() == before
    assert not any(Path(str(store) + s).exists() for s in ("-wal", "-shm"))


def test_a_bad_store_is_refused_before_the_search(tmp, capsys, monkeypatch):
    """The search never starts, so no result can be lost."""
    from archgym.agents import RandomSearch

    calls = []
    monkeypatch.setattr(RandomSearch, "run", lambda *a, **k: calls.append(1))
    assert run_cli(RUN + ["--store", str(tmp / "corrupt.db")], capsys)[0] == 2
    assert calls == []


def test_unreachable_dask_scheduler_is_one_line_within_seconds(tmp, capsys):
    pytest.importorskip("dask.distributed")
    t0 = time.perf_counter()
    code, _, err = run_cli(["sweep", str(tmp / "good.yaml"), "--store", str(tmp / "dask.db"), "--executor", "dask",
                            "--scheduler", "tcp://127.0.0.1:9", "--quiet"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "cannot reach the Dask scheduler 'tcp://127.0.0.1:9'" in err
    assert time.perf_counter() - t0 < 20


def test_a_bug_keeps_its_traceback_and_exit_1(tmp_path):
    """Only user-input errors are one line: a ValueError from a buggy simulator
    is a bug and surfaces with its traceback (exit status 1)."""
    plugin = tmp_path / "buggy_sim.py"
    plugin.write_text(textwrap.dedent("""\
        import archgym
        from archgym.testing import ToySimulator

        class Buggy(ToySimulator):
            def _evaluate(self, config):
                raise ValueError("internal bug")

        archgym.register("Buggy-v0", Buggy, overwrite=True)
        """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(tmp_path)])}
    out = subprocess.run([sys.executable, "-m", "archgym.cli", "--import", "buggy_sim", "evaluate", "Buggy-v0",
                          "--config", TOY], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "internal bug" in out.stderr


# --------------------------------------------------------------------------- API
def _toy_env(**kw):
    from archgym.env import DSEEnv
    from archgym.testing import ToySimulator

    return DSEEnv(ToySimulator(), **kw)


def _empty_trace_sim(tmp):
    sim = archgym.make_simulator("DRAM-v0", workload=str(tmp / "empty.stl"))
    return sim.evaluate(sim.reference_config())


API_CASES = [
    ("env-mode", lambda tmp: _toy_env(mode="sideways"), ["'sideways'", "design"]),
    ("env-episode-length-str", lambda tmp: _toy_env(episode_length="3"), ["'3'", "integer >= 1"]),
    ("env-episode-length-zero", lambda tmp: _toy_env(episode_length=0), ["0", "integer >= 1"]),
    ("env-max-evaluations", lambda tmp: _toy_env(max_evaluations=-1), ["-1", "integer >= 0"]),
    ("float-action", lambda tmp: _toy_env().step(np.array([7.9, 3.0, 0.0])), ["7.9", "integers"]),
    ("action-out-of-range", lambda tmp: _toy_env().step(np.array([99, 3, 0])), ["99", "MultiDiscrete"]),
    ("float-action-parameter-mode", lambda tmp: _toy_env(mode="parameter").step(1.5), ["1.5", "integers"]),
    ("run-seed-none", lambda tmp: archgym.make_agent("random").run(_toy_env(), 3, seed=None), ["None", ">= 0"]),
    ("run-seed-negative", lambda tmp: archgym.make_agent("ga").run(_toy_env(), 3, seed=-2), ["-2", ">= 0"]),
    ("run-budget-float", lambda tmp: archgym.make_agent("random").run(_toy_env(), 2.5, seed=0), ["2.5", "positive"]),
    ("run-not-dse-env", lambda tmp: archgym.make_agent("random").run(archgym.make("ScratchpadSchedule-v0"), 3, 0),
     ["DSEEnv"]),
    ("hp-range", lambda tmp: archgym.make_agent("aco", evaporation=2.0), ["2.0", "evaporation", "[0.0, 1.0]"]),
    ("simulator-option", lambda tmp: archgym.make_simulator("Systolic-v0", bogus=1), ["bogus", "allowed"]),
    ("empty-dram-trace", _empty_trace_sim, ["empty.stl", "no requests"]),
    ("store-folder", lambda tmp: __import__("archgym.store").store.Store(tmp / "folder"), ["directory"]),
    ("store-readonly-missing", lambda tmp: __import__("archgym.store").store.Store(tmp / "x.db", readonly=True),
     ["no such results store"]),
    # --- issue 22
    ("step-2d-action", lambda tmp: _toy_env().step(np.array([[7, 3, 0]])), ["MultiDiscrete"]),
    ("reset-unknown-options", lambda tmp: _toy_env().reset(options={"temperature": 3}), ["temperature", "no options"]),
    ("make-agent-positional", lambda tmp: archgym.make_agent("ga", 5), ["positional", "population_size"]),
    ("hp-nan-for-int", lambda tmp: archgym.make_agent("ga", population_size=float("nan")), ["population_size", "nan"]),
    ("multi-line-message", lambda tmp: _toy_env().step(np.arange(60).reshape(20, 3)), ["MultiDiscrete"]),
    ("option-string-for-int", lambda tmp: archgym.make_simulator("Systolic-v0", word_bytes="2"),
     ["word_bytes", "integer", "'2'"]),
    # issue 22, Scratchpad options (counted budgets; time_limit_s is a safety net)
    ("scratchpad-time-limit-negative", lambda tmp: archgym.make_simulator("Scratchpad-v0", time_limit_s=-1),
     ["time_limit_s=-1", "positive number of seconds"]),
    ("scratchpad-time-limit-nan", lambda tmp: archgym.make_simulator("Scratchpad-v0", time_limit_s=float("nan")),
     ["time_limit_s=nan", "positive"]),
    ("scratchpad-time-limit-list", lambda tmp: archgym.make_simulator("Scratchpad-v0", time_limit_s=[1]),
     ["time_limit_s", "[1]", "number"]),
    ("scratchpad-gap-negative", lambda tmp: archgym.make_simulator("Scratchpad-v0", gap_rel=-1),
     ["gap_rel=-1", "[0, 1)"]),
    ("scratchpad-policies-empty", lambda tmp: archgym.make_simulator("Scratchpad-v0", policies=[]),
     ["policies=[]", "non-empty"]),
    ("scratchpad-free-order-max-ops", lambda tmp: archgym.make_simulator("Scratchpad-v0", free_order_max_ops=-1),
     ["free_order_max_ops=-1", ">= 0"]),
    ("scratchpad-node-limit-bool", lambda tmp: archgym.make_simulator("Scratchpad-v0", node_limit=True),
     ["node_limit", "True", "integer"]),
    ("scratchpad-search-iterations-float", lambda tmp: archgym.make_simulator("Scratchpad-v0",
                                                                               search_iterations=2.5),
     ["search_iterations", "2.5", "integer"]),
    # --- issue 22, the DRAM generator's options (a generator spec is a DRAM workload)
    ("dram-gen-span-zero", lambda tmp: _dram_gen(span=0), ["span", ">= 64", "0"]),
    ("dram-gen-gap-nan", lambda tmp: _dram_gen(gap=float("nan")), ["gap", "finite", "nan"]),
    ("dram-gen-start-negative", lambda tmp: _dram_gen(start=-64), ["start", "-64"]),
    ("dram-gen-read-fraction", lambda tmp: _dram_gen(pattern="mixed", read_fraction=2), ["read_fraction", "[0, 1]"]),
    ("dram-gen-stride-zero", lambda tmp: _dram_gen(pattern="strided", stride=0), ["stride", "0"]),
    ("dram-gen-n-huge", lambda tmp: _dram_gen(n=1e10), ["n", "0..10000000", "10000000000.0"]),
    ("dram-gen-n-bool", lambda tmp: _dram_gen(n=True), ["n", "number", "True"]),
    ("dram-gen-unknown-key", lambda tmp: _dram_gen(bogus=1), ["bogus", "allowed"]),
    ("dram-gen-too-long", lambda tmp: _dram_gen(n=100, gap=1e30), ["n=100", "26 days"]),
    ("dram-fixed-bad-value", lambda tmp: archgym.make_simulator("DRAM-v0", fixed={"CmdMux": "Weird"}),
     ["fixed", "CmdMux", "'Weird'", "Oldest"]),
    ("dram-trace-arrays-fraction", lambda tmp: _dram_arrays(times=[0.0, 2.5]), ["request 1", "2.5", "whole number"]),
    ("dram-trace-arrays-direction", lambda tmp: _dram_arrays(writes=[0, 2]), ["request 1", "direction", "2"]),
]


def _dram_gen(**spec):
    sim = archgym.make_simulator("DRAM-v0", workload={"pattern": "random", "n": 100, **spec})
    return sim.evaluate(sim.reference_config())


def _dram_arrays(times=(0, 1), writes=(0, 0)):
    from archgym.simulators.dram import Trace

    tr = Trace(np.asarray(times), np.asarray(writes, np.int8), np.array([0, 64], np.uint64), False, "arrays")
    sim = archgym.make_simulator("DRAM-v0", workload=tr)
    return sim.evaluate(sim.reference_config())


@pytest.mark.parametrize("call, needles", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_bad_input_raises_one_line_user_input_error(call, needles, tmp):
    with pytest.raises(UserInputError) as info:
        call(tmp)
    msg = str(info.value)
    assert "\n" not in msg.strip(), msg
    for needle in needles:
        assert needle in msg, (needle, msg)

"""The run pipeline and the layering: one path records a search; the core imports nothing above it."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archgym
from archgym.cli import main
from archgym.env import DSEEnv
from archgym.store import Store
from archgym.testing import ToySimulator

ROOT = Path(__file__).resolve().parents[1]
UPPER = ("archgym.simulators", "archgym.agents", "archgym.cost_models", "archgym.experiments")


def _imports(tree: ast.AST, top_level_only: bool) -> list[tuple[int, str]]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            name = node.module if node.level == 0 else f"archgym.{node.module}"
            out.append((node.lineno, name))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "archgym").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_layer_above_it(path):
    """Core modules never import simulators, agents, cost models or experiments; the CLI's
    command modules may, but only inside a handler (lazily), never at import time."""
    is_cli = "cli" in path.relative_to(ROOT / "archgym").parts
    found = [(line, name) for line, name in _imports(ast.parse(path.read_text()), top_level_only=is_cli)
             if name.startswith(UPPER)]
    assert not found, f"{path.relative_to(ROOT)} imports {found}"


@pytest.mark.parametrize("package,forbidden", [
    ("simulators", ("archgym.agents", "archgym.cost_models", "archgym.experiments")),
    ("agents", ("archgym.simulators", "archgym.cost_models", "archgym.experiments")),
    ("cost_models", ("archgym.simulators", "archgym.agents", "archgym.experiments")),
])
def test_middle_layers_import_only_the_core(package, forbidden):
    for path in (ROOT / package).rglob("*.py"):
        bad = [(line, name) for line, name in _imports(ast.parse(path.read_text()), top_level_only=False)
               if name.startswith(forbidden)]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are not docstrings."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_installed_modules_never_read_scripts_tests_or_shared():
    """No path into tests/, the sibling shared/ folder, or the scripts and results beside the library."""
    names = {"tests"}  # as a path component, e.g. ROOT / "tests"
    parts = ("tests/", "shared/", "../shared", "experiments/benchmarks", "experiments/studies", "experiments/results")
    for folder in ("archgym", "simulators", "agents", "cost_models", "experiments/sweep", "experiments/analysis",
                   "experiments/bench"):
        for path in (ROOT / folder).rglob("*.py"):
            bad = [(line, text) for line, text in _string_constants(ast.parse(path.read_text()))
                   if text in names or any(p in text for p in parts)]
            assert not bad, f"{path.relative_to(ROOT)}: {bad}"


def test_a_users_cap_wins_over_the_budget_and_is_restored(tmp_path, toy_registered, capsys):
    db = tmp_path / "s.db"
    assert main(["run", "Toy-v0", "--agent", "ga", "--budget", "3", "--option", "max_evaluations=1",
                 "--store", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluations"] == 1
    with Store(db, readonly=True) as st:
        assert len(st.evaluations()) == 1
    env = DSEEnv(ToySimulator(), max_evaluations=4)
    with env.budget(10) as start:
        assert start == 0 and env.max_evaluations == 4  # the smaller cap wins
        with env.budget(2):
            assert env.max_evaluations == 2  # nested budgets narrow, never widen
        assert env.max_evaluations == 4
    assert env.max_evaluations == 4


def test_run_records_measured_wall_time_and_the_bound_objective(tmp_path, toy_registered, capsys):
    db = tmp_path / "s.db"
    assert main(["run", "Toy-v0", "--agent", "bo", "--budget", "12", "--seed", "1", "--objective", "cost, area",
                 "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert "objective:" in out and "recorded in" in out
    with Store(db, readonly=True) as st:
        t, ev = st.trials(), st.evaluations()
    sim_time = ev["wall_time_s"].sum()
    assert t.loc[0, "status"] == "complete" and t.loc[0, "wall_time_s"] > sim_time > 0  # BO's own time counts
    assert [term["metric"] for term in t.loc[0, "objective"]["terms"]] == ["cost", "area"]
    assert all(term["ref"] > 0 and term["lower_is_better"] for term in t.loc[0, "objective"]["terms"])


def test_a_failing_search_is_recorded_and_keeps_its_traceback(tmp_path, capsys):
    class Broken(ToySimulator):
        def _evaluate(self, config):
            if config["x"] == 0:  # the reference design (x=10) works, so the env builds
                raise ZeroDivisionError("model bug")
            return super()._evaluate(config)

    archgym.register("Broken-v0", Broken, overwrite=True)
    db = tmp_path / "s.db"
    assert main(["run", "Broken-v0", "--agent", "grid", "--budget", "5", "--store", str(db)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: model bug" in err
    with Store(db, readonly=True) as st:
        t = st.trials()
    assert t.loc[0, "status"] == "failed" and "ZeroDivisionError" in t.loc[0, "error"]


def test_cli_evaluate_imports_no_upper_layer_but_the_simulator():
    code = ("import sys\nfrom archgym.cli import main\n"
            "main(['evaluate', 'Systolic-v0', '--json', '--config', sys.argv[1]])\n"
            "print([m for m in sys.modules if m.startswith(('archgym.experiments', 'archgym.agents', "
            "'archgym.cost_models'))], file=sys.stderr)\n")
    cfg = json.dumps(archgym.make_simulator("Systolic-v0").reference_config())
    out = subprocess.run([sys.executable, "-c", code, cfg], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"

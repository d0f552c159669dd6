"""A plain (non-editable) install works from any folder and never writes into the package.

Builds the wheel, installs it into a fresh virtual environment (its
dependencies are borrowed from the test environment through a path file, so
nothing is downloaded), and runs from an empty folder: ``archgym list``,
``archgym leaderboard`` on the shipped run table, ``archgym bench plan``, a
one-problem, one-seed ``archgym bench run`` into a temporary folder, and
``archgym evaluate`` with every simulator's reference design.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARCHGYM_DRAM_TRACES")}
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stderr[-3000:]}"
    return out


def _files(folder: Path) -> set[str]:
    """Files under ``folder`` except compiled-code caches (__pycache__: Python's and numba's)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a clean copy: a stale build/ folder in the clone must not leak old modules into the wheel
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info",
                                                             "__pycache__", ".pytest_cache", ".hypothesis"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist"),
          str(src)], cwd=tmp)
    wheel = next((tmp / "dist").glob("archgym-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp)
                .stdout.strip())
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         cwd=tmp)
    work = tmp / "elsewhere"
    work.mkdir()
    package = site / "archgym"
    return {"py": py, "archgym": venv / "bin" / "archgym", "work": work, "package": package,
            "files": _files(package)}


def test_the_installed_package_is_the_wheel_and_ships_its_data(installed):
    out = _run([str(installed["py"]), "-c", "import archgym, archgym.experiments.bench as b; "
                "print(archgym.__file__); print(b.DEFAULT_SUITE.is_file(), b.SHIPPED_RUNS.is_file())"],
               cwd=installed["work"]).stdout.split()
    assert out[0].startswith(str(installed["package"])) and out[1:] == ["True", "True"]
    files = installed["files"]
    assert not any(f.startswith(("experiments/benchmarks", "experiments/studies", "experiments/results"))
                   for f in files), "scripts, studies and results stay outside the package"


def test_commands_work_from_another_folder(installed):
    a, work = str(installed["archgym"]), installed["work"]
    assert "archgym/Systolic-v0" in _run([a, "list"], cwd=work).stdout
    assert "mean rank" in _run([a, "leaderboard"], cwd=work).stdout
    assert "total" in _run([a, "bench", "plan"], cwd=work).stdout
    out = work / "bench-out"
    _run([a, "bench", "run", "--problems", "systolic-resnet18", "--searchers", "random", "--seeds", "1",
          "--max-budget", "20", "--out", str(out), "--quiet"], cwd=work)
    assert (out / "bench_runs.csv").read_text().count("\n") == 2 and (out / "leaderboard" / "leaderboard.md").exists()
    assert _files(installed["package"]) == installed["files"], "a command wrote into the installed package"


def test_every_simulator_evaluates_its_reference_design(installed):
    py, a, work = str(installed["py"]), str(installed["archgym"]), installed["work"]
    refs = json.loads(_run([py, "-c", "import json, archgym; print(json.dumps({e: archgym.make_simulator(e)"
                                      ".reference_config() for e in archgym.list_simulators()}))"], cwd=work).stdout)
    assert len(refs) >= 6
    for env_id, design in refs.items():
        res = json.loads(_run([a, "evaluate", env_id, "--config", json.dumps(design), "--json"], cwd=work).stdout)
        assert res["feasible"] is True and res["in_space"] is True, (env_id, res)
    assert _files(installed["package"]) == installed["files"]


def test_every_package_folder_is_listed_in_setup_cfg():
    """A sub-package missing from setup.cfg's ``packages`` silently drops out of the wheel."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    roots = {"archgym": "archgym", "simulators": "archgym.simulators", "agents": "archgym.agents",
             "cost_models": "archgym.cost_models", "experiments": "archgym.experiments"}
    found = set()
    for folder, package in roots.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *rel)))
    assert found == listed, f"in the tree, not in setup.cfg: {sorted(found - listed)}; " \
                            f"in setup.cfg, not in the tree: {sorted(listed - found)}"

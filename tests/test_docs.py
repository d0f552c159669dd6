"""The documentation site: it builds with warnings as errors, every code block
on every page runs as written (``doc_blocks``), and the generated pages hold
exactly what their results files say."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import doc_blocks

ROOT = doc_blocks.ROOT
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
#: pages whose blocks are reference snippets, not runnable as written (each with where its examples do run)
NOT_RUN = {"workloads.md": "placeholder files (model.onnx, my_module) in reference snippets; the runnable example "
                           "is in tutorials/own-network.md and the ONNX tests run the rest (tests/test_onnx_*.py)"}


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


figures = _module(DOCS / "figures" / "build_figures.py", "build_figures")


def test_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    cli = (site / "reference" / "cli" / "index.html").read_text()
    assert "archgym run" in cli and "--quiet" in cli  # generated from the parser
    api = (site / "reference" / "api" / "index.html").read_text()
    assert "DesignSpace" in api and "run_trial" in api and "export_to_optuna" in api  # from the docstrings
    assert (site / "img" / "dashboard_pareto.png").is_file() and (site / "measured" / "index.html").is_file()


@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_runs(page, tmp_path):
    if page in NOT_RUN:
        pytest.skip(NOT_RUN[page])
    ran = doc_blocks.run_page(DOCS / page, tmp_path)
    code = sum(b.lang in ("python", "sh") for b in doc_blocks.blocks(DOCS / page))
    assert code == 0 or ran["python"] + ran["commands"] > 0, f"{page}: no block ran"


def test_measured_figures_equal_their_results_files():
    """Each figure on the committed page, read back from the page, equals the
    value in its results file (to the digits shown); then the whole pages."""
    figures.RENDERED.clear()
    page = figures.measured_page()
    committed = (DOCS / "measured.md").read_text()
    rows = {}
    for line in committed.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[2].startswith("`") and "#/" in cells[2]:
            rows[cells[2].strip("`")] = cells[1]
    checked = 0
    for fig in figures.RENDERED:
        if fig.label and f"{fig.file}#{fig.pointer}" in rows:
            shown = figures.parse_number(rows[f"{fig.file}#{fig.pointer}"])
            want = fig.value()
            decimals = fig.fixed if fig.fixed is not None else None
            tol = 0.5 * 10 ** -decimals if decimals is not None else 0.5 * 10 ** (
                int(f"{abs(want):e}".split("e")[1]) - fig.digits + 1)
            assert abs(shown - want) <= tol * 1.0001, (fig, rows[f"{fig.file}#{fig.pointer}"], want)
            checked += 1
    assert checked >= 60 and committed == page, \
        "docs/measured.md differs from the results files: run python docs/figures/build_figures.py"
    assert figures.main(["--check"]) == 0  # the leaderboard page and the copied figures too


def test_optional_pages_slot_into_the_nav(tmp_path):
    nav = _module(DOCS / "hooks" / "nav.py", "nav_hook")
    (tmp_path / "dataflow.md").write_text("# Dataflow\n")
    config = {"docs_dir": str(tmp_path), "nav": [{"Home": "index.md"},
                                                 {"Simulators": [{"Environments": "simulators.md"}]}]}
    nav.on_config(config)
    assert config["nav"][1]["Simulators"] == [{"Environments": "simulators.md"},
                                              {"Dataflow mapping (Timeloop class)": "dataflow.md"}]
    nav.on_config(config)  # a page already in the nav stays once
    assert len(config["nav"][1]["Simulators"]) == 2

"""``archgym bench`` and ``archgym leaderboard`` as entries of the CLI's command registry.

Light to import (argparse and the CLI's :class:`~archgym.cli.Command` only): the
parser is built at every ``archgym`` call, the work (:mod:`.bench`) is imported
only when one of these commands runs.  Arguments are documented in
:mod:`archgym.experiments.bench`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from archgym.cli import Command, int_arg

__all__ = ["BENCH", "LEADERBOARD"]

_RESULTS = Path(__file__).resolve().parent / "results"


def _suite_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", help="suite file (default: experiments/suite.yaml)")
    p.add_argument("--trace-dir", help="folder with ArchGym's DRAM traces (sets ARCHGYM_DRAM_TRACES)")


def _configure_bench(s: argparse.ArgumentParser) -> None:
    sub = s.add_subparsers(dest="bench_command", parser_class=type(s))
    r = sub.add_parser("reference", help="best known values and hardness -> the suite's best_known file")
    _suite_args(r)
    r.add_argument("--problems", help="comma-separated problem names (default: all)")
    r = sub.add_parser("run", help="run the suite through the sweep runner, then write the leaderboard")
    _suite_args(r)
    r.add_argument("--store", default=str(_RESULTS / "bench.db"), help="SQLite results store (resumable)")
    r.add_argument("--problems", help="comma-separated problem names (default: every active one)")
    r.add_argument("--searchers", help="comma-separated searcher names (default: all)")
    r.add_argument("--seeds", type=int_arg(1, "--seeds"), help="seeds 0..N-1 (default: the suite's)")
    r.add_argument("--max-budget", type=int_arg(1, "--max-budget"), help="cap every run (tiny runs)")
    r.add_argument("--workers", type=int_arg(1, "--workers"), default=1)
    r.add_argument("--executor", choices=["local", "dask", "inline"], default="local")
    r.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    r.add_argument("--runs", default=str(_RESULTS / "bench_runs.csv"), help="compact run table to write (CSV)")
    r.add_argument("--out", default=str(_RESULTS / "leaderboard"), help="folder for the leaderboard page")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--reference", action="store_true",
                   help="first recompute the selected problems' best known values (a run from scratch)")
    r = sub.add_parser("plan", help="worker time of the full grid, from measured runs")
    _suite_args(r)
    r.add_argument("--runs", default=str(_RESULTS / "bench_runs.csv"))
    r.add_argument("--seeds", type=int_arg(1, "--seeds"))


def _configure_leaderboard(s: argparse.ArgumentParser) -> None:
    s.add_argument("runs", nargs="?", default=str(_RESULTS / "bench_runs.csv"),
                   help="run table (CSV) or results store (.db)")
    _suite_args(s)
    s.add_argument("--out", help="also write leaderboard.md/.html and the regret figures here")
    s.add_argument("--budgets", help="comma-separated evaluation counts (default: the suite's)")
    s.add_argument("--at", help="comma-separated budgets of the per-problem regret tables (default: 100)")


def _run_bench(args) -> int:
    from .bench import bench_command

    return bench_command(args)


def _run_leaderboard(args) -> int:
    from .bench import leaderboard_command

    return leaderboard_command(args)


BENCH = Command("benchmark suite: best known values, runs, leaderboard", _configure_bench, _run_bench)
LEADERBOARD = Command("leaderboard tables (and page with curves) from benchmark runs", _configure_leaderboard,
                      _run_leaderboard)

"""``archgym bench`` and ``archgym leaderboard``: the benchmark suite (work in :mod:`archgym.experiments.bench`).

::

    archgym bench reference [--suite FILE] [--problems a,b] [--out DIR]
        best known values + hardness -> DIR/best_known.json (default: the current folder)
    archgym bench run [--suite FILE] [--out DIR] [--problems a,b] [--searchers x,y]
                      [--seeds N | --seed K[,K...]] [--max-budget B] [--workers N]
                      [--executor local|dask|inline] [--scheduler ADDR] [--reference] [--force]
        runs into DIR/bench.db (resumable), then DIR/bench_runs.csv and DIR/leaderboard/
    archgym bench plan [--suite FILE] [--runs CSV] [--seeds N]
        worker seconds of the full grid, from measured runs (default: the shipped run table)
    archgym leaderboard [RUNS.csv|STORE.db] [--suite FILE] [--best-known FILE] [--out DIR]
                        [--budgets 50,100] [--at 100]
        the tables (Markdown on stdout; default: the shipped runs) and, with --out, the page with figures

Every command takes ``--trace-dir`` (ArchGym's DRAM traces; sets
``ARCHGYM_DRAM_TRACES``).  Outputs go where the user says, never into the
installed package, and ``bench run`` refuses to replace a run table holding
runs the new one lacks unless ``--force``.
"""
from __future__ import annotations

import argparse
import os
import sys

from archgym.userfiles import output_folder

from .args import Command, StageProgress, add_quiet, int_arg, progress_bar

__all__ = ["BENCH", "LEADERBOARD"]


def _names(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def _suite_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", help="suite file (default: the shipped suite)")
    p.add_argument("--trace-dir", help="folder with ArchGym's DRAM traces (sets ARCHGYM_DRAM_TRACES)")


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seed expects distinct integers >= 0 such as 3 or 3,7; got {text!r}")
    return seeds


def _configure_bench(s: argparse.ArgumentParser) -> None:
    sub = s.add_subparsers(dest="bench_command", parser_class=type(s))
    r = sub.add_parser("reference", help="best known values and hardness -> DIR/best_known.json")
    _suite_args(r)
    r.add_argument("--problems", help="comma-separated problem names (default: all)")
    r.add_argument("--out", default=".", help="folder for best_known.json (default: the current folder)")
    add_quiet(r)
    r = sub.add_parser("run", help="run the suite through the sweep runner, then write the leaderboard")
    _suite_args(r)
    r.add_argument("--out", default=".",
                   help="folder for bench.db, bench_runs.csv and leaderboard/ (default: the current folder)")
    r.add_argument("--problems", help="comma-separated problem names (default: every active one)")
    r.add_argument("--searchers", help="comma-separated searcher names (default: all)")
    seeds = r.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int_arg(1, "--seeds"), help="seeds 0..N-1 (default: the suite's)")
    seeds.add_argument("--seed", type=_seed_list, help="these seeds only, e.g. 3 or 3,7 (rerun single cells)")
    r.add_argument("--max-budget", type=int_arg(1, "--max-budget"), help="cap every run (tiny runs)")
    r.add_argument("--workers", type=int_arg(1, "--workers"), default=1)
    r.add_argument("--executor", choices=["local", "dask", "inline"], default="local")
    r.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    add_quiet(r)
    r.add_argument("--reference", action="store_true",
                   help="first recompute the selected problems' best known values into DIR/best_known.json")
    r.add_argument("--force", action="store_true", help="replace DIR/bench_runs.csv even if it holds other runs")
    r = sub.add_parser("plan", help="worker time of the full grid, from measured runs")
    _suite_args(r)
    r.add_argument("--runs", help="run table (default: the shipped one)")
    r.add_argument("--seeds", type=int_arg(1, "--seeds"))


def _suite(args):
    from archgym.experiments.bench.suite import TRACES_ENV, SuiteError, load_suite

    if getattr(args, "trace_dir", None):
        if not os.path.isdir(args.trace_dir):
            raise SuiteError(f"--trace-dir: no such folder: {args.trace_dir}")
        os.environ[TRACES_ENV] = os.path.abspath(args.trace_dir)
    return load_suite(args.suite)


def _bench(args) -> int:
    from archgym.experiments.bench import SHIPPED_RUNS, commands
    from archgym.experiments.bench.suite import SuiteError

    if not getattr(args, "bench_command", None):
        raise SuiteError("archgym bench: choose a command: reference, run or plan")
    suite = _suite(args)
    if args.bench_command == "reference":
        out = os.path.join(output_folder(args.out, "--out", SuiteError), commands.BEST_KNOWN_FILE)
        with StageProgress(enabled=not args.quiet, unit="eval") as bar:
            commands.update_reference(suite, out, _names(args.problems), progress=bar)
        print(out)
        return 0
    if args.bench_command == "plan":
        rows = commands.plan(suite, commands.load_runs(args.runs or SHIPPED_RUNS, suite), args.seeds)
        for row in rows:
            print(f"{row['problem']:<32} {row['searcher']:<14} {1e3 * row['s_per_eval']:8.2f} ms/eval x "
                  f"{row['budget']:>5} = {row['cpu_s']:8.0f} s")
        print(f"total {sum(r['cpu_s'] for r in rows):.0f} s of one worker "
              "(as measured; a loaded machine overstates it)")
        return 0
    from archgym.experiments.bench.page import readme_tables

    if args.scheduler is not None and args.executor != "dask":
        raise SuiteError(f"--scheduler {args.scheduler!r} needs --executor dask")
    output_folder(args.out, "--out", SuiteError)
    seeds = args.seed if args.seed else (list(range(args.seeds)) if args.seeds else None)
    with StageProgress(enabled=not args.quiet, unit="eval") as bar:
        out = commands.publish(suite, args.out, _names(args.problems), _names(args.searchers), seeds,
                               args.max_budget, args.workers, args.executor, args.scheduler, reference=args.reference,
                               force=args.force, progress=not args.quiet, reference_progress=bar)
    print(readme_tables(out["runs"], out["suite"], out["budgets"]))
    for f in out["files"]:
        print(f, file=sys.stderr)
    return 1 if out["failed"] else 0


def _configure_leaderboard(s: argparse.ArgumentParser) -> None:
    s.add_argument("runs", nargs="?", help="run table (CSV) or results store (.db); default: the shipped runs")
    _suite_args(s)
    s.add_argument("--best-known", help="best known values (default: the suite's own file)")
    s.add_argument("--out", help="also write leaderboard.md/.html and the regret figures here")
    s.add_argument("--budgets", help="comma-separated evaluation counts (default: the suite's)")
    s.add_argument("--at", help="comma-separated budgets of the per-problem regret tables (default: 100)")
    add_quiet(s)


def _budgets(text: str | None, default: list[int]) -> list[int]:
    from archgym.experiments.bench.suite import SuiteError

    if not text:
        return default
    try:
        out = [int(b) for b in text.split(",")]
    except ValueError:
        raise SuiteError(f"--budgets expects comma-separated integers, got {text!r}") from None
    if not out or min(out) < 1:
        raise SuiteError(f"--budgets must be positive evaluation counts, got {text!r}")
    return out


def _leaderboard(args) -> int:
    from archgym.experiments.bench import SHIPPED_RUNS
    from archgym.experiments.bench.commands import load_runs
    from archgym.experiments.bench.leaderboard import check_regret
    from archgym.experiments.bench.page import readme_tables, write_leaderboard
    from archgym.experiments.bench.suite import SuiteError

    suite = _suite(args)
    if args.best_known:
        if not os.path.isfile(args.best_known):
            raise SuiteError(f"--best-known: no such file: {args.best_known}")
        suite = suite.with_best_known(args.best_known)
    budgets = _budgets(args.budgets, suite.budgets)
    runs = load_runs(os.fspath(args.runs or SHIPPED_RUNS), suite)
    source = os.fspath(args.runs) if args.runs else "the shipped run table, experiments/bench/data/runs.csv"
    if args.out is not None:
        with progress_bar(None, "leaderboard page", "figure", enabled=not args.quiet) as bar:
            write_leaderboard(runs, suite, output_folder(args.out, "--out", SuiteError), budgets, source=source,
                              progress=lambda done, total: (setattr(bar, "total", total), bar.update(1)))
    print(readme_tables(runs, suite, budgets, _budgets(args.at, suite.budgets) if args.at else None), end="")
    for msg in check_regret(runs, suite.best_known()):
        print(f"archgym: warning: {msg}", file=sys.stderr)
    return 0


BENCH = Command("benchmark suite: best known values, runs, leaderboard", _configure_bench, _bench)
LEADERBOARD = Command("leaderboard tables (and page with curves) from benchmark runs", _configure_leaderboard,
                      _leaderboard)

"""``archgym bench`` and ``archgym leaderboard``: run the suite, store references, rank searchers.

::

    archgym bench reference [--suite FILE] [--problems a,b]
        best known values + hardness -> the suite's best_known file (merged per problem)
    archgym bench run [--suite FILE] [--store DB] [--problems a,b] [--searchers x,y]
                      [--seeds N] [--max-budget B] [--workers N] [--executor local|dask|inline]
                      [--scheduler ADDR] [--runs CSV] [--out DIR]
        every (problem, searcher, seed) run through the sweep runner (resumable,
        local pool or Dask), then the compact run table (CSV) and the leaderboard
    archgym bench plan [--suite FILE] [--runs CSV] [--seeds N]
        worker seconds of the full grid, extrapolated from the measured runs' wall time
    archgym leaderboard RUNS.csv|STORE.db [--suite FILE] [--out DIR] [--budgets 50,100]
        the tables (Markdown on stdout) and, with --out, the HTML page with curves

Problems that need ArchGym's DRAM traces are skipped with a note unless
``ARCHGYM_DRAM_TRACES`` (or ``--trace-dir``) points at them.  Bad input raises
:class:`~archgym.experiments.suite.SuiteError` (one line, exit 2 from the CLI).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import yaml

from .suite import TRACES_ENV, Suite, SuiteError, load_suite

__all__ = ["main", "main_leaderboard", "run_bench", "update_reference", "DEFAULT_RUNS"]

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_RUNS = RESULTS / "bench_runs.csv"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, as the CLI's own parser
        raise SuiteError(f"{self.prog}: {message}")


def _names(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reference
def update_reference(suite: Suite, problems: Sequence[str] | None = None, log=_log) -> dict:
    """Compute references (:func:`.hardness.reference`) and merge them into the
    suite's best-known file; problems whose traces are missing are skipped."""
    from .hardness import reference

    if not suite.best_known_file:
        raise SuiteError(f"{suite.path}: the suite names no best_known file")
    ps, _ = suite.select(problems)
    data = {"suite": suite.label, "problems": {}}
    if os.path.exists(suite.best_known_file):
        with open(suite.best_known_file, encoding="utf-8") as fh:
            data = json.load(fh)
    for p in ps:
        why = p.unavailable()
        if why:
            log(f"skip {p.label}: {why}")
            continue
        t0 = time.perf_counter()
        rec = reference(p, suite.budgets)
        rec["computed_s"] = round(time.perf_counter() - t0, 1)
        data["problems"][p.label] = rec
        log(f"{p.label}: best {rec['best']:.6g} ({rec['how']}); {rec['verdict']}")
        with open(suite.best_known_file, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=str)
            fh.write("\n")
    return data


# --------------------------------------------------------------------------- runs
def run_bench(suite: Suite, store: str, problems: Sequence[str] | None = None,
              searchers: Sequence[str] | None = None, seeds: int | None = None, max_budget: int | None = None,
              workers: int = 1, executor: str = "local", scheduler: str | None = None, progress: bool = True,
              log=_log) -> dict:
    """Run the selected problems x searchers x seeds through the sweep runner into
    ``store`` (resumable: complete runs are skipped); returns per-spec summaries."""
    from .runner import run_sweep

    ps, ss = suite.select(problems, searchers)
    seed_list = list(range(seeds)) if seeds else suite.seeds
    ready = []
    for p in ps:
        why = f"dropped from the suite ({p.dropped.split(':')[0]})" if p.dropped else p.unavailable()
        if why:
            log(f"skip {p.label}: {why}")
        else:
            ready.append(p)
    specs = suite.sweep_specs(ready, ss, seed_list, cap=max_budget)
    summaries = {}
    with tempfile.TemporaryDirectory(prefix="archgym-bench-") as tmp:
        for i, spec in enumerate(specs):
            path = os.path.join(tmp, f"spec{i}.yaml")
            with open(path, "w", encoding="utf-8") as fh:
                yaml.safe_dump(spec, fh, sort_keys=False)
            s = run_sweep(path, store=store, workers=workers, executor=executor, scheduler=scheduler,
                          progress=progress)
            log(f"{spec['study']}: {s['complete']}/{s['trials']} complete, {s['failed_total']} failed, "
                f"{s['wall_time_s']:.0f} s")
            summaries[spec["study"]] = s
    return summaries


def _load_runs(source: str, suite: Suite):
    from . import leaderboard as L

    if source.endswith(".csv"):
        return L.read_runs(source)
    return L.collect_runs(source, suite)


def plan(suite: Suite, runs, seeds: int | None = None) -> list[dict]:
    """Worker seconds per (problem, searcher) for the full grid, from the measured
    runs' wall time per evaluation (linear in the budget: an underestimate for
    BO and TPE, whose cost per evaluation grows with the data)."""
    out = []
    n_seeds = seeds or len(suite.seeds)
    for (problem, searcher), g in runs.groupby(["problem", "searcher"], sort=False):
        per_eval = float((g["wall_s"] / g["n_evaluations"]).median())
        p, s = suite.problem(problem), suite.searcher(searcher)
        budget = suite.run_budget(p, s)
        out.append({"problem": problem, "searcher": searcher, "s_per_eval": per_eval, "budget": budget,
                    "cpu_s": per_eval * budget * n_seeds})
    return out


# --------------------------------------------------------------------------- CLI
def _suite_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", help="suite file (default: experiments/suite.yaml)")
    p.add_argument("--trace-dir", help=f"folder with ArchGym's DRAM traces (sets {TRACES_ENV})")


def _apply_trace_dir(args) -> None:
    if getattr(args, "trace_dir", None):
        if not os.path.isdir(args.trace_dir):
            raise SuiteError(f"--trace-dir: no such folder: {args.trace_dir}")
        os.environ[TRACES_ENV] = os.path.abspath(args.trace_dir)


def _budgets(text: str | None, suite: Suite) -> list[int]:
    if not text:
        return suite.budgets
    try:
        out = [int(b) for b in text.split(",")]
    except ValueError:
        raise SuiteError(f"--budgets expects comma-separated integers, got {text!r}") from None
    if not out or min(out) < 1:
        raise SuiteError(f"--budgets must be positive evaluation counts, got {text!r}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``archgym bench ...`` (see the module docstring)."""
    p = _Parser(prog="archgym bench", description="the benchmark suite: references, runs, leaderboard")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    r = sub.add_parser("reference", help="best known values and hardness -> the suite's best_known file")
    _suite_arg(r)
    r.add_argument("--problems")
    r = sub.add_parser("run", help="run the suite through the sweep runner, then write the leaderboard")
    _suite_arg(r)
    r.add_argument("--store", default=str(RESULTS / "bench.db"), help="SQLite results store (resumable)")
    r.add_argument("--problems")
    r.add_argument("--searchers")
    r.add_argument("--seeds", type=int, help="seeds 0..N-1 (default: the suite's)")
    r.add_argument("--max-budget", type=int, help="cap every run at this many evaluations (tiny runs)")
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--executor", choices=["local", "dask", "inline"], default="local")
    r.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    r.add_argument("--runs", default=str(DEFAULT_RUNS), help="compact run table to write (CSV)")
    r.add_argument("--out", default=str(RESULTS / "leaderboard"), help="folder for the leaderboard page")
    r.add_argument("--quiet", action="store_true")
    r = sub.add_parser("plan", help="CPU time of the full grid, from measured runs")
    _suite_arg(r)
    r.add_argument("--runs", default=str(DEFAULT_RUNS))
    r.add_argument("--seeds", type=int)
    args = p.parse_args(argv)
    if not args.command:
        raise SuiteError("archgym bench: choose a command: reference, run or plan")
    _apply_trace_dir(args)
    suite = load_suite(args.suite)
    if args.command == "reference":
        update_reference(suite, _names(args.problems))
        return 0
    if args.command == "plan":
        rows = plan(suite, _load_runs(args.runs, suite), args.seeds)
        for row in rows:
            print(f"{row['problem']:<32} {row['searcher']:<14} {1e3 * row['s_per_eval']:8.2f} ms/eval x "
                  f"{row['budget']:>5} = {row['cpu_s']:8.0f} s")
        print(f"total {sum(r['cpu_s'] for r in rows):.0f} s of one worker "
              "(as measured; a loaded machine overstates it)")
        return 0
    if args.workers < 1 or (args.seeds is not None and args.seeds < 1) or (args.max_budget is not None
                                                                            and args.max_budget < 1):
        raise SuiteError("--workers, --seeds and --max-budget must be >= 1")
    summaries = run_bench(suite, args.store, _names(args.problems), _names(args.searchers), args.seeds,
                          args.max_budget, args.workers, args.executor, args.scheduler, progress=not args.quiet)
    from . import leaderboard as L
    from .bench_report import readme_tables, write_leaderboard

    runs = L.collect_runs(args.store, suite)
    L.write_runs(runs, args.runs)
    budgets = [b for b in suite.budgets if b <= (args.max_budget or suite.max_budget)] or [args.max_budget]
    write_leaderboard(runs, suite, args.out, budgets, source=args.runs)
    print(readme_tables(runs, suite, budgets))
    failed = sum(s["failed_total"] for s in summaries.values())
    return 1 if failed else 0


def main_leaderboard(argv: Sequence[str] | None = None) -> int:
    """``archgym leaderboard RUNS [--suite] [--out] [--budgets]``."""
    p = _Parser(prog="archgym leaderboard", description="leaderboard tables (and page) from runs")
    p.add_argument("runs", nargs="?", default=str(DEFAULT_RUNS), help="run table (CSV) or results store (.db)")
    _suite_arg(p)
    p.add_argument("--out", help="also write leaderboard.md/.html and the regret figures here")
    p.add_argument("--budgets", help="comma-separated evaluation counts (default: the suite's)")
    args = p.parse_args(argv)
    _apply_trace_dir(args)
    suite = load_suite(args.suite)
    from .bench_report import readme_tables, write_leaderboard

    budgets = _budgets(args.budgets, suite)
    runs = _load_runs(args.runs, suite)
    if args.out:
        write_leaderboard(runs, suite, args.out, budgets, source=args.runs)
    print(readme_tables(runs, suite, budgets), end="")
    from .leaderboard import check_regret

    problems = check_regret(runs, suite.best_known())
    for msg in problems:
        print(f"archgym: warning: {msg}", file=sys.stderr)
    return 0

"""``archgym bench`` and ``archgym leaderboard``: run the suite, store references, rank searchers.

::

    archgym bench reference [--suite FILE] [--problems a,b]
        best known values + hardness -> the suite's best_known file (merged per problem)
    archgym bench run [--suite FILE] [--store DB] [--problems a,b] [--searchers x,y]
                      [--seeds N] [--max-budget B] [--workers N] [--executor local|dask|inline]
                      [--scheduler ADDR] [--runs CSV] [--out DIR] [--reference]
        every (problem, searcher, seed) run through the sweep runner (resumable,
        local pool or Dask), then the compact run table (CSV) and the leaderboard;
        --reference first recomputes the best known values (one command from scratch)
    archgym bench plan [--suite FILE] [--runs CSV] [--seeds N]
        worker seconds of the full grid, extrapolated from the measured runs' wall time
    archgym leaderboard RUNS.csv|STORE.db [--suite FILE] [--out DIR] [--budgets 50,100]
        the tables (Markdown on stdout) and, with --out, the HTML page with curves

Problems that need ArchGym's DRAM traces are skipped with a note unless
``ARCHGYM_DRAM_TRACES`` (or ``--trace-dir``) points at them.  Bad input raises
:class:`~archgym.experiments.suite.SuiteError` (one line, exit 2 from the CLI).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import yaml

from .suite import TRACES_ENV, Suite, SuiteError, load_suite

__all__ = ["bench_command", "leaderboard_command", "run_bench", "update_reference", "plan", "DEFAULT_RUNS"]

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_RUNS = RESULTS / "bench_runs.csv"


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
        log(f"{p.label}: best {rec['best']:.6g} ({rec['how']}); {rec['verdict']}")
        if os.path.exists(suite.best_known_file):  # re-read: another `bench reference` may have written meanwhile
            with open(suite.best_known_file, encoding="utf-8") as fh:
                data = json.load(fh)
        data["problems"][p.label] = rec
        tmp = f"{suite.best_known_file}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=str)
            fh.write("\n")
        os.replace(tmp, suite.best_known_file)
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

    if not os.path.isfile(source):
        raise SuiteError(f"no such file: {source} (give a run table .csv or a results store .db)")
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


# --------------------------------------------------------------------------- CLI (parsers: .bench_cli)
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


def bench_command(args) -> int:
    """``archgym bench reference|run|plan`` with parsed ``args`` (see the module docstring)."""
    if not getattr(args, "bench_command", None):
        raise SuiteError("archgym bench: choose a command: reference, run or plan")
    _apply_trace_dir(args)
    suite = load_suite(args.suite)
    if args.bench_command == "reference":
        update_reference(suite, _names(args.problems))
        return 0
    if args.bench_command == "plan":
        rows = plan(suite, _load_runs(args.runs, suite), args.seeds)
        for row in rows:
            print(f"{row['problem']:<32} {row['searcher']:<14} {1e3 * row['s_per_eval']:8.2f} ms/eval x "
                  f"{row['budget']:>5} = {row['cpu_s']:8.0f} s")
        print(f"total {sum(r['cpu_s'] for r in rows):.0f} s of one worker "
              "(as measured; a loaded machine overstates it)")
        return 0
    if args.reference:  # from scratch: references first, so the leaderboard scores against them
        update_reference(suite, _names(args.problems))
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


def leaderboard_command(args) -> int:
    """``archgym leaderboard RUNS [--suite] [--out] [--budgets]`` with parsed ``args``."""
    _apply_trace_dir(args)
    suite = load_suite(args.suite)
    from .bench_report import readme_tables, write_leaderboard
    from .leaderboard import check_regret

    budgets = _budgets(args.budgets, suite)
    runs = _load_runs(args.runs, suite)
    if args.out:
        write_leaderboard(runs, suite, args.out, budgets, source=args.runs)
    print(readme_tables(runs, suite, budgets, _budgets(args.at, suite) if args.at else None), end="")
    for msg in check_regret(runs, suite.best_known()):
        print(f"archgym: warning: {msg}", file=sys.stderr)
    return 0

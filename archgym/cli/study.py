"""``archgym sweep``, ``report``, ``compare`` and ``failures``: studies in a results store."""
from __future__ import annotations

import argparse
import json
import sys

from .args import Command, UsageError, int_arg, to_json

__all__ = ["SWEEP", "REPORT", "COMPARE", "FAILURES"]


def _configure_sweep(s: argparse.ArgumentParser) -> None:
    s.add_argument("spec")
    s.add_argument("--store")
    s.add_argument("--workers", type=int_arg(1, "--workers"), default=1)
    s.add_argument("--executor", choices=["local", "dask"], default="local")
    s.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    s.add_argument("--retry-failed", action="store_true")
    s.add_argument("--quiet", action="store_true")


def _sweep(args) -> int:
    from archgym.experiments.sweep import failure_lines, run_sweep

    if args.scheduler is not None and args.executor != "dask":
        raise UsageError(f"--scheduler {args.scheduler!r} needs --executor dask (the {args.executor} executor "
                         "has no scheduler)")
    if args.store is not None and not args.store.strip():
        raise UsageError("--store: give a results file (e.g. study.db), got ''")

    summary = run_sweep(args.spec, store=args.store, workers=args.workers, executor=args.executor,
                        scheduler=args.scheduler, retry_failed=args.retry_failed, progress=not args.quiet)
    print(json.dumps(to_json(summary), default=str))
    if summary.get("failed_total"):
        for line in failure_lines(summary):
            print(f"archgym: {line}", file=sys.stderr)
        return 1
    return 0


def _configure_report(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--out", default="report")


def _report(args) -> int:
    from archgym.experiments.analysis import write_report

    for f in write_report(args.store, args.out):
        print(f)
    return 0


def _configure_compare(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--budgets", help="comma-separated evaluation counts")


def _compare(args) -> int:
    from archgym.experiments.analysis import ranking_table

    budgets = None
    if args.budgets is not None:
        try:
            budgets = [int(b) for b in args.budgets.split(",")]
        except ValueError:
            raise UsageError(f"--budgets expects comma-separated integers such as 100,300; got "
                             f"{args.budgets!r}") from None
    table = ranking_table(args.store, budgets=budgets)
    print(table.to_string(index=False) if hasattr(table, "to_string") else table)
    return 0


def _configure_failures(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--study", help="only this study")
    s.add_argument("--short", action="store_true", help="one line per trial, no tracebacks")


def _failures(args) -> int:
    from archgym.experiments.sweep import failure_reason
    from archgym.store import Store
    from archgym.trial import TrialState

    with Store(args.store, readonly=True) as db:
        t = db.trials(args.study)
    t = t[t["status"] == TrialState.FAILED.value]
    if t.empty:
        print(f"no failed trials in {args.store}")
        return 0
    for _, r in t.iterrows():
        print(f"== trial {r['trial_key']} ({r['study']}): {r['agent']} on {r['env_id']}, seed {r['seed']}, "
              f"budget {r['budget']}: {failure_reason(r['error'])}")
        if not args.short:
            print((r["error"] or "").rstrip())
    return 0


SWEEP = Command("run a sweep spec (YAML): envs x agents x hyperparameters x seeds", _configure_sweep, _sweep)
REPORT = Command("plots and a Markdown/HTML report from a results store", _configure_report, _report)
COMPARE = Command("ranking table of searchers at fixed budgets", _configure_compare, _compare)
FAILURES = Command("failed trials of a store with their tracebacks", _configure_failures, _failures)

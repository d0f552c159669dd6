"""The work behind ``archgym bench`` and ``archgym leaderboard`` (the CLI adapters live in :mod:`archgym.cli.bench`).

* :func:`update_reference` -- best known values and hardness of the selected
  problems, merged into a best-known file the user names;
* :func:`run_bench` -- problems x searchers x seeds through the sweep runner
  (in-memory specs, resumable store);
* :func:`publish` -- ``bench run`` end to end into one output folder: the
  store (``bench.db``), the run table (``bench_runs.csv``) and the
  leaderboard page (``leaderboard/``);
* :func:`plan` -- worker seconds of the full grid, from measured runs;
* :func:`load_runs` -- a run table (CSV) or a results store (``.db``).

Nothing is written into the installed package and no committed or existing
run table is overwritten with fewer runs: :func:`check_replace` refuses,
naming what would be lost, unless ``force``.  Problems that need ArchGym's
DRAM traces are skipped with a note unless ``ARCHGYM_DRAM_TRACES`` points at
them.  Bad input raises :class:`~.suite.SuiteError` (one line).
"""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Callable, Sequence

from .suite import Suite, SuiteError

__all__ = ["update_reference", "run_bench", "publish", "plan", "load_runs", "check_replace", "RUNS_FILE",
           "STORE_FILE", "BEST_KNOWN_FILE", "PAGE_FOLDER"]

#: what ``bench run`` and ``bench reference`` write into their output folder
STORE_FILE = "bench.db"
RUNS_FILE = "bench_runs.csv"
BEST_KNOWN_FILE = "best_known.json"
PAGE_FOLDER = "leaderboard"

RUN_KEY = ["problem", "searcher", "seed"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _write_json(path: str, data: dict) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, default=str)
        fh.write("\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- reference
def update_reference(suite: Suite, out_file: str | os.PathLike, problems: Sequence[str] | None = None,
                     log: Callable[[str], None] = _log,
                     progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Compute references (:func:`.hardness.reference`) of the selected
    problems and merge them into ``out_file``, which starts as a copy of the
    suite's own best-known values when it does not exist yet; problems whose
    traces or tables are missing are skipped.  ``progress(done, total, stage)``
    follows the work.  Returns the merged data."""
    from .hardness import reference

    out = os.fspath(out_file)
    ps, _ = suite.select(problems)
    data = {"suite": suite.label, "problems": dict(suite.best_known())}
    for p in ps:
        why = p.unavailable()
        if why:
            log(f"skip {p.label}: {why}")
            continue
        t0 = time.perf_counter()
        rec = reference(p, suite.budgets, progress=progress)
        rec["computed_s"] = round(time.perf_counter() - t0, 1)
        log(f"{p.label}: best {rec['best']:.6g} ({rec['how']}); {rec['verdict']}")
        if os.path.exists(out):  # re-read: another `bench reference` may have written meanwhile
            with open(out, encoding="utf-8") as fh:
                data = json.load(fh)
        data["problems"][p.label] = rec
        _write_json(out, data)
    return data


# --------------------------------------------------------------------------- runs
def run_bench(suite: Suite, store: str | os.PathLike, problems: Sequence[str] | None = None,
              searchers: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
              max_budget: int | None = None, workers: int = 1, executor: str = "local",
              scheduler: str | None = None, progress: bool = True, log: Callable[[str], None] = _log) -> dict:
    """Run the selected problems x searchers x ``seeds`` (default: the
    suite's) through the sweep runner into ``store`` (resumable: complete
    runs are skipped); returns the summary of each sweep by study name."""
    from ..sweep import run_sweep

    ps, ss = suite.select(problems, searchers)
    ready = []
    for p in ps:
        why = f"dropped from the suite ({p.dropped.split(':')[0]})" if p.dropped else p.unavailable()
        if why:
            log(f"skip {p.label}: {why}")
        else:
            ready.append(p)
    summaries = {}
    for spec in suite.sweep_specs(ready, ss, list(seeds) if seeds is not None else suite.seeds, cap=max_budget):
        s = run_sweep(spec, store=store, workers=workers, executor=executor, scheduler=scheduler,
                      progress=progress)
        log(f"{spec.study}: {s['complete']}/{s['trials']} complete, {s['failed_total']} failed, "
            f"{s['wall_time_s']:.0f} s")
        summaries[spec.study] = s
    return summaries


def check_replace(existing: str | os.PathLike, keys: set[tuple], force: bool = False) -> None:
    """Refuse (one line) to replace the run table ``existing`` with one whose
    runs, by (problem, searcher, seed), are ``keys``, when ``existing`` holds
    runs that ``keys`` lacks -- unless ``force``."""
    path = os.fspath(existing)
    if force or not os.path.isfile(path):
        return
    from .leaderboard import read_runs

    old = read_runs(path)
    lost = [k for k in old[RUN_KEY].itertuples(index=False, name=None) if k not in keys]
    if lost:
        p, s, seed = lost[0]
        raise SuiteError(f"{path} holds {len(lost)} run(s) the new run table lacks (e.g. {s} on {p}, seed {seed}); "
                         "write elsewhere with --out DIR, or replace it with --force")


def publish(suite: Suite, out_dir: str | os.PathLike, problems: Sequence[str] | None = None,
            searchers: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
            max_budget: int | None = None, workers: int = 1, executor: str = "local", scheduler: str | None = None,
            reference: bool = False, force: bool = False, progress: bool = True,
            log: Callable[[str], None] = _log,
            reference_progress: Callable[[int, int, str], None] | None = None) -> dict:
    """``archgym bench run``: runs into ``out_dir/bench.db`` (resumable), then
    the run table of every suite run in that store (``out_dir/bench_runs.csv``)
    and the leaderboard page (``out_dir/leaderboard/``).  With ``reference``,
    best known values are recomputed first into ``out_dir/best_known.json``;
    the leaderboard scores against that file whenever it exists.  An existing
    run table in ``out_dir`` is never replaced by one with fewer runs unless
    ``force`` (checked before anything runs, and again before writing).
    ``progress``: the sweeps' progress bars; ``reference_progress``: see
    :func:`update_reference`.
    Returns ``summaries``, ``runs`` (the table), ``files`` and ``failed``."""
    from . import leaderboard as L
    from .page import write_leaderboard

    out = os.fspath(out_dir)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SuiteError(f"--out {out!r}: cannot create the folder ({exc.strerror})") from None
    store, runs_file = os.path.join(out, STORE_FILE), os.path.join(out, RUNS_FILE)
    best_file = os.path.join(out, BEST_KNOWN_FILE)
    if not force and os.path.isfile(runs_file):  # before any work: what the store already holds plus this run
        have = set(L.collect_runs(store, suite)[RUN_KEY].itertuples(index=False, name=None)) \
            if os.path.isfile(store) else set()
        ps, ss = suite.select(problems, searchers)
        planned = {(p.label, s.name, int(seed)) for p in ps for s in ss
                   for seed in (seeds if seeds is not None else suite.seeds)}
        check_replace(runs_file, have | planned)
    if reference:
        update_reference(suite, best_file, problems, log, progress=reference_progress)
    if os.path.isfile(best_file):
        suite = suite.with_best_known(best_file)
        log(f"scoring against {best_file}")
    summaries = run_bench(suite, store, problems, searchers, seeds, max_budget, workers, executor, scheduler,
                          progress, log)
    runs = L.collect_runs(store, suite) if os.path.isfile(store) else L.empty_runs()
    check_replace(runs_file, set(runs[RUN_KEY].itertuples(index=False, name=None)), force)
    L.write_runs(runs, runs_file)
    budgets = [b for b in suite.budgets if b <= (max_budget or suite.max_budget)] or [max_budget]
    files = [runs_file] + write_leaderboard(runs, suite, os.path.join(out, PAGE_FOLDER), budgets, source=runs_file)
    return {"summaries": summaries, "runs": runs, "files": files, "budgets": budgets, "suite": suite,
            "failed": sum(s["failed_total"] for s in summaries.values())}


def load_runs(source: str | os.PathLike, suite: Suite):
    """The runs of a run table (``.csv``) or of a results store (any other file)."""
    from . import leaderboard as L

    path = os.fspath(source)
    if not os.path.isfile(path):
        raise SuiteError(f"no such file: {path} (give a run table .csv or a results store .db)")
    return L.read_runs(path) if path.endswith(".csv") else L.collect_runs(path, suite)


def plan(suite: Suite, runs, seeds: int | None = None) -> list[dict]:
    """Worker seconds per (problem, searcher) for the full grid, from the measured
    runs' wall time per evaluation (linear in the budget: an underestimate for
    BO and TPE, whose cost per evaluation grows with the data)."""
    out = []
    n_seeds = seeds or len(suite.seeds)
    # rows of a problem's older version (not yet rerun) stand in for its timing; rows of a
    # problem or searcher the suite no longer has are history, not part of the grid
    names = {p.name: p for p in suite.problems}
    searchers = {s.name for s in suite.searchers}
    runs = runs.assign(_name=runs["problem"].str.split("@").str[0])
    runs = runs[runs["_name"].isin(names) & runs["searcher"].isin(searchers)]
    current = runs["problem"] == runs["_name"].map(lambda n: names[n].label)
    runs = runs[current | ~runs["_name"].isin(set(runs.loc[current, "_name"]))]
    for (name, searcher), g in runs.groupby(["_name", "searcher"], sort=False):
        per_eval = float((g["wall_s"] / g["n_evaluations"]).median())
        p, s = names[name], suite.searcher(searcher)
        problem = p.label
        budget = suite.run_budget(p, s)
        out.append({"problem": problem, "searcher": searcher, "s_per_eval": per_eval, "budget": budget,
                    "cpu_s": per_eval * budget * n_seeds})
    return out

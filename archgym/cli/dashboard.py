"""``archgym dashboard``: a results store in optuna-dashboard (work in :mod:`archgym.experiments.analysis.dashboard`).

::

    archgym dashboard STORE [--port P] [--group run|problem] [--export optuna.db|optuna.log] [--quiet]

Without ``--export`` the store is exported into a temporary Optuna journal
file, served on http://127.0.0.1:P/dashboard/ until Ctrl-C, then deleted;
with ``--export FILE`` the Optuna storage is written to FILE -- an SQLite
database when FILE ends in ``.db``, else an Optuna journal file (writing it
costs ~15x less CPU) -- and nothing is served (``optuna-dashboard FILE``, or
``optuna-dashboard sqlite:///FILE`` for a database, serves it later).
"""
from __future__ import annotations

import argparse
import os
import sys

from .args import Command, add_quiet, int_arg, progress_bar

__all__ = ["DASHBOARD"]


def _configure(s: argparse.ArgumentParser) -> None:
    s.add_argument("store", help="results store (SQLite) written by run --store, sweep or bench run")
    s.add_argument("--port", type=int_arg(0, "--port"), default=8080,
                   help="port on 127.0.0.1 (default 8080; 0 picks a free one)")
    s.add_argument("--group", choices=["run", "problem"], default="run",
                   help="one Optuna study per run (problem, searcher, setting, seed; default) or per problem")
    s.add_argument("--export", metavar="FILE",
                   help="write the Optuna storage to FILE (SQLite for .db, else a journal file) and serve nothing")
    add_quiet(s)


def _export(args, target: str) -> list[str]:
    import optuna

    from archgym.experiments.analysis.dashboard import export_to_optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per study created
    try:
        with progress_bar(None, "exporting evaluations", "eval", enabled=not args.quiet) as bar:
            return export_to_optuna(args.store, target, args.group,
                                    progress=lambda done, total: (setattr(bar, "total", total),
                                                                  bar.update(done - bar.n)))
    finally:
        optuna.logging.set_verbosity(verbosity)


def _run(args) -> int:
    import tempfile

    from archgym.experiments.analysis.dashboard import SQLITE_SUFFIXES, DashboardError, require_optuna, serve
    from archgym.store import Store

    require_optuna()
    Store(args.store, readonly=True).close()  # a missing or foreign file: one line, before any work
    if args.export:
        if os.path.isdir(args.export):
            raise DashboardError(f"--export {args.export!r} is a folder; give a file name such as optuna.db")
        names = _export(args, args.export)
        url = f"sqlite:///{args.export}" if args.export.lower().endswith(SQLITE_SUFFIXES) else args.export
        print(f"wrote {args.export}: {len(names)} Optuna studies; serve it with `optuna-dashboard {url}`")
        return 0
    with tempfile.TemporaryDirectory(prefix="archgym-dashboard-") as tmp:
        storage = os.path.join(tmp, "optuna.log")
        names = _export(args, storage)

        def ready(url: str) -> None:
            print(f"{len(names)} Optuna studies from {args.store}; optuna-dashboard at {url} (Ctrl-C stops it)",
                  flush=True)

        try:
            serve(storage, args.port, ready)
        except KeyboardInterrupt:
            print("archgym: dashboard stopped", file=sys.stderr)
    return 0


DASHBOARD = Command("results in optuna-dashboard (history, parallel coordinates, importance, Pareto fronts)",
                    _configure, _run)

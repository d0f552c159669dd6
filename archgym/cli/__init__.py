"""The ``archgym`` command line: one table of commands, each a thin adapter over library calls.

::

    archgym [--import MODULE] COMMAND ...
    archgym list [envs|agents]
    archgym info ENV [--workload W] [--input-shape NAME=DIMS] [--json]
    archgym evaluate ENV [--workload W] [--input-shape NAME=DIMS] --config JSON|FILE [--per-layer] [--json]
                [--set key=value ...]
    archgym run ENV --agent A --budget N --seed S [--workload W] [--objective SPEC]
                [--set hp=value ...] [--option key=value ...] [--store FILE] [--json]
    archgym sweep SPEC.yaml [--store FILE] [--workers N] [--executor local|dask]
                [--scheduler ADDRESS] [--retry-failed]
    archgym report STORE [--out DIR]
    archgym compare STORE [--budgets 100,300]
    archgym failures STORE [--study NAME] [--short]
    archgym bench reference|run|plan ...
    archgym leaderboard [RUNS.csv|STORE.db] ...
    archgym proxy dataset|train|evaluate|search|table|hash ...
    archgym workloads show|export MODEL ...
    archgym map --arch ARCH --problem PROB [--mapper M] [--constraints C] [--set ert=ERT] [--budget N] ...
    archgym dashboard STORE [--port P] [--group run|problem] [--export optuna.db]

:data:`COMMANDS` maps each command to ``"module:attribute"`` naming a
:class:`Command` (help, argument setup, handler); the modules of this package
group them (:mod:`.core`, :mod:`.study`, :mod:`.bench`, :mod:`.proxy`) and
share argument types (:mod:`.args`).  Command modules import only argparse at
the top; a handler imports the library it adapts (simulators, the sweep
engine, the benchmark, proxies) when it runs, so ``archgym evaluate`` never
pays for the rest.  To add a command: write its :class:`Command` in one of
these modules (or a new one) and add one line to :data:`COMMANDS`.

Error contract: a mistake in the user's input -- any
:class:`archgym.errors.UserInputError` (bad design value, workload, objective,
spec, store, hyperparameter, option, ...) -- prints exactly one line,
``archgym: error: ...``, on stderr and exits with status 2.  Every other
exception is a bug and keeps its traceback (exit status 1).  A sweep with
failed trials exits 1 after naming the reasons.

``archgym`` is an entry point: it runs math on one thread per process
(:func:`archgym.threads.limit_threads`).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from archgym.errors import UserInputError

from .args import EXIT_USAGE, Command, Parser, UsageError

__all__ = ["main", "build_parser", "Command", "COMMANDS", "UsageError"]


#: Every subcommand, in ``--help`` order: name -> ``"module:attribute"`` of its :class:`Command`.
COMMANDS: dict[str, str] = {
    "list": "archgym.cli.core:LIST",
    "info": "archgym.cli.core:INFO",
    "evaluate": "archgym.cli.core:EVALUATE",
    "serve": "archgym.cli.serve:SERVE",
    "run": "archgym.cli.core:RUN",
    "sweep": "archgym.cli.study:SWEEP",
    "report": "archgym.cli.study:REPORT",
    "compare": "archgym.cli.study:COMPARE",
    "failures": "archgym.cli.study:FAILURES",
    "bench": "archgym.cli.bench:BENCH",
    "leaderboard": "archgym.cli.bench:LEADERBOARD",
    "proxy": "archgym.cli.proxy:PROXY",
    "workloads": "archgym.cli.workloads:WORKLOADS",
    "dashboard": "archgym.cli.dashboard:DASHBOARD",
    "map": "archgym.cli.map:MAP",
}


def _command(target: str) -> Command:
    mod, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod), attr)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="archgym", description="Design-space exploration gym for hardware accelerators.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--import", dest="imports", action="append", metavar="MODULE",
                   help="import MODULE first (e.g. one that calls archgym.register for your simulator)")
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    for name, target in COMMANDS.items():
        cmd = _command(target)
        s = sub.add_parser(name, help=cmd.help)
        cmd.configure(s)
        s.set_defaults(func=cmd.run)
    return p


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    from archgym.threads import limit_threads

    limit_threads(1)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import archgym

        print(archgym.__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        from archgym.registry import import_plugin

        for mod in args.imports or ():
            import_plugin(mod)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("archgym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except UserInputError as exc:  # exactly this family; anything else is a bug with a traceback
        print(f"archgym: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE

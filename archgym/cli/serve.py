"""``archgym serve``: a long-lived evaluator, one JSON design per input line, one JSON result per output line.

For a program that asks for designs one at a time -- as ArchGym's wrapper
starts one DRAMSys process per step -- instead of one ``archgym evaluate``
process per design.  The simulator is made, its workload read and its kernel
loaded once; every further design costs one evaluation and a line of JSON
each way::

    archgym serve DRAM-v0 --workload stream < designs.jsonl > results.jsonl

Protocol: every non-blank line on stdin is a design, a JSON object.  Each gets
exactly one line on stdout, written and flushed before the next line is read:
the metrics as ``archgym evaluate ENV --json`` gives them (with ``feasible``,
``reason``, ``in_space``; NaN as ``null``), or, for a line that is not a
design of the environment (not JSON, not an object, a repeated key, an
unknown parameter or a value outside the space, ...),
``{"error": "line N: <one line>"}``; the loop goes on.  End of input ends the
command with status 0.  The command's own arguments are checked before any
line is read (a bad one: one line on stderr, exit 2); anything else that
fails is a bug and stops the command with a traceback (exit 1).
"""
from __future__ import annotations

import argparse
import json
import sys

from .args import Command, add_env_arguments, json_value, simulator_kwargs, to_json

__all__ = ["SERVE"]


def _configure(s: argparse.ArgumentParser) -> None:
    add_env_arguments(s)


def _design(line: str, number: int) -> dict:
    """The design on input line ``number``; a :class:`archgym.errors.UserInputError` if there is none."""
    from archgym.errors import UserInputError

    where = f"line {number}"
    try:
        value = json_value(line, where)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{where}: not JSON ({exc.msg} at char {exc.pos}); give one design, a JSON object, "
                             "per line") from None
    if not isinstance(value, dict):
        raise UserInputError(f"{where}: a design is a JSON object, got {type(value).__name__}")
    return value


def _serve(args) -> int:
    import archgym
    from archgym.errors import UserInputError
    from archgym.simulator import WorkloadError

    sim = archgym.make_simulator(args.env, **simulator_kwargs(args, args.set))
    out = sys.stdout
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            reply = to_json(sim.evaluate(_design(line, number)))
        except WorkloadError:
            raise                  # the command's workload (read at the first design), not this line
        except UserInputError as exc:
            message = str(exc)
            reply = {"error": message if message.startswith("line ") else f"line {number}: {message}"}
        out.write(json.dumps(reply, separators=(",", ":"), default=str) + "\n")
        out.flush()
    return 0


SERVE = Command("evaluate designs read from stdin, one JSON object per line, answering each with a JSON line",
                _configure, _serve)

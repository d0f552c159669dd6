"""Argument types and output helpers shared by every ``archgym`` command.

Light to import (argparse, json): the parser is built at every call.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from archgym.errors import UserInputError

__all__ = ["Command", "UsageError", "Parser", "int_arg", "key_values", "json_value", "add_env_arguments",
           "add_workload_arguments", "simulator_kwargs",
           "print_json", "to_json", "fmt", "progress_bar", "add_quiet", "StageProgress", "WAIT_S"]

EXIT_USAGE = 2


@dataclass(frozen=True)
class Command:
    """One subcommand: ``help`` (one line), ``configure(parser)`` adds its
    arguments, ``run(args) -> exit status``."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class UsageError(UserInputError):
    """A bad command-line argument: reported in one line, exit status 2."""


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store``, but a flag given twice is refused: argparse would
    silently keep the last value (``--budget 3 --budget 4``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_given_once", {})
        if self.dest in seen and option_string is not None:
            parser.error(f"{option_string} given twice ({seen[self.dest]!r} and {values!r}); give it once")
        seen[self.dest] = values
        setattr(namespace, self.dest, values)


class Parser(argparse.ArgumentParser):
    """argparse with archgym's error contract: one line on stderr, exit 2, and
    no flag that takes one value may be given twice."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"archgym: error: {' '.join(message.split())}\n")


def int_arg(low: int, what: str) -> Callable[[str], int]:
    """argparse type: an integer >= ``low`` (argparse reports a bad one in one line, exit 2)."""
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):  # int() would also take "1_0" and " 3 "
            raise argparse.ArgumentTypeError(f"{what} must be an integer >= {low}, got {text!r}")
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{what} must be an integer >= {low}, got {text!r}")
        return value
    parse.__name__ = what
    return parse


def _value(text: str) -> Any:
    """``key=value`` values: JSON if it parses (numbers, true/false, lists), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def key_values(items: Sequence[str] | None, flag: str = "--set") -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values parsed as JSON when they are JSON)."""
    out = {}
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise UsageError(f"{flag} expects key=value, got {item!r}")
        if k.strip() in out:
            raise UsageError(f"{flag} {k.strip()} given twice ({out[k.strip()]!r} and {_value(v.strip())!r}); "
                             "give it once")
        out[k.strip()] = _value(v.strip())
    return out


def json_value(text: str, what: str) -> Any:
    """JSON text; a mapping that names a key twice is refused (JSON parsers keep the last)."""
    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise UsageError(f"{what}: key {twice[0]!r} appears twice in one object; give it once")
        return dict(pairs)

    return json.loads(text, object_pairs_hook=no_repeats)


def add_env_arguments(parser: argparse.ArgumentParser, set_help: str = "simulator option") -> None:
    """``ENV``, ``--workload`` and repeatable ``--set KEY=VALUE`` (simulator options)."""
    parser.add_argument("env")
    add_workload_arguments(parser)
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help=set_help)


def add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workload`` and repeatable ``--input-shape NAME=1x3x224x224`` (an ONNX model's dynamic dimensions)."""
    parser.add_argument("--workload", help="a built-in name, a file (.csv, .yaml, .json, .onnx, a trace), ...")
    parser.add_argument("--input-shape", action="append", metavar="NAME=1x3x224x224",
                        help="shape of an ONNX model's input with dynamic dimensions (the input_shapes option)")


def simulator_kwargs(args: argparse.Namespace, options: Iterable[str] | None, flag: str = "--set") -> dict:
    """Keyword arguments of ``archgym.make_simulator``/``archgym.make``: the
    ``KEY=VALUE`` items ``options`` (a repeatable flag's list, or None) plus ``--workload``."""
    kw = key_values(options, flag)
    if getattr(args, "workload", None) is not None:
        if "workload" in kw:
            raise UsageError(f"the workload is given twice (--workload {args.workload!r} and {flag} "
                             f"workload={kw['workload']!r}); give it once")
        kw["workload"] = args.workload
    if getattr(args, "input_shape", None):
        if "input_shapes" in kw:
            raise UsageError(f"input shapes are given twice (--input-shape and {flag} input_shapes=); give them once")
        kw["input_shapes"] = list(args.input_shape)
    return kw


def fmt(v: Any) -> str:
    """A value as printed in tables: floats to 6 significant digits."""
    if isinstance(v, float):
        return str(v) if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def to_json(o: Any) -> Any:
    """``o`` as strict JSON values: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: to_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [to_json(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):
        return to_json(o.item())
    return o


def print_json(obj: Any) -> None:
    print(json.dumps(to_json(obj), indent=2, default=str))


#: seconds a wait must last before its progress bar appears (tqdm's ``delay``)
WAIT_S = 2.0


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr")


def progress_bar(total: int | None, desc: str, unit: str, enabled: bool = True):
    """A tqdm bar on stderr (never on stdout, so ``--json`` output stays clean)
    when stderr is a terminal and ``enabled``; it appears only once the wait
    has lasted :data:`WAIT_S` seconds."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, delay=WAIT_S,
                disable=not (enabled and sys.stderr.isatty()))


class StageProgress:
    """A ``progress(done, total, stage)`` callback for library code that
    reports its work in stages: one :func:`progress_bar` per stage, closed
    when the next stage starts or on :meth:`close`."""

    def __init__(self, enabled: bool = True, unit: str = "design") -> None:
        self.enabled, self.unit = enabled, unit
        self.stage: str | None = None
        self.bar = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.bar = stage, progress_bar(total, stage, self.unit, self.enabled)
        self.bar.total = total
        self.bar.update(max(0, done - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.stage, self.bar = None, None

    def __enter__(self) -> "StageProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""YAML documents whose mistakes are reported with file and line.

:func:`read_located_yaml` parses YAML text and returns the data plus a
:class:`YamlChecker`, whose checks (``mapping``, ``str_``, ``int_``,
``list_``) raise one-line errors ``<file>:<line>: <key path>: <problem>``
(a :class:`~archgym.errors.UserInputError` subclass of the caller's choice).
Duplicate keys are refused (YAML would silently keep the last).  Sweep specs
(:mod:`.sweep.spec`) and benchmark suites (:mod:`.bench.suite`) use it.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping

import yaml

from archgym.errors import UserInputError
from archgym.yaml_input import compose_yaml

__all__ = ["Located", "YamlChecker", "read_located_yaml", "describe_type", "format_path"]


class Located:
    """Line numbers of every node of a YAML document, by key path."""

    def __init__(self, source: str, error: type[UserInputError] = UserInputError) -> None:
        self.source = source
        self.error = error
        self.lines: dict[tuple, int] = {}

    def record(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in node.value:
                try:
                    key = yaml.constructor.SafeConstructor().construct_object(k, deep=True)
                except Exception:
                    continue
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    continue
                line = k.start_mark.line + 1
                if key in seen:
                    at = format_path(path + (key,))
                    raise self.error(f"{self.source}:{line}: {at}: duplicate key {key!r} (first given on line "
                                    f"{seen[key]}); a mapping may name each key once")
                seen[key] = line
                self.record(v, path + (key,))
                self.lines[path + (key,)] = k.start_mark.line + 1  # the key's own line
                self.lines[path + (key, "__value__")] = v.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.record(v, path + (i,))

    def line(self, path: tuple) -> int | None:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def value_line(self, path: tuple) -> int | None:
        return self.lines.get(path + ("__value__",)) or self.line(path)


class YamlChecker:
    """Raises its document's error class with ``file:line: path: message``."""

    def __init__(self, where: Located) -> None:
        self.where = where

    def fail(self, path: tuple, msg: str, value_line: bool = False) -> None:
        line = self.where.value_line(path) if value_line else self.where.line(path)
        loc = f"{self.where.source}:{line}" if line else self.where.source
        key = format_path(path)
        raise self.where.error(f"{loc}: {key + ': ' if key else ''}{msg}")

    def mapping(self, value: Any, path: tuple, allowed: set[str], required: Iterable[str] = ()) -> dict:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping, got {describe_type(value)}", value_line=True)
        for k in value:
            if k not in allowed:
                if not allowed:
                    self.fail(path + (k,), f"unknown key {k!r}; nothing is allowed here")
                close = difflib.get_close_matches(str(k), sorted(map(str, allowed)), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(path + (k,), f"unknown key {k!r}{hint}; allowed: {', '.join(sorted(map(str, allowed)))}")
        for k in required:
            if k not in value:
                self.fail(path, f"missing required key {k!r}")
        return dict(value)

    def str_(self, value: Any, path: tuple) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {describe_type(value)} {value!r}", value_line=True)
        return value

    def int_(self, value: Any, path: tuple, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {describe_type(value)} {value!r}", value_line=True)
        if low is not None and value < low:
            self.fail(path, f"must be >= {low}, got {value}", value_line=True)
        return value

    def list_(self, value: Any, path: tuple, allow_scalar: bool = False) -> list:
        if isinstance(value, list):
            return value
        if allow_scalar and value is not None:
            return [value]
        self.fail(path, f"expected a list, got {describe_type(value)}", value_line=True)
        return []


def describe_type(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean", type(None): "nothing"}.get(type(v), type(v).__name__)


def format_path(path: tuple) -> str:
    out = ""
    for p in path:
        if p == "__value__":
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def read_located_yaml(text: str, source: str, error: type[UserInputError] = UserInputError
                      ) -> tuple[Any, "YamlChecker"]:
    """Parse YAML text; return the data and a checker that reports ``file:line: key: problem``
    (YAML syntax errors and every later check raise ``error``, in the same one-line form)."""
    node = compose_yaml(text, source, error)  # alias bombs refused before anything is built
    data = None if node is None else yaml.SafeLoader("").construct_document(node)
    where = Located(source, error)
    if node is not None:
        where.record(node, ())
    return data, YamlChecker(where)



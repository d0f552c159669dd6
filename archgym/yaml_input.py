"""YAML a user gives, read safely: no code, no alias bombs, one-line errors.

:func:`load_yaml` parses with PyYAML's safe loader after composing the
document once and counting the nodes it *expands* to: aliases are pointers,
so a few lines of ``&a [*b, *b, ...]`` can stand for billions of nodes
("billion laughs").  A document that expands beyond :data:`MAX_NODES` is
refused in one line before anything is built.  Every reader of user YAML
(sweep specs, suites, Timeloop files) goes through it.
"""
from __future__ import annotations

from typing import Any

import yaml

from .errors import UserInputError

__all__ = ["YamlInputError", "MAX_NODES", "load_yaml", "compose_yaml"]

#: the most nodes a user's YAML document may expand to (aliases counted at every use)
MAX_NODES = 200_000


class YamlInputError(UserInputError):
    """A YAML document that does not parse, or expands beyond :data:`MAX_NODES`."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = limit + 1  # a cycle (a recursive alias) counts as too large
    if isinstance(node, yaml.MappingNode):
        size = 1
        for k, v in node.value:
            size += _expanded_size(k, memo, limit) + _expanded_size(v, memo, limit)
            if size > limit:
                break
    elif isinstance(node, yaml.SequenceNode):
        size = 1
        for v in node.value:
            size += _expanded_size(v, memo, limit)
            if size > limit:
                break
    else:
        size = 1
    memo[key] = min(size, limit + 1)
    return memo[key]


def compose_yaml(text: str, source: str, error: type[UserInputError] = YamlInputError,
                 max_nodes: int = MAX_NODES, loader: type = yaml.SafeLoader) -> yaml.Node | None:
    """The document's node graph (``loader``: the safe loader or a subclass with
    extra tags), its expansion checked against ``max_nodes``."""
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{source}{line}: invalid YAML: {problem}") from None
    if node is not None and _expanded_size(node, {}, max_nodes) > max_nodes:
        raise error(f"{source}: the YAML expands to more than {max_nodes:,} nodes through aliases (&/*); "
                    "refused (write the values out, or use fewer aliases)")
    return node


def load_yaml(text: str, source: str, error: type[UserInputError] = YamlInputError,
              max_nodes: int = MAX_NODES, loader: type = yaml.SafeLoader) -> Any:
    """The data of a YAML document (``loader``: the safe loader, or a subclass
    of it that adds tags; see the module docstring)."""
    node = compose_yaml(text, source, error, max_nodes, loader)
    if node is None:
        return None
    try:
        return loader("").construct_document(node)
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from None

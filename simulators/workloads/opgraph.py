"""Operator graphs (DNN workloads as DAGs of tensors), shared by the simulators.

The scheduling simulator (:mod:`archgym.simulators.scratchpad`) plans them; the
builders of real networks live next door (:mod:`.graphs`).  This module imports
nothing from the simulators, so ``workloads`` never depends on ``scratchpad``.

A workload is a DAG of operators, each reading and writing named tensors.

JSON format (one object)::

    {"name": "tiny",
     "tensors": [{"name": "x",  "bytes": 1024, "kind": "input"},
                 {"name": "w1", "bytes": 4096, "kind": "weight"},
                 {"name": "a1", "bytes": 2048, "kind": "activation"}],
     "ops": [{"name": "conv1", "inputs": ["x", "w1"], "outputs": ["a1"], "macs": 100000}]}

Semantics and assumptions:

* ``bytes`` is the tensor size in bytes (a positive integer).
* ``weight`` and ``input`` tensors live off chip before the run; each must be
  loaded into the scratchpad before first use (a *compulsory* load) and is
  never written back (its off-chip copy stays valid).
* ``activation`` tensors are produced on chip by exactly one operator.  An
  activation that no operator consumes is a *graph output* and is stored off
  chip once (a *compulsory* store).
* The order of ``ops`` in the file is the framework's *default order*; it must
  be a topological order (a tensor consumed before it is produced is an error).
* ``macs`` (multiply-accumulates, >= 0) sets the operator's compute time.

:func:`graph_from_dict` / :func:`load_graph` validate everything and raise a
one-line :class:`GraphError` (a :class:`~archgym.errors.UserInputError`,
hence a ``ValueError``) naming the offending operator or tensor.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from archgym.simulator import WorkloadError
from archgym.userfiles import read_text

__all__ = ["GraphError", "KINDS", "Tensor", "Op", "Graph", "graph_from_dict", "load_graph", "as_graph"]

KINDS = ("weight", "input", "activation")


class GraphError(WorkloadError):
    """An operator graph that is not a valid workload (one line naming the operator or tensor)."""


@dataclass(frozen=True)
class Tensor:
    """A named tensor of ``bytes`` bytes; ``kind`` is one of :data:`KINDS`."""

    name: str
    bytes: int
    kind: str

    @property
    def offchip(self) -> bool:
        """True for weights and graph inputs (valid off-chip copy from the start)."""
        return self.kind != "activation"


@dataclass(frozen=True)
class Op:
    """An operator: reads ``inputs``, writes ``outputs`` (tensor names), does ``macs`` MACs."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    macs: int = 0

    @property
    def tensors(self) -> tuple[str, ...]:
        """Distinct tensors the operator touches (its working set), inputs first."""
        return tuple(dict.fromkeys(self.inputs + self.outputs))


@dataclass
class Graph:
    """A validated operator DAG.  Build with :func:`graph_from_dict` or :meth:`build`.

    Derived index structures (``producer``, ``consumers``, ``preds``, ``succs``)
    are computed once at construction.  Operators are referred to by their
    index in ``ops`` (the default order).
    """

    name: str
    tensors: dict[str, Tensor]
    ops: list[Op]
    producer: dict[str, int] = field(init=False, repr=False)
    consumers: dict[str, list[int]] = field(init=False, repr=False)
    preds: list[set[int]] = field(init=False, repr=False)
    succs: list[set[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _validate(self)
        self.producer = {t: i for i, op in enumerate(self.ops) for t in op.outputs}
        self.consumers = {t: [] for t in self.tensors}
        for i, op in enumerate(self.ops):
            for t in dict.fromkeys(op.inputs):
                self.consumers[t].append(i)
        self.preds = [set() for _ in self.ops]
        self.succs = [set() for _ in self.ops]
        for i, op in enumerate(self.ops):
            for t in op.inputs:
                p = self.producer.get(t)
                if p is not None and p != i:
                    self.preds[i].add(p)
                    self.succs[p].add(i)

    # -- construction helpers ---------------------------------------------------
    @classmethod
    def build(cls, name: str, tensors: Iterable[Tensor], ops: Iterable[Op]) -> "Graph":
        ts = list(tensors)
        names = [t.name for t in ts]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise GraphError(f"tensor {dup!r} is declared twice")
        return cls(name, {t.name: t for t in ts}, list(ops))

    def to_dict(self) -> dict:
        """The JSON-format dict (see the module docstring)."""
        return {
            "name": self.name,
            "tensors": [{"name": t.name, "bytes": t.bytes, "kind": t.kind} for t in self.tensors.values()],
            "ops": [{"name": o.name, "inputs": list(o.inputs), "outputs": list(o.outputs), "macs": o.macs}
                    for o in self.ops],
        }

    # -- queries --------------------------------------------------------------------
    @property
    def n_ops(self) -> int:
        return len(self.ops)

    def size(self, tensor: str) -> int:
        return self.tensors[tensor].bytes

    def working_set(self, op: int) -> int:
        """Bytes that must be resident while operator ``op`` runs (inputs + outputs)."""
        return sum(self.tensors[t].bytes for t in self.ops[op].tensors)

    def max_working_set(self) -> tuple[int, str]:
        """(bytes, operator name) of the largest single-operator working set (M_R)."""
        return max(((self.working_set(i), o.name) for i, o in enumerate(self.ops)), default=(0, ""))

    @property
    def graph_outputs(self) -> list[str]:
        """Activations no operator consumes (stored off chip once)."""
        return [t for t, v in self.tensors.items() if v.kind == "activation" and not self.consumers[t]]

    def used_tensors(self) -> list[str]:
        """Tensors touched by at least one operator."""
        return list(dict.fromkeys(t for o in self.ops for t in o.tensors))

    def compulsory_bytes(self) -> int:
        """Each used weight/input loaded once plus each graph output stored once."""
        loads = sum(self.tensors[t].bytes for t in self.used_tensors() if self.tensors[t].offchip)
        return loads + sum(self.tensors[t].bytes for t in self.graph_outputs)

    def default_order(self) -> list[int]:
        """The framework's order: operators as listed (validated topological)."""
        return list(range(len(self.ops)))

    def is_topological(self, order: Sequence[int]) -> bool:
        if sorted(order) != list(range(len(self.ops))):
            return False
        pos = {op: k for k, op in enumerate(order)}
        return all(pos[p] < pos[i] for i in range(len(self.ops)) for p in self.preds[i])

    def uses(self, order: Sequence[int]) -> dict[str, list[int]]:
        """Per tensor, the sorted distinct steps (positions in ``order``) that touch it.

        An activation's first use is its producer's step."""
        out: dict[str, list[int]] = {}
        for step, op in enumerate(order):
            for t in self.ops[op].tensors:
                out.setdefault(t, []).append(step)
        return out

    def ancestors_count(self) -> list[int]:
        """Number of (transitive) predecessors of each operator."""
        return [len(s) for s in self._closure(self.preds)]

    def descendants_count(self) -> list[int]:
        return [len(s) for s in self._closure(self.succs)]

    def _closure(self, adj: list[set[int]]) -> list[set[int]]:
        memo: list[set[int] | None] = [None] * len(self.ops)
        order = self.default_order() if adj is self.preds else self.default_order()[::-1]
        for i in order:  # preds come earlier in the default order, succs later
            s: set[int] = set()
            for j in adj[i]:
                s.add(j)
                s |= memo[j]  # type: ignore[operator]
            memo[i] = s
        return memo  # type: ignore[return-value]

    def subgraph(self, op_indices: Sequence[int], name: str | None = None) -> "Graph":
        """The operators ``op_indices`` (in the given order) as a stand-alone graph.

        Tensors produced outside the block become inputs (already off chip);
        activations consumed outside the block (or graph outputs) become outputs
        of the block, i.e. they are stored off chip once.  Used by the
        divide-and-conquer heuristic."""
        keep = set(op_indices)
        ops = [self.ops[i] for i in op_indices]
        touched = list(dict.fromkeys(t for o in ops for t in o.tensors))
        tensors = []
        for t in touched:
            v = self.tensors[t]
            kind = v.kind
            if kind == "activation" and self.producer[t] not in keep:
                kind = "input"
            tensors.append(Tensor(t, v.bytes, kind))
        return Graph.build(name or f"{self.name}[{len(ops)}]", tensors, ops)

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, ops={len(self.ops)}, tensors={len(self.tensors)})"


# -- validation ------------------------------------------------------------------------
def _validate(g: Graph) -> None:
    for name, t in g.tensors.items():
        if not isinstance(t.name, str) or not t.name or t.name != name:
            raise GraphError(f"tensor {name!r}: name must be a non-empty string")
        if t.kind not in KINDS:
            raise GraphError(f"tensor {name!r}: kind {t.kind!r} is not one of {', '.join(KINDS)}")
        if isinstance(t.bytes, bool) or not isinstance(t.bytes, int) or t.bytes <= 0:
            raise GraphError(f"tensor {name!r}: bytes must be a positive integer, got {t.bytes!r}")
    seen_ops: set[str] = set()
    producer: dict[str, str] = {}
    for op in g.ops:
        if not isinstance(op.name, str) or not op.name:
            raise GraphError("operator with an empty or non-string name")
        if op.name in seen_ops:
            raise GraphError(f"operator {op.name!r} is declared twice")
        seen_ops.add(op.name)
        if isinstance(op.macs, bool) or not isinstance(op.macs, int) or op.macs < 0:
            raise GraphError(f"operator {op.name!r}: macs must be a non-negative integer, got {op.macs!r}")
        if not op.outputs:
            raise GraphError(f"operator {op.name!r} has no outputs")
        for t in op.inputs + op.outputs:
            if t not in g.tensors:
                raise GraphError(f"operator {op.name!r} uses unknown tensor {t!r}")
        if len(set(op.outputs)) != len(op.outputs):
            raise GraphError(f"operator {op.name!r} lists an output twice")
        for t in op.outputs:
            if g.tensors[t].kind != "activation":
                raise GraphError(f"operator {op.name!r} writes {g.tensors[t].kind} tensor {t!r}; "
                                 "only activations are produced on chip")
            if t in producer:
                raise GraphError(f"tensor {t!r} is produced by both {producer[t]!r} and {op.name!r}")
            if t in op.inputs:
                raise GraphError(f"operator {op.name!r} reads its own output {t!r}")
            producer[t] = op.name
    for name, t in g.tensors.items():
        if t.kind == "activation" and name not in producer:
            raise GraphError(f"activation {name!r} is never produced "
                             "(declare it as kind 'input' if it comes from off chip)")
    _check_acyclic(g, producer)
    done: set[str] = set()
    for op in g.ops:
        for t in op.inputs:
            if g.tensors[t].kind == "activation" and t not in done:
                raise GraphError(f"operator {op.name!r} consumes tensor {t!r} before {producer[t]!r} produces it "
                                 "(ops must be listed in a topological order)")
        done.update(op.outputs)


def _check_acyclic(g: Graph, producer: Mapping[str, str]) -> None:
    """Raise naming an operator on a cycle, if there is one (iterative DFS)."""
    by_name = {op.name: op for op in g.ops}
    deps = {op.name: sorted({producer[t] for t in op.inputs if t in producer}) for op in g.ops}
    state: dict[str, int] = {}
    for root in by_name:
        if state.get(root):
            continue
        stack = [(root, iter(deps[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                raise GraphError(f"the graph has a cycle through operator {nxt!r}")
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(deps[nxt])))


# -- loading ---------------------------------------------------------------------------------
def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GraphError(f"{where} must be a list of tensor names")
    return tuple(value)


def graph_from_dict(data: Mapping[str, Any]) -> Graph:
    """Build and validate a :class:`Graph` from the JSON-format dict."""
    if not isinstance(data, Mapping):
        raise GraphError(f"a workload graph must be a JSON object, got {type(data).__name__}")
    extra = set(data) - {"name", "tensors", "ops", "description"}
    if extra:
        raise GraphError(f"unknown workload key {sorted(extra)[0]!r}; keys are name, tensors, ops")
    for key in ("tensors", "ops"):
        if not isinstance(data.get(key), list):
            raise GraphError(f"workload key {key!r} must be a list")
    tensors: list[Tensor] = []
    for k, t in enumerate(data["tensors"]):
        if not isinstance(t, Mapping) or not isinstance(t.get("name"), str):
            raise GraphError(f"tensor #{k}: must be an object with a string 'name'")
        missing = {"bytes", "kind"} - set(t)
        if missing:
            raise GraphError(f"tensor {t['name']!r}: missing key {sorted(missing)[0]!r}")
        b = t["bytes"]
        if isinstance(b, float) and b.is_integer():
            b = int(b)
        tensors.append(Tensor(t["name"], b, t["kind"]))
    ops: list[Op] = []
    for k, o in enumerate(data["ops"]):
        if not isinstance(o, Mapping) or not isinstance(o.get("name"), str):
            raise GraphError(f"operator #{k}: must be an object with a string 'name'")
        where = f"operator {o['name']!r}"
        if "outputs" not in o:
            raise GraphError(f"{where}: missing key 'outputs'")
        macs = o.get("macs", 0)
        if isinstance(macs, float) and macs.is_integer():
            macs = int(macs)
        ops.append(Op(o["name"], _names(o.get("inputs", []), f"{where}: 'inputs'"),
                      _names(o["outputs"], f"{where}: 'outputs'"), macs))
    name = data.get("name", "graph")
    if not isinstance(name, str):
        raise GraphError("workload 'name' must be a string")
    return Graph.build(name, tensors, ops)


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a workload graph from a JSON file (see the module docstring)."""
    try:
        data = json.loads(read_text(path, "operator-graph JSON", GraphError))
    except json.JSONDecodeError as e:
        raise GraphError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    return graph_from_dict(data)


def as_graph(workload: Any, precision_bytes: int = 1, input_shapes: Any = None,
             onnx_unsupported: str = "error") -> Graph:
    """A :class:`Graph` from a builder name, a JSON path, a dict, a Graph, or an ONNX model
    (``.onnx`` path or :class:`~.network.Network`, at ``precision_bytes`` per element;
    ``input_shapes`` and ``onnx_unsupported`` apply to a path, see :func:`~.network.from_onnx`)."""
    from .network import as_network

    net = as_network(workload, input_shapes, onnx_unsupported)
    if net is not None:
        return net.graph(precision_bytes)
    if isinstance(workload, Graph):
        return workload
    if isinstance(workload, Mapping):
        return graph_from_dict(workload)
    if isinstance(workload, (str, os.PathLike)):
        s = str(workload)
        if s.endswith(".json") or os.path.exists(s):
            return load_graph(s)
        from .graphs import build_graph

        return build_graph(s, precision_bytes=precision_bytes)
    raise GraphError(f"cannot make a workload graph from {type(workload).__name__}")

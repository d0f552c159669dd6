"""Read an ONNX model into a plain, shape-annotated operator list (needs the ``onnx`` package).

:func:`read_onnx` does everything that depends on ONNX itself and nothing
else; :mod:`.lowering` turns its :class:`OnnxGraph` into layers and an
operator graph.  Steps:

1. **Parse and check**: the file must be a protobuf ``ModelProto`` with a
   graph and an opset; a file that is not one, or was cut short, is named in
   one line.  Every node input must come from a node, a graph input or an
   initializer; no tensor may be produced twice; the nodes are put in a
   topological order (ONNX requires one; files that list nodes out of order
   are accepted) and a cycle is reported naming a node on it.
2. **Input shapes**: dynamic (symbolic or missing) dimensions of the graph
   inputs come from ``input_shapes`` (:func:`parse_input_shapes`: ``{"x":
   [1, 3, 224, 224]}``, ``"x=1x3x224x224,y=1x8"`` or, for a model with one
   input, ``"1x3x224x224"``); a static dimension may not be changed.
3. **Shape inference and constant folding** with the ``onnx`` package's own
   tools: ``onnx.shape_inference.infer_shapes`` (with data propagation, so
   ``Shape -> Gather -> Concat -> Reshape`` chains resolve) on a copy of the
   graph whose large initializers are replaced by declared inputs of the same
   type and shape (inference needs shapes, not the 100 MB of ResNet-50's
   weights); a node whose inputs are all constants (or a ``Shape``/``Size``
   of a tensor whose shape is known) is folded into a constant, its value
   computed by ``onnx.reference.ReferenceEvaluator`` when the inputs are
   small (shape arithmetic) and left as shape-only otherwise (e.g. a
   transposed weight).  Inference is repeated until no node folds.

Element types are kept only as far as inference needs them: the simulators
cost every tensor at their own word size.

The graph's :attr:`OnnxGraph.digest` hashes what determines every cost: the
nodes (operators, attributes, names), the graph's inputs and outputs, every
initializer's name, type and shape, and every tensor's inferred shape (the
way constant values -- shapes, axes, scales -- act on costs); constant
*values* themselves are left out, so re-exporting a network with other
weights keeps its digest.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from archgym.simulator import WorkloadError
from archgym.userfiles import check_readable

__all__ = ["OnnxModelError", "OnnxNode", "OnnxGraph", "read_onnx", "parse_input_shapes", "require_onnx"]

#: initializers with at most this many elements keep their values in the inference copy
SMALL_ELEMS = 4096
#: constant-foldable nodes are evaluated when their inputs total at most this many elements
FOLD_ELEMS = 1 << 16
#: and their outputs at most this many
FOLD_OUT_ELEMS = 1 << 20
#: at most this many shape-inference rounds (each folds at least one node)
MAX_ROUNDS = 16
#: nodes never folded: random generators and control flow with sub-graphs
NO_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
           "If", "Loop", "Scan"}
_INT_TYPES = {2, 3, 4, 5, 6, 7, 9, 12, 13}  # uint8 int8 uint16 int16 int32 int64 bool uint32 uint64


class OnnxModelError(WorkloadError):
    """An ONNX file or model that cannot be read as a workload (one line naming the file, node or tensor)."""


def require_onnx() -> Any:
    """The ``onnx`` module, or a one-line error saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise OnnxModelError("ONNX workloads need the 'onnx' package: pip install 'archgym[onnx]'") from None
    return onnx


@dataclass(frozen=True)
class OnnxNode:
    """One node: ``inputs`` keep ``""`` for an absent optional input; ``attrs`` as Python values."""

    name: str
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name!r} ({self.op_type})"


@dataclass(frozen=True)
class OnnxGraph:
    """A checked, shape-inferred, constant-folded ONNX graph.

    ``nodes``: the remaining (non-constant) nodes in topological order, every
    one with a unique non-empty name; ``inputs``: graph inputs that are not
    constants; ``shapes``: every tensor's static shape (``None`` if unknown);
    ``constants``: constant tensors (initializers, ``Constant`` nodes and
    folded nodes) with their value, or ``None`` when only the shape is kept.
    """

    label: str
    source: str
    nodes: tuple[OnnxNode, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    shapes: Mapping[str, tuple[int, ...] | None]
    constants: Mapping[str, np.ndarray | None]
    digest: str
    folded: int = 0

    def shape(self, tensor: str) -> tuple[int, ...] | None:
        return self.shapes.get(tensor)


# ----------------------------------------------------------------------------------------- input shapes
_DIMS = re.compile(r"^\s*\d+(\s*[x,]\s*\d+)*\s*$")


def _dims(value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, str):
        if not _DIMS.match(value):
            raise OnnxModelError(f"{where}: shape {value!r} is not dimensions like 1x3x224x224")
        value = [int(d) for d in re.split(r"\s*[x,]\s*", value.strip())]
    if isinstance(value, (list, tuple)) and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                                                 for d in value):
        if any(int(d) <= 0 for d in value):
            raise OnnxModelError(f"{where}: dimensions must be positive, got {list(value)}")
        return tuple(int(d) for d in value)
    raise OnnxModelError(f"{where}: shape {value!r} is not a list of positive integers nor text like 1x3x224x224")


def parse_input_shapes(spec: Any) -> dict[str, tuple[int, ...]]:
    """``input_shapes`` in any accepted form -> ``{input name: dims}`` (``""`` names the only input).

    Accepted: ``None``; a mapping ``{name: [1, 3, 224, 224] | "1x3x224x224"}``;
    text ``"x=1x3x224x224,y=1x8"`` (``;`` also separates); a list of such
    ``name=dims`` items (the CLI's repeated ``--input-shape``); dims alone
    (a list or ``"1x3x224x224"``) for a model with one input."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(k): _dims(v, f"input shape of {k!r}") for k, v in spec.items()}
    if isinstance(spec, str):
        if "=" not in spec:
            return {"": _dims(spec, "input_shapes")}
        items = [p for p in re.split(r"[;]|,(?=[^,=x]*=)", spec) if p.strip()]
        return parse_input_shapes(list(items))
    if isinstance(spec, (list, tuple)):
        if spec and all(isinstance(s, str) and "=" in s for s in spec):
            out: dict[str, tuple[int, ...]] = {}
            for item in spec:
                name, _, dims = item.partition("=")
                if not name.strip():
                    raise OnnxModelError(f"input shape {item!r}: expected NAME=1x3x224x224")
                out[name.strip()] = _dims(dims, f"input shape of {name.strip()!r}")
            return out
        return {"": _dims(spec, "input_shapes")}
    raise OnnxModelError(f"input_shapes {spec!r}: expected {{name: dims}}, 'name=1x3x224x224' or dims")


# ----------------------------------------------------------------------------------------- loading
def _parse_bytes(onnx: Any, data: bytes, where: str) -> Any:
    if not data:
        raise OnnxModelError(f"{where}: empty file, not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError (its class differs between protobuf builds)
        looks_onnx = data[:1] == b"\x08"  # field 1 (ir_version) as a varint: how every ONNX file starts
        what = "truncated or corrupt ONNX file" if looks_onnx else "not an ONNX model"
        raise OnnxModelError(f"{where}: {what} (the protobuf message does not parse)") from None
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise OnnxModelError(f"{where}: not an ONNX model (no IR version or no graph)")
    if not len(model.opset_import):
        raise OnnxModelError(f"{where}: truncated or corrupt ONNX file (no opset import)")
    return model


def _load(onnx: Any, model: Any) -> tuple[Any, str, str]:
    """(ModelProto, where for messages, label stem) from a path, bytes or a ModelProto."""
    if isinstance(model, onnx.ModelProto):
        return model, f"model {model.graph.name or 'ModelProto'!r}", model.graph.name or "model"
    if isinstance(model, (bytes, bytearray)):
        return _parse_bytes(onnx, bytes(model), "ONNX bytes"), "ONNX bytes", "model"
    if isinstance(model, (str, Path)):
        p = Path(check_readable(model, "ONNX file", OnnxModelError))
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise OnnxModelError(f"ONNX file {str(p)!r} cannot be read: {exc.strerror or exc}") from None
        return _parse_bytes(onnx, data, str(p)), str(p), p.stem
    raise OnnxModelError(f"cannot read an ONNX model from {type(model).__name__}")


def _attr_value(onnx: Any, attr: Any) -> Any:
    v = onnx.helper.get_attribute_value(attr)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in v]
    return v


def _unique_names(nodes: list[Any]) -> list[str]:
    """Node names, an empty one replaced by ``OpType_index`` and a repeated one suffixed ``_2``, ``_3``, ..."""
    explicit = {n.name for n in nodes if n.name}
    used: set[str] = set()
    out = []
    for i, n in enumerate(nodes):
        base = n.name or f"{n.op_type}_{i}"
        name, k = base, 1
        while name in used or (name != n.name and name in explicit):
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        out.append(name)
    return out


def _toposort(nodes: list[OnnxNode], available: set[str], where: str) -> list[OnnxNode]:
    """Kahn's algorithm, keeping the file's order among ready nodes; one-line errors."""
    producer: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for t in n.outputs:
            if not t:
                continue
            if t in producer or t in available:
                other = nodes[producer[t]] if t in producer else None
                by = f"node {other}" if other is not None else "a graph input or initializer"
                raise OnnxModelError(f"{where}: tensor {t!r} is produced by both {by} and node {n}")
            producer[t] = i
    preds: list[set[int]] = [set() for _ in nodes]
    for i, n in enumerate(nodes):
        for t in n.inputs:
            if not t or t in available:
                continue
            if t not in producer:
                raise OnnxModelError(f"{where}: node {n} reads tensor {t!r}, which no node, graph input or "
                                     "initializer provides")
            preds[i].add(producer[t])
    succs: list[list[int]] = [[] for _ in nodes]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    missing = [len(ps) for ps in preds]
    ready = [i for i, m in enumerate(missing) if m == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for s in succs[i]:
            missing[s] -= 1
            if missing[s] == 0:
                heapq.heappush(ready, s)
    if len(order) < len(nodes):
        left = next(i for i, m in enumerate(missing) if m)
        seen: set[int] = set()
        while left not in seen:  # walk predecessors that are still blocked until one repeats: it is on a cycle
            seen.add(left)
            left = next(p for p in preds[left] if missing[p])
        raise OnnxModelError(f"{where}: the graph has a cycle through node {nodes[left]}")
    return [nodes[i] for i in order]


def _shape_of(type_proto: Any) -> tuple[list[int | str | None], int] | None:
    """(dims, elem_type) of a tensor type; dims are ints, symbolic names, or None; None without a shape."""
    if not type_proto.HasField("tensor_type"):
        return None
    tt = type_proto.tensor_type
    if not tt.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims, int(tt.elem_type)


def _resolve_inputs(graph: Any, constant_names: set[str], given: dict[str, tuple[int, ...]],
                    where: str) -> dict[str, tuple[tuple[int, ...], int]]:
    """Static (dims, elem_type) of every non-constant graph input."""
    real = [vi for vi in graph.input if vi.name not in constant_names]
    names = [vi.name for vi in real]
    if "" in given:
        if len(real) != 1:
            raise OnnxModelError(f"{where}: the model has {len(real)} inputs ({', '.join(names)}); name the one "
                                 "each shape is for (NAME=1x3x224x224)")
        given = {names[0]: given[""]}
    for name in given:
        if name not in names:
            raise OnnxModelError(f"{where}: input shape given for {name!r}, which is not a graph input; inputs: "
                                 f"{', '.join(names) or 'none'}")
    out = {}
    for vi in real:
        declared = _shape_of(vi.type)
        elem = declared[1] if declared else int(vi.type.tensor_type.elem_type or 1)
        hint = f"give it with --input-shape {vi.name}=... (input_shapes={{{vi.name!r}: [...]}})"
        if vi.name in given:
            dims = given[vi.name]
            if declared is not None:
                d0 = declared[0]
                if len(d0) != len(dims):
                    raise OnnxModelError(f"{where}: input {vi.name!r} has {len(d0)} dimensions "
                                         f"({_fmt(d0)}); the given shape {_fmt(dims)} has {len(dims)}")
                for k, (a, b) in enumerate(zip(d0, dims)):
                    if isinstance(a, int) and a > 0 and a != b:
                        raise OnnxModelError(f"{where}: input {vi.name!r} dimension {k} is fixed at {a} in the "
                                             f"model; the given shape {_fmt(dims)} sets {b}")
            out[vi.name] = (tuple(dims), elem)
            continue
        if declared is None:
            raise OnnxModelError(f"{where}: input {vi.name!r} declares no shape; {hint}")
        dims0 = declared[0]
        dyn = [k for k, d in enumerate(dims0) if not (isinstance(d, int) and d > 0)]
        if dyn:
            k = dyn[0]
            label = dims0[k] if isinstance(dims0[k], str) and dims0[k] else "?"
            raise OnnxModelError(f"{where}: input {vi.name!r} has a dynamic dimension {k} ({label!r}) in shape "
                                 f"{_fmt(dims0)}; {hint}")
        out[vi.name] = (tuple(int(d) for d in dims0), elem)  # type: ignore[arg-type]
    return out


def _fmt(dims: Any) -> str:
    return "x".join("?" if not isinstance(d, int) else str(d) for d in dims) or "scalar"


# ----------------------------------------------------------------------------------------- folding
def _constant_node_value(onnx: Any, node: Any) -> tuple[np.ndarray | None, tuple[int, ...] | None, int]:
    """(value, shape, elem_type) of a ``Constant`` node."""
    for attr in node.attribute:
        v = onnx.helper.get_attribute_value(attr)
        if attr.name == "value":
            arr = onnx.numpy_helper.to_array(v)
            return arr, tuple(arr.shape), int(v.data_type)
        if attr.name in ("value_float", "value_floats"):
            arr = np.asarray(v, dtype=np.float32)
            return arr, tuple(arr.shape), 1
        if attr.name in ("value_int", "value_ints"):
            arr = np.asarray(v, dtype=np.int64)
            return arr, tuple(arr.shape), 7
        if attr.name == "sparse_value":
            return None, tuple(int(d) for d in v.dims), int(v.values.data_type)
    return None, None, 1


def _evaluate(onnx: Any, node: OnnxNode, proto: Any, values: Mapping[str, np.ndarray],
              opsets: Mapping[str, int]) -> list[np.ndarray] | None:
    """Outputs of one node on constant inputs by the ONNX reference evaluator (None if it cannot)."""
    from onnx.reference import ReferenceEvaluator

    try:
        ref = ReferenceEvaluator(proto, opsets=dict(opsets))
        feeds = {t: values[t] for t in node.inputs if t}
        return list(ref.run(None, feeds))
    except Exception:  # an operator the reference does not implement, or bad input: keep it shape-only
        return None


class _Folder:
    """Shape inference + constant folding rounds on a weight-free copy of the graph."""

    def __init__(self, onnx: Any, model: Any, nodes: list[tuple[OnnxNode, Any]], inputs: dict, where: str) -> None:
        self.onnx, self.model, self.where = onnx, model, where
        self.nodes = nodes
        self.inputs = inputs
        self.values: dict[str, np.ndarray | None] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.types: dict[str, int] = {}
        self.small: dict[str, Any] = {}  # name -> TensorProto kept in the inference copy
        self.opsets = {o.domain or "": int(o.version) for o in model.opset_import}
        self.folded = 0

    def add_constant(self, name: str, value: np.ndarray | None, shape: tuple[int, ...] | None, elem: int,
                     proto: Any = None) -> None:
        self.values[name] = value
        self.shapes[name] = shape
        self.types[name] = elem
        if proto is not None:
            self.small[name] = proto
        elif value is not None and value.size <= SMALL_ELEMS:
            try:
                self.small[name] = self.onnx.numpy_helper.from_array(np.asarray(value), name)
            except Exception:
                pass

    def _inference_model(self) -> Any:
        h = self.onnx.helper
        inputs = [h.make_tensor_value_info(n, elem, list(dims)) for n, (dims, elem) in self.inputs.items()]
        inits = []
        for name in self.values:
            shape = self.shapes.get(name)
            if name in self.small:
                inits.append(self.small[name])
            else:  # a weight: declared by type and shape only
                inputs.append(h.make_tensor_value_info(name, self.types.get(name, 1),
                                                       None if shape is None else list(shape)))
        graph = h.make_graph([p for _, p in self.nodes], "inference", inputs, [], initializer=inits)
        m = h.make_model(graph, opset_imports=list(self.model.opset_import))
        m.ir_version = max(int(self.model.ir_version), 4)
        for f in self.model.functions:
            m.functions.append(f)
        return m

    def _infer(self) -> None:
        try:
            inferred = self.onnx.shape_inference.infer_shapes(self._inference_model(), data_prop=True)
        except Exception as exc:  # InferenceError and friends: name the node when ONNX does
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OnnxModelError(f"{self.where}: shape inference failed: {first}") from None
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
            s = _shape_of(vi.type)
            if s is None:
                continue
            dims, elem = s
            if vi.name in self.values:
                continue
            ok = all(isinstance(d, int) and d >= 0 for d in dims)
            self.shapes[vi.name] = tuple(dims) if ok else None  # type: ignore[arg-type]
            if elem:
                self.types[vi.name] = elem
        for name, (dims, elem) in self.inputs.items():
            self.shapes[name] = tuple(dims)
            self.types[name] = elem

    def _foldable(self, node: OnnxNode) -> bool:
        if node.op_type in NO_FOLD or node.domain not in ("", "ai.onnx"):
            return False
        if node.op_type in ("Shape", "Size"):
            return self.shapes.get(node.inputs[0]) is not None
        real = [t for t in node.inputs if t]
        return bool(real) and all(t in self.values for t in real)

    def _fold(self, node: OnnxNode, proto: Any) -> None:
        if node.op_type in ("Shape", "Size"):
            shape = self.shapes[node.inputs[0]]
            assert shape is not None
            if node.op_type == "Size":
                val = np.asarray(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
            else:
                rank = len(shape)
                start = int(node.attrs.get("start", 0))
                end = int(node.attrs.get("end", rank))
                start, end = (s + rank if s < 0 else s for s in (start, end))
                val = np.asarray(shape[max(0, min(start, rank)):max(0, min(end, rank))], dtype=np.int64)
            self.add_constant(node.outputs[0], val, tuple(val.shape), 7)
            return
        ins = [t for t in node.inputs if t]
        outs = None
        sizes = [self.shapes.get(t) for t in ins]
        small_in = sum(FOLD_ELEMS + 1 if sz is None else int(np.prod(sz)) for sz in sizes) <= FOLD_ELEMS
        small_out = all(self.shapes.get(t) is not None and int(np.prod(self.shapes[t])) <= FOLD_OUT_ELEMS
                        for t in node.outputs if t)
        if node.op_type == "Identity":  # exporters alias shared initializers so; no evaluator needed
            outs = [self.values.get(ins[0])]
        elif small_in and small_out and all(self.values.get(t) is not None for t in ins):
            outs = _evaluate(self.onnx, node, proto, self.values, self.opsets)  # type: ignore[arg-type]
        for k, t in enumerate(node.outputs):
            if not t:
                continue
            val = outs[k] if outs is not None and k < len(outs) else None
            shape = tuple(np.shape(val)) if val is not None else self.shapes.get(t)
            self.add_constant(t, None if val is None else np.asarray(val), shape, self.types.get(t, 1))

    def run(self) -> list[OnnxNode]:
        for _ in range(MAX_ROUNDS):
            self._infer()
            keep = []
            folded_now = 0
            for node, proto in self.nodes:
                if self._foldable(node):
                    self._fold(node, proto)
                    folded_now += 1
                else:
                    keep.append((node, proto))
            self.nodes = keep
            self.folded += folded_now
            if not folded_now:
                break
        return [n for n, _ in self.nodes]


# ----------------------------------------------------------------------------------------- entry point
def _digest(model: Any, shapes: Mapping[str, tuple[int, ...] | None], resolved_inputs: Mapping[str, tuple],
            extra: Mapping[str, Any]) -> str:
    """SHA-256 of what determines every cost: the nodes (``Constant`` nodes by shape, not value),
    every initializer's name, type and shape, the graph's inputs and outputs, every tensor's
    inferred shape (which is how constant values such as shapes, axes or scales act), the opsets
    and ``extra`` options."""
    h = hashlib.sha256()
    g = model.graph
    for node in g.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            h.update(json.dumps(["Constant", node.name, list(node.output), shapes.get(node.output[0])]).encode())
        else:
            h.update(node.SerializeToString())
    for init in g.initializer:
        h.update(json.dumps([init.name, int(init.data_type), list(init.dims)]).encode())
    for vi in list(g.input) + list(g.output):
        h.update(vi.SerializeToString())
    h.update(json.dumps({"opset": sorted((o.domain, int(o.version)) for o in model.opset_import),
                         "inputs": {k: list(v[0]) for k, v in sorted(resolved_inputs.items())},
                         "shapes": sorted((k, None if v is None else list(v)) for k, v in shapes.items()),
                         "extra": extra}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def read_onnx(model: Any, input_shapes: Any = None, *, label: str | None = None,
              identity: Mapping[str, Any] | None = None) -> OnnxGraph:
    """Parse, check, shape-infer and constant-fold an ONNX model (see the module docstring).

    ``model``: a file path, the file's bytes or an ``onnx.ModelProto``;
    ``input_shapes``: see :func:`parse_input_shapes`; ``label``: the name stem
    (default: the file name without suffix); ``identity``: further options
    that enter :attr:`OnnxGraph.digest` (e.g. the unsupported-operator policy).
    Raises :class:`OnnxModelError` (one line) for anything wrong with the model.
    """
    onnx = require_onnx()
    proto, where, stem = _load(onnx, model)
    given = parse_input_shapes(input_shapes)
    g = proto.graph
    if not len(g.node):
        raise OnnxModelError(f"{where}: the graph has no nodes")
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute):
        sub = next(n for n in g.node if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                                             for a in n.attribute))
        raise OnnxModelError(f"{where}: node {sub.name or sub.op_type!r} ({sub.op_type}) has a sub-graph; "
                             "control flow (If, Loop, Scan) is not supported")
    names = _unique_names(list(g.node))
    protos = list(g.node)
    nodes = [OnnxNode(nm, n.op_type, n.domain, tuple(n.input), tuple(n.output),
                      {a.name: _attr_value(onnx, a) for a in n.attribute if a.type != onnx.AttributeProto.TENSOR})
             for nm, n in zip(names, protos)]
    init_names = {t.name for t in g.initializer} | {t.values.name for t in g.sparse_initializer}
    inputs = _resolve_inputs(g, init_names, given, where)
    available = set(init_names) | set(inputs)
    by_name = {id(n): p for n, p in zip(nodes, protos)}
    ordered = _toposort(nodes, available, where)
    for t in g.output:
        if t.name not in available and not any(t.name in n.outputs for n in nodes):
            raise OnnxModelError(f"{where}: graph output {t.name!r} is produced by no node")
    folder = _Folder(onnx, proto, [], inputs, where)
    for init in g.initializer:
        shape = tuple(int(d) for d in init.dims)
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if n <= SMALL_ELEMS or init.data_type in _INT_TYPES and n <= FOLD_ELEMS:
            folder.add_constant(init.name, onnx.numpy_helper.to_array(init), shape, int(init.data_type), init)
        else:
            folder.add_constant(init.name, None, shape, int(init.data_type))
    for sp in g.sparse_initializer:
        folder.add_constant(sp.values.name, None, tuple(int(d) for d in sp.dims), int(sp.values.data_type))
    rest = []
    for n in ordered:
        p = by_name[id(n)]
        if n.op_type == "Constant" and n.domain in ("", "ai.onnx"):
            val, shape, elem = _constant_node_value(onnx, p)
            folder.add_constant(n.outputs[0], val, shape, elem)
            folder.folded += 1
        else:
            rest.append((n, p))
    folder.nodes = rest
    remaining = folder.run()
    ident = dict(identity or {})
    digest = _digest(proto, folder.shapes, inputs, ident)
    outputs = tuple(t.name for t in g.output)
    return OnnxGraph(label or stem, str(model) if isinstance(model, (str, Path)) else where, tuple(remaining),
                     tuple(inputs), outputs, dict(folder.shapes), dict(folder.values), digest, folder.folded)

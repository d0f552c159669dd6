"""One workload object for every simulator: a network read from ONNX (or exported from PyTorch).

:func:`from_onnx` and :func:`from_torch` return a :class:`Network`; every
simulator that takes a network takes it as ``workload=`` (and also takes the
``.onnx`` path itself):

* ``Systolic-v0``, ``Accelerator-v0`` and ``AcceleratorArch-v0`` cost its
  :attr:`Network.layers` (SCALE-Sim's layer form, :mod:`.lowering`);
* ``DataflowMapping-v0`` costs one of them, chosen with ``layer=`` (a layer
  or node name, or an index; :meth:`Network.layer`);
* ``Scratchpad-v0`` and ``ScratchpadSchedule-v0`` plan its operator graph
  (:meth:`Network.graph`, at the simulator's word size).

**Name**: ``<file stem>-<10 hex digits>``, the digits from the content
digest of :func:`.onnx_reader.read_onnx` (operators, attributes, shapes,
integer and small constants, the given input shapes and the
unsupported-operator policy; not float weight values).  ``str(network)`` is
that name, so a trial whose workload is a Network object is keyed by content
(the trial key serializes unknown objects by ``str``), as a trial on the file
path is (by the file's bytes).

``input_shapes`` give dynamic dimensions (:func:`.onnx_reader.parse_input_shapes`);
``onnx_unsupported="skip"`` leaves out operators archgym cannot cost instead
of raising, and lists them in :attr:`Network.skipped` (and in a warning).
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from archgym.simulator import WorkloadError

from .graphs import TILE, FMap, GraphBuilder
from .layers import Layer
from .lowering import UNSUPPORTED_POLICIES, Lowered, lower
from .onnx_reader import OnnxModelError, read_onnx, require_onnx
from .opgraph import Graph

__all__ = ["Network", "from_onnx", "from_torch", "is_model_file", "as_network", "check_onnx_options",
           "select_layer", "MODEL_SUFFIXES", "SkippedOperatorsWarning"]

#: file suffixes read as ONNX models
MODEL_SUFFIXES = (".onnx",)


class SkippedOperatorsWarning(UserWarning):
    """Issued when ``onnx_unsupported="skip"`` left nodes out of a network (it lists them)."""


@dataclass(frozen=True, eq=False)
class Network:
    """A network's layers and operator graph (see the module docstring).

    ``layers``: MAC layers in topological order; ``layer_ops[i]``: the name of
    the graph operator (ONNX node) computing ``layers[i]``; ``inputs`` and
    ``ops``: the word-size-free operator graph (:mod:`.lowering`);
    ``skipped``: nodes left out (``"name (OpType)"``); ``source``: the file
    or exporter it came from.
    """

    name: str
    layers: tuple[Layer, ...]
    layer_ops: tuple[str, ...]
    inputs: tuple[tuple[str, int], ...]
    ops: tuple[Any, ...]
    skipped: tuple[str, ...] = ()
    source: str = ""
    _graphs: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_lowered(cls, name: str, lowered: Lowered, source: str) -> "Network":
        return cls(name, lowered.layers, lowered.layer_ops, lowered.inputs, lowered.ops, lowered.skipped, source)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return (f"Network({self.name!r}, layers={len(self.layers)}, ops={len(self.ops)}, "
                f"skipped={len(self.skipped)})")

    @property
    def macs(self) -> int:
        """Multiply-accumulates of all layers."""
        return sum(lay.macs for lay in self.layers)

    # -- graph ---------------------------------------------------------------------------------------
    def graph(self, precision_bytes: int = 1, weight_tile_bytes: int | None = TILE) -> Graph:
        """The operator graph at ``precision_bytes`` bytes per element (built once per argument pair).

        Weights larger than ``weight_tile_bytes`` are split into output-channel
        tiles (``name/t0``, ...) exactly as the built-in graphs
        (:class:`.graphs.GraphBuilder`)."""
        key = (precision_bytes, weight_tile_bytes)
        if key not in self._graphs:
            self._graphs[key] = self._build_graph(precision_bytes, weight_tile_bytes)
        return self._graphs[key][0]

    def graph_op_indices(self, precision_bytes: int = 1, weight_tile_bytes: int | None = TILE) -> list[list[int]]:
        """Per layer, the indices of the operators of :meth:`graph` that compute it (its weight tiles)."""
        self.graph(precision_bytes, weight_tile_bytes)
        by_op = self._graphs[(precision_bytes, weight_tile_bytes)][1]
        return [list(by_op[name]) for name in self.layer_ops]

    def _build_graph(self, precision_bytes: int, weight_tile_bytes: int | None) -> tuple[Graph, dict]:
        b = GraphBuilder(self.name, precision_bytes, weight_tile_bytes)
        parts: dict[str, tuple[str, ...]] = {}
        for name, elems in self.inputs:
            parts[name] = b.input(elems, 1, 1, name).parts
        by_op: dict[str, list[int]] = {}
        for op in self.ops:
            xs = [FMap(parts.get(v, ()), 1, 1, 1) for v in op.inputs]
            start = len(b.ops)
            if op.chw is not None:
                c, h, w = op.chw
                out = b.op(op.name, xs, c, h, w, op.macs, op.weight_elems)
                parts[op.outputs[0][0]] = out.parts  # type: ignore[union-attr]
            else:
                for (v, _), fm in zip(op.outputs, b.op_outputs(op.name, xs, [e for _, e in op.outputs], op.macs)):
                    parts[v] = fm.parts
            by_op[op.name] = list(range(start, len(b.ops)))
        return b.graph(), by_op

    # -- layers ---------------------------------------------------------------------------------------
    def layer(self, key: int | str) -> Layer:
        """One layer by index (``3``, ``"3"``, ``-1``), by layer name, or by the ONNX node name of a
        node that is one layer (a node lowered to several, e.g. a batched MatMul, names them
        ``node[0]``, ...)."""
        if isinstance(key, bool):
            raise WorkloadError(f"layer {key!r}: expected a layer name or index")
        text = str(key).strip()
        if isinstance(key, int) or text.lstrip("-").isdigit():
            i = int(text)
            if not -len(self.layers) <= i < len(self.layers):
                raise WorkloadError(f"layer index {i} is out of range: {self.name} has {len(self.layers)} layers "
                                    f"(0..{len(self.layers) - 1})")
            return self.layers[i]
        for lay in self.layers:
            if lay.name == text:
                return lay
        of_node = [lay for lay, op in zip(self.layers, self.layer_ops) if op == text]
        if len(of_node) == 1:
            return of_node[0]
        if of_node:
            raise WorkloadError(f"node {text!r} of {self.name} is {len(of_node)} layers ({of_node[0].name}, ...); "
                                "choose one by its name or index")
        names = ", ".join(lay.name for lay in self.layers[:5])
        raise WorkloadError(f"{self.name} has no layer or node {text!r}; layers ({len(self.layers)}): {names}"
                            f"{', ...' if len(self.layers) > 5 else ''} (or give an index)")


# ----------------------------------------------------------------------------------------- constructors
def _warn_skipped(net: Network) -> None:
    if net.skipped:
        warnings.warn(f"{net.name}: left out {len(net.skipped)} unsupported node(s): {', '.join(net.skipped)}",
                      SkippedOperatorsWarning, stacklevel=3)


def from_onnx(model: str | os.PathLike | bytes | Any, input_shapes: Any = None, *, onnx_unsupported: str = "error",
              name: str | None = None) -> Network:
    """A :class:`Network` from an ONNX file (or its bytes, or an ``onnx.ModelProto``).

    ``input_shapes``: dynamic dimensions, ``{"input": [1, 3, 224, 224]}`` or
    ``"input=1x3x224x224"`` (:func:`.onnx_reader.parse_input_shapes`);
    ``onnx_unsupported``: ``"error"`` (default: one line naming the first
    node archgym cannot cost) or ``"skip"``; ``name``: the name stem
    (default: the file name).  Needs the ``onnx`` package
    (``pip install 'archgym[onnx]'``)."""
    if onnx_unsupported not in UNSUPPORTED_POLICIES:
        raise OnnxModelError(f"onnx_unsupported must be one of {', '.join(UNSUPPORTED_POLICIES)}, "
                             f"got {onnx_unsupported!r}")
    g = read_onnx(model, input_shapes, label=name, identity={"onnx_unsupported": onnx_unsupported})
    net = Network.from_lowered(f"{g.label}-{g.digest[:10]}", lower(g, onnx_unsupported), g.source)
    _warn_skipped(net)
    return net


def from_torch(module: Any, example_inputs: Any, *, input_names: Sequence[str] | None = None,
               dynamo: bool | None = None, onnx_unsupported: str = "error", name: str | None = None,
               opset_version: int | None = None) -> Network:
    """A :class:`Network` from a ``torch.nn.Module`` through the ONNX exporter PyTorch ships.

    ``example_inputs``: a tensor or a tuple of tensors at the sizes to cost
    (batch included); the export is static, so no ``input_shapes`` are needed.
    The module is exported in eval mode (batch norm folded into the
    convolutions, dropout removed) and left as it was.  Exporters:
    ``dynamo=False`` is the TorchScript-based one (needs only ``onnx``; names
    nodes after the module path, ``/layer1/layer1.0/conv1/Conv``);
    ``dynamo=True`` the ``torch.export``-based one (also needs ``onnxscript``;
    it traces modules the other cannot, e.g. ``nn.TransformerEncoderLayer``
    in PyTorch 2.13); ``None`` (default) tries the first, then the second.
    ``name``: the name stem (default: the module's class name).  Both
    extras come with ``pip install 'archgym[onnx]'``."""
    try:
        import torch
    except ImportError:
        raise OnnxModelError("from_torch needs PyTorch (pip install torch)") from None
    require_onnx()
    args = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    stem = name or type(module).__name__
    if dynamo:
        data = _export_dynamo(torch, module, args, input_names, opset_version)
    else:
        try:
            data = _export_torchscript(torch, module, args, input_names, opset_version)
        except Exception as exc:  # a module the tracer cannot follow
            if dynamo is False or not _has_onnxscript():
                hint = "; from_torch(..., dynamo=True) may export it" if dynamo is False else \
                    " (the dynamo exporter, which may export it, needs onnxscript: pip install 'archgym[onnx]')"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise OnnxModelError(f"PyTorch's TorchScript exporter cannot export {stem}: "
                                     f"{type(exc).__name__}: {first}{hint}") from None
            data = _export_dynamo(torch, module, args, input_names, opset_version)
    return from_onnx(data, onnx_unsupported=onnx_unsupported, name=stem)


def _has_onnxscript() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxscript") is not None


def _export_torchscript(torch: Any, module: Any, args: tuple, input_names: Any, opset: int | None) -> bytes:
    buf = io.BytesIO()
    kw: dict[str, Any] = {"input_names": list(input_names) if input_names else None, "do_constant_folding": True,
                          "training": torch.onnx.TrainingMode.EVAL, "dynamo": False}
    if opset is not None:
        kw["opset_version"] = opset
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(module, args, buf, **kw)
    for w in caught:  # the tracer's warnings concern the caller's module; the exporter's deprecation does not
        if not issubclass(w.category, (DeprecationWarning, FutureWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return buf.getvalue()


def _export_dynamo(torch: Any, module: Any, args: tuple, input_names: Any, opset: int | None) -> bytes:
    if not _has_onnxscript():
        raise OnnxModelError("the dynamo exporter needs onnxscript: pip install 'archgym[onnx]'")
    import logging

    kw: dict[str, Any] = {"input_names": list(input_names) if input_names else None, "dynamo": True,
                          "verbose": False, "optimize": True}
    if opset is not None:
        kw["opset_version"] = opset
    was_training = module.training
    quiet = logging.getLogger("torch.onnx")  # it logs every torchvision operator it cannot register
    level = quiet.level
    module.eval()
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, args, **kw)
    finally:
        quiet.setLevel(level)
        module.train(was_training)
    return program.model_proto.SerializeToString()


# ----------------------------------------------------------------------------------------- resolution
def is_model_file(workload: Any) -> bool:
    """True for a path (str or PathLike) whose suffix is an ONNX model's."""
    return isinstance(workload, (str, os.PathLike)) and Path(workload).suffix.lower() in MODEL_SUFFIXES


def check_onnx_options(input_shapes: Any = None, onnx_unsupported: str = "error") -> None:
    """Raise if ONNX-only options are given for a workload that is not an ONNX model."""
    if input_shapes is not None:
        raise WorkloadError("input_shapes applies to ONNX workloads (a .onnx file) only")
    if onnx_unsupported != "error":
        raise WorkloadError("onnx_unsupported applies to ONNX workloads (a .onnx file) only")


def as_network(workload: Any, input_shapes: Any = None, onnx_unsupported: str = "error") -> Network | None:
    """The :class:`Network` of a workload that is one (a Network or an ``.onnx`` path), else None
    (after checking that no ONNX-only option was given)."""
    if isinstance(workload, Network):
        if input_shapes is not None or onnx_unsupported != "error":
            raise WorkloadError(f"{workload.name} is already read: give input_shapes and onnx_unsupported to "
                                "from_onnx / from_torch instead")
        return workload
    if is_model_file(workload):
        return from_onnx(workload, input_shapes, onnx_unsupported=onnx_unsupported)
    check_onnx_options(input_shapes, onnx_unsupported)
    return None


def select_layer(workload: Any, layer: int | str, input_shapes: Any = None, onnx_unsupported: str = "error") -> Layer:
    """One layer of any network workload: a Network or ``.onnx`` path (:meth:`Network.layer`), or
    a shipped network / topology CSV / list (by name or index)."""
    net = as_network(workload, input_shapes, onnx_unsupported)
    if net is None:
        from .layers import as_layers

        label, layers = as_layers(workload)
        net = Network(label, tuple(layers), tuple(lay.name for lay in layers), (), ())
    return net.layer(layer)

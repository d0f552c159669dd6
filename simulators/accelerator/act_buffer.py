"""On-chip activation buffer between layers, planned by the scratchpad scheduler.

Model (second step of the coupling, see the package docstring):

* The network's operator graph is :mod:`archgym.simulators.workloads.graphs`'
  (the scratchpad simulator's), reduced to its activations: weight tensors
  are dropped (weights stream through the filter SRAM, not the buffer), the
  network input stays an off-chip tensor.  Pooling and residual-add
  operators stay in the graph (their tensors occupy the buffer) but move no
  DRAM traffic in the systolic stream.
* The buffer of ``act_buffer_kb`` KiB is planned with the scratchpad
  scheduler's Belady policy on the graph's default (layer-major) order
  (:func:`archgym.simulators.scratchpad.baselines.belady`).  An activation
  that Belady never writes back nor reloads stays on chip from its producer
  to its last consumer; the network's final outputs are stored off chip.
  The buffer must hold every operator's activations (inputs + outputs) at
  once, the scratchpad model's rule; a smaller buffer makes the design
  infeasible (named in the reason).
* A systolic layer maps onto the graph operators that compute it
  (:func:`layer_ops`: one per layer, or its weight tiles ``name/tK``).  If
  all of a layer's outputs stay on chip, its ofmap writes and partial-sum
  read-backs leave the DRAM stream; if all its activation inputs do, its
  ifmap reads (refetches included) leave it.  Those words are read from or
  written to the buffer instead, at the buffer's SRAM energy per byte
  (:func:`archgym.simulators.systolic.energy.sram_energy_per_byte_pj`).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from ..scratchpad.baselines import belady
from ..workloads.graphs import GRAPH_BUILDERS
from ..workloads.network import Network
from ..workloads.opgraph import Graph, Op

__all__ = ["POLICIES", "BUFFER_KB", "graph_layer_name", "layer_ops", "activation_graph", "kept_layers"]

POLICIES = ("none", "belady")
#: activation buffer sizes, KiB (0 = no buffer)
BUFFER_KB = (0, 256, 512, 1024, 2048, 4096)

#: systolic layer name -> scratchpad graph operator name (ResNets and MobileNetV2 of graphs.py)
_RULES = ((re.compile(r"^layer(\d+)\.(\d+)\.downsample$"), r"l\1.\2.down"),
          (re.compile(r"^layer(\d+)\.(\d+)\.(conv\d)$"), r"l\1.\2.\3"),
          (re.compile(r"^block(\d+)_DP$"), r"b\1.dw"),
          (re.compile(r"^block(\d+)_(expand|project)$"), r"b\1.\2"))


def graph_layer_name(layer: str) -> str:
    """The scratchpad graph's operator name for a systolic layer name (``conv1``, ``fc`` unchanged)."""
    for pat, rep in _RULES:
        if pat.match(layer):
            return pat.sub(rep, layer)
    return layer


def layer_ops(graph: Graph, layer_names: Sequence[str]) -> list[list[int]]:
    """Graph operator indices computing each systolic layer (the operator, or its weight tiles).

    Raises ``KeyError`` naming the first layer with no operator."""
    by_name: dict[str, list[int]] = {}
    for i, op in enumerate(graph.ops):
        by_name.setdefault(op.name.split("/t")[0], []).append(i)
    out = []
    for name in layer_names:
        ops = by_name.get(graph_layer_name(name))
        if not ops:
            raise KeyError(f"no operator of graph {graph.name!r} computes layer {name!r}")
        out.append(ops)
    return out


def activation_graph(network: "str | Network") -> Graph:
    """The network's operator graph (a built-in name's, or an ONNX :class:`Network`'s) without
    weight tensors (the buffer holds activations only)."""
    if isinstance(network, str):
        return _builtin_activation_graph(network)
    return _without_weights(network.graph())


@lru_cache(maxsize=8)
def _builtin_activation_graph(network: str) -> Graph:
    return _without_weights(GRAPH_BUILDERS[network]())


def _without_weights(g: Graph) -> Graph:
    keep = {t for t, v in g.tensors.items() if v.kind != "weight"}
    ops = [Op(o.name, tuple(t for t in o.inputs if t in keep), o.outputs, o.macs) for o in g.ops]
    return Graph.build(g.name, [g.tensors[t] for t in g.tensors if t in keep], ops)


def kept_layers(graph: Graph, ops: list[list[int]], capacity_bytes: int) -> tuple[list[bool], list[bool]]:
    """Per layer: (all activation inputs stay on chip, all outputs stay on chip) under Belady
    with ``capacity_bytes`` on the default order.  Raises the scratchpad's ``InfeasibleError``
    when an operator's activations do not fit."""
    plan = belady(graph, graph.default_order(), int(capacity_bytes))
    off = {t for step in plan.loads + plan.writebacks for t in step} | set(graph.graph_outputs)
    on = {t for t, v in graph.tensors.items() if v.kind == "activation" and t not in off}
    ins = [all(t in on for i in idx for t in graph.ops[i].inputs) for idx in ops]
    outs = [all(t in on for i in idx for t in graph.ops[i].outputs) for idx in ops]
    return ins, outs

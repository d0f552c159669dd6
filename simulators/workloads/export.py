"""Write a network's workloads in the formats the tools people already use read.

* :func:`scalesim_topology`: a SCALE-Sim topology CSV (conv form, or the GEMM
  form ``Layer, M, N, K,`` when every layer is a GEMM).  A GEMM in a
  conv-form table is written as SCALE-Sim's own conv mapping of a GEMM (``H =
  M, W = K, Fh = 1, Fw = K, C = 1``), which :func:`.layers.parse_topology`
  reads back as the same shape; a depthwise layer's name carries ``DP`` (how
  SCALE-Sim knows it) and no other layer's does.
* :func:`timeloop_problem`: one Timeloop v0.4 problem per layer (the
  7-dimension CNN layer ``C, M, R, S, N, P, Q`` with ``Hstride``/``Wstride``;
  a depthwise layer keeps ``C`` in its outputs; a GEMM is ``M, N, K`` with
  data spaces ``A``, ``B``, ``Z``), so the dataflow simulator's reader gives
  back the problem it builds from the layer.
* :func:`graph_json`: the operator graph in archgym's JSON format
  (:mod:`.opgraph`).

:func:`export_workload` writes any of them into a folder and refuses to
replace an existing file unless asked to.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

import yaml

from archgym.simulator import WorkloadError
from archgym.userfiles import output_folder

from .layers import Layer, as_layers
from .opgraph import Graph, as_graph

__all__ = ["FORMATS", "scalesim_topology", "timeloop_problem", "timeloop_yaml", "graph_json", "export_workload",
           "safe_name"]

FORMATS = ("scalesim", "timeloop", "graph")


def safe_name(name: str) -> str:
    """A layer or file name of letters, digits and ``_ . -`` only (ONNX node names hold ``/`` and ``[]``)."""
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("_.")
    return s or "layer"


def _csv_name(layer: Layer) -> str:
    name = safe_name(layer.name)
    if layer.kind == "dwconv":
        return name if "DP" in name else f"{name}_DP"
    return name.replace("DP", "Dp")


def scalesim_topology(layers: Sequence[Layer]) -> str:
    """The SCALE-Sim topology CSV text of ``layers`` (see the module docstring)."""
    if not layers:
        raise WorkloadError("no layers to write")
    if all(lay.kind == "gemm" for lay in layers):
        rows = ["Layer, M, N, K,"] + [f"{_csv_name(lay)}, {lay.M}, {lay.N}, {lay.K}," for lay in layers]
    else:
        rows = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"]
        rows += [f"{_csv_name(lay)}, {lay.ifmap_h}, {lay.ifmap_w}, {lay.filt_h}, {lay.filt_w}, {lay.channels}, "
                 f"{lay.num_filters}, {lay.stride}," for lay in layers]
    return "\n".join(rows) + "\n"


def timeloop_problem(layer: Layer) -> dict:
    """The Timeloop v0.4 problem document (a dict) of one layer."""
    if layer.kind == "gemm":
        shape = {"name": "GEMM", "dimensions": ["M", "N", "K"],
                 "data_spaces": [{"name": "A", "projection": [[["M"]], [["K"]]]},
                                 {"name": "B", "projection": [[["K"]], [["N"]]]},
                                 {"name": "Z", "projection": [[["M"]], [["N"]]], "read_write": True}]}
        return {"problem": {"version": 0.4, "shape": shape,
                            "instance": {"M": layer.ifmap_h, "N": layer.num_filters, "K": layer.filt_w}}}
    dw = layer.kind == "dwconv"
    outputs = [[["N"]]] + ([[["C"]]] if dw else []) + [[["M"]], [["Q"]], [["P"]]]
    shape = {"name": "Depthwise-CNN-Layer" if dw else "CNN-Layer", "dimensions": ["C", "M", "R", "S", "N", "P", "Q"],
             "coefficients": [{"name": "Hstride", "default": 1}, {"name": "Wstride", "default": 1}],
             "data_spaces": [{"name": "Weights", "projection": [[["C"]], [["M"]], [["R"]], [["S"]]]},
                             {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R"], ["P", "Hstride"]],
                                                               [["S"], ["Q", "Wstride"]]]},
                             {"name": "Outputs", "projection": outputs, "read_write": True}]}
    inst = {"C": layer.channels, "M": layer.num_filters, "R": layer.filt_h, "S": layer.filt_w, "N": 1,
            "P": layer.ofmap_h, "Q": layer.ofmap_w, "Hstride": layer.stride, "Wstride": layer.stride}
    return {"problem": {"version": 0.4, "shape": shape, "instance": inst}}


def timeloop_yaml(layer: Layer, origin: str = "") -> str:
    """:func:`timeloop_problem` as YAML text, headed by a comment naming the layer."""
    head = f"# {layer.name}" + (f" of {origin}" if origin else "") + f" ({layer.kind}, {layer.macs} MACs)\n"
    return head + yaml.safe_dump(timeloop_problem(layer), default_flow_style=None, sort_keys=False)


def graph_json(graph: Graph) -> str:
    """The operator graph as archgym's JSON workload text (:func:`.opgraph.load_graph` reads it)."""
    return json.dumps(graph.to_dict(), indent=1) + "\n"


def _write_all(folder: Path, files: list[tuple[str, str]], force: bool) -> list[Path]:
    """Write ``(file name, text)`` pairs into ``folder``; nothing is written if one exists (unless ``force``)."""
    paths = [folder / name for name, _ in files]
    clash = next((p for p in paths if p.exists()), None)
    if clash is not None and not force:
        raise WorkloadError(f"{clash} exists; choose another --out folder or replace it with --force")
    output_folder(folder, "--out", WorkloadError)
    for p, (_, text) in zip(paths, files):
        p.write_text(text, encoding="utf-8")
    return paths


def export_workload(workload: Any, to: str, out: str | Path, *, precision_bytes: int = 1, input_shapes: Any = None,
                    onnx_unsupported: str = "error", force: bool = False) -> list[Path]:
    """Write ``workload`` (an ONNX model, a shipped network, a topology CSV, ...) as ``to``
    (:data:`FORMATS`) into folder ``out`` (created if needed); returns the files written:
    ``<name>.csv``, ``<index>_<layer>.yaml`` per layer, or ``<name>.json``."""
    if to not in FORMATS:
        raise WorkloadError(f"unknown export format {to!r}; formats: {', '.join(FORMATS)}")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise WorkloadError(f"--out {str(folder)!r} is a file; give a folder")
    if to == "graph":
        graph = as_graph(workload, precision_bytes, input_shapes, onnx_unsupported)
        return _write_all(folder, [(f"{safe_name(graph.name)}.json", graph_json(graph))], force)
    label, layers = as_layers(workload, input_shapes, onnx_unsupported)
    if to == "scalesim":
        return _write_all(folder, [(f"{safe_name(label)}.csv", scalesim_topology(layers))], force)
    width = len(str(len(layers) - 1))
    return _write_all(folder, [(f"{i:0{width}d}_{safe_name(lay.name)}.yaml", timeloop_yaml(lay, label))
                               for i, lay in enumerate(layers)], force)

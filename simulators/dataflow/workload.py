"""Resolve the ``workload`` and ``arch`` options of the dataflow simulators."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from archgym.simulator import WorkloadError

from ..workloads.layers import as_layers, list_networks, load_network
from ..workloads.network import as_network, select_layer
from .arch import Architecture, eyeriss_like, simple_three_level
from .constraints import Constraints, parse_constraints
from .ert import EnergyTable, read_ert
from .errors import ArchitectureError, DataflowInputError
from .problem import Problem, problem_from_layer
from .timeloop_io import load_yaml, parse_architecture_and_constraints, read_problem

__all__ = ["resolve_problem", "resolve_arch", "resolve_arch_and_constraints", "resolve_table", "resolve_constraints",
           "network_problems", "ARCHS"]

ARCHS = {"eyeriss_like": eyeriss_like, "three_level": simple_three_level}


def resolve_problem(workload: Any, layer: Any = None, input_shapes: Any = None,
                    onnx_unsupported: str = "error") -> Problem:
    """A :class:`Problem` from a Problem, a Timeloop problem YAML path, ``"network:layer"``
    (e.g. ``"resnet18:layer1.0.conv1"``), a :class:`Layer` or a layer dict; or one ``layer``
    (name or index) of a network: an ONNX model (path or Network), a network name, a CSV."""
    if layer is not None:
        return problem_from_layer(select_layer(workload, layer, input_shapes, onnx_unsupported))
    workload = as_network(workload, input_shapes, onnx_unsupported) or workload  # an ONNX model, read
    if isinstance(workload, Problem):
        return workload
    if isinstance(workload, (str, Path)):
        s = str(workload)
        if s.lower().endswith((".yaml", ".yml")):
            if not Path(s).exists():
                raise WorkloadError(f"problem file {s!r} does not exist")
            return read_problem(s)
        if ":" in s:
            net, _, name = s.partition(":")
            if net not in list_networks():
                raise WorkloadError(f"unknown network {net!r}; networks: {', '.join(list_networks())}")
            layers = {lay.name: lay for lay in load_network(net)}
            if name not in layers:
                raise WorkloadError(f"network {net!r} has no layer {name!r}; layers: {', '.join(layers)}")
            return problem_from_layer(layers[name])
        raise WorkloadError(f"workload {s!r}: expected a problem .yaml file or 'network:layer' "
                            f"(networks: {', '.join(list_networks())})")
    _, layers = as_layers(workload)
    if len(layers) != 1:
        raise WorkloadError(f"the mapping environment costs one layer; got {len(layers)} (choose one with layer=NAME "
                            "or layer=INDEX)")
    return problem_from_layer(layers[0])


def network_problems(workload: Any, input_shapes: Any = None, onnx_unsupported: str = "error"
                     ) -> tuple[str, list[Problem]]:
    """Network name (or CSV, ONNX model, list, see :func:`as_layers`) -> its layers as problems."""
    label, layers = as_layers(workload, input_shapes, onnx_unsupported)
    return label, [problem_from_layer(lay) for lay in layers]


def resolve_arch(arch: Any) -> Architecture:
    """An :class:`Architecture`, a Timeloop architecture YAML path, or a built-in name (``ARCHS``)."""
    return resolve_arch_and_constraints(arch)[0]


def resolve_arch_and_constraints(arch: Any) -> tuple[Architecture, list[dict]]:
    """:func:`resolve_arch` and the constraint targets the architecture file carries (none for the
    built-in architectures)."""
    if isinstance(arch, Architecture):
        return arch, []
    if isinstance(arch, (str, Path)):
        s = str(arch)
        if s in ARCHS:
            return ARCHS[s](), []
        if s.lower().endswith((".yaml", ".yml")):
            if not Path(s).exists():
                raise ArchitectureError(f"architecture file {s!r} does not exist")
            return parse_architecture_and_constraints(load_yaml(s), s)
    raise ArchitectureError(f"arch {arch!r}: expected a Timeloop architecture .yaml file or one of "
                            f"{', '.join(ARCHS)}")


def resolve_constraints(problem: Problem, arch: Architecture, embedded: list[dict], extra: Any = None) -> Constraints:
    """The architecture file's constraints plus ``extra`` (a constraints YAML path or a list of
    targets), checked against ``problem`` and ``arch``."""
    targets = list(embedded)
    where = "constraints"
    if isinstance(extra, (str, Path)):
        where = str(extra)
        if not Path(where).exists():
            raise DataflowInputError(f"constraints file {where!r} does not exist")
        doc = load_yaml(where)
        for key in ("mapspace_constraints", "architecture_constraints", "constraints"):
            if isinstance(doc, dict) and key in doc:
                doc = doc[key]
                break
        extra = doc.get("targets") if isinstance(doc, dict) else doc
    if extra is not None:
        if not isinstance(extra, list):
            raise DataflowInputError(f"{where}: constraints must be a list of targets")
        targets += extra
    return parse_constraints(targets, problem, arch, where)


def resolve_table(ert: Any, arch: Architecture) -> EnergyTable | None:
    """An energy table from an ``ERT.yaml`` path (or an :class:`EnergyTable`); None = built-in table."""
    if ert is None or isinstance(ert, EnergyTable):
        return ert
    return read_ert(str(ert), arch)

"""``DataflowMappingSimulator`` (``DataflowMapping-v0``): search the mapping of one layer on a fixed architecture.

Design space: :class:`.mapping_space.MappingSpace` (tile factors as divisor
choices per level and fan-out axis, encoded by where each prime factor of a
bound goes, so every design multiplies out; loop orders; keep/bypass per
level and data space).  Defaults: the Eyeriss-like 168-PE
architecture (:func:`.arch.eyeriss_like`) and ResNet-18's ``layer1.0.conv1``
(3x3, 64 -> 64 channels, 56x56 outputs).

Options: ``workload`` (problem YAML, ``"network:layer"``, a Layer, or a
network -- an ONNX model, a network name, a CSV -- with ``layer`` naming one
layer or node, or its index; ``input_shapes``, ``onnx_unsupported`` for an
``.onnx`` path, see :func:`archgym.simulators.workloads.from_onnx`),
``arch`` (Timeloop architecture YAML, ``"eyeriss_like"``, ``"three_level"``,
an :class:`.arch.Architecture`), ``reuse`` (``"exact"`` default, or
``"timeloop"`` to reproduce Timeloop's reference counts).

Metrics: ``cycles`` (compute- or bandwidth-bound), ``energy_pj``, ``edp``
(pJ x cycles), ``area_mm2``, ``dram_accesses`` (words at the backing store),
``utilization`` (higher is better), ``macs``.  Infeasible mappings (spatial
factors over a fan-out axis, tiles over a capacity) cost at most one
vectorized pass (fan-out overflow is rejected before the model runs) and carry a reason naming the level and
dimension.  ``--config mapping.yaml`` reads a Timeloop mapping
(:meth:`parse_config_file`); ``evaluate_details`` gives Timeloop's rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping as TMapping

import numpy as np

from archgym.simulator import Metric, Simulator

from .evaluate import check_reuse, count_rows, evaluate_nest
from .mapping_space import MappingSpace
from .timeloop_io import read_mapping
from .workload import resolve_arch, resolve_problem

__all__ = ["DataflowMappingSimulator", "METRICS"]

METRICS = (
    Metric("cycles", "cycles", True, "latency: max(compute cycles, bandwidth-bound cycles)", 1e6),
    Metric("energy_pj", "pJ", True, "dynamic energy: MACs and every level's accesses", 1e9),
    Metric("edp", "pJ*cycles", True, "energy x cycles", 1e15),
    Metric("area_mm2", "mm^2", True, "buffers (all instances) and MACs, 45 nm", 1.0),
    Metric("dram_accesses", "words", True, "reads + fills + updates at the backing store", 1e6),
    Metric("utilization", "fraction", False, "MACs / (cycles x MAC units)", 0.5),
    Metric("macs", "MACs", True, "multiply-accumulates of the workload", 1e8),
)


class DataflowMappingSimulator(Simulator):
    """Mapping search for one layer on a fixed architecture (see the module docstring)."""

    name = "DataflowMapping"
    version = "1.0.0"
    metrics = METRICS
    default_objective = "edp"
    workload_names = ("resnet18:layer1.0.conv1", "vgg16:conv3_1")

    def __init__(self, workload: Any = "resnet18:layer1.0.conv1", arch: Any = "eyeriss_like",
                 reuse: str = "exact", layer: Any = None, input_shapes: Any = None, onnx_unsupported: str = "error",
                 **options: Any) -> None:
        if options:
            raise TypeError(f"unknown option(s) for DataflowMappingSimulator: {', '.join(sorted(options))}")
        self.reuse = check_reuse(reuse)
        self.problem = resolve_problem(workload, layer, input_shapes, onnx_unsupported)
        self.arch = resolve_arch(arch)
        self.workload = self.problem.name
        self.mspace = MappingSpace(self.problem, self.arch)
        self.space = self.mspace.space

    def evaluate_indices(self, idx: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Metrics and reasons of canonical index rows ``(N, params)`` (the vectorized kernel)."""
        metrics, reasons, _ = evaluate_nest(self.problem, self.arch, self.mspace.nest(idx), self.reuse)
        return metrics, reasons

    def _evaluate_batch(self, configs: list[dict]):
        import pandas as pd

        metrics, reasons = self.evaluate_indices(self.mspace.indices(configs))
        df = pd.DataFrame({m.name: metrics[m.name] for m in self.metrics})
        df["feasible"] = reasons == ""
        df["reason"] = reasons
        return df

    def _evaluate(self, config: dict) -> dict:
        metrics, reasons = self.evaluate_indices(self.mspace.indices([config]))
        if reasons[0]:
            return self.infeasible(str(reasons[0]))
        return {k: float(v[0]) for k, v in metrics.items()}

    def reference_config(self) -> dict:
        return self.mspace.baseline_config()

    def evaluate_details(self, config: TMapping[str, Any]):
        """One row per kept (level, data space), innermost first: ``level``, ``dataspace``,
        ``reads_per_instance``, ``fills_per_instance``, ``updates_per_instance``,
        ``utilized_instances``, ``utilized_capacity``, ``partition_size`` (words, per instance)."""
        import pandas as pd

        cfg = self.space.validate(config)
        nest = self.mspace.nest(self.mspace.indices([cfg]))
        _, _, counts = evaluate_nest(self.problem, self.arch, nest, self.reuse)
        return pd.DataFrame(count_rows(self.problem, self.arch, counts))

    def parse_config_file(self, path: str) -> dict | None:
        """A Timeloop mapping YAML (``.yaml``/``.yml``) as a design of this space; None otherwise."""
        if Path(path).suffix.lower() not in (".yaml", ".yml"):
            return None
        return self.mspace.config_of(read_mapping(path, self.problem, self.arch))

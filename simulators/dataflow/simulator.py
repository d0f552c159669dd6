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
``arch`` (Timeloop architecture YAML -- v0.4 ``nodes`` or Timeloop's own
``parsed-processed-input.yaml`` -- whose constraints narrow the space,
``"eyeriss_like"``, ``"three_level"``, an :class:`.arch.Architecture`),
``reuse`` (``"exact"`` default, or ``"timeloop"`` to reproduce Timeloop's
reference counts), ``ert`` (Accelergy ``ERT.yaml``; default the built-in
45 nm table, :mod:`.costs`), ``constraints`` (a Timeloop constraints YAML or
a list of targets, added to the architecture's), ``imperfect`` (default false:
tile factors divide the bounds; true adds Timeloop-style residual factors to the
space, ``resid_<dim>`` parameters, costed with ``reuse="exact"`` only).

Metrics: ``cycles`` (compute cycles over Timeloop's bandwidth throttling),
``energy_pj``, ``edp`` (pJ x cycles), ``area_mm2``, ``dram_accesses`` (words
at the backing store), ``utilization`` (higher is better), ``throttling``
(1 = compute-bound; below 1 the slowest level's bandwidth bounds), ``macs``.
A mapping file the space cannot express (a temporal factor at a container's
level, an order or keep the constraints fix otherwise, residual factors
``M=4,3``) is costed as a design
outside the space (``in_space: False``).  Infeasible mappings (spatial
factors over a fan-out axis, tiles over a capacity) cost at most one
vectorized pass (fan-out overflow is rejected before the model runs) and carry a reason naming the level and
dimension.  ``--config mapping.yaml`` reads a Timeloop mapping
(:meth:`parse_config_file`); ``evaluate_details`` gives Timeloop's rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Mapping as TMapping

import numpy as np

from archgym.simulator import Metric, Simulator

from .evaluate import check_imperfect, check_reuse, count_rows, evaluate_nest
from .mapping import nest_of
from .mapping_space import MappingSpace, NotInSpace
from .model import Nest
from .timeloop_io import load_yaml, parse_mapping, read_mapping
from .workload import resolve_arch_and_constraints, resolve_constraints, resolve_problem, resolve_table

__all__ = ["DataflowMappingSimulator", "METRICS"]

METRICS = (
    Metric("cycles", "cycles", True, "latency: compute cycles / bandwidth throttling", 1e6),
    Metric("energy_pj", "pJ", True, "energy: MACs, every level's accesses and leakage (energy table)", 1e9),
    Metric("edp", "pJ*cycles", True, "energy x cycles", 1e15),
    Metric("area_mm2", "mm^2", True, "buffers (all instances) and MACs, 45 nm", 1.0),
    Metric("dram_accesses", "words", True, "reads + fills + updates at the backing store", 1e6),
    Metric("utilization", "fraction", False, "MACs / (cycles x MAC units)", 0.5),
    Metric("throttling", "fraction", False, "bandwidth throttling: 1 = compute-bound, below 1 = bandwidth-bound", 1.0),
    Metric("macs", "MACs", True, "multiply-accumulates of the workload", 1e8),
)

#: the key of a design outside the space: a Timeloop mapping's entries (``archgym evaluate --config map.yaml``)
OUTSIDE_KEY = "timeloop_mapping"


class DataflowMappingSimulator(Simulator):
    """Mapping search for one layer on a fixed architecture (see the module docstring)."""

    name = "DataflowMapping"
    version = "2.0.0"
    metrics = METRICS
    default_objective = "edp"
    workload_names = ("resnet18:layer1.0.conv1", "vgg16:conv3_1")

    def __init__(self, workload: Any = "resnet18:layer1.0.conv1", arch: Any = "eyeriss_like",
                 reuse: str = "exact", ert: Any = None, constraints: Any = None, layer: Any = None,
                 input_shapes: Any = None, onnx_unsupported: str = "error", imperfect: Any = False,
                 **options: Any) -> None:
        if options:
            raise TypeError(f"unknown option(s) for DataflowMappingSimulator: {', '.join(sorted(options))}")
        self.reuse = check_reuse(reuse)
        self.imperfect = check_imperfect(imperfect, self.reuse)
        self.problem = resolve_problem(workload, layer, input_shapes, onnx_unsupported)
        self.arch, embedded = resolve_arch_and_constraints(arch)
        self.constraints = resolve_constraints(self.problem, self.arch, embedded, constraints)
        self.table = resolve_table(ert, self.arch)
        self.workload = self.problem.name
        self.mspace = MappingSpace(self.problem, self.arch, self.constraints, self.imperfect)
        self.space = self.mspace.space

    def evaluate_indices(self, idx: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Metrics and reasons of canonical index rows ``(N, params)`` (the vectorized kernel)."""
        metrics, reasons, _ = evaluate_nest(self.problem, self.arch, self.mspace.nest(idx), self.reuse, self.table)
        return metrics, reasons

    def _nest(self, config: Mapping[str, Any]) -> Nest:
        if OUTSIDE_KEY in config:
            return nest_of([parse_mapping({"mapping": config[OUTSIDE_KEY]}, self.problem, self.arch)],
                           self.problem, self.arch)
        return self.mspace.nest(self.mspace.indices([config]))

    def _evaluate_batch(self, configs: list[dict]):
        import pandas as pd

        metrics, reasons = self.evaluate_indices(self.mspace.indices(configs))
        df = pd.DataFrame({m.name: metrics[m.name] for m in self.metrics})
        df["feasible"] = reasons == ""
        df["reason"] = reasons
        return df

    def _evaluate(self, config: dict) -> dict:
        metrics, reasons, _ = evaluate_nest(self.problem, self.arch, self._nest(config), self.reuse, self.table)
        if reasons[0]:
            return self.infeasible(str(reasons[0]))
        return {k: float(v[0]) for k, v in metrics.items()}

    def _validate_outside_space(self, config: Mapping[str, Any]) -> dict | None:
        """A Timeloop mapping the space cannot express (``{"timeloop_mapping": [entries]}``, as
        :meth:`parse_config_file` returns for such files; other keys are ignored): checked against problem
        and architecture."""
        if OUTSIDE_KEY not in config:   # (the CLI fills a file's design with the reference design's values:
            return None                 # the mapping alone defines this design)
        parse_mapping({"mapping": config[OUTSIDE_KEY]}, self.problem, self.arch, OUTSIDE_KEY)
        return {OUTSIDE_KEY: config[OUTSIDE_KEY]}

    def reference_config(self) -> dict:
        return self.mspace.baseline_config()

    def evaluate_details(self, config: TMapping[str, Any]):
        """One row per kept (level, data space), innermost first: ``level``, ``dataspace``,
        ``reads_per_instance``, ``fills_per_instance``, ``updates_per_instance``,
        ``utilized_instances``, ``utilized_capacity``, ``partition_size`` (words, per instance) and
        ``energy_total_pj`` (that data space's accesses at the level, all instances)."""
        import pandas as pd

        cfg, _ = self.validate_design(config)
        _, _, counts = evaluate_nest(self.problem, self.arch, self._nest(cfg), self.reuse, self.table)
        return pd.DataFrame(count_rows(self.problem, self.arch, counts))

    def parse_config_file(self, path: str) -> dict | None:
        """A Timeloop mapping YAML (``.yaml``/``.yml``) as a design of this space, or, if the space
        cannot express it, as a design outside the space (costed with ``in_space: False``); None for
        other files."""
        if Path(path).suffix.lower() not in (".yaml", ".yml"):
            return None
        mapping = read_mapping(path, self.problem, self.arch)
        try:
            return self.mspace.config_of(mapping)
        except NotInSpace:
            return {OUTSIDE_KEY: load_yaml(path)["mapping"]}

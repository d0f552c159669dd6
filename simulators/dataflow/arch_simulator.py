"""``AcceleratorArchSimulator`` (``AcceleratorArch-v0``): search the architecture, map every layer internally.

ArchGym's Timeloop environment searches architecture parameters and costs each
design with Timeloop's mapper; here each design is an Eyeriss-like
accelerator (:func:`.arch.eyeriss_like`) and every layer of the network gets
its mapping from the internal mapper (:func:`.mapper.map_layer`: seeded,
budgeted, deterministic; identical layers are mapped once).

Design space (groups: ``compute`` and ``on_chip``):

=======================  ==============================  ===========  =========
parameter                values                          unit         group
=======================  ==============================  ===========  =========
``pe_rows``              4, 6, 8, 12, 14, 16, 24, 32     PEs          compute
``pe_cols``              4, 6, 8, 12, 14, 16, 24, 32     PEs          compute
``word_bits``            8, 16                           bits         compute
``glb_kb``               16, 32, ..., 512                KB           on_chip
``ifmap_spad_words``     8, 12, 16, 24, 32               words        on_chip
``weights_spad_words``   64, 128, 192, 224, 256, 512     words        on_chip
``psum_spad_words``      8, 16, 24, 32, 64               words        on_chip
``glb_bw``               4, 8, 16, 32, 64                words/cycle  on_chip
``dram_bw``              2, 4, 8, 16, 32                 words/cycle  on_chip
=======================  ==============================  ===========  =========

Metrics (network totals): ``cycles`` (sum over layers), ``energy_pj`` (sum),
``edp`` (energy x cycles of the whole network), ``area_mm2``.  Options:
``workload`` (network name, default ``resnet18``, or anything
:func:`archgym.simulators.workloads.as_layers` takes, an ONNX model included;
``input_shapes``, ``onnx_unsupported`` for an ``.onnx`` path), ``mapper_budget``
(mappings per distinct layer, default 1000; how far that is from a converged
mapper is measured in ``experiments/benchmarks/dataflow.py`` and stated in
``docs/dataflow.md``), ``mapper_seed`` (default 0),
``mapper_objective`` (``edp``/``energy``/``cycles``), ``reuse``.  The last
``CACHE_DESIGNS`` designs' per-layer results are memoized per instance (the
mapper is deterministic, so a repeated design costs nothing and returns the
same numbers).
"""
from __future__ import annotations

from typing import Any


from archgym.simulator import Metric, Simulator
from archgym.space import DesignSpace, Ordinal, powers_of_two

from .arch import Architecture, eyeriss_like
from .evaluate import check_reuse
from .mapper import OBJECTIVES, map_layer
from .workload import network_problems

__all__ = ["AcceleratorArchSimulator", "GROUPS"]

GROUPS = {"compute": ["pe_rows", "pe_cols", "word_bits"],
          "on_chip": ["glb_kb", "ifmap_spad_words", "weights_spad_words", "psum_spad_words", "glb_bw", "dram_bw"]}
PE_SIDES = (4, 6, 8, 12, 14, 16, 24, 32)


class AcceleratorArchSimulator(Simulator):
    """Architecture search over a whole network with a per-layer internal mapper (module docstring)."""

    name = "AcceleratorArch"
    version = "2.0.0"
    default_objective = "edp"
    workload_names = ("resnet18", "vgg16", "alexnet", "mobilenetv2", "resnet20_cifar")
    metrics = (
        Metric("energy_pj", "pJ", True, "dynamic energy over the network (best mapping per layer)", 1e10),
        Metric("cycles", "cycles", True, "network latency (sum of layer cycles)", 1e7),
        Metric("area_mm2", "mm^2", True, "buffers and MACs, 45 nm", 2.0),
        Metric("edp", "pJ*cycles", True, "network energy x network cycles", 1e17),
    )

    #: designs whose per-layer results are kept (per instance)
    CACHE_DESIGNS = 256

    def __init__(self, workload: Any = "resnet18", mapper_budget: int = 1000, mapper_seed: int = 0,
                 mapper_objective: str = "edp", reuse: str = "exact", input_shapes: Any = None,
                 onnx_unsupported: str = "error", **options: Any) -> None:
        if options:
            raise TypeError(f"unknown option(s) for AcceleratorArchSimulator: {', '.join(sorted(options))}")
        if isinstance(mapper_budget, bool) or not isinstance(mapper_budget, int) or mapper_budget < 1:
            raise ValueError(f"mapper_budget must be a positive integer, got {mapper_budget!r}")
        if mapper_objective not in OBJECTIVES:
            raise ValueError(f"mapper_objective must be one of {', '.join(OBJECTIVES)}, got {mapper_objective!r}")
        self.reuse = check_reuse(reuse)
        self.workload, self.problems = network_problems(workload, input_shapes, onnx_unsupported)
        self.mapper_budget, self.mapper_seed, self.mapper_objective = mapper_budget, int(mapper_seed), mapper_objective
        self.space = DesignSpace([
            Ordinal("pe_rows", PE_SIDES, "PE array rows (meshY)", "PEs"),
            Ordinal("pe_cols", PE_SIDES, "PE array columns (meshX)", "PEs"),
            Ordinal("word_bits", (8, 16), "operand and buffer word width", "bits"),
            powers_of_two("glb_kb", 16, 512, "global buffer capacity", "KB"),
            Ordinal("ifmap_spad_words", (8, 12, 16, 24, 32), "per-PE ifmap scratchpad", "words"),
            Ordinal("weights_spad_words", (64, 128, 192, 224, 256, 512), "per-PE weight scratchpad", "words"),
            Ordinal("psum_spad_words", (8, 16, 24, 32, 64), "per-PE partial-sum scratchpad", "words"),
            Ordinal("glb_bw", (4, 8, 16, 32, 64), "global buffer read/write bandwidth", "words/cycle"),
            Ordinal("dram_bw", (2, 4, 8, 16, 32), "DRAM read/write bandwidth", "words/cycle"),
        ], groups=GROUPS)
        self._memo: dict[tuple, list[dict[str, float]]] = {}

    def architecture(self, config: dict) -> Architecture:
        """The Eyeriss-like architecture of a (validated) design."""
        bits = int(config["word_bits"])
        return eyeriss_like(word_bits=bits, pe_rows=int(config["pe_rows"]), pe_cols=int(config["pe_cols"]),
                            glb_words=int(config["glb_kb"]) * 1024 * 8 // bits,
                            ifmap_spad=int(config["ifmap_spad_words"]),
                            weights_spad=int(config["weights_spad_words"]),
                            psum_spad=int(config["psum_spad_words"]),
                            dram_bw=float(config["dram_bw"]), glb_bw=float(config["glb_bw"]))

    def _layers(self, config: dict) -> list[dict[str, float]]:
        key = tuple(config[n] for n in self.space.names)
        if key not in self._memo:
            if len(self._memo) >= self.CACHE_DESIGNS:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = self._map_network(config)
        return [dict(r) for r in self._memo[key]]

    def _map_network(self, config: dict) -> list[dict[str, float]]:
        arch = self.architecture(config)
        cache: dict[Any, dict[str, float]] = {}
        out = []
        for i, prob in enumerate(self.problems):
            key = (prob.dims, tuple(sorted(prob.bounds.items())), prob.dataspaces)
            if key not in cache:
                res = map_layer(prob, arch, self.mapper_budget, self.mapper_seed + len(cache), self.reuse,
                                self.mapper_objective)
                cache[key] = dict(res.metrics, layer=prob.name)
            out.append(dict(cache[key], layer=prob.name))
        return out

    def _evaluate(self, config: dict) -> dict:
        layers = self._layers(config)
        energy = float(sum(r["energy_pj"] for r in layers))
        cycles = float(sum(r["cycles"] for r in layers))
        return {"energy_pj": energy, "cycles": cycles, "area_mm2": float(layers[0]["area_mm2"]),
                "edp": energy * cycles}

    def reference_config(self) -> dict:
        """Eyeriss's own shape: 12 x 14 PEs, 16-bit, 128 KB-class buffer, 12/224/24-word scratchpads."""
        return self.space.validate({"pe_rows": 12, "pe_cols": 14, "word_bits": 16, "glb_kb": 128,
                                    "ifmap_spad_words": 12, "weights_spad_words": 224, "psum_spad_words": 24,
                                    "glb_bw": 16, "dram_bw": 8})

    def evaluate_details(self, config):
        """Per-layer DataFrame: ``layer`` and the best mapping's metrics (``cycles``, ``energy_pj``,
        ``edp``, ``utilization``, ``dram_accesses``, ...)."""
        import pandas as pd

        rows = self._layers(self.space.validate(config))
        return pd.DataFrame(rows)[["layer"] + [k for k in rows[0] if k != "layer"]]

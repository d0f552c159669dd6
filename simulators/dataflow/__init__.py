"""Dataflow-mapping simulator (Timeloop class): an analytical loop-nest model in numpy.

Layout: :mod:`.problem` (dimensions, data spaces as affine projections),
:mod:`.arch` (storage levels, fan-outs, compute), :mod:`.mapping` (factors,
orders, keep/bypass; validity), :mod:`.timeloop_io` (Timeloop v0.4 YAML
readers), :mod:`.model` (the vectorized counts and the two reuse modes),
:mod:`.costs` (cycles, energy, area and their table), :mod:`.evaluate`
(one entry point), :mod:`.mapping_space` (the mapping design space),
:mod:`.simulator` (``DataflowMapping-v0``), :mod:`.mapper` and
:mod:`.arch_simulator` (``AcceleratorArch-v0``).

Fidelity: with ``reuse="timeloop"`` every count of the 11 Timeloop reference
cases in ``shared/data/dataflow`` is reproduced exactly
(``tests/test_dataflow_reference.py``); both modes equal a literal loop-nest
interpreter on random small problems (``tests/test_dataflow_interpreter.py``).
"""
from .arch_simulator import AcceleratorArchSimulator
from .arch import Architecture, Compute, Fanout, StorageLevel, eyeriss_like, simple_three_level
from .errors import (ArchitectureError, DataflowInputError, MappingError, ProblemError, UnsupportedFeatureError)
from .evaluate import evaluate_mapping
from .mapping import LevelMapping, Mapping
from .model import REUSE_MODES, Nest, analyze
from .problem import DataSpace, Problem, conv_problem, einsum_problem, gemm_problem, problem_from_layer
from .simulator import DataflowMappingSimulator
from .timeloop_io import read_architecture, read_mapping, read_problem

__all__ = ["AcceleratorArchSimulator", "Architecture", "Compute", "Fanout", "StorageLevel", "eyeriss_like", "simple_three_level",
           "ArchitectureError", "DataflowInputError", "MappingError", "ProblemError", "UnsupportedFeatureError",
           "evaluate_mapping", "LevelMapping", "Mapping", "REUSE_MODES", "Nest", "analyze", "DataSpace", "Problem",
           "conv_problem", "einsum_problem", "gemm_problem", "problem_from_layer", "DataflowMappingSimulator", "read_architecture",
           "read_mapping", "read_problem"]

"""Dataflow-mapping simulator (Timeloop class): an analytical loop-nest model in numpy.

Layout: :mod:`.problem` (dimensions, data spaces as affine projections),
:mod:`.arch` (storage levels, fan-outs, container levels for nested fan-outs,
compute), :mod:`.mapping` (factors, orders, keep/bypass; validity),
:mod:`.timeloop_io` (readers for Timeloop v0.4 files and Timeloop's own
dump; the mapping writer), :mod:`.constraints` (Timeloop mapspace
constraints), :mod:`.ert` (energy tables: Accelergy's ``ERT.yaml`` or the
built-in 45 nm one), :mod:`.model` (the vectorized counts and the two reuse
modes), :mod:`.costs` (cycles with bandwidth throttling, energy, area),
:mod:`.evaluate` (one entry point), :mod:`.mapping_space` (the mapping design
space), :mod:`.simulator` (``DataflowMapping-v0``), :mod:`.mapper` and
:mod:`.arch_simulator` (``AcceleratorArch-v0``); ``archgym map`` is
:mod:`archgym.cli.map`.

Fidelity: with ``reuse="timeloop"`` every count of every Timeloop reference
case is reproduced exactly -- the 19 non-sparse tutorial exercises and example
designs (Eyeriss and Simba with nested fan-outs included;
``tests/test_dataflow_exercises.py``) and the 11 of ``shared/data/dataflow``
-- and energy with the case's ``ERT.yaml`` is within 0.2 % per level; both
modes equal a literal loop-nest interpreter on random small problems
(``tests/test_dataflow_interpreter.py``).  docs/dataflow.md has the details.
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

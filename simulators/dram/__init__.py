"""DRAM memory controller + device simulator (DRAMSys 4.0 class), ``archgym.simulators.dram``.

* :class:`DRAMSimulator` -- the :class:`archgym.simulator.Simulator` (design
  space = DRAMSys ``mcconfig`` knobs, metrics = time, latency, bandwidth,
  row hits, energy, power).
* :func:`simulate` -- one trace + one ``mcconfig`` dict, directly.
* :func:`load_standard` -- memory standards (``standards/*.json``: DDR3-1600,
  DDR4-2400, LPDDR4-3200, HBM2).
* :mod:`.trace` -- STL/RSTL/CSV parsers and synthetic generators.

Validated against DRAMSys 4.0 (the binary ArchGym runs) on DDR3-1600 and
DDR4-2400; see ``tests/test_dram_reference.py`` and
``experiments/benchmarks/dram.py``.
"""
from .controller import ControllerDeadlock, RunResult, jit_available, run
from .knobs import DEFAULT_MCCONFIG, KNOBS, dram_space, encode_mcconfig
from .simulator import DRAMSimulator, resolve_workload, simulate
from .standards import MemSpec, load_standard, standard_names
from .trace import GENERATORS, SHIPPED_WORKLOADS, Trace, generate, load_trace, parse_csv, parse_stl

__all__ = [
    "DRAMSimulator", "simulate", "run", "RunResult", "ControllerDeadlock", "jit_available", "resolve_workload",
    "KNOBS", "DEFAULT_MCCONFIG", "dram_space", "encode_mcconfig",
    "MemSpec", "load_standard", "standard_names",
    "Trace", "generate", "load_trace", "parse_stl", "parse_csv", "GENERATORS", "SHIPPED_WORKLOADS",
]

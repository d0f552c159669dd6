"""DRAM memory controller + device simulator (DRAMSys 4.0 class), ``archgym.simulators.dram``.

* :class:`DRAMSimulator` -- the :class:`archgym.simulator.Simulator` (design
  space = DRAMSys ``mcconfig`` knobs, metrics = time, latency, bandwidth,
  row hits, energy, power).
* :func:`simulate` -- one trace + one ``mcconfig`` dict, directly.
* :func:`run` -- a :class:`MemSpec` + a :class:`Trace` (e.g. a generated
  request stream) + an ``mcconfig`` dict -> :class:`RunResult`;
  :func:`decode_trace` prepares a trace once for many runs.
* :func:`load_standard` -- memory standards (``standards/*.json``: DDR3-1600,
  DDR4-2400, LPDDR4-3200 and HBM2 as DRAMSys models them, and the earlier
  unvalidated LPDDR4-3200-x32 and HBM2-legacy).
* :mod:`.trace` -- STL/RSTL/CSV parsers and synthetic generators.

Validated against DRAMSys 4.0 (the binary ArchGym runs): time and power on
DDR3-1600 and DDR4-2400 (``tests/test_dram_reference.py``), time on
LPDDR4-3200 and HBM2 (``tests/test_dram_lpddr4_hbm2.py``; DRAMSys has no
power model for those two, so their power is not validated).
"""
from .controller import ControllerDeadlock, DecodedTrace, RunResult, decode_trace, jit_available, run
from .knobs import DEFAULT_MCCONFIG, KNOBS, dram_space, encode_mcconfig
from .simulator import DRAMSimulator, resolve_workload, simulate
from .standards import MemSpec, load_standard, standard_names
from .trace import GENERATORS, SHIPPED_WORKLOADS, Trace, generate, load_trace, parse_csv, parse_stl

__all__ = [
    "DRAMSimulator", "simulate", "run", "RunResult", "DecodedTrace", "decode_trace", "ControllerDeadlock", "jit_available", "resolve_workload",
    "KNOBS", "DEFAULT_MCCONFIG", "dram_space", "encode_mcconfig",
    "MemSpec", "load_standard", "standard_names",
    "Trace", "generate", "load_trace", "parse_stl", "parse_csv", "GENERATORS", "SHIPPED_WORKLOADS",
]

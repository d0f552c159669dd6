"""Systolic-array accelerator simulator (SCALE-Sim class), analytical and vectorized.

``SystolicSimulator`` (registered as ``Systolic-v0``) reproduces SCALE-Sim
3.0.0's compute figures exactly and adds a bandwidth-stall, energy and area
model.  Layout: :mod:`.compute` (folds, cycles, utilization, SRAM counts),
:mod:`.memory` (DRAM traffic and stalls), :mod:`.energy` (per-access
energies and areas), :mod:`.model` (the numpy kernel
:func:`evaluate_arrays`), :mod:`.simulator` (the archgym class, ``.cfg``
parsing).

Agreement with SCALE-Sim 3.0.0 (``shared/data/systolic/scalesim_reference.json``)
----------------------------------------------------------------------------------
*Exact* on all 109 ``compute_bound`` cases for ``compute_cycles``,
``overall_util_pct``, ``mapping_efficiency_pct``, ``compute_util_pct``,
``sram_ifmap_reads``, ``sram_filter_reads``, ``sram_ofmap_writes``,
``dram_ifmap_reads``, ``dram_filter_reads``; ``dram_ofmap_writes`` exact in
108/109 and within ``C-1`` words in the other (SCALE-Sim's drain artifact,
declined).  Stalled cases (small SRAMs) are *not* reproduced exactly: our
memory model is an analytical double-buffering model; the errors against
SCALE-Sim's small-SRAM groups, and why we keep them, are stated in
:mod:`.memory` ("Agreement") and checked by ``tests/test_systolic_reference.py``.

Units and conventions: cycles are clock cycles; counts are words of
``word_bytes`` bytes; ``energy_pj`` in pJ; ``area_mm2`` in mm^2 at 45 nm;
``latency_ns`` = ``cycles * 1000 / clock_mhz``.  Objectives use the
*physical* figures (``cycles`` without SCALE-Sim's -1, ``dram_bytes`` and
``sram_bytes`` with on-chip partial-sum accumulation where it fits); the
per-layer report columns follow SCALE-Sim's conventions below.

SCALE-Sim report quirks (numbers from ``notes/systolic.md``)
-------------------------------------------------------------
Reproduced in :meth:`SystolicSimulator.evaluate_details`'s report columns so
users' numbers match SCALE-Sim:

* "Total Cycles" is the zero-based index of the last ofmap write:
  ``F*L - 1 + stalls`` (``compute_cycles``).  The physical metric ``cycles``
  is ``F*L + stalls`` (no -1).
* Overall Util % divides by that -1-shifted count.
* (quirk 3) os ``sram_ofmap_writes`` adds ``F*(R+C)``.  Physical SRAM
  traffic (``sram_bytes``, energy) uses ``M*N``.
* (quirk 4) ws/is ``compute_util_pct`` uses a fold length ``C-1`` cycles too
  long.  The physical ``utilization`` metric is MACs/(cycles*R*C).
* ws/is ``dram_ofmap_writes`` = ``Fr*M*N`` (SCALE-Sim writes every partial
  sum and reads none back).  Physical ``dram_bytes`` instead accumulates
  partial sums on chip when the output tile fits in the ofmap SRAM, and
  otherwise counts the spill *and* its read-back.
* Depthwise layers (name contains ``DP``) are split by SCALE-Sim into ``Ci``
  layers; we model them as ``repeat = Ci`` copies and aggregate
  (``compute_cycles`` of the aggregate = ``Ci*F*L - 1``).

Declined:

* (5) CALC-mode ``Total Cycles (incl. prefetch)`` and the DRAM average
  bandwidths derived from its prefetch window: artifacts of the 1%-of-SRAM
  set granularity.  Our ``avg_*_dram_bw`` = DRAM words / ``compute_cycles``.
* (6) USER-mode bandwidth from the ``[layout]`` keys: we take one DRAM
  bandwidth ``dram_bw_words_per_cycle`` (shared by all three streams, or per
  operand with ``dram_sharing="per_operand"``).
* (7) USER-mode double counting of positive stalls and (8) the re-requested
  prefetch rows (DRAM read counts many times the operand size): not
  physical, not reproduced; our stalls are the time the DRAM interface needs
  beyond each fold's compute time, and our DRAM reads are real refetches.
* USER-mode DRAM reads rounded up to whole prefetch lines: not reproduced.
* The ``+C-1`` drain artifact in ws/is DRAM ofmap writes.
* (1, 2, 9, 10, 11) are tool defects (crashes, mandatory files, trace
  writing, quadratic run time) with no bearing on the numbers.
"""
from .compute import DATAFLOWS
from .model import REPORT_COLUMNS, evaluate_arrays, layer_arrays
from .simulator import ConfigFileError, SystolicSimulator

__all__ = ["SystolicSimulator", "evaluate_arrays", "layer_arrays", "REPORT_COLUMNS", "DATAFLOWS",
           "ConfigFileError"]

"""Latency and energy of a checked plan.

Model (documented constants, all overridable through :class:`HardwareModel`):

* Each step moves its DRAM traffic (write-backs, loads, graph-output store)
  at ``dram_bw_gbps`` GB/s (= bytes/ns) and runs its operator's MACs at
  ``macs_per_cycle`` per cycle at ``clock_ghz``.  Transfers overlap the
  step's compute (double buffering), so a step takes
  ``max(compute_ns, dram_ns)``; latency is the sum over steps.
* Energy = DRAM bytes x ``dram_pj_per_byte`` + scratchpad bytes x
  SRAM energy + MACs x MAC energy.  Scratchpad bytes: every operator reads
  its inputs and writes its outputs once, every load writes and every
  write-back/store reads its bytes once more.
* Constants (45 nm, Horowitz, ISSCC 2014): DRAM 1.3-2.6 nJ per 64-bit access
  -> 160 pJ/byte (low end); SRAM 10 pJ per 64-bit access at 8 KB, growing
  roughly with sqrt(size) (100 pJ at 1 MB) -> ``1.25 * sqrt(KB / 8)`` pJ/byte;
  MAC (multiply + add) 0.23 pJ int8, 1.5 pJ fp16, 4.6 pJ fp32.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .checker import CheckResult
from .graph import Graph
from .plan import Plan

__all__ = ["HardwareModel", "MAC_PJ", "plan_metrics"]

#: energy of one multiply-accumulate by bytes per element (pJ)
MAC_PJ = {1: 0.23, 2: 1.5, 4: 4.6}


@dataclass(frozen=True)
class HardwareModel:
    dram_bw_gbps: float = 16.0
    macs_per_cycle: int = 1024
    clock_ghz: float = 1.0
    dram_pj_per_byte: float = 160.0
    sram_pj_per_byte_8kb: float = 1.25

    def sram_pj_per_byte(self, capacity: int) -> float:
        return self.sram_pj_per_byte_8kb * math.sqrt(max(capacity, 8192) / 8192)


def plan_metrics(graph: Graph, plan: Plan, check: CheckResult, capacity: int, hw: HardwareModel,
                 precision_bytes: int = 1) -> dict[str, float]:
    """``offchip_bytes``, ``noncompulsory_bytes``, ``compulsory_bytes``, ``latency_ns``, ``energy_pj``."""
    latency = 0.0
    macs_total = 0
    sram = 0
    for t, op in enumerate(plan.order):
        macs = graph.ops[op].macs
        macs_total += macs
        compute = macs / (hw.macs_per_cycle * hw.clock_ghz)
        latency += max(compute, check.step_traffic[t] / hw.dram_bw_gbps)
        sram += graph.working_set(op)
    sram += check.offchip_bytes
    energy = (check.offchip_bytes * hw.dram_pj_per_byte + sram * hw.sram_pj_per_byte(capacity)
              + macs_total * MAC_PJ.get(precision_bytes, 0.23 * precision_bytes ** 2))
    return {
        "offchip_bytes": float(check.offchip_bytes),
        "noncompulsory_bytes": float(check.noncompulsory_bytes),
        "compulsory_bytes": float(check.compulsory_bytes),
        "latency_ns": latency,
        "energy_pj": energy,
    }

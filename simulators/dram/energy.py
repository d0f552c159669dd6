"""DRAMPower-style energy from command counts and background cycles.

Per device, in mA x cycles, times VDD x tCK (pJ), times devices per rank
(DRAMPower 4 equations as DRAMSys 4.0 uses them):

* activate  nACT x (IDD0 - IDD3N) x tRAS;  precharge nPRE x (IDD0 - IDD2N) x (tRC - tRAS)
* read/write  nRD x (IDD4R - IDD3N) x BL/2,  nWR x (IDD4W - IDD3N) x BL/2
* refresh  nREF x (IDD5 - IDD3N) x tRFC
* background  IDD3N x active cycles + IDD2N x precharged cycles
  (+ IDD3P / IDD2P1 for active / precharge power-down cycles)
* VPP rail (DDR4): IPP0 x tRAS per ACT and IPP0 x (tRC - tRAS) per PRE at VPP.
* further supply rails (LPDDR4's VDD2, ``MemSpec.extra_rails``): the same
  equations with that rail's voltage and currents, summed (DRAMPower's
  LPDDR4 model counts VDD1 and VDD2; VDDQ is not counted).
* ``MemSpec.burst_current_scale`` scales the read/write burst term (HBM2: a
  64-bit pseudo-channel burst against currents given for 128 bits).

Only DDR3 and DDR4 energies are validated (against DRAMSys/DRAMPower); DRAMSys
4.0 has no power model for LPDDR4 or HBM2, so theirs are not.

Average power = total energy / energy window, where the window ends at the
last command's completion as DRAMPower counts it (not at the last response).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core as C
from .standards import MemSpec

__all__ = ["EnergyBreakdown", "energy_from_stats", "auto_precharge_offsets"]


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energies in pJ (whole rank) and the window they span in ns."""

    act_pj: float
    pre_pj: float
    read_pj: float
    write_pj: float
    refresh_pj: float
    background_pj: float
    powerdown_pj: float
    window_ns: float

    @property
    def total_pj(self) -> float:
        return (self.act_pj + self.pre_pj + self.read_pj + self.write_pj + self.refresh_pj
                + self.background_pj + self.powerdown_pj)

    @property
    def avg_power_mw(self) -> float:
        """Average power in mW (pJ / ns); 0 for an empty window."""
        return self.total_pj / self.window_ns if self.window_ns > 0 else 0.0


def auto_precharge_offsets(spec: MemSpec) -> np.ndarray:
    """DRAMPower's RDA/WRA precharge offsets in cycles: [read, write].

    DDR3 reads use AL + max(tRTP, 4); other standards AL + tRTP; writes
    BL/2 + WL + tWR.
    """
    t = spec.timing
    rd = max(t["RTP"], 4) if spec.rda_offset_rule == "max4" else t["RTP"]
    return np.array([rd, spec.burst_cycles + t["WL"] + t["WR"]], dtype=np.int64)


def energy_from_stats(spec: MemSpec, st: np.ndarray) -> EnergyBreakdown:
    """Energy breakdown from the core's stats vector (summed over the supply rails)."""
    t = spec.timing
    nact, npre = float(st[C.S_NACT]), float(st[C.S_NPRE])
    nrd, nwr, nref = float(st[C.S_NRD]), float(st[C.S_NWR]), float(st[C.S_NREF])
    apd, ppd = float(st[C.S_APDC]), float(st[C.S_PPDC])
    actc = max(float(st[C.S_ACTC]) - apd, 0.0)
    prec = max(float(st[C.S_PREC]) - ppd, 0.0)
    bl = spec.burst_cycles * spec.burst_current_scale
    act = pre = rd = wr = ref = bg = pdn = 0.0
    for p in (spec.power, *spec.extra_rails):
        unit = p["VDD"] * spec.tck_ns * spec.devices_per_rank          # mA*cycle -> pJ
        act += nact * (p["IDD0"] - p["IDD3N"]) * t["RAS"] * unit
        pre += npre * (p["IDD0"] - p["IDD2N"]) * (t["RC"] - t["RAS"]) * unit
        rd += nrd * (p["IDD4R"] - p["IDD3N"]) * bl * unit
        wr += nwr * (p["IDD4W"] - p["IDD3N"]) * bl * unit
        ref += nref * (p["IDD5"] - p["IDD3N"]) * t["RFC"] * unit
        bg += (p["IDD3N"] * actc + p["IDD2N"] * prec) * unit
        pdn += (p["IDD3P"] * apd + p["IDD2P1"] * ppd) * unit
    p = spec.power
    vpp = p["VPP"] * spec.tck_ns * spec.devices_per_rank
    act += nact * p["IPP0"] * t["RAS"] * vpp
    pre += npre * p["IPP0"] * (t["RC"] - t["RAS"]) * vpp
    window = float(st[C.S_WEND]) * spec.tck_ns
    return EnergyBreakdown(act, pre, rd, wr, ref, bg, pdn, window)


def refresh_energy_pj(spec: MemSpec) -> float:
    """Energy of one all-bank refresh command on ``spec`` (pJ), as DRAMPower counts it."""
    st = np.zeros(C.S_LEN, np.int64)
    st[C.S_NREF] = 1
    return energy_from_stats(spec, st).refresh_pj

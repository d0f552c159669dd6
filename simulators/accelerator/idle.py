"""DRAM energy of a layer's idle tail: after the last command until the layer ends.

A layer's request stream may end long before the layer does (an activation
buffer or a large SRAM leaves only a few early reads).  The controller run
covers its energy window (to the last command's completion, as DRAMPower
counts it); the rest of the layer the channel idles, and DRAMPower charges
that time at the idle background currents, not at the busy period's
average:

* rows left open: with ``PagePolicy`` Open or OpenAdaptive the last rows stay
  open (active standby, IDD3N) until the first refresh of the tail, whose
  PREA closes them; with Closed or ClosedAdaptive every access
  auto-precharges, so the tail is precharged standby (IDD2N) throughout;
* refresh (``RefreshPolicy`` AllBank): one refresh per tREFI per rank over
  the whole layer, ``ranks * floor(layer / tREFI)`` in all; those the run
  did not issue fall in the tail (none if the run already issued as many,
  e.g. by pulling refreshes in), each costing DRAMPower's refresh energy and
  tRFC - tRP active cycles.  They are owed even when there is no tail (a
  memory-bound layer whose run postponed its last refreshes): otherwise a
  layer's energy could fall when requests are added to it.  An idle
  controller also pulls refreshes in (up to ``RefreshMaxPulledin`` per rank
  ahead, as DRAM-v0 >= 1.2 and DRAMSys do, in the run's idle gaps or the
  tail); those are later refreshes done early, and each layer's run starts
  afresh, so a layer pays for exactly the refreshes due in its time: the
  run's surplus is taken off (its refresh energy, its tRFC - tRP cycles
  back to precharged standby), and the tail's pulled-in ones are not
  charged (``pull_in=0``; the tests set it to compare with a continuous
  core run);
* power-down (``PowerDownPolicy`` Staggered): the controller powers down as
  soon as it is idle, so the tail's open-row time is active power-down
  (IDD3P) and its precharged time precharge power-down (IDD2P1).

The energies come from DRAM-v0's DRAMPower equations
(:func:`archgym.simulators.dram.energy.energy_from_stats`) on the tail's
cycle counts.  Not modelled: the PREA's own precharge energy, and a
refresh's exit from power-down (tXP), both a few cycles per refresh.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..dram import _core as C
from ..dram.energy import energy_from_stats
from ..dram.standards import MemSpec

__all__ = ["IdleTail", "idle_tail"]


@dataclass(frozen=True)
class IdleTail:
    """Idle-tail energy model of one channel under one controller configuration."""

    spec: MemSpec
    open_rows: bool
    refresh: bool
    power_down: bool
    pull_in: int = 0          # refreshes per rank pulled in ahead once a tail trigger finds the rank idle

    def cycles(self, busy_ns: float, layer_ns: float, n_refresh_run: float) -> dict[str, float]:
        """Tail cycle counts: ``open``, ``precharged`` (standby or power-down), ``refreshes``; and
        ``surplus``, the refreshes the run issued beyond those due by ``layer_ns`` (pulled in)."""
        tck = self.spec.tck_ns
        t = self.spec.timing
        tail = max(layer_ns - busy_ns, 0.0) / tck
        n_ref = surplus = 0.0
        intervals = math.floor(layer_ns / tck / t["REFI"] + 1e-9)    # tREFI intervals the layer spans
        # a refresh falls due on the tREFI grid in the tail
        trigger = self.refresh and tail > 0 and intervals > math.floor(busy_ns / tck / t["REFI"] + 1e-9)
        if self.refresh:                      # owed even with no tail: the run may have postponed them
            ranks = self.spec.simulated_ranks
            due = ranks * intervals
            if trigger:
                due += ranks * self.pull_in   # the idle rank pulls refreshes in there
            n_ref = max(0.0, due - float(n_refresh_run))
            surplus = max(0.0, float(n_refresh_run) - due)
        idle = max(tail - n_ref * (t["RFC"] - t["RP"]), 0.0)
        if not self.open_rows:
            open_ = 0.0
        elif trigger:                         # open until the tail's first refresh precharges all banks
            open_ = min(idle, t["REFI"] - (busy_ns / tck) % t["REFI"])
        else:
            open_ = idle
        return {"open": open_, "precharged": idle - open_, "refreshes": n_ref, "surplus": surplus}

    def energy_pj(self, busy_ns: float, layer_ns: float, n_refresh_run: float) -> float:
        """DRAM energy (pJ) from ``busy_ns`` (end of the run's energy window) to ``layer_ns``,
        given the refreshes the run issued."""
        c = self.cycles(busy_ns, layer_ns, n_refresh_run)
        if not any(c.values()):
            return 0.0
        e = self._energy(c["open"], c["precharged"], c["refreshes"])
        if c["surplus"]:                      # the pulled-in refreshes' cycles become precharged standby
            held = c["surplus"] * (self.spec.timing["RFC"] - self.spec.timing["RP"])
            e -= self._energy(0.0, 0.0, c["surplus"]) - self._energy(0.0, held, 0.0)
        return e

    def _energy(self, open_: float, precharged: float, refreshes: float) -> float:
        """DRAMPower energy (pJ) of ``open_`` and ``precharged`` idle cycles and ``refreshes``."""
        t = self.spec.timing
        st = np.zeros(C.S_LEN, np.float64)
        st[C.S_NREF] = refreshes
        st[C.S_ACTC] = open_ + refreshes * (t["RFC"] - t["RP"])
        st[C.S_PREC] = precharged
        if self.power_down:
            st[C.S_APDC] = open_
            st[C.S_PPDC] = precharged
        return energy_from_stats(self.spec, st).total_pj


def idle_tail(spec: MemSpec, mcconfig: Mapping[str, Any]) -> IdleTail:
    """The idle-tail model for ``spec`` under controller knobs ``mcconfig`` (DRAMSys names;
    missing keys take DRAM-v0's defaults: Open pages, AllBank refresh, no power-down)."""
    return IdleTail(spec, mcconfig.get("PagePolicy", "Open") in ("Open", "OpenAdaptive"),
                    mcconfig.get("RefreshPolicy", "AllBank") == "AllBank",
                    mcconfig.get("PowerDownPolicy", "NoPowerDown") == "Staggered")

"""Cycles, energy and area from the per-instance counts of :func:`.model.analyze`.

Cycles
------
``compute = MACs per MAC instance`` (the temporal iterations); a level with
bandwidths needs ``reads / read_bw`` and ``(fills + updates) / write_bw``
cycles per instance; ``cycles = max`` of these (compute- or bandwidth-bound).
``utilization = MACs / (cycles * MAC instances of the architecture)``.

Energy and area table (45 nm, per word of ``word_bits``; the same sources as
the systolic simulator, :mod:`archgym.simulators.systolic.energy`, which this
module reuses):

=====================  =====================================  ==============================
component              energy per access / area               source
=====================  =====================================  ==============================
MAC                    ``0.2*w^2 + 0.03*w`` pJ (w = bytes)    Horowitz, ISSCC 2014
register file /        ``0.23`` pJ per byte;                  Eyeriss (Chen et al., ISCA
``storage`` class,     ``4.5`` um^2 per bit (flip-flops)      2016): RF access ~1x a MAC
or < 512 bytes
SRAM (other classes)   ``1.25*sqrt(KB/8)`` pJ per byte;       Horowitz ISSCC 2014 (8 KB 10 pJ,
                       ``0.7`` um^2 per bit                    32 KB 20 pJ, 1 MB 100 pJ per 64 b)
DRAM                   ``162.5`` pJ per byte; no area         Horowitz ISSCC 2014
MAC area               ``282*w^2 + 36*w`` um^2                Horowitz ISSCC 2014
=====================  =====================================  ==============================

Relative costs (int8): MAC 1, register 1, 64 KB SRAM ~15, DRAM ~700 (Eyeriss
quotes 1 / 1 / 6 / 200 for 16-bit): Accelergy-style relative costs.  Every
access (read, fill, update) of every utilized instance costs one access;
dynamic energy only (no leakage).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..systolic import energy as horowitz
from .arch import Architecture, StorageLevel

__all__ = ["level_energy_per_word_pj", "level_area_mm2", "mac_area_mm2", "costs"]

REGISTER_CLASSES = ("regfile", "storage", "reg", "register")
REGISTER_MAX_BYTES = 512


def _is_register(lv: StorageLevel) -> bool:
    cls = lv.cls.lower()
    small = lv.capacity_words is not None and lv.capacity_words * lv.word_bits / 8 < REGISTER_MAX_BYTES
    return cls in REGISTER_CLASSES or (small and not lv.is_dram)


def level_energy_per_word_pj(lv: StorageLevel) -> float:
    """Energy of one word access at level ``lv`` (pJ)."""
    nbytes = lv.word_bits / 8
    if lv.is_dram or lv.capacity_words is None:
        return horowitz.DRAM_PJ_PER_BYTE * nbytes
    if _is_register(lv):
        return horowitz.REG_PJ_PER_BYTE * nbytes
    kb = lv.capacity_words * nbytes / 1024
    return float(horowitz.sram_energy_per_byte_pj(kb)) * nbytes


def level_area_mm2(lv: StorageLevel) -> float:
    """Area of one instance of level ``lv`` (mm^2; DRAM is off chip: 0)."""
    if lv.is_dram or lv.capacity_words is None:
        return 0.0
    bits = lv.capacity_words * lv.word_bits
    per_bit = horowitz.FLIPFLOP_UM2_PER_BIT if _is_register(lv) else horowitz.SRAM_UM2_PER_BIT
    return bits * per_bit * 1e-6


def mac_area_mm2(word_bits: int) -> float:
    """Area of one MAC unit (multiplier + adder) in mm^2."""
    w = word_bits / 8
    return (horowitz.MULT8_UM2 * w * w + horowitz.ADD8_UM2 * w) * 1e-6


def costs(arch: Architecture, counts: dict[str, Any], macs: int) -> dict[str, np.ndarray]:
    """Metric arrays ``(N,)``: cycles, compute_cycles, energy_pj, area_mm2, edp, dram_accesses,
    utilization, macs (see the module docstring)."""
    reads, fills, updates = counts["reads"], counts["fills"], counts["updates"]
    inst = counts["instances"].astype(np.float64)
    compute = counts["macs_per_instance"].astype(np.float64)
    cycles = compute.copy()
    energy = np.full(compute.shape, float(macs) * horowitz.mac_energy_pj(arch.compute.word_bits / 8))
    for lv, level in enumerate(arch.levels):
        r = reads[:, lv].sum(axis=1).astype(np.float64)
        w = (fills[:, lv] + updates[:, lv]).sum(axis=1).astype(np.float64)
        if level.read_bw is not None:
            cycles = np.maximum(cycles, r / level.read_bw)
        if level.write_bw is not None:
            cycles = np.maximum(cycles, w / level.write_bw)
        energy = energy + (r + w) * inst[:, lv] * level_energy_per_word_pj(level)
    area = sum(level_area_mm2(lv) * arch.instances(i) for i, lv in enumerate(arch.levels)) \
        + mac_area_mm2(arch.compute.word_bits) * arch.mac_instances
    dram = (reads[:, 0] + fills[:, 0] + updates[:, 0]).sum(axis=1).astype(np.float64)
    return {
        "cycles": cycles,
        "compute_cycles": compute,
        "energy_pj": energy,
        "area_mm2": np.full(compute.shape, float(area)),
        "edp": energy * cycles,
        "dram_accesses": dram,
        "utilization": float(macs) / (np.maximum(cycles, 1.0) * arch.mac_instances),
        "macs": np.full(compute.shape, float(macs)),
    }

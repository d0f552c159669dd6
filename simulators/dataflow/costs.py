"""Cycles, energy and area from the per-instance counts of :func:`.model.analyze`.

Cycles
------
``compute = MACs per MAC instance`` (the temporal iterations); bandwidth
throttling as below; ``utilization = MACs / (cycles * MAC instances of the
architecture)``.

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
quotes 1 / 1 / 6 / 200 for 16-bit): Accelergy-style relative costs.  The
built-in table has no leakage.

Energy with a table (:mod:`.ert`: Accelergy's ``ERT.yaml`` or the built-in
one), as Timeloop computes it (``buffer.cpp``): per level, data space and
operation, ``ceil(words / block_words)`` vector accesses times the action's
energy, times the utilized instances; plus ``leak x cycles x utilized
instances``; plus ``MACs x compute energy``.  Cycles are
``ceil(compute cycles / throttling)`` with Timeloop's bandwidth throttling
(:func:`throttling`): a level whose per-instance demand exceeds its read,
write or shared bandwidth slows the whole nest; ``throttling`` (the smallest
factor, 1 = compute-bound) and ``level_throttling`` say which level bounds.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..systolic import energy as horowitz
from .arch import Architecture, StorageLevel
from .ert import EnergyTable, default_table
from .sets import per_row

__all__ = ["level_energy_per_word_pj", "level_area_mm2", "mac_area_mm2", "mac_energy_pj", "throttling", "costs"]

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


def mac_energy_pj(word_bits: int) -> float:
    """Energy of one MAC of ``word_bits`` operands (pJ)."""
    return float(horowitz.mac_energy_pj(word_bits / 8))


def _vector(count: np.ndarray, block: int) -> np.ndarray:
    """Vector accesses of ``count`` words in blocks of ``block`` (Timeloop rounds up per data space)."""
    return -(-count // block) if block > 1 else count


def throttling(arch: Architecture, counts: dict[str, Any]) -> np.ndarray:
    """Timeloop's bandwidth throttling per level ``(N, L)`` (1 = keeps up with compute): per instance,
    reads need ``reads / compute_cycles`` words per cycle, writes ``(fills + updates) / compute_cycles``;
    the factor is the smallest of ``read_bw / reads``, ``write_bw / writes`` and
    ``shared_bw / (reads + writes)`` demands, capped at 1."""
    reads, fills, updates = counts["reads"], counts["fills"], counts["updates"]
    compute = np.maximum(counts["macs_per_instance"].astype(np.float64), 1.0)
    out = np.ones(reads.shape[:2], dtype=np.float64)
    for lv, level in enumerate(arch.levels):
        rd = reads[:, lv].sum(axis=1) / compute
        wd = (fills[:, lv] + updates[:, lv]).sum(axis=1) / compute
        for bw, demand in ((level.read_bw, rd), (level.write_bw, wd), (level.shared_bw, rd + wd)):
            if bw is not None:
                out[:, lv] = np.minimum(out[:, lv], np.where(demand > bw, bw / np.maximum(demand, 1e-300), 1.0))
    return out


def per_cluster(arch: Architecture, lv: int, counts: dict[str, Any]) -> np.ndarray:
    """Utilized instances per utilized cluster of level ``lv`` ``(N,)``: a cluster of ``cluster_size``
    instances (one wide access serves them all) spans the whole mesh in X and ``cluster_size / meshX``
    rows in Y; an instance's position on an axis is its index at each fan-out above, scaled by the
    meshes below it (Timeloop's ``Utilized clusters``)."""
    size = arch.levels[lv].cluster_size
    fans = [(k, f) for k, f in enumerate(arch.fanouts[:lv]) if f is not None]
    mesh_x = int(np.prod([f.mesh_x for _, f in fans])) if fans else 1
    cx = min(mesh_x, size)
    cy = max(1, size // cx)
    used_x = np.stack([counts["sx"][:, k] for k, _ in fans], axis=1) if fans else np.ones((len(counts["sx"]), 0), int)
    used_y = np.stack([counts["sy"][:, k] for k, _ in fans], axis=1) if fans else used_x

    def clusters(used: tuple[int, ...], meshes: list[int], width: int) -> int:
        pos = np.zeros(1, dtype=np.int64)
        for u, m in zip(used, meshes):
            pos = (pos[:, None] * m + np.arange(u)[None, :]).ravel()
        return int(np.unique(pos // width).size)

    nx = per_row(used_x, lambda r: clusters(r, [f.mesh_x for _, f in fans], cx)) if fans else np.ones(len(used_x), int)
    ny = per_row(used_y, lambda r: clusters(r, [f.mesh_y for _, f in fans], cy)) if fans else np.ones(len(used_y), int)
    return counts["instances"][:, lv] / np.maximum(1, nx * ny)


def costs(arch: Architecture, counts: dict[str, Any], macs: int, table: EnergyTable | None = None) -> dict[str, np.ndarray]:
    """Metric arrays ``(N,)``: cycles, compute_cycles, throttling, energy_pj, leakage_pj, area_mm2, edp,
    dram_accesses, utilization, macs; per level ``level_energy_pj`` ``(N, L + 1)`` (the last column is
    the MACs; leakage included), ``dataspace_energy_pj`` ``(N, L, S)`` (dynamic, all instances) and
    ``level_throttling`` ``(N, L)`` (see the module docstring)."""
    table = table or default_table(arch)
    reads, fills, updates = counts["reads"], counts["fills"], counts["updates"]
    inst = counts["instances"].astype(np.float64)
    compute = counts["macs_per_instance"].astype(np.float64)
    thr = throttling(arch, counts)
    # compute / throttling, without the rounding of a division by a quotient: the largest of the compute
    # cycles and each limited level's words / bandwidth
    cycles = compute.copy()
    for lv, level in enumerate(arch.levels):
        r = reads[:, lv].sum(axis=1).astype(np.float64)
        w = (fills[:, lv] + updates[:, lv]).sum(axis=1).astype(np.float64)
        for bw, words in ((level.read_bw, r), (level.write_bw, w), (level.shared_bw, r + w)):
            if bw is not None:
                cycles = np.maximum(cycles, words / bw)
    cycles = np.ceil(cycles)
    worst = thr.min(axis=1)
    n, L = inst.shape
    level_energy = np.zeros((n, L + 1))
    ds_energy = np.zeros(reads.shape, dtype=np.float64)
    leakage = np.zeros(n)
    for lv, level in enumerate(arch.levels):
        if level.is_dummy:
            continue
        e = table.storage[level.name]
        b = level.block_words
        share = per_cluster(arch, lv, counts) if level.cluster_size > 1 else 1.0
        ds_energy[:, lv] = (_vector(reads[:, lv], b) * e["read"] + _vector(fills[:, lv], b) * e["fill"]
                            + _vector(updates[:, lv], b) * e["update"]) * (inst[:, lv] / share)[:, None]
        leak = e["leak"] * cycles * inst[:, lv]
        level_energy[:, lv] = ds_energy[:, lv].sum(axis=1) + leak
        leakage += leak
    level_energy[:, L] = float(macs) * table.compute_pj
    energy = level_energy.sum(axis=1)
    area = sum(level_area_mm2(lv) * arch.instances(i) for i, lv in enumerate(arch.levels)) \
        + mac_area_mm2(arch.compute.word_bits) * arch.mac_instances
    dram = (reads[:, 0] + fills[:, 0] + updates[:, 0]).sum(axis=1).astype(np.float64)
    return {
        "cycles": cycles,
        "compute_cycles": compute,
        "throttling": worst,
        "energy_pj": energy,
        "leakage_pj": leakage,
        "area_mm2": np.full(compute.shape, float(area)),
        "edp": energy * cycles,
        "dram_accesses": dram,
        "utilization": float(macs) / (np.maximum(cycles, 1.0) * arch.mac_instances),
        "macs": np.full(compute.shape, float(macs)),
        "level_energy_pj": level_energy,
        "dataspace_energy_pj": ds_energy,
        "level_throttling": thr,
    }

"""Energy (pJ) and area (mm^2) of a systolic-array accelerator from per-access costs.

First-order, technology-normalized costs at 45 nm (the node of the sources),
for ``word_bytes``-wide operands (1 = int8):

=====================  ===============================  =========================================
quantity               value                            source
=====================  ===============================  =========================================
MAC (multiply + add)   ``0.2*w^2 + 0.03*w`` pJ          Horowitz, "Computing's energy problem",
                       (w = word bytes; 0.23 pJ int8)   ISSCC 2014: 8b mult 0.2 pJ, 8b add 0.03 pJ;
                                                        multiplier ~quadratic in width (32b: 3.1 pJ)
PE register access     ``0.23*w`` pJ per word            Eyeriss (Chen et al., ISCA 2016, Fig. 3):
                                                        RF access ~1x a MAC; 3 per MAC (two
                                                        operands latched + accumulator)
SRAM access            ``1.25*sqrt(kb/8)`` pJ per byte   Horowitz ISSCC 2014: 64-bit access of
                                                        8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ
                                                        (sqrt fit, within 13%)
DRAM access            ``162.5`` pJ per byte             Horowitz ISSCC 2014: 1.3-2.6 nJ per
                                                        64 bits (low end); ~700x an int8 MAC,
                                                        Eyeriss quotes ~200x a 16b MAC
PE area                ``282*w^2 + 36*w + 3*8*w*4.5``    Horowitz ISSCC 2014 areas: 8b mult 282 um^2,
                       um^2                             8b add 36 um^2; flip-flop ~4.5 um^2/bit
SRAM area              ``0.7`` um^2 per bit              45 nm 6T cell 0.346 um^2 (Intel 45 nm)
                                                        at ~50% array efficiency
=====================  ===============================  =========================================

Leakage, clocking and control are not modelled (dynamic energy only).
Partial sums are counted at operand width (accumulators are wider in
practice).  All three SRAMs are counted at their full capacity for area.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ENERGY_TABLE", "mac_energy_pj", "pe_energy_per_mac_pj", "sram_energy_per_byte_pj",
           "DRAM_PJ_PER_BYTE", "pe_area_um2", "sram_area_mm2", "array_area_mm2"]

DRAM_PJ_PER_BYTE = 162.5
REG_PJ_PER_BYTE = 0.23
REG_ACCESSES_PER_MAC = 3
SRAM_PJ_PER_BYTE_8KB = 1.25
SRAM_UM2_PER_BIT = 0.7
FLIPFLOP_UM2_PER_BIT = 4.5
MULT8_UM2 = 282.0
ADD8_UM2 = 36.0

ENERGY_TABLE = {
    "mac_int8_pj": 0.23,
    "register_pj_per_byte": REG_PJ_PER_BYTE,
    "sram_pj_per_byte_8kb": SRAM_PJ_PER_BYTE_8KB,
    "dram_pj_per_byte": DRAM_PJ_PER_BYTE,
    "pe_area_int8_um2": MULT8_UM2 + ADD8_UM2 + REG_ACCESSES_PER_MAC * 8 * FLIPFLOP_UM2_PER_BIT,
    "sram_um2_per_bit": SRAM_UM2_PER_BIT,
    "source": "M. Horowitz, Computing's energy problem, ISSCC 2014; Y.-H. Chen et al., Eyeriss, ISCA 2016",
}


def mac_energy_pj(word_bytes: float = 1) -> float:
    """Energy of one multiply-accumulate at ``word_bytes`` operand width (pJ)."""
    return 0.2 * word_bytes ** 2 + 0.03 * word_bytes


def pe_energy_per_mac_pj(word_bytes: float = 1) -> float:
    """MAC plus the PE's register traffic for one MAC (pJ)."""
    return mac_energy_pj(word_bytes) + REG_ACCESSES_PER_MAC * REG_PJ_PER_BYTE * word_bytes


def sram_energy_per_byte_pj(kb: Any) -> np.ndarray:
    """Energy per byte accessed in an SRAM of ``kb`` kilobytes (pJ/byte)."""
    return np.sqrt(np.asarray(kb, dtype=np.float64)) * (SRAM_PJ_PER_BYTE_8KB / np.sqrt(8.0))


def pe_area_um2(word_bytes: float = 1) -> float:
    """Area of one PE (multiplier, adder, three operand registers) in um^2."""
    w = word_bytes
    return MULT8_UM2 * w * w + ADD8_UM2 * w + REG_ACCESSES_PER_MAC * 8 * w * FLIPFLOP_UM2_PER_BIT


def sram_area_mm2(kb: Any) -> np.ndarray:
    """Area of SRAM of ``kb`` kilobytes (mm^2)."""
    return np.asarray(kb, dtype=np.float64) * 1024 * 8 * SRAM_UM2_PER_BIT * 1e-6


def array_area_mm2(rows: Any, cols: Any, word_bytes: float = 1) -> np.ndarray:
    """Area of the ``rows x cols`` PE array (mm^2)."""
    return np.asarray(rows, dtype=np.float64) * cols * pe_area_um2(word_bytes) * 1e-6

"""Command-to-command distances per DRAM protocol, as DRAMSys 4.0's timing checkers apply them.

:func:`timing_vector` turns a standard's timings (clock cycles) into the
core's ``T_*`` vector (:mod:`._core`): the JEDEC-style timings followed by
the distance, in cycles, from each earlier command to each later one, the
response latency of reads and writes, the command-bus length of each command
and the bus layout.  One function per protocol, each following one DRAMSys
4.0 checker (``CheckerDDR3``/``CheckerDDR4``, ``CheckerLPDDR4``,
``CheckerHBM2``) and memspec (``getIntervalOnDataStrobe``,
``commandLengthInCycles``); facts learned from DRAMSys's source, not copied.

* ``ddr`` (DDR3, DDR4 and the unvalidated ``lpddr4-3200-x32``/``hbm2-legacy``):
  one command bus, one cycle per command, data at CL + BL/2 (reads) and
  WL + BL/2 (writes) after the CAS.
* ``lpddr4``: ACT, RD, WR take 4 command-bus cycles and PRE, REF 2; reads
  return RL + tDQSCK + BL/2 + 3 cycles after the CAS, writes WL + tDQSS +
  tDQS2DQ + BL/2 + 3; read-to-write RL + tDQSCK + BL/2 - WL + tWPRE + tRPST;
  all-bank precharge tRPab; tPPD between precharges.
* ``hbm2``: separate row (ACT, PRE, REF) and column (RD, WR) command buses, an
  ACT holds the row bus 2 cycles; tRCDRD / tRCDWR (+1 cycle), tRTW; ranks are
  pseudo-channels, refreshed half a tREFI apart.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from . import _core as C

__all__ = ["PROTOCOLS", "timing_vector"]


def _base(t: Mapping[str, int], burst: int) -> np.ndarray:
    v = np.zeros(C.T_LEN, dtype=np.int64)
    for i, k in enumerate(("CL", "WL", "RCD", "RP", "RAS", "RC", "RRD_S", "RRD_L", "FAW", "CCD_S", "CCD_L",
                           "WR", "WTR_S", "WTR_L", "RTP", "RFC", "REFI", "XP", "CKE", "DQSCK")):
        v[i] = int(t[k])
    v[C.T_BURST] = burst
    v[C.T_LEN_ACT] = v[C.T_LEN_PRE] = v[C.T_LEN_CAS] = v[C.T_LEN_REF] = 1
    v[C.T_PDX_ACT] = t["XP"]
    return v


def _ddr(t: Mapping[str, int], burst: int, ranks: int) -> np.ndarray:
    v = _base(t, burst)
    wl_b = t["WL"] + burst
    v[C.T_ACT_RD] = v[C.T_ACT_WR] = t["RCD"]
    v[C.T_WR_RD_L] = wl_b + t["WTR_L"]
    v[C.T_WR_RD_S] = wl_b + t["WTR_S"]
    v[C.T_WR_RDA] = wl_b + t["WR"] - t["RTP"]
    v[C.T_RD_WR] = t["CL"] + burst + 2 - t["WL"]
    v[C.T_RDA_ACT] = t["RTP"] + t["RP"]
    v[C.T_WRA_ACT] = wl_b + t["WR"] + t["RP"]
    v[C.T_PRE_ACT] = v[C.T_PREA_ACT] = t["RP"]
    v[C.T_REF_ACT] = t["RFC"]
    v[C.T_ACT_PRE] = t["RAS"]
    v[C.T_RD_PRE] = t["RTP"]
    v[C.T_WR_PRE] = wl_b + t["WR"]
    v[C.T_ACT_REF] = t["RC"]
    v[C.T_RDA_REF] = t["RTP"] + t["RP"]
    v[C.T_WRA_REF] = wl_b + t["WR"] + t["RP"]
    v[C.T_PRE_REF] = v[C.T_PREA_REF] = t["RP"]
    v[C.T_RD_DATA] = t["CL"] + burst
    v[C.T_WR_DATA] = wl_b
    return v


def _lpddr4(t: Mapping[str, int], burst: int, ranks: int) -> np.ndarray:
    v = _base(t, burst)
    rd_pre = t["RTP"] + burst - 6
    wr_pre = t["WL"] + burst + 1 + t["WR"] + 2
    v[C.T_ACT_RD] = v[C.T_ACT_WR] = t["RCD"]
    v[C.T_WR_RD_L] = t["WL"] + 1 + burst + t["WTR_L"]
    v[C.T_WR_RD_S] = t["WL"] + 1 + burst + t["WTR_S"]
    v[C.T_WR_RDA] = wr_pre - rd_pre
    v[C.T_RD_WR] = t["CL"] + t["DQSCK"] + burst - t["WL"] + t["WPRE"] + t["RPST"]
    v[C.T_RDA_ACT] = t["RTP"] + burst - 8 + t["RP"]
    v[C.T_WRA_ACT] = t["WL"] + burst + 1 + t["WR"] + t["RP"]
    v[C.T_PRE_ACT] = t["RP"] - 2
    v[C.T_PREA_ACT] = t["RPAB"] - 2
    v[C.T_REF_ACT] = t["RFC"] - 2
    v[C.T_ACT_PRE] = t["RAS"] + 2
    v[C.T_RD_PRE] = rd_pre
    v[C.T_WR_PRE] = wr_pre
    v[C.T_PRE_PRE] = t["PPD"]
    v[C.T_ACT_REF] = t["RC"] + 2
    v[C.T_RDA_REF] = rd_pre + t["RP"]
    v[C.T_WRA_REF] = wr_pre + t["RP"]
    v[C.T_PRE_REF] = t["RP"]
    v[C.T_PREA_REF] = t["RPAB"]
    v[C.T_RD_DATA] = t["CL"] + t["DQSCK"] + burst + 3
    v[C.T_WR_DATA] = t["WL"] + t["DQSS"] + t["DQS2DQ"] + burst + 3
    v[C.T_LEN_ACT] = v[C.T_LEN_CAS] = 4
    v[C.T_LEN_PRE] = v[C.T_LEN_REF] = 2
    return v


def _hbm2(t: Mapping[str, int], burst: int, ranks: int) -> np.ndarray:
    v = _base(t, burst)
    wr_pre = t["WL"] + burst + t["WR"]
    v[C.T_ACT_RD] = t["RCD"] + 1
    v[C.T_ACT_WR] = t["RCDWR"] + 1
    v[C.T_WR_RD_L] = t["WL"] + burst + t["WTR_L"]
    v[C.T_WR_RD_S] = t["WL"] + burst + t["WTR_S"]
    v[C.T_WR_RDA] = wr_pre - t["RTP"]
    v[C.T_RD_WR] = t["RTW"]
    v[C.T_RDA_ACT] = t["RTP"] + t["RP"] - 1
    v[C.T_WRA_ACT] = wr_pre + t["RP"] - 1
    v[C.T_PRE_ACT] = v[C.T_PREA_ACT] = t["RP"] - 1
    v[C.T_REF_ACT] = t["RFC"] - 1
    v[C.T_ACT_PRE] = t["RAS"] + 1
    v[C.T_RD_PRE] = t["RTP"]
    v[C.T_WR_PRE] = wr_pre
    v[C.T_ACT_REF] = t["RC"] + 1
    v[C.T_RDA_REF] = t["RTP"] + t["RP"]
    v[C.T_WRA_REF] = wr_pre + t["RP"]
    v[C.T_PRE_REF] = v[C.T_PREA_REF] = t["RP"]
    v[C.T_RD_DATA] = t["CL"] + t["DQSCK"] + burst
    v[C.T_WR_DATA] = t["WL"] + burst
    v[C.T_LEN_ACT] = 2
    v[C.T_RASCAS] = 1
    v[C.T_PDX_ACT] = t["XP"] - 1
    v[C.T_REFI_RANK] = t["REFI"] // max(ranks, 1) if ranks > 1 else 0
    return v


#: protocol name -> (extra timing keys it needs, derivation)
PROTOCOLS: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, int], int, int], np.ndarray]]] = {
    "ddr": ((), _ddr),
    "lpddr4": (("RPAB", "DQSS", "DQS2DQ", "WPRE", "RPST", "PPD"), _lpddr4),
    "hbm2": (("RCDWR", "RTW"), _hbm2),
}


def timing_vector(protocol: str, timing: Mapping[str, int], burst_cycles: int, banks_per_rank: int,
                  ranks: int) -> np.ndarray:
    """The core's int64 ``T_*`` vector for one standard (all values in clock cycles)."""
    v = PROTOCOLS[protocol][1](timing, burst_cycles, ranks)
    v[C.T_BANKS_PER_RANK] = banks_per_rank
    return v

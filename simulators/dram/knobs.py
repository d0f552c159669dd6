"""Controller knobs: DRAMSys ``mcconfig`` names and values, and their integer codes.

The value lists in :data:`KNOBS` are the canonical design space: ArchGym's
``action_decoder`` lists, with power-of-two sizes.  That space has
4*3*3*8*2*2*4*4*3*8 = 442,368 designs.

Two options widen it:

* ``power_down=True`` adds ``PowerDownPolicy`` (NoPowerDown, Staggered).
* ``integer=True`` is the "integer variant" that ArchGym's BO/GA logs use.
  It searches every integer ``RequestBufferSize`` and
  ``MaxActiveTransactions`` in 1..128, and every ``RefreshMaxPostponed`` and
  ``RefreshMaxPulledin`` in 1..8.  DRAMSys accepts any such integer.

:func:`encode_mcconfig` accepts those integer ranges, plus ``CmdMux``
(Oldest or Strict).  Its keys use DRAMSys's spelling; missing keys take
ArchGym's baseline (:data:`DEFAULT_MCCONFIG`).
"""
from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from archgym.space import Categorical, DesignSpace, Integer, Ordinal

__all__ = ["KNOBS", "INTEGER_RANGES", "DEFAULT_MCCONFIG", "MCCONFIG_KEYS", "dram_space", "encode_mcconfig"]

_P2 = (1, 2, 4, 8, 16, 32, 64, 128)

#: knob name -> allowed values, in DRAMSys spelling, in ArchGym's order of search
KNOBS: dict[str, tuple] = {
    "PagePolicy": ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive"),
    "Scheduler": ("Fifo", "FrFcfs", "FrFcfsGrp"),
    "SchedulerBuffer": ("Bankwise", "ReadWrite", "Shared"),
    "RequestBufferSize": _P2,
    "RespQueue": ("Fifo", "Reorder"),
    "RefreshPolicy": ("NoRefresh", "AllBank"),
    "RefreshMaxPostponed": (1, 2, 4, 8),
    "RefreshMaxPulledin": (1, 2, 4, 8),
    "Arbiter": ("Simple", "Fifo", "Reorder"),
    "MaxActiveTransactions": _P2,
}
#: integer knobs: inclusive ranges DRAMSys (and this model) accept
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "RequestBufferSize": (1, 128), "RefreshMaxPostponed": (1, 8),
    "RefreshMaxPulledin": (1, 8), "MaxActiveTransactions": (1, 128),
}
_EXTRA = {"PowerDownPolicy": ("NoPowerDown", "Staggered"), "CmdMux": ("Oldest", "Strict")}
#: every mcconfig key the model reads (the searched knobs, then PowerDownPolicy and CmdMux)
MCCONFIG_KEYS: tuple[str, ...] = (*KNOBS, *_EXTRA)

#: ArchGym's baseline controller configuration (DRAMSys ddr3-example mcconfig)
DEFAULT_MCCONFIG: dict[str, Any] = {
    "PagePolicy": "Open", "Scheduler": "FrFcfs", "SchedulerBuffer": "Bankwise",
    "RequestBufferSize": 8, "CmdMux": "Oldest", "RespQueue": "Fifo", "RefreshPolicy": "AllBank",
    "RefreshMaxPostponed": 8, "RefreshMaxPulledin": 8, "PowerDownPolicy": "NoPowerDown",
    "Arbiter": "Simple", "MaxActiveTransactions": 128,
}


@functools.lru_cache(maxsize=None)
def dram_space(power_down: bool = False, integer: bool = False) -> DesignSpace:
    """The DRAM controller design space (see the module docstring); one shared, immutable
    object per variant."""
    params = []
    for name, vals in KNOBS.items():
        desc = f"DRAMSys mcconfig {name}"
        if integer and name in INTEGER_RANGES:
            lo, hi = INTEGER_RANGES[name]
            params.append(Integer(name, lo, hi, description=desc))
        elif isinstance(vals[0], int):
            params.append(Ordinal(name, vals, description=desc))
        else:
            params.append(Categorical(name, vals, description=desc))
    if power_down:
        params.append(Categorical("PowerDownPolicy", _EXTRA["PowerDownPolicy"],
                                  description="DRAMSys mcconfig PowerDownPolicy"))
    return DesignSpace(params, groups={  # named groups for the multi-agent view and searcher
        "scheduling": ["Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue", "Arbiter",
                       "MaxActiveTransactions"],
        "paging": ["PagePolicy"],
        "refresh": ["RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin"],
        **({"power_down": ["PowerDownPolicy"]} if power_down else {})})


def _label(name: str, value: Any, allowed: tuple) -> int:
    """Index of a string-valued knob."""
    if isinstance(value, str) and value in allowed:
        return allowed.index(value)
    raise ValueError(f"mcconfig {name}: value {value!r} is not supported; allowed: {', '.join(allowed)}")


def _int(name: str, value: Any) -> int:
    """An integer knob within its DRAMSys range."""
    lo, hi = INTEGER_RANGES[name]
    ok = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok and float(value).is_integer() and lo <= int(value) <= hi:
        return int(value)
    raise ValueError(f"mcconfig {name}: value {value!r} is not supported; allowed: integers {lo}..{hi}")


def encode_mcconfig(mcconfig: Mapping[str, Any]) -> np.ndarray:
    """Integer knob vector for the core; missing keys take :data:`DEFAULT_MCCONFIG`.

    Layout: [page, sched, bufkind, bufsize, resp, refresh, maxpost, maxpull,
    arbiter, maxact, pd, cmdmux].  The core ignores any other key; DRAMSys
    has more, e.g. think and phy delays, which are 0 in ArchGym's setup.
    """
    cfg = dict(DEFAULT_MCCONFIG)
    cfg.update(mcconfig)
    lab = {**KNOBS, **_EXTRA}
    out = [
        _label("PagePolicy", cfg["PagePolicy"], lab["PagePolicy"]),
        _label("Scheduler", cfg["Scheduler"], lab["Scheduler"]),
        _label("SchedulerBuffer", cfg["SchedulerBuffer"], lab["SchedulerBuffer"]),
        _int("RequestBufferSize", cfg["RequestBufferSize"]),
        _label("RespQueue", cfg["RespQueue"], lab["RespQueue"]),
        _label("RefreshPolicy", cfg["RefreshPolicy"], lab["RefreshPolicy"]),
        _int("RefreshMaxPostponed", cfg["RefreshMaxPostponed"]),
        _int("RefreshMaxPulledin", cfg["RefreshMaxPulledin"]),
        _label("Arbiter", cfg["Arbiter"], lab["Arbiter"]),
        _int("MaxActiveTransactions", cfg["MaxActiveTransactions"]),
        _label("PowerDownPolicy", cfg["PowerDownPolicy"], lab["PowerDownPolicy"]),
        _label("CmdMux", cfg["CmdMux"], lab["CmdMux"]),
    ]
    return np.array(out, dtype=np.int64)

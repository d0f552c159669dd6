"""Run the controller core on a trace: the numba fast path and the pure-Python path.

:func:`run` decodes addresses, encodes the knobs and calls the core loop of
:mod:`._core`.  If numba is importable (a core dependency) the
core's source is compiled with ``numba.njit`` once per process; otherwise,
or with ``jit=False``, the identical source runs as plain Python (about
two orders of magnitude slower).  Set ``ARCHGYM_DRAM_NOJIT=1`` to force the
pure path.  Compiled code is cached by numba so later processes skip the
compile: next to ``_core.py`` when that folder is writable, else (a
read-only or system-wide install) in the user cache folder
``$XDG_CACHE_HOME/archgym/numba`` (``~/.cache/archgym/numba``); an explicit
``NUMBA_CACHE_DIR`` always wins.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from . import _core
from .energy import EnergyBreakdown, auto_precharge_offsets, energy_from_stats
from .knobs import encode_mcconfig
from .standards import MemSpec
from .trace import Trace

__all__ = ["RunResult", "run", "jit_available", "ControllerDeadlock", "DecodedTrace", "decode_trace"]


class ControllerDeadlock(RuntimeError):
    """The controller stopped making progress with requests pending."""

_JIT: Any = None
_JIT_FAILED = False


def user_cache_dir() -> str:
    """Where numba's cache goes when the package folder is read-only."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archgym", "numba")


def _choose_cache_dir() -> None:
    """Point numba's cache at a writable place unless the user chose one."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = os.path.dirname(os.path.abspath(_core.__file__))
    pycache = os.path.join(here, "__pycache__")
    if os.access(pycache if os.path.isdir(pycache) else here, os.W_OK):
        return
    d = user_cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = d
    if "numba" in sys.modules:  # numba read its config already: update it too
        sys.modules["numba"].config.CACHE_DIR = d


def _jitted():
    """The njit-compiled core namespace, or None if numba is unavailable."""
    global _JIT, _JIT_FAILED
    if _JIT is not None or _JIT_FAILED:
        return _JIT
    if os.environ.get("ARCHGYM_DRAM_NOJIT"):
        _JIT_FAILED = True
        return None
    _choose_cache_dir()
    try:
        import numba
    except ImportError:
        _JIT_FAILED = True
        return None
    for cache in (True, False):
        try:
            mod = _compile(numba, cache)
            _warm_up(mod)
        except Exception:  # e.g. no writable cache location: retry uncached, else pure Python
            continue
        _JIT = mod
        return mod
    _JIT_FAILED = True
    return None


def _compile(numba, cache: bool):
    """A second, independent copy of the core module with every function njit-ed.

    It is registered in ``sys.modules`` so numba's on-disk cache can find it again.
    """
    name = __name__.rsplit(".", 1)[0] + "._core_jit"
    spec = importlib.util.spec_from_file_location(name, _core.__file__)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    for fname, obj in list(mod.__dict__.items()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == mod.__name__:
            # helpers inlined into the loop (numba IR level): no per-call array refcounting
            inline = "never" if fname == "simulate_core" else "always"
            setattr(mod, fname, numba.njit(cache=cache, nogil=True, inline=inline)(obj))
    return mod


def _warm_up(core) -> None:
    """Compile (or load from cache) the core with a one-request run."""
    one = np.zeros(1, np.int64)
    tv = np.ones(_core.T_LEN, np.int64)
    knobs = encode_mcconfig({})
    core.simulate_core(one, one, one, one, one, one, tv, 1, 1, 1000, 1000, False, knobs,
                       np.ones(2, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64),
                       np.zeros(_core.S_LEN, np.int64))


def jit_available() -> bool:
    """True if the numba-compiled core can be used."""
    return _jitted() is not None


@dataclass(frozen=True)
class RunResult:
    """Outcome of one simulation; times in ns, energies in pJ."""

    total_time_ns: float
    send_ns: np.ndarray
    complete_ns: np.ndarray
    is_write: np.ndarray
    energy: EnergyBreakdown
    n_act: int
    n_pre: int
    n_refresh: int
    n_commands: int
    burst_bytes: int

    @property
    def n_requests(self) -> int:
        return int(self.send_ns.shape[0])

    def metrics(self) -> dict[str, float]:
        """The simulator's metric dict (see :class:`.simulator.DRAMSimulator`)."""
        n = self.n_requests
        rd = self.is_write == 0
        lat = (self.complete_ns - self.send_ns)[rd]
        t = self.total_time_ns
        ncas = n
        return {
            "total_time_ns": t,
            "avg_read_latency_ns": float(lat.mean()) if lat.size else 0.0,
            "p99_read_latency_ns": float(np.percentile(lat, 99)) if lat.size else 0.0,
            "bandwidth_gbps": (n * self.burst_bytes / t) if t > 0 else 0.0,
            "row_hit_rate": max(ncas - self.n_act, 0) / ncas if ncas else 0.0,
            "energy_pj": self.energy.total_pj,
            "avg_power_mw": self.energy.avg_power_mw,
        }


@dataclass(frozen=True)
class DecodedTrace:
    """A trace prepared for one memory: the core's input arrays (decode once, run many designs)."""

    spec: MemSpec
    times: np.ndarray
    is_write: np.ndarray
    bank: np.ndarray
    bankgroup: np.ndarray
    row: np.ndarray
    addresses: np.ndarray
    relative: bool
    timing: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.times.shape[0])


def decode_trace(spec: MemSpec, trace: Trace) -> DecodedTrace:
    """Check ``trace`` against ``spec``'s capacity (:class:`.standards.CapacityError`) and
    split its addresses with ``spec``'s mapping."""
    spec.check_capacity(trace.addresses, trace.name)
    bank, bg, row = spec.decode(trace.addresses)
    return DecodedTrace(spec, np.ascontiguousarray(trace.times, np.int64),
                        np.ascontiguousarray(trace.is_write, np.int64), bank, bg, row,
                        trace.addresses.astype(np.int64), bool(trace.relative), spec.timing_vector(),
                        auto_precharge_offsets(spec))


def _core_for(jit: bool | None):
    if jit is None or jit:
        j = _jitted()
        if j is None and jit:
            raise RuntimeError("numba cannot be imported on this platform; pass jit=False")
        return j or _core
    return _core


def run(spec: MemSpec, trace: Trace | None, mcconfig: Mapping[str, Any] | None = None, *, jit: bool | None = None,
        decoded: DecodedTrace | None = None) -> RunResult:
    """Simulate ``trace`` on ``spec`` under the controller configuration ``mcconfig``.

    ``mcconfig`` uses DRAMSys's key names; missing keys take ArchGym's
    baseline.  ``jit=None`` uses numba when available, ``False`` forces the
    pure-Python core, ``True`` requires numba.  ``decoded`` (from
    :func:`decode_trace` for this ``spec``) skips the capacity check and
    address decoding when many designs run on one trace; ``trace`` may then
    be None.
    """
    knobs = encode_mcconfig(mcconfig or {})
    if decoded is None:
        decoded = decode_trace(spec, trace)
    elif decoded.spec is not spec:
        raise ValueError("decoded trace was prepared for another memory spec")
    core = _core_for(jit)
    d = decoded
    n = len(d)
    send = np.zeros(n, np.int64)
    resp = np.zeros(n, np.int64)
    st = np.zeros(_core.S_LEN, np.int64)
    rc = core.simulate_core(d.times, d.is_write, d.bank, d.bankgroup, d.row, d.addresses, d.timing,
                            spec.channel_banks, spec.channel_bankgroups, spec.tck_ps, spec.player_ps, d.relative,
                            knobs, d.offsets, send, resp, st)
    if rc != 0:
        raise ControllerDeadlock("DRAM controller made no progress (deadlock); with CmdMux=Strict this is a known "
                           "DRAMSys limitation (CAS order forced while a bank machine serves another request), "
                           "otherwise a bug: please report the trace and mcconfig")
    tck = spec.tck_ns
    total = float(resp.max()) * tck if n else 0.0
    return RunResult(
        total_time_ns=total, send_ns=send * tck, complete_ns=resp * tck,
        is_write=d.is_write.astype(np.int8), energy=energy_from_stats(spec, st),
        n_act=int(st[_core.S_NACT]), n_pre=int(st[_core.S_NPRE]), n_refresh=int(st[_core.S_NREF]),
        n_commands=int(st[_core.S_NCMD]), burst_bytes=spec.burst_bytes,
    )

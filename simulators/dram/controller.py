"""Run the controller core on a trace: compiled with numba, or as plain Python.

:func:`run` decodes addresses, encodes the knobs and calls
:func:`._core.simulate_core`.  By default the core runs compiled: it is
compiled once per machine through :class:`archgym.jit.Kernel` (lazily, on the
first run; cached on disk; one line on stderr while it compiles; an error,
never a silent slowdown, if numba is missing or fails).  ``jit=False`` or
``ARCHGYM_NOJIT=1`` runs the identical source as plain Python (same results,
about two orders of magnitude slower).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from archgym.jit import Kernel

from . import _core
from .energy import EnergyBreakdown, auto_precharge_offsets, energy_from_stats
from .knobs import encode_mcconfig
from .standards import MemSpec
from .trace import MAX_TRACE_PS, Trace, TraceError

__all__ = ["RunResult", "run", "jit_available", "ControllerDeadlock", "DecodedTrace", "decode_trace", "check_trace",
           "KERNEL"]


class ControllerDeadlock(RuntimeError):
    """The controller stopped making progress with requests pending."""


def _core_arguments(d: "DecodedTrace", knobs: np.ndarray, send: np.ndarray, resp: np.ndarray,
                    st: np.ndarray) -> tuple:
    """:func:`._core.simulate_core`'s arguments for trace ``d`` and outputs ``send``/``resp``/``st``,
    with fresh state."""
    spec = d.spec
    return (d.times, d.is_write, d.bank, d.bankgroup, d.row, d.addresses, spec.tck_ps, spec.player_ps, d.relative,
            d.timing, d.distances, knobs, d.offsets, send, resp, st,
            *_core.new_state(d.timing, spec.channel_banks, spec.channel_bankgroups, int(knobs[_core.K_BUFSIZE]),
                             len(d)))


def _example_arguments() -> tuple:
    """Arguments of the types :func:`run` passes to the core (they fix the compiled signature)."""
    from .standards import load_standard
    from .trace import generate
    d = decode_trace(load_standard("ddr3-1600"), generate({"pattern": "random", "n": 1}))
    return _core_arguments(d, encode_mcconfig({}), np.zeros(1, np.int64), np.zeros(1, np.int64),
                           np.zeros(_core.S_LEN, np.int64))


#: the controller core as a numba kernel (compiled on first use; see :mod:`archgym.jit`).
#: ``error_model="numpy"``: no zero-division checks (every divisor is a clock period or a
#: bank count); ``_nrt=False``: no reference counting -- the core allocates nothing (its
#: state comes from :func:`._core.new_state`), and counting every array argument of its
#: LLVM-inlined parts made it 3-5x slower (measured on the ArchGym traces).
KERNEL = Kernel(_core.simulate_core, label="the DRAM controller kernel", example=_example_arguments, returns="int64",
                expected_s=7, nogil=True, error_model="numpy", _nrt=False)


def jit_available() -> bool:
    """True if the compiled core is used (numba installed, ``ARCHGYM_NOJIT`` unset); loads
    (or compiles) it.  Raises :class:`archgym.jit.JitError` if numba fails to compile it."""
    if not KERNEL.available():
        return False
    KERNEL.compiled()
    return True


def _percentile_99(x: np.ndarray) -> float:
    """``np.percentile(x, 99)`` (linear interpolation, the same floating-point operations) of
    a non-empty 1-D float array without NaNs, in a sixth of the time: one partition."""
    n = x.shape[0]
    vi = (n - 1) * 0.99
    lo = math.floor(vi)
    if lo >= n - 1:
        return float(x.max())
    g = vi - lo
    part = np.partition(x, (lo, lo + 1))
    a, b = float(part[lo]), float(part[lo + 1])
    d = b - a
    return b - d * (1 - g) if g >= 0.5 else a + d * g


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
            "p99_read_latency_ns": _percentile_99(lat) if lat.size else 0.0,
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
    distances: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.times.shape[0])


def check_trace(spec: MemSpec, trace: Trace) -> None:
    """Refuse, with one line naming the request (its file and line when read from a file), a
    trace the model cannot represent on ``spec``: times that are not whole non-negative
    player cycles, a timeline beyond :data:`.trace.MAX_TRACE_PS`, directions other than 0/1
    (:class:`.trace.TraceError`), addresses beyond the capacity (:class:`.standards.CapacityError`)."""
    t = np.asarray(trace.times)
    if t.size:
        if t.dtype.kind not in "iu":
            frac = ~np.isfinite(t) | (t != np.floor(t)) if t.dtype.kind == "f" else np.ones(t.shape, bool)
            if frac.any():
                i = int(np.argmax(frac))
                raise TraceError(f"{trace.where(i)}: time {t[i]!r} is not a whole number of trace-player cycles")
        if t.min() < 0:
            i = int(np.argmax(t < 0))
            raise TraceError(f"{trace.where(i)}: time {t[i]} is negative; times are player cycles >= 0")
        limit = MAX_TRACE_PS // spec.player_ps
        reach = np.cumsum(t.astype(np.float64)) if trace.relative else t
        if reach.max() > limit:
            i = int(np.argmax(reach > limit))
            raise TraceError(f"{trace.where(i)}: time {t[i]} reaches beyond the latest time the model represents, "
                             f"{limit} player cycles of {spec.player_ps} ps ({MAX_TRACE_PS} ps, about 26 days)")
    w = np.asarray(trace.is_write)
    if w.size and (w.min() < 0 or w.max() > 1 or (w.dtype.kind == "f" and (w != np.round(w)).any())):
        i = int(np.argmax((w != 0) & (w != 1)))
        raise TraceError(f"{trace.where(i)}: direction {w[i]!r} is neither 0 (read) nor 1 (write)")
    spec.check_capacity(trace.addresses, trace.name, where=trace.where)


def decode_trace(spec: MemSpec, trace: Trace) -> DecodedTrace:
    """Check ``trace`` (:func:`check_trace`) and split its addresses with ``spec``'s mapping."""
    check_trace(spec, trace)
    bank, bg, row = spec.decode(trace.addresses)
    tv = spec.timing_vector()
    return DecodedTrace(spec, np.ascontiguousarray(trace.times, np.int64),
                        np.ascontiguousarray(trace.is_write, np.int64), bank, bg, row,
                        trace.addresses.astype(np.int64), bool(trace.relative), tv, _core.distance_table(tv),
                        auto_precharge_offsets(spec))


def run(spec: MemSpec, trace: Trace | None, mcconfig: Mapping[str, Any] | None = None, *, jit: bool | None = None,
        decoded: DecodedTrace | None = None) -> RunResult:
    """Simulate ``trace`` on ``spec`` under the controller configuration ``mcconfig``.

    ``mcconfig`` uses DRAMSys's key names; missing keys take ArchGym's
    baseline.  ``jit=None`` runs the compiled core unless ``ARCHGYM_NOJIT`` is
    set, ``False`` the pure-Python core, ``True`` the compiled core (raising
    :class:`archgym.jit.JitError` if it cannot be had).  ``decoded`` (from
    :func:`decode_trace` for this ``spec``) skips the capacity check and
    address decoding when many designs run on one trace; ``trace`` may then
    be None.
    """
    knobs = encode_mcconfig(mcconfig or {})
    if decoded is None:
        decoded = decode_trace(spec, trace)
    elif decoded.spec is not spec:
        raise ValueError("decoded trace was prepared for another memory spec")
    n = len(decoded)
    send, resp, st = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(_core.S_LEN, np.int64)
    rc = KERNEL.select(jit)(*_core_arguments(decoded, knobs, send, resp, st))
    if rc != 0:
        raise ControllerDeadlock("DRAM controller made no progress (deadlock); with CmdMux=Strict this is a known "
                           "DRAMSys limitation (CAS order forced while a bank machine serves another request), "
                           "otherwise a bug: please report the trace and mcconfig")
    tck = spec.tck_ns
    total = float(resp.max()) * tck if n else 0.0
    return RunResult(
        total_time_ns=total, send_ns=send * tck, complete_ns=resp * tck,
        is_write=decoded.is_write.astype(np.int8), energy=energy_from_stats(spec, st),
        n_act=int(st[_core.S_NACT]), n_pre=int(st[_core.S_NPRE]), n_refresh=int(st[_core.S_NREF]),
        n_commands=int(st[_core.S_NCMD]), burst_bytes=spec.burst_bytes,
    )

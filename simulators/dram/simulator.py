"""``DRAMSimulator``: the DRAM memory-controller design problem (DRAMSys class).

Design space: DRAMSys 4.0 ``mcconfig`` knobs with ArchGym's value lists
(:data:`.knobs.KNOBS`; 442,368 designs; ``power_down=True`` adds
``PowerDownPolicy``, ``integer=True`` is the integer variant).  Workload: one memory trace, given as

* a shipped name (:data:`.trace.SHIPPED_WORKLOADS`, generated, no files):
  ``stream`` is bit-identical to ArchGym's ``stream.stl`` (sequential 0x0,
  0x40, ..., one request per player cycle); ``random`` is *statistically*
  the same as ArchGym's ``random.stl`` (10,000 uniform 64-B-aligned reads
  over 1 GiB, one per cycle) but not bit-identical;
* ``cloud-1`` / ``cloud-2`` (ArchGym's captured traces) or ``random.stl``
  itself: resolved from ``trace_dir=`` or the ``ARCHGYM_DRAM_TRACES``
  environment variable, never required;
* a path to an ``.stl``/``.rstl``/``.csv`` file;
* a generator spec dict (``{"pattern": "random", "n": 5000, "offered_load": 0.5}``).

Metrics: ``total_time_ns`` (DRAMSys "Total Time", completion of the last
response; ArchGym's "latency"), ``avg_read_latency_ns`` and
``p99_read_latency_ns`` (player send to response), ``bandwidth_gbps``
(bytes moved / total time), ``row_hit_rate`` (1 - ACTs / CAS commands),
``energy_pj`` and ``avg_power_mw`` (DRAMPower equations, power over
DRAMPower's energy window).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Mapping

from archgym.errors import OptionError
from archgym.simulator import Metric, Simulator, WorkloadError
from archgym.userfiles import check_readable

from .controller import ControllerDeadlock, DecodedTrace, RunResult, decode_trace, run
from .knobs import DEFAULT_MCCONFIG, MCCONFIG_KEYS, dram_space, encode_mcconfig
from .standards import MemSpec, load_standard, standard_names
from .trace import SHIPPED_WORKLOADS, Trace, TraceError, generate, load_trace

__all__ = ["DRAMSimulator", "simulate", "resolve_workload"]


def _check_fixed(fixed: Mapping[str, Any] | None, space: Any) -> dict:
    """``fixed`` (controller parameters held constant) checked: a mapping of mcconfig keys
    that are not design parameters of ``space`` (the design's value would silently win),
    each with a value the model supports; an :class:`OptionError` line otherwise."""
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise OptionError(f"fixed must be a mapping of controller parameter to value, got {fixed!r}")
    allowed = [k for k in MCCONFIG_KEYS if k not in space.names]
    for key in fixed:
        if key in space.names:
            raise OptionError(f"fixed: {key!r} is a design parameter of this space, so each design sets it; fix "
                              f"only {', '.join(allowed)}")
        if key not in allowed:
            raise OptionError(f"fixed: unknown controller parameter {key!r}; allowed: {', '.join(allowed)}")
    try:
        encode_mcconfig(fixed)
    except ValueError as e:
        raise OptionError(f"fixed: {e}") from None
    return dict(fixed)

_FILE_ONLY = ("cloud-1", "cloud-2")


def _generate_for(spec: Mapping[str, Any], mem: MemSpec, name: str) -> Trace:
    row_bytes = mem.columns * mem.bus_bits // 8
    kw = dict(capacity=mem.capacity_bytes, burst_bytes=mem.burst_bytes, row_bytes=row_bytes,
              banks=mem.banks, peak_gbps=mem.peak_bandwidth_gbps, player_ns=1e3 / mem.trace_player_mhz)
    s = dict(spec)
    s.setdefault("name", name)
    return generate(s, **kw)


def _load_trace_file(path: Path) -> Trace:
    """A trace file's requests; a missing, unreadable, malformed or empty file is a
    :class:`WorkloadError` naming it (an empty trace would otherwise score every design 0
    cycles, reward 1)."""
    tr = load_trace(path)
    if len(tr) == 0:
        raise WorkloadError(f"trace file {str(path)!r} holds no requests; a DRAM workload needs at least one")
    return tr


_TRACE_SUFFIXES = (".stl", ".rstl", ".csv")


def _trace_file(name: str, trace_dir: str | Path | None) -> Path | None:
    """The file a workload name or path stands for: ``trace_dir`` and ``ARCHGYM_DRAM_TRACES``
    first (``NAME`` or ``NAME.stl`` there), then the path itself if it has a trace suffix or
    exists (a folder too: reading it names the mistake); None for anything else."""
    stem = name[:-4] if name.endswith(".stl") else name
    for d in (Path(d) for d in (trace_dir, os.environ.get("ARCHGYM_DRAM_TRACES")) if d):
        for cand in (d / name, d / f"{stem}.stl"):
            if cand.is_file():
                return cand
    p = Path(name)
    return p if p.suffix.lower() in _TRACE_SUFFIXES or p.exists() else None


def resolve_workload(workload: Any, mem: MemSpec, trace_dir: str | Path | None = None) -> Trace:
    """Turn a workload name, path, spec dict or :class:`Trace` into a :class:`Trace`."""
    if isinstance(workload, Trace):
        return workload
    if isinstance(workload, Mapping):
        tr = _generate_for(workload, mem, str(workload.get("name", workload.get("pattern", "generated"))))
        if len(tr) == 0:
            raise WorkloadError(f"generator spec {dict(workload)} makes no requests; use n >= 1")
        return tr
    if not isinstance(workload, (str, Path)):
        raise WorkloadError(f"workload must be a name, a path or a generator spec dict, got {type(workload).__name__}")
    name = str(workload)
    if name in SHIPPED_WORKLOADS:
        return _generate_for(SHIPPED_WORKLOADS[name], mem, name)
    path = _trace_file(name, trace_dir)
    if path is not None:
        return _load_trace_file(path)
    if name.removesuffix(".stl") in _FILE_ONLY:
        raise WorkloadError(f"workload {name!r} is ArchGym's captured trace; pass trace_dir= or set "
                            "ARCHGYM_DRAM_TRACES to the folder holding it")
    raise WorkloadError(f"unknown workload {name!r}; shipped: {', '.join(DRAMSimulator.workload_names)}, "
                        "or a .stl/.rstl/.csv path, or a generator spec dict")


#: what each shipped memory's figures are checked against (``archgym info DRAM-v0``)
_VALIDATED = {
    "ddr3-1600": "total time and power validated against DRAMSys 4.0 (DRAMPower)",
    "ddr4-2400": "total time and power validated against DRAMSys 4.0 (DRAMPower)",
    "lpddr4-3200": "total time validated against DRAMSys 4.0; power NOT validated (DRAMSys 4.0 has no LPDDR4 "
                   "power model): DRAMPower equations on the memspec's VDD1+VDD2 currents",
    "hbm2": "total time validated against DRAMSys 4.0; power NOT validated (DRAMSys 4.0 has no HBM2 power model): "
            "DRAMPower equations on DRAMsim3's HBM2_8Gb_x128 currents",
}


def fidelity_notes(mem: MemSpec) -> list[str]:
    """One line per fact: which of ``mem``'s figures are validated, and against what."""
    what = _VALIDATED.get(mem.name, "NOT validated against a reference simulator (time or power)")
    return [f"fidelity: {what}",
            "validated against DRAMSys 4.0: power of ddr3-1600 and ddr4-2400 only; "
            "total time of ddr3-1600, ddr4-2400, lpddr4-3200, hbm2"]


def simulate(trace: Trace | str | Path | Mapping[str, Any], mcconfig: Mapping[str, Any] | None = None,
             memory: str | MemSpec = "ddr3-1600", *, jit: bool | None = None,
             trace_dir: str | Path | None = None) -> RunResult:
    """Simulate one trace under one DRAMSys-style ``mcconfig`` dict (missing keys: ArchGym baseline).

    Returns a :class:`.controller.RunResult`; ``.metrics()`` gives the metric dict.
    """
    mem = memory if isinstance(memory, MemSpec) else load_standard(memory)
    tr = resolve_workload(trace, mem, trace_dir)
    return run(mem, tr, mcconfig, jit=jit)


class DRAMSimulator(Simulator):
    """DRAM controller + device model reproducing DRAMSys 4.0 on ArchGym's setup.

    ``DRAMSimulator(workload="stream", memory="ddr3-1600", **options)``;
    options: ``power_down`` (add PowerDownPolicy to the space, default False),
    ``integer`` (search every integer buffer size / active-transaction count /
    refresh flexibility instead of powers of two, default False),
    ``trace_dir`` (folder with ArchGym's ``.stl`` traces), ``jit`` (None =
    numba if installed), ``fixed`` (extra mcconfig keys held constant).
    Construction is cheap; the trace is built on first evaluation.
    """

    name: ClassVar[str] = "DRAM"
    # 1.2: a bank machine is idle for refresh once its queue empties (as in DRAMSys);
    # 1.1: lpddr4-3200 and hbm2 became DRAMSys's devices
    version: ClassVar[str] = "1.2"
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("total_time_ns", "ns", True, "completion time of the last response (DRAMSys Total Time)", 1e5),
        Metric("avg_read_latency_ns", "ns", True, "mean read latency from player send to response", 1e3),
        Metric("p99_read_latency_ns", "ns", True, "99th-percentile read latency", 1e4),
        Metric("bandwidth_gbps", "GB/s", False, "bytes moved / total time", 10.0),
        Metric("row_hit_rate", "fraction", False, "1 - ACT commands / CAS commands", 0.5),
        Metric("energy_pj", "pJ", True, "DRAMPower total energy of the rank", 1e8),
        Metric("avg_power_mw", "mW", True, "energy / DRAMPower energy window", 1e3),
    )
    workload_names: ClassVar[tuple[str, ...]] = tuple(SHIPPED_WORKLOADS) + _FILE_ONLY

    def __init__(self, workload: Any = "stream", memory: str | MemSpec = "ddr3-1600", *,
                 power_down: bool = False, integer: bool = False, trace_dir: str | Path | None = None,
                 jit: bool | None = None, fixed: Mapping[str, Any] | None = None) -> None:
        self.memory = memory if isinstance(memory, MemSpec) else load_standard(memory)
        self.trace_dir = trace_dir
        self.jit = jit
        self.space = dram_space(power_down=power_down, integer=integer)
        self.fixed = _check_fixed(fixed, self.space)
        self.workload = workload
        if isinstance(workload, (str, Path)) and str(workload) not in SHIPPED_WORKLOADS:
            name = str(workload)
            path = _trace_file(name, trace_dir)
            if path is not None:        # a file: missing, a folder or unreadable is refused now
                check_readable(path, "trace file", TraceError)
            elif name.removesuffix(".stl") not in _FILE_ONLY:
                raise WorkloadError(f"unknown workload {name!r}; shipped: {', '.join(self.workload_names)}, "
                                    "or a .stl/.rstl/.csv path, or a generator spec dict")

    @property
    def workload(self) -> Trace:
        """The workload as a :class:`.trace.Trace`, built from what was given (:attr:`workload_spec`:
        a name, a path, a generator spec or a trace) on first use.  Its ``fingerprint()``
        hashes the requests, so proxies, tables and datasets made on it follow its content,
        not its name (:func:`archgym.standin.workload_digest`)."""
        return self.trace

    @workload.setter
    def workload(self, value: Any) -> None:
        self.workload_spec = value
        self._trace: Trace | None = None
        self._decoded: DecodedTrace | None = None

    def __repr__(self) -> str:          # without reading the trace
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, workload={self.workload_label!r})"

    @property
    def workload_label(self) -> str:
        w = self.workload_spec
        if isinstance(w, Mapping):
            return str(w.get("name", w.get("pattern", "generated")))
        if isinstance(w, Trace):
            return w.name
        return Path(str(w)).stem if isinstance(w, (str, Path)) else type(w).__name__

    @property
    def trace(self) -> Trace:
        """The workload's trace (parsed or generated once, on first use)."""
        if self._trace is None:
            self._trace = resolve_workload(self.workload_spec, self.memory, self.trace_dir)
        return self._trace

    def describe(self) -> dict:
        """:meth:`Simulator.describe` plus the memory and what its figures are validated against."""
        d = super().describe()
        d["memory"] = self.memory.name
        d["notes"] = [f"memory: {self.memory.name} ({', '.join(standard_names())} shipped)",
                      *fidelity_notes(self.memory)]
        return d

    def reference_config(self) -> dict:
        """ArchGym's baseline controller configuration."""
        return {k: DEFAULT_MCCONFIG[k] for k in self.space.names}

    def simulate(self, config: Mapping[str, Any]) -> RunResult:
        """Full :class:`.controller.RunResult` for a validated design."""
        mc = dict(DEFAULT_MCCONFIG)
        mc.update(self.fixed)
        mc.update(config)
        if self._decoded is None:
            # decoded once per simulator: evaluate_batch over many designs of one
            # trace pays parsing, the capacity check and address decoding once
            self._decoded = decode_trace(self.memory, self.trace)
        return run(self.memory, None, mc, jit=self.jit, decoded=self._decoded)

    def _evaluate(self, config: dict) -> dict:
        try:
            return self.simulate(config).metrics()
        except ControllerDeadlock as e:  # only reachable through fixed={"CmdMux": "Strict"}
            return self.infeasible(str(e))

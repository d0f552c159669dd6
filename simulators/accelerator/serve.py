"""Serve one layer's request stream with DRAM-v0's controller core: the whole stream, or a sample.

Both paths return a :class:`LayerService`: how late the last request of any
batch completes after its fold's slot ends (the stall the array sees, ns),
the DRAM energy split into a per-request part, the background (+ refresh,
power-down) energy over the served window and an idle-tail model for the
rest of the layer (:mod:`.idle`), and row-hit / read-latency counts.

* :func:`serve_full` runs the controller (:func:`archgym.simulators.dram.run`)
  on the layer's whole stream (exactly DRAM-v0 on that trace).  ``lateness``
  is ``max_k (completion of batch k's last request - end of fold slot k)``
  with slot ``k`` ending at ``(k+1)*L`` cycles.
* :func:`serve_window` simulates about ``window`` requests and extrapolates:

  - per fold class (first/later column fold x first/later row fold: the
    classes move different operand mixes, e.g. only the first row fold of a
    column drains outputs), a *saturated* run of up to ``window/(2*classes)``
    requests of that class, issued all at time 0: 8 runs of consecutive
    batches spread evenly over the class (the operand streams drift through
    the banks at different speeds, so the row-conflict rate depends on where
    in the layer one looks).  It gives the class's steady service time per
    request ``sigma_c``, energy per request (ACT, PRE, RD, WR) and ACT rate.
    A short run holds fewer refreshes than a long stream (the controller
    postpones up to ``RefreshMaxPostponed``), so ``sigma_c`` is corrected to
    one ``tRFC`` per ``tREFI``;
  - a *paced* run of ``window/2`` consecutive requests from the middle of the
    layer, at the rate compute demands, gives the background power
    (refresh power added analytically), the read latency and the unloaded
    latency ``tau`` (its first request);
  - the whole layer is then a fluid queue: batch ``k`` of class ``c`` brings
    ``sigma_c * n_k`` ns of work during its slot of ``L`` cycles; the backlog
    is ``U_k = max(0, U_{k-1} + sigma_c*n_k - L)`` (Lindley) and batch ``k``
    is late by ``U_k + max(tau - L/(2 n_k), 0)``.

  Energy = energy per request x requests + background power x the busy
  time (to the last batch with requests, plus its lateness) + the idle tail
  (:mod:`.idle`) for the rest of the layer.
  The error against :func:`serve_full` is measured by
  ``experiments/benchmarks/accelerator.py`` and bounded by
  ``tests/test_accelerator.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..dram.controller import RunResult, run
from ..dram.energy import refresh_energy_pj
from ..dram.standards import MemSpec
from .idle import IdleTail, idle_tail
from .stream import LayerStream

__all__ = ["LayerService", "serve_full", "serve_window", "run_service", "batch_lateness_ns", "combine_channels"]


@dataclass(frozen=True)
class LayerService:
    """DRAM service of one layer (one repeat) on one channel, or several (``parts``).

    Times in ns, energies in pJ.  ``busy_ns`` is the end of the served
    stream's energy window (DRAMPower's: the last command's completion);
    ``busy_background_pj`` the background, refresh and power-down energy up to
    it, ``n_refresh`` the refreshes issued in it; the rest of the layer is
    charged by ``idle`` (:mod:`.idle`).
    """

    lateness_ns: float
    dynamic_pj: float
    busy_background_pj: float
    busy_ns: float
    n_refresh: float
    n_requests: int
    n_act: float
    n_reads: int
    read_latency_ns: float
    simulated: int
    idle: IdleTail | None = None
    parts: tuple["LayerService", ...] = ()

    def energy_pj(self, layer_ns: float) -> float:
        """DRAM energy of a layer lasting ``layer_ns``: per-request energy + background over the
        served window + the idle tail's (summed over the channels)."""
        if self.parts:
            return sum(p.energy_pj(layer_ns) for p in self.parts)
        e = self.dynamic_pj + self.busy_background_pj
        if self.idle is not None:
            e += self.idle.energy_pj(self.busy_ns, layer_ns, self.n_refresh)
        return e


def combine_channels(services: list[LayerService]) -> LayerService:
    """One layer's service over parallel channels: the array waits for the slowest channel
    (lateness = max); energies (each channel's own tail) and counts add; read latency is
    the read-weighted mean."""
    if len(services) == 1:
        return services[0]
    reads = sum(s.n_reads for s in services)
    lat = sum(s.read_latency_ns * s.n_reads for s in services) / reads if reads else 0.0
    return LayerService(max(s.lateness_ns for s in services), sum(s.dynamic_pj for s in services),
                        sum(s.busy_background_pj for s in services), max(s.busy_ns for s in services),
                        sum(s.n_refresh for s in services), sum(s.n_requests for s in services),
                        sum(s.n_act for s in services), reads, lat, sum(s.simulated for s in services),
                        parts=tuple(services))


def batch_lateness_ns(result: RunResult, slot: np.ndarray, slot_ns: float) -> float:
    """``max_k`` (last completion of slot ``k``'s requests - ``(k+1)*slot_ns``), at least 0."""
    if not slot.size:
        return 0.0
    starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
    done = np.maximum.reduceat(result.complete_ns, starts)
    return max(0.0, float(np.max(done - (slot[starts] + 1) * slot_ns)))


def _split(result: RunResult) -> tuple[float, float, float]:
    """(per-request energy pJ, background + refresh + power-down energy pJ, mean read latency ns) of a run."""
    e = result.energy
    dyn = e.act_pj + e.pre_pj + e.read_pj + e.write_pj
    bg = e.refresh_pj + e.background_pj + e.powerdown_pj
    rd = result.is_write == 0
    lat = float(np.mean((result.complete_ns - result.send_ns)[rd])) if rd.any() else 0.0
    return dyn, bg, lat


def _empty(spec: MemSpec, mcconfig: Mapping[str, Any]) -> LayerService:
    """No requests: the whole layer idles (precharged, refreshing)."""
    return LayerService(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0, 0.0, 0, idle_tail(spec, {**mcconfig, "PagePolicy": "Closed"}))


def serve_full(stream: LayerStream, spec: MemSpec, mcconfig: Mapping[str, Any], *,
               jit: bool | None = None) -> LayerService:
    """Serve the whole stream (see the module docstring)."""
    if not stream.n_requests:
        return _empty(spec, mcconfig)
    tr, slot = stream.trace()
    res = run(spec, tr, mcconfig, jit=jit)
    return run_service(res, spec, mcconfig, batch_lateness_ns(res, slot, stream.L * stream.cycle_ns))


def run_service(result: RunResult, spec: MemSpec, mcconfig: Mapping[str, Any],
                lateness_ns: float = 0.0) -> LayerService:
    """The service of a whole controller run (its energy window, then the idle tail)."""
    dyn, bg, lat = _split(result)
    return LayerService(lateness_ns, dyn, bg, result.energy.window_ns, float(result.n_refresh), result.n_requests,
                        float(result.n_act), int(np.sum(result.is_write == 0)), lat, result.n_requests,
                        idle_tail(spec, mcconfig))


def sample_requests(sizes: np.ndarray, batches: np.ndarray, budget: int, runs: int = 8) -> np.ndarray:
    """Stream positions of ``runs`` runs of consecutive entries of ``batches`` (one fold class),
    spread evenly over them, about ``budget`` requests in all (a batch larger than its share
    contributes its first requests)."""
    if not batches.size:
        return np.zeros(0, np.int64)
    mean = max(float(sizes[batches].mean()), 1.0)
    per_run = max(1, int(round(budget / runs / mean)))
    runs = max(1, min(runs, batches.size // per_run))
    starts = np.round(np.linspace(0, batches.size - per_run, runs)).astype(np.int64)
    pick = np.unique((starts[:, None] + np.arange(per_run)[None, :]).reshape(-1))
    pick = batches[pick[pick < batches.size]]
    first = np.cumsum(sizes) - sizes
    cap = max(1, budget // pick.size)
    take = np.minimum(sizes[pick], cap)
    return np.repeat(first[pick], take) + (np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take))


def serve_window(stream: LayerStream, spec: MemSpec, mcconfig: Mapping[str, Any], window: int, *,
                 jit: bool | None = None) -> LayerService:
    """Serve a sample of about ``window`` requests and extrapolate (module docstring);
    a stream no longer than ``window`` is served whole."""
    N = stream.n_requests
    if N <= window:
        return serve_full(stream, spec, mcconfig, jit=jit)
    sizes = stream.batch_sizes
    cls = stream.fold_class
    present = [c for c in range(4) if np.any((cls == c) & (sizes > 0))]
    budget = max(window // (2 * len(present)), 1)
    sigma = np.zeros(4)
    eps = np.zeros(4)
    act = np.zeros(4)
    simulated = 0
    refresh = mcconfig.get("RefreshPolicy", "AllBank") != "NoRefresh"
    t = spec.timing
    for c in present:
        sel = sample_requests(sizes, np.flatnonzero((cls == c) & (sizes > 0)), budget)
        tr0, _ = stream.trace(sel, backlogged=True)
        sat = run(spec, tr0, mcconfig, jit=jit)
        n = sat.n_requests
        span = float(np.ptp(sat.complete_ns))
        sig = span / (n - 1) if n > 1 else float(sat.complete_ns[0])
        if refresh and span > 0:
            # a short run holds fewer refreshes than a long stream (the controller postpones up to
            # RefreshMaxPostponed of them): count one tRFC per tREFI instead of the run's own.  A standard
            # that refreshes more often than that (HBM2's pseudo-channels) keeps its run's own refreshes.
            sig *= max(1.0, max(span - sat.n_refresh * t["RFC"] * spec.tck_ns, 1e-9) / span
                       / (1.0 - t["RFC"] / t["REFI"]))
        e = sat.energy
        sigma[c], eps[c], act[c] = sig, (e.act_pj + e.pre_pj + e.read_pj + e.write_pj) / n, sat.n_act / n
        simulated += n
    mid = N // 2 - window // 4
    tr, _ = stream.trace(np.arange(mid, mid + window // 2))
    paced = run(spec, tr, mcconfig, jit=jit)
    pe = paced.energy
    # refresh: one all-bank refresh per tREFI per rank (HBM2's pseudo-channels are two ranks)
    ref_rate = spec.simulated_ranks / (t["REFI"] * spec.tck_ns) if refresh else 0.0       # refreshes per ns
    bg = (pe.background_pj + pe.powerdown_pj) / pe.window_ns + ref_rate * refresh_energy_pj(spec)
    _, _, lat = _split(paced)
    tau = float(paced.complete_ns[0] - paced.send_ns[0])
    slot_ns = stream.L * stream.cycle_ns
    nk = sizes.astype(np.float64)
    S = np.cumsum(sigma[cls] * nk - slot_ns)
    U = S - np.minimum(np.minimum.accumulate(S), 0.0)
    busy = nk > 0
    late = U[busy] + np.maximum(tau - 0.5 * slot_ns / nk[busy], 0.0)
    lateness = max(0.0, float(late.max()))
    # busy until the last batch with requests is served; the folds after it idle (:mod:`.idle`)
    busy_ns = (int(np.flatnonzero(busy)[-1]) + 1) * slot_ns + max(lateness, 0.0)
    n_reads = int(stream.counts[:, :3].sum())
    return LayerService(lateness, float(np.dot(eps[cls], nk)), bg * busy_ns, busy_ns, ref_rate * busy_ns, N,
                        float(np.dot(act[cls], nk)), n_reads, lat, simulated + paced.n_requests,
                        idle_tail(spec, mcconfig))

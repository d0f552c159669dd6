"""``AcceleratorSimulator`` (``Accelerator-v0``): systolic compute + on-chip SRAMs + a DRAM controller, coupled.

Design space (parameter names as in the single-subsystem envs), in three
declared groups:

==========  ===================================================  =========================
group       parameters                                           as in
==========  ===================================================  =========================
compute     ``array_rows``, ``array_cols``, ``dataflow``          ``Systolic-v0``
on_chip     ``ifmap_sram_kb``, ``filter_sram_kb``,                ``Systolic-v0``
            ``ofmap_sram_kb``
dram        ``memory`` (ddr3-1600, lpddr4-3200, ddr4-2400,        ``DRAM-v0`` (``memory=``
            hbm2), ``channels`` (1, 2, 4, 8),                     option and its ten
            ``PagePolicy``, ``Scheduler``, ... (the controller    ``mcconfig`` knobs)
            knobs)
==========  ===================================================  =========================

``channels`` (group dram) channels of the chosen standard, each as
``DRAM-v0`` models one, interleaved at burst granularity (package
docstring).  Metrics: ``latency_ns``, ``cycles``, ``stall_cycles``,
``energy_pj`` (on-chip + DRAM), ``onchip_energy_pj`` (MACs, PE registers,
SRAMs: Systolic-v0's energy without its DRAM term), ``dram_energy_pj``
(DRAMPower: commands + background + refresh over the run), ``area_mm2``
(PE array + SRAMs), ``edp_pj_s`` (energy x latency), ``dram_bytes`` (bursts
moved), ``row_hit_rate``, ``avg_read_latency_ns``, ``utilization``.  On-chip
leakage is not modelled (as in Systolic-v0); the DRAM's static power is its
background + refresh energy, part of ``dram_energy_pj``.

The coupling model is in the package docstring.  Infeasible designs (a
stationary tile that does not fit in half its SRAM) are reported as in
Systolic-v0.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

import numpy as np

from archgym.simulator import Metric, Simulator
from archgym.space import Categorical, DesignSpace

from ..dram.controller import ControllerDeadlock
from ..dram.knobs import DEFAULT_MCCONFIG, KNOBS, dram_space
from ..dram.standards import MemSpec, load_standard
from ..systolic import compute, energy, memory
from ..systolic.model import evaluate_arrays
from ..systolic.simulator import SystolicSimulator
from ..workloads.network import as_network
from ..scratchpad.baselines import InfeasibleError
from . import act_buffer
from .placement import Layout, check_layout_options, layout
from .serve import LayerService, combine_channels, serve_full, serve_window
from .stream import STREAMS, LayerStream, fold_classes, layer_stream, split_channels

__all__ = ["AcceleratorSimulator", "MEMORIES", "CHANNELS", "GROUPS", "layer_class_words"]

#: memory standards as DRAM-v0 models them; peak bandwidth per channel 12.8, 6.4 (one x16
#: channel), 19.2 and 16 GB/s (one 64-bit HBM2 pseudo-channel)
MEMORIES = ("ddr3-1600", "lpddr4-3200", "ddr4-2400", "hbm2")
#: channels (HBM2: pseudo-channels) of the standard, interleaved at burst granularity
CHANNELS = (1, 2, 4, 8)
COMPUTE = ("array_rows", "array_cols", "dataflow")
ON_CHIP = ("ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")
BUFFER = ("act_buffer_kb", "act_buffer_policy")
GROUPS = {"compute": COMPUTE, "on_chip": ON_CHIP + BUFFER, "dram": ("memory", "channels") + tuple(KNOBS)}
_S = {name: s for s, (name, _) in enumerate(STREAMS)}


def layer_class_words(ft: memory.FoldTransfers, df: int, l: int) -> np.ndarray:
    """``(4, 4)`` words per fold for layer ``l``: rows = fold class ``2*(j>0) + (i>0)``,
    columns = :data:`.stream.STREAMS` (from the systolic model's fold transfers)."""
    out = np.zeros((4, 4))
    a_op, y_op, c_op = ft.roles
    pick = lambda v: float(np.asarray(v).reshape(-1)[l] if np.ndim(v) else v)  # noqa: E731
    a, a_later, x, x_inner, c = (pick(v) for v in (ft.a, ft.a_later, ft.x, ft.x_inner, ft.c))
    out[[0, 1], _S[f"{a_op}_read"]] += a
    out[[2, 3], _S[f"{a_op}_read"]] += a_later
    if df == compute.OS:                      # Y = filter tile, reads
        out[[0, 2], _S["filter_read"]] += x
        out[[1, 3], _S["filter_read"]] += x_inner
        out[:, _S["ofmap_write"]] += c
    else:                                     # Y = partial sums: drained; a spill is written and read back
        out[[0, 2], _S["ofmap_write"]] += x
        out[[1, 3], _S["ofmap_write"]] += 0.5 * x_inner
        out[[1, 3], _S["ofmap_read"]] += 0.5 * x_inner
        out[:, _S[f"{c_op}_read"]] += c
    return out


class _NoGraph(ValueError):
    """The workload has no operator graph for the activation buffer's plan."""


class AcceleratorSimulator(Simulator):
    """Systolic array + SRAMs + DRAM controller (see the module and package docstrings).

    Args:
        workload: as Systolic-v0 (network name, topology CSV, ONNX model, Layer(s));
            ``input_shapes``, ``onnx_unsupported`` for an ``.onnx`` path, as Systolic-v0.
        word_bytes, clock_mhz: as Systolic-v0 (1 byte, 1000 MHz).
        window: ``None`` or 0 (the default) serves every request (exact); a number
            simulates about that many requests per layer and extrapolates
            (:func:`.serve.serve_window`, about 10x faster, error measured by
            ``experiments/benchmarks/accelerator.py``, see docs/accelerator.md).
        address_mapping: ``"interleaved"`` (default: row:rank:bank:bankgroup:column, every bank
            in use) or ``"stock"`` (the standard file's DRAMSys mapping); :mod:`.placement`.
        placement: where the operand regions start: ``"staggered"`` (default: a third of the
            banks apart), ``"packed"`` or ``"mib"`` (1 MiB boundaries); :mod:`.placement`.
        ideal_memory: infinite bandwidth, zero latency, no DRAM energy (the
            consistency check against Systolic-v0's compute cycles).
        jit: numba for the DRAM core (None = if installed), as DRAM-v0.
    """

    name: ClassVar[str] = "Accelerator"
    version: ClassVar[str] = "0.3.0"
    default_objective: ClassVar[Any] = "latency_ns, energy_pj"
    workload_names: ClassVar[tuple[str, ...]] = SystolicSimulator.workload_names
    metrics: ClassVar[tuple[Metric, ...]] = (
        Metric("latency_ns", "ns", True, "network latency: compute overlapped with DRAM service", 1e6),
        Metric("energy_pj", "pJ", True, "on-chip dynamic energy + DRAM energy (DRAMPower)", 1e9),
        Metric("cycles", "cycles", True, "network latency in accelerator clock cycles", 1e6),
        Metric("stall_cycles", "cycles", True, "cycles the array waits for DRAM", 1e5),
        Metric("onchip_energy_pj", "pJ", True, "MACs, PE registers and SRAM accesses", 1e9),
        Metric("dram_energy_pj", "pJ", True, "DRAM commands + background + refresh over the run", 1e9),
        Metric("area_mm2", "mm^2", True, "PE array + ifmap/filter/ofmap SRAM + activation buffer area (45 nm)", 10.0),
        Metric("edp_pj_s", "pJ*s", True, "energy x latency", 1e6),
        Metric("dram_bytes", "bytes", True, "bytes moved in DRAM bursts (reads + writes)", 1e7),
        Metric("row_hit_rate", "fraction", False, "1 - ACT commands / requests", 0.5),
        Metric("avg_read_latency_ns", "ns", True, "mean DRAM read latency", 100.0),
        Metric("utilization", "fraction", False, "MACs / (cycles x PEs)", 0.5),
    )

    def __init__(self, workload: Any = "resnet18", word_bytes: int = 1, clock_mhz: float = 1000.0, *,
                 window: int | None = None, ideal_memory: bool = False, jit: bool | None = None,
                 address_mapping: str = "interleaved", placement: str = "staggered",
                 input_shapes: Any = None, onnx_unsupported: str = "error") -> None:
        check_layout_options(address_mapping, placement)
        self._network = as_network(workload, input_shapes, onnx_unsupported)  # an ONNX model, read once
        self._systolic = SystolicSimulator(self._network or workload, word_bytes=word_bytes, clock_mhz=clock_mhz)
        if window is not None and not (isinstance(window, (int, np.integer)) and window >= 0):
            raise ValueError(f"window must be a non-negative integer or None, got {window!r}")
        self.workload = self._systolic.workload
        self.layers = self._systolic.layers
        self.word_bytes = self._systolic.word_bytes
        self.clock_mhz = self._systolic.clock_mhz
        self.window = int(window) if window else None
        self.ideal_memory = bool(ideal_memory)
        self.address_mapping = address_mapping
        self.placement = placement
        self.jit = jit
        sp = self._systolic.space
        self.space = DesignSpace([*(sp[p] for p in COMPUTE + ON_CHIP),
                                  Categorical("act_buffer_kb", act_buffer.BUFFER_KB,
                                              "global activation buffer between layers (0 = none)", "KiB"),
                                  Categorical("act_buffer_policy", act_buffer.POLICIES,
                                              "activation buffer plan: none, or the scratchpad scheduler's Belady"),
                                  Categorical("memory", MEMORIES, "DRAM standard (one channel as DRAM-v0)"),
                                  Categorical("channels", CHANNELS, "channels (HBM2: pseudo-channels), "
                                              "interleaved at burst granularity"),
                                  *dram_space().parameters], groups=GROUPS)
        self._arrays = self._systolic._arrays
        self._specs: dict[str, MemSpec] = {}
        self._cache: dict[tuple, LayerService] = {}

    @property
    def cycle_ns(self) -> float:
        return 1e3 / self.clock_mhz

    def spec(self, name: str) -> MemSpec:
        if name not in self._specs:
            self._specs[name] = load_standard(name)
        return self._specs[name]

    def layout(self, name: str) -> Layout:
        """Operand placement and address mapping on one channel of standard ``name``."""
        return layout(self.spec(name), self.address_mapping, self.placement)

    def peak_words_per_cycle(self, name: str, channels: int = 1) -> float:
        """Peak bandwidth of ``channels`` channels of the standard in words per accelerator cycle."""
        return channels * self.spec(name).peak_bandwidth_gbps * self.cycle_ns / self.word_bytes

    def reference_config(self) -> dict:
        """A mid-size design on DDR4 with ArchGym's baseline controller."""
        cfg = {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "ifmap_sram_kb": 256, "filter_sram_kb": 256,
               "ofmap_sram_kb": 256, "act_buffer_kb": 0, "act_buffer_policy": "none", "memory": "ddr4-2400",
               "channels": 1}
        cfg.update({k: DEFAULT_MCCONFIG[k] for k in KNOBS})
        return self.space.validate(cfg)

    # -- the model ---------------------------------------------------------------
    def layer_streams(self, config: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], list[LayerStream]]:
        """Systolic per-layer figures (at the standard's peak bandwidth) and each layer's request stream."""
        cfg = self.space.validate(config)
        spec = self.spec(cfg["memory"])
        wb = self.word_bytes
        la = self._arrays
        df = int(compute.dataflow_code(cfg["dataflow"]))
        R, C = float(cfg["array_rows"]), float(cfg["array_cols"])
        kb = [float(cfg[p]) for p in ON_CHIP]
        per = evaluate_arrays(R, C, df, *kb, self.peak_words_per_cycle(cfg["memory"], int(cfg["channels"])), la,
                              word_bytes=wb)
        g = compute.fold_geometry(R, C, df, la["M"], la["K"], la["N"])
        words = [k * 1024.0 / wb for k in kb]
        ft = memory.fold_transfers(g, la, *words)
        regions = np.stack([la["ifmap_footprint"], la["K"] * la["N"], la["M"] * la["N"], la["M"] * la["N"]], axis=1)
        Fr = np.broadcast_to(g.Fr, la["M"].shape)
        Fc = np.broadcast_to(g.Fc, la["M"].shape)
        Ls = np.broadcast_to(g.L, la["M"].shape)
        words_l = [layer_class_words(ft, df, i) for i in range(len(self.layers))]
        per["buffer_pj"] = np.zeros(len(self.layers))
        per["peak_stall"] = np.asarray(per["stall_cycles"], dtype=np.float64) / np.asarray(la["repeat"])
        kept = self._kept(cfg)
        if kept is not None:
            e_byte = float(energy.sram_energy_per_byte_pj(float(cfg["act_buffer_kb"])))
            bw = self.peak_words_per_cycle(cfg["memory"], int(cfg["channels"]))
            for i, (kin, kout) in enumerate(zip(*kept)):
                cols = ([_S["ifmap_read"]] if kin else []) + ([_S["ofmap_read"], _S["ofmap_write"]] if kout else [])
                if not cols:
                    continue
                w = words_l[i]
                n_cls = np.bincount(fold_classes(int(Fr[i]), int(Fc[i])), minlength=4)
                per["buffer_pj"][i] = float(n_cls @ w[:, cols].sum(axis=1)) * wb * e_byte * float(la["repeat"][i])
                w[:, cols] = 0.0
                # Systolic-v0's stall rule at peak bandwidth on the reduced traffic, per fold class
                per["peak_stall"][i] = float(n_cls @ np.maximum(w.sum(axis=1) / bw - float(Ls[i]), 0.0))
        streams = [layer_stream(words_l[i], int(Fr[i]), int(Fc[i]), float(Ls[i]), regions[i],
                                word_bytes=wb, burst_bytes=spec.burst_bytes, cycle_ns=self.cycle_ns,
                                player_ns=1e3 / spec.trace_player_mhz, layout=self.layout(cfg["memory"]))
                   for i in range(len(self.layers))]
        return per, streams

    def _kept(self, cfg: Mapping[str, Any]) -> tuple[list[bool], list[bool]] | None:
        """Per layer (inputs on chip, outputs on chip) under the activation buffer, or None without one."""
        if cfg["act_buffer_policy"] == "none" or not cfg["act_buffer_kb"]:
            return None
        net = self.workload if isinstance(self.workload, str) else None
        if self._network is None and net not in act_buffer.GRAPH_BUILDERS:
            raise _NoGraph(f"no operator graph for workload {self.workload!r} (the activation buffer needs an "
                           f"ONNX model or one of {', '.join(act_buffer.GRAPH_BUILDERS)})")
        key = ("kept", net, int(cfg["act_buffer_kb"]))
        if key not in self._cache:
            g = act_buffer.activation_graph(self._network or net)
            ops = (self._network.graph_op_indices() if self._network is not None
                   else act_buffer.layer_ops(g, [lay.name for lay in self.layers]))
            self._cache[key] = act_buffer.kept_layers(g, ops, int(cfg["act_buffer_kb"]) * 1024)
        return self._cache[key]

    def _serve(self, stream: LayerStream, cfg: Mapping[str, Any], mc: dict) -> LayerService:
        key = (stream.counts.shape, stream.counts.tobytes(), stream.L, stream.region_bytes.tobytes(),
               stream.bases.tobytes(), stream.layout.key if stream.layout else None, cfg["memory"],
               tuple(sorted(mc.items())), self.window)
        hit = self._cache.get(key)
        if hit is None:
            spec = self.spec(cfg["memory"])
            if self.window:
                hit = serve_window(stream, spec, mc, self.window, jit=self.jit)
            else:
                hit = serve_full(stream, spec, mc, jit=self.jit)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def evaluate_details(self, config: Mapping[str, Any]):
        """Per-layer DataFrame: ``layer``, ``compute_cycles`` (``F*L``), ``stall_cycles``, ``cycles``,
        ``dram_requests``, ``lateness_ns`` (controller), ``peak_rule_stall`` (Systolic-v0's stall rule
        at the standard's peak bandwidth), ``onchip_energy_pj``, ``dram_energy_pj``, ``feasible``."""
        import pandas as pd

        return pd.DataFrame(self._layers(self.space.validate(config)))

    def _layers(self, cfg: Mapping[str, Any], model: tuple | None = None) -> dict[str, Any]:
        per, streams = model or self.layer_streams(cfg)
        mc = {k: cfg[k] for k in KNOBS}
        rep = self._arrays["repeat"]
        cyc = self.cycle_ns
        out: dict[str, list] = {k: [] for k in ("layer", "compute_cycles", "stall_cycles", "cycles",
                                                "dram_requests", "dram_reads", "lateness_ns", "peak_rule_stall",
                                                "onchip_energy_pj", "dram_energy_pj", "n_act",
                                                "read_latency_ns", "feasible")}
        onchip = per["energy_pj"] - per["dram_words"] * (self.word_bytes * energy.DRAM_PJ_PER_BYTE)
        for i, (lay, st) in enumerate(zip(self.layers, streams)):
            comp = st.n_batches * st.L
            r = float(rep[i])
            peak = float(per["peak_stall"][i])
            if self.ideal_memory:
                svc, stall = None, 0.0
            else:
                svc = combine_channels([self._serve(s, cfg, mc) for s in split_channels(st, cfg["channels"])])
                stall = max(float(math.ceil(svc.lateness_ns / cyc - 1e-9)), peak)
            out["layer"].append(lay.name)
            out["compute_cycles"].append(comp * r)
            out["stall_cycles"].append(stall * r)
            out["cycles"].append((comp + stall) * r)
            out["dram_requests"].append(st.n_requests * r)
            out["dram_reads"].append((svc.n_reads if svc else 0) * r)
            out["lateness_ns"].append(svc.lateness_ns if svc else 0.0)
            out["peak_rule_stall"].append(peak * r)
            out["onchip_energy_pj"].append(float(onchip[i] + per["buffer_pj"][i]))
            out["dram_energy_pj"].append(svc.energy_pj((comp + stall) * cyc) * r if svc else 0.0)
            out["n_act"].append(svc.n_act * r if svc else 0.0)
            out["read_latency_ns"].append(svc.read_latency_ns if svc else 0.0)
            out["feasible"].append(bool(per["feasible"][i]))
        return out

    def _evaluate(self, config: dict) -> dict:
        try:
            model = self.layer_streams(config)
        except (InfeasibleError, _NoGraph) as e:
            return self.infeasible(f"activation buffer: {e}")
        per = model[0]
        if not np.all(per["feasible"]):
            probe = {p: config[p] for p in COMPUTE + ON_CHIP}
            probe["dram_bw_words_per_cycle"] = 64
            return self.infeasible(self._systolic.evaluate(probe)["reason"])
        try:
            d = self._layers(config, model)
        except ControllerDeadlock as e:  # pragma: no cover - only with CmdMux=Strict, not in the space
            return self.infeasible(str(e))
        spec = self.spec(config["memory"])
        cycles = float(np.sum(d["cycles"]))
        lat = cycles * self.cycle_ns
        onchip = float(np.sum(d["onchip_energy_pj"]))
        dram_e = float(np.sum(d["dram_energy_pj"]))
        req = float(np.sum(d["dram_requests"]))
        reads = np.asarray(d["dram_reads"], dtype=np.float64)
        R, C = float(config["array_rows"]), float(config["array_cols"])
        macs = float(np.sum(self._arrays["M"] * self._arrays["K"] * self._arrays["N"] * self._arrays["repeat"]))
        area = float(energy.array_area_mm2(R, C, self.word_bytes)
                     + energy.sram_area_mm2(sum(float(config[p]) for p in ON_CHIP + BUFFER[:1])))
        return {
            "latency_ns": lat,
            "energy_pj": onchip + dram_e,
            "cycles": cycles,
            "stall_cycles": float(np.sum(d["stall_cycles"])),
            "onchip_energy_pj": onchip,
            "dram_energy_pj": dram_e,
            "area_mm2": area,
            "edp_pj_s": (onchip + dram_e) * lat * 1e-9,
            "dram_bytes": req * spec.burst_bytes,
            # DRAM-v0's definition (RunResult.metrics): 1 - ACTs / requests, never negative
            # (AllBank refresh can close rows a request then reopens: more ACTs than requests)
            "row_hit_rate": max(req - float(np.sum(d["n_act"])), 0.0) / req if req else 0.0,
            "avg_read_latency_ns": (float(np.dot(reads, d["read_latency_ns"]) / reads.sum())
                                    if reads.sum() else 0.0),
            "utilization": macs / (cycles * R * C),
        }

"""``SystolicSimulator``: the archgym face of the analytical systolic-array model.

Design space (all finite; 352,947 designs, so ``evaluate_batch`` can sweep
all of it):

===========================  =======================  ===========
parameter                    values                   unit
===========================  =======================  ===========
``array_rows``               4, 8, ..., 256           PEs
``array_cols``               4, 8, ..., 256           PEs
``dataflow``                 os, ws, is
``ifmap_sram_kb``            16, 32, ..., 1024        KB
``filter_sram_kb``           16, 32, ..., 1024        KB
``ofmap_sram_kb``            16, 32, ..., 1024        KB
``dram_bw_words_per_cycle``  1, 2, ..., 64            words/cycle
===========================  =======================  ===========

Metrics (network totals; see :mod:`.model` for conventions): ``cycles``
(physical: ``sum F*L + stalls``, without SCALE-Sim's -1), ``stall_cycles``,
``utilization`` (MACs / (cycles*R*C), higher is better), ``energy_pj``
(dynamic, :mod:`.energy`), ``area_mm2`` (PE array + three SRAMs),
``latency_ns`` (cycles / ``clock_mhz``), ``dram_bytes`` and ``sram_bytes``
(all physical traffic in bytes).  :meth:`SystolicSimulator.evaluate_details`
returns SCALE-Sim's per-layer report columns.

The space is the search domain; the model itself costs any array of
``1..MODEL_MAX`` rows/columns, SRAMs of ``1..MODEL_MAX`` KB and a bandwidth of
``1..MODEL_MAX`` words/cycle (integers), so :meth:`SystolicSimulator.evaluate`
and ``archgym evaluate`` accept, e.g., SCALE-Sim's TPU-like example
(256x256, 6144/6144/2048 KB) and mark it ``in_space: False``.

A design is infeasible (``feasible=False``, NaN metrics) when some layer's
stationary ``R x C`` tile does not fit in half of its SRAM (see
:mod:`.model`); the reason names the layer and the SRAM.
"""
from __future__ import annotations

import configparser
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from archgym.errors import OptionError
from archgym.simulator import Metric, Simulator
from archgym.space import Categorical, DesignSpace, InvalidConfigError, as_whole_number, powers_of_two
from archgym.userfiles import read_text

from ..workloads.layers import Layer, as_layers, list_networks
from . import compute, energy
from .memory import SHARING_MODES
from .model import REPORT_COLUMNS, evaluate_arrays, layer_arrays

__all__ = ["SystolicSimulator", "layer_arrays", "ConfigFileError"]

PARAMS = ("array_rows", "array_cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
          "dram_bw_words_per_cycle")
_INFEASIBLE_SRAM = {1: "ofmap", 2: "filter", 3: "ifmap"}
#: largest array dimension, SRAM size (KB) and bandwidth (words/cycle) the model takes outside the space
MODEL_MAX = 1 << 20


class ConfigFileError(InvalidConfigError):
    """A SCALE-Sim ``.cfg`` file is unreadable, lacks a key, or has a value the model cannot take."""


class SystolicSimulator(Simulator):
    """Analytical SCALE-Sim-class systolic-array accelerator (see the module docstring).

    Args:
        workload: network name (:func:`list_networks`), topology CSV path, an
            ONNX model (``.onnx`` path or :class:`~archgym.simulators.workloads.Network`),
            a :class:`Layer`, a dict, or a list of Layers/dicts.
        input_shapes, onnx_unsupported: for an ``.onnx`` path
            (:func:`archgym.simulators.workloads.from_onnx`).
        word_bytes: bytes per word (operands and partial sums), default 1.
        clock_mhz: clock frequency for ``latency_ns``, default 1000.
        dram_sharing: ``"shared"`` (one DRAM interface for all three streams,
            default) or ``"per_operand"`` (a ``bw`` port per SRAM, as SCALE-Sim).
    """

    name = "Systolic"
    #: (design, layer) points evaluated per numpy chunk in ``evaluate_batch`` (bounds memory)
    CHUNK_POINTS = 1 << 18
    version = "1.0.0"
    workload_names = tuple(list_networks())
    metrics = (
        Metric("cycles", "cycles", True, "network latency in clock cycles (compute + stalls)", 1e6),
        Metric("stall_cycles", "cycles", True, "cycles the array waits for DRAM", 1e5),
        Metric("utilization", "fraction", False, "MACs / (cycles x PEs)", 0.5),
        Metric("energy_pj", "pJ", True, "dynamic energy: MACs, PE registers, SRAM, DRAM", 1e9),
        Metric("area_mm2", "mm^2", True, "PE array + ifmap/filter/ofmap SRAM area (45 nm)", 10.0),
        Metric("latency_ns", "ns", True, "cycles / clock frequency", 1e6),
        Metric("dram_bytes", "bytes", True, "DRAM traffic (reads + writes)", 1e7),
        Metric("sram_bytes", "bytes", True, "SRAM traffic (reads + writes)", 1e8),
    )

    def __init__(self, workload: Any = "resnet18", word_bytes: int = 1, clock_mhz: float = 1000.0,
                 dram_sharing: str = "shared", input_shapes: Any = None, onnx_unsupported: str = "error",
                 **options: Any) -> None:
        if options:
            names = ", ".join(map(repr, sorted(options)))
            raise OptionError(f"unknown option(s) for SystolicSimulator: {names}; allowed: "
                              "workload, word_bytes, clock_mhz, dram_sharing, input_shapes, onnx_unsupported")
        if not (isinstance(word_bytes, (int, np.integer)) and word_bytes > 0):
            raise ValueError(f"word_bytes must be a positive integer, got {word_bytes!r}")
        if not (isinstance(clock_mhz, (int, float)) and math.isfinite(clock_mhz) and clock_mhz > 0):
            raise ValueError(f"clock_mhz must be a positive number, got {clock_mhz!r}")
        if dram_sharing not in SHARING_MODES:
            raise ValueError(f"dram_sharing must be one of {SHARING_MODES}, got {dram_sharing!r}")
        label, layers = as_layers(workload, input_shapes, onnx_unsupported)
        self.workload = label
        self.layers: tuple[Layer, ...] = tuple(layers)
        self.word_bytes = int(word_bytes)
        self.clock_mhz = float(clock_mhz)
        self.dram_sharing = dram_sharing
        self._arrays = layer_arrays(self.layers)
        self.space = DesignSpace([
            powers_of_two("array_rows", 4, 256, "PE array rows", "PEs"),
            powers_of_two("array_cols", 4, 256, "PE array columns", "PEs"),
            Categorical("dataflow", compute.DATAFLOWS, "output / weight / input stationary"),
            powers_of_two("ifmap_sram_kb", 16, 1024, "ifmap scratchpad (double-buffered)", "KB"),
            powers_of_two("filter_sram_kb", 16, 1024, "filter scratchpad (double-buffered)", "KB"),
            powers_of_two("ofmap_sram_kb", 16, 1024, "ofmap scratchpad (double-buffered)", "KB"),
            powers_of_two("dram_bw_words_per_cycle", 1, 64, "DRAM bandwidth", "words/cycle"),
        ])

    def _validate_outside_space(self, config: Mapping[str, Any]) -> dict | None:
        """Any positive integer size up to :data:`MODEL_MAX` (see the module docstring)."""
        if set(config) != set(PARAMS):
            return None  # unknown or missing parameters: the space's error says which
        out: dict[str, Any] = {}
        for name in PARAMS:
            value = config[name]
            if name == "dataflow":
                out[name] = self.space[name].validate(value)
                continue
            n = as_whole_number(value)
            if n is None or not 1 <= n <= MODEL_MAX:
                raise InvalidConfigError(f"parameter {name!r}: {value!r} is not a size the model can cost; "
                                         f"allowed: integers 1..{MODEL_MAX} (search space: "
                                         f"{self.space[name].allowed()})")
            out[name] = n
        return out

    # -- core ------------------------------------------------------------------
    def _design_columns(self, configs: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        cols = {p: np.array([c[p] for c in configs]) for p in PARAMS}
        cols["dataflow"] = compute.dataflow_code(cols["dataflow"])
        return cols

    def _per_layer(self, d: Mapping[str, np.ndarray], report: bool = False) -> dict[str, np.ndarray]:
        """Model figures with shape (designs, layers)."""
        la = self._arrays
        col = {k: np.asarray(v)[:, None] for k, v in d.items()}
        return evaluate_arrays(col["array_rows"], col["array_cols"], col["dataflow"], col["ifmap_sram_kb"],
                               col["filter_sram_kb"], col["ofmap_sram_kb"], col["dram_bw_words_per_cycle"],
                               {k: v[None, :] for k, v in la.items()},
                               word_bytes=self.word_bytes, sharing=self.dram_sharing, report=report)

    def _totals(self, d: Mapping[str, np.ndarray], per: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        R = d["array_rows"].astype(np.float64)
        C = d["array_cols"].astype(np.float64)
        cycles = per["cycles"].sum(axis=1)
        macs = per["macs"].sum(axis=1)
        area = (energy.array_area_mm2(R, C, self.word_bytes)
                + energy.sram_area_mm2(d["ifmap_sram_kb"] + d["filter_sram_kb"] + d["ofmap_sram_kb"]))
        return {
            "cycles": cycles,
            "stall_cycles": per["stall_cycles"].sum(axis=1),
            "utilization": macs / (cycles * R * C),
            "energy_pj": per["energy_pj"].sum(axis=1),
            "area_mm2": area,
            "latency_ns": cycles * (1e3 / self.clock_mhz),
            "dram_bytes": per["dram_words"].sum(axis=1) * self.word_bytes,
            "sram_bytes": per["sram_words"].sum(axis=1) * self.word_bytes,
        }

    def _reasons(self, d: Mapping[str, np.ndarray], codes: np.ndarray) -> list[str]:
        out = []
        for i in range(codes.shape[0]):
            bad = np.flatnonzero(codes[i])
            if not bad.size:
                out.append("")
                continue
            j = int(bad[0])
            sram = _INFEASIBLE_SRAM[int(codes[i, j])]
            kb = int(d[f"{sram}_sram_kb"][i])
            out.append(f"layer {self.layers[j].name!r}: the {int(d['array_rows'][i])}x{int(d['array_cols'][i])} "
                       f"stationary tile does not fit in half of the {kb} KB {sram} SRAM")
        return out

    def _evaluate_columns(self, configs: Sequence[Mapping[str, Any]]) -> tuple[dict, np.ndarray, np.ndarray]:
        """Metric arrays, feasibility and reasons for validated designs (chunked over designs)."""
        d_all = self._design_columns(configs)
        n = len(configs)
        # designs grouped by dataflow so the kernel runs on contiguous rows; undone at the end
        order = np.argsort(d_all["dataflow"], kind="stable")
        d_all = {k: v[order] for k, v in d_all.items()}
        step = max(1, self.CHUNK_POINTS // max(1, len(self.layers)))
        parts = []
        reasons = np.full(n, "", dtype=object)
        feasible = np.ones(n, dtype=bool)
        for lo in range(0, n, step):
            d = {k: v[lo:lo + step] for k, v in d_all.items()}
            per = self._per_layer(d)
            tot = self._totals(d, per)
            ok = per["feasible"].all(axis=1)
            if not ok.all():
                for v in tot.values():
                    v[~ok] = np.nan
                idx = np.flatnonzero(~ok)
                codes = np.broadcast_to(per["infeasible_code"], (len(ok), len(self.layers)))
                reasons[lo + idx] = self._reasons({k: v[idx] for k, v in d.items()}, codes[idx])
                feasible[lo + idx] = False
            parts.append(tot)
        inv = np.empty_like(order)
        inv[order] = np.arange(n)
        cols = {k: np.concatenate([p[k] for p in parts])[inv] for k in parts[0]}
        return cols, feasible[inv], reasons[inv]

    def _evaluate_batch(self, configs: list[dict]):
        import pandas as pd

        cols, feasible, reasons = self._evaluate_columns(configs)
        df = pd.DataFrame(cols)
        df["feasible"] = feasible
        df["reason"] = reasons
        return df

    def _evaluate(self, config: dict) -> dict:
        cols, feasible, reasons = self._evaluate_columns([config])
        if not feasible[0]:
            return self.infeasible(str(reasons[0]))
        return {k: float(v[0]) for k, v in cols.items()}

    # -- extras ------------------------------------------------------------------
    def evaluate_details(self, config: Mapping[str, Any]):
        """Per-layer DataFrame: ``layer``, SCALE-Sim's report columns (``compute_cycles``
        = SCALE-Sim's "Total Cycles", ``*_pct`` in percent, access counts in words,
        ``avg_*_bw`` in words/cycle) and our physical ``cycles``, ``energy_pj``,
        ``dram_words``, ``sram_words``, ``feasible``."""
        import pandas as pd

        cfg, _ = self.validate_design(config)
        d = self._design_columns([cfg])
        per = self._per_layer(d, report=True)
        cols = {"layer": [lay.name for lay in self.layers]}
        for k in REPORT_COLUMNS + ("cycles", "macs", "utilization", "energy_pj", "dram_words", "sram_words",
                                   "feasible"):
            cols[k] = per[k][0]
        return pd.DataFrame(cols)

    def evaluate_arrays(self, **design_arrays: Any) -> dict[str, np.ndarray]:
        """Vectorized per-layer figures for arrays of designs (keys = parameter names,
        equal-length arrays); returns ``(designs, layers)`` arrays (see :mod:`.model`)."""
        missing = [p for p in PARAMS if p not in design_arrays]
        if missing:
            raise InvalidConfigError(f"missing parameter {missing[0]!r}")
        d = {p: np.asarray(design_arrays[p]) for p in PARAMS}
        d["dataflow"] = compute.dataflow_code(d["dataflow"])
        return self._per_layer(d)

    def parse_config_file(self, path: str) -> dict | None:
        """Design from a SCALE-Sim ``.cfg`` file; None for other extensions.

        Reads ``[architecture_presets]`` ``ArrayHeight``, ``ArrayWidth``,
        ``IfmapSramSzkB``, ``FilterSramSzkB``, ``OfmapSramSzkB``, ``Dataflow`` and
        ``Bandwidth`` (first value if a list).  With ``[run_presets]
        InterfaceBandwidth = CALC`` (SCALE-Sim estimates the bandwidth it needs)
        the largest bandwidth of the space is used; with ``USER`` the given one.
        Offsets, request buffers, banks and layout keys are ignored.  Sizes
        outside the search space are kept (the model costs them; the result
        says ``in_space: False``).  A missing key, a non-integer size
        (``ArrayHeight: 32.9``) or an unknown dataflow raises
        :class:`ConfigFileError` naming the file and key.
        """
        p = Path(path)
        if p.suffix.lower() != ".cfg":
            return None
        cp = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
        try:
            cp.read_string(read_text(p, "SCALE-Sim config", ConfigFileError), source=str(p))
        except configparser.Error as exc:
            raise ConfigFileError(f"{p}: cannot parse SCALE-Sim config ({str(exc).splitlines()[0]})") from None
        sec = "architecture_presets"
        if not cp.has_section(sec):
            raise ConfigFileError(f"{p}: missing section [{sec}]")

        def get(key: str) -> str:
            if not cp.has_option(sec, key):
                raise ConfigFileError(f"{p}: [{sec}] lacks key {key!r}")
            return cp.get(sec, key).strip().strip('"')

        mode = cp.get("run_presets", "InterfaceBandwidth", fallback="USER").strip().upper()
        keys = {"array_rows": "ArrayHeight", "array_cols": "ArrayWidth", "ifmap_sram_kb": "IfmapSramSzkB",
                "filter_sram_kb": "FilterSramSzkB", "ofmap_sram_kb": "OfmapSramSzkB", "dataflow": "Dataflow"}
        design: dict[str, Any] = {}
        for param, key in keys.items():
            raw = get(key)
            value: Any = raw.lower() if param == "dataflow" else raw
            if param == "dataflow":
                try:
                    design[param] = self.space[param].validate(value)
                except InvalidConfigError:
                    raise ConfigFileError(f"{p}: {key} = {raw!r}; allowed: {self.space[param].allowed()}") from None
            else:
                design[param] = self._cfg_size(p, key, raw)
        bw_param = self.space["dram_bw_words_per_cycle"]
        if mode == "CALC":
            design["dram_bw_words_per_cycle"] = bw_param.values[-1]
        elif mode == "USER":
            design["dram_bw_words_per_cycle"] = self._cfg_size(p, "Bandwidth", get("Bandwidth").split(",")[0].strip())
        else:
            raise ConfigFileError(f"{p}: [run_presets] InterfaceBandwidth = {mode!r}; allowed: USER, CALC")
        return self.validate_design(design)[0]

    @staticmethod
    def _cfg_size(path: Path, key: str, raw: str) -> int:
        """A whole number 1..MODEL_MAX from a ``.cfg`` value (``32.9`` is refused, not truncated)."""
        try:
            n = as_whole_number(float(raw))
        except ValueError:
            n = None
        if n is None or not 1 <= n <= MODEL_MAX:
            raise ConfigFileError(f"{path}: {key} = {raw!r} is not a whole number in 1..{MODEL_MAX}")
        return n

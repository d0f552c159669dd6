"""DNN layer shapes as SCALE-Sim-style layer tables.

A network is a list of :class:`Layer`; the shipped networks live in
``data/<name>.csv`` in SCALE-Sim's topology format, so the same files run
unchanged in SCALE-Sim::

    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,

IFMAP sizes **include the padding** (SCALE-Sim pads nothing), batch is 1.
GEMM tables use SCALE-Sim's GEMM form ``Layer, M, N, K,`` (a header whose
second column is ``M``).

Lowering to GEMM (as SCALE-Sim does):

* conv: ``M`` = output pixels ``OH*OW`` with ``OH = (H - Fh)//s + 1``,
  ``K`` = ``Fh*Fw*Ci``, ``N`` = number of filters;
* GEMM ``(M, N, K)``: stored in SCALE-Sim's own mapping, a 1-row "conv" with
  ``H = M, W = K, Fh = 1, Fw = K, Ci = 1, Co = N``, so the GEMM's ``M`` is
  the ifmap-row (output-pixel) dimension;
* depthwise conv (``kind="dwconv"``): a topology row whose name contains the
  substring ``DP`` is depthwise, as in SCALE-Sim, and its columns mean what
  SCALE-Sim reads from them: SCALE-Sim splits the row into ``Channels``
  layers of one input channel and ``Num Filter`` filters each (so ``Num
  Filter`` is the channel multiplier, 1 for MobileNet).  We model the same
  thing directly: ``repeat = Channels`` identical independent convs of one
  input channel and ``Num Filter`` filters, and the simulator multiplies every
  additive figure by ``repeat`` instead of listing ``Channels`` layers.

Sources of the shipped networks are in ``data/networks.json`` and
:func:`network_sources`.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from archgym.simulator import WorkloadError

__all__ = [
    "Layer",
    "WorkloadError",
    "list_networks",
    "load_network",
    "read_topology_csv",
    "parse_topology",
    "as_layers",
    "network_info",
    "network_sources",
]

KINDS = ("conv", "gemm", "dwconv")


@dataclass(frozen=True)
class Layer:
    """One layer in SCALE-Sim's conv form (sizes in elements, padding included).

    ``kind`` is ``conv``, ``gemm`` (stored as SCALE-Sim's 1-row conv, see the
    module docstring; build with :meth:`gemm`) or ``dwconv`` (depthwise:
    ``channels`` input channels, each convolved with ``num_filters`` filters
    of its own -- SCALE-Sim's ``DP`` semantics).
    """

    name: str
    kind: str
    ifmap_h: int
    ifmap_w: int
    filt_h: int
    filt_w: int
    channels: int
    num_filters: int
    stride: int = 1
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise WorkloadError(f"layer {self.name!r}: unknown kind {self.kind!r}; allowed: {', '.join(KINDS)}")
        for attr in ("ifmap_h", "ifmap_w", "filt_h", "filt_w", "channels", "num_filters", "stride"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, int):
                try:
                    iv = int(v)
                except (TypeError, ValueError):
                    raise WorkloadError(f"layer {self.name!r}: {attr} must be an integer, got {v!r}") from None
                if iv != v:
                    raise WorkloadError(f"layer {self.name!r}: {attr} must be an integer, got {v!r}")
                object.__setattr__(self, attr, iv)
                v = iv
            if v <= 0:
                raise WorkloadError(f"layer {self.name!r}: {attr} must be positive, got {v}")
        if self.filt_h > self.ifmap_h or self.filt_w > self.ifmap_w:
            raise WorkloadError(
                f"layer {self.name!r}: filter {self.filt_h}x{self.filt_w} larger than input "
                f"{self.ifmap_h}x{self.ifmap_w} (sizes must include padding)"
            )

    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int, source: str = "") -> "Layer":
        """A GEMM ``(M x K) @ (K x N)`` in SCALE-Sim's mapping (H=M, W=K, Fh=1, Fw=K, Ci=1, Co=N)."""
        for attr, v in (("M", m), ("N", n), ("K", k)):
            if int(v) <= 0:
                raise WorkloadError(f"layer {name!r}: GEMM {attr} must be positive, got {v}")
        return cls(name, "gemm", int(m), int(k), 1, int(k), 1, int(n), 1, source)

    # -- derived shapes ------------------------------------------------------
    @property
    def ofmap_h(self) -> int:
        return (self.ifmap_h - self.filt_h) // self.stride + 1

    @property
    def ofmap_w(self) -> int:
        return (self.ifmap_w - self.filt_w) // self.stride + 1

    @property
    def repeat(self) -> int:
        """How many identical independent GEMMs the layer is (``channels`` for depthwise, else 1)."""
        return self.channels if self.kind == "dwconv" else 1

    @property
    def M(self) -> int:
        """Rows of the lowered GEMM: output pixels."""
        return self.ofmap_h * self.ofmap_w

    @property
    def K(self) -> int:
        """Reduction length: filter window x input channels (per repeat for depthwise)."""
        ci = 1 if self.kind == "dwconv" else self.channels
        return self.filt_h * self.filt_w * ci

    @property
    def N(self) -> int:
        """Columns of the lowered GEMM: filters (per input channel for depthwise)."""
        return self.num_filters

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole layer (all repeats)."""
        return self.M * self.K * self.N * self.repeat

    @property
    def ifmap_footprint(self) -> int:
        """Distinct ifmap words touched by one repeat (SCALE-Sim's compulsory DRAM ifmap reads).

        Rows touched are the union of the filter windows: ``(OH-1)*min(s, Fh) + Fh``
        (equal to H whenever the windows cover the input); likewise columns.
        """
        rows = (self.ofmap_h - 1) * min(self.stride, self.filt_h) + self.filt_h
        cols = (self.ofmap_w - 1) * min(self.stride, self.filt_w) + self.filt_w
        ci = 1 if self.kind == "dwconv" else self.channels
        return rows * cols * ci

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "ifmap_h": self.ifmap_h, "ifmap_w": self.ifmap_w,
                "filt_h": self.filt_h, "filt_w": self.filt_w, "channels": self.channels,
                "num_filters": self.num_filters, "stride": self.stride}


# ---------------------------------------------------------------------------
# topology CSV
# ---------------------------------------------------------------------------
def _cells(line: str) -> list[str]:
    row = next(csv.reader([line]))
    # SCALE-Sim rows end with a comma (and sometimes a '#comment' cell)
    row = [c.strip() for c in row]
    while row and (row[-1] == "" or row[-1].startswith("#")):
        row.pop()
    return row


def _int_cell(text: str, what: str, where: str) -> int:
    try:
        v = float(text)
    except ValueError:
        raise WorkloadError(f"{where}: {what} is not a number: {text!r}") from None
    if not v.is_integer():
        raise WorkloadError(f"{where}: {what} is not an integer: {text!r}")
    if v <= 0:
        raise WorkloadError(f"{where}: {what} must be positive, got {text}")
    return int(v)


def parse_topology(text: str, origin: str = "<string>") -> list[Layer]:
    """Layers of a topology table given as text (conv or GEMM form; see module docstring).

    Blank lines and lines starting with ``#`` are skipped.  Errors raise
    :class:`WorkloadError` naming ``origin`` and the 1-based line number.
    """
    lines = text.splitlines()
    header_at = None
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            header_at = i
            break
    if header_at is None:
        raise WorkloadError(f"{origin}: empty topology file")
    header = [h.lower() for h in _cells(lines[header_at])]
    is_gemm = len(header) >= 4 and header[1] == "m" and header[2] == "n" and header[3] == "k"
    if not is_gemm and (len(header) < 8 or "ifmap" not in header[1]):
        raise WorkloadError(
            f"{origin}:{header_at + 1}: header is neither SCALE-Sim conv form "
            f"('Layer name, IFMAP Height, ..., Strides,') nor GEMM form ('Layer, M, N, K,')"
        )
    ncols = 4 if is_gemm else 8
    layers: list[Layer] = []
    for i in range(header_at + 1, len(lines)):
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{origin}:{i + 1}"
        row = _cells(raw)
        if len(row) != ncols:
            raise WorkloadError(f"{where}: malformed row, expected {ncols} fields, got {len(row)}: {raw.strip()!r}")
        name = row[0]
        if not name:
            raise WorkloadError(f"{where}: empty layer name")
        if is_gemm:
            m, n, k = (_int_cell(c, w, where) for c, w in zip(row[1:], ("M", "N", "K")))
            layers.append(Layer.gemm(name, m, n, k))
            continue
        what = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides")
        h, w, fh, fw, ci, co, s = (_int_cell(c, x, where) for c, x in zip(row[1:], what))
        kind = "dwconv" if "DP" in name else "conv"
        try:
            layers.append(Layer(name, kind, h, w, fh, fw, ci, co, s))
        except WorkloadError as exc:
            raise WorkloadError(f"{where}: {exc}") from None
    if not layers:
        raise WorkloadError(f"{origin}: topology has no layers")
    return layers


def read_topology_csv(path: str | Path) -> list[Layer]:
    """Layers of a SCALE-Sim topology CSV file (conv or GEMM form)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise WorkloadError(f"{p}: cannot read topology file ({exc.strerror or exc})") from None
    return parse_topology(text, str(p))


# ---------------------------------------------------------------------------
# shipped networks
# ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict]:
    text = resources.files(__package__).joinpath("data", "networks.json").read_text()
    return json.loads(text)["networks"]


def network_info(name: str) -> dict:
    """Metadata of a shipped network: ``file``, ``source`` (citation), ``notes``."""
    cat = _catalog()
    if name not in cat:
        raise WorkloadError(f"unknown network {name!r}; available: {', '.join(sorted(cat))}")
    return dict(cat[name])


def list_networks() -> list[str]:
    """Names of the shipped networks (sorted)."""
    return sorted(_catalog())


@lru_cache(maxsize=None)
def _load_cached(name: str) -> tuple[Layer, ...]:
    info = network_info(name)
    text = resources.files(__package__).joinpath("data", info["file"]).read_text()
    return tuple(parse_topology(text, f"{__package__}/data/{info['file']}"))


def load_network(name: str) -> list[Layer]:
    """Layers of a shipped network (see :func:`list_networks`)."""
    return list(_load_cached(name))


def network_sources() -> dict[str, str]:
    """``{network: citation}`` for every shipped network."""
    return {n: network_info(n)["source"] for n in list_networks()}


def _layer_from_mapping(d: Mapping[str, Any], i: int) -> Layer:
    keys = {k.lower(): v for k, v in d.items()}
    name = str(keys.get("name", f"layer{i}"))
    if {"m", "n", "k"} <= keys.keys() and "ifmap_h" not in keys:
        return Layer.gemm(name, keys["m"], keys["n"], keys["k"])
    try:
        return Layer(name, str(keys.get("kind", "conv")), keys["ifmap_h"], keys["ifmap_w"], keys["filt_h"],
                     keys["filt_w"], keys["channels"], keys["num_filters"], keys.get("stride", 1))
    except KeyError as exc:
        raise WorkloadError(f"layer {name!r}: missing field {exc.args[0]!r}") from None


def as_layers(workload: Any, input_shapes: Any = None, onnx_unsupported: str = "error") -> tuple[str, list[Layer]]:
    """Normalize a workload: network name, topology CSV path, an ONNX model
    (``.onnx`` path or a :class:`~.network.Network`; ``input_shapes`` and
    ``onnx_unsupported`` apply to a path, see :func:`~.network.from_onnx`), a
    :class:`Layer`, a dict, or a list of Layers/dicts.  Returns ``(label, layers)``."""
    from .network import as_network

    net = as_network(workload, input_shapes, onnx_unsupported)
    if net is not None:
        if not net.layers:
            raise WorkloadError(f"{net.name} has no layer to cost (no Conv, Gemm, MatMul or Einsum node)")
        return net.name, list(net.layers)
    if isinstance(workload, Layer):
        return workload.name, [workload]
    if isinstance(workload, Mapping):
        lay = _layer_from_mapping(workload, 0)
        return lay.name, [lay]
    if isinstance(workload, (str, Path)):
        s = str(workload)
        if s in _catalog():
            return s, load_network(s)
        p = Path(s)
        if p.suffix.lower() == ".csv" or p.exists():
            return p.stem, read_topology_csv(p)
        raise WorkloadError(f"unknown workload {s!r}: not a network ({', '.join(list_networks())}) nor a CSV or "
                            ".onnx file")
    if isinstance(workload, Iterable):
        layers = [w if isinstance(w, Layer) else _layer_from_mapping(w, i) if isinstance(w, Mapping) else None
                  for i, w in enumerate(workload)]
        if not layers or any(x is None for x in layers):
            raise WorkloadError("a workload list must be a non-empty list of Layer objects or dicts")
        return "custom", layers  # type: ignore[return-value]
    raise WorkloadError(f"unsupported workload type {type(workload).__name__}")

"""Memory standards: device timings, IDD currents and address mappings as data.

Each memory standard is one JSON file in ``standards/`` (``ddr3-1600.json``,
``ddr4-2400.json``, ``lpddr4-3200.json``, ``hbm2.json``, and the earlier,
unvalidated ``lpddr4-3200-x32.json`` and ``hbm2-legacy.json``).  Timings are in
controller clock cycles (``tck_ns`` per cycle), currents in mA, voltages in V.
``protocol`` (``ddr``, ``lpddr4``, ``hbm2``; default ``ddr``) selects how
:mod:`.protocols` turns the timings into command-to-command distances and
which extra timing keys the file must give.  ``extra_rails`` lists further
supply rails (LPDDR4's VDD2), ``burst_current_scale`` scales the read/write
burst currents (HBM2 pseudo-channels).  A ``rank`` field in the address
mapping makes the ranks (HBM2 pseudo-channels) addressable; otherwise one
rank is simulated.  A file that lacks a timing, current or mapping field
raises ``ValueError`` naming the file and the missing keys.

DDR3 without bank groups is modelled with one bank group, so the ``_S`` and
``_L`` variants of tRRD/tCCD/tWTR are equal.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from archgym.errors import UserInputError

from .protocols import PROTOCOLS, timing_vector

__all__ = ["MemSpec", "TIMING_KEYS", "POWER_KEYS", "RAIL_KEYS", "load_standard", "standard_names",
           "CapacityError"]

_DIR = Path(__file__).resolve().parent / "standards"

#: timing parameters every standard must give, in this order (the controller's
#: integer timing vector uses the same order, plus ``BURST`` = BL / data rate)
TIMING_KEYS: tuple[str, ...] = (
    "CL", "WL", "RCD", "RP", "RAS", "RC", "RRD_S", "RRD_L", "FAW", "CCD_S", "CCD_L",
    "WR", "WTR_S", "WTR_L", "RTP", "RFC", "REFI", "XP", "CKE", "DQSCK",
)
POWER_KEYS: tuple[str, ...] = (
    "VDD", "IDD0", "IDD2N", "IDD2P0", "IDD2P1", "IDD3N", "IDD3P", "IDD4R", "IDD4W",
    "IDD5", "IDD6", "VPP", "IPP0",
)
#: currents each extra supply rail must give (plus its voltage ``VDD``)
RAIL_KEYS: tuple[str, ...] = ("VDD", "IDD0", "IDD2N", "IDD2P1", "IDD3N", "IDD3P", "IDD4R", "IDD4W", "IDD5")
_TOP_KEYS = ("name", "tck_ns", "devices_per_rank", "bus_bits", "ranks", "bankgroups",
             "banks_per_group", "rows", "columns", "burst_length", "data_rate",
             "timing_ck", "power", "address_mapping", "trace_player_mhz")
_FIELDS = ("column", "bank", "row")


class CapacityError(UserInputError):
    """A trace addresses memory beyond the device's capacity."""


@dataclass(frozen=True)
class MemSpec:
    """One memory configuration (a channel with ``ranks`` ranks; only 1 rank is simulated)."""

    name: str
    standard: str
    tck_ns: float
    devices_per_rank: int
    bus_bits: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_length: int
    data_rate: int
    timing: Mapping[str, int]
    power: Mapping[str, float]
    fields: tuple[tuple[str, int], ...]
    byte_bits: int
    trace_player_mhz: float
    rda_offset_rule: str = "rtp"
    description: str = ""
    protocol: str = "ddr"
    extra_timing: Mapping[str, int] = field(default_factory=dict)
    extra_rails: tuple[Mapping[str, float], ...] = ()
    burst_current_scale: float = 1.0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def banks(self) -> int:
        """Banks per rank (bank groups x banks per group)."""
        return self.bankgroups * self.banks_per_group

    @property
    def simulated_ranks(self) -> int:
        """Ranks the model simulates: all of them if the mapping addresses them, else 1."""
        return self.ranks if any(n == "rank" for n, _ in self.fields) else 1

    @property
    def channel_banks(self) -> int:
        """Banks over all simulated ranks (the core's bank count)."""
        return self.banks * self.simulated_ranks

    @property
    def channel_bankgroups(self) -> int:
        """Bank groups over all simulated ranks (the core's group count)."""
        return self.bankgroups * self.simulated_ranks

    @property
    def burst_cycles(self) -> int:
        """Clock cycles one burst occupies the data bus (BL / data rate)."""
        return self.burst_length // self.data_rate

    @property
    def burst_bytes(self) -> int:
        """Bytes moved by one request (one burst on the whole bus)."""
        return self.burst_length * self.bus_bits // 8

    @property
    def address_bits(self) -> int:
        return self.byte_bits + sum(b for _, b in self.fields)

    @property
    def capacity_bytes(self) -> int:
        return 1 << self.address_bits

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Peak data bandwidth in GB/s (bytes per ns)."""
        return self.burst_bytes / (self.burst_cycles * self.tck_ns)

    @property
    def tck_ps(self) -> int:
        return int(round(self.tck_ns * 1000))

    @property
    def player_ps(self) -> int:
        return int(round(1e6 / self.trace_player_mhz))

    def timing_vector(self) -> np.ndarray:
        """The core's int64 ``T_*`` vector: :data:`TIMING_KEYS`, the burst length in
        cycles, then the protocol's command distances (:mod:`.protocols`)."""
        t = {**self.timing, **self.extra_timing}
        return timing_vector(self.protocol, t, self.burst_cycles, self.banks, self.simulated_ranks)

    def decode(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split byte addresses into (channel bank index, channel bank group, row) int64 arrays.

        Indices are rank-major: bank ``(rank * bankgroups + bg) * banks_per_group + bank``.
        """
        a = np.asarray(addresses, dtype=np.uint64) >> np.uint64(self.byte_bits)
        a = a.astype(np.int64)      # below 2^63 once the byte bits are dropped: one conversion, not one per field
        parts: dict[str, np.ndarray] = {}
        shift = 0
        for name, bits in self.fields:
            if name != "column":
                parts[name] = (a >> shift) & ((1 << bits) - 1)
            shift += bits
        bg = parts["bankgroup"] if "bankgroup" in parts else 0
        if "rank" in parts:
            bg = parts["rank"] * self.bankgroups + bg
        if not isinstance(bg, np.ndarray):
            bg = np.zeros_like(parts["row"])
        bank = bg * self.banks_per_group + parts["bank"]
        return bank, bg, parts["row"]

    def check_capacity(self, addresses: np.ndarray, trace_name: str = "trace",
                       where: Callable[[int], str] | None = None) -> None:
        """Raise :class:`CapacityError` (one line) if any address is beyond the capacity;
        ``where(i)`` names request ``i`` (default: the trace and the request's index)."""
        a = np.asarray(addresses, dtype=np.uint64)
        if a.size and int(a.max()) >= self.capacity_bytes:
            i = int(np.argmax(a >= np.uint64(self.capacity_bytes)))
            at = where(i) if where is not None else f"trace {trace_name!r}: request {i}"
            raise CapacityError(
                f"{at}: address {int(a[i]):#x} is beyond the {self.name} capacity of "
                f"{self.capacity_bytes:#x} bytes ({_size(self.capacity_bytes)}); addresses must be below "
                f"{self.capacity_bytes:#x}")


def _size(nbytes: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << shift and nbytes % (1 << shift) == 0:
            return f"{nbytes >> shift} {unit}"
    return f"{nbytes} B"


def standard_names() -> list[str]:
    """Names of the shipped standards (file stems)."""
    return sorted(p.stem for p in _DIR.glob("*.json"))


@functools.lru_cache(maxsize=None)
def _shipped_text(name: str) -> str | None:
    """The text of the shipped standard ``name`` (None: there is none); read once per process."""
    p = _DIR / f"{name}.json"
    return p.read_text() if p.is_file() else None


def _require(d: Mapping[str, Any], keys, where: str) -> None:
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")


def load_standard(name_or_path: str | Path | Mapping[str, Any]) -> MemSpec:
    """Load a standard by name (``"ddr3-1600"``), JSON path, or an already-parsed dict."""
    if isinstance(name_or_path, Mapping):
        raw, where = dict(name_or_path), "memory spec"
    else:
        p = Path(name_or_path)
        text = None
        if not p.suffix:
            p = _DIR / f"{str(name_or_path).lower()}.json"
            text = _shipped_text(p.stem)
        elif p.is_file():
            text = p.read_text()
        if text is None:
            raise ValueError(f"unknown memory {str(name_or_path)!r}; shipped: {', '.join(standard_names())}")
        where = str(p)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: invalid JSON ({e})") from None
    _require(raw, _TOP_KEYS, where)
    _require(raw["timing_ck"], TIMING_KEYS, f"{where} timing_ck")
    _require(raw["power"], POWER_KEYS, f"{where} power")
    am = raw["address_mapping"]
    _require(am, ("byte_bits", "fields"), f"{where} address_mapping")
    fields = tuple((str(n), int(b)) for n, b in am["fields"])
    names = [n for n, _ in fields]
    _require(dict.fromkeys(names), _FIELDS, f"{where} address_mapping fields")
    if (raw["bankgroups"] > 1) != ("bankgroup" in names):
        raise ValueError(f"{where}: bankgroups={raw['bankgroups']} but mapping fields are {names}")
    bits = dict(fields)
    if 1 << bits["bank"] != raw["banks_per_group"] or 1 << bits["row"] != raw["rows"]:
        raise ValueError(f"{where}: mapping bit widths do not match banks_per_group/rows")
    protocol = str(raw.get("protocol", "ddr"))
    if protocol not in PROTOCOLS:
        raise ValueError(f"{where}: unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    extra_keys = PROTOCOLS[protocol][0]
    _require(raw["timing_ck"], extra_keys, f"{where} timing_ck")
    rails = tuple(dict(r) for r in raw.get("extra_rails", ()))
    for i, r in enumerate(rails):
        _require(r, RAIL_KEYS, f"{where} extra_rails[{i}]")
    if "rank" in names and 1 << bits["rank"] != raw["ranks"]:
        raise ValueError(f"{where}: mapping rank bits do not match ranks")
    bad = [k for k in TIMING_KEYS if int(raw["timing_ck"][k]) < 0]
    if bad:
        raise ValueError(f"{where}: negative timings {bad}")
    return MemSpec(
        name=str(raw["name"]), standard=str(raw.get("standard", raw["name"])), tck_ns=float(raw["tck_ns"]),
        devices_per_rank=int(raw["devices_per_rank"]), bus_bits=int(raw["bus_bits"]), ranks=int(raw["ranks"]),
        bankgroups=int(raw["bankgroups"]), banks_per_group=int(raw["banks_per_group"]), rows=int(raw["rows"]),
        columns=int(raw["columns"]), burst_length=int(raw["burst_length"]), data_rate=int(raw["data_rate"]),
        timing={k: int(raw["timing_ck"][k]) for k in TIMING_KEYS},
        power={k: float(raw["power"][k]) for k in POWER_KEYS},
        fields=fields, byte_bits=int(am["byte_bits"]), trace_player_mhz=float(raw["trace_player_mhz"]),
        rda_offset_rule=str(raw.get("auto_precharge_read_offset", "rtp")),
        description=str(raw.get("description", "")), protocol=protocol,
        extra_timing={k: int(raw["timing_ck"][k]) for k in extra_keys},
        extra_rails=tuple({k: float(r[k]) for k in RAIL_KEYS} for r in rails),
        burst_current_scale=float(raw.get("burst_current_scale", 1.0)), raw=raw,
    )

"""Memory traces: DRAMSys STL/RSTL and CSV parsing, and synthetic generators.

A :class:`Trace` is three arrays: request times in trace-player clock cycles
(800 MHz in ArchGym, i.e. 1.25 ns), a write flag and byte addresses.  Every
request is one burst (64 B on a 64-bit DDR bus).

Formats
-------
* STL (``.stl``): ``<time>:<TAB><read|write><TAB>0x<hex address>`` with
  absolute times; optional trailing data hex is ignored; ``#`` comments and
  blank lines are skipped.  ``.rstl`` files have the same syntax with times
  relative to the previous request's acceptance (DRAMSys semantics).
* CSV (``.csv``): a header with ``time``, ``command`` (read/write or r/w) and
  ``address`` (hex with 0x or decimal) columns, absolute times.

Errors are one-line ``ValueError``\\ s naming the file and line.

Generators (:func:`generate`) produce the workloads the package ships,
so nothing at runtime needs files:

* ``sequential``: 0x0, 0x40, 0x80, ... (ArchGym's ``stream.stl`` exactly when
  ``n=10000, gap=1``);
* ``random``: uniform burst-aligned addresses over the capacity (seed 1
  reproduces the reference's synthetic ``rand_read`` traces bit for bit, but
  not ArchGym's ``random.stl``, which has the same distribution);
* ``strided``: a fixed stride;
* ``mixed``: read fraction 2/3 (default): two sequential read streams and one
  sequential write stream interleaved round robin (bit-identical to the
  reference ``mixed_rw`` traces); other fractions: one sequential stream with
  random writes;
* ``row_conflict``: alternates between two rows of bank 0;
* ``offered_load`` (0..1] sets the spacing so the offered bandwidth is that
  fraction of the device's peak (overrides ``gap``).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["Trace", "load_trace", "parse_stl", "parse_csv", "generate", "GENERATORS", "SHIPPED_WORKLOADS"]


@dataclass(frozen=True)
class Trace:
    """Requests in issue order: times (player cycles), is_write (0/1), addresses (bytes)."""

    times: np.ndarray
    is_write: np.ndarray
    addresses: np.ndarray
    relative: bool = False
    name: str = "trace"
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not (len(self.times) == len(self.is_write) == len(self.addresses)):
            raise ValueError(f"trace {self.name!r}: column lengths differ")

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def n_reads(self) -> int:
        return int(len(self) - int(np.sum(self.is_write)))

    @property
    def n_writes(self) -> int:
        return int(np.sum(self.is_write))


def _collect(records, relative: bool, name: str, where: str) -> Trace:
    """A :class:`Trace` from ``(line_no, time, "read"|"write", address)`` records;
    absolute times must be non-decreasing (the error names file and line)."""
    rows = list(records)
    lines = [r[0] for r in rows]
    t = np.array([r[1] for r in rows], dtype=np.int64)
    if not relative and t.size > 1:
        bad = np.nonzero(np.diff(t) < 0)[0]
        if bad.size:
            i = int(bad[0]) + 1
            raise ValueError(f"{where}:{lines[i]}: timestamps not sorted ({t[i]} after {t[i - 1]})")
    writes = np.array([1 if r[2] == "write" else 0 for r in rows], dtype=np.int8)
    addrs = np.array([r[3] for r in rows], dtype=np.uint64)
    return Trace(t, writes, addrs, relative, name)


def parse_stl(path: str | Path, relative: bool | None = None) -> Trace:
    """Parse a DRAMSys STL (absolute) or RSTL (relative) trace file."""
    p = Path(path)
    if relative is None:
        relative = p.suffix.lower() == ".rstl"
    return _collect(_stl_records(p), relative, p.stem, str(p))


def _stl_records(p: Path):
    with open(p, "r") as fh:
        for ln, line in enumerate(fh, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            try:
                head, rest = s.split(":", 1)
                parts = rest.split()
                t = int(head.strip())
                cmd = parts[0].lower()
                a = int(parts[1], 16) if parts[1].lower().startswith("0x") else int(parts[1])
                if t < 0 or a < 0 or cmd not in ("read", "write"):
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{p}:{ln}: malformed trace line {s[:60]!r} "
                                 "(expected '<time>:<TAB><read|write><TAB>0x<address>')") from None
            yield ln, t, cmd, a


def parse_csv(path: str | Path) -> Trace:
    """Parse a CSV trace with columns time, command, address (absolute times)."""
    p = Path(path)
    return _collect(_csv_records(p), False, p.stem, str(p))


def _csv_records(p: Path):
    with open(p, newline="") as fh:
        rd = csv.reader(fh)
        header = None
        for ln, row in enumerate(rd, 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                need = ("time", "command", "address")
                if any(h not in header for h in need):
                    raise ValueError(f"{p}:{ln}: CSV header must name columns {', '.join(need)}; got {row}")
                it, ic, ia = (header.index(h) for h in need)
                continue
            try:
                t = int(float(row[it]))
                cmd = row[ic].strip().lower()
                cmd = {"r": "read", "w": "write"}.get(cmd, cmd)
                av = row[ia].strip()
                a = int(av, 16) if av.lower().startswith("0x") else int(av)
                if t < 0 or a < 0 or cmd not in ("read", "write"):
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{p}:{ln}: malformed CSV trace row {','.join(row)[:60]!r}") from None
            yield ln, t, cmd, a


def load_trace(path: str | Path) -> Trace:
    """Parse a trace file by extension (.stl, .rstl, .csv)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"trace file {str(p)!r} does not exist")
    if p.suffix.lower() == ".csv":
        return parse_csv(p)
    return parse_stl(p)


# ---- generators -------------------------------------------------------------

GENERATORS = ("sequential", "random", "strided", "mixed", "row_conflict")

#: shipped synthetic workloads: name -> generator spec
SHIPPED_WORKLOADS: dict[str, dict] = {
    "stream": {"pattern": "sequential", "n": 10000, "gap": 1},
    "random": {"pattern": "random", "n": 10000, "gap": 1, "seed": 1, "span": 1 << 30},
    "seq_read": {"pattern": "sequential", "n": 10000, "gap": 1},
    "seq_read_g25": {"pattern": "sequential", "n": 10000, "gap": 25},
    "rand_read": {"pattern": "random", "n": 10000, "gap": 1, "seed": 1},
    "rand_read_g25": {"pattern": "random", "n": 10000, "gap": 25, "seed": 1},
    "mixed_rw": {"pattern": "mixed", "n": 10000, "gap": 1, "read_fraction": 2 / 3, "seed": 1},
    "mixed_rw_g25": {"pattern": "mixed", "n": 10000, "gap": 25, "read_fraction": 2 / 3, "seed": 1},
    "row_conflict": {"pattern": "row_conflict", "n": 10000, "gap": 1},
    "row_conflict_g25": {"pattern": "row_conflict", "n": 10000, "gap": 25},
    "single_read": {"pattern": "sequential", "n": 1, "gap": 1},
    "strided": {"pattern": "strided", "n": 10000, "gap": 1, "stride": 4096},
    "half_load_random": {"pattern": "random", "n": 10000, "offered_load": 0.5, "seed": 1},
}


def generate(spec: Mapping[str, Any], *, capacity: int = 1 << 30, burst_bytes: int = 64,
             row_bytes: int = 8192, banks: int = 8, peak_gbps: float = 12.8, player_ns: float = 1.25) -> Trace:
    """Build a synthetic trace from a spec dict (see the module docstring).

    Keys: ``pattern`` (one of :data:`GENERATORS`), ``n`` (requests, default
    10000), ``gap`` (player cycles between requests, default 1),
    ``offered_load`` (fraction of ``peak_gbps``; overrides gap), ``seed``,
    ``span`` (bytes the addresses cover; default capacity), ``stride``
    (bytes, strided), ``read_fraction`` (mixed, default 2/3), ``start``.
    """
    s = dict(spec)
    pattern = s.pop("pattern", None)
    if pattern not in GENERATORS:
        raise ValueError(f"generator pattern {pattern!r} is unknown; allowed: {', '.join(GENERATORS)}")
    n = int(s.pop("n", 10000))
    gap = float(s.pop("gap", 1))
    load = s.pop("offered_load", None)
    seed = int(s.pop("seed", 1))
    span = int(s.pop("span", capacity))
    stride = int(s.pop("stride", 4096))
    rf = float(s.pop("read_fraction", 2 / 3))
    start = int(s.pop("start", 0))
    name = str(s.pop("name", pattern))
    if s:
        raise ValueError(f"generator spec has unknown keys {sorted(s)}")
    if n < 0:
        raise ValueError("generator spec: n must be >= 0")
    if load is not None:
        load = float(load)
        if not 0 < load <= 1e3:
            raise ValueError(f"generator spec: offered_load must be > 0, got {load}")
        gap = burst_bytes / (load * peak_gbps) / player_ns
    if gap < 0:
        raise ValueError("generator spec: gap must be >= 0")
    span = min(span, capacity)
    rng = np.random.default_rng(seed)
    idx = np.arange(n, dtype=np.int64)
    times = np.floor(idx * gap + 1e-9).astype(np.int64)
    writes = np.zeros(n, dtype=np.int8)
    nb = max(span // burst_bytes, 1)
    if pattern == "sequential":
        addr = (start + idx * burst_bytes) % span
    elif pattern == "random":
        addr = rng.integers(0, nb, size=n, dtype=np.int64) * burst_bytes
    elif pattern == "strided":
        addr = (start + idx * stride) % span
        addr -= addr % burst_bytes
    elif pattern == "mixed":
        if abs(rf - 2 / 3) < 1e-9:
            # two read streams and one write stream, round robin (the reference's mixed_rw)
            # stream k starts in bank k of a region (0, 1/4, 1/2 of the span) and
            # walks one row stripe (all banks) at a time, wrapping inside the stripe
            stripe = row_bytes * banks
            per = max(stripe // burst_bytes, 1)
            bases = np.array([span // 4, span // 2, 0], dtype=np.int64)
            offs = np.array([row_bytes, 2 * row_bytes, 0], dtype=np.int64)
            k = idx % 3
            j = idx // 3
            addr = (start + bases[k] + (j // per) * stripe + (offs[k] + (j % per) * burst_bytes) % stripe) % span
            writes = (k == 2).astype(np.int8)
        else:
            addr = (start + idx * burst_bytes) % span
            writes = (rng.random(n) >= rf).astype(np.int8)
    else:  # row_conflict: two rows of the same bank, walking the columns
        other = row_bytes * banks  # row 1 of bank 0 under a row:bank:column mapping
        col = (idx // 2) * burst_bytes % row_bytes
        addr = np.where(idx % 2 == 0, col, other + col)
    return Trace(times, writes, addr.astype(np.uint64), False, name, {"spec": dict(spec)})

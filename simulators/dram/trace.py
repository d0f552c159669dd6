"""Memory traces: DRAMSys STL/RSTL and CSV parsing, and synthetic generators.

A :class:`Trace` is three arrays: request times in trace-player clock cycles
(800 MHz in ArchGym, i.e. 1.25 ns), a write flag and byte addresses.  Every
request is one burst (64 B on a 64-bit DDR bus).

Formats
-------
* STL (``.stl``): ``<time>:<TAB><read|write><TAB>0x<hex address>`` with
  absolute times, optionally followed by the write data as one hex field
  (DRAMSys's storage mode; not used by the model); ``#`` comments and blank
  lines are skipped.  ``.rstl`` files have the same syntax with times
  relative to the previous request's acceptance (DRAMSys semantics).
* CSV (``.csv``): a header with ``time``, ``command`` (read/write or r/w) and
  ``address`` (hex with 0x or decimal) columns, and optionally ``data``;
  absolute times.

What the model takes, and refuses with one line naming the file and line
(:class:`TraceError`, a :class:`archgym.simulator.WorkloadError`): a time is
a whole number of player cycles (``10`` or ``10.0``; ``10.5`` is refused --
DRAMSys's player would silently truncate it) below 2^63; an address is
below 2^64 (and, when simulated, below the memory's capacity); a line has
exactly the fields above (anything more is refused, not ignored); absolute
times do not decrease.  A file that is missing, a folder or not text is one
line naming it (:mod:`archgym.userfiles`).  Idle gaps of any length are
simulated (refresh runs through them, see ``_core/idle.py``) as long as the
trace ends within :data:`MAX_TRACE_PS` picoseconds (about 26 days), the
range the controller's clock arithmetic represents; beyond it
:func:`..controller.decode_trace` names the line.

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
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from archgym.simulator import WorkloadError
from archgym.userfiles import read_text

__all__ = ["Trace", "TraceError", "load_trace", "parse_stl", "parse_csv", "generate", "GENERATORS",
           "SHIPPED_WORKLOADS", "MAX_REQUESTS", "MAX_TRACE_PS"]

#: most requests a generator makes (a run keeps ~140 bytes per request: 10 million is ~1.4 GB)
MAX_REQUESTS = 10_000_000
#: latest request time a trace may reach, in picoseconds (2^61 ps, about 26.7 days): the
#: controller's clock arithmetic (int64 picoseconds and cycles) represents times up to here
MAX_TRACE_PS = 1 << 61


class TraceError(WorkloadError):
    """A trace (file, generator spec or arrays) the model cannot take; one line naming where."""


@dataclass(frozen=True)
class Trace:
    """Requests in issue order: times (player cycles), is_write (0/1), addresses (bytes).

    ``meta["lines"]``, when the trace was read from a file, holds each request's
    line number there (for error messages)."""

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

    def where(self, i: int) -> str:
        """Where request ``i`` comes from: ``"FILE:LINE"`` for a file, else ``"trace NAME request i"``."""
        lines = self.meta.get("lines") if isinstance(self.meta, Mapping) else None
        if lines is not None and self.meta.get("path"):
            return f"{self.meta['path']}:{int(lines[i])}"
        return f"trace {self.name!r} request {i}"

    def fingerprint(self) -> str:
        """SHA-256 of the requests (times, directions, addresses, relative or absolute timing),
        not of the name or the file: two traces with equal requests share it, and a
        proxy, table or dataset made on one trace refuses any other
        (:func:`archgym.standin.workload_digest`)."""
        h = hashlib.sha256(b"archgym-dram-trace-v1" + (b"R" if self.relative else b"A"))
        for a, dtype in ((self.times, "<i8"), (self.is_write, "u1"), (self.addresses, "<u8")):
            h.update(np.ascontiguousarray(np.asarray(a).astype(dtype, copy=False)).tobytes())
        return h.hexdigest()


_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_DATA = re.compile(r"(?:0[xX])?[0-9a-fA-F]+")


def _time(text: str, where: str) -> int:
    """A request time in whole player cycles, 0 <= t < 2^63."""
    t = text.strip()
    if _DIGITS.fullmatch(t):
        value = int(t)
    elif _DECIMAL.fullmatch(t):
        f = float(t)
        if not f.is_integer():
            raise TraceError(f"{where}: time {t} is not a whole number of trace-player cycles; the model takes "
                             "integer cycles (DRAMSys's player would silently truncate it)")
        value = int(f)
    elif t.startswith("-") and _DECIMAL.fullmatch(t[1:]):
        raise TraceError(f"{where}: time {t} is negative; times are player cycles >= 0")
    else:
        raise TraceError(f"{where}: time {t[:40]!r} is not a number of trace-player cycles")
    if value >= 1 << 63:
        raise TraceError(f"{where}: time {t} does not fit in 64 bits; the latest time the model represents is "
                         f"{MAX_TRACE_PS} ps (about 26 days)")
    return value


def _address(text: str, where: str) -> int:
    """A byte address (hex with 0x, or decimal), 0 <= a < 2^64."""
    a = text.strip()
    if _HEX.fullmatch(a):
        value = int(a, 16)
    elif _DIGITS.fullmatch(a):
        value = int(a)
    else:
        raise TraceError(f"{where}: address {a[:40]!r} is not 0x<hex> or a decimal number")
    if value >= 1 << 64:
        raise TraceError(f"{where}: address {a[:40]} does not fit in 64 bits (and is beyond every memory's "
                         "capacity)")
    return value


def _command(text: str, where: str, short: bool = False) -> int:
    """1 for a write, 0 for a read."""
    c = text.strip().lower()
    if short:
        c = {"r": "read", "w": "write"}.get(c, c)
    if c not in ("read", "write"):
        raise TraceError(f"{where}: command {text.strip()[:40]!r} is not read or write")
    return int(c == "write")


def _collect(rows: list[tuple[int, int, int, int]] | tuple[np.ndarray, ...], relative: bool, name: str,
             path: str) -> Trace:
    """A :class:`Trace` from ``(line, time, is_write, address)`` rows (or those four arrays);
    absolute times must not decrease."""
    if isinstance(rows, tuple):
        lines, t, writes, addrs = rows
    else:
        lines = np.array([r[0] for r in rows], dtype=np.int64)
        t = np.array([r[1] for r in rows], dtype=np.int64)
        writes = np.array([r[2] for r in rows], dtype=np.int8)
        addrs = np.array([r[3] for r in rows], dtype=np.uint64)
    if not relative and t.size > 1:
        bad = np.nonzero(np.diff(t) < 0)[0]
        if bad.size:
            i = int(bad[0]) + 1
            raise TraceError(f"{path}:{lines[i]}: timestamps not sorted ({t[i]} after {t[i - 1]}); absolute "
                             "times must not decrease")
    return Trace(t, writes, addrs, relative, name, {"lines": lines, "path": path})


def parse_stl(path: str | Path, relative: bool | None = None) -> Trace:
    """Parse a DRAMSys STL (absolute) or RSTL (relative) trace file."""
    p = Path(path)
    if relative is None:
        relative = p.suffix.lower() == ".rstl"
    text = read_text(p, "trace file", TraceError)
    return _collect(_stl_arrays(text) or _stl_rows(text, str(p)), relative, p.stem, str(p))


#: a well-formed STL line whose numbers surely fit (18 time digits, 16 hex / 19 decimal address digits)
_STL_LINE = re.compile(r"^[ \t]*([0-9]{1,18})[ \t]*:[ \t]*(read|write)[ \t]+(0x[0-9a-fA-F]{1,16}|[0-9]{1,19})"
                       r"(?:[ \t]+(?:0[xX])?[0-9a-fA-F]+)?[ \t]*\r?$", re.M)


def _stl_arrays(text: str) -> tuple[np.ndarray, ...] | None:
    """The fast path for a file whose every line is a well-formed request (three times faster
    than :func:`_stl_rows`): ``(lines, times, is_write, addresses)``; None if any line is not
    (a comment, a blank line, something to report), for :func:`_stl_rows` to read."""
    rows = _STL_LINE.findall(text)
    n_lines = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    if len(rows) != n_lines or not rows:
        return None
    n = len(rows)
    times = np.fromstring(" ".join([r[0] for r in rows]), dtype=np.int64, sep=" ")
    writes = np.fromiter((r[1] == "write" for r in rows), np.int8, n)
    addrs = np.fromiter((int(r[2], 16) if r[2].startswith("0x") else int(r[2]) for r in rows), np.uint64, n)
    return np.arange(1, n + 1, dtype=np.int64), times, writes, addrs


def _stl_rows(text: str, path: str) -> list[tuple[int, int, int, int]]:
    rows = []
    for ln, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        where = f"{path}:{ln}"
        head, colon, rest = s.partition(":")
        fields = rest.split()
        if not colon or len(fields) < 2:
            raise TraceError(f"{where}: malformed trace line {s[:60]!r} (expected "
                             "'<time>:<TAB><read|write><TAB>0x<address>')")
        extra = [f for k, f in enumerate(fields[2:], 2) if k > 2 or not _DATA.fullmatch(f)]
        if extra:
            raise TraceError(f"{where}: unexpected field {extra[0][:40]!r}; a line holds '<time>:', read or write, "
                             "the address and optionally the write data (hex)")
        rows.append((ln, _time(head, where), _command(fields[0], where), _address(fields[1], where)))
    return rows


def parse_csv(path: str | Path) -> Trace:
    """Parse a CSV trace with columns time, command, address (and optionally data; absolute times)."""
    p = Path(path)
    text = read_text(p, "trace file", TraceError)
    return _collect(_csv_rows(text, str(p)), False, p.stem, str(p))


_CSV_COLUMNS = ("time", "command", "address")


def _csv_rows(text: str, path: str) -> list[tuple[int, int, int, int]]:
    rows = []
    header = None
    for ln, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        where = f"{path}:{ln}"
        if header is None:
            header = [h.strip().lower() for h in row]
            missing = [h for h in _CSV_COLUMNS if h not in header]
            if missing:
                raise TraceError(f"{where}: CSV header must name columns {', '.join(_CSV_COLUMNS)}; got {row}")
            extra = [h for h in header if h not in (*_CSV_COLUMNS, "data")]
            twice = sorted({h for h in header if header.count(h) > 1})
            if extra or twice:
                what = f"{extra[0]!r} is unknown" if extra else f"{twice[0]!r} is repeated"
                raise TraceError(f"{where}: CSV column {what}; the columns are {', '.join(_CSV_COLUMNS)} and "
                                 "optionally data")
            it, ic, ia = (header.index(h) for h in _CSV_COLUMNS)
            continue
        if len(row) != len(header):
            raise TraceError(f"{where}: {len(row)} fields where the header names {len(header)}")
        rows.append((ln, _time(row[it], where), _command(row[ic], where, short=True), _address(row[ia], where)))
    return rows


def load_trace(path: str | Path) -> Trace:
    """Parse a trace file by extension (.stl, .rstl, .csv); :class:`TraceError` (one line) if it
    is missing, a folder, not text, or not a trace the model takes."""
    p = Path(path)
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


def _number(s: dict, key: str, default: Any) -> Any:
    v = s.pop(key, default)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TraceError(f"generator spec: {key} must be a number, got {v!r}")
    return v


def _int_option(s: dict, key: str, default: int, low: int, high: int | None, note: str = "") -> int:
    """Generator option ``key``: an integer in ``low``..``high`` (no upper bound if None)."""
    v = _number(s, key, default)
    allowed = f"an integer in {low}..{high}" if high is not None else f"an integer >= {low}"
    fits = low <= v and (high is None or v <= high)
    if isinstance(v, (float, np.floating)) and not (math.isfinite(v) and v.is_integer() and fits):
        raise TraceError(f"generator spec: {key} must be {allowed}{note}, got {v!r}")
    if isinstance(v, (float, np.floating)):
        raise TraceError(f"generator spec: {key} must be an integer, got the float {v!r}")
    if not fits:
        raise TraceError(f"generator spec: {key} must be {allowed}{note}, got {v}")
    return int(v)


def _float_option(s: dict, key: str, default: float, low: float, high: float, low_open: bool = False) -> float:
    """Generator option ``key``: a finite number in [``low``, ``high``] (``(low, high]`` if ``low_open``)."""
    v = float(_number(s, key, default))
    if not (math.isfinite(v) and (v > low if low_open else v >= low) and v <= high):
        bound = (f"in {'(' if low_open else '['}{low:g}, {high:g}]" if math.isfinite(high)
                 else f"a finite number >= {low:g}")
        raise TraceError(f"generator spec: {key} must be {bound}, got {v!r}")
    return v


def generate(spec: Mapping[str, Any], *, capacity: int = 1 << 30, burst_bytes: int = 64,
             row_bytes: int = 8192, banks: int = 8, peak_gbps: float = 12.8, player_ns: float = 1.25) -> Trace:
    """Build a synthetic trace from a spec dict (see the module docstring).

    Keys: ``pattern`` (one of :data:`GENERATORS`), ``n`` (requests, default
    10000, at most :data:`MAX_REQUESTS`), ``gap`` (player cycles between
    requests, >= 0, default 1), ``offered_load`` (fraction of ``peak_gbps``,
    in (0, 1000]; overrides gap), ``seed`` (>= 0), ``span`` (bytes the
    addresses cover, at least one burst; default and at most the capacity:
    larger spans are clipped), ``stride`` (bytes, 1..2^32, strided),
    ``read_fraction`` (mixed, in [0, 1], default 2/3), ``start`` (byte
    offset, 0..2^40).  Anything else, or a value outside those ranges, is a
    :class:`TraceError` naming the key and the range.
    """
    s = dict(spec)
    pattern = s.pop("pattern", None)
    if pattern not in GENERATORS:
        raise TraceError(f"generator pattern {pattern!r} is unknown; allowed: {', '.join(GENERATORS)}")
    n = _int_option(s, "n", 10000, 0, MAX_REQUESTS, " (a run keeps ~140 bytes per request)")
    gap = _float_option(s, "gap", 1.0, 0.0, math.inf)
    load = None if s.get("offered_load") is None else _float_option(s, "offered_load", None, 0.0, 1e3, low_open=True)
    s.pop("offered_load", None)
    seed = _int_option(s, "seed", 1, 0, (1 << 63) - 1)
    span = _int_option(s, "span", capacity, burst_bytes, None, " bytes (one burst at least; a span above the capacity "
                       "is clipped to it)")
    stride = _int_option(s, "stride", 4096, 1, 1 << 32)
    rf = _float_option(s, "read_fraction", 2 / 3, 0.0, 1.0)
    start = _int_option(s, "start", 0, 0, 1 << 40)
    name = str(s.pop("name", pattern))
    if s:
        raise TraceError(f"generator spec has unknown keys {sorted(s)}; allowed: pattern, n, gap, offered_load, "
                         "seed, span, stride, read_fraction, start, name")
    if load is not None:
        gap = burst_bytes / (load * peak_gbps) / player_ns
    if n and (n - 1) * gap * player_ns * 1e3 > MAX_TRACE_PS:
        raise TraceError(f"generator spec: n={n} requests {gap:g} player cycles apart end beyond the latest time "
                         f"the model represents ({MAX_TRACE_PS} ps, about 26 days)")
    span = min(span, capacity)
    idx = np.arange(n, dtype=np.int64)
    times = np.floor(idx * gap + 1e-9).astype(np.int64)
    writes = np.zeros(n, dtype=np.int8)
    nb = max(span // burst_bytes, 1)
    if pattern == "sequential":
        addr = (start + idx * burst_bytes) % span
    elif pattern == "random":
        addr = np.random.default_rng(seed).integers(0, nb, size=n, dtype=np.int64) * burst_bytes
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
            writes = (np.random.default_rng(seed).random(n) >= rf).astype(np.int8)
    else:  # row_conflict: two rows of the same bank, walking the columns
        other = row_bytes * banks  # row 1 of bank 0 under a row:bank:column mapping
        col = (idx // 2) * burst_bytes % row_bytes
        addr = np.where(idx % 2 == 0, col, other + col)
    return Trace(times, writes, addr.astype(np.uint64), False, name, {"spec": dict(spec)})

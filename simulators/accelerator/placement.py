"""Where an accelerator's operands live in one DRAM channel: the address mapping and the placement.

The systolic array walks each operand region (ifmap, filter, ofmap)
sequentially, one burst after the other (:mod:`.stream`).  Which banks those
walks touch, and so whether the three streams share a row buffer, is set by
two choices a real accelerator's memory system makes:

**Address mapping** (``address_mapping``, per standard; DRAMSys's
``addressmapping`` configuration): how a byte address splits into column,
bank group, bank, rank (HBM2 pseudo-channel) and row bits.

* ``"interleaved"`` (the default): row : rank : bank : bank group : column
  from the top bit down, i.e. consecutive rows' worth of addresses rotate
  over the bank groups first, then the banks and ranks -- every bank of the
  channel within one "stripe" (row size x banks).  This is DRAMSys's stock
  mapping for DDR3-1600 (row:bank:column) and DDR4-2400
  (row:bank:bankgroup:column), and the page-interleaved mapping memory
  controllers use for streaming traffic.
* ``"stock"``: the standard file's own mapping (DRAMSys's example
  mappings).  For LPDDR4-3200 (``am_lpddr4_8Gbx16_brc``: bank:row:column)
  and HBM2 (``am_hbm2_8Gb_pc_brc``: pseudo-channel:bankgroup:bank:row:column)
  the bank bits sit above the row bits, so a region smaller than one bank
  (128 MiB / 32 MiB) lies in a single bank.

The DRAM model decodes with the standard's stock mapping; a mapping here is
applied by permuting the address bits before the request reaches it
(:meth:`AddressMap.device_addresses`), which is exactly DRAMSys run with that
mapping (the controller sees only bank, row and column).

**Placement** (``placement``): where each operand region starts.

* ``"staggered"`` (the default): the allocator knows the mapping; region
  ``k`` (0 ifmap, 1 filter, 2 ofmap) starts at a row boundary in bank
  ``round(k * banks / 3)`` of the mapping's bank order, after the previous
  region, so the three walks start a third of the banks apart (bank
  colouring).  On the stock HBM2/LPDDR4 mappings this puts each operand in
  its own bank.
* ``"packed"``: a bump allocator; each region starts at the first row
  boundary after the previous one.
* ``"mib"``: regions at 1 MiB boundaries (``Accelerator-v0`` 0.1's layout).

Both choices are per channel: with several channels each channel's share of
a region (bursts interleaved across channels, :func:`.stream.split_channels`)
is placed the same way in every channel.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archgym.errors import OptionError

from ..dram.standards import MemSpec

__all__ = ["MAPPINGS", "PLACEMENTS", "AddressMap", "Layout", "address_map", "layout", "check_layout_options"]

MAPPINGS = ("interleaved", "stock")
PLACEMENTS = ("staggered", "packed", "mib")
_BANK_FIELDS = ("bankgroup", "bank", "rank")
_INTERLEAVED_ORDER = ("column", "bankgroup", "bank", "rank", "row")     # low bits to high bits
_MIB = 1 << 20


@dataclass(frozen=True)
class AddressMap:
    """One channel's address mapping: ``fields`` from the low bits up (after ``byte_bits``),
    and the standard's own (stock) fields the DRAM model decodes with."""

    name: str
    byte_bits: int
    fields: tuple[tuple[str, int], ...]
    stock_fields: tuple[tuple[str, int], ...]

    @property
    def bank_bytes(self) -> int:
        """Bytes of consecutive addresses that stay in one bank (below the lowest bank-type field)."""
        bits = self.byte_bits
        for name, b in self.fields:
            if name in _BANK_FIELDS:
                break
            bits += b
        return 1 << bits

    @property
    def banks(self) -> int:
        """Banks the mapping rotates over (bank groups x banks x addressed ranks)."""
        return int(np.prod([1 << b for n, b in self.fields if n in _BANK_FIELDS]))

    @property
    def stripe_bytes(self) -> int:
        """Period after which consecutive addresses return to the first bank (``bank_bytes x banks``)."""
        return self.bank_bytes * self.banks

    def describe(self) -> str:
        """The mapping from the top bit down, e.g. ``row:bank:bankgroup:column``."""
        return ":".join(n for n, _ in reversed(self.fields))

    def device_addresses(self, addresses: np.ndarray) -> np.ndarray:
        """The addresses the stock-mapping decoder must see to land where this mapping puts
        ``addresses`` (a bit permutation; the identity for the stock mapping)."""
        a = np.asarray(addresses, dtype=np.uint64)
        if self.fields == self.stock_fields:
            return a
        low = a & np.uint64((1 << self.byte_bits) - 1)
        rest = a >> np.uint64(self.byte_bits)
        parts = {}
        for name, bits in self.fields:
            parts[name] = rest & np.uint64((1 << bits) - 1)
            rest = rest >> np.uint64(bits)
        out = np.zeros_like(a)
        shift = 0
        for name, bits in self.stock_fields:
            out |= parts[name] << np.uint64(shift)
            shift += bits
        return (out << np.uint64(self.byte_bits)) | low


def _address_map(spec: MemSpec, mapping: str) -> AddressMap:
    return _build_map(spec.byte_bits, spec.fields, mapping)


@lru_cache(maxsize=16)
def _build_map(byte_bits: int, stock: tuple[tuple[str, int], ...], mapping: str) -> AddressMap:
    if mapping == "stock":
        return AddressMap("stock", byte_bits, stock, stock)
    bits = dict(stock)
    fields = tuple((n, bits[n]) for n in _INTERLEAVED_ORDER if n in bits)
    return AddressMap("interleaved", byte_bits, fields, stock)


def address_map(spec: MemSpec, mapping: str = "interleaved") -> AddressMap:
    """The ``mapping`` (:data:`MAPPINGS`) of standard ``spec``."""
    check_layout_options(mapping, PLACEMENTS[0])
    return _address_map(spec, mapping)


def check_layout_options(mapping: str, placement: str) -> None:
    """Raise :class:`archgym.errors.OptionError` (one line) for an unknown mapping or placement."""
    if mapping not in MAPPINGS:
        raise OptionError(f"address_mapping {mapping!r} is not known; allowed: {', '.join(MAPPINGS)}")
    if placement not in PLACEMENTS:
        raise OptionError(f"placement {placement!r} is not known; allowed: {', '.join(PLACEMENTS)}")


def _up(x: int, step: int) -> int:
    return -(-x // step) * step


@dataclass(frozen=True)
class Layout:
    """An address mapping and a placement rule: operand region bases, device addresses."""

    amap: AddressMap
    placement: str

    @property
    def key(self) -> tuple:
        return (self.amap.name, self.amap.fields, self.placement)

    def bases(self, region_bytes: np.ndarray) -> np.ndarray:
        """Start of each stream's region (:data:`.stream.STREAMS`: ifmap, filter, ofmap read,
        ofmap write; the ofmap streams share one region), bytes, in this mapping's address space."""
        sizes = [int(region_bytes[0]), int(region_bytes[1]), int(region_bytes[3])]
        row, stripe, banks = self.amap.bank_bytes, self.amap.stripe_bytes, self.amap.banks
        out, end = [], 0
        for k, size in enumerate(sizes):
            if self.placement == "mib":
                base = _up(end, _MIB)
            elif self.placement == "packed":
                base = _up(end, row)
            else:                                  # staggered: next address >= end in bank round(k*banks/3)
                off = (round(k * banks / 3) % banks) * row
                base = _up(end - off, stripe) + off if end > off else off
            out.append(base)
            end = base + size
        return np.array([out[0], out[1], out[2], out[2]], dtype=np.int64)

    def device_addresses(self, addresses: np.ndarray) -> np.ndarray:
        return self.amap.device_addresses(addresses)


def layout(spec: MemSpec, mapping: str = "interleaved", placement: str = "staggered") -> Layout:
    """The layout of ``spec``'s channel for ``mapping`` and ``placement`` (module docstring)."""
    check_layout_options(mapping, placement)
    return Layout(_address_map(spec, mapping), placement)

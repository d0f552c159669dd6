"""The DRAM request stream a systolic array issues for one layer (see the package docstring).

From the systolic model's per-fold transfer volumes
(:func:`archgym.simulators.systolic.memory.fold_transfers`) to burst
requests:

* Folds ``k = j*Fr + i`` (column fold ``j`` outer, row fold ``i`` inner) are
  *batches*.  Batch ``k`` holds what the double-buffered SRAMs move while
  fold ``k`` computes: the prefetch of the next tiles and the drain of the
  previous outputs; its volume per operand depends only on the fold class
  ``(j > 0, i > 0)``.
* Four request streams per batch: ifmap reads, filter reads, ofmap writes,
  ofmap (partial-sum) reads.  Words become ``burst_bytes`` bursts with
  cumulative rounding per stream, so a stream's total is
  ``ceil(words * word_bytes / burst_bytes)``.
* Addresses: each operand has its own region, placed and mapped onto the
  channel's banks by a :class:`.placement.Layout` (default: bank-interleaved
  mapping, regions staggered a third of the banks apart); a stream walks its
  region sequentially, one burst after the other, and wraps around when the
  systolic model refetches (tile order, sequential within a tile).
* Times: a batch's requests are spread evenly over its fold's ``L`` cycles
  (the rate compute demands), the four streams interleaved in proportion to
  their volume (reads and writes mixed as the dataflow drains and prefetches
  together).  Request times are in the DRAM trace player's clock cycles
  (``MemSpec.trace_player_mhz``), as DRAM-v0's traces.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dram.trace import Trace
from .placement import Layout

__all__ = ["STREAMS", "LayerStream", "layer_stream", "split_channels", "write_stl"]

#: request streams, in tie-break order inside a batch; True for writes
STREAMS = (("ifmap_read", False), ("filter_read", False), ("ofmap_read", False), ("ofmap_write", True))


def fold_classes(Fr: int, Fc: int) -> np.ndarray:
    """Class ``2*(j>0) + (i>0)`` of every fold ``k = j*Fr + i`` (``Fr`` row folds x ``Fc`` column folds)."""
    k = np.arange(Fr * Fc)
    return 2 * (k >= Fr) + (k % Fr > 0)


@dataclass(frozen=True)
class LayerStream:
    """One layer's batches (per-fold request counts) for one design; builds traces.

    ``counts``: int64 ``(F, 4)`` bursts per batch and stream (:data:`STREAMS`);
    ``L``: cycles per fold; ``cycle_ns``: accelerator clock period;
    ``region_bytes``: per-stream region size; ``bases``: per-stream region start
    (in the layout's address space); ``layout``: placement and address mapping
    (trace addresses are :meth:`.placement.Layout.device_addresses` of those).
    """

    counts: np.ndarray
    L: float
    cycle_ns: float
    burst_bytes: int
    player_ns: float
    bases: np.ndarray
    region_bytes: np.ndarray
    Fr: int = 1
    layout: Layout | None = None

    @property
    def fold_class(self) -> np.ndarray:
        """Class ``2*(j>0) + (i>0)`` of every batch (fold ``k = j*Fr + i``)."""
        return fold_classes(self.Fr, self.n_batches // self.Fr)

    @property
    def n_batches(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_requests(self) -> int:
        return int(self.counts.sum())

    @property
    def batch_sizes(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def trace(self, requests: np.ndarray | None = None, backlogged: bool = False,
              name: str = "layer") -> tuple[Trace, np.ndarray]:
        """The layer's request trace (or the requests at positions ``requests`` of it) and each
        request's batch index.

        Batch ``k`` occupies fold slot ``[k*L, (k+1)*L)`` cycles.  A selection keeps
        its requests' addresses and relative times, shifted to start at 0;
        ``backlogged`` issues every request at time 0 (the controller's
        saturated throughput).
        """
        sizes = self.batch_sizes
        if requests is None:
            batches = np.arange(self.n_batches)
        else:                                   # only the batches that hold the selected requests
            requests = np.asarray(requests, dtype=np.int64)
            batches = np.unique(np.searchsorted(np.cumsum(sizes), requests, side="right"))
        first = np.cumsum(self.counts, axis=0) - self.counts       # requests of a stream before each batch
        keys, addrs, writes = [], [], []
        for s, (_, is_write) in enumerate(STREAMS):
            n = self.counts[batches, s]
            tot = int(n.sum())
            if not tot:
                continue
            m = np.arange(tot) - np.repeat(np.cumsum(n) - n, n)             # index inside the batch
            keys.append(np.repeat(batches, n) + (m + 0.5) / np.repeat(n, n))
            idx = np.repeat(first[batches, s], n) + m                     # index inside the whole stream
            nb = max(int(self.region_bytes[s]) // self.burst_bytes, 1)
            addrs.append(self.bases[s] + (idx % nb) * self.burst_bytes)
            writes.append(np.full(tot, is_write, dtype=np.int8))
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")
        if requests is not None:               # position in the subset = position in the stream - skipped
            before = np.cumsum(sizes) - sizes
            b = np.searchsorted(np.cumsum(sizes), requests, side="right")
            offset = np.cumsum(sizes[batches]) - sizes[batches]
            order = order[offset[np.searchsorted(batches, b)] + requests - before[b]]
        key = key[order]
        slot = np.floor(key).astype(np.int64)
        if backlogged:
            times = np.zeros(key.size, np.int64)
        else:
            times = np.floor(key * (self.L * self.cycle_ns / self.player_ns) + 1e-9).astype(np.int64)
            times -= times[0]
        addr = np.concatenate(addrs)[order].astype(np.uint64)
        if self.layout is not None:
            addr = self.layout.device_addresses(addr)
        tr = Trace(times, np.concatenate(writes)[order], addr, name=name)
        return tr, slot


def layer_stream(class_words: np.ndarray, Fr: int, Fc: int, L: float, region_words: np.ndarray, *,
                 word_bytes: int, burst_bytes: int, cycle_ns: float, player_ns: float,
                 layout: Layout) -> LayerStream:
    """Batches of one layer from per-class words.

    ``class_words``: ``(4, 4)`` words per fold, rows = fold class
    ``2*(j>0) + (i>0)``, columns = :data:`STREAMS`; ``region_words``: the
    operand sizes (ifmap footprint, filter, ofmap, ofmap) in words;
    ``layout``: where the regions lie (:mod:`.placement`).
    """
    j = np.repeat(np.arange(Fc), Fr)
    i = np.tile(np.arange(Fr), Fc)
    cls = 2 * (j > 0) + (i > 0)
    # cumulative words = folds of each class so far x that class's words (no long float sums)
    seen = np.cumsum(cls[:, None] == np.arange(4)[None, :], axis=0).astype(np.float64)     # (F, 4 classes)
    cum = seen @ (np.asarray(class_words, dtype=np.float64) * (word_bytes / burst_bytes))
    bursts = np.ceil(cum - 1e-7).astype(np.int64)
    counts = np.diff(bursts, axis=0, prepend=0)
    region = np.maximum(np.ceil(np.asarray(region_words, dtype=np.float64) * word_bytes / burst_bytes), 1)
    region = region.astype(np.int64) * burst_bytes
    return LayerStream(counts, float(L), float(cycle_ns), int(burst_bytes), float(player_ns), layout.bases(region),
                       region, int(Fr), layout)


def split_channels(stream: LayerStream, channels: int) -> list[LayerStream]:
    """The sub-streams ``channels`` identical channels serve, interleaved at burst granularity.

    Burst ``b`` of an operand region (its index in the region's sequential
    walk) goes to channel ``b % channels`` at channel-local burst
    ``b // channels``; each region is padded to a multiple of ``channels``
    bursts so that a refetch (wrap-around) keeps the mapping.  A channel's
    share of a batch is spread evenly over the fold's slot like the whole
    stream's (the literal split's request times differ from that by less
    than one request gap of the whole stream).  ``channels=1`` returns the
    stream itself.  Every burst goes to exactly one channel.  Each channel
    places its share of the regions by the stream's layout.
    """
    C = int(channels)
    if C == 1:
        return [stream]
    B = np.cumsum(stream.counts, axis=0)                                  # cumulative bursts per stream
    nb = -(-(stream.region_bytes // stream.burst_bytes) // C)             # per-channel region, bursts
    region = nb * stream.burst_bytes
    bases = stream.layout.bases(region) if stream.layout is not None else stream.bases // C
    out = []
    for ch in range(C):
        cum = np.maximum((B + (C - 1 - ch)) // C, 0)                      # bursts b < B with b % C == ch
        counts = np.diff(cum, axis=0, prepend=0)
        out.append(LayerStream(counts, stream.L, stream.cycle_ns, stream.burst_bytes, stream.player_ns,
                               bases, region, stream.Fr, stream.layout))
    return out


def write_stl(trace: Trace, path: str | Path) -> Path:
    """Write ``trace`` as a DRAMSys STL file (absolute times), readable by DRAM-v0."""
    p = Path(path)
    kinds = np.where(trace.is_write.astype(bool), "write", "read")
    with open(p, "w") as fh:
        fh.writelines(f"{int(t)}:\t{k}\t0x{int(a):x}\n" for t, k, a in zip(trace.times, kinds, trace.addresses))
    return p


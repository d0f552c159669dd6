"""Composite co-design environment ``Accelerator-v0``: systolic compute + SRAMs + DRAM controller, coupled.

It reuses the single-subsystem models (nothing is copied): the systolic
model of ``Systolic-v0`` (:mod:`archgym.simulators.systolic`: folds, per-fold
DRAM transfer volumes, SRAM/MAC energy, area) and the DRAM controller core
of ``DRAM-v0`` (:mod:`archgym.simulators.dram`: DRAMSys-faithful scheduling,
DRAMPower energy, the four standards), with their parameter names.

Coupling model (per layer, per design)
--------------------------------------
1. The systolic model gives the fold geometry (``Fr`` row folds x ``Fc``
   column folds, ``L`` cycles per fold) and, per fold class, the DRAM words
   each operand moves while a fold computes (ifmap/filter reads, ofmap
   writes, partial-sum spills and read-backs, refetches included):
   :func:`archgym.simulators.systolic.memory.fold_transfers`.
2. Those volumes become the request stream the array issues
   (:mod:`.stream`): one batch per fold, bursts of the standard's size,
   addresses walking each operand's region sequentially in tile order
   (wrapping on refetch), issued evenly over the fold's ``L`` cycles (the
   rate compute demands), reads and writes interleaved in proportion.
   Where the regions lie and how addresses map onto banks is stated and
   configurable (:mod:`.placement`): by default a bank-interleaved mapping
   (row:rank:bank:bankgroup:column; DRAMSys's stock mapping for DDR3/DDR4)
   with the three regions staggered a third of the banks apart;
   ``address_mapping="stock"`` keeps the standard's DRAMSys mapping (bank
   bits above the row bits for LPDDR4 and HBM2), ``placement`` = ``packed``
   or ``mib`` moves the regions.
3. The DRAM controller core serves the stream (:mod:`.serve`): every
   request's completion, commands, row hits and DRAMPower energy, exactly
   as ``DRAM-v0`` would on that trace (``tests/test_accelerator.py`` writes
   it as an STL file and compares).
   Channels (``channels`` = 1, 2, 4, 8; HBM2 pseudo-channels likewise):
   each operand region is interleaved across channels at **burst
   granularity** (burst ``b`` of a region -> channel ``b % channels``,
   channel-local burst ``b // channels``; :func:`.stream.split_channels`),
   each channel's share of a batch spread evenly over the fold's slot.  Every
   channel's sub-stream is served by the same controller core (all channels
   simulated: they differ by at most one burst per batch and operand, which
   can move a row boundary, so symmetry is not assumed); the layer's stall is
   the slowest channel's, DRAM energy is summed over channels.
4. Double buffering: fold ``k`` may start only when the data moved during
   slot ``k-1`` is complete, so the layer's stall is how late the latest
   batch completes after its slot ends, ``max_k(e_k - (k+1)*L)``; the
   prefetcher runs ahead of a stalled array (the stream is open loop, the
   trace player's backpressure throttles it).  The stall is never below
   Systolic-v0's stall rule at the design's peak bandwidth (``channels`` x
   the standard's, per fold ``max(V/bw - L, 0)``), which a double-buffered
   schedule cannot beat; so latency is never below Systolic-v0's at that
   bandwidth (and may be below it at any smaller one).
   Layer cycles = ``F*L + stall`` (times ``repeat`` for depthwise layers);
   layers run one after another, each from an idle controller.
5. Energy = Systolic-v0's on-chip dynamic energy (MACs, PE registers, SRAMs;
   its fixed pJ/byte DRAM term removed) + DRAMPower's energy: commands,
   background and refresh over the run's energy window, then the layer's
   idle tail (from the last command to the layer's end) at the idle
   background power -- precharged or active standby per page policy,
   power-down if enabled, refreshes on the tREFI grid (:mod:`.idle`).
   EDP = energy x latency.
6. Activation buffer (second step, group ``on_chip``: ``act_buffer_kb``,
   ``act_buffer_policy`` = ``none`` | ``belady``; :mod:`.act_buffer`): the
   scratchpad scheduler's Belady plan on the network's operator graph
   (:mod:`archgym.simulators.workloads.graphs`, weights dropped, default
   layer-major order) decides which activations stay on chip from producer
   to last consumer; a systolic layer whose outputs all stay drops its ofmap
   writes and partial-sum read-backs from the DRAM stream, one whose inputs
   all stay drops its ifmap reads (refetches included); those words are
   charged at the buffer's SRAM energy per byte, its area is added, and the
   lower bound on the stall is Systolic-v0's rule on the reduced traffic.
   With policy ``none`` the buffer is present but unused: its area is
   charged and nothing else changes (a searcher learns not to pay for it).
   Systolic layers map onto graph operators by one name table
   (:func:`.act_buffer.layer_ops`, checked by equal MACs).  The buffer must
   hold every operator's activations at once (the scratchpad model's rule);
   a smaller one is an infeasible design.  Networks with a graph: the
   ResNets and MobileNetV2 (batch 1, where ResNet-18 never spills above its
   largest operator: a feasible buffer keeps every activation).
7. Service is exact by default: every request of every layer runs through
   the controller core (``window=None``; median 0.08-0.24 s and 95th
   percentile 1.6-1.8 s of CPU per design on BERT / ResNet-18,
   ``experiments/benchmarks/accelerator.py``).  ``window=N`` simulates
   about ``N`` requests per layer (saturated samples of each fold class and
   one paced run) and extrapolates with a fluid queue
   (:func:`.serve.serve_window`): 3-10x cheaper, but its error is not
   bounded (latency median 1.6-1.7 %, worst 92-180 % at window 4096: the
   row-conflict rate of the operand streams varies along a layer more than a
   small sample captures); use it for screening only (docs/accelerator.md).

Not modelled: ranks (beyond HBM2's two pseudo-channels in one DRAM-v0
channel), on-chip leakage, DRAM state carried across layers.
"""
from .simulator import GROUPS, MEMORIES, AcceleratorSimulator
from .stream import LayerStream, layer_stream, write_stl

__all__ = ["AcceleratorSimulator", "GROUPS", "MEMORIES", "LayerStream", "layer_stream", "write_stl"]

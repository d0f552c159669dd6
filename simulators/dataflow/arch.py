"""The architecture: storage levels from the backing store inwards, fan-outs, a compute level.

An :class:`Architecture` is a list of :class:`StorageLevel` (index 0 is the
backing store, e.g. DRAM), an optional :class:`Fanout` below each level
(a spatial array of the next level's instances, ``mesh_x * mesh_y`` wide;
below the last level it fans out to MACs), and the :class:`Compute` level.
Capacities are in words of ``word_bits`` bits (``None`` = unbounded, as a
DRAM); bandwidths are words per cycle per instance (``None`` = unbounded).
``instances`` of a level = product of the fan-outs above it.

Nested fan-outs (Eyeriss's ``PE_column`` then ``PE``; Simba's ``PE`` then
``distributed_buffers`` then ``reg_mac``) are what Timeloop's front end makes
of them: each spatial ``!Container`` becomes a *dummy* level (class
``dummy_storage``, named ``inter_<container>_spatial``) that holds no data and
carries the container's fan-out below it.  A data space passes through a
dummy level (it is bypassed), so the fan-outs between two levels that keep a
data space combine, and multicast / spatial reduction is counted over all of
them at once, as Timeloop does after collapsing bypassed levels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .errors import ArchitectureError

__all__ = ["StorageLevel", "Fanout", "Compute", "Architecture", "eyeriss_like", "simple_three_level", "dummy_level",
           "DUMMY_CLASSES"]

#: classes of levels that hold no data (Timeloop's front end names its container levels ``dummy_storage``)
DUMMY_CLASSES = ("dummy_storage", "dummy")


@dataclass(frozen=True)
class StorageLevel:
    """One buffer level. ``cls`` is its Accelergy-style class (``DRAM``, ``SRAM``, ``regfile``, ...)."""

    name: str
    cls: str = "SRAM"
    capacity_words: Optional[int] = None
    word_bits: int = 8
    block_words: int = 1
    read_bw: Optional[float] = None
    write_bw: Optional[float] = None
    shared_bw: Optional[float] = None
    cluster_size: int = 1

    def __post_init__(self) -> None:
        if self.capacity_words is not None and (not isinstance(self.capacity_words, int) or self.capacity_words <= 0):
            raise ArchitectureError(f"level {self.name!r}: capacity must be a positive number of words, "
                                    f"got {self.capacity_words!r}")
        if not isinstance(self.word_bits, int) or self.word_bits <= 0:
            raise ArchitectureError(f"level {self.name!r}: word bits must be a positive integer, got {self.word_bits!r}")
        for what, bw in (("read_bandwidth", self.read_bw), ("write_bandwidth", self.write_bw),
                         ("shared_bandwidth", self.shared_bw)):
            if bw is not None and not bw > 0:
                raise ArchitectureError(f"level {self.name!r}: {what} must be positive, got {bw!r}")

    @property
    def is_dram(self) -> bool:
        return self.cls.lower() == "dram"

    @property
    def is_dummy(self) -> bool:
        """A spatial container's level: holds no data, only carries a fan-out."""
        return self.cls.lower() in DUMMY_CLASSES


@dataclass(frozen=True)
class Fanout:
    """A spatial array of ``mesh_x * mesh_y`` children (the name is the ``!Container``'s)."""

    name: str
    mesh_x: int = 1
    mesh_y: int = 1

    def __post_init__(self) -> None:
        for what, v in (("meshX", self.mesh_x), ("meshY", self.mesh_y)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ArchitectureError(f"fan-out {self.name!r}: {what} must be a positive integer, got {v!r}")

    @property
    def size(self) -> int:
        return self.mesh_x * self.mesh_y


@dataclass(frozen=True)
class Compute:
    """The MAC level (``word_bits`` operand width)."""

    name: str = "MAC"
    word_bits: int = 8


@dataclass(frozen=True)
class Architecture:
    """Storage levels (outermost first), ``fanouts[i]`` below level ``i`` (or None), and compute."""

    name: str
    levels: tuple[StorageLevel, ...]
    fanouts: tuple[Optional[Fanout], ...]
    compute: Compute = field(default_factory=Compute)

    def __post_init__(self) -> None:
        if not self.levels:
            raise ArchitectureError(f"architecture {self.name!r}: no storage level")
        if len(self.fanouts) != len(self.levels):
            raise ArchitectureError(f"architecture {self.name!r}: {len(self.fanouts)} fan-out slots for "
                                    f"{len(self.levels)} levels")
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ArchitectureError(f"architecture {self.name!r}: repeated level name in {names}")
        names += [f.name for i, f in enumerate(self.fanouts) if f is not None and f.name != self.levels[i].name]
        if len(set(names)) != len(names):
            raise ArchitectureError(f"architecture {self.name!r}: repeated level or container name in {names}")

    @property
    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def level_index(self, name: str) -> int:
        """Index of the level called ``name`` (a container's level also answers to the container's
        own name and Timeloop's ``inter_<name>_spatial``)."""
        i = self.find_level(name)
        if i is None:
            raise ArchitectureError(f"unknown level {name!r}; levels: {', '.join(self.level_names)}")
        return i

    def find_level(self, name: str) -> Optional[int]:
        """Like :meth:`level_index`, None when no level answers to ``name``."""
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        for i, lv in enumerate(self.levels):
            f = self.fanouts[i]
            if lv.is_dummy and (f is not None and f.name == name or lv.name == f"inter_{name}_spatial"
                                or name == f"inter_{lv.name}_spatial"):
                return i
        return None

    def fanout_level(self, name: str) -> Optional[int]:
        """Index of the level whose fan-out answers to ``name`` (the fan-out's name, the level's name,
        or Timeloop's ``inter_<name>_spatial``), None if none."""
        for i, f in enumerate(self.fanouts):
            if f is not None and name in (f.name, f"inter_{f.name}_spatial"):
                return i
        return self.find_level(name)

    @property
    def data_levels(self) -> list[int]:
        """Indices of the levels that can hold data (not dummy)."""
        return [i for i, lv in enumerate(self.levels) if not lv.is_dummy]

    def instances(self, i: int) -> int:
        """Physical instances of level ``i`` (product of the fan-outs above it)."""
        n = 1
        for f in self.fanouts[:i]:
            if f is not None:
                n *= f.size
        return n

    @property
    def mac_instances(self) -> int:
        return self.instances(len(self.levels))


def dummy_level(name: str) -> StorageLevel:
    """The data-less level of a spatial container (Timeloop's ``inter_<name>_spatial``)."""
    return StorageLevel(name, "dummy_storage", None, 1)


def eyeriss_like(word_bits: int = 16, pe_rows: int = 12, pe_cols: int = 14, glb_words: int = 65536,
                 ifmap_spad: int = 12, weights_spad: int = 224, psum_spad: int = 24,
                 dram_bw: float | None = None, glb_bw: float | None = None) -> Architecture:
    """Eyeriss-like accelerator (Chen et al., ISCA 2016): DRAM, a 108 KB-class global buffer, a
    12 x 14 = 168-PE array, per-PE ifmap/weight/psum scratchpads (12/224/24 words), 16-bit MACs."""
    return Architecture("eyeriss_like", (
        StorageLevel("DRAM", "DRAM", None, word_bits, 4, dram_bw, dram_bw),
        StorageLevel("shared_glb", "SRAM", glb_words, word_bits, 4, glb_bw, glb_bw),
        StorageLevel("ifmap_spad", "regfile", ifmap_spad, word_bits),
        StorageLevel("weights_spad", "regfile", weights_spad, word_bits),
        StorageLevel("psum_spad", "regfile", psum_spad, word_bits),
    ), (None, Fanout("PE", pe_cols, pe_rows), None, None, None), Compute("mac", word_bits))


def simple_three_level(word_bits: int = 8, pes: int = 16, glb_words: int = 32768, rf_words: int = 64) -> Architecture:
    """Timeloop tutorial-style 3-level hierarchy: MainMemory, GlobalBuffer, ``pes`` PEs with a RegisterFile."""
    return Architecture("three_level", (
        StorageLevel("MainMemory", "DRAM", None, word_bits, 32),
        StorageLevel("GlobalBuffer", "SRAM", glb_words, word_bits, 8),
        StorageLevel("RegisterFile", "regfile", rf_words, word_bits),
    ), (None, Fanout("PE", pes, 1), None), Compute("MACC", word_bits))

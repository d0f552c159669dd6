"""Energy tables: energy per action of each component, from Accelergy's ``ERT.yaml`` or the built-in 45 nm table.

An :class:`EnergyTable` maps each storage level to its per-action energies
(pJ per *vector* access of ``block_words`` words: ``read``, ``fill``,
``update``, and ``leak`` per instance per cycle) and gives the compute level's
energy per operation.  :func:`read_ert` reads Accelergy's ``ERT.yaml``
(``ERT: {tables: [{name: "sys.Level[1..N]", actions: [{name, energy}]}]}``)
and resolves action names the way Timeloop does (``topology.hpp``): a fill
is ``random_fill``/``random_write``/``fill``/``write``, an update
``random_update``/``random_write``/``update``/``write``, a read
``random_read``/``read``, a compute ``mac_random``/``mult_random``/``mac``/``mult``/``compute``;
an action the table lacks costs the largest listed action of the component
(Timeloop's "vector access energy").  Where an action is listed several times
(one entry per argument set) the largest energy is used.

Without a table, :func:`default_table` gives the built-in 45 nm energies of
:mod:`.costs` (Horowitz ISSCC 2014 for SRAM/DRAM/MACs, Eyeriss ISCA 2016 for
register files), per word times the block size, and no leakage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .arch import Architecture
from .errors import DataflowInputError

__all__ = ["EnergyTable", "read_ert", "parse_ert", "default_table", "STORAGE_ACTIONS", "COMPUTE_ACTIONS"]

#: Timeloop's ERT action names per operation, in priority order
STORAGE_ACTIONS = {
    "read": ("random_read", "read"),
    "fill": ("random_fill", "random_write", "fill", "write"),
    "update": ("random_update", "random_write", "update", "write"),
    "leak": ("leak",),
}
COMPUTE_ACTIONS = ("mac_random", "mult_random", "mac", "mult", "compute")


@dataclass(frozen=True)
class EnergyTable:
    """``storage[level] = {"read", "fill", "update", "leak"}`` in pJ per vector access (leak: per
    instance per cycle); ``compute_pj`` per MAC; ``source`` says where the numbers come from."""

    storage: Mapping[str, Mapping[str, float]]
    compute_pj: float
    source: str = "built-in 45 nm"
    compute_leak_pj: float = 0.0
    components: tuple = field(default=())


def _component(name: str) -> str:
    return re.sub(r"\[\d+\.\.\d+\]$", "", str(name)).split(".")[-1]


def parse_ert(doc: Any, arch: Architecture, where: str = "ERT") -> EnergyTable:
    """An :class:`EnergyTable` for ``arch`` from a parsed ``ERT.yaml`` document.  Every table must
    name a storage level or the compute level of ``arch`` (one-line error otherwise); every data
    level of ``arch`` must have a table."""
    ert = doc.get("ERT") if isinstance(doc, dict) else None
    tables = ert.get("tables") if isinstance(ert, dict) else None
    if not isinstance(tables, list):
        raise DataflowInputError(f"{where}: no 'ERT: tables:' list (an Accelergy ERT.yaml is expected)")
    levels = {lv.name for lv in arch.levels if not lv.is_dummy}
    raw: dict[str, dict[str, float]] = {}
    for t in tables:
        if not isinstance(t, dict):
            raise DataflowInputError(f"{where}: table entry {t!r} is not a mapping")
        comp = _component(t.get("name", ""))
        if any(lv.is_dummy and lv.name == comp for lv in arch.levels):
            continue  # a container's level holds nothing and costs nothing
        if comp not in levels and comp != arch.compute.name:
            raise DataflowInputError(f"{where}: energy table for component {comp!r}, which the architecture lacks; "
                                     f"components: {', '.join(sorted(levels) + [arch.compute.name])}")
        acts = raw.setdefault(comp, {})
        for a in t.get("actions") or []:
            e = a.get("energy") if isinstance(a, dict) else None
            if isinstance(e, bool) or not isinstance(e, (int, float)) or e < 0:
                raise DataflowInputError(f"{where}: component {comp!r} action {a!r}: energy must be a non-negative "
                                         "number")
            name = str(a.get("name"))
            acts[name] = max(acts.get(name, 0.0), float(e))
    missing = [lv for lv in arch.level_names if lv in levels and lv not in raw]
    if missing:
        raise DataflowInputError(f"{where}: no energy table for level {missing[0]!r}; tables: {', '.join(raw)}")
    storage = {}
    for name in levels:
        acts = raw[name]
        vector = max((v for k, v in acts.items() if k != "leak"), default=0.0)
        storage[name] = {op: next((acts[a] for a in names if a in acts), 0.0 if op == "leak" else vector)
                         for op, names in STORAGE_ACTIONS.items()}
    comp = raw.get(arch.compute.name, {})
    compute = next((comp[a] for a in COMPUTE_ACTIONS if a in comp), max(comp.values(), default=0.0))
    return EnergyTable(storage, compute, f"Accelergy ERT ({where})", 0.0, tuple(raw))


def read_ert(path: str | Path, arch: Architecture) -> EnergyTable:
    """Read an Accelergy ``ERT.yaml`` for ``arch`` (see :func:`parse_ert`)."""
    from .timeloop_io import load_yaml

    p = Path(str(path))
    if not p.exists():
        raise DataflowInputError(f"energy table {str(path)!r} does not exist")
    return parse_ert(load_yaml(p), arch, str(path))


def default_table(arch: Architecture) -> EnergyTable:
    """The built-in 45 nm table (module docstring): per word energy x block size, no leakage."""
    from .costs import level_energy_per_word_pj, mac_energy_pj

    storage = {}
    for lv in arch.levels:
        if lv.is_dummy:
            continue
        e = level_energy_per_word_pj(lv) * lv.block_words
        storage[lv.name] = {"read": e, "fill": e, "update": e, "leak": 0.0}
    return EnergyTable(storage, mac_energy_pj(arch.compute.word_bits))

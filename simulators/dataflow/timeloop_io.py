"""Readers for Timeloop v0.4 input files: problem, architecture (``!Container``/``!Component``), mapping.

Supported: ``problem: {shape: {dimensions, coefficients, data_spaces: [{name,
projection, read_write}]}, instance: {...}}``; ``architecture: {version: 0.4,
nodes: [...]}`` with ``!Container`` nodes (``spatial: {meshX, meshY}`` makes a
fan-out) and ``!Component`` nodes (storage: ``attributes: {datawidth, width,
depth, read_bandwidth, write_bandwidth}``; the last compute component
(class containing ``mac``/``compute``) is the MAC level); mapping lists of
``{target, type: temporal|spatial|dataspace|bypass, factors, permutation,
split, keep, bypass}``.  Permutations are innermost first; a spatial entry's
first ``split`` dimensions go to X and the rest to Y (no split: all X).  A
spatial entry targets a ``!Container`` by name or the storage level the
fan-out hangs below.

Not supported (one-line :class:`UnsupportedFeatureError` naming the feature):
sparse optimizations, Jinja templates, compound components, other YAML tags
(``!Parallel``, ``!Hierarchical``, ...), spatial components with no storage
level above, two fan-outs between the same pair of levels.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .arch import Architecture, Compute, Fanout, StorageLevel
from .errors import ArchitectureError, DataflowInputError, MappingError, ProblemError, UnsupportedFeatureError
from .mapping import LevelMapping, Mapping
from .problem import DataSpace, Problem

__all__ = ["load_yaml", "read_problem", "read_architecture", "read_mapping", "parse_problem", "parse_architecture",
           "parse_mapping"]


class _Node(dict):
    """A tagged node: ``kind`` is ``Container`` or ``Component``."""

    def __init__(self, kind: str, body: dict) -> None:
        super().__init__(body)
        self.kind = kind


class _Loader(yaml.SafeLoader):
    pass


def _tag(kind: str):
    def construct(loader: yaml.Loader, node: yaml.Node) -> _Node:
        if not isinstance(node, yaml.MappingNode):
            raise ArchitectureError(f"!{kind} must be a mapping (line {node.start_mark.line + 1})")
        return _Node(kind, loader.construct_mapping(node, deep=True))
    return construct


_Loader.add_constructor("!Container", _tag("Container"))
_Loader.add_constructor("!Component", _tag("Component"))


def _unknown_tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    raise UnsupportedFeatureError(f"YAML tag !{suffix} (line {node.start_mark.line + 1}) is not supported; "
                                  "supported: !Container, !Component")


_Loader.add_multi_constructor("!", _unknown_tag)


def load_yaml(path_or_text: str | Path) -> Any:
    """Parse a Timeloop YAML file (or text) with the node tags; one-line errors."""
    p = Path(str(path_or_text))
    is_file = "\n" not in str(path_or_text) and p.exists()
    where = str(p) if is_file else "<yaml>"
    try:
        text = p.read_text(encoding="utf-8") if is_file else str(path_or_text)
    except OSError as exc:
        raise DataflowInputError(f"{where}: cannot read ({exc.strerror})") from None
    if "{{" in text or "{%" in text:
        raise UnsupportedFeatureError(f"{where}: Jinja templates are not supported; render the file first")
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise DataflowInputError(f"{where}:{line} not valid YAML ({getattr(exc, 'problem', None) or exc})") from None


def _section(doc: Any, key: str, where: str) -> Any:
    if isinstance(doc, dict) and key in doc:
        return doc[key]
    raise DataflowInputError(f"{where}: no top-level {key!r} section")


def _pos_int(v: Any, what: str, err: type = ProblemError) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v or v <= 0:
        raise err(f"{what} must be a positive integer, got {v!r}")
    return int(v)


# ---------------------------------------------------------------------------------- problem
def parse_problem(doc: Any, where: str = "problem") -> Problem:
    """A :class:`Problem` from a parsed Timeloop problem document."""
    prob = _section(doc, "problem", where)
    shape = prob.get("shape") if isinstance(prob, dict) else None
    if not isinstance(shape, dict):
        raise ProblemError(f"{where}: problem has no 'shape'")
    dims = [str(d) for d in shape.get("dimensions") or []]
    inst = dict(prob.get("instance") or {})
    if "densities" in inst or "densities" in prob:
        raise UnsupportedFeatureError(f"{where}: sparse densities are not supported")
    coeffs: dict[str, int] = {}
    for c in shape.get("coefficients") or []:
        name = str(c.get("name"))
        coeffs[name] = _pos_int(inst.get(name, c.get("default", 1)), f"{where}: coefficient {name!r}")
    bounds = {}
    for d in dims:
        if d not in inst:
            raise ProblemError(f"{where}: dimension {d!r} has no bound in 'instance'")
        bounds[d] = _pos_int(inst[d], f"{where}: dimension {d!r} bound")
    for k in inst:
        if k not in bounds and k not in coeffs:
            raise ProblemError(f"{where}: instance names unknown dimension {k!r}; dimensions: {', '.join(dims)}")
    spaces = []
    for ds in shape.get("data_spaces") or shape.get("data-spaces") or []:
        name = str(ds.get("name"))
        proj = []
        for dd in ds.get("projection") or []:
            terms = []
            for term in dd:
                if not isinstance(term, list) or not 1 <= len(term) <= 2:
                    raise ProblemError(f"{where}: data space {name!r}: projection term {term!r} must be [dim] "
                                       "or [dim, coefficient]")
                d = str(term[0])
                if d not in bounds:
                    raise ProblemError(f"{where}: data space {name!r} uses unknown dimension {d!r}; "
                                       f"dimensions: {', '.join(dims)}")
                c = 1
                if len(term) == 2:
                    c = coeffs.get(str(term[1])) if not isinstance(term[1], int) else term[1]
                    if c is None:
                        raise ProblemError(f"{where}: data space {name!r}: unknown coefficient {term[1]!r}")
                terms.append((d, int(c)))
            proj.append(tuple(terms))
        spaces.append(DataSpace(name, tuple(proj), bool(ds.get("read_write", ds.get("read-write", False)))))
    return Problem(str(shape.get("name", "problem")), tuple(dims), bounds, tuple(spaces))


def read_problem(path: str | Path) -> Problem:
    """Read a Timeloop v0.4 problem file."""
    return parse_problem(load_yaml(path), str(path))


# ---------------------------------------------------------------------------------- architecture
_COMPUTE = re.compile(r"mac|compute|alu", re.I)


def parse_architecture(doc: Any, where: str = "architecture") -> Architecture:
    """An :class:`Architecture` from a parsed Timeloop v0.4 architecture document."""
    if isinstance(doc, dict) and ("compound_components" in doc or "components" in doc):
        raise UnsupportedFeatureError(f"{where}: compound components are not supported")
    arch = _section(doc, "architecture", where)
    if isinstance(arch, dict) and "subtree" in arch:
        raise UnsupportedFeatureError(f"{where}: the v0.3 'subtree' syntax is not supported; use v0.4 nodes")
    nodes = arch.get("nodes") if isinstance(arch, dict) else None
    if not isinstance(nodes, list):
        raise ArchitectureError(f"{where}: architecture has no 'nodes' list")
    levels: list[StorageLevel] = []
    fanouts: list[Fanout | None] = []
    pending: Fanout | None = None
    compute: Compute | None = None
    for node in nodes:
        if not isinstance(node, _Node):
            raise ArchitectureError(f"{where}: node {node!r} is not tagged !Container or !Component")
        name = str(node.get("name"))
        if "sparse_optimizations" in node or "sparse_optimizations" in (node.get("attributes") or {}):
            raise UnsupportedFeatureError(f"{where}: node {name!r}: sparse optimizations are not supported")
        if re.search(r"\[\d+\.\.\d+\]", name):
            raise UnsupportedFeatureError(f"{where}: node {name!r}: the name[0..N] instance syntax is not supported; "
                                          "use spatial: {meshX, meshY}")
        sp = node.get("spatial") or {}
        if sp:
            mx = _pos_int(sp.get("meshX", 1), f"{where}: {name!r} meshX", ArchitectureError)
            my = _pos_int(sp.get("meshY", 1), f"{where}: {name!r} meshY", ArchitectureError)
            if mx * my > 1:
                if not levels:
                    raise UnsupportedFeatureError(f"{where}: fan-out {name!r} above the backing store is not supported")
                if pending is not None:
                    raise UnsupportedFeatureError(f"{where}: two fan-outs ({pending.name!r}, {name!r}) between the "
                                                  "same levels are not supported")
                pending = Fanout(name, mx, my)
        if node.kind == "Container":
            continue
        attrs = node.get("attributes") or {}
        cls = str(node.get("class", ""))
        if _COMPUTE.search(cls) and "depth" not in attrs:
            compute = Compute(name, _pos_int(attrs.get("datawidth", attrs.get("width", 8)),
                                             f"{where}: {name!r} width", ArchitectureError))
            continue
        if compute is not None:
            raise ArchitectureError(f"{where}: storage {name!r} below the compute level {compute.name!r}")
        bits = _pos_int(attrs.get("datawidth", attrs.get("word-bits", 8)), f"{where}: {name!r} datawidth",
                        ArchitectureError)
        width = _pos_int(attrs.get("width", bits), f"{where}: {name!r} width", ArchitectureError)
        block = max(1, width // bits)
        depth = attrs.get("depth")
        cap = None if depth is None or cls.lower() == "dram" else \
            _pos_int(depth, f"{where}: {name!r} depth", ArchitectureError) * block
        rb, wb = attrs.get("read_bandwidth"), attrs.get("write_bandwidth")
        if levels:
            fanouts.append(pending)
            pending = None
        levels.append(StorageLevel(name, cls or "SRAM", cap, bits, block,
                                   float(rb) if rb is not None else None, float(wb) if wb is not None else None))
    if not levels:
        raise ArchitectureError(f"{where}: no storage component")
    fanouts.append(pending)
    return Architecture(str(nodes[0].get("name", "architecture")) if nodes else "architecture", tuple(levels),
                        tuple(fanouts), compute or Compute())


def read_architecture(path: str | Path) -> Architecture:
    """Read a Timeloop v0.4 architecture file."""
    return parse_architecture(load_yaml(path), str(path))


# ---------------------------------------------------------------------------------- mapping
def _factors(raw: Any, where: str) -> dict[str, int]:
    items: list[tuple[str, Any]]
    if isinstance(raw, dict):
        items = list(raw.items())
    else:
        toks = raw.split() if isinstance(raw, str) else list(raw or [])
        items = []
        for t in toks:
            m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=?\s*(-?\d+)\s*", str(t))
            if not m:
                raise MappingError(f"{where}: cannot read factor {t!r}; expected DIM=N")
            items.append((m.group(1), m.group(2)))
    out = {}
    for d, v in items:
        try:
            iv = int(v)
        except (TypeError, ValueError):
            raise MappingError(f"{where}: factor of {d!r} must be an integer, got {v!r}") from None
        if iv <= 0:
            raise MappingError(f"{where}: factor of {d!r} must be positive, got {iv}")
        if str(d) in out:
            raise MappingError(f"{where}: dimension {d!r} given twice in factors")
        out[str(d)] = iv
    return out


def _perm(raw: Any, dims: list[str], where: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        if " " in raw.strip() or "," in raw:
            toks = [t for t in re.split(r"[\s,]+", raw.strip()) if t]
        else:
            toks, rest = [], raw.strip()
            while rest:  # greedy match on dimension names (multi-letter names allowed)
                m = next((d for d in sorted(dims, key=len, reverse=True) if rest.startswith(d)), None)
                if m is None:
                    raise MappingError(f"{where}: unknown dimension {rest[0]!r} in permutation; "
                                       f"dimensions: {', '.join(dims)}")
                toks.append(m)
                rest = rest[len(m):]
        return toks
    return [str(t) for t in raw]


def parse_mapping(doc: Any, problem: Problem, arch: Architecture, where: str = "mapping") -> Mapping:
    """A :class:`Mapping` from a parsed Timeloop mapping document (checked against problem and arch)."""
    entries = _section(doc, "mapping", where)
    if not isinstance(entries, list):
        raise MappingError(f"{where}: 'mapping' must be a list of entries")
    L = len(arch.levels)
    dims = list(problem.dims)
    temporal: list[dict[str, int]] = [dict() for _ in range(L)]
    order: list[tuple[str, ...]] = [() for _ in range(L)]
    sx: list[dict[str, int]] = [dict() for _ in range(L)]
    sy: list[dict[str, int]] = [dict() for _ in range(L)]
    keep: list[set | None] = [None] * L
    fan_names = {f.name: i for i, f in enumerate(arch.fanouts) if f is not None}
    all_ds = [ds.name for ds in problem.dataspaces]
    for e in entries:
        if not isinstance(e, dict):
            raise MappingError(f"{where}: entry {e!r} is not a mapping")
        target, kind = str(e.get("target")), str(e.get("type", "temporal"))
        here = f"{where}: {kind} entry for {target!r}"
        if kind == "spatial":
            if target in fan_names:
                lv = fan_names[target]
            elif target in arch.level_names:
                lv = arch.level_index(target)
            else:
                raise MappingError(f"{here}: unknown target; fan-outs: {', '.join(fan_names) or 'none'}, levels: "
                                   f"{', '.join(arch.level_names)}")
            fac = _factors(e.get("factors"), here)
            perm = _perm(e.get("permutation"), dims, here)
            for d in fac:
                if d not in perm:
                    perm.append(d)
            split = e.get("split", len(perm))
            if isinstance(split, bool) or not isinstance(split, int) or split < 0:
                raise MappingError(f"{here}: split must be a non-negative integer, got {split!r}")
            for i, d in enumerate(perm):
                if d not in dims:
                    raise MappingError(f"{here}: unknown dimension {d!r}; dimensions: {', '.join(dims)}")
                if fac.get(d, 1) > 1:
                    (sx if i < split else sy)[lv][d] = fac[d]
            unknown = [d for d in fac if d not in dims]
            if unknown:
                raise MappingError(f"{here}: unknown dimension {unknown[0]!r}; dimensions: {', '.join(dims)}")
            continue
        if target not in arch.level_names:
            raise MappingError(f"{here}: unknown level; levels: {', '.join(arch.level_names)}")
        lv = arch.level_index(target)
        if kind == "temporal":
            temporal[lv] = _factors(e.get("factors"), here)
            order[lv] = tuple(reversed(_perm(e.get("permutation"), dims, here)))
        elif kind in ("dataspace", "bypass"):
            kp = e.get("keep")
            bp = e.get("bypass") or []
            for name in list(kp or []) + list(bp):
                if name not in all_ds:
                    raise MappingError(f"{here}: unknown data space {name!r}; data spaces: {', '.join(all_ds)}")
            held = set(kp) if kp is not None else set(all_ds) - set(bp)
            both = held & set(bp)
            if both:
                raise MappingError(f"{here}: data space {sorted(both)[0]!r} both kept and bypassed")
            keep[lv] = held
        else:
            raise MappingError(f"{here}: unknown type; allowed: temporal, spatial, dataspace, bypass")
    m = Mapping(tuple(LevelMapping(temporal[i], order[i], sx[i], sy[i],
                                   frozenset(keep[i]) if keep[i] is not None else None) for i in range(L)))
    m.check(problem, arch)
    if m.levels[0].keep is not None and set(m.levels[0].keep) != set(all_ds):
        missing = sorted(set(all_ds) - set(m.levels[0].keep))
        raise MappingError(f"{where}: the backing store {arch.levels[0].name!r} must keep every data space "
                           f"({missing[0]!r} is bypassed)")
    return m


def read_mapping(path: str | Path, problem: Problem, arch: Architecture) -> Mapping:
    """Read a Timeloop v0.4 mapping file for ``problem`` on ``arch``."""
    return parse_mapping(load_yaml(path), problem, arch, str(path))

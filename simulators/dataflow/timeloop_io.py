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

from archgym import yaml_input
from archgym.userfiles import read_text

from .arch import DUMMY_CLASSES, Architecture, Compute, Fanout, StorageLevel, dummy_level
from .errors import ArchitectureError, DataflowInputError, MappingError, ProblemError, UnsupportedFeatureError
from .mapping import LevelMapping, Mapping
from .problem import DataSpace, Problem

__all__ = ["load_yaml", "read_problem", "read_architecture", "read_mapping", "parse_problem", "parse_architecture",
           "parse_architecture_and_constraints", "parse_mapping", "mapping_entries", "kept_set", "parse_split",
           "mapping_document"]


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


for _kind in ("Container", "Component", "Parallel", "Hierarchical", "Nothing"):
    _Loader.add_constructor(f"!{_kind}", _tag(_kind))


def _unknown_tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    raise UnsupportedFeatureError(f"YAML tag !{suffix} (line {node.start_mark.line + 1}) is not supported; "
                                  "supported: !Container, !Component, !Parallel, !Hierarchical, !Nothing")


_Loader.add_multi_constructor("!", _unknown_tag)


def load_yaml(path_or_text: str | Path) -> Any:
    """Parse a Timeloop YAML file (or text) with the node tags; one-line errors
    (an unreadable file, invalid YAML, aliases that expand beyond
    :data:`archgym.yaml_input.MAX_NODES`)."""
    p = Path(str(path_or_text))
    is_file = "\n" not in str(path_or_text) and p.exists()
    where = str(p) if is_file else "<yaml>"
    text = read_text(p, "Timeloop file", DataflowInputError) if is_file else str(path_or_text)
    if "{{" in text or "{%" in text:
        raise UnsupportedFeatureError(f"{where}: Jinja templates are not supported; render the file first")
    return yaml_input.load_yaml(text, where, DataflowInputError, loader=_Loader)  # alias bombs refused


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
    if inst.get("densities") or prob.get("densities"):
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
    # other instance keys (Timeloop's dumps carry the template's H, W, Hpad, ...) are ignored, as Timeloop does
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
_INSTANCES = re.compile(r"^(.*)\[(\d+)\.\.(\d+)\]$")


def _attr_num(attrs: dict, key: str, where: str, name: str) -> float | None:
    v = attrs.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ArchitectureError(f"{where}: {name!r} {key} must be a positive number, got {v!r}")
    return float(v)


def _storage(name: str, cls: str, attrs: dict, where: str) -> StorageLevel:
    """One storage level from a component's class and attributes (Timeloop's names and defaults)."""
    if cls.lower() in DUMMY_CLASSES:
        return dummy_level(name)
    bits = _pos_int(attrs.get("datawidth", attrs.get("word-bits", attrs.get("word_bits", 8))),
                    f"{where}: {name!r} datawidth", ArchitectureError)
    width = _pos_int(attrs.get("width", bits), f"{where}: {name!r} width", ArchitectureError)
    cluster = _pos_int(attrs.get("cluster_size", 1), f"{where}: {name!r} cluster_size", ArchitectureError)
    block = _pos_int(attrs.get("block_size", attrs.get("block-size", max(1, width // (bits * cluster)))),
                     f"{where}: {name!r} block_size", ArchitectureError)
    depth = attrs.get("depth")
    cap = None if depth is None or cls.lower() == "dram" else \
        _pos_int(depth, f"{where}: {name!r} depth", ArchitectureError) * block
    return StorageLevel(name, cls or "SRAM", cap, bits, block, _attr_num(attrs, "read_bandwidth", where, name),
                        _attr_num(attrs, "write_bandwidth", where, name),
                        _attr_num(attrs, "shared_bandwidth", where, name), cluster)


def _is_compute(cls: str, attrs: dict) -> bool:
    return bool(_COMPUTE.search(cls)) and "depth" not in attrs


def _compute(name: str, attrs: dict, where: str) -> Compute:
    bits = attrs.get("datawidth", attrs.get("width", attrs.get("multiplier_width", 8)))
    return Compute(name, _pos_int(bits, f"{where}: {name!r} width", ArchitectureError))


def _flatten_nodes(nodes: list, where: str) -> list:
    """v0.4 nodes in order, ``!Parallel``/``!Hierarchical`` groups flattened (Timeloop stacks a
    parallel group's components outer to inner in the order listed), ``!Nothing`` dropped."""
    out = []
    for node in nodes:
        if not isinstance(node, _Node):
            raise ArchitectureError(f"{where}: node {node!r} is not tagged !Container, !Component, !Parallel, "
                                    "!Hierarchical or !Nothing")
        if node.kind in ("Parallel", "Hierarchical"):
            out += _flatten_nodes(list(node.get("nodes") or []), where)
        elif node.kind != "Nothing":
            out.append(node)
    return out


def _node_constraints(node: dict, name: str, where: str) -> list[dict]:
    """A v0.4 node's ``constraints`` as Timeloop constraint targets (``target``, ``type``, ...)."""
    cons = node.get("constraints") or {}
    if not isinstance(cons, dict):
        raise DataflowInputError(f"{where}: node {name!r}: constraints must be a mapping")
    out = []
    for kind, body in cons.items():
        kind = {"dataspace": "bypass", "datatype": "bypass"}.get(str(kind), str(kind))
        if kind not in ("temporal", "spatial", "bypass"):
            raise UnsupportedFeatureError(f"{where}: node {name!r}: constraint {kind!r} is not supported; "
                                          "supported: temporal, spatial, dataspace")
        out.append(dict(body or {}, target=name, type=kind))
    return out


def _parse_nodes(nodes: list, where: str) -> tuple[list, list, Compute | None, list[dict]]:
    levels: list[StorageLevel] = []
    fanouts: list[Fanout | None] = []
    compute: Compute | None = None
    constraints: list[dict] = []
    for node in _flatten_nodes(nodes, where):
        name = str(node.get("name"))
        if "sparse_optimizations" in node or "sparse_optimizations" in (node.get("attributes") or {}):
            raise UnsupportedFeatureError(f"{where}: node {name!r}: sparse optimizations are not supported")
        if re.search(r"\[\d+\.\.\d+\]", name):
            raise UnsupportedFeatureError(f"{where}: node {name!r}: the name[0..N] instance syntax is not supported; "
                                          "use spatial: {meshX, meshY}")
        attrs = node.get("attributes") or {}
        sp = node.get("spatial") or {}
        mx = _pos_int(sp.get("meshX", 1), f"{where}: {name!r} meshX", ArchitectureError)
        my = _pos_int(sp.get("meshY", 1), f"{where}: {name!r} meshY", ArchitectureError)
        if node.kind == "Container":
            if mx * my > 1:
                if not levels:
                    raise UnsupportedFeatureError(f"{where}: fan-out {name!r} above the backing store is not supported")
                if compute is not None:
                    raise ArchitectureError(f"{where}: container {name!r} below the compute level {compute.name!r}")
                level = dummy_level(f"inter_{name}_spatial")
                levels.append(level)
                fanouts.append(Fanout(name, mx, my))
                constraints += _node_constraints(node, level.name, where)
            continue
        if mx * my > 1:
            raise UnsupportedFeatureError(f"{where}: component {name!r} with its own spatial mesh is not supported; "
                                          "put it in a !Container with spatial: {meshX, meshY}")
        cls = str(node.get("class", ""))
        if _is_compute(cls, attrs):
            compute = _compute(name, attrs, where)
            continue
        if compute is not None:
            raise ArchitectureError(f"{where}: storage {name!r} below the compute level {compute.name!r}")
        levels.append(_storage(name, cls, attrs, where))
        fanouts.append(None)
        constraints += _node_constraints(node, name, where)
    return levels, fanouts, compute, constraints


def _parse_flattened(tree: list, where: str) -> tuple[list, list, Compute | None]:
    """Timeloop's own dump (``parsed-processed-input.yaml``): ``subtree``/``local`` lists of
    ``Name[1..N]`` components with ``meshX``/``meshY``; the fan-out below a level is the ratio of
    the next component's mesh to its own."""
    flat: list[tuple[str, dict]] = []

    def walk(nodes):
        for node in nodes or []:
            if not isinstance(node, dict):
                raise ArchitectureError(f"{where}: subtree entry {node!r} is not a mapping")
            for comp in node.get("local") or []:
                flat.append((str(comp.get("name")), comp))
            walk(node.get("subtree"))

    walk(tree)
    levels: list[StorageLevel] = []
    meshes: list[tuple[int, int]] = []
    compute: Compute | None = None
    for raw, comp in flat:
        m = _INSTANCES.match(raw)
        name = m.group(1) if m else raw
        attrs = comp.get("attributes") or {}
        mesh = (_pos_int(attrs.get("meshX", 1), f"{where}: {name!r} meshX", ArchitectureError),
                _pos_int(attrs.get("meshY", 1), f"{where}: {name!r} meshY", ArchitectureError))
        cls = str(comp.get("class", ""))
        if _is_compute(cls, attrs):
            compute = _compute(name, attrs, where)
            meshes.append(mesh)
            break
        levels.append(_storage(name, cls, attrs, where))
        meshes.append(mesh)
    fanouts: list[Fanout | None] = []
    for i, lv in enumerate(levels):
        (px, py), (cx, cy) = meshes[i], meshes[i + 1] if i + 1 < len(meshes) else meshes[i]
        if cx % px or cy % py:
            raise ArchitectureError(f"{where}: mesh of the level below {lv.name!r} ({cx}x{cy}) is not a multiple of "
                                    f"its own ({px}x{py})")
        fx, fy = cx // px, cy // py
        fname = lv.name[len("inter_"):-len("_spatial")] if lv.is_dummy and lv.name.startswith("inter_") \
            and lv.name.endswith("_spatial") else lv.name
        fanouts.append(Fanout(fname, fx, fy) if fx * fy > 1 else None)
    return levels, fanouts, compute


def parse_architecture_and_constraints(doc: Any, where: str = "architecture") -> tuple[Architecture, list[dict]]:
    """An :class:`Architecture` and the constraint targets written in it, from a parsed Timeloop v0.4
    architecture document (``nodes``) or Timeloop's own dump (``subtree``/``local``, with its
    ``architecture_constraints``)."""
    if isinstance(doc, dict) and ("compound_components" in doc or "components" in doc) and "architecture" not in doc:
        raise UnsupportedFeatureError(f"{where}: compound components are not supported (they feed Accelergy's "
                                      "energy estimate: give its ERT.yaml with ert=)")
    arch = _section(doc, "architecture", where)
    constraints: list[dict] = []
    if isinstance(arch, dict) and "subtree" in arch:
        levels, fanouts, compute = _parse_flattened(arch.get("subtree"), where)
        name = str((arch.get("subtree") or [{}])[0].get("name", "architecture"))
        ac = doc.get("architecture_constraints") if isinstance(doc, dict) else None
        constraints = list((ac or {}).get("targets") or [])
    else:
        nodes = arch.get("nodes") if isinstance(arch, dict) else None
        if not isinstance(nodes, list):
            raise ArchitectureError(f"{where}: architecture has no 'nodes' list")
        levels, fanouts, compute, constraints = _parse_nodes(nodes, where)
        name = str(nodes[0].get("name", "architecture")) if nodes and isinstance(nodes[0], dict) else "architecture"
    if not levels:
        raise ArchitectureError(f"{where}: no storage component")
    if levels[0].is_dummy:
        raise UnsupportedFeatureError(f"{where}: fan-out {levels[0].name!r} above the backing store is not supported")
    return Architecture(name, tuple(levels), tuple(fanouts), compute or Compute()), constraints


def parse_architecture(doc: Any, where: str = "architecture") -> Architecture:
    """An :class:`Architecture` from a parsed Timeloop architecture document (see
    :func:`parse_architecture_and_constraints`)."""
    return parse_architecture_and_constraints(doc, where)[0]


def read_architecture(path: str | Path) -> Architecture:
    """Read a Timeloop v0.4 architecture file."""
    return parse_architecture(load_yaml(path), str(path))


# ---------------------------------------------------------------------------------- mapping
#: Timeloop's residual spelling ``M=4,3`` (its mapping parser) or ``M=4;3`` (what it prints)
_RESIDUAL = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(-?\d+)[,;](-?\d+)(?![\d;]|\s*,\s*-?\d)")


def _residuals(raw: Any, where: str, residual: dict[str, int] | None, what: str) -> Any:
    """Take Timeloop's residual tokens (``M=4,3``) out of a factor string into ``residual``
    (:class:`UnsupportedFeatureError` where ``residual`` is None: ``what`` says where they are not
    modelled); malformed ones (``M=4,``, ``M=4,3,2``, ``M=4;x``) get one line."""
    if isinstance(raw, list):  # a YAML list: residuals need quotes there (["K=10,2"]) or the ";" spelling
        return [_residuals(t, where, residual, what) for t in raw]
    if not isinstance(raw, str):
        return raw
    bad = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*=\s*-?\d+(;(?!-?\d)\S*|[,;]-?\d+\s*[,;]\s*-?\d+)", raw)
    if bad:
        raise MappingError(f"{where}: cannot read residual factor {bad.group(0).strip()!r}; expected DIM=N or "
                           "DIM=N,R (N iterations, R in the dimension's last iteration, 1 <= R <= N)")
    found = list(_RESIDUAL.finditer(raw))
    if found and residual is None:
        raise UnsupportedFeatureError(f"{where}: residual factors ({found[0].group(0)}: imperfect factorization) "
                                      f"are not supported {what}; give factors that multiply to the bound")
    for m in found:
        end, res = int(m.group(2)), int(m.group(3))
        if not 1 <= res <= max(end, 1):
            raise MappingError(f"{where}: residual factor {m.group(0)!r}: the residual must be from 1 to the "
                               f"factor {end}")
        if m.group(1) in residual:  # type: ignore[operator]
            raise MappingError(f"{where}: dimension {m.group(1)!r} given twice in factors")
        residual[m.group(1)] = res  # type: ignore[index]
    return _RESIDUAL.sub(lambda m: f"{m.group(1)}={m.group(2)}", raw)


def _factors(raw: Any, where: str, dims: list[str] | None = None, residual: dict[str, int] | None = None,
             what: str = "here") -> dict[str, int]:
    """``DIM=N`` tokens (a string, a list or a dict); Timeloop's own ``C1 M16`` spelling (no ``=``)
    is split on the longest dimension name that prefixes the token.  Residual tokens ``DIM=N,R`` go
    to ``residual`` (refused where it is None)."""
    items: list[tuple[str, Any]]
    raw = _residuals(raw, where, residual, what)
    if isinstance(raw, dict):
        items = list(raw.items())
    else:
        toks = [t for t in re.split(r"[\s,]+", raw.strip()) if t] if isinstance(raw, str) else list(raw or [])
        items = []
        for t in toks:
            m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(-?\d+)\s*", str(t))
            if m is None:
                name = next((d for d in sorted(dims or [], key=len, reverse=True) if str(t).startswith(d)
                             and re.fullmatch(r"-?\d+", str(t)[len(d):])), None)
                m = re.fullmatch(r"\s*([A-Za-z_]+)\s*(-?\d+)\s*", str(t)) if name is None else None
                if name is not None:
                    items.append((name, str(t)[len(name):]))
                    continue
            if not m:
                raise MappingError(f"{where}: cannot read factor {t!r}; expected DIM=N (or DIM=N,R with a residual)")
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


def mapping_entries(doc: Any, problem: Problem, arch: Architecture, where: str = "mapping",
                    section: str = "mapping") -> list[tuple[str, int, dict]]:
    """The entries of a Timeloop mapping (or constraints) list as ``(kind, level index, entry)``,
    ``kind`` one of ``temporal``, ``spatial``, ``bypass`` (``dataspace``/``datatype`` are aliases);
    targets may name a level, a container, or Timeloop's ``inter_<container>_spatial``."""
    entries = _section(doc, section, where) if section else doc
    if isinstance(entries, dict) and "targets" in entries:
        entries = entries["targets"]
    if not isinstance(entries, list):
        raise MappingError(f"{where}: {section or 'targets'!r} must be a list of entries")
    out = []
    for e in entries:
        if not isinstance(e, dict):
            raise MappingError(f"{where}: entry {e!r} is not a mapping")
        target, kind = str(e.get("target")), str(e.get("type", "temporal"))
        kind = {"dataspace": "bypass", "datatype": "bypass"}.get(kind, kind)
        here = f"{where}: {kind} entry for {target!r}"
        if kind not in ("temporal", "spatial", "bypass"):
            raise MappingError(f"{here}: unknown type; allowed: temporal, spatial, dataspace, bypass")
        lv = arch.fanout_level(target) if kind == "spatial" else arch.find_level(target)
        if lv is None:
            fans = [f.name for f in arch.fanouts if f is not None]
            extra = f"fan-outs: {', '.join(fans) or 'none'}, " if kind == "spatial" else ""
            raise MappingError(f"{here}: unknown {'target' if kind == 'spatial' else 'level'}; {extra}levels: "
                               f"{', '.join(arch.level_names)}")
        out.append((kind, lv, e))
    return out


def parse_split(e: dict, perm: list[str], here: str) -> int:
    split = e.get("split", len(perm))
    if isinstance(split, bool) or not isinstance(split, int) or split < 0:
        raise MappingError(f"{here}: split must be a non-negative integer, got {split!r}")
    return split


def kept_set(e: dict, all_ds: list[str], here: str) -> set[str]:
    """The data spaces a ``dataspace``/``bypass`` entry keeps (unlisted ones stay kept)."""
    kp = e.get("keep")
    bp = e.get("bypass") or []
    for name in list(kp or []) + list(bp):
        if name not in all_ds:
            raise MappingError(f"{here}: unknown data space {name!r}; data spaces: {', '.join(all_ds)}")
    held = set(kp) if kp is not None else set(all_ds) - set(bp)
    both = held & set(bp)
    if both:
        raise MappingError(f"{here}: data space {sorted(both)[0]!r} both kept and bypassed")
    return held


def parse_mapping(doc: Any, problem: Problem, arch: Architecture, where: str = "mapping") -> Mapping:
    """A :class:`Mapping` from a parsed Timeloop mapping document (checked against problem and arch)."""
    L = len(arch.levels)
    dims = list(problem.dims)
    temporal: list[dict[str, int]] = [dict() for _ in range(L)]
    order: list[tuple[str, ...]] = [() for _ in range(L)]
    sx: list[dict[str, int]] = [dict() for _ in range(L)]
    sy: list[dict[str, int]] = [dict() for _ in range(L)]
    keep: list[set | None] = [None] * L
    residual: list[dict[str, int]] = [dict() for _ in range(L)]
    all_ds = [ds.name for ds in problem.dataspaces]
    for kind, lv, e in mapping_entries(doc, problem, arch, where):
        here = f"{where}: {kind} entry for {str(e.get('target'))!r}"
        if kind == "spatial":
            fac = _factors(e.get("factors"), here, dims, what="on spatial loops (fewer instances in the last "
                           "iteration); only temporal residuals are modelled")
            perm = _perm(e.get("permutation"), dims, here)
            for d in fac:
                if d not in perm:
                    perm.append(d)
            split = parse_split(e, perm, here)
            for i, d in enumerate(perm):
                if d not in dims:
                    raise MappingError(f"{here}: unknown dimension {d!r}; dimensions: {', '.join(dims)}")
                if fac.get(d, 1) > 1:
                    (sx if i < split else sy)[lv][d] = fac[d]
            unknown = [d for d in fac if d not in dims]
            if unknown:
                raise MappingError(f"{here}: unknown dimension {unknown[0]!r}; dimensions: {', '.join(dims)}")
        elif kind == "temporal":
            temporal[lv] = _factors(e.get("factors"), here, dims, residual[lv])
            order[lv] = tuple(reversed(_perm(e.get("permutation"), dims, here)))
        else:
            held = kept_set(e, all_ds, here)
            if arch.levels[lv].is_dummy:
                if held:
                    raise MappingError(f"{here}: {arch.levels[lv].name!r} is a spatial container's level and holds "
                                       f"no data; keep must be empty (got {', '.join(sorted(held))})")
                continue
            keep[lv] = held
    m = Mapping(tuple(LevelMapping(temporal[i], order[i], sx[i], sy[i],
                                   frozenset(keep[i]) if keep[i] is not None else None,
                                   {d: r for d, r in residual[i].items() if r != temporal[i].get(d, 1)} or None)
                      for i in range(L)))
    m.check(problem, arch)
    if m.levels[0].keep is not None and set(m.levels[0].keep) != set(all_ds):
        missing = sorted(set(all_ds) - set(m.levels[0].keep))
        raise MappingError(f"{where}: the backing store {arch.levels[0].name!r} must keep every data space "
                           f"({missing[0]!r} is bypassed)")
    return m


def _perm_text(dims: list[str]) -> Any:
    """A permutation as Timeloop writes it: one string of one-letter names, else a list."""
    return "".join(dims) if all(len(d) == 1 for d in dims) else list(dims)


def mapping_document(mapping: Mapping, problem: Problem, arch: Architecture) -> dict:
    """A Timeloop v0.4 mapping document (``{"mapping": [entries]}``, what :func:`parse_mapping` reads and
    timeloop-model takes): per level a ``temporal`` entry (every dimension's factor, permutation innermost
    first), a ``spatial`` entry where a fan-out is used (``split`` = the dimensions on X), and a ``bypass``
    entry (keep/bypass lists) for every level but the backing store."""
    dims = list(problem.dims)
    entries = []
    for lv, (level, lm) in enumerate(zip(arch.levels, mapping.levels)):
        listed = [d for d in lm.order if d in dims]
        order = [d for d in dims if d not in listed] + listed   # outermost first
        entries.append({"target": level.name, "type": "temporal",
                        "factors": " ".join(f"{d}={int(lm.temporal.get(d, 1))}" + (
                            f",{int(lm.residual[d])}" if d in (lm.residual or {}) else "") for d in dims),
                        "permutation": _perm_text(list(reversed(order)))})
        sx, sy = dict(lm.spatial_x or {}), dict(lm.spatial_y or {})
        if sx or sy:
            f = arch.fanouts[lv]
            xs = [d for d in dims if d in sx]
            ys = [d for d in dims if d not in sx]
            entries.append({"target": level.name if level.is_dummy or f is None else f.name, "type": "spatial",
                            "factors": " ".join(f"{d}={int(sx.get(d, sy.get(d, 1)))}" for d in xs + ys),
                            "permutation": _perm_text(xs + ys), "split": len(xs)})
        if lv > 0:
            held = [ds.name for ds in problem.dataspaces if not level.is_dummy and (lm.keep is None or ds.name in lm.keep)]
            entries.append({"target": level.name, "type": "bypass", "keep": held,
                            "bypass": [ds.name for ds in problem.dataspaces if ds.name not in held]})
    return {"mapping": entries}


def read_mapping(path: str | Path, problem: Problem, arch: Architecture) -> Mapping:
    """Read a Timeloop v0.4 mapping file for ``problem`` on ``arch``."""
    return parse_mapping(load_yaml(path), problem, arch, str(path))

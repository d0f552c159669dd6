"""Timeloop mapspace constraints: what timeloop-mapper reads besides the architecture and the problem.

A constraint target (``{target, type, factors, permutation, split, keep,
bypass}``, from an ``architecture_constraints``/``mapspace_constraints``
file, a v0.4 node's ``constraints``, or Timeloop's own dump) narrows the
mapping space of one level or fan-out:

* ``temporal``/``spatial`` ``factors: [C=1, M=4]``: the loop factor of that
  dimension at the level (or the fan-out, X and Y together) is exactly the
  number (``=1`` forbids the dimension there);
* ``permutation``: the listed dimensions are the innermost loops, innermost
  first, in that order; unlisted ones are free above them.  For a fan-out the
  full list with ``split`` says which dimensions go to X (the first ``split``)
  and which to Y;
* ``dataspace``/``bypass`` ``keep``/``bypass``: fixes those data spaces'
  keep/bypass choice; unlisted ones stay free.

:func:`read_constraints` returns a :class:`Constraints`; bad input (an unknown
level, dimension or data space, factors that over-constrain a dimension,
unsupported keys) is a one-line :class:`.errors.MappingError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .arch import Architecture
from .errors import MappingError, UnsupportedFeatureError
from .problem import Problem

__all__ = ["Constraints", "parse_constraints", "read_constraints", "ALLOWED_KEYS"]

ALLOWED_KEYS = {"target", "type", "factors", "permutation", "split", "keep", "bypass"}


@dataclass
class Constraints:
    """Per level index: ``temporal[lv][dim]`` / ``spatial[lv][dim]`` fixed factors, ``inner[lv]`` the
    dimensions fixed innermost (innermost first), ``spatial_y[lv]`` dimensions forced to Y (others X),
    ``keep[lv][dataspace]`` fixed keep (True) / bypass (False)."""

    temporal: dict[int, dict[str, int]] = field(default_factory=dict)
    spatial: dict[int, dict[str, int]] = field(default_factory=dict)
    inner: dict[int, list[str]] = field(default_factory=dict)
    spatial_x: dict[int, set[str]] = field(default_factory=dict)
    spatial_y: dict[int, set[str]] = field(default_factory=dict)
    keep: dict[int, dict[str, bool]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.temporal or self.spatial or self.inner or self.spatial_y or self.keep)


def parse_constraints(targets: Any, problem: Problem, arch: Architecture, where: str = "constraints") -> Constraints:
    """:class:`Constraints` from a list of Timeloop constraint targets (or a document holding
    ``architecture_constraints``/``mapspace_constraints``/``constraints`` with ``targets``)."""
    from .timeloop_io import _factors, _perm, kept_set, mapping_entries, parse_split

    if isinstance(targets, dict):
        for key in ("mapspace_constraints", "architecture_constraints", "constraints", "targets"):
            if key in targets:
                targets = targets[key]
                break
        else:
            raise MappingError(f"{where}: no 'targets' list of constraints")
    if isinstance(targets, dict):
        targets = targets.get("targets") or []
    out = Constraints()
    dims = list(problem.dims)
    all_ds = [ds.name for ds in problem.dataspaces]
    for kind, lv, e in mapping_entries(targets, problem, arch, where, section=""):
        here = f"{where}: {kind} constraint for {str(e.get('target'))!r}"
        extra = sorted(set(e) - ALLOWED_KEYS)
        if extra:
            raise UnsupportedFeatureError(f"{here}: key {extra[0]!r} is not supported; supported: "
                                          f"{', '.join(sorted(ALLOWED_KEYS))}")
        if kind in ("temporal", "spatial"):
            fac = _factors(e.get("factors"), here, dims, what="in constraints") if e.get("factors") is not None else {}
            for d, f in fac.items():
                if d not in dims:
                    raise MappingError(f"{here}: unknown dimension {d!r}; dimensions: {', '.join(dims)}")
                (out.temporal if kind == "temporal" else out.spatial).setdefault(lv, {})[d] = f
            perm = _perm(e.get("permutation"), dims, here)
            for d in perm:
                if d not in dims:
                    raise MappingError(f"{here}: unknown dimension {d!r} in permutation; dimensions: "
                                       f"{', '.join(dims)}")
            if kind == "temporal":
                if perm:
                    out.inner[lv] = perm
            elif e.get("split") is not None and perm:
                split = parse_split(e, perm, here)
                out.spatial_x.setdefault(lv, set()).update(perm[:split])
                out.spatial_y.setdefault(lv, set()).update(perm[split:])
        else:
            held = kept_set({k: v for k, v in e.items() if k in ("keep", "bypass")}, all_ds, here)
            listed = set(e.get("keep") or []) | set(e.get("bypass") or [])
            if not arch.levels[lv].is_dummy:
                out.keep.setdefault(lv, {}).update({ds: ds in held for ds in listed})
    _check(out, problem, arch, where)
    return out


def _check(c: Constraints, problem: Problem, arch: Architecture, where: str) -> None:
    """Fixed factors must divide each dimension's bound (one line naming the dimension otherwise)."""
    for d in problem.dims:
        fixed = [(arch.levels[lv].name, f[d]) for lv, f in c.temporal.items() if d in f] + \
                [(arch.fanouts[lv].name if arch.fanouts[lv] is not None else arch.levels[lv].name, f[d])
                 for lv, f in c.spatial.items() if d in f]
        prod = 1
        for _, f in fixed:
            prod *= f
        if problem.bounds[d] % prod:
            parts = " x ".join(f"{n} {f}" for n, f in fixed)
            raise MappingError(f"{where}: constraints over-constrain dimension {d!r}: fixed factors {parts} = {prod} "
                               f"do not divide its bound {problem.bounds[d]}")
    for lv, f in c.spatial.items():
        if arch.fanouts[lv] is None and any(v > 1 for v in f.values()):
            raise MappingError(f"{where}: spatial factors at {arch.levels[lv].name!r}, which has no fan-out below it")


def read_constraints(path: str, problem: Problem, arch: Architecture) -> Constraints:
    """Read constraints from a YAML file (see :func:`parse_constraints`)."""
    from .timeloop_io import load_yaml

    return parse_constraints(load_yaml(path), problem, arch, str(path))

"""A mapping: per storage level, temporal factors and loop order, spatial X/Y factors, kept data spaces.

``order`` lists a level's dimensions *outermost first* (Timeloop files list
them innermost first; the reader reverses).  Spatial factors of level ``l``
belong to the fan-out directly below it.  :meth:`Mapping.check` raises
:class:`MappingError` for structural mistakes (unknown names, factors that do
not multiply to the bounds, bad permutations); :func:`structural_reasons` and :func:`capacity_reasons` give the
reason a structurally valid mapping cannot run (a tile over capacity,
spatial factors over the fan-out), naming the level and dimension.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping as TMapping, Optional, Sequence

import numpy as np

from .arch import Architecture
from .errors import MappingError
from .model import Nest
from .residual import check_residuals, covered, spatial_residual_rows
from .problem import Problem
from .sets import group_rows

__all__ = ["LevelMapping", "Mapping", "nest_of", "mapping_of", "structural_reasons", "capacity_reasons", "subset"]



@dataclass(frozen=True)
class LevelMapping:
    """One level: ``temporal``/``spatial_x``/``spatial_y`` factors by dimension (missing = 1),
    ``order`` outermost first, ``keep`` the data spaces held (None = all)."""

    temporal: TMapping[str, int]
    order: tuple[str, ...] = ()
    spatial_x: TMapping[str, int] = None  # type: ignore[assignment]
    spatial_y: TMapping[str, int] = None  # type: ignore[assignment]
    keep: Optional[frozenset] = None
    residual: TMapping[str, int] = None  # type: ignore[assignment]
    """Timeloop's residual end of a temporal loop (``M=4,3``: 4 iterations, 3 in the dimension's global last
    iteration; missing = the factor, a perfect loop); see :mod:`.residual`."""


@dataclass(frozen=True)
class Mapping:
    """Level mappings, outermost (backing store) first, one per architecture level."""

    levels: tuple[LevelMapping, ...]

    def check(self, problem: Problem, arch: Architecture) -> None:
        """Raise :class:`MappingError` (one line, naming level and dimension) if malformed."""
        if len(self.levels) != len(arch.levels):
            raise MappingError(f"mapping has {len(self.levels)} levels, architecture {arch.name!r} has "
                               f"{len(arch.levels)} ({', '.join(arch.level_names)})")
        dims = set(problem.dims)
        dsn = {ds.name for ds in problem.dataspaces}
        prod = {d: 1 for d in problem.dims}
        for lv, lm in zip(arch.levels, self.levels):
            for d, r in (lm.residual or {}).items():
                f = lm.temporal.get(d, 1) if d in dims else None
                if f is None:
                    raise MappingError(f"level {lv.name!r}: unknown dimension {d!r} in residual factors; "
                                       f"dimensions: {', '.join(problem.dims)}")
                if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 1 <= r <= f:
                    raise MappingError(f"level {lv.name!r}: residual of {d!r} must be an integer from 1 to its "
                                       f"factor {f}, got {r!r}")
            for what, fac in (("temporal", lm.temporal), ("spatial", lm.spatial_x or {}), ("spatial", lm.spatial_y or {})):
                for d, f in fac.items():
                    if d not in dims:
                        raise MappingError(f"level {lv.name!r}: unknown dimension {d!r} in {what} factors; "
                                           f"dimensions: {', '.join(problem.dims)}")
                    if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f <= 0:
                        raise MappingError(f"level {lv.name!r}: {what} factor of {d!r} must be a positive integer, "
                                           f"got {f!r}")
                    prod[d] *= int(f)
            seen = set()
            for d in lm.order:
                if d not in dims:
                    raise MappingError(f"level {lv.name!r}: unknown dimension {d!r} in permutation; dimensions: "
                                       f"{', '.join(problem.dims)}")
                if d in seen:
                    raise MappingError(f"level {lv.name!r}: dimension {d!r} repeated in permutation")
                seen.add(d)
            for d in problem.dims:
                if d not in seen and lm.temporal.get(d, 1) > 1:
                    raise MappingError(f"level {lv.name!r}: dimension {d!r} (factor {lm.temporal[d]}) missing from "
                                       "the permutation")
            if lv.is_dummy and lm.keep:
                raise MappingError(f"level {lv.name!r} is a spatial container's level and holds no data; keep must "
                                   f"be empty (got {', '.join(sorted(lm.keep))})")
            for name in lm.keep or ():
                if name not in dsn:
                    raise MappingError(f"level {lv.name!r}: unknown data space {name!r}; data spaces: "
                                       f"{', '.join(sorted(dsn))}")
        if any(lm.residual for lm in self.levels):
            check_residuals(problem, arch, self)
            return
        for d in problem.dims:
            if prod[d] != problem.bounds[d]:
                parts = []
                for lv, f, lm in zip(arch.levels, arch.fanouts, self.levels):
                    if not lv.is_dummy or lm.temporal.get(d, 1) > 1:
                        parts.append(f"{lv.name} {lm.temporal.get(d, 1)}")
                    sp = (lm.spatial_x or {}).get(d, 1) * (lm.spatial_y or {}).get(d, 1)
                    if sp > 1:
                        parts.append(f"{f.name if f is not None else lv.name + ' spatial'} {sp}")
                per = " x ".join(parts)
                raise MappingError(f"dimension {d!r}: factors multiply to {prod[d]} ({per}), "
                                   f"bound is {problem.bounds[d]}")


def nest_of(mappings: Sequence[Mapping], problem: Problem, arch: Architecture) -> Nest:
    """Stack mappings into a :class:`Nest` (dimensions missing from an order go outermost)."""
    dims = list(problem.dims)
    idx = {d: i for i, d in enumerate(dims)}
    n, L, D, S = len(mappings), len(arch.levels), len(dims), len(problem.dataspaces)
    tf = np.ones((n, L, D), dtype=np.int64)
    sx = np.ones_like(tf)
    sy = np.ones_like(tf)
    order = np.zeros((n, L, D), dtype=np.int64)
    keep = np.ones((n, L, S), dtype=bool)
    for i, m in enumerate(mappings):
        for lv, lm in enumerate(m.levels):
            for d, f in lm.temporal.items():
                tf[i, lv, idx[d]] = f
            for d, f in (lm.spatial_x or {}).items():
                sx[i, lv, idx[d]] = f
            for d, f in (lm.spatial_y or {}).items():
                sy[i, lv, idx[d]] = f
            listed = [d for d in lm.order if d in idx]
            full = [d for d in dims if d not in listed] + listed
            order[i, lv] = [idx[d] for d in full]
            if arch.levels[lv].is_dummy:
                keep[i, lv] = False
            elif lm.keep is not None:
                keep[i, lv] = [ds.name in lm.keep for ds in problem.dataspaces]
    rt = None
    if any(lm.residual for m in mappings for lm in m.levels):
        rt = tf.copy()
        for i, m in enumerate(mappings):
            for lv, lm in enumerate(m.levels):
                for d, r in (lm.residual or {}).items():
                    rt[i, lv, idx[d]] = r
    return Nest(tf, sx, sy, order, keep, rt)


def mapping_of(nest: Nest, i: int, problem: Problem, arch: Architecture) -> Mapping:
    """Mapping ``i`` of ``nest`` as a :class:`Mapping` (the inverse of :func:`nest_of`): factors above 1,
    the full loop order, the kept data spaces of every level but the backing store."""
    dims = list(problem.dims)
    levels = []
    for lv in range(len(arch.levels)):
        fac = lambda arr: {dims[j]: int(arr[i, lv, j]) for j in range(len(dims)) if arr[i, lv, j] > 1}  # noqa: E731
        keep = None if lv == 0 else frozenset(ds.name for s, ds in enumerate(problem.dataspaces) if nest.keep[i, lv, s])
        res = {dims[j]: int(nest.rt[i, lv, j]) for j in range(len(dims))
               if nest.rt is not None and nest.rt[i, lv, j] != nest.tf[i, lv, j]}
        levels.append(LevelMapping(fac(nest.tf), tuple(dims[j] for j in nest.order[i, lv]), fac(nest.sx), fac(nest.sy),
                                   keep, res or None))
    return Mapping(tuple(levels))


def _by_key(rows: np.ndarray, keys: np.ndarray, text) -> np.ndarray:
    """Reason strings for ``rows``, built once per distinct row of ``keys`` by ``text(key_row)``."""
    out = np.full(rows.size, "", dtype=object)
    if rows.size:
        first, inv = group_rows(keys)
        out[:] = np.array([text(keys[i]) for i in first], dtype=object)[inv]
    return out


def structural_reasons(problem: Problem, arch: Architecture, nest: Nest) -> np.ndarray:
    """Reason strings (``""`` = fine) per mapping for checks that need no counts: factor products
    and fan-out sizes.  Cheap, so infeasible mappings are rejected before the model runs."""
    n, L, D = nest.tf.shape
    reasons = np.full(n, "", dtype=object)
    bounds = np.array([problem.bounds[d] for d in problem.dims], dtype=np.int64)
    prod = covered(nest)
    bad = np.nonzero(np.any(prod != bounds[None, :], axis=1))[0]

    def product_text(p):
        j = int(np.nonzero(p != bounds)[0][0])
        what = "multiply to" if nest.rt is None else "with residuals cover"
        return f"dimension {problem.dims[j]!r}: factors {what} {int(p[j])}, bound is {int(bounds[j])}"

    reasons[bad] = _by_key(bad, prod[bad], product_text)
    reasons[spatial_residual_rows(nest)] = "a residual factor below a spatial loop of its dimension (spatial " \
                                           "residuals are not modelled)"
    for lv in range(L):
        f = arch.fanouts[lv]
        mx, my = (f.mesh_x, f.mesh_y) if f is not None else (1, 1)
        where = f"fan-out {f.name!r}" if f is not None else f"level {arch.levels[lv].name!r} (no fan-out below)"
        for axis, arr, lim in (("X", nest.sx, mx), ("Y", nest.sy, my)):
            use = np.prod(arr[:, lv], axis=1)
            rows = np.nonzero((use > lim) & (reasons == ""))[0]

            def fanout_text(fac, axis=axis, lim=lim):
                big = [f"{problem.dims[j]}={int(fac[j])}" for j in range(D) if fac[j] > 1]
                return f"{where}: spatial {axis} factors {' x '.join(big)} = {int(np.prod(fac))} exceed mesh{axis} {lim}"

            reasons[rows] = _by_key(rows, arr[rows, lv], fanout_text)
    return reasons


def capacity_reasons(problem: Problem, arch: Architecture, capacity: np.ndarray) -> np.ndarray:
    """Reason strings per mapping whose tiles (``capacity`` ``(N, L, S)`` words) overflow a level."""
    n, L, _ = capacity.shape
    reasons = np.full(n, "", dtype=object)
    for lv in range(L):
        cap = arch.levels[lv].capacity_words
        if cap is None:
            continue
        rows = np.nonzero((capacity[:, lv].sum(axis=1) > cap) & (reasons == ""))[0]

        def text(tiles, lv=lv, cap=cap):
            parts = ", ".join(f"{ds.name} {int(tiles[s])}" for s, ds in enumerate(problem.dataspaces) if tiles[s])
            return f"level {arch.levels[lv].name!r}: tiles need {int(tiles.sum())} words ({parts}), capacity is {cap}"

        reasons[rows] = _by_key(rows, capacity[rows, lv], text)
    return reasons


def subset(nest: Nest, rows: np.ndarray) -> Nest:
    """The mappings ``rows`` of ``nest``."""
    return Nest(nest.tf[rows], nest.sx[rows], nest.sy[rows], nest.order[rows], nest.keep[rows],
                None if nest.rt is None else nest.rt[rows])

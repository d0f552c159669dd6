"""The mapping design space of a (problem, architecture) pair and its vectorized decoding.

Parameters (dimensions with bound 1 are left out; all are finite):

* ``t_<level>_<dim>`` for every level but the backing store: the temporal
  factor, one of the divisors of the dimension's bound.  The backing store's
  factor is the residual ``bound / product of the others``; when that is not
  an integer the mapping is infeasible (reason names the dimension).
* ``sx_<fanout>_<dim>`` / ``sy_<fanout>_<dim>`` for each fan-out axis wider
  than 1: spatial factor, a divisor of the bound no larger than the axis.
* ``order_<level>`` for every level: the loop order of the level's dimensions,
  innermost first (Timeloop's permutation string, e.g. ``"RSPQCM"``).
* ``keep_<level>_<dataspace>`` for every level but the backing store:
  ``keep`` or ``bypass``.

:class:`MappingSpace` turns canonical index matrices (``(N, params)``) into a
:class:`.model.Nest` with numpy gathers only, so a batch of mappings costs a
few array operations, and converts a :class:`.mapping.Mapping` (e.g. read
from a Timeloop file) into a design of the space.
"""
from __future__ import annotations

import itertools
from typing import Any, Mapping as TMapping

import numpy as np

from archgym.space import Categorical, DesignSpace, Ordinal

from .arch import Architecture
from .errors import MappingError
from .mapping import Mapping
from .model import Nest
from .problem import Problem

__all__ = ["divisors", "MappingSpace", "MAX_ORDER_DIMS"]

#: loop orders are enumerated (n! values); more active dimensions than this are refused
MAX_ORDER_DIMS = 8


def divisors(n: int) -> list[int]:
    """Divisors of ``n`` in increasing order."""
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


class MappingSpace:
    """Design space and fast decoding for mappings of ``problem`` on ``arch`` (see the module docstring)."""

    def __init__(self, problem: Problem, arch: Architecture) -> None:
        self.problem, self.arch = problem, arch
        self.dims = list(problem.dims)
        self.active = [d for d in self.dims if problem.bounds[d] > 1]
        if len(self.active) > MAX_ORDER_DIMS:
            raise MappingError(f"problem {problem.name!r} has {len(self.active)} dimensions with bound > 1; the "
                               f"mapping space enumerates loop orders of at most {MAX_ORDER_DIMS}")
        self.sep = "" if all(len(d) == 1 for d in self.active) else ","
        self.orders = [self.sep.join(p) for p in itertools.permutations(self.active)]
        # order tables: (n_orders, D) dimension indices outer -> inner (inactive dims outermost)
        didx = {d: i for i, d in enumerate(self.dims)}
        inactive = [didx[d] for d in self.dims if d not in self.active]
        self._order_table = np.array([inactive + [didx[d] for d in reversed(p)]
                                      for p in itertools.permutations(self.active)], dtype=np.int64)
        params: list = []
        self._temporal: list[tuple[int, int, int, np.ndarray]] = []  # (param, level, dim, values)
        self._spatial: list[tuple[int, int, str, int, np.ndarray]] = []  # (param, level, axis, dim, values)
        self._order: list[tuple[int, int]] = []
        self._keep: list[tuple[int, int, int]] = []
        for lv, level in enumerate(arch.levels):
            if lv > 0:
                for d in self.active:
                    vals = divisors(problem.bounds[d])
                    self._temporal.append((len(params), lv, didx[d], np.array(vals, dtype=np.int64)))
                    params.append(Ordinal(f"t_{level.name}_{d}", vals, f"temporal factor of {d} at {level.name}"))
            f = arch.fanouts[lv]
            if f is not None:
                for axis, size in (("x", f.mesh_x), ("y", f.mesh_y)):
                    if size <= 1:
                        continue
                    for d in self.active:
                        vals = [v for v in divisors(problem.bounds[d]) if v <= size]
                        if len(vals) < 2:
                            continue
                        self._spatial.append((len(params), lv, axis, didx[d], np.array(vals, dtype=np.int64)))
                        params.append(Ordinal(f"s{axis}_{f.name}_{d}", vals,
                                              f"spatial factor of {d} on {f.name}'s {axis.upper()} axis"))
        for lv, level in enumerate(arch.levels):
            self._order.append((len(params), lv))
            params.append(Categorical(f"order_{level.name}", self.orders,
                                      f"loop order at {level.name}, innermost first"))
        for lv, level in enumerate(arch.levels):
            if lv == 0:
                continue
            for s, ds in enumerate(problem.dataspaces):
                self._keep.append((len(params), lv, s))
                params.append(Categorical(f"keep_{level.name}_{ds.name}", ("keep", "bypass"),
                                          f"whether {level.name} holds {ds.name}"))
        self.space = DesignSpace(params)
        self.names = self.space.names
        self._bounds = np.array([problem.bounds[d] for d in self.dims], dtype=np.int64)

    # ------------------------------------------------------------------ decoding
    def nest(self, idx: np.ndarray) -> tuple[Nest, np.ndarray]:
        """Nest of canonical index rows ``(N, params)`` and a mask of rows whose backing-store
        residual is not an integer (infeasible)."""
        idx = np.asarray(idx, dtype=np.int64)
        n = idx.shape[0]
        L, D, S = len(self.arch.levels), len(self.dims), len(self.problem.dataspaces)
        tf = np.ones((n, L, D), dtype=np.int64)
        sx = np.ones_like(tf)
        sy = np.ones_like(tf)
        for p, lv, d, vals in self._temporal:
            tf[:, lv, d] = vals[idx[:, p]]
        for p, lv, axis, d, vals in self._spatial:
            (sx if axis == "x" else sy)[:, lv, d] = vals[idx[:, p]]
        inner = np.prod(tf[:, 1:] * sx[:, 1:] * sy[:, 1:], axis=1) * sx[:, 0] * sy[:, 0]
        bad = np.any(self._bounds[None, :] % inner != 0, axis=1)
        tf[:, 0] = np.where(self._bounds[None, :] % inner == 0, self._bounds[None, :] // inner, 1)
        order = np.empty((n, L, D), dtype=np.int64)
        for p, lv in self._order:
            order[:, lv] = self._order_table[idx[:, p]]
        keep = np.ones((n, L, S), dtype=bool)
        for p, lv, s in self._keep:
            keep[:, lv, s] = idx[:, p] == 0
        return Nest(tf, sx, sy, order, keep), bad

    def residual_reason(self, nest: Nest, i: int) -> str:
        """Why row ``i`` has no integral backing-store factor (names the dimension)."""
        inner = np.prod(nest.tf[i, 1:] * nest.sx[i, 1:] * nest.sy[i, 1:], axis=0) * nest.sx[i, 0] * nest.sy[i, 0]
        j = int(np.nonzero(self._bounds % inner != 0)[0][0])
        return (f"dimension {self.dims[j]!r}: factors below {self.arch.levels[0].name!r} multiply to {int(inner[j])}, "
                f"which does not divide the bound {int(self._bounds[j])}")

    def indices(self, configs: list[TMapping[str, Any]]) -> np.ndarray:
        """Canonical index matrix of validated configs (fast path of ``space.encode``)."""
        out = np.empty((len(configs), len(self.names)), dtype=np.int64)
        for j, p in enumerate(self.space):
            look = {v: i for i, v in enumerate(p.values)}
            out[:, j] = [look[c[p.name]] for c in configs]
        return out

    # ------------------------------------------------------------------ files -> designs
    def config_of(self, mapping: Mapping) -> dict:
        """The design of this space that is ``mapping`` (raises :class:`MappingError` if it cannot be)."""
        cfg: dict[str, Any] = {}
        for lv, (level, lm) in enumerate(zip(self.arch.levels, mapping.levels)):
            if lv > 0:
                for d in self.active:
                    cfg[f"t_{level.name}_{d}"] = int(lm.temporal.get(d, 1))
            f = self.arch.fanouts[lv]
            for axis, fac in (("x", lm.spatial_x or {}), ("y", lm.spatial_y or {})):
                size = (f.mesh_x if axis == "x" else f.mesh_y) if f is not None else 1
                for d in self.active:
                    v = int(fac.get(d, 1))
                    name = f"s{axis}_{f.name}_{d}" if f is not None else ""
                    if name in self.space.names:
                        if v > size:
                            raise MappingError(f"fan-out {f.name!r}: spatial {axis.upper()} factor {d}={v} exceeds "
                                               f"mesh{axis.upper()} {size}")
                        cfg[name] = v
                    elif v > 1:
                        where = f"fan-out {f.name!r} axis {axis.upper()} (size {size})" if f is not None \
                            else f"level {level.name!r} (no fan-out below)"
                        raise MappingError(f"{where}: spatial factor {d}={v} does not fit")
            listed = [d for d in lm.order if d in self.active]
            full = [d for d in self.active if d not in listed] + listed
            cfg[f"order_{level.name}"] = self.sep.join(reversed(full))
            if lv > 0:
                for ds in self.problem.dataspaces:
                    held = lm.keep is None or ds.name in lm.keep
                    cfg[f"keep_{level.name}_{ds.name}"] = "keep" if held else "bypass"
        return self.space.validate(cfg)

    def baseline_config(self) -> dict:
        """Every loop at the backing store, nothing spatial, every level keeps everything: always
        within capacity (one word per data space per level)."""
        cfg = {p.name: p.values[0] for p in self.space}
        return self.space.validate(cfg)

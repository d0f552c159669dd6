"""The mapping design space of a (problem, architecture) pair and its vectorized decoding.

Parameters (dimensions with bound 1 are left out; all are finite):

* ``f_<dim>_<i>`` for every prime factor (with multiplicity) of every
  dimension's bound: the *slot* that takes it, a storage level's name
  (temporal loop there) or ``<fanout>.X`` / ``<fanout>.Y`` (spatial).  A
  level's tile factor is the product of its primes, so each level chooses a
  divisor of the bound and every design multiplies out exactly (no residual
  can be fractional); what remains infeasible is physical: spatial factors
  over a fan-out axis, tiles over a capacity.
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

from archgym.space import Categorical, DesignSpace

from .arch import Architecture
from .errors import MappingError
from .mapping import Mapping
from .model import Nest
from .problem import Problem

__all__ = ["divisors", "prime_factors", "MappingSpace", "MAX_ORDER_DIMS"]

#: loop orders are enumerated (n! values); more active dimensions than this are refused
MAX_ORDER_DIMS = 8


def divisors(n: int) -> list[int]:
    """Divisors of ``n`` in increasing order."""
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def prime_factors(n: int) -> list[int]:
    """Prime factors of ``n`` with multiplicity, ascending (``12 -> [2, 2, 3]``)."""
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


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
        didx = {d: i for i, d in enumerate(self.dims)}
        inactive = [didx[d] for d in self.dims if d not in self.active]
        # order table: (n_orders, D) dimension indices outer -> inner (inactive dims outermost)
        self._order_table = np.array([inactive + [didx[d] for d in reversed(p)]
                                      for p in itertools.permutations(self.active)], dtype=np.int64)
        # slots: (name, kind, level) with kind "t" (temporal), "x" or "y" (spatial below the level)
        self.slots: list[tuple[str, str, int]] = []
        for lv, level in enumerate(arch.levels):
            self.slots.append((level.name, "t", lv))
            f = arch.fanouts[lv]
            if f is not None:
                for axis, size in (("x", f.mesh_x), ("y", f.mesh_y)):
                    if size > 1:
                        self.slots.append((f"{f.name}.{axis.upper()}", axis, lv))
        slot_names = [s[0] for s in self.slots]
        params: list = []
        self._factors: list[tuple[int, int, int]] = []  # (param, dim, prime)
        for d in self.active:
            for i, p in enumerate(prime_factors(problem.bounds[d])):
                self._factors.append((len(params), didx[d], p))
                params.append(Categorical(f"f_{d}_{i}", slot_names,
                                          f"where prime factor {p} of {d} (bound {problem.bounds[d]}) is mapped"))
        self._order: list[tuple[int, int]] = []
        self._keep: list[tuple[int, int, int]] = []
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
        self._slot_kind = np.array(["txy".index(k) for _, k, _ in self.slots], dtype=np.int64)
        self._slot_level = np.array([lv for _, _, lv in self.slots], dtype=np.int64)
        self._by_dim = [(d, np.array([p for p, dd, _ in self._factors if dd == d], dtype=np.int64),
                         np.array([q for _, dd, q in self._factors if dd == d], dtype=np.int64))
                        for d in sorted({dd for _, dd, _ in self._factors})]

    # ------------------------------------------------------------------ decoding
    def nest(self, idx: np.ndarray) -> Nest:
        """Nest of canonical index rows ``(N, params)`` (numpy gathers only)."""
        idx = np.asarray(idx, dtype=np.int64)
        n = idx.shape[0]
        L, D, S = len(self.arch.levels), len(self.dims), len(self.problem.dataspaces)
        fac = np.ones((n, 3, L, D), dtype=np.int64)  # kind (t, x, y), level, dim
        for d, params, primes in self._by_dim:
            chosen = idx[:, params]  # (n, primes of d): slot of each prime
            for s in range(len(self.slots)):
                fac[:, self._slot_kind[s], self._slot_level[s], d] = np.prod(np.where(chosen == s, primes, 1), axis=1)
        order = np.empty((n, L, D), dtype=np.int64)
        for p, lv in self._order:
            order[:, lv] = self._order_table[idx[:, p]]
        keep = np.ones((n, L, S), dtype=bool)
        for p, lv, s in self._keep:
            keep[:, lv, s] = idx[:, p] == 0
        return Nest(fac[:, 0], fac[:, 1], fac[:, 2], order, keep)

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
        for d in self.active:
            pool: list[str] = []  # one slot name per prime factor, ascending primes
            for name, kind, lv in self.slots:
                lm = mapping.levels[lv]
                fac = lm.temporal if kind == "t" else (lm.spatial_x if kind == "x" else lm.spatial_y) or {}
                pool += [f"{p}:{name}" for p in prime_factors(int(fac.get(d, 1)))]
            for lv, lm in enumerate(mapping.levels):
                f = self.arch.fanouts[lv]
                for axis, fac in (("x", lm.spatial_x or {}), ("y", lm.spatial_y or {})):
                    size = (f.mesh_x if axis == "x" else f.mesh_y) if f is not None else 1
                    if int(fac.get(d, 1)) > size:
                        where = f"fan-out {f.name!r}" if f is not None else \
                            f"level {self.arch.levels[lv].name!r} (no fan-out below)"
                        raise MappingError(f"{where}: spatial {axis.upper()} factor {d}={fac[d]} exceeds the "
                                           f"{axis.upper()} size {size}")
            pool.sort(key=lambda t: int(t.split(":")[0]))
            for i, item in enumerate(pool):
                cfg[f"f_{d}_{i}"] = item.split(":", 1)[1]
        for lv, (level, lm) in enumerate(zip(self.arch.levels, mapping.levels)):
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

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
* only with ``imperfect=True`` (:data:`IMPERFECT_STEPS`): ``resid_<dim>``, ``none``
  or ``<level>+<k>``: that level's temporal loop of the dimension gets ``k``
  more iterations than the primes give it and the loops above it are refitted
  with Timeloop's rule for imperfect factors (innermost up: a loop takes
  ``min(factor, remaining)`` iterations, the residual ``remaining % factor`` in the
  dimension's last iteration, ``remaining = ceil(remaining / factor)``; the
  backing store takes what is left), so tiles need not divide the bound.  The
  choice has no effect when a spatial loop of the dimension sits above that
  level (spatial residuals are not modelled, :mod:`.residual`).  Default off:
  the perfect-only space, as before.

Container levels (nested fan-outs) hold nothing and get no temporal slot, order
or keep parameter.  Timeloop constraints (:mod:`.constraints`) fix factors
(those primes leave the parameters), forbid slots, fix the innermost loops of
an order (the values are the permutations of the rest; dimensions fixed to 1
at a level do not loop there) and fix keep/bypass choices (those parameters
disappear).  A mapping the space cannot express raises :class:`NotInSpace` in
:meth:`MappingSpace.config_of` and is costed outside the space.

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
from .constraints import Constraints
from .mapping import Mapping, nest_of
from .model import Nest
from .problem import Problem

__all__ = ["divisors", "prime_factors", "MappingSpace", "NotInSpace", "MAX_ORDER_DIMS", "IMPERFECT_STEPS"]

#: loop orders are enumerated (n! values); more active dimensions than this are refused
MAX_ORDER_DIMS = 8

#: extra iterations an ``imperfect=True`` space may give one temporal loop (``resid_<dim>`` = ``<level>+k``)
IMPERFECT_STEPS = (1, 2, 3)


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


class NotInSpace(MappingError):
    """A mapping the space cannot express (costed outside the space, ``in_space: False``)."""


class MappingSpace:
    """Design space and fast decoding for mappings of ``problem`` on ``arch`` (see the module docstring),
    narrowed by Timeloop ``constraints`` (:class:`.constraints.Constraints`)."""

    def __init__(self, problem: Problem, arch: Architecture, constraints: Constraints | None = None,
                 imperfect: bool = False) -> None:
        self.problem, self.arch = problem, arch
        self.imperfect = bool(imperfect)
        c = self.constraints = constraints or Constraints()
        self.dims = list(problem.dims)
        self.active = [d for d in self.dims if problem.bounds[d] > 1]
        if len(self.active) > MAX_ORDER_DIMS:
            raise MappingError(f"problem {problem.name!r} has {len(self.active)} dimensions with bound > 1; the "
                               f"mapping space enumerates loop orders of at most {MAX_ORDER_DIMS}")
        self.sep = "" if all(len(d) == 1 for d in self.dims) else ","
        didx = {d: i for i, d in enumerate(self.dims)}
        L, D = len(arch.levels), len(self.dims)
        # slots: (name, kind, level) with kind "t" (temporal), "x" or "y" (spatial below the level); container
        # levels have no temporal slot (their loops would sit where the level above's innermost loops are)
        self.slots: list[tuple[str, str, int]] = []
        for lv, level in enumerate(arch.levels):
            if not level.is_dummy:
                self.slots.append((level.name, "t", lv))
            f = arch.fanouts[lv]
            if f is not None:
                for axis, size in (("x", f.mesh_x), ("y", f.mesh_y)):
                    if size > 1:
                        self.slots.append((f"{f.name}.{axis.upper()}", axis, lv))
        slot_id = {(k, lv): i for i, (_, k, lv) in enumerate(self.slots)}
        self._fixed = np.ones((3, L, D), dtype=np.int64)  # factors constraints fix (kind t/x/y, level, dim)
        params: list = []
        self._factors: list[tuple[int, int, int, np.ndarray]] = []  # (param, dim, prime, value -> slot)
        for d in self.active:
            j = didx[d]
            primes = prime_factors(problem.bounds[d])
            banned: set[int] = set()
            for lv, fac in c.temporal.items():
                if d in fac:
                    if ("t", lv) not in slot_id and fac[d] > 1:
                        raise MappingError(f"constraint: temporal factor {d}={fac[d]} at {arch.levels[lv].name!r}, a "
                                           "container's level (only 1 is allowed there)")
                    self._fix(primes, fac[d], ("t", lv), slot_id, j, d)
                    banned.add(slot_id.get(("t", lv), -1))
            for lv, fac in c.spatial.items():
                if d in fac:
                    axis = "y" if d in c.spatial_y.get(lv, set()) or ("x", lv) not in slot_id else "x"
                    if fac[d] > 1 and (axis, lv) not in slot_id:
                        raise MappingError(f"constraint: spatial factor {d}={fac[d]} at {arch.levels[lv].name!r} has no "
                                           "fan-out axis to go to")
                    self._fix(primes, fac[d], (axis, lv), slot_id, j, d)
                    banned |= {slot_id.get(("x", lv), -1), slot_id.get(("y", lv), -1)}
            for lv, names in c.spatial_y.items():
                if d in names:
                    banned.add(slot_id.get(("x", lv), -1))
            for lv, names in c.spatial_x.items():
                if d in names:
                    banned.add(slot_id.get(("y", lv), -1))
            allowed = [i for i in range(len(self.slots)) if i not in banned]
            if primes and not allowed:
                raise MappingError(f"constraints over-constrain dimension {d!r}: every level fixes its factor and the "
                                   f"fixed factors leave {int(np.prod(primes))} of the bound {problem.bounds[d]}")
            for i, pr in enumerate(primes):
                self._factors.append((len(params), j, pr, np.array(allowed, dtype=np.int64)))
                params.append(Categorical(f"f_{d}_{i}", [self.slots[a][0] for a in allowed],
                                          f"where prime factor {pr} of {d} (bound {problem.bounds[d]}) is mapped"))
        # loop orders per level: dimensions fixed innermost by constraints, then a permutation of the rest
        # (dimensions whose factor there is fixed to 1 never loop and stay outermost)
        self._order: list[tuple[int, int]] = []
        self._order_tables: dict[int, np.ndarray] = {}
        self._order_values: dict[int, list[str]] = {}
        for lv, level in enumerate(arch.levels):
            if level.is_dummy:
                continue
            inner = [d for d in c.inner.get(lv, []) if d in self.active]
            fixed1 = {d for d, f in c.temporal.get(lv, {}).items() if f == 1}
            free = [d for d in self.active if d not in inner and d not in fixed1]
            rest = [d for d in self.dims if d not in inner and d not in free]
            perms = list(itertools.permutations(free))
            self._order_values[lv] = [self.sep.join(inner + list(p)) for p in perms]
            self._order_tables[lv] = np.array([[didx[d] for d in rest] + [didx[d] for d in reversed(inner + list(p))]
                                               for p in perms], dtype=np.int64)
            if len(perms) > 1:
                self._order.append((len(params), lv))
                params.append(Categorical(f"order_{level.name}", self._order_values[lv],
                                          f"loop order at {level.name}, innermost first"))
        self.orders = self._order_values[0]
        self._keep: list[tuple[int, int, int]] = []
        self._keep_fixed = np.ones((L, len(problem.dataspaces)), dtype=bool)
        for lv, level in enumerate(arch.levels):
            if lv == 0:
                continue
            for s, ds in enumerate(problem.dataspaces):
                if level.is_dummy:
                    self._keep_fixed[lv, s] = False
                elif ds.name in c.keep.get(lv, {}):
                    self._keep_fixed[lv, s] = c.keep[lv][ds.name]
                else:
                    self._keep.append((len(params), lv, s))
                    params.append(Categorical(f"keep_{level.name}_{ds.name}", ("keep", "bypass"),
                                              f"whether {level.name} holds {ds.name}"))
        self._resid: list[tuple[int, int, np.ndarray]] = []  # (param, dim, (level, extra) per value; row 0 = none)
        if imperfect:
            self._add_resid_params(params, didx)
        if not params:  # the constraints fix everything: a space of one design
            params.append(Categorical("mapping_fixed", ("fixed by the constraints",), "nothing left to choose"))
        self.space = DesignSpace(params)
        self.names = self.space.names
        self._slot_kind = np.array(["txy".index(k) for _, k, _ in self.slots], dtype=np.int64)
        self._slot_level = np.array([lv for _, _, lv in self.slots], dtype=np.int64)
        self._by_dim = [(d, np.array([p for p, dd, _, _ in self._factors if dd == d], dtype=np.int64),
                         np.array([q for _, dd, q, _ in self._factors if dd == d], dtype=np.int64),
                         [tab for _, dd, _, tab in self._factors if dd == d])
                        for d in sorted({dd for _, dd, _, _ in self._factors})]

    def _add_resid_params(self, params: list, didx: dict) -> None:
        """``resid_<dim>`` for every active dimension whose factors the constraints leave free (a fixed
        factor > 1 anywhere, or 1 at the backing store, keeps the dimension perfect)."""
        c = self.constraints
        for d in self.active:
            fixed = {lv for lv, fac in c.temporal.items() if d in fac}
            if any(fac.get(d, 1) > 1 for fac in (*c.temporal.values(), *c.spatial.values())) or 0 in fixed:
                continue
            choices = [(lv, k) for lv, level in enumerate(self.arch.levels)
                       if lv > 0 and not level.is_dummy and lv not in fixed for k in IMPERFECT_STEPS]
            if not choices:
                continue
            self._resid.append((len(params), didx[d], np.array([(0, 0)] + choices, dtype=np.int64)))
            params.append(Categorical(f"resid_{d}", ["none"] + [f"{self.arch.levels[lv].name}+{k}" for lv, k in choices],
                                      f"a temporal loop of {d} with k more iterations than its primes give "
                                      "(imperfect factorization; the loops above are refitted)"))

    def _imperfect(self, fac: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
        """Apply the ``resid_<dim>`` choices of ``idx`` to the perfect factors ``fac`` ``(n, kind, L, D)``
        in place; the residual ends ``(n, L, D)`` (None if no row chose one)."""
        rt = None
        for p, j, table in self._resid:
            bound = self.problem.bounds[self.dims[j]]
            for i in np.nonzero(idx[:, p] > 0)[0]:
                lv, extra = (int(v) for v in table[idx[i, p]])
                tf = fac[i, 0, :, j]
                sf = fac[i, 1, :, j] * fac[i, 2, :, j]
                if np.any(sf[:lv] > 1):
                    continue  # a spatial loop of the dimension above: not modelled, the choice has no effect
                rem = bound // int(sf[lv] * np.prod(tf[lv + 1:] * sf[lv + 1:]))
                ends, res = tf.copy(), tf.copy()
                for q in range(lv, 0, -1):
                    e = min(int(tf[q]) + (extra if q == lv else 0), rem)
                    ends[q], res[q] = e, (rem % e) or e
                    rem = -(-rem // e)
                ends[0] = res[0] = rem
                if rt is None:
                    rt = fac[:, 0].copy()
                fac[i, 0, :, j] = ends
                rt[i, :, j] = res
        return rt

    def _fix(self, primes: list[int], value: int, slot: tuple[str, int], slot_id: dict, j: int, d: str) -> None:
        """Take ``value``'s primes out of ``primes`` and fix them at ``slot``."""
        for q in prime_factors(value):
            if q not in primes:
                raise MappingError(f"constraints over-constrain dimension {d!r}: fixed factor {value} does not divide "
                                   f"what the other constraints leave of the bound {self.problem.bounds[d]}")
            primes.remove(q)
        if value > 1:
            kind, lv = slot
            self._fixed["txy".index(kind), lv, j] *= value

    # ------------------------------------------------------------------ decoding
    def slot_of(self, idx: np.ndarray) -> np.ndarray:
        """Global slot index of every prime-factor parameter ``(N, primes)`` (in ``self._factors`` order)."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self._factors:
            return np.zeros((idx.shape[0], 0), dtype=np.int64)
        return np.stack([tab[idx[:, p]] for p, _, _, tab in self._factors], axis=1)

    def nest(self, idx: np.ndarray) -> Nest:
        """Nest of canonical index rows ``(N, params)`` (numpy gathers only)."""
        idx = np.asarray(idx, dtype=np.int64)
        n = idx.shape[0]
        L, D, S = len(self.arch.levels), len(self.dims), len(self.problem.dataspaces)
        fac = np.repeat(self._fixed[None], n, axis=0)  # (n, kind, level, dim)
        for d, params, primes, tabs in self._by_dim:
            chosen = np.stack([tab[idx[:, p]] for p, tab in zip(params, tabs)], axis=1)  # slot of each prime
            for s in range(len(self.slots)):
                fac[:, self._slot_kind[s], self._slot_level[s], d] *= np.prod(np.where(chosen == s, primes, 1), axis=1)
        order = np.empty((n, L, D), dtype=np.int64)
        order[:] = np.arange(D)[None, None, :]
        for lv, table in self._order_tables.items():
            order[:, lv] = table[0]
        for p, lv in self._order:
            order[:, lv] = self._order_tables[lv][idx[:, p]]
        keep = np.repeat(self._keep_fixed[None], n, axis=0)
        for p, lv, s in self._keep:
            keep[:, lv, s] = idx[:, p] == 0
        rt = self._imperfect(fac, idx) if self._resid else None
        return Nest(fac[:, 0], fac[:, 1], fac[:, 2], order, keep, rt)

    def indices(self, configs: list[TMapping[str, Any]]) -> np.ndarray:
        """Canonical index matrix of validated configs (fast path of ``space.encode``)."""
        out = np.empty((len(configs), len(self.names)), dtype=np.int64)
        for j, p in enumerate(self.space):
            look = {v: i for i, v in enumerate(p.values)}
            out[:, j] = [look[c[p.name]] for c in configs]
        return out

    # ------------------------------------------------------------------ files -> designs
    def config_of(self, mapping: Mapping) -> dict:
        """The design of this space that is ``mapping``; :class:`NotInSpace` (one line) if the space
        cannot express it (a factor where the space or its constraints allow none, an order or keep the
        constraints fix otherwise, spatial factors over a fan-out)."""
        nest = nest_of([mapping], self.problem, self.arch)
        if nest.rt is not None:
            lv, d = (int(v[0]) for v in np.nonzero(nest.rt[0] != nest.tf[0]))
            raise NotInSpace(f"level {self.arch.levels[lv].name!r}: residual factor {self.dims[d]}="
                             f"{int(nest.tf[0, lv, d])},{int(nest.rt[0, lv, d])} (the space's factors divide the bounds)")
        want = np.stack([nest.tf[0], nest.sx[0], nest.sy[0]])
        cfg: dict[str, Any] = {"mapping_fixed": self.space["mapping_fixed"].values[0]} if "mapping_fixed" in self.names else {}
        for d, params, primes, tabs in self._by_dim:
            name = self.dims[d]
            pool: list[tuple[int, int]] = []  # (prime, slot) one per prime factor beyond the fixed ones
            for s, (sname, kind, lv) in enumerate(self.slots):
                k = "txy".index(kind)
                rest = int(want[k, lv, d]) // int(self._fixed[k, lv, d])
                if int(want[k, lv, d]) % int(self._fixed[k, lv, d]):
                    raise NotInSpace(f"{sname}: factor {name}={int(want[k, lv, d])} is not a multiple of the "
                                     f"constrained {int(self._fixed[k, lv, d])}")
                pool += [(q, s) for q in prime_factors(rest)]
            covered = {(k, lv) for _, k, lv in self.slots}
            for k in range(3):
                for lv in range(len(self.arch.levels)):
                    if ("txy"[k], lv) not in covered and want[k, lv, d] != self._fixed[k, lv, d]:
                        where = self.arch.levels[lv].name
                        raise NotInSpace(f"level {where!r}: factor {name}={int(want[k, lv, d])} has no place in the "
                                         "mapping space")
            pool.sort()
            for (p, dd, q, tab), (q2, s) in zip([f for f in self._factors if f[1] == d], pool):
                if s not in tab:
                    raise NotInSpace(f"{self.slots[s][0]}: factor of {name} is fixed by the constraints")
                cfg[self.space.names[p]] = self.slots[s][0]
        for p, lv in self._order:
            lm = mapping.levels[lv]
            tf = {dd: f for dd, f in lm.temporal.items() if f > 1}
            values = self._order_values[lv]
            inner_first = [dd for dd in reversed(lm.order) if dd in self.active]
            inner_first += [dd for dd in self.active if dd not in inner_first]
            match = [v for v in values if self._same_order(v, inner_first, tf)]
            if not match:
                raise NotInSpace(f"level {self.arch.levels[lv].name!r}: loop order {''.join(inner_first)} is not "
                                 "allowed by the constraints")
            exact = self.sep.join(inner_first)
            cfg[self.space.names[p]] = exact if exact in values else match[0]
        keep = nest.keep[0]
        for lv in range(1, len(self.arch.levels)):
            for s, ds in enumerate(self.problem.dataspaces):
                held = bool(keep[lv, s]) and not self.arch.levels[lv].is_dummy
                if any(q == lv and t == s for _, q, t in self._keep):
                    cfg[f"keep_{self.arch.levels[lv].name}_{ds.name}"] = "keep" if held else "bypass"
                elif held != bool(self._keep_fixed[lv, s]):
                    raise NotInSpace(f"level {self.arch.levels[lv].name!r}: keeping {ds.name} is fixed by the "
                                     "constraints")
        for p, _, _ in self._resid:
            cfg[self.space.names[p]] = "none"
        for lv, f in enumerate(self.arch.fanouts):
            for axis, k in (("X", 1), ("Y", 2)):
                size = (f.mesh_x if axis == "X" else f.mesh_y) if f is not None else 1
                use = int(np.prod(want[k, lv]))
                if use > size:
                    where = f"fan-out {f.name!r}" if f is not None else f"level {self.arch.levels[lv].name!r}"
                    raise NotInSpace(f"{where}: spatial {axis} factors use {use} > mesh{axis} {size}")
        return self.space.validate(cfg)

    def _same_order(self, value: str, inner_first: list[str], tf: dict[str, int]) -> bool:
        """Whether the order ``value`` (innermost first) nests the looping dimensions ``tf`` alike."""
        vals = value.split(self.sep) if self.sep else list(value)
        a = [d for d in vals if d in tf]
        b = [d for d in inner_first if d in tf]
        return a == b and set(a) == set(tf)

    def baseline_config(self) -> dict:
        """Every free loop at the backing store, nothing spatial, every free keep choice "keep"."""
        cfg = {}
        for p in self.space:
            cfg[p.name] = self.arch.levels[0].name if p.name.startswith("f_") and self.arch.levels[0].name in \
                p.values else p.values[0]
        return self.space.validate(cfg)

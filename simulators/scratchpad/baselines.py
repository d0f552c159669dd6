"""Heuristic baselines on a fixed operator order: Belady, LRU, greedy first-fit.

All three follow the execution model of :mod:`.plan`: dead tensors are freed
as soon as they have no later use; missing inputs are loaded just before the
operator runs; when the scratchpad is full, a victim among the resident
tensors the operator does not use is evicted (written back first if it is a
live activation without an off-chip copy).

* ``belady``: evict the tensor whose next use is furthest away (ties: larger
  first, then name).  Optimal for unit sizes and no write-backs; a heuristic here.
* ``lru``: evict the least recently used tensor (ties: larger first, then name).
* ``first_fit``: Belady replacement plus a TFLite-arena-like address
  allocator: each arriving tensor takes the lowest-address hole that fits; if
  none does, Belady victims are evicted until one does.  Tensors never move,
  so fragmentation can make a plan impossible: :class:`PlacementError`.
"""
from __future__ import annotations

import bisect
from typing import Callable, Collection, Sequence

from .graph import Graph
from .plan import Plan, plan_from_residency

__all__ = ["InfeasibleError", "PlacementError", "check_working_sets", "belady", "lru", "first_fit",
           "guided_first_fit", "BASELINES"]


class InfeasibleError(ValueError):
    """One operator's working set exceeds the scratchpad (message names it)."""

    def __init__(self, message: str, op: str = "") -> None:
        super().__init__(message)
        self.op = op


class PlacementError(InfeasibleError):
    """The address allocator found no contiguous hole (fragmentation)."""


def check_working_sets(graph: Graph, capacity: int) -> None:
    """Raise :class:`InfeasibleError` naming the first operator whose inputs +
    outputs exceed ``capacity`` bytes."""
    for i, op in enumerate(graph.ops):
        ws = graph.working_set(i)
        if ws > capacity:
            raise InfeasibleError(f"operator {op.name!r} needs {ws} bytes (inputs + outputs) "
                                  f"but the scratchpad holds {capacity}", op.name)


def _next_use(uses: dict[str, list[int]], x: str, t: int) -> int:
    u = uses[x]
    k = bisect.bisect_left(u, t)
    return u[k] if k < len(u) else 1 << 60


def _simulate(graph: Graph, order: Sequence[int], capacity: int, victim_key: Callable[[str, int], tuple],
              allocate: bool, method: str, keep: Sequence[Collection[str]] | None = None) -> Plan:
    """The shared replacement loop; with ``keep`` (resident sets per step, e.g.
    an ILP plan's), a tensor is also dropped as soon as ``keep`` drops it."""
    check_working_sets(graph, capacity)
    uses = graph.uses(order)
    res: dict[str, int | None] = {}
    history: list[dict[str, int | None]] = []
    for t, op_i in enumerate(order):
        need = graph.ops[op_i].tensors
        for x in [x for x in res if uses[x][-1] < t or (keep is not None and x not in keep[t] and x not in need)]:
            del res[x]  # dead, or dropped by the plan being followed
        missing = [x for x in need if x not in res]
        if allocate:
            missing.sort(key=lambda x: (-graph.size(x), x))
        for x in missing:
            while True:
                spot = _first_fit(graph, res, graph.size(x), capacity) if allocate else (
                    None if sum(map(graph.size, res)) + graph.size(x) > capacity else -1)
                if spot is not None:
                    break
                cands = [y for y in res if y not in need]
                if not cands:
                    raise PlacementError(f"operator {graph.ops[op_i].name!r}: no contiguous {graph.size(x)}-byte "
                                         f"hole for {x!r} (fragmentation)", graph.ops[op_i].name)
                del res[max(cands, key=lambda y: victim_key(y, t))]
            res[x] = spot if allocate else None
        history.append(dict(res))
    return plan_from_residency(graph, order, history, method=method, status="heuristic")


def _first_fit(graph: Graph, res: dict[str, int | None], size: int, capacity: int) -> int | None:
    pos = 0
    for o, x in sorted((o, x) for x, o in res.items()):
        if o - pos >= size:
            return pos
        pos = max(pos, o + graph.size(x))
    return pos if capacity - pos >= size else None


def guided_first_fit(graph: Graph, plan: Plan, capacity: int) -> Plan:
    """Addresses for ``plan`` by first-fit, following its order and residency:
    a tensor leaves when the plan drops it; when no hole fits an arriving
    tensor, Belady victims are evicted (and reloaded when next used), so the
    result can cost more than ``plan``.  Raises :class:`PlacementError` if
    even that cannot place an operator's working set."""
    order = list(plan.order)
    uses = graph.uses(order)
    return _simulate(graph, order, capacity, lambda y, t: (_next_use(uses, y, t), graph.size(y), y), True,
                     "guided_first_fit", keep=plan.resident)


def belady(graph: Graph, order: Sequence[int], capacity: int) -> Plan:
    """Furthest-next-use replacement on ``order`` (capacity in bytes)."""
    uses = graph.uses(order)
    return _simulate(graph, order, capacity,
                     lambda y, t: (_next_use(uses, y, t), graph.size(y), y), False, "belady")


def lru(graph: Graph, order: Sequence[int], capacity: int) -> Plan:
    """Least-recently-used replacement on ``order`` (capacity in bytes)."""
    uses = graph.uses(order)

    def key(y: str, t: int) -> tuple:
        k = bisect.bisect_left(uses[y], t)
        recent = uses[y][k - 1] if k > 0 else -1
        return (-recent, graph.size(y), y)

    return _simulate(graph, order, capacity, key, False, "lru")


def first_fit(graph: Graph, order: Sequence[int], capacity: int) -> Plan:
    """Belady replacement with a first-fit address allocator (plan has offsets)."""
    uses = graph.uses(order)
    return _simulate(graph, order, capacity,
                     lambda y, t: (_next_use(uses, y, t), graph.size(y), y), True, "first_fit")


BASELINES: dict[str, Callable[[Graph, Sequence[int], int], Plan]] = {
    "belady": belady, "lru": lru, "first_fit": first_fit}

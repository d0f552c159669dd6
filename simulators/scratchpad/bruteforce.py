"""Brute-force reference for tiny graphs: every topological order x every
keep/evict choice per reuse gap (see :mod:`.ilp_fixed` for why per-gap
choices cover every replacement schedule).  Exponential; for tests only
(<= ~8 operators).  Shares no code with the ILPs: the cost and capacity
check are recomputed here with numpy over all choice vectors at once.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .graph import Graph

__all__ = ["topological_orders", "brute_force_fixed", "brute_force_free"]


def topological_orders(graph: Graph) -> Iterator[list[int]]:
    """Every topological order (lexicographic by operator index)."""
    n = graph.n_ops
    indeg = [len(p) for p in graph.preds]
    order: list[int] = []

    def rec() -> Iterator[list[int]]:
        if len(order) == n:
            yield list(order)
            return
        for o in range(n):
            if indeg[o] == 0 and o not in order:
                order.append(o)
                for s in graph.succs[o]:
                    indeg[s] -= 1
                yield from rec()
                for s in graph.succs[o]:
                    indeg[s] += 1
                order.pop()

    yield from rec()


def brute_force_fixed(graph: Graph, order: Sequence[int], capacity: int) -> float:
    """Minimum non-compulsory bytes on ``order``; ``inf`` if nothing fits."""
    n = len(order)
    ws = np.array([sum(graph.size(y) for y in graph.ops[o].tensors) for o in order])
    if (ws > capacity).any():
        return float("inf")
    steps: dict[str, list[int]] = {}
    for t, o in enumerate(order):
        for y in graph.ops[o].tensors:
            if t not in steps.setdefault(y, []):
                steps[y].append(t)
    gaps = [(y, a, b) for y, u in steps.items() for a, b in zip(u, u[1:]) if b - a > 1]
    g = len(gaps)
    if g == 0:
        return 0.0
    choices = ((np.arange(1 << g)[:, None] >> np.arange(g)[None, :]) & 1).astype(np.int64)  # 1 = keep
    size = np.array([graph.size(y) for y, _, _ in gaps])
    span = np.zeros((g, n), dtype=np.int64)
    for k, (_, a, b) in enumerate(gaps):
        span[k, a + 1:b] = size[k]
    load = choices @ span + ws[None, :]
    ok = (load <= capacity).all(axis=1)
    cost = ((1 - choices) * size[None, :]).sum(axis=1)
    for y in {y for y, _, _ in gaps if not graph.tensors[y].offchip}:
        idx = [k for k, gg in enumerate(gaps) if gg[0] == y]
        cost = cost + graph.size(y) * (choices[:, idx].min(axis=1) == 0)
    return float(cost[ok].min()) if ok.any() else float("inf")


def brute_force_free(graph: Graph, capacity: int) -> float:
    """Minimum non-compulsory bytes over every topological order."""
    return min((brute_force_fixed(graph, o, capacity) for o in topological_orders(graph)), default=float("inf"))

"""Moves on the canonical index encoding of :mod:`archgym.space`, shared by searchers.

* :func:`mutate_value`: a different index of one parameter (a neighbour or a random one);
* :func:`mutate_indices`: ``n_changes`` distinct parameters changed;
* :func:`mutate_genes`: each gene changes independently with a probability;
* :func:`mutate_rows`: vectorized random neighbours of many index vectors;
* :func:`index_keys`: one int64 per index vector (mixed radix), for fast membership tests.

Ordered parameters (integer ranges, ordinal lists; see
:func:`archgym.features.ordered_mask`) may move to an adjacent index.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mutate_value", "mutate_indices", "mutate_genes", "mutate_rows", "index_keys"]


def mutate_value(i: int, n: int, rng: np.random.Generator, local: bool = False) -> int:
    """A different index of a parameter with ``n`` values (``i`` itself if ``n == 1``).

    ``local``: move to an adjacent index (``i +- 1``, reflected at the ends);
    otherwise a uniformly random different index."""
    if n <= 1:
        return int(i)
    if local:
        j = i + (1 if rng.random() < 0.5 else -1)
        if j < 0 or j >= n:
            j = i - (j - i)
        return int(j)
    j = int(rng.integers(n - 1))
    return j + 1 if j >= i else j


def mutate_indices(idx: np.ndarray, nvec: np.ndarray, rng: np.random.Generator, n_changes: int = 1,
                   ordered: np.ndarray | None = None, local_prob: float = 0.0) -> np.ndarray:
    """Copy of ``idx`` with ``n_changes`` distinct parameters (those with more
    than one value) changed; an ordered parameter moves to a neighbour with
    probability ``local_prob``, else to a uniformly random other value."""
    out = np.array(idx, dtype=np.int64, copy=True)
    movable = np.flatnonzero(nvec > 1)
    if movable.size == 0:
        return out
    k = int(min(max(n_changes, 1), movable.size))
    for g in rng.choice(movable, size=k, replace=False):
        local = ordered is not None and bool(ordered[g]) and rng.random() < local_prob
        out[g] = mutate_value(int(out[g]), int(nvec[g]), rng, local)
    return out


def mutate_rows(base: np.ndarray, nvec: np.ndarray, rng: np.random.Generator, max_changes: int = 2) -> np.ndarray:
    """Vectorized neighbours: each row of ``base`` (``(m, d)``) with between 1
    and ``max_changes`` genes (drawn with replacement, so occasionally fewer)
    set to a uniformly random *different* value.  Genes with one value stay."""
    out = np.array(base, dtype=np.int64, copy=True)
    m, d = out.shape
    rows = np.arange(m)
    n_changes = rng.integers(1, max_changes + 1, size=m)
    for c in range(max_changes):
        active = rows[n_changes > c]
        genes = rng.integers(0, d, size=active.size)
        n = nvec[genes]
        shift = rng.integers(1, np.maximum(n, 2), size=active.size)
        out[active, genes] = np.where(n > 1, (out[active, genes] + shift) % np.maximum(n, 1), out[active, genes])
    return out


def index_keys(indices: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """One int64 per index vector (mixed radix; needs ``prod(nvec) < 2**63``)."""
    idx = np.atleast_2d(np.asarray(indices, dtype=np.int64))
    key = np.zeros(len(idx), dtype=np.int64)
    for g, n in enumerate(nvec):
        key = key * int(n) + idx[:, g]
    return key


def mutate_genes(idx: np.ndarray, nvec: np.ndarray, rng: np.random.Generator, rate: float,
                 ordered: np.ndarray | None = None, local_prob: float = 0.0) -> np.ndarray:
    """Per-gene mutation: each gene changes independently with probability ``rate``."""
    out = np.array(idx, dtype=np.int64, copy=True)
    hits = rng.random(len(out)) < rate
    for g in np.flatnonzero(hits):
        local = ordered is not None and bool(ordered[g]) and rng.random() < local_prob
        out[g] = mutate_value(int(out[g]), int(nvec[g]), rng, local)
    return out

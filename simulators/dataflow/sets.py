"""Sizes and self-overlaps of 1-D index sets ``{sum_i c_i * x_i : 0 <= x_i < n_i}`` (sumsets).

A data dimension indexed by several loop dimensions (an input row ``stride*p +
dilation*r``) covers such a set; it need not be contiguous (stride > filter).
Single-term sets have closed forms; multi-term ones are computed once per
distinct shape (cached) and looked up for whole batches with
:func:`per_row`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

__all__ = ["sumset", "sumset_size", "sumset_overlap", "group_rows", "per_row", "contiguous_span"]


@lru_cache(maxsize=65536)
def sumset(terms: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Sorted distinct values of ``sum c*x`` over ``terms = ((c, n), ...)``."""
    vals = np.zeros(1, dtype=np.int64)
    for c, n in terms:
        if n > 1:
            vals = np.unique((vals[:, None] + c * np.arange(n, dtype=np.int64)[None, :]).ravel())
    return vals


def sumset_size(terms: tuple[tuple[int, int], ...]) -> int:
    """Number of distinct values of the sumset."""
    return int(sumset(terms).size)


@lru_cache(maxsize=262144)
def sumset_overlap(terms: tuple[tuple[int, int], ...], shift: int) -> int:
    """``|S ∩ (S + shift)|``: words of a tile still held after the tile moves by ``shift``."""
    s = sumset(terms)
    return int(np.intersect1d(s, s + shift, assume_unique=True).size)


def group_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an int array ``(n, k)``: ``(index of each distinct row's first occurrence,
    inverse)``.  Rows are packed into one int64 key (mixed radix over the columns' ranges) so this is
    a 1-D ``np.unique``; falls back to ``np.unique(axis=0)`` if the key would overflow."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    lo = rows.min(axis=0)
    span = rows.max(axis=0) - lo + 1
    if float(np.prod(span.astype(np.float64))) < 2.0 ** 62:
        radix = np.cumprod(np.concatenate([[1], span[:-1]])).astype(np.int64)
        _, first, inv = np.unique((rows - lo) @ radix, return_index=True, return_inverse=True)
    else:
        _, first, inv = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return first, inv.reshape(-1)


def per_row(rows: np.ndarray, fn: Callable[[tuple[int, ...]], int]) -> np.ndarray:
    """Apply ``fn`` to each distinct row of the int array ``rows`` (shape ``(n, k)``), vectorized back."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    first, inv = group_rows(rows)
    vals = np.array([fn(tuple(int(v) for v in rows[i])) for i in first], dtype=np.int64)
    return vals[inv]


def contiguous_span(coefs: tuple[int, ...], ext: np.ndarray) -> np.ndarray:
    """Size of the sumset where it is a contiguous run, else -1 (``ext`` ``(n, terms)``, any order
    of ``coefs``): true when the smallest non-trivial coefficient is 1 and every next term's
    coefficient is at most the run covered so far (a filter window at least as wide as the stride)."""
    order = np.argsort(coefs, kind="stable")
    n = ext.shape[0]
    span = np.ones(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    for t in order:
        c, e = coefs[t], ext[:, t]
        moves = e > 1
        ok &= ~moves | (c <= span)
        span = np.where(moves, span + c * (e - 1), span)
    return np.where(ok, span, -1)

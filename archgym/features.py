"""Numeric features of designs, for surrogate and proxy models.

A view of the canonical index encoding (:mod:`archgym.space`), not another
encoding: an ordered parameter (integer or ordinal) with ``n`` values becomes
one feature ``index / (n - 1)`` in ``[0, 1]`` (0 if ``n == 1``); a categorical
parameter becomes ``n`` one-hot features.  Bayesian optimization's GP and the
proxy cost models both use it, so they see the same geometry.
"""
from __future__ import annotations

import numpy as np

from .space import Categorical, DesignSpace

__all__ = ["ordered_mask", "SpaceEncoder"]


def ordered_mask(space: DesignSpace) -> np.ndarray:
    """True for parameters whose index order means something (integer, ordinal)."""
    return np.array([not isinstance(p, Categorical) for p in space.parameters], dtype=bool)


class SpaceEncoder:
    """Features of ``(m, d)`` index arrays: ``transform(indices) -> (m, n_features)``."""

    def __init__(self, space: DesignSpace) -> None:
        self.space = space
        self.nvec = space.nvec
        self.ordered = ordered_mask(space)
        self.n_features = int(sum(1 if o else n for o, n in zip(self.ordered, self.nvec)))

    def transform(self, indices: np.ndarray) -> np.ndarray:
        idx = np.atleast_2d(np.asarray(indices, dtype=np.int64))
        cols = []
        for g, (o, n) in enumerate(zip(self.ordered, self.nvec)):
            if o:
                cols.append((idx[:, g] / max(n - 1, 1))[:, None])
            else:
                cols.append(np.eye(n)[idx[:, g]])
        return np.hstack(cols).astype(np.float64)

    def transform_configs(self, configs) -> np.ndarray:
        """Features of validated design dicts."""
        return self.transform(np.array([self.space.encode(c) for c in configs], dtype=np.int64))

"""Uniform random search: the baseline every searcher must beat."""
from __future__ import annotations

from .base import AskTellAgent


class RandomSearch(AskTellAgent):
    """Uniform random designs from the space (with replacement, constraint-aware)."""

    name = "random"
    hyperparameters = ()

    def ask(self) -> dict:
        return self.space.sample(self.rng)

"""Uniform random search: the baseline every searcher must beat."""
from __future__ import annotations

from .base import AskTellAgent


class RandomSearch(AskTellAgent):
    """Uniform random designs from the space (with replacement, constraint-aware)."""

    name = "random"
    hyperparameters = ()

    def ask(self) -> dict:
        return self.space.sample(self.rng)

    def ask_many(self, n: int) -> list[dict]:
        return [self.ask() for _ in range(min(n, 1024))]  # asks do not depend on tells

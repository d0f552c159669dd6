"""Uniform random search: the baseline every searcher must beat."""
from __future__ import annotations

from .base import AskTellAgent, HyperParameter


class RandomSearch(AskTellAgent):
    """Uniform random designs from the space (with replacement, constraint-aware).

    A design drawn again is answered from the record without spending budget,
    as for every searcher (the repeat rule of :mod:`archgym.env`), so the
    budget buys distinct designs; ``reuse_evaluations=False`` pays for repeats
    (sampling with replacement, as before that rule).
    """

    name = "random"
    hyperparameters = (
        HyperParameter("reuse_evaluations", True, bool, description="repeats answered free (False: paid)"),
    )

    def ask(self) -> dict:
        return self.space.sample(self.rng)

    def ask_many(self, n: int) -> list[dict]:
        return [self.ask() for _ in range(min(n, 1024))]  # asks do not depend on tells

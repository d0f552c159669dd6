"""The public base of population searchers: :class:`QueuedSearch`.

A population searcher proposes designs in batches (a GA generation, an ant
colony, one random-walk step) and learns from a batch once all its results are
known.  :class:`QueuedSearch` turns that into the ask/tell interface of
:class:`~archgym.agents.base.AskTellAgent`, remembers every evaluation and
gives the Pareto front; see its docstring for the two methods a subclass
writes.  GA, ACO and the random walk are built on it.  Repeated designs are
answered by the environment, as for every searcher (the repeat rule of
:mod:`archgym.env`).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Mapping

import numpy as np

from archgym.features import ordered_mask
from archgym.space import DesignSpace

from .base import AskTellAgent
from .pareto import ParetoFrontMixin, result_vector

__all__ = ["QueuedSearch"]


class QueuedSearch(ParetoFrontMixin, AskTellAgent):
    """Base for searchers that propose designs in batches.

    Subclasses implement :meth:`_propose` (the next batch of index vectors,
    given everything told so far) and :meth:`_batch_done` (called with the
    batch's ``(indices, reward, vector)`` results once all are known).
    :meth:`ask` hands the batch out one design at a time, repeats included:
    inside :meth:`~archgym.agents.Agent.run` the environment answers a design
    already evaluated from its record without spending budget (and charges a
    repeat after ``repeat_patience`` (200) free answers in a row, e.g. once a
    tiny space is exhausted), unless the subclass's hyperparameter
    ``reuse_evaluations`` is False.

    Every design told is remembered once (``self.evaluated_``: index vectors,
    rewards, objective vectors, in first-tell order; ``self._memo`` by index
    tuple), which also gives the Pareto front (:meth:`pareto_front`).
    """

    def setup(self, space: DesignSpace, seed: int, objective: Any = None) -> "QueuedSearch":
        super().setup(space, seed, objective)
        self.nvec = space.nvec
        self.ordered = ordered_mask(space)
        self.n_objectives = getattr(objective, "n_objectives", 1) if objective is not None else 1
        self._queue: deque[np.ndarray] = deque()
        self._batch_size = 0
        self._results: list[tuple[np.ndarray, float, np.ndarray]] = []
        self._outstanding: dict[tuple, int] = {}
        self._memo: dict[tuple, tuple[float, np.ndarray]] = {}
        self.evaluated_: list[tuple[np.ndarray, float, np.ndarray]] = []
        self.best_indices_: np.ndarray | None = None
        self.best_reward_ = -np.inf
        return self

    # -- subclass hooks ---------------------------------------------------------
    def _propose(self) -> list[np.ndarray]:
        raise NotImplementedError

    def _batch_done(self, results: list[tuple[np.ndarray, float, np.ndarray]]) -> None:
        raise NotImplementedError

    # -- ask/tell -----------------------------------------------------------------
    def _next_batch(self) -> None:
        if self._batch_size and len(self._results) < self._batch_size:
            raise RuntimeError(f"{self.name}: tell() the results of the designs already asked "
                               "before asking for the next batch")
        if self._batch_size:
            results, self._results = self._results, []
            self._batch_done(results)
        batch = [np.asarray(b, dtype=np.int64) for b in self._propose()]
        if not batch:
            raise RuntimeError(f"{self.name}: proposed an empty batch")
        self._queue.extend(batch)
        self._batch_size = len(batch)

    def ask(self) -> dict:
        if not self._queue:
            self._next_batch()
        idx = self._queue.popleft()
        key = tuple(int(v) for v in idx)
        self._outstanding[key] = self._outstanding.get(key, 0) + 1
        return self.space.decode(idx)

    def ask_many(self, n: int) -> list[dict]:
        """The rest of the current batch (up to ``n``): the designs one-by-one
        asking would give, as the next batch depends on these results."""
        out = [self.ask()]
        while len(out) < n and self._queue:
            out.append(self.ask())
        return out

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        idx = self.space.encode(config)
        key = tuple(int(v) for v in idx)
        vec = result_vector(self.objective, reward, info)
        reward = float(reward)
        if key not in self._memo:
            self._memo[key] = (reward, vec)
            self.evaluated_.append((idx, reward, vec))
        if reward > self.best_reward_:
            self.best_reward_, self.best_indices_ = reward, idx
        if self._outstanding.get(key, 0) > 0:  # a design of the current batch
            self._outstanding[key] -= 1
            self._results.append((idx, reward, vec))

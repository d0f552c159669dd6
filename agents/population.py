"""The public base of population searchers: :class:`QueuedSearch`.

A population searcher proposes designs in batches (a GA generation, an ant
colony, one random-walk step) and learns from a batch once all its results are
known.  :class:`QueuedSearch` turns that into the ask/tell interface of
:class:`~archgym.agents.base.AskTellAgent`, remembers every evaluation, skips
designs already evaluated (``reuse_evaluations``) and gives the Pareto front;
see its docstring for the two methods a subclass writes.  GA, ACO and the
random walk are built on it.
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
    :meth:`ask` hands the batch out one design at a time.  With the
    hyperparameter ``reuse_evaluations`` (declared by the subclass, default
    True) a proposed design that was already evaluated is not asked again:
    its remembered result is used and the next design is taken, so the budget
    is spent on new designs only (after ``max_skips`` (200) consecutive repeats, e.g.
    once a tiny space is exhausted, the repeat is asked anyway).

    Every evaluated design is remembered (``self.evaluated_``: index vectors,
    rewards, objective vectors, in tell order), which also gives the Pareto
    front (:meth:`pareto_front`).
    """

    max_skips = 200

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
    def _reuse(self) -> bool:
        return bool(getattr(self, "reuse_evaluations", True))

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
        skips = 0
        while True:
            if not self._queue:
                self._next_batch()
            idx = self._queue.popleft()
            key = tuple(int(v) for v in idx)
            if self._reuse() and key in self._memo and skips < self.max_skips:
                reward, vec = self._memo[key]
                self._results.append((idx, reward, vec))
                skips += 1
                continue
            self._outstanding[key] = self._outstanding.get(key, 0) + 1
            return self.space.decode(idx)

    def ask_many(self, n: int) -> list[dict]:
        """The rest of the current batch (up to ``n``), stopping before a design
        that one-by-one asking would skip or that is already in this hand-out,
        so the trajectory equals the sequential one."""
        out = [self.ask()]
        keys = {tuple(self.space.encode(out[0]).tolist())}
        while len(out) < n and self._queue:
            key = tuple(int(v) for v in self._queue[0])
            if key in keys or (self._reuse() and key in self._memo):
                break
            out.append(self.ask())
            keys.add(key)
        return out

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        idx = self.space.encode(config)
        key = tuple(int(v) for v in idx)
        vec = result_vector(self.objective, reward, info)
        reward = float(reward)
        self._memo[key] = (reward, vec)
        self.evaluated_.append((idx, reward, vec))
        if reward > self.best_reward_:
            self.best_reward_, self.best_indices_ = reward, idx
        if self._outstanding.get(key, 0) > 0:  # a design of the current batch
            self._outstanding[key] -= 1
            self._results.append((idx, reward, vec))

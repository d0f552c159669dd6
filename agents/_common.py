"""Logic shared by several searchers, written once.

* index-vector moves: :func:`mutate_value`, :func:`mutate_indices`,
  :func:`mutate_genes` (all on the canonical index encoding of
  :mod:`archgym.space`; ordered parameters may move to a neighbouring index);
* :class:`SpaceEncoder` and :func:`ordered_mask`, re-exported from
  :mod:`archgym.features` (the core owns them: proxy cost models use them too);
* Pareto tools: :func:`dominates`, :func:`non_dominated_sort` (Deb et al. 2002,
  "A fast and elitist multiobjective genetic algorithm: NSGA-II"),
  :func:`crowding_distance` (same paper), :func:`pareto_mask`,
  :func:`pareto_front_frame`;
* :func:`result_vector`: the objective vector of an evaluation's ``info``;
* :class:`QueuedSearch`: an :class:`~agents.base.AskTellAgent` base for
  searchers that propose designs in batches (a GA generation, an ant colony,
  one random-walk step) and that may skip designs already evaluated, reusing
  the remembered reward instead of spending budget on them.

Every searcher in this package maximizes the reward (higher is better), and
multi-objective vectors are higher-better too (see :mod:`archgym.objective`).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Mapping, Sequence

import numpy as np

from archgym.features import SpaceEncoder, ordered_mask  # noqa: F401  (re-exported)
from archgym.space import DesignSpace

from .base import AskTellAgent

__all__ = [
    "ordered_mask",
    "mutate_value",
    "mutate_indices",
    "mutate_genes",
    "mutate_rows",
    "index_keys",
    "SpaceEncoder",
    "dominates",
    "pareto_mask",
    "non_dominated_sort",
    "crowding_distance",
    "result_vector",
    "pareto_front_frame",
    "ParetoFrontMixin",
    "QueuedSearch",
]


# --------------------------------------------------------------------------- moves
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


# --------------------------------------------------------------------------- features
# --------------------------------------------------------------------------- Pareto
def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` Pareto-dominates ``b`` (maximization): no worse anywhere, better somewhere."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all(a >= b) and np.any(a > b))


def pareto_mask(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``F`` (``(m, k)``, maximization)."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    ge = np.all(F[:, None, :] >= F[None, :, :], axis=2)
    gt = np.any(F[:, None, :] > F[None, :, :], axis=2)
    dominated = np.any(ge & gt, axis=0)  # column j dominated by some row i
    return ~dominated


def non_dominated_sort(F: np.ndarray) -> list[np.ndarray]:
    """Fronts of ``F`` (maximization) as index arrays, best front first.

    Deb et al. (2002), NSGA-II, "fast non-dominated sort": count for each point
    how many others dominate it, peel off the points with count zero."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    m = len(F)
    if m == 0:
        return []
    ge = np.all(F[:, None, :] >= F[None, :, :], axis=2)
    gt = np.any(F[:, None, :] > F[None, :, :], axis=2)
    dom = ge & gt  # dom[i, j]: i dominates j
    count = dom.sum(axis=0)
    fronts = []
    current = np.flatnonzero(count == 0)
    while current.size:
        fronts.append(current)
        count = count - dom[current].sum(axis=0)
        count[current] = -1
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the points of one front (Deb et al. 2002):
    per objective, the normalized gap between each point's two neighbours;
    boundary points get infinity."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[:, None]
    m, k = F.shape
    dist = np.zeros(m)
    if m <= 2:
        return np.full(m, np.inf)
    for j in range(k):
        order = np.argsort(F[:, j], kind="stable")
        f = F[order, j]
        span = f[-1] - f[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (f[2:] - f[:-2]) / span
    return dist


def result_vector(objective: Any, reward: float, info: Mapping[str, Any] | None) -> np.ndarray:
    """The objective vector (higher better) of one evaluation.  Single-objective
    (or no objective): ``[reward]``; multi-objective: ``objective.vector`` of
    the metrics and feasibility in ``info``."""
    k = getattr(objective, "n_objectives", 1) if objective is not None else 1
    if k <= 1:
        return np.array([float(reward)])
    if not info or "metrics" not in info:
        raise ValueError("a multi-objective searcher needs the evaluation info (metrics, feasible) in tell()")
    result = dict(info["metrics"])
    result["feasible"] = bool(info.get("feasible", True))
    return np.asarray(objective.vector(result), dtype=np.float64)


def pareto_front_frame(space: DesignSpace, indices: Sequence[np.ndarray], vectors: Sequence[np.ndarray],
                       names: Sequence[str], rewards: Sequence[float] | None = None):
    """The non-dominated, de-duplicated designs among ``indices`` as a DataFrame:
    one column per parameter, one per objective (``names``, higher better),
    and ``reward`` if given; sorted by the first objective, best first."""
    import pandas as pd

    if "reward" in names:
        rewards = None
    cols = list(space.names) + list(names) + (["reward"] if rewards is not None else [])
    if len(indices) == 0:
        return pd.DataFrame(columns=cols)
    seen: dict[tuple, int] = {}
    for i, idx in enumerate(indices):
        seen.setdefault(tuple(int(v) for v in idx), i)
    keep = np.array(sorted(seen.values()))
    F = np.asarray([vectors[i] for i in keep], dtype=np.float64)
    front = keep[pareto_mask(F)]
    rows = []
    for i in front:
        row = dict(space.decode(indices[i]))
        row.update({n: float(v) for n, v in zip(names, vectors[i])})
        if rewards is not None:
            row["reward"] = float(rewards[i])
        rows.append(row)
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(list(names)[0], ascending=False, kind="stable").reset_index(drop=True)


def objective_names(objective: Any) -> list[str]:
    """Names of the objective vector's entries (metric names, or ``["reward"]``)."""
    k = getattr(objective, "n_objectives", 1) if objective is not None else 1
    if k <= 1:
        return ["reward"]
    names = list(getattr(objective, "metrics", []))
    return names if len(names) == k else [f"objective_{i}" for i in range(k)]


# --------------------------------------------------------------------------- batched ask/tell
class ParetoFrontMixin:
    """``pareto_front()`` over ``self.evaluated_`` (tuples of index vector,
    reward, objective vector), and ``pareto_front_`` set after every ``run``."""

    def pareto_front(self):
        """Non-dominated designs among all evaluated so far (DataFrame; see
        :func:`pareto_front_frame`)."""
        ev = getattr(self, "evaluated_", [])
        return pareto_front_frame(self.space, [e[0] for e in ev], [e[2] for e in ev],
                                  objective_names(self.objective), [e[1] for e in ev])

    def run(self, env: Any, budget: int, seed: int):
        traj = super().run(env, budget, seed)
        self.pareto_front_ = self.pareto_front()
        return traj


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
        return bool(self._params.get("reuse_evaluations", True))

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


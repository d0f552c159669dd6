"""The internal mapper: a seeded, budgeted, deterministic search for a good mapping of one layer.

Budget = mappings evaluated.  A quarter of the budget samples random mappings of the
:class:`.mapping_space.MappingSpace` whose prime factors are *repaired* to fit
the fan-outs (a prime that would overflow a fan-out axis goes to the temporal
loop of the level above instead); the rest hill-climbs from the best feasible
mapping in batches of ``batch`` (each candidate changes one to three parameters of the
incumbent, repaired the same way).  The baseline mapping (everything at the
backing store) is always evaluated first, so a feasible result always exists.
Same (problem, architecture, budget, seed) -> same mapping.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .arch import Architecture
from .evaluate import evaluate_nest
from .mapping_space import MappingSpace
from .problem import Problem

__all__ = ["MapperResult", "map_layer", "OBJECTIVES"]

OBJECTIVES: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "edp": lambda m: m["edp"],
    "energy": lambda m: m["energy_pj"],
    "cycles": lambda m: m["cycles"] + 1e-9 * m["energy_pj"],
}


@dataclass
class MapperResult:
    """Best mapping found: its canonical indices, metrics (floats) and how many mappings were evaluated."""

    indices: np.ndarray
    metrics: dict[str, float]
    evaluated: int
    feasible_fraction: float


def _repair(ms: MappingSpace, idx: np.ndarray) -> np.ndarray:
    """Move prime factors that overflow a fan-out axis to the temporal slot of the level above."""
    idx = idx.copy()
    n = idx.shape[0]
    slot_of_level = {lv: i for i, (_, kind, lv) in enumerate(ms.slots) if kind == "t"}
    limits = np.array([ms.arch.fanouts[lv].mesh_x if kind == "x" else ms.arch.fanouts[lv].mesh_y
                       if kind == "y" else 0 for _, kind, lv in ms.slots], dtype=np.int64)
    spatial = limits > 0
    used = np.ones((n, len(ms.slots)), dtype=np.int64)
    fallback = np.array([slot_of_level[lv] for _, _, lv in ms.slots], dtype=np.int64)
    rows = np.arange(n)
    for p, _, prime in ms._factors:
        slot = idx[:, p]
        over = spatial[slot] & (used[rows, slot] * prime > limits[slot])
        slot = np.where(over, fallback[slot], slot)
        idx[:, p] = slot
        used[rows, slot] *= prime
    return idx


def _score(problem: Problem, arch: Architecture, ms: MappingSpace, idx: np.ndarray, reuse: str,
           objective: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    metrics, reasons, _ = evaluate_nest(problem, arch, ms.nest(idx), reuse)
    score = OBJECTIVES[objective](metrics)
    return np.where(reasons == "", score, np.inf), metrics


def map_layer(problem: Problem, arch: Architecture, budget: int = 1000, seed: int = 0, reuse: str = "exact",
              objective: str = "edp", batch: int = 20, space: MappingSpace | None = None) -> MapperResult:
    """Search ``budget`` mappings of ``problem`` on ``arch`` (see the module docstring)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    ms = space or MappingSpace(problem, arch)
    rng = np.random.default_rng(seed)
    nvec = ms.space.nvec
    base = ms.space.encode(ms.baseline_config())[None, :]
    n_random = max(0, budget // 4 - 1)
    cand = [base, _repair(ms, ms.space.sample_indices(rng, n=n_random))] if n_random else [base]
    idx = np.concatenate(cand, axis=0)
    score, metrics = _score(problem, arch, ms, idx, reuse, objective)
    best = int(np.argmin(score))
    best_idx, best_score = idx[best].copy(), float(score[best])
    best_metrics = {k: float(v[best]) for k, v in metrics.items()}
    done, feasible = idx.shape[0], int(np.isfinite(score).sum())
    while done < budget:
        k = min(batch, budget - done)
        moves = np.repeat(best_idx[None, :], k, axis=0)
        for _ in range(3):
            which = rng.integers(0, len(nvec), size=k)
            take = rng.random(k) < 0.6
            moves[np.arange(k), which] = np.where(take, rng.integers(0, nvec[which]), moves[np.arange(k), which])
        moves = _repair(ms, moves)
        score, metrics = _score(problem, arch, ms, moves, reuse, objective)
        done += k
        feasible += int(np.isfinite(score).sum())
        j = int(np.argmin(score))
        if score[j] < best_score:
            best_idx, best_score = moves[j].copy(), float(score[j])
            best_metrics = {key: float(v[j]) for key, v in metrics.items()}
    return MapperResult(best_idx, best_metrics, done, feasible / max(1, done))

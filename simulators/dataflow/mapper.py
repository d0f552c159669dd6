"""The internal mapper: a seeded search for a low-cost mapping of one layer, budgeted by mappings evaluated.

What it searches is a :class:`.mapping_space.MappingSpace` (tile factors as
slots of prime factors, loop orders, keep/bypass; narrowed by Timeloop
constraints).  The budget counts mappings costed by the model (the same
counting work for every machine), never wall-clock time:

1. *Starts* (``sample_fraction`` of the budget): the baseline (every loop at
   the backing store), half *structured* starts (each fan-out axis filled with
   one dimension, the other primes spread over the temporal levels, outer
   levels more often) and half uniform random mappings, all *repaired* to fit
   the fan-outs (a prime that would overflow a fan-out axis goes to the
   temporal slot of the nearest data level above it).
2. *Evolution* (the rest): a population of the best distinct mappings found
   so far; each round mutates ``batch`` of them -- one or two prime factors move
   to another allowed slot (half the time to the same kind of slot one level
   up or down), two loops of one level swap, a keep/bypass choice flips, in an
   ``imperfect`` space a ``resid_<dim>`` choice is redrawn --
   repairs, costs the batch in one vectorized call and keeps the best.

Deterministic for a given seed and budget.  :func:`map_layer` returns the
best mapping's canonical indices and metrics; with ``space`` any searcher of
the project can drive the same space instead (``DataflowMapping-v0``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .arch import Architecture
from .ert import EnergyTable
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
    """Best mapping found: its canonical indices, metrics (floats), how many mappings were evaluated,
    the feasible fraction and the best objective after each batch (``history``: (evaluated, best))."""

    indices: np.ndarray
    metrics: dict[str, float]
    evaluated: int
    feasible_fraction: float
    history: list


class _Moves:
    """Precomputed move tables of a mapping space (which slot is 'one level up/down', order swaps)."""

    def __init__(self, ms: MappingSpace) -> None:
        self.ms = ms
        arch = ms.arch
        self.nvec = ms.space.nvec
        data_above = []
        for _, kind, lv in ms.slots:
            up = lv
            while up > 0 and arch.levels[up].is_dummy:
                up -= 1
            data_above.append(up)
        t_slot = {lv: i for i, (_, k, lv) in enumerate(ms.slots) if k == "t"}
        self.fallback = np.array([t_slot.get(up, t_slot[min(t_slot)]) for up in data_above], dtype=np.int64)
        self.limits = np.array([arch.fanouts[lv].mesh_x if kind == "x" else arch.fanouts[lv].mesh_y if kind == "y"
                                else 0 for _, kind, lv in ms.slots], dtype=np.int64)
        self.prime_params = np.array([p for p, _, _, _ in ms._factors], dtype=np.int64)
        self.order_params = [(p, lv) for p, lv in ms._order]
        self.keep_params = np.array([p for p, _, _ in ms._keep], dtype=np.int64)
        self.resid_params = [p for p, _, _ in ms._resid]
        # order value <-> tuple, to swap two neighbouring loops
        self.order_look = {}
        for p, lv in ms._order:
            vals = ms._order_values[lv]
            toks = [tuple(v.split(ms.sep)) if ms.sep else tuple(v) for v in vals]
            self.order_look[p] = (toks, {t: i for i, t in enumerate(toks)})
        # for each prime param: its value index per global slot (-1 = not allowed)
        self.value_of = []
        for _, _, _, tab in ms._factors:
            v = np.full(len(ms.slots), -1, dtype=np.int64)
            v[tab] = np.arange(len(tab))
            self.value_of.append(v)
        # neighbour slots: same kind, the next data level up/down (temporal) or any other fan-out axis
        levels = [lv for _, _, lv in ms.slots]
        kinds = [k for _, k, _ in ms.slots]
        self.neighbours = []
        for i in range(len(ms.slots)):
            same = [j for j in range(len(ms.slots)) if j != i and kinds[j] == kinds[i] or
                    (j != i and kinds[i] != "t" and kinds[j] != "t")]
            near = sorted(same, key=lambda j: abs(levels[j] - levels[i]))[:2]
            self.neighbours.append(near or [j for j in range(len(ms.slots)) if j != i])

    def repair(self, idx: np.ndarray) -> np.ndarray:
        """Move prime factors that overflow a fan-out axis to the temporal slot of the data level above."""
        ms = self.ms
        if not ms._factors:
            return idx
        idx = idx.copy()
        n = idx.shape[0]
        rows = np.arange(n)
        used = np.ones((n, len(ms.slots)), dtype=np.int64)
        fixed = ms._fixed
        for s, (_, kind, lv) in enumerate(ms.slots):
            if kind != "t":
                used[:, s] = int(np.prod(fixed["txy".index(kind), lv]))
        for k, (p, _, prime, tab) in enumerate(ms._factors):
            slot = tab[idx[:, p]]
            over = (self.limits[slot] > 0) & (used[rows, slot] * prime > self.limits[slot])
            alt = self.fallback[slot]
            ok = self.value_of[k][alt] >= 0
            slot = np.where(over & ok, alt, slot)
            idx[:, p] = self.value_of[k][slot]
            used[rows, slot] *= prime
        return idx

    def fill_axis(self, row: np.ndarray, rng: np.random.Generator) -> None:
        """Fill one fan-out axis with one dimension: half the time the other dimensions' primes there go
        to the temporal slot above first; then the largest product of the dimension's primes that fits
        the room left moves in (its other primes there move out to the temporal slot above)."""
        ms = self.ms
        axes = [s for s in range(len(ms.slots)) if self.limits[s] > 0]
        if not axes:
            return
        s = axes[int(rng.integers(len(axes)))]
        mine = [k for k in range(len(ms._factors)) if self.value_of[k][s] >= 0]
        dims = sorted({ms._factors[k][1] for k in mine})
        if not dims:
            return
        d = dims[int(rng.integers(len(dims)))]
        _, kind, lv = ms.slots[s]
        room = self.limits[s] // int(np.prod(ms._fixed["txy".index(kind), lv]))
        evict = rng.random() < 0.5
        for k, (p, dd, prime, tab) in enumerate(ms._factors):
            if tab[row[p]] == s and (dd == d or evict) and self.value_of[k][self.fallback[s]] >= 0:
                row[p] = self.value_of[k][self.fallback[s]]
            elif tab[row[p]] == s:
                room //= prime
        cand = [k for k in mine if ms._factors[k][1] == d]
        best, best_set = 1, []
        for m in range(1, 1 << min(len(cand), 12)):
            pick = [cand[i] for i in range(len(cand)) if m >> i & 1]
            prod = int(np.prod([ms._factors[k][2] for k in pick]))
            if best < prod <= room:
                best, best_set = prod, pick
        for k in best_set:
            row[ms._factors[k][0]] = self.value_of[k][s]

    def make_room(self, row: np.ndarray, s: int, moved: int, rng: np.random.Generator) -> None:
        """After prime ``moved`` entered fan-out axis ``s``: while the axis overflows, a random other prime
        there leaves for the temporal slot above (a swap rather than a refused move)."""
        ms = self.ms
        _, kind, lv = ms.slots[s]
        fixed = int(np.prod(ms._fixed["txy".index(kind), lv]))
        there = [k for k, (p, _, _, tab) in enumerate(ms._factors) if tab[row[p]] == s]
        others = [k for k in there if k != moved and self.value_of[k][self.fallback[s]] >= 0]
        rng.shuffle(others)
        use = fixed * int(np.prod([ms._factors[k][2] for k in there]))
        while use > self.limits[s] and others:
            k = others.pop()
            row[ms._factors[k][0]] = self.value_of[k][self.fallback[s]]
            use //= ms._factors[k][2]

    def structured(self, base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` starts built the way a designer would: from ``base`` (everything at the backing store)
        every fan-out axis is filled with one dimension, then each prime stays at the backing store or
        moves to a random temporal slot, inner levels (small buffers) less often."""
        ms = self.ms
        out = np.repeat(base[None, :], n, axis=0)
        axes = [s for s in range(len(ms.slots)) if self.limits[s] > 0]
        for i in range(n):
            for _ in range(len(axes)):
                self.fill_axis(out[i], rng)
            stay = rng.random()
            for k, (p, _, _, tab) in enumerate(ms._factors):
                if self.limits[tab[out[i, p]]] > 0 or rng.random() < stay:
                    continue
                temporal = [j for j in tab if self.limits[j] == 0]
                w = 0.4 ** np.arange(len(temporal))  # outer slots first in the slot list
                out[i, p] = self.value_of[k][temporal[int(rng.choice(len(temporal), p=w / w.sum()))]]
            for p in self.keep_params:
                out[i, p] = int(rng.random() < 0.5)
        return self.repair(out)

    def mutate(self, parents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ms = self.ms
        out = parents.copy()
        n = out.shape[0]
        kinds = rng.random(n)
        for i in range(n):
            r = kinds[i]
            if self.resid_params and r >= 0.9:  # (only imperfect spaces have these: perfect runs are unchanged)
                p = self.resid_params[int(rng.integers(len(self.resid_params)))]
                out[i, p] = 0 if out[i, p] and rng.random() < 0.3 else int(rng.integers(self.nvec[p]))
            elif len(self.prime_params) and r < 0.12:
                self.fill_axis(out[i], rng)
            elif len(self.prime_params) and (r < 0.6 or not (self.order_params or len(self.keep_params))):
                for _ in range(1 + int(rng.random() < 0.35)):
                    k = int(rng.integers(len(self.prime_params)))
                    p = self.prime_params[k]
                    tab = ms._factors[k][3]
                    cur = tab[out[i, p]]
                    if rng.random() < 0.5:
                        cand = [j for j in self.neighbours[cur] if self.value_of[k][j] >= 0]
                        new = cand[int(rng.integers(len(cand)))] if cand else cur
                    else:
                        new = tab[int(rng.integers(len(tab)))]
                    out[i, p] = self.value_of[k][new]
                    if self.limits[new] > 0:
                        self.make_room(out[i], new, k, rng)
            elif self.order_params and (r < 0.85 or not len(self.keep_params)):
                p, _ = self.order_params[int(rng.integers(len(self.order_params)))]
                toks, look = self.order_look[p]
                cur = list(toks[out[i, p]])
                if len(cur) > 1 and rng.random() < 0.7:
                    a = int(rng.integers(len(cur) - 1))
                    cur[a], cur[a + 1] = cur[a + 1], cur[a]
                    out[i, p] = look.get(tuple(cur), out[i, p])  # swaps into the fixed innermost loops are no move
                else:
                    out[i, p] = int(rng.integers(self.nvec[p]))
            elif len(self.keep_params):
                p = self.keep_params[int(rng.integers(len(self.keep_params)))]
                out[i, p] = 1 - out[i, p]
        return self.repair(out)


def map_layer(problem: Problem, arch: Architecture, budget: int = 1000, seed: int = 0, reuse: str = "exact",
              objective: str = "edp", batch: int = 64, space: MappingSpace | None = None,
              table: EnergyTable | None = None, sample_fraction: float = 0.25, population: int = 16,
              restarts: int = 1) -> MapperResult:
    """Search ``budget`` mappings of ``problem`` on ``arch`` (see the module docstring); ``restarts``
    independent searches share the budget evenly (seeds ``seed``, ``seed + 1``, ...) and the best wins."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    ms = space or MappingSpace(problem, arch)
    moves = _Moves(ms)
    restarts = max(1, min(int(restarts), budget))
    results = [_search(problem, arch, ms, moves, budget // restarts + (r < budget % restarts), seed + r, reuse,
                       objective, batch, table, sample_fraction, population) for r in range(restarts)]
    best = min(results, key=lambda res: OBJECTIVES[objective]({k: np.array([v]) for k, v in res.metrics.items()})[0]
               if np.isfinite(res.metrics.get("edp", np.nan)) else np.inf)
    done = sum(r.evaluated for r in results)
    feas = sum(r.feasible_fraction * r.evaluated for r in results) / max(1, done)
    history, offset = [], 0
    for r in results:
        history += [(offset + e, b) for e, b in r.history]
        offset += r.evaluated
    return MapperResult(best.indices, best.metrics, done, feas, history)


def _search(problem: Problem, arch: Architecture, ms: MappingSpace, moves: "_Moves", budget: int, seed: int,
            reuse: str, objective: str, batch: int, table: EnergyTable | None, sample_fraction: float,
            population: int) -> MapperResult:
    """One sampling + evolution search of ``budget`` mappings."""
    rng = np.random.default_rng(seed)

    def score(idx: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        metrics, reasons, _ = evaluate_nest(problem, arch, ms.nest(idx), reuse, table)
        return np.where(reasons == "", OBJECTIVES[objective](metrics), np.inf), metrics

    base = ms.space.encode(ms.baseline_config())[None, :]
    n_start = max(0, min(budget, max(2, int(budget * sample_fraction))) - 1)
    n_struct = (n_start + 1) // 2
    parts = [base, moves.structured(base[0], n_struct, rng)]
    if n_start - n_struct:
        parts.append(moves.repair(ms.space.sample_indices(rng, n=n_start - n_struct)))
    idx = np.concatenate(parts)
    sc, metrics = score(idx)
    done, feasible = idx.shape[0], int(np.isfinite(sc).sum())
    pool_idx, pool_sc = idx, sc
    best = int(np.argmin(sc))
    best_idx, best_sc = idx[best].copy(), float(sc[best])
    best_metrics = {k: float(v[best]) for k, v in metrics.items()}
    history = [(done, best_sc)]

    def select(pidx: np.ndarray, psc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(psc, kind="stable")
        _, first = np.unique(pidx[order], axis=0, return_index=True)
        keep = order[np.sort(first)][:population]
        return pidx[keep], psc[keep]

    pool_idx, pool_sc = select(pool_idx, pool_sc)
    while done < budget:
        k = min(batch, budget - done)
        live = np.isfinite(pool_sc)
        parents = pool_idx[live] if live.any() else pool_idx
        # parents: rank-biased (the best more often)
        w = 1.0 / (1.0 + np.arange(len(parents)))
        pick = rng.choice(len(parents), size=k, p=w / w.sum())
        cand = moves.mutate(parents[pick], rng)
        sc, metrics = score(cand)
        done += k
        feasible += int(np.isfinite(sc).sum())
        j = int(np.argmin(sc))
        if sc[j] < best_sc:
            best_idx, best_sc = cand[j].copy(), float(sc[j])
            best_metrics = {key: float(v[j]) for key, v in metrics.items()}
        pool_idx, pool_sc = select(np.concatenate([pool_idx, cand]), np.concatenate([pool_sc, sc]))
        history.append((done, best_sc))
    return MapperResult(best_idx, best_metrics, done, feasible / max(1, done), history)

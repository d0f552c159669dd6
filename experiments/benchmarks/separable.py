"""A separable synthetic simulator with a known optimum, for the multi-agent searcher.

Ten categorical parameters ``p0..p9`` with eight values each (8**10 ~ 1.1e9
designs).  ``cost = sum_j penalty_j[value_j]``: each parameter contributes its
own term, 0 at its best value and between 1 and 3 elsewhere (a fixed,
seeded table), so the unique optimum is every parameter at its best value
(``cost == 0``; reward 1 under the default objective ``ref / (ref + cost)``,
a monotone function of the sum).  Optionally grouped in pairs (``groups=True``).
Used by the multi-agent searcher's tests (tests/test_marl.py) and benchmark
(:mod:`archgym.experiments.benchmarks.marl`).
"""
from __future__ import annotations

import numpy as np

from archgym.simulator import Metric, Simulator
from archgym.space import Categorical, DesignSpace

N_PARAMS, N_VALUES = 10, 8
_RNG = np.random.default_rng(2211)
PENALTY = _RNG.uniform(1.0, 3.0, size=(N_PARAMS, N_VALUES))
BEST = _RNG.integers(0, N_VALUES, size=N_PARAMS)
PENALTY[np.arange(N_PARAMS), BEST] = 0.0
NAMES = [f"p{j}" for j in range(N_PARAMS)]
OPTIMUM = {n: f"v{int(BEST[j])}" for j, n in enumerate(NAMES)}
PAIRS = {f"pair{k}": [NAMES[2 * k], NAMES[2 * k + 1]] for k in range(N_PARAMS // 2)}


class SeparableSimulator(Simulator):
    name = "Separable"
    version = "1"
    metrics = (Metric("cost", "units", True, "sum of per-parameter penalties (0 at the optimum)", scale=20.0),)
    workload_names = ("default",)
    default_objective = "cost"

    def __init__(self, workload: str = "default", groups: bool = False) -> None:
        self.workload = workload
        params = [Categorical(n, [f"v{i}" for i in range(N_VALUES)]) for n in NAMES]
        self.space = DesignSpace(params, groups=PAIRS if groups else None)

    def reference_config(self) -> dict:
        return {n: "v0" if BEST[j] else "v1" for j, n in enumerate(NAMES)}

    def _evaluate(self, config):
        idx = [int(config[n][1:]) for n in NAMES]
        return {"cost": float(PENALTY[np.arange(N_PARAMS), idx].sum())}

"""Training data for proxy cost models: designs and the metrics a simulator gave them.

Two sources:

* :func:`dataset_from_store` -- every recorded evaluation of an environment in
  a results store (``archgym.store``), deduplicated by design (the first record
  wins: simulators are pure, so repeats carry no information);
* :func:`dataset_from_simulator` -- ``n`` uniformly random designs evaluated
  with ``evaluate_batch`` (seeded).

Both return a :class:`Dataset`: validated design dicts and a DataFrame with
every metric plus ``feasible``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from archgym.simulator import FEASIBLE, Simulator

__all__ = ["Dataset", "dataset_from_store", "dataset_from_simulator"]


@dataclass
class Dataset:
    configs: list[dict]
    results: pd.DataFrame  # metric columns + "feasible"

    def __len__(self) -> int:
        return len(self.configs)

    def split(self, test_fraction: float, seed: int = 0) -> tuple["Dataset", "Dataset"]:
        """Random train/test split (seeded)."""
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        order = np.random.default_rng(seed).permutation(len(self))
        k = int(round(len(self) * (1 - test_fraction)))
        pick = lambda ix: Dataset([self.configs[i] for i in ix], self.results.iloc[ix].reset_index(drop=True))
        return pick(order[:k]), pick(order[k:])


def dataset_from_simulator(sim: Simulator, n: int, seed: int = 0) -> Dataset:
    """``n`` random designs of ``sim``'s space and their metrics."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    configs = [sim.space.decode(i) for i in sim.space.sample_indices(seed, n)]
    df = sim.evaluate_batch(configs)
    return Dataset(configs, df[sim.metric_names + [FEASIBLE]].reset_index(drop=True))


def dataset_from_store(store_path: str | os.PathLike, simulator: Simulator, env_id: str | None = None,
                       study: str | None = None) -> Dataset:
    """Recorded evaluations of ``simulator``'s designs (matched by simulator
    name and, if given, ``env_id``) from a results store."""
    from archgym.store import Store

    with Store(store_path) as st:
        ev = st.evaluations(study)
    if ev.empty:
        raise ValueError(f"store {os.fspath(store_path)!r} holds no completed evaluations")
    ev = ev[ev["simulator"] == simulator.name]
    if env_id is not None:
        ev = ev[ev["env_id"] == env_id]
    if ev.empty:
        raise ValueError(f"store holds no evaluations of simulator {simulator.name!r}")
    cfg_cols = [f"config.{n}" for n in simulator.space.names]
    missing = [c for c in cfg_cols if c not in ev]
    if missing:
        raise ValueError(f"recorded designs lack parameters {missing}; was the store written by another simulator?")
    ev = ev.drop_duplicates(subset=cfg_cols, keep="first").reset_index(drop=True)
    configs: list[dict[str, Any]] = []
    for row in ev[cfg_cols].itertuples(index=False):
        configs.append(simulator.space.validate(dict(zip(simulator.space.names, row))))
    results = ev[simulator.metric_names + ["feasible"]].astype({"feasible": bool}).reset_index(drop=True)
    return Dataset(configs, results)

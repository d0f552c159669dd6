"""Training data for proxy cost models: designs and the metrics a simulator gave them.

Sources:

* :func:`dataset_from_store` -- every recorded evaluation of an environment in
  a results store (``archgym.store``), e.g. searcher trajectories, deduplicated
  by design (the first record wins: simulators are pure, so repeats carry no
  information);
* :func:`dataset_from_simulator` -- ``n`` distinct designs sampled ``uniform``
  (independent uniform indices) or ``lhs`` (a Latin hypercube over the
  canonical encoding: every parameter's values are hit equally often), evaluated
  with ``evaluate_batch`` (seeded).

Both return a :class:`Dataset`: validated design dicts, a DataFrame with every
metric plus ``feasible``, and ``provenance`` (where the rows came from: source,
sampling method, seed, simulator name/version, workload, space fingerprint).

:meth:`Dataset.save` writes an ``.npz`` of plain arrays (index vectors, one
float64 column per metric, ``feasible``) plus the provenance as JSON text;
:meth:`Dataset.load` reads it back with ``allow_pickle=False`` (nothing in the
file can run code) and checks it belongs to the given simulator's space.
"""
from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from archgym.errors import UserInputError
from archgym.simulator import FEASIBLE, Simulator
from archgym.standin import check_identity, simulator_identity

__all__ = ["Dataset", "DatasetError", "SAMPLING", "dataset_from_store", "dataset_from_simulator", "dataset_from_env",
           "sample_designs"]

SAMPLING = ("uniform", "lhs")


class DatasetError(UserInputError):
    """A dataset file, size, split or sampling method a user gave is unusable."""


@dataclass
class Dataset:
    configs: list[dict]
    results: pd.DataFrame  # metric columns + "feasible"
    provenance: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.configs)

    def subset(self, rows: np.ndarray | list[int]) -> "Dataset":
        rows = np.asarray(rows, dtype=np.int64)
        return Dataset([self.configs[i] for i in rows], self.results.iloc[rows].reset_index(drop=True),
                       dict(self.provenance))

    def split(self, test_fraction: float, seed: int = 0) -> tuple["Dataset", "Dataset"]:
        """Random train/test split (seeded)."""
        if not 0 < test_fraction < 1:
            raise DatasetError(f"test_fraction must be in (0, 1), got {test_fraction}")
        order = np.random.default_rng(seed).permutation(len(self))
        k = int(round(len(self) * (1 - test_fraction)))
        return self.subset(order[:k]), self.subset(order[k:])

    def save(self, path: str | os.PathLike, space) -> None:
        """Plain arrays + JSON provenance in an ``.npz`` (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {
            "indices": np.array([space.encode(c) for c in self.configs], dtype=np.int64).reshape(len(self), -1),
            "feasible": self.results[FEASIBLE].to_numpy(bool),
        }
        metrics = [c for c in self.results.columns if c != FEASIBLE]
        for m in metrics:
            arrays[f"metric.{m}"] = self.results[m].to_numpy(np.float64)
        meta = {"format": "archgym-dataset/1", "metrics": metrics, "parameters": space.names,
                "provenance": self.provenance}
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True, default=str))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @staticmethod
    def load(path: str | os.PathLike, sim: Simulator) -> "Dataset":
        """A dataset saved by :meth:`save`, checked against ``sim``'s space."""
        p = os.fspath(path)
        if not os.path.isfile(p):
            raise DatasetError(f"dataset file {p!r} does not exist")
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise DatasetError(f"{p!r} is not an archgym dataset file, or is damaged ({type(exc).__name__})") from None
        if meta.get("format") != "archgym-dataset/1":
            raise DatasetError(f"{p!r} is not an archgym dataset file (format {meta.get('format')!r})")
        prov = meta.get("provenance", {})
        fp = prov.get("space_fingerprint")
        if fp is not None and fp != sim.space.fingerprint():
            raise DatasetError(f"{p!r} was sampled from another design space (fingerprint {fp}, "
                               f"{sim.name}'s is {sim.space.fingerprint()})")
        if "simulator" in prov:  # a dataset labels what it measured: refuse it for anything else
            check_identity(p, {"simulator": {k: prov.get(k) for k in ("simulator", "version", "workload",
                                                                       "space_fingerprint", "workload_sha256")
                                             if k in prov}},
                           sim, None, kind="dataset", verb="sampled", error=DatasetError,
                           remedy="sample a new one with `archgym proxy dataset`")
        idx = arrays["indices"]
        if idx.ndim != 2 or idx.shape[1] != len(sim.space) or np.any(idx < 0) or np.any(idx >= sim.space.nvec):
            raise DatasetError(f"{p!r}: design indices do not fit {sim.name}'s space")
        configs = [sim.space.decode(r) for r in idx]
        cols = {m: arrays[f"metric.{m}"] for m in meta["metrics"]}
        cols[FEASIBLE] = arrays["feasible"].astype(bool)
        return Dataset(configs, pd.DataFrame(cols), meta.get("provenance", {}))


def _lhs_indices(nvec: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Latin hypercube over the index encoding: per parameter, ``n`` strata of
    ``[0, 1)`` in random order, one uniform point per stratum, binned to
    ``floor(u * n_values)``."""
    d = len(nvec)
    u = (rng.permuted(np.tile(np.arange(n), (d, 1)), axis=1).T + rng.random((n, d))) / n
    return np.minimum((u * nvec).astype(np.int64), nvec - 1)


def sample_designs(sim: Simulator, n: int, seed: int = 0, method: str = "uniform",
                   exclude: np.ndarray | None = None) -> np.ndarray:
    """``n`` *distinct* index vectors of ``sim``'s space (fewer if the space is
    smaller), none of them in ``exclude`` (rows of index vectors)."""
    if method not in SAMPLING:
        raise DatasetError(f"unknown sampling method {method!r}; allowed: {', '.join(SAMPLING)}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise DatasetError(f"number of designs must be a positive integer, got {n!r}")
    space = sim.space
    rng = np.random.default_rng(seed)
    target = int(min(n, space.size))
    seen: set[bytes] = set()
    if exclude is not None and len(exclude):
        seen.update(np.ascontiguousarray(exclude, dtype=np.int64).view(f"V{8 * len(space)}").ravel().tolist())
    out: list[np.ndarray] = []
    for _ in range(100):
        want = target - len(out)
        if want <= 0:
            break
        if method == "lhs":  # designs that break a constraint are dropped; the next round tops up
            cand = _lhs_indices(space.nvec, max(want, 1), rng)
            if space.constraints:
                cand = cand[[space.satisfies_constraints(space.decode(r)) for r in cand]]
        else:
            cand = space.sample_indices(rng, max(want, 16))
        for row in cand:
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                out.append(row)
                if len(out) == target:
                    break
    return np.array(out, dtype=np.int64).reshape(len(out), len(space))


def dataset_from_simulator(sim: Simulator, n: int, seed: int = 0, method: str = "uniform",
                           progress: Callable[[list], Any] | None = None, chunk: int = 500) -> Dataset:
    """``n`` distinct sampled designs of ``sim``'s space and their metrics.

    ``progress``: optional wrapper over the list of chunks (e.g. ``tqdm``)."""
    indices = sample_designs(sim, n, seed, method)
    configs = [sim.space.decode(i) for i in indices]
    chunks = [configs[i:i + chunk] for i in range(0, len(configs), chunk)]
    frames = [sim.evaluate_batch(c) for c in (progress(chunks) if progress else chunks)]
    df = pd.concat(frames, ignore_index=True)
    prov = {"source": "simulator", "method": method, "seed": int(seed), "n": len(configs), **simulator_identity(sim)}
    return Dataset(configs, df[sim.metric_names + [FEASIBLE]].reset_index(drop=True), prov)


def dataset_from_env(env: Any, provenance: dict | None = None) -> Dataset:
    """Every distinct design an environment evaluated (its history, first
    evaluation of each) with its metrics, as a dataset."""
    dse = getattr(env, "unwrapped", env)
    sim = dse.simulator
    seen: dict[tuple, dict] = {}
    for r in dse.history:
        seen.setdefault(tuple(sorted(r["config"].items())), r)
    rows = list(seen.values())
    results = pd.DataFrame([{**r["metrics"], FEASIBLE: bool(r["feasible"])} for r in rows],
                           columns=sim.metric_names + [FEASIBLE])
    prov = {"source": "environment history", "n": len(rows), **dict(provenance or {}), **simulator_identity(sim)}
    return Dataset([dict(r["config"]) for r in rows], results, prov)


def dataset_from_store(store_path: str | os.PathLike, simulator: Simulator, env_id: str | None = None,
                       study: str | None = None) -> Dataset:
    """Recorded evaluations of ``simulator``'s designs (matched by simulator
    name and, if given, ``env_id``) from a results store.  Evaluations a proxy
    answered (simulator version ``...+proxy.<hash>``) are left out: a proxy
    is trained on simulations, never on another proxy's predictions."""
    from archgym.store import Store

    with Store(store_path, readonly=True) as st:
        ev = st.evaluations(study)
    if ev.empty:
        raise DatasetError(f"store {os.fspath(store_path)!r} holds no completed evaluations")
    ev = ev[(ev["simulator"] == simulator.name)
            & ~ev["simulator_version"].astype(str).str.contains("+proxy.", regex=False)]
    if env_id is not None:
        ev = ev[ev["env_id"] == env_id]
    if ev.empty:
        raise DatasetError(f"store holds no evaluations of simulator {simulator.name!r}")
    cfg_cols = [f"config.{n}" for n in simulator.space.names]
    missing = [c for c in cfg_cols if c not in ev]
    if missing:
        raise DatasetError(f"recorded designs lack parameters {missing}; was the store written by another simulator?")
    ev = ev.drop_duplicates(subset=cfg_cols, keep="first").reset_index(drop=True)
    configs: list[dict[str, Any]] = []
    for row in ev[cfg_cols].itertuples(index=False):
        configs.append(simulator.space.validate(dict(zip(simulator.space.names, row))))
    results = ev[simulator.metric_names + ["feasible"]].astype({"feasible": bool}).reset_index(drop=True)
    versions = sorted(set(map(str, ev["simulator_version"]))) if "simulator_version" in ev else []
    prov = {"source": "store", "store": os.path.abspath(os.fspath(store_path)), "study": study, "env_id": env_id,
            "n": len(configs), "recorded_versions": versions, **simulator_identity(simulator)}
    return Dataset(configs, results, prov)

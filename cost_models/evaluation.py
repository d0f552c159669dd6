"""How good and how fast is a proxy?  Error per metric, ranking quality, speed-up.

:func:`score_proxy` compares a proxy with the real simulator on held-out designs:

* ``mape``: median absolute percentage error (robust to a few outliers) and
  ``mape_mean`` (mean), over designs both call feasible;
* ``spearman``: rank correlation of predicted vs true values -- what a searcher
  needs is the right *order* of designs;
* ``feasibility_accuracy``: fraction of designs whose feasibility is predicted right;
* ``speedup``: simulator time / proxy time for the same batch (``evaluate_batch``).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from archgym.simulator import FEASIBLE, Simulator

from .dataset import Dataset

__all__ = ["score_proxy"]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return float("nan")
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def score_proxy(proxy: Simulator, simulator: Simulator, test: Dataset, repeats: int = 3) -> dict[str, Any]:
    """Errors and speed-up of ``proxy`` against ``simulator`` on ``test`` designs."""
    t_sim, t_proxy = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        truth = simulator.evaluate_batch(test.configs)
        t_sim.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pred = proxy.evaluate_batch(test.configs)
        t_proxy.append(time.perf_counter() - t0)
    both = truth[FEASIBLE].to_numpy(bool) & pred[FEASIBLE].to_numpy(bool)
    out: dict[str, Any] = {
        "n_test": len(test),
        "feasibility_accuracy": float((truth[FEASIBLE].to_numpy(bool) == pred[FEASIBLE].to_numpy(bool)).mean()),
        "simulator_s": float(np.median(t_sim)),
        "proxy_s": float(np.median(t_proxy)),
    }
    out["speedup"] = out["simulator_s"] / max(out["proxy_s"], 1e-12)
    metrics = {}
    for name in simulator.metric_names:
        y, p = truth[name].to_numpy(float)[both], pred[name].to_numpy(float)[both]
        nz = np.abs(y) > 0
        ape = np.abs(p[nz] - y[nz]) / np.abs(y[nz]) * 100 if nz.any() else np.array([np.nan])
        metrics[name] = {"mape": float(np.median(ape)), "mape_mean": float(np.mean(ape)),
                         "spearman": _spearman(y, p)}
    out["metrics"] = metrics
    return out

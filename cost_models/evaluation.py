"""How good and how fast is a proxy?  Error per metric, ranking quality, speed per call and in batch.

Definitions (over held-out designs that both the simulator and the proxy call
feasible; ``y`` true, ``p`` predicted, ``n`` designs):

* ``rmse_pct``: ``100 * sqrt(mean((p - y)^2)) / mean(|y|)`` -- RMSE as a
  percentage of the mean, the form ArchGym reports (its 0.61 % on DRAMSys);
* ``mape``: ``100 * mean(|p - y| / |y|)`` over ``y != 0``; ``median_ape`` the median;
* ``r2``: ``1 - sum((p - y)^2) / sum((y - mean(y))^2)``;
* ``kendall_tau``: Kendall's tau-b between ``p`` and ``y`` (ranking is what a searcher needs);
* ``top_k_recall``: of the ``k`` best designs by ``y`` (in the metric's better
  direction), the fraction also among the ``k`` best by ``p``;
* ``feasibility_accuracy``: fraction of designs whose feasibility is predicted right.

:func:`score_proxy` adds speed: ``per_call`` (median seconds of one
``evaluate(config)`` call, the path every searcher takes, over ``n_timing``
designs) and ``batch`` (seconds per design of one ``evaluate_batch`` over the
test set; the simulator's batch on the timing designs only, to bound its cost),
and the speed-ups of the proxy over the simulator on both paths, measured in
the same run.

:func:`cross_validate` scores model settings by K-fold held-out RMSE %;
:func:`plot_predictions` draws predicted-vs-simulated scatter plots.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import pandas as pd

from archgym.simulator import FEASIBLE, Metric, Simulator

from .dataset import Dataset

__all__ = ["score_proxy", "score_predictions", "metric_scores", "cross_validate", "plot_predictions"]


def metric_scores(y: np.ndarray, p: np.ndarray, lower_is_better: bool = True, top_k: int = 10) -> dict[str, float]:
    """The error and ranking scores of one metric (see the module docstring)."""
    from scipy.stats import kendalltau

    y, p = np.asarray(y, float), np.asarray(p, float)
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    if len(y) < 2:
        return {k: float("nan") for k in ("rmse_pct", "mape", "median_ape", "r2", "kendall_tau", "top_k_recall")}
    err = p - y
    nz = y != 0
    ape = np.abs(err[nz]) / np.abs(y[nz]) * 100
    ss = float(np.sum((y - y.mean()) ** 2))
    k = int(min(top_k, len(y)))
    sign = 1 if lower_is_better else -1
    best_true = set(np.argsort(sign * y, kind="stable")[:k].tolist())
    best_pred = set(np.argsort(sign * p, kind="stable")[:k].tolist())
    tau = kendalltau(y, p).statistic if np.ptp(y) > 0 and np.ptp(p) > 0 else float("nan")
    mean_abs = float(np.mean(np.abs(y)))
    return {
        "rmse_pct": float(100 * np.sqrt(np.mean(err ** 2)) / mean_abs) if mean_abs > 0 else float("nan"),
        "mape": float(ape.mean()) if ape.size else float("nan"),
        "median_ape": float(np.median(ape)) if ape.size else float("nan"),
        "r2": float(1 - np.sum(err ** 2) / ss) if ss > 0 else float("nan"),
        "kendall_tau": float(tau),
        "top_k_recall": len(best_true & best_pred) / k,
    }


def score_predictions(truth: pd.DataFrame, pred: pd.DataFrame, metrics: Sequence[Metric],
                      top_k: int = 10) -> dict[str, Any]:
    """Scores of predicted vs true metric frames (rows aligned)."""
    tf, pf = truth[FEASIBLE].to_numpy(bool), pred[FEASIBLE].to_numpy(bool)
    both = tf & pf
    out: dict[str, Any] = {"n_test": int(len(truth)), "n_scored": int(both.sum()),
                           "feasibility_accuracy": float((tf == pf).mean()), "top_k": int(top_k), "metrics": {}}
    for m in metrics:
        out["metrics"][m.name] = metric_scores(truth[m.name].to_numpy(float)[both], pred[m.name].to_numpy(float)[both],
                                               m.lower_is_better, top_k)
    return out


def _median_call_s(sim: Simulator, configs: Sequence[dict], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        for c in configs:
            t0 = time.perf_counter()
            sim.evaluate(c)
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def score_proxy(proxy: Simulator, simulator: Simulator, test: Dataset, truth: pd.DataFrame | None = None,
                n_timing: int = 50, repeats: int = 3, top_k: int = 10) -> dict[str, Any]:
    """Errors of ``proxy`` against ``simulator`` on ``test`` designs, and speed.

    ``truth``: the simulator's results for ``test`` if already known (e.g. the
    dataset's own ``results``); otherwise they are simulated here."""
    if truth is None:
        truth = simulator.evaluate_batch(test.configs)
    pred = proxy.evaluate_batch(test.configs)
    out = score_predictions(truth.reset_index(drop=True), pred, simulator.metrics, top_k)
    timing = test.configs[: max(1, min(n_timing, len(test)))]
    proxy.evaluate(timing[0])  # warm (compilation, caches)
    sim_call = _median_call_s(simulator, timing, 1)
    proxy_call = _median_call_s(proxy, timing, repeats)
    batch = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proxy.evaluate_batch(test.configs)
        batch.append((time.perf_counter() - t0) / len(test))
    t0 = time.perf_counter()
    simulator.evaluate_batch(timing)
    sim_batch = (time.perf_counter() - t0) / len(timing)
    proxy_batch = float(np.median(batch))
    out["speed"] = {
        "simulator_per_call_s": sim_call, "proxy_per_call_s": proxy_call,
        "per_call_speedup": sim_call / max(proxy_call, 1e-12),
        "simulator_batch_s_per_design": sim_batch, "proxy_batch_s_per_design": proxy_batch,
        "proxy_batch_designs_per_s": 1.0 / max(proxy_batch, 1e-12),
        "batch_speedup": sim_batch / max(proxy_batch, 1e-12),
        "n_timing": len(timing),
    }
    return out


def cross_validate(sim: Simulator, data: Dataset, params: dict, folds: int, seed: int = 0) -> float:
    """Mean over folds and metrics of the held-out RMSE % of the mean of a
    :class:`~.proxy.ProxyModel` with ``params`` (``folds`` >= 2, at most one
    fold per design)."""
    from .proxy import ProxyModel, ProxyModelError

    if not 2 <= folds <= len(data):
        raise ProxyModelError(f"cross-validation needs 2 to {len(data)} folds (one design per fold at least), "
                              f"got {folds}")
    order = np.random.default_rng(seed).permutation(len(data))
    scores = []
    for f in range(folds):
        test_rows = order[f::folds]
        train = data.subset(np.setdiff1d(order, test_rows))
        test = data.subset(test_rows)
        model = ProxyModel(**params).fit(sim.space, sim.metrics, train)
        s = score_predictions(test.results, model.predict(test.configs), sim.metrics)
        scores.extend(v["rmse_pct"] for v in s["metrics"].values() if np.isfinite(v["rmse_pct"]))
    return float(np.mean(scores)) if scores else float("inf")


def plot_predictions(proxy: Simulator, sim: Simulator, data: Dataset, out_dir: str) -> list[str]:
    """One predicted-vs-simulated scatter plot per metric (``<metric>.png``) in
    ``out_dir``; returns the paths.  Each carries a title with the metric's
    unit, the held-out RMSE (% of the mean) and the number of designs; axes are
    logarithmic (labelled at 1, 2, 5 per decade when few decades) for positive
    metrics spanning more than two decades, else linear with at most five
    ticks; the legend sits below the axes."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    os.makedirs(out_dir, exist_ok=True)
    pred = proxy.evaluate_batch(data.configs)
    units = {m.name: m.unit for m in sim.metrics}
    files = []
    for name in sim.metric_names:
        y, p = data.results[name].to_numpy(float), pred[name].to_numpy(float)
        ok = np.isfinite(y) & np.isfinite(p)
        y, p = y[ok], p[ok]
        fig, ax = plt.subplots(figsize=(4.6, 4.6))
        ax.scatter(y, p, s=6, alpha=0.5, label=f"held-out designs ({len(y)})")
        if len(y):
            lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="predicted = simulated")
            log = lo > 0 and hi / lo > 100
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
            for axis in (ax.xaxis, ax.yaxis):
                if log:
                    subs = (1.0, 2.0, 5.0) if hi / lo <= 20 else (1.0, 3.0) if hi / lo <= 2000 else (1.0,)
                    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
                    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
                    axis.set_minor_formatter(ticker.NullFormatter())
                else:
                    axis.set_major_locator(ticker.MaxNLocator(5))
            if not log:
                ax.ticklabel_format(style="sci", scilimits=(-3, 4), useMathText=True)
        rmse = metric_scores(y, p)["rmse_pct"]
        unit = f" [{units[name]}]" if units.get(name) else ""
        ax.set_xlabel(f"simulated {name}{unit}")
        ax.set_ylabel(f"proxy {name}{unit}")
        ax.set_title(f"{proxy.name} proxy vs simulator: {name}\nRMSE {rmse:.3g} % of the mean, "
                     f"{len(y)} designs", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=7, frameon=False)
        files.append(os.path.join(out_dir, f"{name}.png"))
        fig.savefig(files[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    return files

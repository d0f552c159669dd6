"""Matplotlib figures (Agg backend, PNG) from the frames of :mod:`.analysis`.

Each function takes already-computed numbers, draws one figure, saves it to
``path`` and returns the path; none reads the store.  Reward axes switch to a
symmetric-log scale when rewards span more than three decades (ArchGym's
compat reward is unbounded).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["plot_curves", "plot_lottery", "plot_front", "plot_hypervolume", "plot_wall_times", "plot_regret"]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _colors(names: Sequence[str]) -> dict:
    plt = _plt()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if len(names) > len(cycle):  # more lines than the default cycle: 20 distinct colours
        cycle = [plt.get_cmap("tab20")(i) for i in range(20)]
    return {n: cycle[i % len(cycle)] for i, n in enumerate(names)}


def _maybe_symlog(ax, values: np.ndarray) -> None:
    v = np.abs(np.asarray(values, dtype=np.float64))
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / max(v.min(), 1e-12) > 1e3:
        ax.set_yscale("symlog", linthresh=1.0)


def _focus(ax, curve: pd.DataFrame) -> None:
    """Zoom the reward axis on the curves past the first 10% of the budget, where
    searchers differ (the first few evaluations, often infeasible, would
    otherwise flatten everything); bands are clipped, not dropped."""
    if ax.get_yscale() != "linear" or curve.empty:
        return
    start = max(2, int(0.1 * curve["evaluations"].max()))
    late = curve[curve["evaluations"] >= start]
    if late.empty:
        return
    lo, hi = float(late["mean"].min()), float(late["mean"].max())
    band_hi = float(np.nanmax(late["ci_high"].to_numpy(dtype=float), initial=hi))
    hi = max(hi, min(band_hi, hi + (hi - lo)))
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi) * 0.05, 1e-3)
    ax.set_ylim(lo - pad, hi + pad)


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _agent_bands(curve: pd.DataFrame, ylabel: str, title: str, path: str, *, symlog: bool = False,
                 nonnegative: bool = False, legend_title: str = "mean, 95% CI band", logx: bool = False,
                 linthresh: float | None = None) -> str:
    """One line per agent (``mean`` vs ``evaluations``) with its 95% CI band
    (``ci_low``..``ci_high``) where more than one trial backs it."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colors = _colors(list(dict.fromkeys(curve["agent"])))
    for agent, g in curve.groupby("agent", sort=False):
        n = int(g["n"].iloc[0])
        ax.plot(g["evaluations"], g["mean"], color=colors[agent], label=f"{agent} (n={n})")
        if n > 1:
            ax.fill_between(g["evaluations"], g["ci_low"], g["ci_high"], color=colors[agent], alpha=0.2, lw=0)
    if symlog:
        _maybe_symlog(ax, curve["mean"].to_numpy())
    if logx:
        ax.set_xscale("log")
        if linthresh:  # log-like y that still shows 0 (symmetric log, linear below linthresh)
            ax.set_yscale("symlog", linthresh=linthresh)
    else:
        _focus(ax, curve)
    if nonnegative:
        ax.set_ylim(bottom=max(ax.get_ylim()[0], 0.0))
    ax.set_xlabel("simulator evaluations")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title=legend_title, title_fontsize=8)
    return _save(fig, path)


def plot_regret(curve: pd.DataFrame, title: str, path: str) -> str:
    """Regret vs evaluations (log axis), one line per searcher: the median over
    seeds (``mean`` column) with its bootstrap 95% CI band; the y axis is
    logarithmic down to 1e-3 and linear below, so a regret of 0 is drawn."""
    return _agent_bands(curve, "regret (best known - best found)", title, path, nonnegative=True,
                        legend_title="median, bootstrap 95% CI", logx=True, linthresh=1e-3)


def plot_curves(curve: pd.DataFrame, title: str, path: str) -> str:
    """Best reward vs evaluations, one line per agent with its 95% CI band."""
    return _agent_bands(curve, "best reward so far", title, path, symlog=True)


def plot_lottery(table: pd.DataFrame, title: str, path: str) -> str:
    """Hyperparameter lottery: per agent and budget, a box (plus points) over the
    agent's settings of the best reward reached (mean over seeds)."""
    plt = _plt()
    agents = list(dict.fromkeys(table["agent"]))
    budgets = sorted(table["budget"].unique())
    colors = _colors([str(b) for b in budgets])
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(agents) * len(budgets) ** 0.5), 4.2))
    width = 0.8 / len(budgets)
    rng = np.random.default_rng(0)
    for i, agent in enumerate(agents):
        for j, b in enumerate(budgets):
            x = table[(table["agent"] == agent) & (table["budget"] == b)]["best_reward"].to_numpy()
            pos = i + (j - (len(budgets) - 1) / 2) * width
            bp = ax.boxplot([x], positions=[pos], widths=width * 0.85, patch_artist=True, showfliers=False)
            for patch in bp["boxes"]:
                patch.set(facecolor=colors[str(b)], alpha=0.45)
            ax.scatter(pos + rng.uniform(-width / 5, width / 5, len(x)), x, s=9, color=colors[str(b)],
                       edgecolor="k", linewidth=0.3, zorder=3)
    for b in budgets:
        ax.plot([], [], "s", color=colors[str(b)], alpha=0.6, label=f"{b} evaluations")
    ax.set_xticks(range(len(agents)))
    ax.set_xticklabels(agents)
    _maybe_symlog(ax, table["best_reward"].to_numpy())
    ax.set_ylabel("best reward (mean over seeds)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, title="budget", title_fontsize=8)
    return _save(fig, path)


def plot_front(fronts: dict[str, pd.DataFrame], metrics: Sequence[str], title: str, path: str) -> str:
    """Each agent's non-dominated designs in the space of the first two objective
    metrics (raw values; pooled over the agent's trials)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    colors = _colors(list(fronts))
    mx, my = metrics[0], metrics[1] if len(metrics) > 1 else metrics[0]
    for agent, f in fronts.items():
        if f.empty:
            continue
        f = f.sort_values(mx)
        ax.plot(f[mx], f[my], marker="o", ms=4, color=colors[agent], label=f"{agent} ({len(f)} designs)",
                drawstyle="steps-post" if len(metrics) == 2 else "default",
                ls="-" if len(metrics) == 2 else "none")
    ax.set_xlabel(mx)
    ax.set_ylabel(my)
    ax.set_title(title + ("" if len(metrics) <= 2 else f" (first 2 of {len(metrics)} objectives)"), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_hypervolume(curve: pd.DataFrame, title: str, path: str) -> str:
    """Hypervolume (objective-score space, origin reference) vs evaluations
    (never negative, so the axis starts at 0 at the lowest)."""
    return _agent_bands(curve, "hypervolume", title, path, nonnegative=True)


def plot_wall_times(table: pd.DataFrame, path: str) -> str:
    """Mean wall time per trial and agent, split into simulator and searcher time
    (``table`` from ``analysis.wall_times(data, by_problem=False)``)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.45 * len(table)))
    y = np.arange(len(table))
    sim = table["simulator_s"].to_numpy(dtype=float)
    own = np.maximum(table["wall_s"].to_numpy(dtype=float) - sim, 0)
    ax.barh(y, sim, color="#4c72b0", label="in simulator")
    ax.barh(y, own, left=sim, color="#dd8452", label="searcher + env overhead")
    err = table["wall_ci95"].to_numpy(dtype=float)
    ax.errorbar(table["wall_s"], y, xerr=np.where(np.isfinite(err), err, 0), fmt="none", ecolor="k", capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels(table["agent"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mean wall time per trial (s), 95% CI")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8)
    return _save(fig, path)

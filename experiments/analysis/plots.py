"""Matplotlib figures (Agg backend, PNG) from the frames of :mod:`.study`.

Each function takes already-computed numbers, draws one figure, saves it to
``path`` and returns the path; none reads the store.  The rules every figure
follows, so a reader can use it:

* **legends outside the data** (to the right of the axes);
* **every curve from its start**: the value axis is never zoomed past the
  first evaluations; rewards spanning more than three decades get a log axis
  (symmetric log when some are <= 0, linear around zero); when an early
  infeasible design (reward -1) flattens the rest, a second panel zooms on
  the later evaluations, titled as a zoom;
* **uncertainty inside the attainable range**: bands are percentile-bootstrap
  intervals (:func:`.study.bootstrap_ci`), which stay within what the trials
  reached; with fewer than :data:`.study.BAND_MIN_TRIALS` trials the trials
  themselves are drawn (thin lines) instead of a band;
* bars and their error bars never cross zero;
* log axes carry labelled ticks at 1, 2 and 5 per decade when they span few
  decades, so at least three values are readable;
* a title and the unit on every value axis;
* more than :data:`SMALL_MULTIPLES_ABOVE` searchers become small multiples:
  one panel per searcher, ordered best first, its curve in colour over every
  other searcher's in grey.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from .study import BAND_MIN_TRIALS

__all__ = ["plot_curves", "plot_lottery", "plot_front", "plot_hypervolume", "plot_wall_times", "plot_regret",
           "SMALL_MULTIPLES_ABOVE"]

#: a curve figure with more searchers than this is drawn as small multiples
SMALL_MULTIPLES_ABOVE = 8
OTHERS_GREY = "0.78"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _colors(names: Sequence[str]) -> dict:
    """Distinct colours: the default cycle up to 10 names, tab20's darker half first beyond
    (so neighbours in the legend are never a pale/dark pair of one hue)."""
    plt = _plt()
    if len(names) <= 10:
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    else:
        cmap = plt.get_cmap("tab20")
        cycle = [cmap(i) for i in range(0, 20, 2)] + [cmap(i) for i in range(1, 20, 2)]
    return {n: cycle[i % len(cycle)] for i, n in enumerate(names)}


def _save(fig, path: str) -> str:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return path


def _legend_outside(ax, title: str | None = None, **kw) -> None:
    """The legend to the right of the axes, never over the data."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8, frameon=False,
                  title=title, title_fontsize=8, **kw)


# --------------------------------------------------------------------------- axes
def _plain(v: float, _pos=None) -> str:
    if v == 0:
        return "0"
    return f"{v:g}" if 1e-4 <= abs(v) < 1e5 else f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


def _decades(lo: float, hi: float) -> float:
    return math.log10(hi / lo) if lo > 0 and hi > 0 else math.inf


def _log_ticks(axis, lo: float, hi: float, linthresh: float | None = None) -> None:
    """Labelled ticks on a log (or symlog) axis, as many as fit: 1, 2 and 5 per
    decade up to 1.3 decades, 1 and 3 up to 3.3, else one per decade (with
    unlabelled minor ticks); plain numbers as labels."""
    from matplotlib import ticker

    span = _decades(max(lo, linthresh or lo), hi)
    subs = (1.0, 2.0, 5.0) if span <= 1.3 else (1.0, 3.0) if span <= 3.3 else (1.0,)
    if linthresh is None:
        axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
        axis.set_minor_locator(ticker.LogLocator(base=10, subs=np.arange(2, 10)))
        axis.set_minor_formatter(ticker.NullFormatter())
    else:
        axis.set_major_locator(ticker.SymmetricalLogLocator(base=10, linthresh=linthresh, subs=subs))
    axis.set_major_formatter(ticker.FuncFormatter(_plain))


Scale = dict  # axis ("x" or "y") -> (scale name, linthresh or None, low, high): see _value_scale


def _value_scale(values: np.ndarray) -> Scale:
    """A log value axis for unbounded rewards (ArchGym's compat reward): when
    the largest magnitude exceeds 10 and is more than 100x the 10th percentile
    of the non-zero magnitudes.  Symmetric log when some values are <= 0
    (linear within the decade of that percentile); else linear (bounded
    rewards in [-1, 1] always are).  The limits cover every value."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    mag = np.abs(v[v != 0])
    if len(mag) == 0 or mag.max() <= 10:
        return {}
    low = float(np.percentile(mag, 10))
    if mag.max() <= 100 * low:
        return {}
    if v.min() > 0:
        return {"y": ("log", None, float(v.min()), float(v.max()))}
    linthresh = 10.0 ** math.floor(math.log10(low))
    return {"y": ("symlog", linthresh, linthresh, float(mag.max()))}


def _regret_scale(values: np.ndarray, horizon: int) -> Scale:
    """Regret axes: evaluations on a log axis; regret on a symmetric log axis,
    linear below ``linthresh`` so that a regret of 0 is drawn (``linthresh`` is
    two decades below the largest regret's decade)."""
    out: Scale = {"x": ("log", None, 1.0, float(max(horizon, 2)))}
    v = np.asarray(values, dtype=np.float64)
    top = float(np.nanmax(v[np.isfinite(v)], initial=0.0))
    if top > 0:
        linthresh = 10.0 ** (math.floor(math.log10(top)) - 2)
        out["y"] = ("symlog", linthresh, linthresh, top)
    return out


def _apply_scale(axes: Sequence, scale: Scale) -> None:
    """Set the scales on every axes first (a shared axis resets its siblings'
    tick locators when its scale is set), then each one's ticks."""
    for ax in axes:
        for which, (name, linthresh, _, _) in scale.items():
            kw = {"linthresh": linthresh} if name == "symlog" else {}
            getattr(ax, f"set_{which}scale")(name, **kw)
    for ax in axes:
        for which, (_, linthresh, lo, hi) in scale.items():
            _log_ticks(getattr(ax, f"{which}axis"), lo, hi, linthresh)


def _drawn_trials(curve: pd.DataFrame, trials: pd.DataFrame | None) -> pd.DataFrame | None:
    """The trials a figure draws: those of searchers with fewer than BAND_MIN_TRIALS."""
    if trials is None or not len(trials):
        return None
    few = curve.groupby("agent")["n"].max()
    return trials[trials["agent"].isin(few[few < BAND_MIN_TRIALS].index)]


def _all_values(curve: pd.DataFrame, trials: pd.DataFrame | None) -> np.ndarray:
    """Every value a curve figure draws (centre lines, bands, drawn trials)."""
    parts = [curve[c].to_numpy(dtype=np.float64) for c in ("mean", "ci_low", "ci_high") if c in curve]
    if trials is not None and len(trials):
        parts.append(trials["value"].to_numpy(dtype=np.float64))
    return np.concatenate(parts) if parts else np.array([])


# --------------------------------------------------------------------------- curves with uncertainty
def _draw_agent(ax, g: pd.DataFrame, runs: pd.DataFrame | None, color, label: str | None, lw: float = 1.6,
                zorder: int = 3) -> None:
    """One searcher: its centre line, and its band (>= BAND_MIN_TRIALS trials)
    or its trials as thin lines (fewer)."""
    n = int(g["n"].max())
    if n >= BAND_MIN_TRIALS:
        ax.fill_between(g["evaluations"], g["ci_low"], g["ci_high"], color=color, alpha=0.18, lw=0, zorder=zorder - 1)
    elif runs is not None and len(runs):
        for _, r in runs.groupby("trial", sort=False):
            ax.plot(r["evaluations"], r["value"], color=color, lw=0.7, alpha=0.45, zorder=zorder - 1)
    ax.plot(g["evaluations"], g["mean"], color=color, lw=lw, label=label, zorder=zorder)


def _zoom_range(curve: pd.DataFrame) -> tuple[int, float, float] | None:
    """(first evaluation, low, high) of a zoom on the curves past the first 10 %
    of the budget, when there they span less than a third of the full axis
    (an early infeasible design, reward -1, flattens everything after it);
    None when the full axis already shows them apart."""
    horizon = int(curve["evaluations"].max())
    start = max(2, int(0.1 * horizon))
    late = curve[curve["evaluations"] >= start]["mean"].to_numpy(dtype=np.float64)
    every = np.concatenate([curve[c].to_numpy(dtype=np.float64) for c in ("mean", "ci_low", "ci_high")])
    if horizon < 10 or not len(late) or not np.isfinite(every).any():
        return None
    lo, hi = float(np.nanmin(late)), float(np.nanmax(late))
    full = float(np.nanmax(every) - np.nanmin(every))
    if full <= 0 or hi - lo >= full / 3:
        return None
    pad = 0.1 * (hi - lo) if hi > lo else max(abs(hi) * 0.02, 1e-3)
    return start, lo - pad, hi + pad


def _order(curve: pd.DataFrame, lower_is_better: bool) -> tuple[list[str], int]:
    """Searchers ordered best first by the centre value at the largest
    evaluation count every searcher reached; returns (order, that count)."""
    common = int(curve.groupby("agent")["evaluations"].max().min())
    at = curve[curve["evaluations"] <= common].sort_values("evaluations").groupby("agent", sort=False).last()["mean"]
    names = list(dict.fromkeys(curve["agent"]))
    key = {a: (at.get(a, math.nan) if lower_is_better else -at.get(a, math.nan)) for a in names}
    return sorted(names, key=lambda a: (math.inf if math.isnan(key[a]) else key[a], names.index(a))), common


def _band_note(curve: pd.DataFrame, centre: str) -> str:
    n = curve.groupby("agent")["n"].max()
    parts = []
    if (n >= BAND_MIN_TRIALS).any():
        parts.append(f"band: bootstrap 95% CI of the {centre}")
    if (n < BAND_MIN_TRIALS).any():
        parts.append(f"thin lines: each run (< {BAND_MIN_TRIALS} runs)")
    return "\n".join(parts)


def _curve_figure(curve: pd.DataFrame, trials: pd.DataFrame | None, *, title: str, ylabel: str, centre: str,
                  regret: bool = False, lower_is_better: bool = False, nonnegative: bool = False) -> object:
    """A curve figure: one axes with the legend outside, or small multiples
    beyond :data:`SMALL_MULTIPLES_ABOVE` searchers."""
    plt = _plt()
    names = list(dict.fromkeys(curve["agent"]))
    horizon = int(curve["evaluations"].max()) if len(curve) else 1
    trials = _drawn_trials(curve, trials)
    values = _all_values(curve, trials)
    note = _band_note(curve, centre)
    runs_of = (lambda a: trials[trials["agent"] == a]) if trials is not None else (lambda a: None)

    scale = _regret_scale(values, horizon) if regret else _value_scale(values)

    def finish(axes) -> None:
        _apply_scale(axes, scale)
        for ax in axes:
            ax.grid(alpha=0.3, which="major")
            if regret and "y" in scale or nonnegative:
                ax.set_ylim(bottom=0.0 if regret else max(ax.get_ylim()[0], 0.0))

    if len(names) <= SMALL_MULTIPLES_ABOVE:
        zoom = None if regret or "y" in scale else _zoom_range(curve)
        fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(11.5 if zoom else 7.0, 4.2), squeeze=False)
        colors = _colors(names)
        for ax in axes[0]:
            for agent, g in curve.groupby("agent", sort=False):
                _draw_agent(ax, g, runs_of(agent), colors[agent], f"{agent} (n={int(g['n'].max())})")
            ax.set_xlabel("simulator evaluations")
        ax = axes[0][0]
        finish([ax])
        ax.set_ylabel(ylabel)
        if zoom:
            fig.suptitle(title, fontsize=10)
            ax.set_title("all evaluations", fontsize=9)
        else:
            ax.set_title(title, fontsize=10)
        if zoom:
            start, lo, hi = zoom
            z = axes[0][1]
            z.set_xlim(start, horizon)
            z.set_ylim(lo, hi)
            z.grid(alpha=0.3)
            z.set_title(f"zoom: evaluations {start}-{horizon} (clipped to this range)", fontsize=9)
        _legend_outside(axes[0][-1], title=f"{centre} over runs" + (f"\n{note}" if note else ""))
        fig.tight_layout()
        return fig
    order, common = _order(curve, lower_is_better)
    ncols = 5 if len(order) > 12 else 4
    nrows = math.ceil(len(order) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.7 * ncols, 2.2 * nrows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    groups = dict(tuple(curve.groupby("agent", sort=False)))
    for i, agent in enumerate(order):
        ax = axes.flat[i]
        for other in order:
            if other != agent:
                ax.plot(groups[other]["evaluations"], groups[other]["mean"], color=OTHERS_GREY, lw=0.7, zorder=1)
        _draw_agent(ax, groups[agent], runs_of(agent), "#1f4e9c", None, lw=1.8)
        ax.set_title(f"#{i + 1} {agent} (n={int(groups[agent]['n'].max())})", fontsize=9)
        ax.tick_params(labelsize=7)
    finish(list(axes.flat[:len(order)]))
    for ax in axes.flat[len(order):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("simulator evaluations", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel.split(" (")[0], fontsize=8)
    for ax in axes.flat[:len(order)]:  # sharex hides labels of the last row's upper neighbours
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.suptitle(f"{title}; y: {ylabel}\n{centre} over runs in blue, the other searchers' {centre}s in grey; panels ordered by "
                 f"the {centre} at {common} evaluations\n{note.replace(chr(10), '; ')}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_curves(curve: pd.DataFrame, title: str, path: str, trials: pd.DataFrame | None = None) -> str:
    """Best reward vs evaluations, one line per agent (the mean over its
    trials) with its bootstrap band, or its trials (``trials``, a
    :func:`.study.trial_curves` frame) when it has fewer than
    :data:`.study.BAND_MIN_TRIALS`."""
    fig = _curve_figure(curve, trials, title=f"Best reward so far: {title}", ylabel="best reward so far (unitless)",
                        centre="mean")
    return _save(fig, path)


def plot_regret(curve: pd.DataFrame, title: str, path: str, trials: pd.DataFrame | None = None) -> str:
    """Regret vs evaluations (log axes), one line per searcher: the median over
    seeds (``mean`` column) with its bootstrap band, or its runs (``trials``)
    with fewer than :data:`.study.BAND_MIN_TRIALS` seeds; a regret of 0 is drawn.
    More than :data:`SMALL_MULTIPLES_ABOVE` searchers: small multiples."""
    fig = _curve_figure(curve, trials, title=f"Regret: {title}",
                        ylabel="regret (best known - best found)", centre="median", regret=True,
                        lower_is_better=True)
    return _save(fig, path)


def plot_hypervolume(curve: pd.DataFrame, title: str, path: str, trials: pd.DataFrame | None = None) -> str:
    """Hypervolume (objective-score space, origin reference) vs evaluations,
    as :func:`plot_curves` (never negative, so the axis starts at 0 at the lowest)."""
    fig = _curve_figure(curve, trials, title=f"Hypervolume: {title}", ylabel="hypervolume (score units)",
                        centre="mean", nonnegative=True)
    return _save(fig, path)


# --------------------------------------------------------------------------- other figures
def plot_lottery(table: pd.DataFrame, title: str, path: str) -> str:
    """Hyperparameter lottery: per agent and budget, a box (plus points) over the
    agent's settings of the best reward reached (mean over seeds)."""
    plt = _plt()
    agents = list(dict.fromkeys(table["agent"]))
    budgets = sorted(table["budget"].unique())
    colors = _colors([str(b) for b in budgets])
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(agents) * len(budgets) ** 0.5), 4.2))
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
    ax.set_xticklabels(agents, rotation=30 if len(agents) > 5 else 0, ha="right" if len(agents) > 5 else "center")
    _apply_scale([ax], _value_scale(table["best_reward"].to_numpy()))
    ax.set_ylabel("best reward, mean over seeds (unitless)")
    ax.set_title(f"Hyperparameter lottery: {title}\none point per setting; boxes: quartiles over settings",
                 fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    _legend_outside(ax, title="budget")
    return _save(fig, path)


def _metric_scale(which: str, values: np.ndarray) -> Scale:
    """A log axis for positive metrics spanning more than two decades."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) and v.min() > 0 and _decades(v.min(), v.max()) > 2:
        return {which: ("log", None, float(v.min()), float(v.max()))}
    return {}


def plot_front(fronts: dict[str, pd.DataFrame], metrics: Sequence[str], title: str, path: str,
               units: dict[str, str] | None = None) -> str:
    """Each agent's non-dominated designs in the space of the first two objective
    metrics (raw values, pooled over the agent's trials); ``units`` labels the axes."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    colors = _colors(list(fronts))
    mx, my = metrics[0], metrics[1] if len(metrics) > 1 else metrics[0]
    xs, ys = [], []
    for agent, f in fronts.items():
        if f.empty:
            continue
        f = f.sort_values(mx)
        xs.append(f[mx].to_numpy(dtype=float))
        ys.append(f[my].to_numpy(dtype=float))
        ax.plot(f[mx], f[my], marker="o", ms=4, color=colors[agent], label=f"{agent} ({len(f)} designs)",
                drawstyle="steps-post" if len(metrics) == 2 else "default",
                ls="-" if len(metrics) == 2 else "none")
    if xs:
        _apply_scale([ax], {**_metric_scale("x", np.concatenate(xs)), **_metric_scale("y", np.concatenate(ys))})
    units = units or {}
    ax.set_xlabel(f"{mx} [{units[mx]}]" if units.get(mx) else mx)
    ax.set_ylabel(f"{my} [{units[my]}]" if units.get(my) else my)
    more = "" if len(metrics) <= 2 else f" (first 2 of {len(metrics)} objectives)"
    ax.set_title(f"Pareto fronts: {title}{more}", fontsize=10)
    ax.grid(alpha=0.3)
    _legend_outside(ax, title="non-dominated designs")
    return _save(fig, path)


def plot_wall_times(table: pd.DataFrame, path: str) -> str:
    """Mean wall time per trial and agent, split into simulator and searcher time
    (``table`` from ``study.wall_times(data, by_problem=False)``), with the
    bootstrap 95% CI of the mean (within the trials' range, so never below zero)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(table)))
    y = np.arange(len(table))
    wall = table["wall_s"].to_numpy(dtype=float)
    sim = np.clip(table["simulator_s"].to_numpy(dtype=float), 0, None)
    own = np.maximum(wall - sim, 0)
    ax.barh(y, sim, color="#4c72b0", label="in the simulator")
    ax.barh(y, own, left=sim, color="#dd8452", label="searcher + env overhead")
    lo = table["wall_ci_low"].to_numpy(dtype=float)
    hi = table["wall_ci_high"].to_numpy(dtype=float)
    ax.errorbar(wall, y, xerr=[np.nan_to_num(wall - lo), np.nan_to_num(hi - wall)], fmt="none", ecolor="k",
                capsize=3, label="bootstrap 95% CI of the mean")
    ax.set_yticks(y)
    ax.set_yticklabels(table["agent"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("wall time per trial (s), mean over trials")
    ax.set_title("Wall time per trial", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    _legend_outside(ax)
    return _save(fig, path)

"""Figures a reader can use: one of each kind rendered from a small real store
(:mod:`small_store`), each checked against the rules of
:mod:`archgym.experiments.analysis.plots` on the drawn matplotlib figure:

* the legend sits outside every axes;
* the value range shows every drawn line from its first point;
* bands lie inside the range the runs reached; searchers with fewer than five
  runs get their runs drawn, not a band;
* bars and error bars stay at or above zero;
* log axes show at least three tick labels;
* every figure has a title and every value axis a label with its unit.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import small_store
from archgym.experiments.analysis import plots, report, study
from archgym.experiments.bench import leaderboard as L

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return small_store.build(tmp_path_factory.mktemp("plots") / "small.db")


@pytest.fixture(scope="module")
def data(store):
    return study.load(store)


@pytest.fixture
def drawn(monkeypatch):
    """Every figure saved while the test runs, kept open for inspection."""
    figs: list[Figure] = []
    save = Figure.savefig

    def keep(self, *a, **kw):
        figs.append(self)
        return save(self, *a, **kw)

    monkeypatch.setattr(Figure, "savefig", keep)
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "close", lambda *a, **kw: None)
    yield figs
    plt.close("all")


def _problems(data):
    scalar = [p for p in data.problems if "pareto" not in p]
    return scalar[0], [p for p in data.problems if "pareto" in p][0]


def _data_axes(fig):
    return [ax for ax in fig.axes if ax.axison and (ax.lines or ax.collections or ax.patches)]


def check_readable(fig) -> None:
    """The rules of the module docstring that every figure obeys."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = _data_axes(fig)
    assert axes
    title = (fig._suptitle.get_text() if fig._suptitle else "") + "".join(ax.get_title() for ax in axes)
    assert title.strip(), "a figure without a title"
    for ax in axes:
        box = ax.get_window_extent(renderer)
        for other in fig.axes:
            leg = other.get_legend()
            if leg is not None:
                assert not leg.get_window_extent(renderer).overlaps(box), "a legend over the data"
        lo, hi = sorted(ax.get_ylim())
        zoom = ax.get_title().startswith("zoom")  # a zoom panel beside the full one shows a part by design
        for line in ([] if zoom else ax.lines):
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            if len(y):
                assert lo <= y.min() + 1e-12 and y.max() - 1e-12 <= hi, "a curve cut off by the value range"
        for which in ("x", "y"):
            if getattr(ax, f"get_{which}scale")() in ("log", "symlog"):
                axis = getattr(ax, f"{which}axis")  # shared axes hide inner labels: read the locator
                vmin, vmax = sorted(getattr(ax, f"get_{which}lim")())
                locs = [v for v in axis.get_majorticklocs() if vmin <= v <= vmax]
                labels = [t for t in axis.get_major_formatter().format_ticks(locs) if t.strip()]
                assert len(labels) >= 3, f"a log {which} axis with {len(labels)} tick labels"
    labels = [ax.get_ylabel() + " " + ax.get_xlabel() for ax in axes] + [title]
    assert any("(" in t or "[" in t for t in labels), "no axis label states a unit"


def test_curves_small_multiples_bands_inside_the_runs(data, drawn, tmp_path):
    scalar, _ = _problems(data)
    trials = study.trial_curves(data, scalar)
    curve = study.band_curves(trials)
    assert curve["agent"].nunique() > plots.SMALL_MULTIPLES_ABOVE
    for (agent, e), g in trials.groupby(["agent", "evaluations"]):  # the band never leaves what the runs reached
        c = curve[(curve["agent"] == agent) & (curve["evaluations"] == e)].iloc[0]
        assert g["value"].min() - 1e-12 <= c["ci_low"] <= c["mean"] <= c["ci_high"] <= g["value"].max() + 1e-12
        assert c["mean"] == pytest.approx(g["value"].mean())
    plots.plot_curves(curve, scalar, str(tmp_path / "curves.png"), trials)
    fig = drawn[-1]
    check_readable(fig)
    panels = _data_axes(fig)
    assert len(panels) == curve["agent"].nunique()
    few = {a for a, n in small_store.SCALAR.items() if n < study.BAND_MIN_TRIALS}
    for ax in panels:
        agent = ax.get_title().split()[1]
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        runs = small_store.SCALAR[agent] if agent in few else 0
        assert len(bands) == (0 if agent in few else 1), agent
        others = curve["agent"].nunique() - 1
        assert len(ax.lines) == others + runs + 1, agent  # grey medians of the others, its runs, its mean
        first = curve[curve["agent"] == agent].sort_values("evaluations")["mean"].iloc[0]
        assert ax.get_ylim()[0] <= first  # drawn from its first evaluation
    titles = [ax.get_title() for ax in panels]
    assert titles[0].startswith("#1 ") and titles[-1].startswith(f"#{len(titles)} ")


def test_curves_one_axes_with_few_searchers(data, drawn, tmp_path):
    _, pareto = _problems(data)
    trials = study.trial_curves(data, pareto)
    curve = study.band_curves(trials)
    plots.plot_curves(curve, pareto, str(tmp_path / "c.png"), trials)
    fig = drawn[-1]
    check_readable(fig)
    axes = _data_axes(fig)
    full, legend = axes[0], axes[-1].get_legend()
    assert legend is not None and len(legend.get_texts()) == len(small_store.PARETO)
    assert full.get_ylim()[0] <= curve["ci_low"].min() and full.get_ylim()[1] >= curve["ci_high"].max()  # whole
    if len(axes) == 2:  # the zoom beside it: the later evaluations, where the curves separate
        zoom = axes[1]
        assert zoom.get_title().startswith("zoom") and zoom.get_xlim()[0] > 1
        assert zoom.get_ylim()[1] - zoom.get_ylim()[0] < (full.get_ylim()[1] - full.get_ylim()[0]) / 3


def test_report_figures_are_readable(store, drawn, tmp_path):
    files = report.write_report(store, tmp_path / "report")
    pngs = [f for f in files if f.endswith(".png")]
    assert len(drawn) == len(pngs) == 6  # curves x2, lottery, front, hypervolume, wall time
    for fig in drawn:
        check_readable(fig)


def test_wall_time_bars_never_cross_zero(data, drawn, tmp_path):
    table = study.wall_times(data, by_problem=False)
    assert (table["wall_ci_low"] >= 0).all() and (table["wall_ci_low"] <= table["wall_s"]).all()
    plots.plot_wall_times(table, str(tmp_path / "w.png"))
    (ax,) = _data_axes(drawn[-1])
    assert ax.get_xlim()[0] == 0
    for patch in ax.patches:
        assert patch.get_x() >= 0 and patch.get_width() >= 0
    for coll in ax.collections:  # the error bars
        for seg in coll.get_segments():
            assert np.min(seg[:, 0]) >= 0


def _runs_table(data, problem: str, best: float) -> pd.DataFrame:
    """The store's trials on ``problem`` as a leaderboard run table (best@k columns)."""
    rows = []
    ev = data.evals[data.evals["problem"] == problem]
    for (agent, seed, setting), g in ev.groupby(["agent", "seed", "setting"]):
        if setting != "defaults":
            continue
        best_so_far = g.sort_values("step")["best_reward"].to_numpy()
        row = {"problem": problem, "searcher": agent, "agent": agent, "seed": seed, "budget": len(best_so_far),
               "n_evaluations": len(best_so_far), "wall_s": 1.0, "simulator_s": 0.5}
        for s in {s for s in L.CURVE_STEPS if s <= len(best_so_far)} | {len(best_so_far)}:
            row[f"best@{s}"] = best_so_far[s - 1]
        rows.append(row)
    return pd.DataFrame(rows)


def test_regret_small_multiples_on_log_axes(data, drawn, tmp_path):
    import archgym

    scalar, _ = _problems(data)
    best, _ = archgym.make("Toy-v0", objective="cost").unwrapped.evaluate({"x": 7, "y": 8, "mode": "a"})  # optimum
    runs = _runs_table(data, scalar, best)
    assert runs["best@24"].max() <= best + 1e-12
    curve = L.regret_curves(runs, scalar, best)
    plots.plot_regret(curve, scalar, str(tmp_path / "regret.png"), L.regret_trials(runs, scalar, best))
    fig = drawn[-1]
    check_readable(fig)
    for ax in _data_axes(fig):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "symlog"
        assert ax.get_ylim()[0] == 0  # a regret of 0 is on the axis
    order = [ax.get_title().split()[1] for ax in _data_axes(fig)]
    common = int(curve.groupby("agent")["evaluations"].max().min())
    at = curve[curve["evaluations"] == common].set_index("agent")["mean"]
    assert list(at.loc[order]) == sorted(at.loc[order])  # best (lowest regret) first


def test_unbounded_rewards_get_a_log_axis_within_the_data(drawn, tmp_path):
    """ArchGym's compat reward spans decades: a log axis, and no band below the runs."""
    rng = np.random.default_rng(0)
    rows = []
    for agent in ("marl", "ppo"):
        for seed in range(6):
            v = np.maximum.accumulate(10 ** np.linspace(1, 4, 50) * rng.uniform(0.5, 1.5, 50))  # decades of growth
            rows.append(pd.DataFrame({"agent": agent, "trial": seed, "evaluations": np.arange(1, 51), "value": v}))
    trials = pd.concat(rows, ignore_index=True)
    plots.plot_curves(study.band_curves(trials), "compat", str(tmp_path / "u.png"), trials)
    (ax,) = _data_axes(drawn[-1])
    check_readable(drawn[-1])
    assert ax.get_yscale() == "log"
    assert ax.get_ylim()[0] > 0 and ax.get_ylim()[0] >= trials["value"].min() / 10


def test_proxy_prediction_plots_have_titles_units_and_readable_ticks(drawn, tmp_path):
    from archgym.cost_models import ProxySimulator, dataset_from_simulator
    from archgym.cost_models.evaluation import plot_predictions
    from archgym.testing import ToySimulator

    sim = ToySimulator()
    train, test = dataset_from_simulator(sim, 120, seed=0).split(0.25)
    files = plot_predictions(ProxySimulator.train(sim, train, n_estimators=10), sim, test, str(tmp_path / "p"))
    assert len(files) == len(drawn) == 2
    for fig, metric in zip(drawn, sim.metrics):
        check_readable(fig)
        (ax,) = _data_axes(fig)
        assert metric.name in ax.get_title() and "RMSE" in ax.get_title()
        assert f"[{metric.unit}]" in ax.get_xlabel() and f"[{metric.unit}]" in ax.get_ylabel()
        assert len([t for t in ax.get_xticklabels() if t.get_text()]) <= 7  # no crowded labels

"""Reports: every plot renders from a small real study and the tables match the store."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from archgym.experiments.analysis import study as analysis
from archgym.pareto import hypervolume, nondominated
from archgym.experiments.analysis.report import ranking_table, write_report
from archgym.experiments.sweep.runner import run_sweep
from archgym.store import Store
from test_experiments_plugin import write_spec, restore_registry  # noqa: F401

STUDY = """\
study: small
budget: 16
seeds: 3
environments:
  - id: Toy-v0
    objectives: ["cost", "pareto:cost,area"]
searchers:
  - agent: random
  - agent: hill
    hyperparameters: {radius: [1, 2, 4]}
  - agent: flaky
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    summary = run_sweep(write_spec(folder, STUDY), workers=2, progress=False)
    assert summary["failed"] == 2  # flaky, seed 1, both objectives
    files = write_report(summary["store"], folder / "out")
    return summary["store"], files


def test_every_plot_is_a_nonempty_png(study):
    _, files = study
    names = [os.path.basename(f) for f in files]
    for prefix, count in [("curves_", 2), ("lottery_", 2), ("front_", 1), ("hypervolume_", 1), ("wall_time", 1)]:
        assert sum(n.startswith(prefix) for n in names) == count, names
    for f in files:
        assert os.path.getsize(f) > 1000
        if f.endswith(".png"):
            with open(f, "rb") as fh:
                assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    md = open([f for f in files if f.endswith(".md")][0]).read()
    html = open([f for f in files if f.endswith(".html")][0]).read()
    for png in (n for n in names if n.endswith(".png")):
        assert f"({png})" in md and f'src="{png}"' in html
    assert "Failed trials (2)" in md and "flaky agent refuses odd seed 1" in md


def test_ranking_table_matches_the_store(study):
    store, _ = study
    table = ranking_table(store, budgets=[5, 16])
    with Store(store) as db:
        ev = db.evaluations()
        trials = db.trials()
    obj = {r.trial_id: r.env_kwargs["objective"] for r in trials.itertuples()}
    ev["objective"] = ev["trial_id"].map(obj)
    assert set(table["budget"]) == {5, 16}
    for row in table.itertuples():
        objective = row.problem.split("objective=")[1]
        sub = ev[(ev["objective"] == objective) & (ev["agent"] == row.agent) & (ev["step"] <= row.budget)]
        best = sub.groupby("trial_id")["reward"].max().to_numpy()
        assert row.n == len(best) == {"random": 3, "hill": 9, "flaky": 2}[row.agent]
        assert row.mean == pytest.approx(best.mean())
        assert row.median == pytest.approx(np.median(best))
        assert row.ci_high - row.mean == pytest.approx(row.mean - row.ci_low)
        assert row.ci95 > 0 or math.isnan(row.ci95)
    for (_, b), g in table.groupby(["problem", "budget"]):
        assert g.sort_values("rank")["mean"].is_monotonic_decreasing
        assert sorted(g["rank"]) == list(range(1, len(g) + 1))


def test_lottery_and_wall_time_tables_match_the_store(study):
    store, _ = study
    data = analysis.load(store)
    problem = [p for p in data.problems if p.endswith("objective=cost")][0]
    lot = analysis.lottery(data, problem, [16])
    assert set(lot["agent"]) == {"hill"} and len(lot) == 3 and (lot["seeds"] == 3).all()
    with Store(store) as db:
        ev = db.evaluations()
        trials = db.trials()
    ids = trials[trials["env_kwargs"].map(lambda k: k["objective"] == "cost") & (trials["agent"] == "hill")
                 & (trials["status"] == "complete")]
    for r in lot.itertuples():
        radius = int(r.setting.split("=")[1])
        tids = ids[ids["hyperparameters"].map(lambda h: h["radius"] == radius)]["trial_id"]
        expect = ev[ev["trial_id"].isin(tids)].groupby("trial_id")["reward"].max().mean()
        assert r.best_reward == pytest.approx(expect)
    wall = analysis.wall_times(data)
    assert wall.set_index(["problem", "agent"]).loc[(problem, "hill"), "n"] == 9
    assert (wall["wall_s"] >= wall["simulator_s"]).all()


def test_hypervolume_matches_direct_computation(study):
    store, _ = study
    data = analysis.load(store)
    problem = analysis.pareto_problems(data)[0]
    pdata = analysis.pareto_data(data, problem)
    assert pdata.metrics == ["cost", "area"]
    feas = pdata.evals["feasible"].to_numpy()
    assert np.all(pdata.vectors[feas] >= 0) and np.all(pdata.vectors[feas] <= 1)
    assert np.all(pdata.vectors[~feas] < 0)
    curve = analysis.hypervolume_curves(pdata)
    final = analysis.hypervolume_table(curve).set_index("agent")
    for agent, g in pdata.evals.groupby("agent"):
        hv = [hypervolume(pdata.vectors[tg.sort_values("step").index.to_numpy()]) for _, tg in g.groupby("trial_id")]
        assert final.loc[agent, "mean"] == pytest.approx(np.mean(hv))
    for agent, g in curve.groupby("agent"):
        assert g["mean"].is_monotonic_increasing


def test_hypervolume_and_front_on_known_sets():
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    assert nondominated(pts).tolist() == [True, True, True, False, False]
    assert hypervolume(pts) == pytest.approx(3 + 2 + 1)  # staircase area
    cube = np.array([[1.0, 1.0, 1.0]])
    assert hypervolume(cube) == pytest.approx(1.0)
    two = np.array([[1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    assert hypervolume(two) == pytest.approx(0.5 + 0.25 * 0.5)
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, (12, 3))
    mc = rng.uniform(0, 1, (200_000, 3))
    dominated = (mc[:, None, :] <= p[None, :, :]).all(axis=2).any(axis=1).mean()
    assert hypervolume(p) == pytest.approx(dominated, abs=0.01)
    assert hypervolume(np.array([[-1.0, 2.0]])) == 0.0

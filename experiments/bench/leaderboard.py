"""The leaderboard: regret against stored best-known values, ranks, overhead.

Definitions (every table and figure uses these):

* A **run** is one searcher on one problem with one seed (a sweep trial).
  ``best@b`` is the best reward among its first ``b`` evaluations; on Pareto
  problems it is the hypervolume of its first ``b`` objective vectors (score
  space, origin reference, :mod:`.pareto`).
* **Regret@b** = stored best known value - ``best@b`` (:mod:`.hardness`); never
  negative unless the stored value is wrong (:func:`check_regret` says which);
  ``|regret| <= 1e-9`` (relative) is floating-point noise and reported as 0.
* Per (problem, searcher, budget): the **median regret over seeds** and a 95%
  **bootstrap CI of the median** (2,000 resamples of the seeds, percentile
  interval, fixed RNG seed so tables are reproducible).
* **Rank** per problem and budget: by median regret, ties share the average
  rank (1 = best); **mean rank** averages a searcher's ranks over the problems
  where it ran at that budget (``n_problems`` says how many).
* **Overhead per evaluation** (ms): a run's wall time in its worker minus the
  time inside the simulator, over its evaluations; median over runs (searcher
  plus environment bookkeeping; environment and agent construction included).

The runs are kept as a compact CSV (one row per run: ``best@`` at a fixed set of
evaluation counts, see :data:`CURVE_STEPS`) so tables and curves can be rebuilt
without the store: ``archgym leaderboard experiments/results/bench_runs.csv``.
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np
import pandas as pd

from archgym.pareto import hypervolume
from archgym.trial import canonical_json

from .suite import Suite

__all__ = ["CURVE_STEPS", "collect_runs", "read_runs", "write_runs", "regret_table", "mean_ranks", "overheads",
           "check_regret", "bootstrap_median_ci", "regret_curves", "regret_trials", "RUN_COLUMNS"]

#: evaluation counts at which each run's best value is kept (curves + budgets)
CURVE_STEPS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 2000, 5000)
RUN_COLUMNS = ["problem", "searcher", "agent", "seed", "budget", "n_evaluations", "wall_s", "simulator_s"]


def _step_col(s: int) -> str:
    return f"best@{s}"


def _steps(budget: int, extra: Sequence[int] = ()) -> list[int]:
    return sorted({s for s in (*CURVE_STEPS, *extra) if s <= budget} | {budget})


def _hv_prefix(vectors: np.ndarray, steps: Sequence[int]) -> list[float]:
    return [hypervolume(vectors[: int(s)]) for s in steps]


def collect_runs(store_path: str | os.PathLike, suite: Suite) -> pd.DataFrame:
    """One row per complete run in the store that belongs to ``suite`` (problem
    and searcher recognized by env kwargs and agent + hyperparameters; runs on a
    simulator version other than the stored reference's are left out):
    :data:`RUN_COLUMNS` plus ``best@<s>`` columns."""
    from archgym.objective import objective_from_record
    from archgym.store import Store

    path = os.fspath(store_path)
    problems = {(p.env_id, canonical_json(p.env_kwargs())): p for p in suite.problems}
    searchers = {s.key(): s for s in suite.searchers}
    with Store(path, readonly=True) as db:
        trials = db.trials()
        evals = db.evaluations()
    trials = trials[trials["status"] == "complete"]
    refs = suite.best_known()
    extra = suite.budgets
    rows = []
    envs: dict[str, Any] = {}
    by_trial = {tid: g for tid, g in evals.groupby("trial_id", sort=False)} if len(evals) else {}
    for _, t in trials.iterrows():
        p = problems.get((t["env_id"], canonical_json(t["env_kwargs"])))
        s = searchers.get(canonical_json({"agent": t["agent"], "hyperparameters": t["hyperparameters"]}))
        if p is None or s is None or t["trial_id"] not in by_trial:
            continue
        ev = by_trial[t["trial_id"]].sort_values("step")
        ref_version = refs.get(p.label, {}).get("simulator_version")
        if ref_version is not None and str(ev["simulator_version"].iloc[0]) not in versions(refs[p.label]):
            continue  # run on another simulator version than the stored reference: not comparable
        n = len(ev)
        steps = _steps(int(t["budget"]), extra)
        if p.is_pareto:
            if t["objective"] is not None:  # as the trial recorded it: no simulator needed
                obj = objective_from_record(t["objective"])
            else:  # a store from before objectives were recorded
                if p.label not in envs:
                    envs[p.label] = getattr(p.make_env(), "unwrapped", None).objective
                obj = envs[p.label]
            names = obj.metrics
            vec = np.array([obj.vector({**r, "feasible": bool(r["feasible"])})
                            for r in ev[names + ["feasible"]].to_dict("records")], dtype=np.float64)
            best = _hv_prefix(vec.reshape(n, len(names)), steps)
        else:
            cum = ev["reward"].cummax().to_numpy(dtype=np.float64)
            best = [float(cum[min(s, n) - 1]) if n else math.nan for s in steps]
        row = {"problem": p.label, "searcher": s.name, "agent": s.agent, "seed": int(t["seed"]),
               "budget": int(t["budget"]), "n_evaluations": n, "wall_s": float(t["wall_time_s"] or math.nan),
               "simulator_s": float(ev["wall_time_s"].sum())}
        row.update({_step_col(st): b for st, b in zip(steps, best)})
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return empty_runs()
    cols = RUN_COLUMNS + sorted((c for c in df.columns if c.startswith("best@")), key=lambda c: int(c[5:]))
    return df[cols].sort_values(["problem", "searcher", "seed"]).reset_index(drop=True)


def empty_runs() -> pd.DataFrame:
    """A run table without runs."""
    return pd.DataFrame(columns=RUN_COLUMNS)


def versions(ref: dict) -> set[str]:
    """Simulator versions a stored reference holds for: its own and earlier ones
    recorded as giving identical results (``simulator_version_history``)."""
    return {str(ref["simulator_version"])} | {str(h["version"]) for h in ref.get("simulator_version_history", ())}


def write_runs(runs: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write the compact run table (CSV, 6 significant digits for times)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    runs.to_csv(path, index=False, float_format="%.10g")
    return os.fspath(path)


def read_runs(path: str | os.PathLike) -> pd.DataFrame:
    """Read a run table written by :func:`write_runs` (one line naming the file if it is not one)."""
    from .suite import SuiteError

    try:
        runs = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{os.fspath(path)}: cannot read it as a run table ({type(exc).__name__})") from None
    missing = [c for c in RUN_COLUMNS if c not in runs.columns]
    if missing:
        raise SuiteError(f"{os.fspath(path)} is not a run table (no column {missing[0]!r}); "
                         f"give a CSV written by archgym bench run")
    return runs


def _best_at(runs: pd.DataFrame, b: int) -> pd.Series:
    """best@b per run; NaN for runs whose budget is below b."""
    col = _step_col(b)
    if col not in runs:
        return pd.Series(np.nan, index=runs.index)
    return runs[col].where(runs["budget"] >= b)


def bootstrap_median_ci(x: Sequence[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the median of ``x`` (:func:`~..analysis.study.bootstrap_ci`)."""
    from ..analysis.study import bootstrap_ci

    return bootstrap_ci(x, "median", n_boot, seed)


#: regrets this close to 0 are floating-point noise between the vectorized batch path
#: that computed a stored optimum and the single-design path of a run: reported as 0
REGRET_TOL = 1e-9


def _regrets(best: float, found: pd.Series) -> np.ndarray:
    reg = (best - found).dropna().to_numpy(dtype=np.float64)
    return np.where(np.abs(reg) <= REGRET_TOL * max(1.0, abs(best)), 0.0, reg)


def regret_table(runs: pd.DataFrame, best_known: dict[str, dict], budgets: Sequence[int]) -> pd.DataFrame:
    """Per problem, budget and searcher: ``n`` (seeds), ``median`` regret, ``ci_low``,
    ``ci_high``, ``solved`` (runs with regret <= 1e-9), ``rank`` (within problem and budget)."""
    rows = []
    for (problem, searcher), g in runs.groupby(["problem", "searcher"], sort=False):
        if problem not in best_known:
            continue
        best = float(best_known[problem]["best"])
        for b in budgets:
            reg = _regrets(best, _best_at(g, b))
            if len(reg) == 0:
                continue
            lo, hi = bootstrap_median_ci(reg)
            rows.append({"problem": problem, "budget": int(b), "searcher": searcher, "n": len(reg),
                         "median": float(np.median(reg)), "ci_low": lo, "ci_high": hi,
                         "solved": int(np.sum(reg <= 0))})
    df = pd.DataFrame(rows, columns=["problem", "budget", "searcher", "n", "median", "ci_low", "ci_high", "solved"])
    if df.empty:
        df["rank"] = []
        return df
    df["rank"] = df.groupby(["problem", "budget"])["median"].rank(method="average")
    return df


def mean_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Per searcher and budget: ``mean_rank`` over problems and ``n_problems``."""
    g = table.groupby(["searcher", "budget"])["rank"]
    return pd.DataFrame({"mean_rank": g.mean(), "n_problems": g.count()}).reset_index()


def overheads(runs: pd.DataFrame) -> pd.DataFrame:
    """Per searcher: median over runs of the overhead per evaluation (ms) and of
    the simulator time per evaluation (ms)."""
    r = runs[runs["n_evaluations"] > 0]
    per = pd.DataFrame({"searcher": r["searcher"],
                        "overhead_ms": 1e3 * (r["wall_s"] - r["simulator_s"]) / r["n_evaluations"],
                        "simulator_ms": 1e3 * r["simulator_s"] / r["n_evaluations"]})
    return per.groupby("searcher", sort=False).median().reset_index()


def check_regret(runs: pd.DataFrame, best_known: dict[str, dict], tol: float = REGRET_TOL) -> list[str]:
    """One message per run whose best value beats the stored best known value
    (the stored value is then wrong), empty when all regrets are >= 0."""
    out = []
    cols = [c for c in runs.columns if c.startswith("best@")]
    for _, r in runs.iterrows():
        ref = best_known.get(r["problem"])
        if ref is None:
            continue
        top = np.nanmax(r[cols].to_numpy(dtype=np.float64))
        if top > float(ref["best"]) + tol * max(1.0, abs(float(ref["best"]))):
            out.append(f"stored best known of {r['problem']} ({float(ref['best']):.10g}, {ref.get('how', '?')}) "
                       f"is wrong: {r['searcher']} seed {r['seed']} reached {top:.10g}; "
                       f"rerun `archgym bench reference`")
    return out


def regret_curves(runs: pd.DataFrame, problem: str, best: float) -> pd.DataFrame:
    """Regret vs evaluations per searcher on ``problem``: median and bootstrap CI
    over seeds at every kept step (columns as :func:`.plots.plot_curves` expects:
    ``agent``, ``evaluations``, ``mean`` (= median), ``ci_low``, ``ci_high``, ``n``)."""
    rows = []
    g_all = runs[runs["problem"] == problem]
    steps = sorted(int(c[5:]) for c in g_all.columns if c.startswith("best@"))
    for searcher, g in g_all.groupby("searcher", sort=False):
        for s in steps:
            reg = _regrets(best, _best_at(g, s))
            if len(reg) == 0:
                continue
            lo, hi = bootstrap_median_ci(reg)
            rows.append({"agent": searcher, "evaluations": s, "mean": float(np.median(reg)), "ci_low": lo,
                         "ci_high": hi, "n": len(reg)})
    return pd.DataFrame(rows, columns=["agent", "evaluations", "mean", "ci_low", "ci_high", "n"])


def regret_trials(runs: pd.DataFrame, problem: str, best: float) -> pd.DataFrame:
    """Regret vs evaluations of every run on ``problem`` at its kept steps
    (within its budget): ``agent``, ``trial`` (the seed), ``evaluations``,
    ``value`` -- what the figures draw for searchers with too few seeds for a band."""
    g_all = runs[runs["problem"] == problem]
    steps = sorted(int(c[5:]) for c in g_all.columns if c.startswith("best@"))
    rows = []
    for rec in g_all.to_dict("records"):
        for s in steps:
            v = rec.get(f"best@{s}")
            if s <= rec["budget"] and v is not None and np.isfinite(v):
                rows.append({"agent": rec["searcher"], "trial": int(rec["seed"]), "evaluations": s,
                             "value": float(_regrets(best, pd.Series([v]))[0])})
    return pd.DataFrame(rows, columns=["agent", "trial", "evaluations", "value"])

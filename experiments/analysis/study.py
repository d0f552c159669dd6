"""Numbers behind the report: curves, fixed-budget tables, lottery, Pareto, wall time.

Conventions (stated once, used everywhere):

* A **problem** is one (study, environment id, env kwargs) combination --
  workload and objective included -- because rewards are comparable only
  within one.  Its label reads ``Toy-v0 | objective=cost``.
* A **searcher** is an agent name; a **setting** is one of its hyperparameter
  settings.  Curves and ranking pool every trial of an agent on a problem
  (seeds x settings: the performance to expect with the spec's settings).
* **Best reward at budget b** of a trial is the maximum reward among its first
  ``b`` evaluations (a trial that stopped early keeps its final best).
* **Intervals in tables** are mean +/- the 95% confidence half-width of the
  mean, Student t with n-1 degrees of freedom over trials (none when n = 1).
* **Bands in figures** are 95% percentile-bootstrap intervals of the mean over
  trials (:func:`bootstrap_ci`), so they never leave the range the trials
  reached; with fewer than :data:`BAND_MIN_TRIALS` trials the figures draw the
  trials themselves instead (:func:`trial_curves`, :func:`hypervolume_trials`).
* Pareto problems (objective kind ``pareto``) get objective vectors recomputed
  from the stored metrics with the objective each trial recorded, bound to its
  simulator; hypervolume uses the origin as reference (see :mod:`archgym.pareto`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from archgym.pareto import hypervolume, nondominated

__all__ = ["StudyData", "ParetoData", "load", "ci95", "summarize", "bootstrap_ci", "BAND_MIN_TRIALS",
           "setting_label", "curves", "trial_curves", "band_curves", "best_at",
           "default_budgets", "ranking", "lottery", "lottery_summary", "wall_times", "problem_objective",
           "pareto_problems",
           "pareto_data", "hypervolume_trials", "hypervolume_curves", "hypervolume_table"]


# --------------------------------------------------------------------------- statistics
def ci95(values: Sequence[float]) -> float:
    """Half-width of the 95% confidence interval of the mean (Student t); NaN if n < 2."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = len(x)
    if n < 2:
        return math.nan
    try:
        from scipy.stats import t

        q = float(t.ppf(0.975, n - 1))
    except Exception:  # scipy missing: normal approximation
        q = 1.96
    return q * float(x.std(ddof=1)) / math.sqrt(n)


#: fewer trials than this get no band in figures: the trials are drawn instead
BAND_MIN_TRIALS = 5


def bootstrap_ci(values: np.ndarray | Sequence[float], statistic: str = "mean", n_boot: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[np.ndarray, np.ndarray] | tuple[float, float]:
    """Percentile-bootstrap interval of the ``statistic`` (``"mean"`` or
    ``"median"``) over the rows of ``values``: ``n_boot`` resamples of the rows
    with replacement (one draw of row indices, ``numpy.random.default_rng(seed)``,
    shared by every column), then the ``(1 - level) / 2`` and ``(1 + level) / 2``
    percentiles.  The interval lies within the range of the values, so a band
    never leaves what the trials reached.

    ``values``: a 1-D sequence (non-finite entries dropped; returns two floats,
    NaN for no values, the value itself for one) or a trials x columns matrix
    without NaN (returns two arrays, one entry per column)."""
    stat = {"mean": np.mean, "median": np.median}[statistic]
    tail = 100 * (1 - level) / 2
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1:
        a = a[np.isfinite(a)]
        if len(a) == 0:
            return math.nan, math.nan
        lo, hi = bootstrap_ci(a[:, None], statistic, n_boot, seed, level)
        return float(lo[0]), float(hi[0])
    n, cols = a.shape
    if n <= 1:
        return a[0].copy() if n else np.full(cols, np.nan), a[0].copy() if n else np.full(cols, np.nan)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    lo, hi = np.empty(cols), np.empty(cols)
    step = max(1, 4_000_000 // (n_boot * n))  # columns per chunk: bounded memory
    for c in range(0, cols, step):
        stats = stat(a[:, c:c + step][idx], axis=1)  # n_boot x chunk
        lo[c:c + step], hi[c:c + step] = np.percentile(stats, [tail, 100 - tail], axis=0)
    return lo, hi


def summarize(values: Sequence[float]) -> dict:
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return {"n": 0, "mean": math.nan, "ci95": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "median": math.nan}
    m, h = float(x.mean()), ci95(x)
    return {"n": len(x), "mean": m, "ci95": h, "ci_low": m - h if math.isfinite(h) else math.nan,
            "ci_high": m + h if math.isfinite(h) else math.nan, "median": float(np.median(x))}


# --------------------------------------------------------------------------- loading
def _label_kwargs(env_id: str, kwargs: dict) -> str:
    parts = [env_id]
    for k in sorted(kwargs, key=lambda k: (k != "workload", k != "objective", k)):
        v = kwargs[k]
        parts.append(f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True)}")
    return " | ".join(parts)


def setting_label(hp: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(hp.items())) or "defaults"


@dataclass
class StudyData:
    """A store's trials and evaluations, labeled by problem and setting."""

    path: str
    trials: pd.DataFrame  # one row per trial (every status)
    evals: pd.DataFrame  # one row per evaluation of complete trials
    specs: dict[str, dict] = field(default_factory=dict)  # study name -> stored spec

    @property
    def problems(self) -> list[str]:
        done = self.trials[self.trials["status"] == "complete"]
        return list(dict.fromkeys(done["problem"]))

    def complete(self) -> pd.DataFrame:
        return self.trials[self.trials["status"] == "complete"]


def load(path: str) -> StudyData:
    """Read a results store, read-only (see the module docstring for the labels added)."""
    from archgym.store import Store

    with Store(path, readonly=True) as db:
        trials = db.trials()
        evals = db.evaluations()
        specs = db.study_specs()
    multi = trials["study"].nunique() > 1 if len(trials) else False
    labels = [(f"{s}: " if multi else "") + _label_kwargs(e, kw)
              for s, e, kw in zip(trials["study"], trials["env_id"], trials["env_kwargs"])]
    trials["problem"] = labels
    trials["setting"] = trials["hyperparameters"].map(setting_label)
    if len(evals):
        info = trials.set_index("trial_id")[["problem", "setting", "budget"]]
        evals = evals.join(info, on="trial_id")
    return StudyData(path=path, trials=trials, evals=evals, specs=specs)


# --------------------------------------------------------------------------- curves and fixed budgets
def _step_matrix(ev: pd.DataFrame, column: str, horizon: int) -> np.ndarray:
    """trials x steps matrix of ``column`` (running best), forward-filled past a trial's end."""
    out = []
    for _, g in ev.groupby("trial_id", sort=True):
        v = g.sort_values("step")[column].to_numpy(dtype=np.float64)
        if len(v) < horizon:
            v = np.concatenate([v, np.full(horizon - len(v), v[-1] if len(v) else np.nan)])
        out.append(v[:horizon])
    return np.array(out)


def trial_curves(data: StudyData, problem: str) -> pd.DataFrame:
    """Best reward vs evaluations of every complete trial on ``problem``, each
    carried forward to its agent's longest trial: columns ``agent``, ``trial``,
    ``evaluations``, ``value``."""
    ev = data.evals[data.evals["problem"] == problem]
    rows = []
    for agent, g in ev.groupby("agent", sort=False):
        horizon = int(g["step"].max())
        for tid, v in zip(sorted(g["trial_id"].unique()), _step_matrix(g, "best_reward", horizon)):
            rows.append(pd.DataFrame({"agent": agent, "trial": tid, "evaluations": np.arange(1, horizon + 1),
                                      "value": v}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["agent", "trial", "evaluations", "value"])


def band_curves(trials: pd.DataFrame) -> pd.DataFrame:
    """Per agent and evaluation count, over the trials of a :func:`trial_curves`
    frame: ``n``, ``mean``, ``ci_low``/``ci_high`` (95% percentile-bootstrap
    interval of the mean, :func:`bootstrap_ci`), ``median``."""
    out = []
    for agent, g in trials.groupby("agent", sort=False):
        m = g.pivot(index="trial", columns="evaluations", values="value")
        v = m.to_numpy(dtype=np.float64)
        lo, hi = bootstrap_ci(v, "mean")
        out.append(pd.DataFrame({"agent": agent, "evaluations": m.columns.to_numpy(dtype=int), "n": len(v),
                                 "mean": v.mean(axis=0), "ci_low": lo, "ci_high": hi,
                                 "median": np.median(v, axis=0)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["agent", "evaluations", "n", "mean", "ci_low", "ci_high", "median"])


def curves(data: StudyData, problem: str) -> pd.DataFrame:
    """Best reward vs evaluations per agent on ``problem``: the
    :func:`band_curves` of its :func:`trial_curves`."""
    return band_curves(trial_curves(data, problem))


def default_budgets(data: StudyData, problem: str | None = None) -> list[int]:
    """A quarter, half and all of the largest trial budget."""
    t = data.complete() if problem is None else data.complete()[data.complete()["problem"] == problem]
    if t.empty:
        return []
    b = int(t["budget"].max())
    return sorted({max(1, b // 4), max(1, b // 2), b})


def best_at(data: StudyData, budgets: Sequence[int], problem: str | None = None) -> pd.DataFrame:
    """One row per (complete trial, budget): ``trial_id``, ``problem``, ``agent``,
    ``setting``, ``seed``, ``budget``, ``best_reward``."""
    ev = data.evals if problem is None else data.evals[data.evals["problem"] == problem]
    rows = []
    for (tid, prob, agent, setting, seed), g in ev.groupby(["trial_id", "problem", "agent", "setting", "seed"],
                                                           sort=True):
        steps = g["step"].to_numpy()
        rewards = g["reward"].to_numpy(dtype=np.float64)
        for b in budgets:
            sel = rewards[steps <= b]
            rows.append({"trial_id": tid, "problem": prob, "agent": agent, "setting": setting, "seed": seed,
                         "budget": int(b), "best_reward": float(np.nanmax(sel)) if len(sel) else math.nan})
    return pd.DataFrame(rows, columns=["trial_id", "problem", "agent", "setting", "seed", "budget", "best_reward"])


def ranking(data: StudyData, budgets: Sequence[int] | None = None) -> pd.DataFrame:
    """Agents ranked per problem and budget by mean best reward (1 = best):
    ``problem``, ``budget``, ``rank``, ``agent``, ``n``, ``settings``, ``mean``,
    ``ci95``, ``ci_low``, ``ci_high``, ``median``."""
    cols = ["problem", "budget", "rank", "agent", "n", "settings", "mean", "ci95", "ci_low", "ci_high", "median"]
    out = []
    for problem in data.problems:
        bs = list(budgets) if budgets else default_budgets(data, problem)
        ba = best_at(data, bs, problem)
        for b in bs:
            rows = []
            for agent, g in ba[ba["budget"] == b].groupby("agent", sort=False):
                rows.append({"problem": problem, "budget": int(b), "agent": agent,
                             "settings": g["setting"].nunique(), **summarize(g["best_reward"])})
            rows.sort(key=lambda r: -r["mean"] if math.isfinite(r["mean"]) else math.inf)
            for i, r in enumerate(rows, start=1):
                r["rank"] = i
            out.extend(rows)
    return pd.DataFrame(out, columns=cols)


def lottery(data: StudyData, problem: str, budgets: Sequence[int]) -> pd.DataFrame:
    """Per agent with >= 2 settings on ``problem``: one row per (agent, setting,
    budget) with ``best_reward`` = mean over that setting's seeds, and ``seeds``."""
    ba = best_at(data, budgets, problem)
    if ba.empty:
        return pd.DataFrame(columns=["agent", "setting", "budget", "best_reward", "seeds"])
    many = ba.groupby("agent")["setting"].nunique()
    ba = ba[ba["agent"].isin(many[many >= 2].index)]
    g = ba.groupby(["agent", "setting", "budget"], sort=False)["best_reward"]
    return pd.DataFrame({"best_reward": g.mean(), "seeds": g.count()}).reset_index()


def lottery_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Spread of the lottery per (agent, budget): settings, min, quartiles, max, best setting."""
    rows = []
    for (agent, b), g in table.groupby(["agent", "budget"], sort=False):
        x = g["best_reward"].to_numpy()
        q = np.nanpercentile(x, [0, 25, 50, 75, 100])
        rows.append({"agent": agent, "budget": int(b), "settings": len(g), "min": q[0], "q25": q[1],
                     "median": q[2], "q75": q[3], "max": q[4],
                     "best_setting": g.loc[g["best_reward"].idxmax(), "setting"]})
    return pd.DataFrame(rows, columns=["agent", "budget", "settings", "min", "q25", "median", "q75", "max",
                                       "best_setting"])


def wall_times(data: StudyData, by_problem: bool = True) -> pd.DataFrame:
    """Per (problem, agent) -- or per agent over all problems -- trials, mean
    trial wall time (s) with its 95% CI (Student t half-width ``wall_ci95``;
    percentile bootstrap ``wall_ci_low``..``wall_ci_high``), mean time inside the simulator, and the
    searcher's own share (the rest: agent, environment and process overhead)."""
    keys = ["problem", "agent"] if by_problem else ["agent"]
    cols = keys + ["n", "wall_s", "wall_ci95", "wall_ci_low", "wall_ci_high", "simulator_s", "searcher_s"]
    t = data.complete()
    if t.empty:
        return pd.DataFrame(columns=cols)
    sim = data.evals.groupby("trial_id")["wall_time_s"].sum() if len(data.evals) else pd.Series(dtype=float)
    rows = []
    for key, g in t.groupby(keys, sort=False):
        w = g["wall_time_s"].astype(float)
        s = sim.reindex(g["trial_id"]).fillna(0.0).to_numpy()
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))), "n": len(g),
                     "wall_s": float(w.mean()), "wall_ci95": ci95(w),
                     **dict(zip(("wall_ci_low", "wall_ci_high"), bootstrap_ci(w.to_numpy(), "mean"))),
                     "simulator_s": float(s.mean()),
                     "searcher_s": float((w.to_numpy() - s).mean())})
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- Pareto
def problem_objective(data: StudyData, problem: str):
    """The objective of ``problem`` as its trials recorded it, bound to the
    simulator (:meth:`archgym.objective.Objective.to_record`): no simulator
    or plugin is needed.  A store written before archgym recorded objectives
    (schema 1) falls back to rebuilding the environment, which needs the
    simulator registered in this process."""
    from archgym.objective import objective_from_record

    row = data.complete()[data.complete()["problem"] == problem].iloc[0]
    if row.get("objective") is not None:
        return objective_from_record(row["objective"])
    import archgym

    return archgym.make(row["env_id"], **row["env_kwargs"]).objective


def pareto_problems(data: StudyData) -> list[str]:
    return [p for p in data.problems if problem_objective(data, p).kind == "pareto"]


@dataclass
class ParetoData:
    """Objective vectors of every evaluation of a Pareto problem."""

    metrics: list[str]  # the objective's metrics, in vector order
    evals: pd.DataFrame  # evaluations of the problem (trial_id, agent, step, metrics, feasible)
    vectors: np.ndarray  # len(evals) x len(metrics), higher better

    def front(self, agent: str) -> pd.DataFrame:
        """The agent's pooled non-dominated feasible designs (metric values)."""
        mask = (self.evals["agent"] == agent).to_numpy() & self.evals["feasible"].to_numpy()
        if not mask.any():
            return self.evals.iloc[0:0]
        sub = self.evals[mask]
        keep = nondominated(self.vectors[mask])
        return sub[keep].sort_values(self.metrics[0])


def pareto_data(data: StudyData, problem: str) -> ParetoData:
    obj = problem_objective(data, problem)
    ev = data.evals[data.evals["problem"] == problem].reset_index(drop=True)
    names = list(obj.metrics)
    vec = np.array([obj.vector({**{m: r[m] for m in names}, "feasible": r["feasible"]})
                    for _, r in ev[names + ["feasible"]].iterrows()], dtype=np.float64).reshape(len(ev), len(names))
    return ParetoData(metrics=names, evals=ev, vectors=vec)


def hypervolume_trials(pd_: ParetoData, points: int = 25) -> pd.DataFrame:
    """Hypervolume vs evaluations of every trial, at up to ``points`` evenly
    spaced evaluation counts of its agent's longest trial (a shorter trial
    keeps its final front): ``agent``, ``trial``, ``evaluations``, ``value``."""
    rows = []
    for agent, g in pd_.evals.groupby("agent", sort=False):
        horizon = int(g["step"].max())
        steps = np.unique(np.linspace(1, horizon, min(points, horizon)).round().astype(int))
        for tid, tg in g.groupby("trial_id"):
            vec = pd_.vectors[tg.sort_values("step").index.to_numpy()]
            rows.append(pd.DataFrame({"agent": agent, "trial": tid, "evaluations": steps,
                                      "value": [hypervolume(vec[: s]) for s in steps]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["agent", "trial", "evaluations", "value"])


def hypervolume_curves(pd_: ParetoData, points: int = 25) -> pd.DataFrame:
    """Hypervolume vs evaluations per agent: the :func:`band_curves` of
    :func:`hypervolume_trials`."""
    return band_curves(hypervolume_trials(pd_, points))


def hypervolume_table(curve: pd.DataFrame) -> pd.DataFrame:
    """Final hypervolume per agent (mean, its 95% bootstrap interval, median)."""
    if curve.empty:
        return curve
    last = curve.loc[curve.groupby("agent", sort=False)["evaluations"].idxmax()]
    return last[["agent", "evaluations", "n", "mean", "ci_low", "ci_high", "median"]].reset_index(drop=True)

"""The leaderboard page: Markdown tables (for the README) and an HTML page with curves.

``write_leaderboard(runs, suite, out)`` writes into ``out``:

* ``leaderboard.md`` -- hardness of every problem, mean rank and overhead per
  searcher, and per problem the median regret with its bootstrap CI and rank at
  each budget (definitions in :mod:`.leaderboard`);
* ``leaderboard.html`` -- the same tables plus one regret-vs-evaluations figure
  per problem (``regret_<problem>.png``, :func:`.plots.plot_regret`).

The document model, table formatting and figure style are the study report's
(:mod:`.report`, :mod:`.plots`).
"""
from __future__ import annotations

import math
import os
from typing import Callable, Sequence

import pandas as pd

from ..analysis import plots
from ..analysis.report import Document, markdown_table, slug
from . import leaderboard as L
from .suite import Suite

__all__ = ["write_leaderboard", "summary_tables", "hardness_table", "at_budget_table", "readme_tables"]


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    return f"{x:.2g}" if abs(x) < 0.01 else f"{x:.3f}"


def hardness_table(suite: Suite, best_known: dict[str, dict], budgets: Sequence[int]) -> pd.DataFrame:
    """One row per problem: best known value and how, fraction of designs within
    1 %, random search's expected regret at each budget, verdict."""
    rows = []
    for p in suite.problems:
        rec = best_known.get(p.label)
        row = {"problem": p.label, "env": p.env_id, "objective": p.objective}
        if rec is None:
            row.update(best="-", how="not computed yet (archgym bench reference)")
        else:
            row.update(best=f"{rec['best']:.6g}", how=rec["how"],
                       within_1pct=("-" if "within_1pct" not in rec else f"{100 * rec['within_1pct']:.3g} %"))
            for b in budgets:
                row[f"random regret@{b}"] = _fmt(rec["random_regret"].get(str(b), math.nan))
        row["status"] = f"dropped: {p.dropped}" if p.dropped else (rec or {}).get("verdict", "-")
        rows.append(row)
    return pd.DataFrame(rows)


def summary_tables(runs: pd.DataFrame, suite: Suite, best_known: dict[str, dict],
                   budgets: Sequence[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(regret table, mean-rank table with overhead, per-budget wide tables by problem)."""
    table = L.regret_table(runs, best_known, budgets)
    ranks = L.mean_ranks(table)
    over = L.overheads(runs).set_index("searcher") if len(runs) else pd.DataFrame()
    order = [s.name for s in suite.searchers if s.name in set(runs["searcher"])]
    wide = pd.DataFrame({"searcher": order})
    for b in budgets:
        r = ranks[ranks["budget"] == b].set_index("searcher")
        wide[f"mean rank @{b}"] = [f"{r.loc[s, 'mean_rank']:.2f} ({int(r.loc[s, 'n_problems'])})"
                                   if s in r.index else "-" for s in order]
    wide["overhead ms/eval"] = [f"{over.loc[s, 'overhead_ms']:.2f}" if s in over.index else "-" for s in order]
    key = f"mean rank @{budgets[-1]}"
    wide["_k"] = [float(v.split()[0]) if v != "-" else math.inf for v in wide[key]]
    wide = wide.sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)
    return table, wide, ranks


def _problem_wide(table: pd.DataFrame, problem: str, order: list[str], budgets: Sequence[int]) -> pd.DataFrame:
    t = table[table["problem"] == problem]
    out = pd.DataFrame({"searcher": [s for s in order if s in set(t["searcher"])]})
    for b in budgets:
        tb = t[t["budget"] == b].set_index("searcher")
        out[f"@{b}"] = [f"{_fmt(tb.loc[s, 'median'])} [{_fmt(tb.loc[s, 'ci_low'])}, {_fmt(tb.loc[s, 'ci_high'])}]"
                        f" #{tb.loc[s, 'rank']:g}" + (f" (n={int(tb.loc[s, 'n'])})" if int(tb.loc[s, 'n'])
                                                      < int(t["n"].max()) else "")
                        if s in tb.index else "-" for s in out["searcher"]]
    n = t.groupby("searcher")["n"].max()
    out["seeds"] = [int(n.get(s, 0)) for s in out["searcher"]]
    return out


def write_leaderboard(runs: pd.DataFrame, suite: Suite, out_dir: str | os.PathLike,
                      budgets: Sequence[int] | None = None, source: str = "",
                      progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Write ``leaderboard.md``, ``leaderboard.html`` and the regret figures;
    return the paths.  ``progress(done, total)`` is called after each problem."""
    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    best_known = suite.best_known()
    budgets = list(budgets or suite.budgets)
    table, wide, _ = summary_tables(runs, suite, best_known, budgets)
    problems = [p for p in suite.problems if p.label in set(runs["problem"])]
    order = [s.name for s in suite.searchers]
    doc, files = Document(), []
    doc.h(1, f"Leaderboard: {suite.label}")
    if source:
        doc.p(f"Runs: {source} ({len(runs)} runs).")
    doc.p("Regret = stored best known value - best value found within the budget (reward, or hypervolume on "
          "Pareto problems). Cells: median over seeds [bootstrap 95% CI of the median] #rank on that problem "
          "(1 = best, ties share the mean rank); '-' = not run at that budget. Mean rank: over the problems the "
          "searcher ran at that budget (count in parentheses). Overhead: wall time per evaluation outside the "
          "simulator, median over runs.")
    warnings = L.check_regret(runs, best_known)
    for w in warnings:
        doc.p("WARNING: " + w)
    doc.h(2, "Problems and how hard they are")
    doc.table(hardness_table(suite, best_known, budgets))
    doc.h(2, "Mean rank and overhead")
    doc.table(wide)
    for i, p in enumerate(problems, start=1):
        doc.h(2, p.label)
        doc.p(f"{p.env_id}, workload {p.workload}, objective `{p.objective}`. {p.note}")
        doc.table(_problem_wide(table, p.label, order, budgets))
        if p.label in best_known:
            best = float(best_known[p.label]["best"])
            curve = L.regret_curves(runs, p.label, best)
            if not curve.empty:
                files.append(plots.plot_regret(curve, p.label, os.path.join(out, f"regret_{slug(p.label)}.png"),
                                               L.regret_trials(runs, p.label, best)))
                doc.img(files[-1], f"regret vs evaluations on {p.label}")
        if progress:
            progress(i, len(problems))
    return files + doc.write(out, "leaderboard", f"Leaderboard: {suite.label}")


def at_budget_table(table: pd.DataFrame, suite: Suite, budget: int) -> pd.DataFrame:
    """Searchers x problems at one budget: ``median [CI] #rank`` per cell."""
    t = table[table["budget"] == budget]
    problems = [p.label for p in suite.problems if p.label in set(t["problem"])]
    order = [s.name for s in suite.searchers if s.name in set(t["searcher"])]
    out = pd.DataFrame({"searcher": order})
    for prob in problems:
        tp = t[t["problem"] == prob].set_index("searcher")
        full = int(t["n"].max())
        out[prob.split("@")[0]] = [f"{_fmt(tp.loc[s, 'median'])} [{_fmt(tp.loc[s, 'ci_low'])}, "
                                   f"{_fmt(tp.loc[s, 'ci_high'])}] #{tp.loc[s, 'rank']:g}"
                                   + ("" if int(tp.loc[s, "n"]) == full else f" (n={int(tp.loc[s, 'n'])})")
                                   if s in tp.index else "-" for s in order]
    return out


def readme_tables(runs: pd.DataFrame, suite: Suite, budgets: Sequence[int] | None = None,
                  at: int | Sequence[int] | None = None) -> str:
    """The Markdown printed by ``archgym leaderboard``: hardness, regret per
    problem at budget(s) ``at`` (default: 100 if reported, else the largest;
    problems without runs at that budget are left out of its table), and
    mean rank with overhead."""
    budgets = list(budgets or suite.budgets)
    best_known = suite.best_known()
    table, wide, _ = summary_tables(runs, suite, best_known, budgets)
    ats = [at] if isinstance(at, int) else list(at or [100 if 100 in budgets else budgets[-1]])
    cols = ["problem", "best", "how", "within_1pct"] + [f"random regret@{b}" for b in budgets] + ["status"]
    hard = hardness_table(suite, best_known, budgets)
    hard = hard[[p is None for p in (s.dropped for s in suite.problems)]]
    parts = ["Problems (random regret: closed form from the enumerated or sampled reward distribution):",
             markdown_table(hard[[c for c in cols if c in hard]])]
    for b in ats:
        parts += [f"Regret after {b} evaluations: median [bootstrap 95% CI] #rank per problem:",
                  markdown_table(at_budget_table(table, suite, b))]  # only problems with runs at budget b
    parts += ["Mean rank over problems (problems counted) and overhead per evaluation:", markdown_table(wide)]
    return "\n\n".join(parts) + "\n"

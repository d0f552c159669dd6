"""Study reports: PNG plots plus one Markdown and one HTML page.

``write_report(store, out)`` (``archgym report``) writes into ``out``:

* ``curves_<problem>.png`` -- best reward vs evaluations per searcher: the mean
  over trials with its 95% bootstrap band, or the trials themselves when a
  searcher has fewer than five (:mod:`.plots` states the figure rules);
* ``lottery_<problem>.png`` -- the hyperparameter lottery, for searchers run
  with two or more settings;
* ``front_<problem>.png`` and ``hypervolume_<problem>.png`` -- for problems whose
  objective is ``pareto:...``;
* ``wall_time.png``;
* ``report.md`` and ``report.html`` with the same tables (ranking at fixed
  budgets with CIs, lottery spread, hypervolume, wall time, failures).

``ranking_table(store, budgets)`` (``archgym compare``) is the ranking as a
DataFrame.  Definitions live in :mod:`archgym.experiments.analysis`.
"""
from __future__ import annotations

import hashlib
import html
import math
import os
import re
from typing import Any, Sequence

import pandas as pd

from archgym.errors import UserInputError
from archgym.userfiles import output_folder
from archgym.store import StoreError

from . import study as A
from . import plots

__all__ = ["write_report", "ranking_table", "ReportError", "Document", "markdown_table", "slug"]


class ReportError(UserInputError):
    """A report or comparison cannot be made from what was given (one line)."""


def _load(store_path: str | os.PathLike, complete: bool) -> A.StudyData:
    """The store's data; a store without (complete) trials is refused in one line."""
    data = A.load(os.fspath(store_path))
    if data.trials.empty or (complete and data.complete().empty):
        raise StoreError(f"{os.fspath(store_path)!r} has no {'complete ' if complete else ''}trials (run a sweep "
                         "or `archgym run ... --store` into it first)")
    return data


def ranking_table(store_path: str | os.PathLike, budgets: Sequence[int] | None = None) -> pd.DataFrame:
    """Searchers ranked per problem and budget (see :func:`analysis.ranking`).
    Every budget must lie in 1..the largest trial budget of the store."""
    data = _load(store_path, complete=True)
    if budgets:
        top = int(data.complete()["budget"].max())
        for b in budgets:
            if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= top:
                raise ReportError(f"budget {b!r} is outside 1..{top} (the largest trial budget in the store)")
    return A.ranking(data, budgets)


# --------------------------------------------------------------------------- a tiny document model
class Document:
    """Headings, paragraphs, tables and images, rendered to Markdown and HTML."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, Any]] = []

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, df: pd.DataFrame) -> None:
        self.blocks.append(("table", df))

    def img(self, file: str, alt: str) -> None:
        self.blocks.append(("img", (os.path.basename(file), alt)))

    def pre(self, text: str) -> None:
        self.blocks.append(("pre", text))

    def write(self, out_dir: str, stem: str, title: str) -> list[str]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``out_dir``; return both paths."""
        paths = []
        for ext, text in (("md", self.markdown()), ("html", self.html(title))):
            paths.append(os.path.join(out_dir, f"{stem}.{ext}"))
            with open(paths[-1], "w", encoding="utf-8") as fh:
                fh.write(text)
        return paths

    def markdown(self) -> str:
        out = []
        for kind, v in self.blocks:
            if kind == "h":
                out.append("#" * v[0] + " " + v[1])
            elif kind == "p":
                out.append(v)
            elif kind == "table":
                out.append(markdown_table(v))
            elif kind == "img":
                out.append(f"![{v[1]}]({v[0]})")
            elif kind == "pre":
                out.append("```\n" + v + "\n```")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        body = []
        for kind, v in self.blocks:
            if kind == "h":
                body.append(f"<h{v[0]}>{html.escape(v[1])}</h{v[0]}>")
            elif kind == "p":
                body.append(f"<p>{html.escape(v)}</p>")
            elif kind == "table":
                body.append(_fmt_frame(v).to_html(index=False, border=0, classes="t", escape=True))
            elif kind == "img":
                body.append(f'<img src="{html.escape(v[0])}" alt="{html.escape(v[1])}">')
            elif kind == "pre":
                body.append(f"<pre>{html.escape(v)}</pre>")
        style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
                 "table.t{border-collapse:collapse;font-size:13px;margin:1em 0}"
                 "table.t td,table.t th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
                 "img{max-width:100%}pre{background:#f5f5f5;padding:8px;overflow-x:auto;font-size:12px}")
        return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def _fmt_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.apply(lambda col: col.map(_fmt_value))


def markdown_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_(no rows)_"
    f = _fmt_frame(df)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(c) for c in f.columns) + " |", "|" + "---|" * len(f.columns)]
    lines += ["| " + " | ".join(esc(x) for x in row) + " |" for row in f.itertuples(index=False)]
    return "\n".join(lines)


def slug(text: str) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40]
    return f"{base}_{hashlib.sha1(text.encode()).hexdigest()[:6]}"


# --------------------------------------------------------------------------- the report
def write_report(store_path: str | os.PathLike, out_dir: str | os.PathLike) -> list[str]:
    """Write plots and ``report.md``/``report.html`` into ``out_dir``; return the paths written."""
    data = _load(store_path, complete=False)
    out = output_folder(out_dir, "report folder (--out)", ReportError)
    files: list[str] = []
    doc = Document()
    studies = ", ".join(dict.fromkeys(data.trials["study"])) or "(empty)"
    doc.h(1, f"archgym report: {studies}")
    _overview(doc, data)
    for problem in data.problems:
        files += _problem_section(doc, data, problem, out)
    files += _wall_section(doc, data, out)
    _failures(doc, data)
    return files + doc.write(out, "report", f"archgym report: {studies}")


def _overview(doc: Document, data: A.StudyData) -> None:
    t = data.trials
    doc.p(f"Store: {os.path.abspath(data.path)}")
    for name, spec in data.specs.items():
        if spec.get("description"):
            doc.p(f"{name}: {spec['description']}")
    counts = t.groupby(["problem", "status"]).size().unstack(fill_value=0).reset_index() if len(t) else t
    counts.columns.name = None
    doc.h(2, "Trials")
    doc.table(counts)
    doc.p("Conventions: a problem is one environment with its workload, objective and options. Curves and "
          "ranking pool every trial of a searcher on a problem (seeds x hyperparameter settings). Intervals in "
          "tables are the mean +/- the 95% confidence half-width of the mean (Student t over trials); bands in "
          "figures are 95% percentile-bootstrap intervals of the mean, and searchers with fewer than "
          f"{A.BAND_MIN_TRIALS} trials show each trial instead. "
          "'Best reward at budget b' is the best reward among a trial's first b evaluations.")


def _problem_section(doc: Document, data: A.StudyData, problem: str, out: str) -> list[str]:
    files = []
    name = slug(problem)
    doc.h(2, problem)
    trials = A.trial_curves(data, problem)
    files.append(plots.plot_curves(A.band_curves(trials), problem, os.path.join(out, f"curves_{name}.png"), trials))
    doc.img(files[-1], "best reward vs evaluations")
    budgets = A.default_budgets(data, problem)
    rank = A.ranking(data, budgets)
    rank = rank[rank["problem"] == problem].drop(columns="problem")
    doc.h(3, "Ranking at fixed budgets")
    doc.table(rank)
    lot = A.lottery(data, problem, budgets)
    doc.h(3, "Hyperparameter lottery")
    if lot.empty:
        doc.p("No searcher ran with two or more hyperparameter settings on this problem.")
    else:
        files.append(plots.plot_lottery(lot, problem, os.path.join(out, f"lottery_{name}.png")))
        doc.img(files[-1], "hyperparameter lottery")
        doc.p("Each point is one hyperparameter setting: its best reward at the budget, mean over seeds. "
              "Boxes show quartiles over settings.")
        doc.table(A.lottery_summary(lot))
    if problem in A.pareto_problems(data):
        files += _pareto_section(doc, data, problem, name, out)
    return files


def _pareto_section(doc: Document, data: A.StudyData, problem: str, name: str, out: str) -> list[str]:
    doc.h(3, "Pareto front and hypervolume")
    try:
        pdata = A.pareto_data(data, problem)
    except Exception as exc:  # e.g. the simulator is no longer installed
        doc.p(f"Could not rebuild the objective for this problem: {type(exc).__name__}: {exc}")
        return []
    agents = list(dict.fromkeys(pdata.evals["agent"]))
    fronts = {a: pdata.front(a) for a in agents}
    env_id = data.complete()[data.complete()["problem"] == problem]["env_id"].iloc[0]
    files = [plots.plot_front(fronts, pdata.metrics, problem, os.path.join(out, f"front_{name}.png"),
                              _metric_units(env_id))]
    doc.img(files[-1], "Pareto fronts")
    hv_trials = A.hypervolume_trials(pdata)
    hv = A.band_curves(hv_trials)
    files.append(plots.plot_hypervolume(hv, problem, os.path.join(out, f"hypervolume_{name}.png"), hv_trials))
    doc.img(files[-1], "hypervolume vs evaluations")
    doc.p("Hypervolume is computed on the objective's scores (higher better, in [0, 1] for feasible designs) "
          "with the origin as reference point; fronts pool each searcher's feasible designs over its trials.")
    doc.table(A.hypervolume_table(hv))
    return files


def _metric_units(env_id: str) -> dict[str, str]:
    """Metric units of a registered simulator (its class's ``metrics``); empty when
    the simulator is not installed here (a store is read without it)."""
    try:
        from archgym.registry import simulator_class

        return {m.name: m.unit for m in simulator_class(env_id).metrics}
    except Exception:  # noqa: BLE001 -- units are a label, never a reason to fail a report
        return {}


def _wall_section(doc: Document, data: A.StudyData, out: str) -> list[str]:
    doc.h(2, "Wall time per searcher")
    table = A.wall_times(data, by_problem=False)
    if table.empty:
        doc.p("No complete trials.")
        return []
    path = plots.plot_wall_times(table, os.path.join(out, "wall_time.png"))
    doc.img(path, "wall time per trial")
    doc.p("Mean wall time of one trial (in its worker: building the environment and agent, and the whole "
          "search), over all problems; 'simulator' is the time inside evaluations.")
    doc.table(table)
    if len(data.problems) > 1:
        doc.h(3, "Per problem")
        doc.table(A.wall_times(data, by_problem=True))
    return [path]


def _failures(doc: Document, data: A.StudyData) -> None:
    failed = data.trials[data.trials["status"] == "failed"]
    if failed.empty:
        return
    doc.h(2, f"Failed trials ({len(failed)})")
    rows = []
    for _, r in failed.iterrows():
        err = (r["error"] or "").strip().splitlines()
        rows.append({"trial": r["trial_key"], "problem": r["problem"], "agent": r["agent"],
                     "setting": r["setting"], "seed": r["seed"], "error": err[-1] if err else ""})
    doc.table(pd.DataFrame(rows))
    doc.p("Full tracebacks are in the store (trials.error); rerun with --retry-failed after a fix.")

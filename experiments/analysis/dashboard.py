"""A results store as Optuna studies, served by optuna-dashboard (``archgym dashboard``).

:func:`export_to_optuna` writes every evaluation of a store into an Optuna
storage file (a journal file, or an SQLite database for names ending in
``.db``: :func:`open_storage`), so optuna-dashboard -- the web UI the
hyperparameter-search community already uses -- shows history, parallel
coordinates, parameter importance and Pareto fronts; :func:`serve` runs
optuna-dashboard on it, on 127.0.0.1 only.

The mapping (the store is read with nothing but itself, as the reports read it:
no simulator or plugin is imported):

* **studies**: ``group="run"`` (default) gives one Optuna study per archgym
  trial, i.e. per (problem, searcher, hyperparameter setting, seed), named
  ``"<problem> | <searcher> [<setting>] | seed <s>"``; ``group="problem"``
  gives one study per problem holding every searcher's evaluations (each
  trial says which searcher and seed made it).  A *problem* is labelled as in
  the reports (:mod:`.study`).
* **trials**: one Optuna trial per evaluation, in evaluation order, state
  COMPLETE.
* **params**: the design; distributions are inferred from the values the whole
  store holds for each parameter (integers as an integer range, on a log
  axis when every value is a power of two; other numbers as a float range;
  anything else as a categorical over the values seen).
* **values**: the reward (one objective, maximized); for problems whose
  objective is ``pareto:...``, the objective vector recomputed from the stored
  metrics with the objective recorded with each trial
  (:func:`archgym.objective.objective_from_record`): one score per metric,
  each maximized, named ``score <metric>``.
* **user attributes**: every metric (non-finite values as null), ``feasible``
  and ``reason`` (and with ``group="problem"`` the searcher, its setting, the
  seed, the evaluation number and the archgym trial key, which a per-run study
  keeps as study attributes); an infeasible design is also marked by Optuna's
  constraint attribute (``constraints = [1.0]``; feasible ``[0.0]``), which
  optuna-dashboard draws as infeasible.

Failed archgym trials have no evaluations and export nothing.  Needs the
``dashboard`` extra (``optuna``, ``optuna-dashboard``).
"""
from __future__ import annotations

import math
import os
import warnings
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from archgym.errors import UserInputError

from . import study as A

__all__ = ["export_to_optuna", "serve", "open_storage", "require_optuna", "DashboardError", "GROUPS", "SQLITE_SUFFIXES", "study_name",
           "infer_distributions"]

#: how evaluations are grouped into Optuna studies
GROUPS = ("run", "problem")
HOST = "127.0.0.1"

#: store columns that are neither metrics nor design parameters
_NOT_METRICS = {"study", "trial_id", "trial_key", "agent", "env_id", "seed", "hyperparameters", "step", "reward",
                "feasible", "reason", "wall_time_s", "simulator", "simulator_version", "best_reward", "problem",
                "setting", "budget"}


class DashboardError(UserInputError):
    """The dashboard cannot be made from what was given (one line)."""


def require_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise DashboardError("the dashboard needs Optuna and optuna-dashboard: pip install 'archgym[dashboard]'") \
            from None
    return optuna


def study_name(problem: str, agent: str = "", setting: str = "", seed: int | None = None) -> str:
    """The Optuna study name of a problem, or of one run on it."""
    if not agent:
        return problem
    return f"{problem} | {agent} [{setting}] | seed {seed}"


def _plain(v: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN and infinities as None."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def infer_distributions(configs: pd.DataFrame) -> dict[str, Any]:
    """Optuna distributions of the ``config.<name>`` columns, from the values seen
    (the module docstring gives the rules)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for col in [c for c in configs.columns if c.startswith("config.")]:
        vals = [_plain(v) for v in configs[col].dropna().unique()]
        name = col[len("config."):]
        numeric = vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)
        if numeric and all(float(v).is_integer() for v in vals):
            ints = sorted(int(v) for v in vals)
            pow2 = ints[0] > 0 and len(ints) > 2 and all(v & (v - 1) == 0 for v in ints)
            out[name] = IntDistribution(ints[0], ints[-1], log=pow2)
        elif numeric:
            lo, hi = float(min(vals)), float(max(vals))
            out[name] = FloatDistribution(lo, hi, log=lo > 0 and hi / lo > 100)
        else:
            out[name] = CategoricalDistribution(sorted(vals, key=lambda v: (str(type(v)), str(v))))
    return out


def _param_value(v: Any, dist: Any) -> Any:
    from optuna.distributions import FloatDistribution, IntDistribution

    v = _plain(v)
    if isinstance(dist, IntDistribution):
        return int(v)
    if isinstance(dist, FloatDistribution):
        return float(v)
    return v


def _trials_of(rows: pd.DataFrame, metrics: list[str], dists: Mapping[str, Any], objective: Any,
               pareto: bool, per_run_attrs: bool) -> list:
    """One COMPLETE Optuna trial per evaluation row; ``per_run_attrs``: also the
    searcher, setting, seed, evaluation number and trial key (when a study mixes runs)."""
    import optuna

    out = []
    for r in rows.to_dict("records"):
        feasible = bool(r["feasible"])
        result = {m: r.get(m) for m in metrics}
        if pareto:
            values = [float(x) for x in objective.vector({**result, "feasible": feasible})]
        else:
            values = [float(r["reward"])]
        params = {n: _param_value(r[f"config.{n}"], d) for n, d in dists.items()
                  if r.get(f"config.{n}") is not None and not (isinstance(r.get(f"config.{n}"), float)
                                                               and math.isnan(r[f"config.{n}"]))}
        attrs = {**{m: _plain(r.get(m)) for m in metrics}, "feasible": feasible, "reason": r.get("reason") or ""}
        if per_run_attrs:
            attrs.update(searcher=r["agent"], setting=r["setting"], seed=int(r["seed"]), evaluation=int(r["step"]),
                         archgym_trial_key=r["trial_key"])
        state = optuna.trial.TrialState.COMPLETE if all(math.isfinite(v) for v in values) else \
            optuna.trial.TrialState.FAIL
        out.append(optuna.trial.create_trial(
            state=state, values=values if state == optuna.trial.TrialState.COMPLETE else None, params=params,
            distributions={n: dists[n] for n in params}, user_attrs=attrs,
            system_attrs={"constraints": [0.0 if feasible else 1.0]}))
    return out


def _groups(data: A.StudyData, group: str) -> Iterable[tuple[str, pd.DataFrame, dict]]:
    """(study name, its evaluation rows, study user attributes) per Optuna study."""
    ev = data.evals
    done = data.complete().set_index("trial_id")
    if group == "problem":
        for problem in data.problems:
            rows = ev[ev["problem"] == problem].sort_values(["trial_id", "step"])
            first = done.loc[rows["trial_id"].iloc[0]]
            yield study_name(problem), rows, {"env_id": first["env_id"], "env_kwargs": first["env_kwargs"],
                                              "runs": int(rows["trial_id"].nunique())}
        return
    for tid, rows in ev.groupby("trial_id", sort=True):
        t = done.loc[tid]
        yield (study_name(t["problem"], t["agent"], t["setting"], int(t["seed"])), rows.sort_values("step"),
               {"env_id": t["env_id"], "env_kwargs": t["env_kwargs"], "searcher": t["agent"],
                "hyperparameters": t["hyperparameters"], "seed": int(t["seed"]), "budget": int(t["budget"]),
                "archgym_trial_key": t["trial_key"], "archgym_study": t["study"]})


#: file name endings written as an SQLite database; any other name is a journal file
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def open_storage(path: str | os.PathLike) -> Any:
    """The Optuna storage in file ``path``: an SQLite database for a name ending in
    :data:`SQLITE_SUFFIXES`, else an Optuna journal file (an append-only log;
    writing one is about 15x cheaper in CPU than Optuna's SQLite storage, which
    commits every trial attribute through its ORM).  A new SQLite file skips
    the per-commit fsync: it is written from scratch, and a crash leaves a
    partial export to delete, not a store to repair."""
    import optuna

    path = os.path.abspath(os.fspath(path))
    if not path.lower().endswith(SQLITE_SUFFIXES):
        from optuna.storages import JournalStorage
        try:
            from optuna.storages.journal import JournalFileBackend
        except ImportError:  # Optuna < 4.0
            from optuna.storages import JournalFileStorage as JournalFileBackend
        return JournalStorage(JournalFileBackend(path))
    from sqlalchemy import event

    fresh = not os.path.exists(path)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    if fresh:
        event.listen(storage.engine, "connect", lambda con, _: con.execute("PRAGMA synchronous=OFF"))
        storage.engine.dispose()  # reconnect with the pragma
    return storage


def export_to_optuna(store_path: str | os.PathLike, storage_path: str | os.PathLike, group: str = "run",
                     progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Write the store's evaluations into a new Optuna storage file at
    ``storage_path`` (:func:`open_storage`; refused if the file exists);
    returns the study names.
    ``progress(done, total)`` is called after each study, counting evaluations."""
    optuna = require_optuna()
    from archgym.objective import objective_from_record

    if group not in GROUPS:
        raise DashboardError(f"group must be one of {', '.join(GROUPS)}, got {group!r}")
    target = os.fspath(storage_path)
    if os.path.exists(target):
        raise DashboardError(f"{target} exists; give a new file for the Optuna storage (--export FILE)")
    data = A.load(os.fspath(store_path))
    if data.evals.empty:
        raise DashboardError(f"{os.fspath(store_path)!r} has no evaluations of complete trials to show")
    ev = data.evals
    metrics_all = [c for c in ev.columns if c not in _NOT_METRICS and not c.startswith("config.")]
    storage = open_storage(target)
    objectives = {p: A.problem_objective(data, p) for p in data.problems}
    names, done, total = [], 0, len(ev)
    dists_by_env = {env: infer_distributions(g.dropna(axis=1, how="all")) for env, g in ev.groupby("env_id")}
    for name, rows, attrs in _groups(data, group):
        problem = rows["problem"].iloc[0]
        objective = objectives[problem]
        pareto = objective.kind == "pareto"
        metrics = [m for m in metrics_all if rows[m].notna().any()]
        dists = {n: d for n, d in dists_by_env[attrs["env_id"]].items() if f"config.{n}" in rows
                 and rows[f"config.{n}"].notna().any()}
        st = optuna.create_study(storage=storage, study_name=name,
                                 directions=["maximize"] * (objective.n_objectives if pareto else 1))
        with warnings.catch_warnings():  # set_metric_names is marked experimental (Optuna >= 3.2)
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            st.set_metric_names([f"score {m}" for m in objective.metrics] if pareto else ["reward"])
        for k, v in {**attrs, "problem": problem, "objective": objective.to_spec()}.items():
            st.set_user_attr(k, _json_safe(v))
        st.add_trials(_trials_of(rows, metrics, dists, objective, pareto, per_run_attrs=group == "problem"))
        names.append(name)
        done += len(rows)
        if progress:
            progress(done, total)
    return names


def _json_safe(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    return _plain(v)


def serve(storage_path: str | os.PathLike, port: int = 8080,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve optuna-dashboard on the storage file ``storage_path`` (:func:`open_storage`) at http://127.0.0.1:``port``
    (``port=0``: a free port) until interrupted; ``ready(url)`` is called once
    the server listens.  Only the loopback address is bound: the dashboard has
    no authentication."""
    require_optuna()
    try:
        from optuna_dashboard import wsgi
    except ImportError:
        raise DashboardError("the dashboard needs optuna-dashboard: pip install 'archgym[dashboard]'") from None
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:  # no line per request on stderr
            pass

    app = wsgi(open_storage(storage_path))
    try:
        server = make_server(HOST, int(port), app, handler_class=Quiet)
    except OSError as exc:
        raise DashboardError(f"cannot listen on {HOST}:{port} ({exc.strerror}); choose another --port") from None
    with server:
        if ready:
            ready(f"http://{HOST}:{server.server_port}/dashboard/")
        server.serve_forever()


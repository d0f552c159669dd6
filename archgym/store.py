"""Results store: one embedded SQLite file per study.

Tables (schema version :data:`SCHEMA_VERSION`, kept in ``meta``):

* ``studies``: ``study_id``, ``name`` (unique), ``created`` (Unix s), ``spec`` (JSON);
* ``trials``: one search run -- ``trial_id``, ``study_id``, ``trial_key`` (stable id,
  unique per study), ``agent``, ``hyperparams`` (JSON), ``env_id``, ``env_kwargs``
  (JSON), ``seed``, ``budget``, ``status`` (``pending``/``running``/``complete``/
  ``failed``), ``started``/``ended`` (Unix s), ``wall_time_s``, ``error`` (traceback text);
* ``evaluations``: every design a trial evaluated -- ``trial_id``, ``step``
  (1-based), ``config`` and ``metrics`` (JSON), ``reward``, ``feasible``,
  ``reason``, ``wall_time_s``, ``simulator``, ``simulator_version``.

A trial's evaluations and its ``complete`` status are written in one
transaction, so a killed writer never leaves a half-recorded completed trial;
restarting a ``running`` trial deletes its partial rows first.  Only one process
writes (the sweep driver); readers may open the file at any time (WAL mode).

Opening validates before anything is written: a path that is a directory, a
file that is not SQLite, or another program's SQLite database raises
:class:`StoreError` (a :class:`~archgym.errors.UserInputError`: one line) and
leaves the file untouched, so ``archgym run --store`` can refuse a bad store
*before* it searches.  ``Store(path, readonly=True)`` (``report``,
``compare``) never writes: it creates no tables and leaves no ``-wal``/``-shm``
files behind (a store no writer has open is read as an immutable file).
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from typing import Any, Iterable, Mapping

from .errors import UserInputError

__all__ = ["Store", "SCHEMA_VERSION", "StoreError"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    spec TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(study_id),
    trial_key TEXT NOT NULL,
    agent TEXT NOT NULL,
    hyperparams TEXT NOT NULL DEFAULT '{}',
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL DEFAULT '{}',
    seed INTEGER NOT NULL,
    budget INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    started REAL,
    ended REAL,
    wall_time_s REAL,
    error TEXT,
    UNIQUE (study_id, trial_key)
);
CREATE TABLE IF NOT EXISTS evaluations (
    trial_id INTEGER NOT NULL REFERENCES trials(trial_id),
    step INTEGER NOT NULL,
    config TEXT NOT NULL,
    metrics TEXT NOT NULL,
    reward REAL,
    feasible INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    wall_time_s REAL,
    simulator TEXT,
    simulator_version TEXT,
    PRIMARY KEY (trial_id, step)
);
CREATE INDEX IF NOT EXISTS trials_by_study ON trials(study_id, status);
"""

STATUSES = ("pending", "running", "complete", "failed")


class StoreError(UserInputError):
    """The path is not a usable archgym store: a directory, not SQLite, another
    program's database, another schema version, missing (read-only), or empty
    of what a command needs."""

_TABLES = {"meta", "studies", "trials", "evaluations"}


def _dumps(obj: Any) -> str:
    def fix(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if hasattr(v, "item"):  # numpy scalars
            return fix(v.item())
        return v

    if isinstance(obj, Mapping):
        obj = {k: fix(v) for k, v in obj.items()}
    return json.dumps(obj, sort_keys=True, default=str)


def _loads_metrics(text: str) -> dict:
    return {k: (math.nan if v is None else v) for k, v in json.loads(text).items()}


class Store:
    """A results database (see the module docstring).  ``Store(path)`` creates or opens it."""

    def __init__(self, path: str | os.PathLike, readonly: bool = False) -> None:
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        if os.path.isdir(self.path):
            raise StoreError(f"store {self.path!r} is a directory; give a file path (e.g. results.db)")
        exists = os.path.isfile(self.path) and os.path.getsize(self.path) > 0
        if readonly:
            if not os.path.exists(self.path):
                raise StoreError(f"no such results store: {self.path!r}")
            self._con = self._connect_readonly()
        else:
            parent = os.path.dirname(os.path.abspath(self.path))
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store's folder {parent!r}: {exc.strerror}") from None
            try:
                self._con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open store {self.path!r}: {exc}") from None
        try:
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if (readonly or (exists and tables)) and not tables >= _TABLES:
                found = ", ".join(sorted(tables)) or "no tables"
                raise StoreError(f"{self.path!r} is not an archgym results store (an SQLite file with {found}); "
                                 "give a new file or an archgym store")
            if not readonly:
                self._con.execute("PRAGMA journal_mode=WAL")
                self._con.execute("PRAGMA synchronous=NORMAL")
                self._con.executescript(_SCHEMA)
            row = self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise StoreError(f"{self.path!r} is not an archgym results store ({exc})") from None
        except StoreError:
            self._con.close()
            raise
        if row is None and not readonly:
            self._con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif row is None or int(row[0]) != SCHEMA_VERSION:
            self._con.close()
            raise StoreError(f"{self.path!r} has schema version {row[0] if row else 'none'}; "
                             f"this archgym reads {SCHEMA_VERSION}")

    def _connect_readonly(self) -> sqlite3.Connection:
        """A connection that cannot write and leaves no files: a store without a
        ``-wal`` file (no writer has it open) is opened ``immutable``; one being
        written is opened ``mode=ro`` (its ``-wal``/``-shm`` already exist)."""
        from urllib.parse import quote

        uri = "file:" + quote(os.path.abspath(self.path))
        mode = "mode=ro" if os.path.exists(self.path + "-wal") else "immutable=1"
        try:
            return sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path!r} read-only: {exc}") from None

    def study_specs(self) -> dict[str, dict]:
        """Study name -> the spec stored with it."""
        return {name: json.loads(spec or "{}") for name, spec in self._con.execute("SELECT name, spec FROM studies")}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def study(self, name: str, spec: Mapping[str, Any] | None = None) -> int:
        """Id of study ``name``, created if new (``spec`` is stored on creation)."""
        row = self._con.execute("SELECT study_id FROM studies WHERE name=?", (name,)).fetchone()
        if row:
            return int(row[0])
        cur = self._con.execute("INSERT INTO studies(name, created, spec) VALUES (?,?,?)",
                                (name, time.time(), _dumps(spec or {})))
        return int(cur.lastrowid)

    def add_trial(self, study_id: int, trial_key: str, agent: str, hyperparams: Mapping[str, Any],
                  env_id: str, env_kwargs: Mapping[str, Any], seed: int, budget: int) -> int:
        """Id of the trial ``trial_key`` in the study, created ``pending`` if new."""
        row = self._con.execute("SELECT trial_id FROM trials WHERE study_id=? AND trial_key=?",
                                (study_id, trial_key)).fetchone()
        if row:
            return int(row[0])
        cur = self._con.execute(
            "INSERT INTO trials(study_id, trial_key, agent, hyperparams, env_id, env_kwargs, seed, budget)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (study_id, trial_key, agent, _dumps(hyperparams), env_id, _dumps(env_kwargs), int(seed), int(budget)))
        return int(cur.lastrowid)

    def start_trial(self, trial_id: int) -> None:
        """Mark running; drops rows left by an earlier, interrupted attempt."""
        with self._con:
            self._con.execute("BEGIN")
            self._con.execute("DELETE FROM evaluations WHERE trial_id=?", (trial_id,))
            self._con.execute("UPDATE trials SET status='running', started=?, ended=NULL, error=NULL WHERE trial_id=?",
                              (time.time(), trial_id))

    def complete_trial(self, trial_id: int, evaluations: Iterable[Mapping[str, Any]],
                       simulator: str = "", simulator_version: str = "", wall_time_s: float | None = None) -> None:
        """Record every evaluation of a trial and mark it complete, atomically.

        Each evaluation is a mapping with ``config``, ``metrics``, ``reward``,
        ``feasible``, ``reason``, ``wall_time_s`` and optionally ``evaluation`` (step).
        """
        rows = []
        for i, ev in enumerate(evaluations, start=1):
            rows.append((trial_id, int(ev.get("evaluation", i)), _dumps(ev["config"]), _dumps(ev["metrics"]),
                         None if not math.isfinite(ev["reward"]) else float(ev["reward"]),
                         int(bool(ev["feasible"])), str(ev.get("reason", "")), float(ev.get("wall_time_s", 0.0)),
                         simulator, simulator_version))
        with self._con:
            self._con.execute("BEGIN")
            self._con.execute("DELETE FROM evaluations WHERE trial_id=?", (trial_id,))
            self._con.executemany("INSERT INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self._con.execute("UPDATE trials SET status='complete', ended=?, wall_time_s=?, error=NULL "
                              "WHERE trial_id=?", (time.time(), wall_time_s, trial_id))

    def fail_trial(self, trial_id: int, error: str, wall_time_s: float | None = None) -> None:
        with self._con:
            self._con.execute("BEGIN")
            self._con.execute("DELETE FROM evaluations WHERE trial_id=?", (trial_id,))
            self._con.execute("UPDATE trials SET status='failed', ended=?, wall_time_s=?, error=? WHERE trial_id=?",
                              (time.time(), wall_time_s, error, trial_id))

    # ------------------------------------------------------------------ reading
    def studies(self) -> list[str]:
        return [r[0] for r in self._con.execute("SELECT name FROM studies ORDER BY study_id")]

    def statuses(self, study_id: int) -> dict[str, str]:
        """``trial_key -> status`` for a study."""
        return dict(self._con.execute("SELECT trial_key, status FROM trials WHERE study_id=?", (study_id,)))

    def _study_filter(self, study: str | None) -> tuple[str, tuple]:
        if study is None:
            return "", ()
        return " AND s.name=?", (study,)

    def trials(self, study: str | None = None):
        """Trials as a DataFrame (hyperparams/env_kwargs decoded to dicts)."""
        import pandas as pd

        where, args = self._study_filter(study)
        df = pd.read_sql_query(
            "SELECT s.name AS study, t.* FROM trials t JOIN studies s USING(study_id) WHERE 1=1" + where
            + " ORDER BY t.trial_id", self._con, params=args)
        for col in ("hyperparams", "env_kwargs"):
            df[col] = df[col].map(json.loads)
        return df

    def evaluations(self, study: str | None = None, status: str | None = "complete"):
        """Every evaluation as a flat DataFrame: trial columns (``study``, ``trial_id``,
        ``trial_key``, ``agent``, ``env_id``, ``seed``, ``hyperparams``), ``step``,
        ``reward``, ``best_reward`` (running max within the trial), ``feasible``,
        ``reason``, ``wall_time_s``, ``simulator``, ``simulator_version``, one column
        per metric (its own name) and one per parameter (``config.<name>``)."""
        import pandas as pd

        where, args = self._study_filter(study)
        if status is not None:
            where += " AND t.status=?"
            args = args + (status,)
        df = pd.read_sql_query(
            "SELECT s.name AS study, t.trial_id, t.trial_key, t.agent, t.env_id, t.seed, t.hyperparams, "
            "e.step, e.reward, e.feasible, e.reason, e.wall_time_s, e.simulator, e.simulator_version, "
            "e.config, e.metrics FROM evaluations e JOIN trials t USING(trial_id) JOIN studies s USING(study_id) "
            "WHERE 1=1" + where + " ORDER BY e.trial_id, e.step", self._con, params=args)
        if df.empty:
            return df.drop(columns=["config", "metrics"])
        df["feasible"] = df["feasible"].astype(bool)
        df["reward"] = df["reward"].astype(float)
        df["best_reward"] = df.groupby("trial_id")["reward"].cummax()
        df["hyperparams"] = df["hyperparams"].map(json.loads)
        metrics = pd.DataFrame([_loads_metrics(m) for m in df.pop("metrics")], index=df.index)
        configs = pd.DataFrame([json.loads(c) for c in df.pop("config")], index=df.index)
        configs.columns = [f"config.{c}" for c in configs.columns]
        return pd.concat([df, metrics, configs], axis=1)

    def export_csv(self, path: str | os.PathLike, study: str | None = None, what: str = "evaluations") -> int:
        """Write ``evaluations`` or ``trials`` to CSV; returns the row count."""
        if what not in ("evaluations", "trials"):
            raise ValueError(f"what must be 'evaluations' or 'trials', got {what!r}")
        df = self.evaluations(study) if what == "evaluations" else self.trials(study)
        df.to_csv(path, index=False)
        return len(df)

    def export_parquet(self, path: str | os.PathLike, study: str | None = None) -> int:
        """Write evaluations to Parquet (needs pyarrow or fastparquet)."""
        df = self.evaluations(study)
        df["hyperparams"] = df["hyperparams"].map(_dumps)
        df.to_parquet(path, index=False)
        return len(df)

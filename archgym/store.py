"""Results store: one embedded SQLite file per study.

Tables (schema version :data:`SCHEMA_VERSION`, kept in ``meta``):

* ``studies``: ``study_id``, ``name`` (unique), ``created`` (Unix s), ``spec`` (JSON);
* ``trials``: one search run (:class:`~archgym.trial.Trial`) -- ``trial_id``,
  ``study_id``, ``trial_key`` (its identity, unique per study), ``agent``,
  ``hyperparameters`` (JSON, as given), ``env_id``, ``env_kwargs`` (JSON),
  ``seed``, ``budget``, ``status`` (a :class:`~archgym.trial.TrialState`
  value), ``started``/``ended`` (Unix s), ``wall_time_s`` (measured, the whole
  trial), ``error`` (traceback text), ``objective`` (JSON: the objective as
  bound to the simulator, :meth:`archgym.objective.Objective.to_record`, so a
  store is read without plugins or simulators);
* ``evaluations``: every design a trial evaluated -- ``trial_id``, ``step``
  (1-based), ``config`` and ``metrics`` (JSON), ``reward``, ``feasible``,
  ``reason``, ``wall_time_s`` (inside the simulator), ``simulator``,
  ``simulator_version``.

Writing: :meth:`Store.record` writes a finished trial -- its row if new, its
evaluations and its final state -- in one transaction, so a killed writer
never leaves a half-recorded trial (a failed trial keeps the evaluations it
made before failing).  A sweep's driver also registers trials
(:meth:`Store.add_trial`, ``pending``) and marks them ``running``
(:meth:`Store.start_trial`, which drops rows of an interrupted attempt).
Readers may open the file at any time (WAL mode).

Opening validates before anything is written: a path that is a directory, a
file that is not SQLite, or another program's SQLite database raises
:class:`StoreError` (a :class:`~archgym.errors.UserInputError`: one line) and
leaves the file untouched, so ``archgym run --store`` can refuse a bad store
*before* it searches.  ``Store(path, readonly=True)`` (``report``,
``compare``) never writes: it creates no tables and leaves no ``-wal``/``-shm``
files behind (a store no writer has open is read as an immutable file).

A store of schema 1 (archgym before the run pipeline: ``hyperparams``, no
``objective``) is upgraded in place when opened for writing, and read through
an upgraded in-memory copy when opened read-only.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from typing import Any, Iterator, Mapping

from .errors import UserInputError
from .trial import Trial, TrialResult, TrialState

__all__ = ["Store", "SCHEMA_VERSION", "StoreError"]

SCHEMA_VERSION = 2

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
    hyperparameters TEXT NOT NULL DEFAULT '{}',
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL DEFAULT '{}',
    seed INTEGER NOT NULL,
    budget INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    started REAL,
    ended REAL,
    wall_time_s REAL,
    error TEXT,
    objective TEXT,
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

#: schema 1 -> 2: the run pipeline's names and the bound objective per trial
_UPGRADE_FROM_1 = """
ALTER TABLE trials RENAME COLUMN hyperparams TO hyperparameters;
ALTER TABLE trials ADD COLUMN objective TEXT;
UPDATE meta SET value='2' WHERE key='schema_version';
"""


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


#: how long a writer waits for another process's transaction before reporting the store as locked
LOCK_TIMEOUT_S = 60.0


def _is_locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _retry_locked(work):
    """``work()``, retried while SQLite reports the database locked or busy
    (some of its lock states, e.g. another connection initializing the WAL,
    return at once instead of waiting), for up to :data:`LOCK_TIMEOUT_S`."""
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return work()
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


class Store:
    """A results database (see the module docstring).  ``Store(path)`` creates or opens it."""

    def __init__(self, path: str | os.PathLike, readonly: bool = False) -> None:
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        if os.path.isdir(self.path):
            raise StoreError(f"store {self.path!r} is a directory; give a file path (e.g. results.db)")
        if readonly:
            if not os.path.exists(self.path):
                raise StoreError(f"no such results store: {self.path!r}")
            self._con = self._connect_readonly()
            self._open(readonly=True)
            return
        parent = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's folder {parent!r}: {exc.strerror}") from None
        try:
            self._con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path!r}: {exc}") from None
        self._open(readonly=False)

    def _open(self, readonly: bool) -> None:
        """Check (and, writable, create or upgrade) the schema, all in one transaction,
        so concurrent writers see either no tables or all of them."""
        try:
            row = _retry_locked(lambda: self._check_schema(readonly))
        except StoreError:
            self._con.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._con.close()
            if _is_locked(exc):
                raise StoreError(f"store {self.path!r} is locked by another process (waited "
                                 f"{LOCK_TIMEOUT_S:.0f} s); try again when it finishes") from None
            raise StoreError(f"{self.path!r} is not an archgym results store ({exc})") from None
        if row is not None and int(row[0]) == 1 and readonly:  # read an upgraded copy; the file stays as it is
            mem = sqlite3.connect(":memory:", isolation_level=None)
            self._con.backup(mem)
            self._con.close()
            self._con = mem
            for statement in _UPGRADE_FROM_1.split(";"):
                if statement.strip():
                    mem.execute(statement)
        elif row is None or int(row[0]) not in (1, SCHEMA_VERSION):
            self._con.close()
            raise StoreError(f"{self.path!r} has schema version {row[0] if row else 'none'}; "
                             f"this archgym reads {SCHEMA_VERSION}")

    def _check_schema(self, readonly: bool):
        if not readonly:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
        with self._transaction(write=not readonly):
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if (readonly or tables) and not tables >= _TABLES:
                found = ", ".join(sorted(tables)) or "no tables"
                raise StoreError(f"{self.path!r} is not an archgym results store (an SQLite file with {found}); "
                                 "give a new file or an archgym store")
            if not readonly:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._con.execute(statement)
                self._con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
            row = self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is not None and int(row[0]) == 1 and not readonly:
                for statement in _UPGRADE_FROM_1.split(";"):
                    if statement.strip():
                        self._con.execute(statement)
        return row

    @contextlib.contextmanager
    def _transaction(self, write: bool = True) -> Iterator[None]:
        """One transaction; a writer takes the write lock first (``BEGIN IMMEDIATE``,
        waiting up to :data:`LOCK_TIMEOUT_S` for other processes), so it never
        fails half-way on a lock another writer took after it read."""
        begin = "BEGIN IMMEDIATE" if write and not self.readonly else "BEGIN"
        _retry_locked(lambda: self._con.execute(begin))
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

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
        with self._writing():
            self._con.execute("INSERT OR IGNORE INTO studies(name, created, spec) VALUES (?,?,?)",
                              (name, time.time(), _dumps(spec or {})))
            return int(self._con.execute("SELECT study_id FROM studies WHERE name=?", (name,)).fetchone()[0])

    def add_trial(self, study_id: int, trial: Trial) -> int:
        """Id of ``trial`` in the study, registered ``pending`` if new."""
        with self._writing():
            return self._add_trial(study_id, trial)

    def _add_trial(self, study_id: int, trial: Trial) -> int:
        self._con.execute(
            "INSERT OR IGNORE INTO trials(study_id, trial_key, agent, hyperparameters, env_id, env_kwargs, seed, "
            "budget) VALUES (?,?,?,?,?,?,?,?)",
            (study_id, trial.key, trial.agent, _dumps(trial.hyperparameters), trial.env_id, _dumps(trial.env_kwargs),
             int(trial.seed), int(trial.budget)))
        row = self._con.execute("SELECT trial_id FROM trials WHERE study_id=? AND trial_key=?",
                                (study_id, trial.key)).fetchone()
        return int(row[0])

    def start_trial(self, trial_id: int) -> bool:
        """Claim a trial for running, atomically: mark it running and drop rows
        left by an earlier, interrupted attempt -- unless another writer has
        completed it meanwhile, in which case nothing changes and False is returned."""
        with self._writing():
            row = self._con.execute("SELECT status FROM trials WHERE trial_id=?", (trial_id,)).fetchone()
            if row is not None and row[0] == TrialState.COMPLETE.value:
                return False
            self._con.execute("DELETE FROM evaluations WHERE trial_id=?", (trial_id,))
            self._con.execute("UPDATE trials SET status=?, started=?, ended=NULL, error=NULL WHERE trial_id=?",
                              (TrialState.RUNNING.value, time.time(), trial_id))
            return True

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction whose lock timeout is one line naming the store."""
        try:
            with self._transaction(write=True):
                yield
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StoreError(f"store {self.path!r} is locked by another process (waited "
                                 f"{LOCK_TIMEOUT_S:.0f} s); try again when it finishes") from None
            raise

    def record(self, study_id: int, trial: Trial, result: TrialResult) -> int:
        """Write a finished trial in one transaction: its row (registered if
        new), every evaluation of ``result.history`` (replacing any earlier
        attempt's), and its state, times, objective and error.  Returns its id."""
        rows = []
        for i, ev in enumerate(result.history, start=1):
            reward = ev["reward"]
            rows.append((int(ev.get("evaluation", i)), _dumps(ev["config"]), _dumps(ev["metrics"]),
                         None if not math.isfinite(reward) else float(reward), int(bool(ev["feasible"])),
                         str(ev.get("reason", "")), float(ev.get("wall_time_s", 0.0)), result.simulator,
                         result.simulator_version))
        objective = None if result.objective is None else _dumps(result.objective)
        with self._writing():
            trial_id = self._add_trial(study_id, trial)
            self._con.execute("DELETE FROM evaluations WHERE trial_id=?", (trial_id,))
            self._con.executemany("INSERT INTO evaluations VALUES (?,?,?,?,?,?,?,?,?,?)",
                                  [(trial_id, *r) for r in rows])
            self._con.execute("UPDATE trials SET status=?, started=?, ended=?, wall_time_s=?, error=?, objective=? "
                              "WHERE trial_id=?",
                              (TrialState(result.state).value, result.started or None, result.ended or time.time(),
                               result.wall_time_s, result.error, objective, trial_id))
        return trial_id

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
        """Trials as a DataFrame (``hyperparameters``, ``env_kwargs`` and ``objective`` decoded)."""
        import pandas as pd

        where, args = self._study_filter(study)
        df = pd.read_sql_query(
            "SELECT s.name AS study, t.* FROM trials t JOIN studies s USING(study_id) WHERE 1=1" + where
            + " ORDER BY t.trial_id", self._con, params=args)
        for col in ("hyperparameters", "env_kwargs"):
            df[col] = df[col].map(json.loads)
        df["objective"] = [json.loads(o) if isinstance(o, str) else None for o in df["objective"]]
        return df

    def evaluations(self, study: str | None = None, status: str | None = "complete"):
        """Every evaluation as a flat DataFrame: trial columns (``study``, ``trial_id``,
        ``trial_key``, ``agent``, ``env_id``, ``seed``, ``hyperparameters``), ``step``,
        ``reward``, ``best_reward`` (running max within the trial), ``feasible``,
        ``reason``, ``wall_time_s``, ``simulator``, ``simulator_version``, one column
        per metric (its own name) and one per parameter (``config.<name>``)."""
        import pandas as pd

        where, args = self._study_filter(study)
        if status is not None:
            where += " AND t.status=?"
            args = args + (status,)
        df = pd.read_sql_query(
            "SELECT s.name AS study, t.trial_id, t.trial_key, t.agent, t.env_id, t.seed, t.hyperparameters, "
            "e.step, e.reward, e.feasible, e.reason, e.wall_time_s, e.simulator, e.simulator_version, "
            "e.config, e.metrics FROM evaluations e JOIN trials t USING(trial_id) JOIN studies s USING(study_id) "
            "WHERE 1=1" + where + " ORDER BY e.trial_id, e.step", self._con, params=args)
        if df.empty:
            return df.drop(columns=["config", "metrics"])
        df["feasible"] = df["feasible"].astype(bool)
        df["reward"] = df["reward"].astype(float)
        df["best_reward"] = df.groupby("trial_id")["reward"].cummax()
        df["hyperparameters"] = df["hyperparameters"].map(json.loads)
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
        df["hyperparameters"] = df["hyperparameters"].map(_dumps)
        df.to_parquet(path, index=False)
        return len(df)

"""Results store: round trip through the run pipeline, restarts, failures, the bound objective, schema upgrade."""
import json
import math
import sqlite3

import numpy as np
import pytest

import archgym
from archgym.objective import objective_from_record
from archgym.pipeline import run_trial
from archgym.store import SCHEMA_VERSION, Store, StoreError
from archgym.trial import Trial, TrialResult, TrialState


def _trial(toy, seed=0, budget=5, **kwargs):
    return Trial.create(toy, kwargs, "random", {}, seed, budget)


def test_round_trip_through_the_pipeline(tmp_path, toy_registered):
    trial = _trial(toy_registered, workload="default")
    result = run_trial(trial)
    assert result.state is TrialState.COMPLETE and len(result.history) == 5
    env = archgym.make(toy_registered)
    traj = archgym.make_agent("random").run(env, 5, 0)  # the same trial, run by hand
    with Store(tmp_path / "s.db") as st:
        sid = st.study("demo", {"budget": 5})
        tid = st.record(sid, trial, result)
        assert st.add_trial(sid, trial) == tid  # one row per trial key
        ev = st.evaluations("demo")
        tr = st.trials("demo")
    assert len(ev) == 5 and ev["step"].tolist() == [1, 2, 3, 4, 5]
    assert ev["reward"].tolist() == pytest.approx(traj["reward"].tolist())
    assert ev["best_reward"].tolist() == pytest.approx(traj["best_reward"].tolist())
    for name in ("x", "y", "mode"):
        assert ev[f"config.{name}"].tolist() == traj[name].tolist()
    got, want = ev["cost"].tolist(), traj["cost"].tolist()
    assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want))
    assert ev["simulator_version"].unique().tolist() == ["1"]
    row = tr.iloc[0]
    assert row["status"] == "complete" and row["env_kwargs"] == {"workload": "default"}
    assert row["wall_time_s"] >= ev["wall_time_s"].sum() > 0  # measured wall time, not the simulator's sum


def test_the_recorded_objective_scores_like_the_env(tmp_path, toy_registered):
    trial = _trial(toy_registered, budget=12, objective="pareto:cost,area")
    with Store(tmp_path / "s.db") as st:
        st.record(st.study("s"), trial, run_trial(trial))
        record = st.trials("s").iloc[0]["objective"]
        ev = st.evaluations("s")
    obj = objective_from_record(record)  # no simulator needed
    env = archgym.make(toy_registered, objective="pareto:cost,area")
    for _, r in ev.iterrows():
        res = {"cost": r["cost"], "area": r["area"], "feasible": r["feasible"]}
        assert obj.reward(res) == env.objective.reward(res) == pytest.approx(r["reward"], nan_ok=True)
        np.testing.assert_array_equal(obj.vector(res), env.objective.vector(res))


def test_failed_and_restarted_trials(tmp_path, toy_registered):
    trial = _trial(toy_registered)
    st = Store(tmp_path / "s.db")
    sid = st.study("s")
    tid = st.add_trial(sid, trial)
    st.start_trial(tid)
    # a partial write from a killed attempt, then a restart
    st._con.execute("INSERT INTO evaluations VALUES (?,1,'{}','{}',0.0,1,'',0.0,'Toy','1')", (tid,))
    st.start_trial(tid)
    assert st.evaluations("s", status=None).empty
    failed = TrialResult(key=trial.key, state=TrialState.FAILED, error="Traceback: boom", error_line="boom")
    st.record(sid, trial, failed)
    assert st.statuses(sid) == {trial.key: "failed"}
    assert st.trials("s").loc[0, "error"] == "Traceback: boom"
    st.start_trial(tid)
    st.record(sid, trial, run_trial(trial))
    assert st.statuses(sid) == {trial.key: "complete"} and len(st.evaluations("s")) == 5
    assert st.trials("s").loc[0, "error"] is None
    n = st.export_csv(tmp_path / "e.csv", "s")
    assert n == 5 and (tmp_path / "e.csv").read_text().count("\n") == 6
    st.close()


def test_a_failing_trial_keeps_its_traceback_and_its_evaluations(tmp_path, toy_registered):
    class Boom(archgym.testing.ToySimulator):
        calls = 0

        def _evaluate(self, config):
            Boom.calls += 1
            if Boom.calls > 3:
                raise RuntimeError("the simulator broke")
            return super()._evaluate(config)

    archgym.register("Boom-v0", Boom, overwrite=True)
    Boom.calls = -1  # the env's reference design is evaluated once when it is built
    trial = Trial.create("Boom-v0", {}, "random", {}, 0, 10)
    result = run_trial(trial)
    assert result.state is TrialState.FAILED and not result.user_error
    assert "RuntimeError: the simulator broke" in result.error and result.error_line.startswith("RuntimeError")
    with Store(tmp_path / "s.db") as st:
        st.record(st.study("s"), trial, result)
        assert len(st.evaluations("s", status="failed")) == len(result.history) == 3


def test_a_bad_trial_is_a_failed_result_with_a_user_error(toy_registered):
    trial = Trial(env_id=toy_registered, env_kwargs={"workload": "nope"}, agent="random", hyperparameters={},
                  seed=0, budget=3, key="k")
    result = run_trial(trial)
    assert result.state is TrialState.FAILED and result.user_error and "nope" in result.error_line


def test_schema_version_checked(tmp_path):
    p = tmp_path / "s.db"
    Store(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 999"):
        Store(p)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not an archgym results store"):
        Store(tmp_path / "junk.db")
    assert SCHEMA_VERSION == 2


def _schema_1_store(path) -> None:
    """A store as archgym wrote it before the run pipeline (schema 1)."""
    con = sqlite3.connect(path)
    con.executescript("""
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE studies (study_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL,
                          spec TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL, trial_key TEXT NOT NULL,
        agent TEXT NOT NULL, hyperparams TEXT NOT NULL DEFAULT '{}', env_id TEXT NOT NULL,
        env_kwargs TEXT NOT NULL DEFAULT '{}', seed INTEGER NOT NULL, budget INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', started REAL, ended REAL, wall_time_s REAL, error TEXT,
        UNIQUE (study_id, trial_key));
    CREATE TABLE evaluations (trial_id INTEGER NOT NULL, step INTEGER NOT NULL, config TEXT NOT NULL,
        metrics TEXT NOT NULL, reward REAL, feasible INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',
        wall_time_s REAL, simulator TEXT, simulator_version TEXT, PRIMARY KEY (trial_id, step));
    INSERT INTO meta VALUES ('schema_version', '1');
    INSERT INTO studies VALUES (1, 'old', 0, '{}');
    INSERT INTO trials VALUES (1, 1, 'k', 'ga', '{"population_size": 8}', 'Toy-v0', '{}', 0, 1, 'complete',
                               0, 1, 0.5, NULL);
    INSERT INTO evaluations VALUES (1, 1, '{"x": 7, "y": 8, "mode": "a"}', '{"cost": 0.0, "area": 10.0}', 1.0, 1,
                                    '', 0.01, 'Toy', '1');
    """)
    con.commit()
    con.close()


def test_a_schema_1_store_is_read_through_an_upgraded_copy_and_upgraded_when_written(tmp_path):
    p = tmp_path / "old.db"
    _schema_1_store(p)
    before = p.read_bytes()
    with Store(p, readonly=True) as st:
        t = st.trials()
        assert t.loc[0, "hyperparameters"] == {"population_size": 8} and t.loc[0, "objective"] is None
        assert st.evaluations()["cost"].tolist() == [0.0]
    assert p.read_bytes() == before  # read-only: the file is untouched
    Store(p).close()  # writable: upgraded in place
    con = sqlite3.connect(p)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
    assert json.loads(con.execute("SELECT hyperparameters FROM trials").fetchone()[0]) == {"population_size": 8}
    con.close()

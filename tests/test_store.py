"""Results store: round trip, atomic completion, restart of partial trials, schema version."""
import math
import sqlite3

import pytest

import archgym
from archgym.store import SCHEMA_VERSION, Store, StoreError


def _run(toy, seed=0, budget=5):
    env = archgym.make(toy)
    traj = archgym.make_agent("random").run(env, budget, seed)
    return env, traj


def test_round_trip(tmp_path, toy_registered):
    env, traj = _run(toy_registered)
    with Store(tmp_path / "s.db") as st:
        sid = st.study("demo", {"budget": 5})
        tid = st.add_trial(sid, "k1", "random", {}, "Toy-v0", {"workload": "default"}, 0, 5)
        assert st.add_trial(sid, "k1", "random", {}, "Toy-v0", {}, 0, 5) == tid  # idempotent
        st.start_trial(tid)
        st.complete_trial(tid, env.history, "Toy", "1", 0.1)
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
    assert tr.loc[0, "status"] == "complete" and tr.loc[0, "env_kwargs"] == {"workload": "default"}


def test_failed_and_restarted_trials(tmp_path, toy_registered):
    env, _ = _run(toy_registered)
    st = Store(tmp_path / "s.db")
    sid = st.study("s")
    tid = st.add_trial(sid, "k", "random", {}, "Toy-v0", {}, 0, 5)
    st.start_trial(tid)
    # simulate a partial write from a killed attempt, then a restart
    st._con.execute("INSERT INTO evaluations VALUES (?,1,'{}','{}',0.0,1,'',0.0,'Toy','1')", (tid,))
    st.start_trial(tid)
    assert st.evaluations("s", status=None).empty
    st.fail_trial(tid, "Traceback: boom")
    assert st.statuses(sid) == {"k": "failed"}
    assert st.trials("s").loc[0, "error"] == "Traceback: boom"
    st.start_trial(tid)
    st.complete_trial(tid, env.history)
    assert st.statuses(sid) == {"k": "complete"} and len(st.evaluations("s")) == 5
    n = st.export_csv(tmp_path / "e.csv", "s")
    assert n == 5 and (tmp_path / "e.csv").read_text().count("\n") == 6
    st.close()


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
    assert SCHEMA_VERSION == 1

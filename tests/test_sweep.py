"""The sweep runner: recording, resume after SIGKILL, failures, retry, Dask parity."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from archgym.experiments.sweep.runner import run_sweep
from archgym.store import Store
from test_experiments_plugin import write_spec, restore_registry  # noqa: F401

BASIC = """\
study: basic
budget: 12
seeds: 2
environments:
  - id: Toy-v0
    objectives: ["cost"]
searchers:
  - agent: random
  - agent: hill
    hyperparameters: {radius: [1, 2]}
"""


def _records(store_path: str) -> dict:
    """trial_key -> list of (step, config, reward) for complete trials."""
    with Store(store_path) as db:
        ev = db.evaluations()
    cfg_cols = [c for c in ev.columns if c.startswith("config.")]
    out: dict = {}
    for key, g in ev.groupby("trial_key"):
        out[key] = [(int(r["step"]), tuple(r[c] for c in cfg_cols), round(float(r["reward"]), 12))
                    for _, r in g.sort_values("step").iterrows()]
    return out


def test_sweep_records_every_trial_and_a_rerun_does_nothing(tmp_path):
    spec = write_spec(tmp_path, BASIC)
    s = run_sweep(spec, workers=2, progress=False)
    assert s["trials"] == 6 and s["completed"] == 6 and s["failed"] == 0
    assert s["store"] == str(tmp_path / "study.db")
    with Store(s["store"]) as db:
        t = db.trials()
        ev = db.evaluations()
    assert set(t["status"]) == {"complete"}
    assert ev.groupby("trial_id").size().tolist() == [12] * 6
    assert (t["wall_time_s"] > 0).all()
    again = run_sweep(spec, workers=2, progress=False)
    assert again["ran"] == 0 and again["skipped_complete"] == 6


def test_a_second_driver_on_the_same_store_is_refused(tmp_path):
    from archgym.experiments.sweep.runner import SweepLocked, _exclusive

    spec = write_spec(tmp_path, BASIC)
    with _exclusive(str(tmp_path / "study.db")):
        with pytest.raises(SweepLocked, match="another sweep is writing"):
            run_sweep(spec, progress=False)
    assert run_sweep(spec, executor="inline", progress=False)["completed"] == 6


def test_inline_and_local_runs_agree(tmp_path):
    a = run_sweep(write_spec(tmp_path, BASIC, "a.yaml"), workers=2, progress=False)
    b = run_sweep(write_spec(tmp_path, BASIC, "b.yaml"), executor="inline", progress=False)
    assert _records(a["store"]) == _records(b["store"])


def test_failed_trials_are_recorded_and_retried(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, BASIC.replace("  - agent: random\n", "  - agent: flaky\n"))
    s = run_sweep(spec, workers=2, progress=False)
    assert s["failed"] == 1 and s["completed"] == 5  # flaky fails on seed 1
    with Store(s["store"]) as db:
        t = db.trials()
    failed = t[t["status"] == "failed"]
    assert failed[["agent", "seed"]].values.tolist() == [["flaky", 1]]
    assert all("Traceback" in e and "flaky agent refuses odd seed 1" in e for e in failed["error"])
    done_before = t[t["status"] == "complete"].set_index("trial_key")["started"].to_dict()

    skipped = run_sweep(spec, workers=1, progress=False)
    assert skipped["ran"] == 0 and skipped["skipped_failed"] == len(failed)

    monkeypatch.setenv("ARCHGYM_TEST_FLAKY_OK", "1")  # "fix the bug"
    retried = run_sweep(spec, workers=1, retry_failed=True, progress=False)
    assert retried["ran"] == len(failed) and retried["failed"] == 0 and retried["complete"] == 6
    with Store(s["store"]) as db:
        t2 = db.trials()
    assert t2[t2["trial_key"].isin(done_before)].set_index("trial_key")["started"].to_dict() == done_before
    assert t2["error"].isna().all()


def test_a_dying_worker_process_fails_its_trial_only(tmp_path):
    spec = write_spec(tmp_path, BASIC.replace("seeds: 2", "seeds: 3").replace("  - agent: random\n",
                                                                                "  - agent: crash\n"))
    s = run_sweep(spec, workers=1, progress=False)
    assert s["failed"] == 1 and s["completed"] == 8
    with Store(s["store"]) as db:
        t = db.trials()
    failed = t[t["status"] == "failed"]
    assert failed[["agent", "seed"]].values.tolist() == [["crash", 1]]
    assert "worker process died" in failed["error"].iloc[0]


def test_cli_exit_status_reflects_failures(tmp_path):
    spec = write_spec(tmp_path, BASIC.replace("seeds: 2", "seeds: [1]").replace("  - agent: random\n",
                                                                                  "  - agent: flaky\n"))
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    r = subprocess.run([sys.executable, "-m", "archgym.cli", "sweep", spec, "--quiet"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert '"failed": 1' in r.stdout
    r = subprocess.run([sys.executable, "-m", "archgym.cli", "sweep", str(tmp_path / "nope.yaml")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("archgym: error:")


SLOW = """\
study: slow
budget: 6
seeds: 8
environments:
  - id: SlowToy-v0
    kwargs: {delay: 0.05}
searchers:
  - agent: random
"""


def _statuses(db_path: str) -> dict:
    if not os.path.exists(db_path):
        return {}
    con = sqlite3.connect(db_path, timeout=30)
    try:
        return dict(con.execute("SELECT trial_key, status FROM trials"))
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def test_resume_after_sigkill_of_the_driver(tmp_path):
    spec = write_spec(tmp_path, SLOW)
    db = str(tmp_path / "study.db")
    proc = subprocess.Popen([sys.executable, "-m", "archgym.cli", "sweep", spec, "--workers", "1", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            st = _statuses(db)
            if sum(v == "complete" for v in st.values()) >= 3:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the orphaned pool worker, if any
        except ProcessLookupError:
            pass
    with Store(db) as store:
        before = store.trials()
    complete = before[before["status"] == "complete"].set_index("trial_key")[["started", "ended"]]
    assert 3 <= len(complete) < 8
    assert (before["status"] != "complete").any()

    s = run_sweep(spec, workers=1, progress=False)
    assert s["ran"] == 8 - len(complete) and s["complete"] == 8 and s["failed"] == 0
    with Store(db) as store:
        after = store.trials()
        ev = store.evaluations()
    assert len(after) == 8 and set(after["status"]) == {"complete"}
    assert after["trial_key"].is_unique
    assert ev.groupby("trial_id")["step"].apply(list).map(lambda s: s == list(range(1, 7))).all()
    kept = after.set_index("trial_key").loc[complete.index, ["started", "ended"]]
    assert kept.equals(complete), "completed trials were rerun"


@pytest.mark.timeout(180)
def test_dask_cluster_matches_local_executor(tmp_path):
    """A LocalCluster of 2 workers x 1 thread (in-process, so it starts fast),
    reached through its scheduler address like a remote cluster."""
    distributed = pytest.importorskip("dask.distributed")
    local = run_sweep(write_spec(tmp_path, BASIC, "local.yaml"), workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        dask = run_sweep(write_spec(tmp_path, BASIC, "dask.yaml"), executor="dask",
                         scheduler=cluster.scheduler_address, progress=False)
    assert dask["completed"] == local["completed"] == 6
    assert _records(local["store"]) == _records(dask["store"])


def _start_and_wait(spec: str, db: str, n_complete: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "archgym.cli", "sweep", spec, "--workers", "2", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 90
    while sum(v == "complete" for v in _statuses(db).values()) < n_complete:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        assert time.time() < deadline
        time.sleep(0.02)
    return proc


def test_ctrl_c_stops_promptly_and_the_rerun_finishes(tmp_path):
    # slow enough trials (1.2 s each) that a loaded machine cannot finish the sweep before the signal lands
    spec = write_spec(tmp_path, SLOW.replace("seeds: 8", "seeds: 12").replace("delay: 0.05", "delay: 0.2"))
    db = str(tmp_path / "study.db")
    proc = _start_and_wait(spec, db, 2)
    try:
        t0 = time.time()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and b"interrupted" in err, (proc.returncode, err[-2000:], _statuses(db))
        assert time.time() - t0 < 10
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    st = _statuses(db)
    assert 2 <= sum(v == "complete" for v in st.values()) < 12
    s = run_sweep(spec, workers=2, progress=False)
    assert s["complete"] == 12 and s["ran"] == sum(v != "complete" for v in st.values())

"""``archgym dashboard``: a results store as Optuna studies, served by optuna-dashboard.

The export is checked against the store it came from (params = the designs,
values = the rewards or, on the Pareto problem, the scores recomputed here by
hand from the stored metrics and reference scales, metrics and feasibility as
attributes), and the real server is started on 127.0.0.1 and asked over HTTP
for its studies and their trial counts, then stopped (every wait bounded).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import small_store

optuna = pytest.importorskip("optuna")
pytest.importorskip("optuna_dashboard")

from archgym.experiments.analysis.dashboard import export_to_optuna, open_storage  # noqa: E402
from archgym.store import Store  # noqa: E402

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return small_store.build(tmp_path_factory.mktemp("dash") / "small.db")


@pytest.fixture(scope="module")
def store_frames(store):
    with Store(store, readonly=True) as db:
        return db.trials(), db.evaluations()


def _studies(path):
    storage = open_storage(path)
    return {s.study_name: optuna.load_study(study_name=s.study_name, storage=storage)
            for s in optuna.get_all_study_summaries(storage)}


def test_one_study_per_run_one_trial_per_evaluation(store, store_frames, tmp_path):
    trials, evals = store_frames
    names = export_to_optuna(store, tmp_path / "o.log")
    studies = _studies(tmp_path / "o.log")
    assert sorted(names) == sorted(studies) and len(studies) == len(trials) == len(small_store.trials())
    for name, st in studies.items():
        key = st.user_attrs["archgym_trial_key"]
        ev = evals[evals["trial_key"] == key].sort_values("step")
        got = st.get_trials(deepcopy=False)
        assert len(got) == len(ev) == small_store.BUDGET, name
        assert name.endswith(f"| seed {st.user_attrs['seed']}") and st.user_attrs["searcher"] in name
        pareto = st.user_attrs["objective"]["kind"] == "pareto"
        for t, row in zip(got, ev.to_dict("records")):
            assert t.state == optuna.trial.TrialState.COMPLETE
            assert t.params == {"x": row["config.x"], "y": row["config.y"], "mode": row["config.mode"]}
            assert t.user_attrs["cost"] == (row["cost"] if row["feasible"] else None)  # NaN is stored as null
            assert t.user_attrs["feasible"] == row["feasible"]
            assert t.system_attrs["constraints"] == [0.0 if row["feasible"] else 1.0]
            if not pareto:
                assert t.values == [row["reward"]]
        if pareto:  # the recorded objective's scores, by hand: ref / (ref + metric), -1 when infeasible
            rec = trials.set_index("trial_key").loc[key, "objective"]
            refs = {term["metric"]: term["ref"] for term in rec["terms"]}
            assert st.directions == [optuna.study.StudyDirection.MAXIMIZE] * 2
            assert st.metric_names == ["score cost", "score area"]
            for t, row in zip(got, ev.to_dict("records")):
                want = [refs[m] / (refs[m] + row[m]) for m in ("cost", "area")] if row["feasible"] else [-1.0, -1.0]
                assert t.values == pytest.approx(want, rel=1e-12)


def test_grouped_by_problem_into_sqlite(tmp_path, toy_registered):
    """``--group problem`` into an SQLite file (Optuna's RDB storage), on a store of four runs."""
    from archgym.pipeline import run_trial
    from archgym.trial import Trial

    path = tmp_path / "tiny.db"
    with Store(path) as db:
        for agent, seed in [("random", 0), ("random", 1), ("ga", 0), ("ga", 1)]:
            trial = Trial.create("Toy-v0", {"objective": "cost"}, agent, {}, seed, 6)
            db.record(db.study("tiny"), trial, run_trial(trial))
    names = export_to_optuna(path, tmp_path / "o.db", group="problem")
    assert names == ["Toy-v0 | objective=cost"]
    (st,) = _studies(tmp_path / "o.db").values()
    got = st.get_trials(deepcopy=False)
    assert len(got) == 24 and st.user_attrs["runs"] == 4
    assert sorted({(t.user_attrs["searcher"], t.user_attrs["seed"]) for t in got}) == \
        [("ga", 0), ("ga", 1), ("random", 0), ("random", 1)]
    assert [t.user_attrs["evaluation"] for t in got[:6]] == [1, 2, 3, 4, 5, 6]


def _cli(*argv, **kw):
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run([sys.executable, "-m", "archgym.cli", "--import", "toy_register", *argv],
                          capture_output=True, text=True, env=env, timeout=300, **kw)


def test_bad_input_is_one_line(store, tmp_path):
    (tmp_path / "taken.log").write_text("")
    for argv, needle in [(["dashboard", store, "--export", str(tmp_path / "taken.log")], "exists"),
                         (["dashboard", str(tmp_path / "nope.db")], "nope.db"),
                         (["dashboard", store, "--export", str(tmp_path)], "folder"),
                         (["dashboard", store, "--group", "agent"], "'agent'")]:
        out = _cli(*argv)
        assert out.returncode == 2, (argv, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and needle in out.stderr, out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_the_real_server_answers_with_every_study_and_trial(store, store_frames):
    trials, _ = store_frames
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen([sys.executable, "-m", "archgym.cli", "--import", "toy_register", "dashboard", store,
                             "--port", str(port), "--group", "problem", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                summaries = _get(f"{base}/api/studies")["study_summaries"]
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the dashboard did not answer within 120 s"
                time.sleep(0.5)
        counts = {s["study_name"]: len(_get(f"{base}/api/studies/{s['study_id']}")["trials"]) for s in summaries}
        want = trials.assign(problem=["Toy-v0 | objective=" + kw["objective"] for kw in trials["env_kwargs"]]) \
            .groupby("problem").size() * small_store.BUDGET
        assert counts == want.to_dict()
        pareto = [s for s in summaries if "pareto" in s["study_name"]][0]
        assert pareto["directions"] == ["maximize", "maximize"]
        with urllib.request.urlopen(f"{base}/dashboard/", timeout=10) as r:  # the web page itself
            assert r.status == 200 and b"<html" in r.read().lower()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=30)
    assert f"optuna-dashboard at http://127.0.0.1:{port}/dashboard/" in out

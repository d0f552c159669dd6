"""Concurrent writers on one store never lose a finished trial.

8 processes start at the same moment on a store that does not exist yet (20
rounds); each runs one real trial through the run pipeline and records it,
as ``archgym run --store`` does.  Every trial must be there, complete, with
all its evaluations.  Also: the same trial recorded twice is one row, and a
store held locked by another process is reported as locked, in one line.
"""
from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from archgym.store import Store, StoreError

WRITERS, ROUNDS, BUDGET = 8, 20, 4


def _writer(path: str, seed: int, barrier) -> None:
    import archgym
    from archgym.pipeline import run_trial
    from archgym.testing import ToySimulator
    from archgym.trial import Trial

    if "Toy-v0" not in archgym.list_simulators():
        archgym.register("Toy-v0", ToySimulator)
    trial = Trial.create("Toy-v0", {}, "random", {}, seed, BUDGET)
    result = run_trial(trial)
    barrier.wait()  # open the new store at the same moment
    with Store(path) as st:
        st.record(st.study("same"), trial, result)


def test_eight_writers_at_once_on_a_new_store_lose_nothing(tmp_path):
    ctx = mp.get_context("fork")
    for r in range(ROUNDS):
        path = str(tmp_path / f"round{r}.db")
        barrier = ctx.Barrier(WRITERS)
        procs = [ctx.Process(target=_writer, args=(path, s, barrier)) for s in range(WRITERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0] * WRITERS, f"round {r}: a writer died"
        with Store(path, readonly=True) as st:
            trials, evals = st.trials(), st.evaluations()
        assert len(trials) == WRITERS and set(trials["status"]) == {"complete"}, f"round {r}"
        assert len(evals) == WRITERS * BUDGET and trials["study"].nunique() == 1


def test_the_same_trial_recorded_twice_is_one_trial(tmp_path, toy_registered):
    from archgym.pipeline import run_trial
    from archgym.trial import Trial

    trial = Trial.create(toy_registered, {}, "random", {}, 0, 3)
    with Store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        a.record(a.study("s"), trial, run_trial(trial))
        b.record(b.study("s"), trial, run_trial(trial))
        assert len(a.trials()) == 1 and len(a.evaluations()) == 3


def test_a_locked_store_is_reported_as_locked(tmp_path, monkeypatch):
    import archgym.store as store_module

    path = tmp_path / "s.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write, for longer than a writer waits
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(StoreError, match="is locked by another process") as exc:
            Store(path)
        assert "\n" not in str(exc.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

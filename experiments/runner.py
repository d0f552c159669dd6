"""The sweep driver: spec -> trials -> executor -> results store.

:func:`run_sweep` is what ``archgym sweep`` calls.  The driver is the only
writer of the store: it registers every trial (``pending``), marks a trial
``running`` when it hands it to a worker (``Store.start_trial`` drops rows of an
earlier, interrupted attempt), and records each result atomically
(``Store.complete_trial``) or as ``failed`` with the worker's traceback.

Resume: rerunning the same spec skips ``complete`` trials, restarts ``running``
and ``pending`` ones (a killed driver leaves those behind), and skips ``failed``
ones unless ``retry_failed=True``.  Because a trial's id is a hash of its
content, edits to the spec add or drop trials without disturbing the others.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Iterator

from .executors import make_executor
from .spec import SweepSpec, Trial, load_spec
from .worker import make_task

__all__ = ["run_sweep", "plan", "SweepLocked"]


class SweepLocked(ValueError):
    """Another driver is already writing this store (a ValueError so the CLI
    reports it in one line)."""


@contextlib.contextmanager
def _exclusive(store_path: str):
    """Hold an advisory lock on ``<store>.lock`` for the sweep (POSIX ``flock``;
    released by the OS even if the driver is killed), so two drivers never run
    the same trials into one store."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    os.makedirs(os.path.dirname(os.path.abspath(store_path)), exist_ok=True)
    with open(store_path + ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepLocked(f"another sweep is writing {store_path}; wait for it or stop it first") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def plan(spec: SweepSpec, store, retry_failed: bool = False) -> tuple[int, list[tuple[int, Trial]], dict]:
    """Register the spec's trials in ``store``; return ``(study_id, to_run, counts)``
    where ``to_run`` lists ``(trial_id, trial)`` in spec order and ``counts`` has
    the statuses found before running."""
    # the raw spec plus resolved plugins, so the report can rebuild objectives
    sid = store.study(spec.study, {**spec.raw, "_plugins": spec.plugins})
    trials = spec.trials()
    ids = {t.key: store.add_trial(sid, t.key, t.agent, t.hyperparams, t.env_id, t.env_kwargs, t.seed, t.budget)
           for t in trials}
    status = store.statuses(sid)
    counts = {s: 0 for s in ("pending", "running", "complete", "failed")}
    run: list[tuple[int, Trial]] = []
    for t in trials:
        st = status.get(t.key, "pending")
        counts[st] = counts.get(st, 0) + 1
        if st == "complete" or (st == "failed" and not retry_failed):
            continue
        run.append((ids[t.key], t))
    return sid, run, counts


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="trial", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def run_sweep(spec_path: str | os.PathLike, store: str | os.PathLike | None = None, workers: int = 1,
              executor: str = "local", scheduler: str | None = None, retry_failed: bool = False,
              progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the sweep in ``spec_path``; returns a summary dict:
    ``study``, ``store``, ``trials`` (in the spec), ``ran``, ``completed`` and
    ``failed`` (this run), ``complete`` and ``failed_total`` (the study's spec
    trials after the run), ``skipped_complete``, ``skipped_failed``,
    ``wall_time_s``.  ``failed`` > 0 makes ``archgym sweep`` exit 1.

    Worker processes are *spawned*, so a script calling this must guard its
    entry point with ``if __name__ == "__main__":`` (as for any multiprocessing).
    ``executor="inline"`` runs trials in this process (debugging)."""
    from archgym.store import Store

    t0 = time.perf_counter()
    spec = load_spec(spec_path)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    store_path = os.fspath(store) if store is not None else spec.store_path()
    summary: dict[str, Any] = {"study": spec.study, "store": store_path}
    with _exclusive(store_path), Store(store_path) as db:
        sid, to_run, before = plan(spec, db, retry_failed)
        summary.update(trials=sum(before.values()), skipped_complete=before["complete"],
                       skipped_failed=0 if retry_failed else before["failed"])
        done = failed = 0
        if to_run:
            by_key = {t.key: tid for tid, t in to_run}

            def tasks() -> Iterator[dict]:
                for tid, trial in to_run:
                    db.start_trial(tid)
                    yield make_task(trial, spec.plugins)

            bar = _progress_bar(len(to_run), spec.study, progress)
            try:
                with make_executor(executor, workers, scheduler, spec.plugins) as ex:
                    for task, res in ex.imap_unordered(tasks()):
                        tid = by_key[task["key"]]
                        if res.get("ok"):
                            db.complete_trial(tid, res["history"], res.get("simulator", ""),
                                              res.get("simulator_version", ""), res.get("wall_time_s"))
                            done += 1
                        else:
                            db.fail_trial(tid, res.get("error") or "unknown error", res.get("wall_time_s"))
                            failed += 1
                        bar.update(1)
                        bar.set_postfix(done=done, failed=failed, refresh=False)
            finally:
                bar.close()
        after = db.statuses(sid)
        keys = {t.key for t in spec.trials()}
        summary.update(ran=done + failed, completed=done, failed=failed,
                       complete=sum(after.get(k) == "complete" for k in keys),
                       failed_total=sum(after.get(k) == "failed" for k in keys),
                       wall_time_s=round(time.perf_counter() - t0, 3))
    return summary

"""The sweep driver: spec -> trials -> executor -> results store.

:func:`run_sweep` is what ``archgym sweep`` and ``archgym bench run`` call,
with a spec file or an in-memory :class:`~.spec.SweepSpec`.  It takes the
spec's steps explicitly -- shape checked, plugins loaded
(:func:`~.spec.load_spec_plugins`), names resolved, trials expanded once --
then runs the trials through the run pipeline (:mod:`archgym.pipeline`) on
an executor.  The driver is the only writer of the store: it registers every
trial (``pending``), marks a trial ``running`` when it hands it to a worker
(``Store.start_trial`` drops rows of an earlier, interrupted attempt), and
records each result atomically (``Store.record``: ``complete``, or ``failed``
with the worker's traceback).

Resume: rerunning the same spec skips ``complete`` trials, restarts ``running``
and ``pending`` ones (a killed driver leaves those behind), and skips ``failed``
ones unless ``retry_failed=True``.  Because a trial's id is a hash of its
content (:mod:`archgym.trial`), edits to the spec add or drop trials
without disturbing the others.

Before anything runs, every problem of the spec is built once in the driver
(:func:`~archgym.experiments.spec.check_problems`: env ids, workloads and
trace files, env options, objectives), and the store is opened and validated,
so a bad spec fails in one line instead of half-way through a study.

Failures: the summary's ``failures`` lists each distinct reason (the last line
of the worker's traceback) with its count and one trial; ``archgym sweep``
prints them and exits 1 while any trial of the spec is failed (on reruns too);
``archgym failures STORE`` shows every traceback.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Iterator

from archgym.errors import UserInputError
from archgym.store import StoreError
from archgym.trial import Trial, TrialState

from .executors import make_executor
from .spec import SweepSpec, check_problems, load_spec, load_spec_plugins
from .worker import Task

__all__ = ["run_sweep", "prepare", "plan", "SweepLocked", "failure_reason", "failure_lines"]


class SweepLocked(UserInputError):
    """Another driver is already writing this store (one line, exit 2)."""


@contextlib.contextmanager
def _exclusive(store_path: str):
    """Hold an advisory lock for the sweep on ``<real path of the store>.lock``
    (POSIX ``flock``; released by the OS even if the driver is killed), so two
    drivers never run the same trials into one store -- also when they name it
    through different symlinks or relative paths."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    real = os.path.realpath(store_path)
    if os.path.isdir(real):
        raise StoreError(f"store {store_path!r} is a directory; give a file path (e.g. results.db)")
    try:
        os.makedirs(os.path.dirname(real), exist_ok=True)
        fh = open(real + ".lock", "w")
    except OSError as exc:
        raise StoreError(f"cannot lock store {store_path!r}: {exc.strerror}") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepLocked(f"another sweep is writing {real}; wait for it or stop it first") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def plan(spec: SweepSpec, store, retry_failed: bool = False) -> tuple[int, list[tuple[int, Trial]], dict]:
    """Register the spec's trials in ``store``; return ``(study_id, to_run, counts)``
    where ``to_run`` lists ``(trial_id, trial)`` in spec order and ``counts`` has
    the states found before running."""
    sid = store.study(spec.study, {**spec.raw, "_plugins": spec.plugins})
    trials = spec.trials()
    ids = {t.key: store.add_trial(sid, t) for t in trials}
    status = store.statuses(sid)
    counts = {s.value: 0 for s in TrialState}
    run: list[tuple[int, Trial]] = []
    for t in trials:
        st = TrialState(status.get(t.key, TrialState.PENDING.value))
        counts[st.value] += 1
        if st is TrialState.COMPLETE or (st is TrialState.FAILED and not retry_failed):
            continue
        run.append((ids[t.key], t))
    return sid, run, counts


def prepare(spec: SweepSpec | str | os.PathLike) -> SweepSpec:
    """A spec ready to run: read (if a path), plugins loaded, names resolved,
    every problem built once (:func:`~.spec.check_problems`)."""
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    load_spec_plugins(spec)
    spec.resolve()
    check_problems(spec)
    return spec


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="trial", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def run_sweep(spec: SweepSpec | str | os.PathLike, store: str | os.PathLike | None = None, workers: int = 1,
              executor: str = "local", scheduler: str | None = None, retry_failed: bool = False,
              progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the sweep ``spec`` (a file or a :class:`~.spec.SweepSpec`); returns a summary dict:
    ``study``, ``store``, ``trials`` (in the spec), ``ran``, ``completed`` and
    ``failed`` (this run), ``complete`` and ``failed_total`` (the study's spec
    trials after the run), ``skipped_complete``, ``skipped_failed``,
    ``wall_time_s``.  ``failed`` > 0 makes ``archgym sweep`` exit 1.

    Worker processes are *spawned*, so a script calling this must guard its
    entry point with ``if __name__ == "__main__":`` (as for any multiprocessing).
    ``executor="inline"`` runs trials in this process (debugging)."""
    from archgym.store import Store

    from .executors import ExecutorError

    t0 = time.perf_counter()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExecutorError(f"workers must be an integer >= 1, got {workers!r}")
    if executor not in ("local", "dask", "inline"):
        raise ExecutorError(f"executor must be 'local', 'dask' or 'inline', got {executor!r}")
    spec = prepare(spec)
    store_path = os.fspath(store) if store is not None else spec.store_path()
    summary: dict[str, Any] = {"study": spec.study, "store": store_path}
    with _exclusive(store_path), Store(store_path) as db:
        sid, to_run, before = plan(spec, db, retry_failed)
        summary.update(trials=sum(before.values()), skipped_complete=before["complete"],
                       skipped_failed=0 if retry_failed else before["failed"])
        done = failed = 0
        if to_run:
            def tasks() -> Iterator[Task]:
                for tid, trial in to_run:
                    if db.start_trial(tid):  # False: another command completed it meanwhile
                        yield Task(trial, spec.plugins)

            bar = _progress_bar(len(to_run), spec.study, progress)
            try:
                with make_executor(executor, workers, scheduler, spec.plugins) as ex:
                    for task, result in ex.imap_unordered(tasks()):
                        db.record(sid, task.trial, result)
                        done += result.ok
                        failed += not result.ok
                        bar.update(1)
                        bar.set_postfix(done=done, failed=failed, refresh=False)
            finally:
                bar.close()
        after = db.statuses(sid)
        keys = {t.key for t in spec.trials()}
        summary.update(ran=done + failed, completed=done, failed=failed,
                       complete=sum(after.get(k) == TrialState.COMPLETE.value for k in keys),
                       failed_total=sum(after.get(k) == TrialState.FAILED.value for k in keys),
                       failures=_failures(db, spec.study, keys),
                       wall_time_s=round(time.perf_counter() - t0, 3))
    return summary


def failure_reason(error: str | None) -> str:
    """One line for a failed trial's error text: the last non-empty line of its
    traceback (``ValueError: ...``), or the text itself."""
    lines = [ln.strip() for ln in (error or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _failures(db, study: str, keys: set[str]) -> list[dict]:
    """Distinct failure reasons of the spec's failed trials: ``reason``, ``count``,
    ``trial_key`` and ``agent``/``env_id`` of the first one."""
    t = db.trials(study)
    t = t[(t["status"] == "failed") & t["trial_key"].isin(keys)]
    out: dict[str, dict] = {}
    for _, r in t.iterrows():
        reason = failure_reason(r["error"])
        if reason not in out:
            out[reason] = {"reason": reason, "count": 0, "trial_key": r["trial_key"], "agent": r["agent"],
                           "env_id": r["env_id"]}
        out[reason]["count"] += 1
    return list(out.values())


def failure_lines(summary: dict) -> list[str]:
    """What ``archgym sweep`` prints on stderr when trials failed: one line per
    distinct reason (first reason first) and the command that shows them all."""
    lines = []
    for f in summary.get("failures", []):
        lines.append(f"{f['count']} trial(s) failed: {f['reason']} (first: {f['agent']} on {f['env_id']}, "
                     f"trial {f['trial_key']})")
    lines.append(f"{summary.get('failed_total', 0)} trial(s) of the spec are failed; full tracebacks: "
                 f"archgym failures {summary['store']}; rerun them with --retry-failed")
    return lines

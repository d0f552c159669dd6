"""Where trials run: in the driver, in a local process pool, or on a Dask cluster.

Every executor has one method, :meth:`Executor.imap_unordered`, which pulls
tasks lazily from an iterator -- never more than :attr:`Executor.slots` in
flight -- and yields ``(task, result)`` pairs as trials finish.  Pulling lazily
lets the driver mark a trial ``running`` in the store only when it is actually
handed to a worker.  Tasks are :class:`~.worker.Task` and results
:class:`~archgym.trial.TrialResult` (:func:`~.worker.run_task`); an infrastructure failure (a
worker process that died, a Dask worker lost) is turned into a failed result
for the affected trial(s), so the sweep goes on.

* :class:`InlineExecutor` -- runs in the driver process, one at a time (debugging).
* :class:`LocalExecutor` -- ``concurrent.futures.ProcessPoolExecutor`` with the
  ``spawn`` start method (no server; safe with threads in the driver); each
  worker starts with one math thread.
* :class:`DaskExecutor` -- ``dask.distributed.Client(address)``, or a
  ``LocalCluster`` of ``workers`` processes x 1 thread when no address is given
  (with an address, ``workers`` is ignored: as many trials run at once as the
  cluster has worker threads, re-read as workers join or leave).  Workers need
  archgym and the spec's plugins importable; start them with ``--nthreads 1``
  to keep one trial per core.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Iterable, Iterator, Mapping

from archgym.errors import UserInputError
from archgym.trial import TrialResult, TrialState

from .worker import Task, run_task, warm_worker

__all__ = ["Executor", "InlineExecutor", "LocalExecutor", "DaskExecutor", "make_executor", "ExecutorError"]

#: seconds to wait for a Dask scheduler before giving up with one line
DASK_CONNECT_TIMEOUT_S = 5


class ExecutorError(UserInputError):
    """A bad executor choice or worker count, or a Dask scheduler that cannot be reached."""


def _lost(task: Task, why: str) -> TrialResult:
    now = time.time()
    return TrialResult(key=task.trial.key, state=TrialState.FAILED, error=why, error_line=why, started=now, ended=now)


class Executor:
    """Base class: a context manager with :meth:`imap_unordered`."""

    slots: int = 1

    def imap_unordered(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, TrialResult]]:
        raise NotImplementedError

    def close(self, abort: bool = False) -> None:
        """Release workers; ``abort`` (an exception or Ctrl-C in the driver) also
        stops trials still running -- the store still shows them ``running``,
        so the next run restarts them."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)


class InlineExecutor(Executor):
    """Trials run one by one in this process."""

    def __init__(self, plugins: Mapping[str, Any] | None = None) -> None:
        self.plugins = plugins

    def imap_unordered(self, tasks):
        for task in tasks:
            yield task, run_task(task)


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine."""

    def __init__(self, workers: int = 1, plugins: Mapping[str, Any] | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ExecutorError(f"workers must be an integer >= 1, got {workers!r}")
        self.slots = int(workers)
        self.plugins = dict(plugins or {})
        self._pool = None

    def _new_pool(self):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=self.slots, mp_context=mp.get_context("spawn"),
                                   initializer=warm_worker, initargs=(self.plugins, os.getpid()))

    def imap_unordered(self, tasks):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        it = iter(tasks)
        if self._pool is None:
            self._pool = self._new_pool()
        inflight: dict = {}
        exhausted = False
        while True:
            while not exhausted and len(inflight) < self.slots:
                task = next(it, None)
                if task is None:
                    exhausted = True
                    break
                try:
                    inflight[self._pool.submit(run_task, task)] = task
                except BrokenProcessPool:
                    self._pool = self._new_pool()
                    inflight[self._pool.submit(run_task, task)] = task
            if not inflight:
                return
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = inflight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken = True
                    result = _lost(task, "worker process died (crash, out of memory or killed) while running "
                                         "this or a concurrent trial")
                yield task, result
            if broken:  # every future of a broken pool fails; start a fresh pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self, abort: bool = False) -> None:
        if self._pool is None:
            return
        procs = list((getattr(self._pool, "_processes", None) or {}).values())  # private, best effort
        self._pool.shutdown(wait=not abort, cancel_futures=True)
        if abort:
            for p in procs:
                if p.is_alive():
                    p.terminate()
        self._pool = None


class DaskExecutor(Executor):
    """Trials on a Dask cluster: ``scheduler`` address, or a local cluster."""

    def __init__(self, scheduler: str | None = None, workers: int = 1,
                 plugins: Mapping[str, Any] | None = None, processes: bool = True) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the dask executor needs dask[distributed]: pip install 'archgym[dask]'") from exc
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ExecutorError(f"cannot reach the Dask scheduler {scheduler!r} within "
                                    f"{DASK_CONNECT_TIMEOUT_S} s ({reason}); start one with `dask scheduler` "
                                    "or check the address (tcp://host:8786)") from None
        else:
            self._cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                                         processes=processes, dashboard_address=None)
            self.client = Client(self._cluster)
        nthreads = sum(self.client.nthreads().values())
        self.slots = max(1, nthreads)
        self.plugins = dict(plugins or {})

    def imap_unordered(self, tasks):
        from dask.distributed import as_completed

        it = iter(tasks)
        ac = as_completed()
        owner: dict[str, Task] = {}

        def submit() -> bool:
            task = next(it, None)
            if task is None:
                return False
            fut = self.client.submit(run_task, task, pure=False, key=f"trial-{task.trial.key}-{uuid.uuid4().hex[:8]}")
            owner[fut.key] = task
            ac.add(fut)
            return True

        def top_up() -> None:
            # workers may join (or leave) a running cluster: follow its thread count
            try:
                self.slots = max(1, sum(self.client.nthreads().values()))
            except Exception:
                pass
            while len(owner) < self.slots and submit():
                pass

        top_up()
        for fut in ac:
            task = owner.pop(fut.key)
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker, lost connection, ...
                result = _lost(task, f"dask could not run the trial: {type(exc).__name__}: {exc}")
            fut.release()
            yield task, result
            top_up()

    def close(self, abort: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "local", workers: int = 1, scheduler: str | None = None,
                  plugins: Mapping[str, Any] | None = None) -> Executor:
    """``kind`` is ``local`` (process pool), ``dask`` or ``inline``."""
    if kind == "local":
        return LocalExecutor(workers, plugins)
    if kind == "dask":
        return DaskExecutor(scheduler, workers, plugins)
    if kind == "inline":
        return InlineExecutor(plugins)
    raise ExecutorError(f"executor must be 'local', 'dask' or 'inline', got {kind!r}")

"""The worker side of a sweep: process setup and the unit of work.

A :class:`Task` is one :class:`~archgym.trial.Trial` plus the plugins a
worker must load before building it; :func:`run_task` runs it through the
run pipeline (:func:`archgym.pipeline.run_trial`) and returns its
:class:`~archgym.trial.TrialResult` -- a failed one, with the traceback, when
anything goes wrong, so one bad trial cannot stop a sweep.  Workers never
touch the results store (only the driver writes).

Process setup: one math thread (:func:`archgym.threads.limit_threads`; a
worker is an entry point), plugins loaded, and the process ends when its
driver does (:func:`exit_with_parent`).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from archgym.trial import Trial, TrialResult

__all__ = ["Task", "run_task", "init_worker", "warm_worker", "exit_with_parent"]

_THREADS_LIMITED = False
_WATCHING = False


def exit_with_parent(parent_pid: int | None = None, interval_s: float = 0.5) -> None:
    """End this worker process within ``interval_s`` once its parent (the sweep
    driver) is gone, however the driver died (``kill``, ``kill -9``, a crash):
    a daemon thread polls the parent pid, which changes when the process is
    re-parented.  ``parent_pid`` (the driver's pid, passed by the executor)
    also covers a driver that died while this worker was still starting.
    Idempotent."""
    global _WATCHING
    if _WATCHING:
        return
    _WATCHING = True
    import threading

    parent = os.getppid() if parent_pid is None else int(parent_pid)
    if os.getppid() != parent:
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="archgym-exit-with-parent", daemon=True).start()


@dataclass(frozen=True)
class Task:
    """What a worker runs: a trial and the plugins it needs (picklable)."""

    trial: Trial
    plugins: Mapping[str, Any] = field(default_factory=dict)


def _one_math_thread() -> None:
    global _THREADS_LIMITED
    if not _THREADS_LIMITED:
        from archgym.threads import limit_threads

        limit_threads(1)
        _THREADS_LIMITED = True


def init_worker(plugins: Mapping[str, Any] | None = None) -> None:
    """Per-process setup: one math thread (:mod:`archgym.threads`), plugins loaded."""
    _one_math_thread()
    from archgym.registry import load_plugins

    load_plugins(plugins)


def warm_worker(plugins: Mapping[str, Any] | None = None, parent_pid: int | None = None) -> None:
    """Pool initializer: :func:`init_worker`, but a plugin that fails to load is
    left for :func:`run_task` to report (a raising initializer would break the
    whole pool and hide the traceback).  The worker exits when the driver does
    (:func:`exit_with_parent`)."""
    exit_with_parent(parent_pid)
    try:
        init_worker(plugins)
    except Exception:
        pass


def run_task(task: Task) -> TrialResult:
    """Run one task in this process (see the module docstring); never raises
    but ``KeyboardInterrupt``."""
    from archgym.pipeline import run_trial

    _one_math_thread()
    return run_trial(task.trial, task.plugins)

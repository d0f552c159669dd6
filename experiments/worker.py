"""The unit of work of a sweep: run one whole trial, return its records.

:func:`run_trial` is what every executor ships to a worker (a local process, a
Dask worker on another machine, or the driver itself).  It builds the
environment and the agent, runs ``agent.run(env, budget, seed)`` and returns the
environment's evaluation history plus timings.  It never touches the results
store (only the driver writes) and never raises: a failing trial comes back as
``{"ok": False, "error": <traceback>}`` so one bad trial cannot stop a sweep.

Assumptions: the task is a plain dict (picklable, see :func:`make_task`); the
worker can import archgym and the spec's plugins (``pythonpath``/``imports``/
``register``), which it loads on first use; trials are independent.
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any, Mapping

__all__ = ["make_task", "run_trial", "init_worker", "warm_worker", "exit_with_parent"]

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


def make_task(trial: Any, plugins: Mapping[str, Any] | None) -> dict:
    """The picklable description of a trial that a worker runs."""
    return {"key": trial.key, "env_id": trial.env_id, "env_kwargs": dict(trial.env_kwargs), "agent": trial.agent,
            "hyperparams": dict(trial.hyperparams), "seed": int(trial.seed), "budget": int(trial.budget),
            "plugins": dict(plugins or {})}


def init_worker(plugins: Mapping[str, Any] | None = None) -> None:
    """Per-process setup: one math thread (DESIGN.md, "Threads"), plugins loaded."""
    global _THREADS_LIMITED
    if not _THREADS_LIMITED:
        from archgym._threads import limit_threads

        limit_threads(1)
        _THREADS_LIMITED = True
    if plugins:
        from .spec import prepare_plugins

        prepare_plugins(plugins)


def warm_worker(plugins: Mapping[str, Any] | None = None, parent_pid: int | None = None) -> None:
    """Pool initializer: :func:`init_worker`, but a plugin that fails to load is
    left for :func:`run_trial` to report (a raising initializer would break the
    whole pool and hide the traceback).  The worker exits when the driver does
    (:func:`exit_with_parent`)."""
    exit_with_parent(parent_pid)
    try:
        init_worker(plugins)
    except Exception:
        pass


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


def run_trial(task: Mapping[str, Any]) -> dict:
    """Run one trial; see the module docstring for the result's keys
    (``ok``, ``key``, ``history``, ``simulator``, ``simulator_version``,
    ``wall_time_s``, ``eval_time_s``, ``started``, ``ended``, ``pid``, ``error``)."""
    started = time.time()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"key": task["key"], "started": started, "pid": os.getpid()}
    try:
        init_worker(task.get("plugins"))
        import archgym

        env = archgym.make(task["env_id"], **task["env_kwargs"])
        agent = archgym.make_agent(task["agent"], **task["hyperparams"])
        agent.run(env, task["budget"], task["seed"])
        dse = getattr(env, "unwrapped", env)
        history = [{**r, "config": {k: _plain(v) for k, v in r["config"].items()},
                    "metrics": {k: float(v) for k, v in r["metrics"].items()}} for r in dse.history]
        sim = getattr(dse, "simulator", None)
        out.update(ok=True, history=history, simulator=getattr(sim, "name", ""),
                   simulator_version=str(getattr(sim, "version", "")),
                   eval_time_s=float(sum(r["wall_time_s"] for r in history)))
    except BaseException as exc:  # a trial's failure is data, not a crash of the sweep
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.update(ok=False, error=traceback.format_exc())
    out["wall_time_s"] = time.perf_counter() - t0
    out["ended"] = time.time()
    return out

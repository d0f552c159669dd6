"""The run pipeline: one path from a trial to its record, whoever starts it.

``archgym run``, ``archgym sweep`` and ``archgym bench`` all do::

    trial = Trial.create(env_id, env_kwargs, agent, hyperparameters, seed, budget)
    result = run_trial(trial)              # here, in a worker process, or on a Dask worker
    store.record(study, trial, result)     # archgym.store.Store: one transaction

* :func:`build` makes the environment and the searcher of a trial; a mistake
  in the trial (unknown env, option, agent or hyperparameter) raises the
  one-line :class:`~archgym.errors.UserInputError` it is.
* :func:`execute` runs the search -- ``agent.run(env, budget, seed)``, whose
  budget is owned by :meth:`archgym.env.DSEEnv.budget` (it respects a user's
  ``max_evaluations`` cap and restores it) -- measures its wall time and
  returns a :class:`~archgym.trial.TrialResult`.  It never raises for a
  failing trial (except ``KeyboardInterrupt``): the failure is data, with its
  traceback, so one bad trial cannot stop a sweep.
* :func:`run_trial` is both, for workers: plugins loaded first
  (:func:`archgym.registry.load_plugins`), build errors recorded as failures too.

Nothing here touches a store; only the caller writes (a sweep's driver, the
CLI).  The result carries everything the store keeps: the evaluation history,
the simulator's name and version, the objective as bound (so a store can be
read without plugins or simulators), measured wall time and simulator time.
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any, Callable, Mapping

from .errors import UserInputError
from .trial import Trial, TrialResult, TrialState

__all__ = ["build", "execute", "run_trial"]


def build(trial: Trial) -> tuple[Any, Any]:
    """``(env, agent)`` of ``trial``: the agent first, so a bad hyperparameter is
    reported before the environment (which may be slow to build) is made."""
    import archgym

    agent = archgym.make_agent(trial.agent, **dict(trial.hyperparameters))
    env = archgym.make(trial.env_id, **dict(trial.env_kwargs))
    return env, agent


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


def _records(history: list[Mapping[str, Any]]) -> list[dict]:
    """Evaluation records as plain Python values (picklable, JSON-ready)."""
    return [{**r, "config": {k: _plain(v) for k, v in r["config"].items()},
             "metrics": {k: float(v) for k, v in r["metrics"].items()}} for r in history]


def _failed(result: TrialResult, exc: BaseException) -> None:
    result.state = TrialState.FAILED
    result.error = traceback.format_exc()
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    result.user_error = isinstance(exc, UserInputError)
    result.error_line = lines[0] if result.user_error and lines else \
        (f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


def execute(trial: Trial, env: Any, agent: Any, *, setup_time_s: float = 0.0,
            listeners: tuple[Callable[[dict], None], ...] = ()) -> TrialResult:
    """Run ``agent`` on ``env`` for the trial's budget and seed (see the module
    docstring).  ``setup_time_s``: time already spent building them, added
    to the measured wall time.  ``listeners`` are called with every
    evaluation record as it is made (progress bars)."""
    started = time.time()
    t0 = time.perf_counter()
    result = TrialResult(key=trial.key, state=TrialState.RUNNING, started=started, pid=os.getpid())
    dse = getattr(env, "unwrapped", env)
    dse.listeners.extend(listeners)
    first = dse.n_evaluations
    try:
        result.simulator = dse.simulator.name
        result.simulator_version = str(dse.simulator.version)
        result.objective = dse.objective.to_record()
        agent.run(env, trial.budget, trial.seed)
        result.state = TrialState.COMPLETE
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a trial's failure is data, not a crash of the caller
        _failed(result, exc)
    finally:
        for listener in listeners:
            dse.listeners.remove(listener)
    result.history = _records(dse.history[first:])
    result.simulator_time_s = float(sum(r["wall_time_s"] for r in result.history))
    result.wall_time_s = setup_time_s + (time.perf_counter() - t0)
    result.ended = time.time()
    return result


def run_trial(trial: Trial, plugins: Mapping[str, Any] | None = None) -> TrialResult:
    """Load ``plugins``, build and run ``trial``; every failure, building
    included, comes back as a ``failed`` result (never raises but
    ``KeyboardInterrupt``).  What every sweep executor ships to a worker."""
    t0 = time.perf_counter()
    try:
        from .registry import load_plugins

        load_plugins(plugins)
        env, agent = build(trial)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        result = TrialResult(key=trial.key, state=TrialState.FAILED, started=time.time(), pid=os.getpid())
        _failed(result, exc)
        result.wall_time_s = time.perf_counter() - t0
        result.ended = time.time()
        return result
    return execute(trial, env, agent, setup_time_s=time.perf_counter() - t0)

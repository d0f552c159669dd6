"""Trials: one searcher run -- its identity, its states and its outcome.

A :class:`Trial` is everything that determines a search's trajectory; its
:attr:`~Trial.key` names it in a results store, so a resumed sweep or a
repeated ``archgym run --store`` reuses a recorded trial only when it would
replay exactly.  ``archgym run``, ``archgym sweep`` and ``archgym bench`` all
build their trials with :meth:`Trial.create` and run them with
:func:`archgym.pipeline.run_trial`; the outcome is a :class:`TrialResult`
with a typed :class:`TrialState`.

The identity (:func:`trial_identity`) covers:

* ``env_id`` (canonical) and ``simulator_version`` (the simulator class's
  ``version``; a registered non-simulator env's ``version`` attribute if it
  has one), so a changed model never reuses stale results;
* ``env_kwargs``: workload, objective, backend and every other env option
  (``max_evaluations`` included); a value naming an existing file (a proxy
  backend, a workload or trace file) stands for its *content* (``{"sha256":
  ...}`` of the file's bytes), not its path, so moving a file keeps the key
  and editing it changes the key;
* ``agent`` and *all* its hyperparameters resolved (defaults included), so a
  changed default makes a new trial;
* ``seed`` and ``budget``.

The key is the first 16 hex digits of SHA-256 of the identity's canonical JSON
(sorted keys, no spaces).
"""
from __future__ import annotations

import enum
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Trial", "TrialState", "TrialResult", "trial_identity", "trial_key", "canonical_json", "file_sha256"]


def canonical_json(obj: Any) -> str:
    """Sorted-key, space-free JSON (non-JSON values by ``str``)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes (cached per path, size and mtime,
    so a sweep of many trials on one large proxy file reads it once)."""
    st = os.stat(path)
    return _sha256_cached(os.path.realpath(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _by_content(value: Any) -> Any:
    """An env option as it enters the identity: existing files by content hash."""
    if isinstance(value, (str, os.PathLike)) and os.path.isfile(value):
        return {"sha256": file_sha256(value)}
    if isinstance(value, Mapping):
        return {str(k): _by_content(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_by_content(v) for v in value]
    return value


def trial_identity(env_id: str, env_kwargs: Mapping[str, Any], agent: str, hyperparameters: Mapping[str, Any],
                   seed: int, budget: int) -> dict:
    """Everything that determines a trial's trajectory (see the module docstring).
    Raises the registry's and the agent's one-line errors for an unknown env,
    agent or hyperparameter."""
    from .registry import agent_class, env_version, resolve_id

    sid = resolve_id(env_id)
    resolved = agent_class(agent)(**dict(hyperparameters)).get_params()
    # "hyperparams" is part of the hashed format: renaming it would give every recorded trial a new key
    return {"env_id": sid, "simulator_version": env_version(sid),
            "env_kwargs": _by_content(json.loads(canonical_json(dict(env_kwargs)))),
            "agent": agent, "hyperparams": json.loads(canonical_json(resolved)),
            "seed": int(seed), "budget": int(budget)}


def trial_key(env_id: str, env_kwargs: Mapping[str, Any], agent: str, hyperparameters: Mapping[str, Any],
              seed: int, budget: int) -> str:
    """The stable id of a trial: 16 hex digits of SHA-256 of :func:`trial_identity`."""
    identity = trial_identity(env_id, env_kwargs, agent, hyperparameters, seed, budget)
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]


class TrialState(str, enum.Enum):
    """Where a trial is: registered (``pending``), handed to a worker
    (``running``), finished with its evaluations recorded (``complete``), or
    ended by an error (``failed``, with the error text)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Trial:
    """One search run: ``agent`` with ``hyperparameters`` on ``env_id`` made
    with ``env_kwargs``, for ``budget`` evaluations from ``seed``.

    ``hyperparameters`` holds the values given explicitly (the labels reports
    show); :attr:`key` covers them resolved, defaults included.  Build one
    with :meth:`create`, which checks the env id, the agent and its
    hyperparameters (one-line errors) and computes the key.  Picklable, so it
    travels to worker processes and Dask workers as it is."""

    env_id: str
    env_kwargs: Mapping[str, Any]
    agent: str
    hyperparameters: Mapping[str, Any]
    seed: int
    budget: int
    key: str

    @classmethod
    def create(cls, env_id: str, env_kwargs: Mapping[str, Any], agent: str, hyperparameters: Mapping[str, Any],
               seed: int, budget: int) -> "Trial":
        from .registry import resolve_id

        kwargs = json.loads(canonical_json(dict(env_kwargs)))
        key = trial_key(env_id, kwargs, agent, hyperparameters, int(seed), int(budget))
        return cls(env_id=resolve_id(env_id), env_kwargs=kwargs, agent=agent, hyperparameters=dict(hyperparameters),
                   seed=int(seed), budget=int(budget), key=key)


@dataclass
class TrialResult:
    """The outcome of running a :class:`Trial` (:func:`archgym.pipeline.run_trial`).

    * ``state`` -- :attr:`TrialState.COMPLETE` or :attr:`TrialState.FAILED`;
    * ``history`` -- every evaluation, in order, as the environment recorded
      it (``evaluation``, ``config``, ``metrics``, ``feasible``, ``reason``,
      ``reward``, ``wall_time_s``); on failure, the evaluations made before it;
    * ``simulator``, ``simulator_version`` -- what answered the evaluations
      (a stand-in's version names it, see :mod:`archgym.standin`);
    * ``objective`` -- the objective as bound to the simulator
      (:meth:`archgym.objective.Objective.to_record`), so a store can be read
      without the simulator or its plugin;
    * ``wall_time_s`` -- measured wall time of the whole trial (building the
      environment and the searcher, then the search); ``simulator_time_s`` --
      the part spent inside the simulator; ``started``/``ended`` -- Unix times;
    * ``error`` -- the traceback text of a failure; ``error_line`` its one-line
      summary; ``user_error`` -- True when the failure was the user's input
      (an :class:`~archgym.errors.UserInputError`), not a bug.
    """

    key: str
    state: TrialState
    history: list = field(default_factory=list)
    simulator: str = ""
    simulator_version: str = ""
    objective: dict | None = None
    wall_time_s: float = 0.0
    simulator_time_s: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None
    error_line: str | None = None
    user_error: bool = False
    pid: int = 0

    @property
    def ok(self) -> bool:
        return self.state is TrialState.COMPLETE

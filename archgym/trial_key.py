"""A trial's identity: everything that determines its trajectory, hashed.

One function, :func:`trial_key`, names a trial (one searcher run) in a results
store; ``archgym run --store`` and ``archgym sweep`` both use it, so a resumed
sweep or a repeated ``run`` reuses a recorded trial only when it would replay
exactly.  The identity (:func:`trial_identity`) covers:

* ``env_id`` (canonical) and ``simulator_version`` (the simulator class's
  ``version``; a registered non-simulator env's ``version`` attribute if it
  has one), so a changed model never reuses stale results;
* ``env_kwargs``: workload, objective, backend and every other env option;
  a value naming an existing file (a proxy backend, a workload or trace file)
  stands for its *content* (``{"sha256": ...}`` of the file's bytes), not its
  path, so moving a file keeps the key and editing it changes the key;
* ``agent`` and *all* its hyperparameters resolved (defaults included), so a
  changed default makes a new trial;
* ``seed`` and ``budget``.

The key is the first 16 hex digits of SHA-256 of the identity's canonical JSON
(sorted keys, no spaces).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Any, Mapping

__all__ = ["trial_identity", "trial_key", "canonical_json", "file_sha256"]


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


def _env_version(env_id: str) -> str:
    from .registry import _ENVS, _SIMS

    if env_id in _SIMS:
        return str(getattr(_SIMS[env_id].load(), "version", ""))
    return str(getattr(_ENVS[env_id].load(), "version", ""))


def trial_identity(env_id: str, env_kwargs: Mapping[str, Any], agent: str, hyperparams: Mapping[str, Any],
                   seed: int, budget: int) -> dict:
    """Everything that determines a trial's trajectory (see the module docstring).
    Raises the registry's and the agent's one-line errors for an unknown env,
    agent or hyperparameter."""
    from .registry import agent_class, resolve_id

    sid = resolve_id(env_id)
    resolved = agent_class(agent)(**dict(hyperparams)).get_params()
    return {"env_id": sid, "simulator_version": _env_version(sid),
            "env_kwargs": _by_content(json.loads(canonical_json(dict(env_kwargs)))),
            "agent": agent, "hyperparams": json.loads(canonical_json(resolved)),
            "seed": int(seed), "budget": int(budget)}


def trial_key(env_id: str, env_kwargs: Mapping[str, Any], agent: str, hyperparams: Mapping[str, Any],
              seed: int, budget: int) -> str:
    """The stable id of a trial: 16 hex digits of SHA-256 of :func:`trial_identity`."""
    identity = trial_identity(env_id, env_kwargs, agent, hyperparams, seed, budget)
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]

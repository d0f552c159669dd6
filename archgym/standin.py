"""Stand-in simulators: models and tables that answer for a real simulator.

A *stand-in* keeps the real simulator's contract -- its design space, metrics,
workload, reference design and reference metrics, so an environment around it
computes exactly the rewards the real one would -- and answers evaluations
from stored knowledge instead of simulating: a trained proxy model
(``archgym.cost_models.proxy``) or a table of every design's metrics
(``archgym.cost_models.table``).  One protocol, declared on
:class:`~archgym.simulator.Simulator` and filled in here:

* ``stands_in_for`` -- the real simulator's name (None on real simulators);
* ``name`` -- the real simulator's name too, so records, objectives and
  reports group a stand-in's evaluations with the simulator's;
* ``version`` -- ``<real version>+<kind>.<id>``, where ``kind`` is ``proxy``
  or ``table`` and ``id`` is the first 12 hex digits of the file's SHA-256
  (``unsaved`` for a proxy not yet written to a file), so stored runs say
  what answered them;
* ``batch_friendly = True`` -- one batch call costs about as much as one
  design, so environments and population searchers send batches;
* ``evaluation_info(design)`` -- per-evaluation extras for the env's ``info``
  (a proxy's uncertainty; a table has none).

Stand-ins are files chosen with ``backend=<path>``.  The core does not know
the file formats: each is a :class:`FileBackend` registered through the
``archgym.backends`` entry-point group (this package's own setup.cfg registers
``proxy`` and ``table``) or :func:`archgym.registry.register_backend`; the
first backend whose :meth:`FileBackend.claims` accepts a file loads it.

:func:`rescore_best` re-evaluates the best designs of a stand-in run on the
real simulator (``archgym run`` prints them), so a proxy's optimum is never
reported without the simulator's word on it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

from .simulator import Simulator

__all__ = ["StandInSimulator", "FileBackend", "simulator_identity", "workload_digest", "check_identity", "jsonable",
           "rescore_best"]


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values (sorted keys, unknown types as strings)."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def workload_digest(sim: Simulator) -> str | None:
    """The content hash of a simulator's workload, so an identity follows the
    workload's content, not its name: the workload's own ``fingerprint()``
    (e.g. a trace's requests) if it has one, else the SHA-256 of a workload
    given as a file path; None when the workload is a built-in name only."""
    w = sim.workload
    fingerprint = getattr(w, "fingerprint", None)
    if callable(fingerprint):
        return str(fingerprint())
    if isinstance(w, (str, os.PathLike)) and os.path.isfile(w):
        from .trial import file_sha256

        return file_sha256(w)
    return None


def simulator_identity(sim: Simulator) -> dict[str, str]:
    """What a dataset, proxy or table was made from: simulator name, version,
    workload label (and its content hash, :func:`workload_digest`, when known)
    and space fingerprint."""
    out = {"simulator": sim.name, "version": str(sim.version), "workload": sim.workload_label,
           "space_fingerprint": sim.space.fingerprint()}
    digest = workload_digest(sim)
    if digest is not None:
        out["workload_sha256"] = digest
    return out


def check_identity(path: str, meta: Mapping[str, Any], base: Simulator, options: Mapping[str, Any] | None, *,
                   kind: str, remedy: str, error: type[Exception], verb: str = "made") -> None:
    """Refuse a stand-in file (``meta``: its stored identity) made for another
    simulator, version, design space, workload, options, parameters or metrics
    than ``base`` with ``options``: raises ``error`` with one line naming both."""
    want = simulator_identity(base)
    have = meta.get("simulator", {})
    labels = {"simulator": "simulator", "version": "simulator version", "space_fingerprint": "design space",
              "workload": "workload"}
    for key, label in labels.items():
        if str(have.get(key)) != str(want[key]):
            raise error(f"{kind} {path!r} was {verb} for {label} {have.get(key)!r}, not {want[key]!r}; {remedy}")
    if "workload_sha256" in have and "workload_sha256" in want and have["workload_sha256"] != want["workload_sha256"]:
        raise error(f"{kind} {path!r} was {verb} on other workload content than {want['workload']!r} has now "
                    f"(the file changed); {remedy}")
    if options is not None:
        mine = jsonable(dict(options))
        theirs = meta.get("options", {})
        if mine != theirs:
            raise error(f"{kind} {path!r} was {verb} with options {json.dumps(theirs, sort_keys=True)}, "
                        f"not {json.dumps(mine, sort_keys=True)}")
    if "parameters" in meta and (meta["parameters"] != base.space.names
                                 or [m["name"] for m in meta.get("metrics", [])] != base.metric_names):
        raise error(f"{kind} {path!r} lists other parameters or metrics than {base.name}")


class StandInSimulator(Simulator):
    """Base class of proxy models and tables (see the module docstring).

    ``base`` is the real simulator (its space, metrics and workload are
    shared, not copied); ``reference_config``/``reference_metrics`` are the
    real simulator's, as stored with the stand-in; ``content_hash`` is the
    SHA-256 of the stand-in's file ("" while unsaved).  Subclasses set
    :attr:`kind` and implement ``_evaluate``/``_evaluate_batch``.
    """

    kind: ClassVar[str] = "stand-in"
    batch_friendly: ClassVar[bool] = True

    def __init__(self, base: Simulator, *, identity: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None, reference_config: Mapping[str, Any] | None = None,
                 reference_metrics: Mapping[str, float] | None = None, provenance: Mapping[str, Any] | None = None,
                 content_hash: str = "") -> None:
        self.identity = dict(identity or simulator_identity(base))
        self.name = self.identity["simulator"]
        self.stands_in_for = self.name
        self.base_version = str(self.identity["version"])
        self.metrics = tuple(base.metrics)
        self.space = base.space
        self.workload = base.workload
        self.workload_names = base.workload_names
        self._workload_label = str(self.identity.get("workload", base.workload_label))
        self.default_objective = base.default_objective
        self.options = dict(options or {})
        self.provenance = dict(provenance or {})
        self._reference_config = dict(reference_config if reference_config is not None else base.reference_config())
        self._reference_metrics = dict(reference_metrics if reference_metrics is not None
                                       else base.reference_metrics())
        self.set_content_hash(content_hash)

    def set_content_hash(self, content_hash: str) -> None:
        """Record the SHA-256 of the file this stand-in was read from or written to."""
        self.content_hash = content_hash
        self.version = f"{self.base_version}+{self.kind}.{content_hash[:12] if content_hash else 'unsaved'}"

    @property
    def workload_label(self) -> str:
        return self._workload_label

    def reference_config(self) -> dict:
        return dict(self._reference_config)

    def reference_metrics(self) -> dict:
        """The *real* simulator's metrics at its reference design (stored, not predicted)."""
        return dict(self._reference_metrics)

    def describe(self) -> dict:
        d = super().describe()
        d["stands_in_for"] = {"simulator": self.stands_in_for, "version": self.base_version, "kind": self.kind,
                              "sha256": self.content_hash, "options": self.options, "provenance": self.provenance}
        return d


@dataclass(frozen=True)
class FileBackend:
    """A stand-in file format: ``claims(path)`` looks at the file cheaply (its
    first bytes) and says whether it is this format; ``load(path, simulator,
    options)`` returns the stand-in for ``simulator`` (made with ``options``,
    besides the workload), refusing a file made for anything else in one line."""

    name: str
    claims: Callable[[str], bool]
    load: Callable[[str, Simulator, Mapping[str, Any]], Simulator]


def rescore_best(env: Any, trajectory: Any, real_env: Any, k: int = 5) -> list[dict]:
    """The ``k`` best distinct designs of a run on a stand-in (``trajectory``
    from ``env``), re-evaluated on ``real_env`` (the same environment on the
    real simulator: same objective and reference design).  Returns, best
    first, ``config``, ``stand_in_reward``, ``real_reward``,
    ``stand_in_metrics`` and ``real_metrics`` per design.  The
    re-evaluations are not part of the run (they go to ``real_env``'s history)."""
    names = list(env.space.names)
    best = trajectory.sort_values("reward", ascending=False, kind="stable").drop_duplicates(subset=names).head(k)
    rows = []
    for _, r in best.iterrows():
        cfg = {n: r[n] for n in names}
        real_reward, info = real_env.evaluate(cfg)
        rows.append({"config": cfg, "stand_in_reward": float(r["reward"]), "real_reward": float(real_reward),
                     "stand_in_metrics": {m: float(r[m]) for m in env.simulator.metric_names},
                     "real_metrics": dict(info["metrics"])})
    return rows

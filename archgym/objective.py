"""Objectives: turn a simulator's metrics into a reward (higher is always better).

Three kinds, all sign-consistent and explicit about infeasible designs:

* :class:`WeightedObjective` -- a weighted mean of per-metric *scores* in
  ``[0, 1]``.  For a lower-is-better metric ``x``:

  - with a target ``t`` (``x <= t`` wanted): ``score = min(1, t / x)``, so 1 once
    the target is met and falling as ``x`` grows past it;
  - without a target: ``score = ref / (ref + x)``, where ``ref`` is the metric at
    the simulator's reference design (``Simulator.reference_metrics``): 0.5 at
    the reference, approaching 1 as ``x -> 0``.

  Higher-is-better metrics use the mirrored forms (``min(1, x / t)`` and
  ``x / (x + ref)``).  The reward is therefore bounded in ``[0, 1]`` for feasible
  designs; an infeasible design gets ``infeasible_reward`` (default ``-1``),
  strictly below every feasible reward.
* :class:`ParetoObjective` -- the same scores as a vector (one entry per metric,
  higher better) for multi-objective search; its scalar ``reward`` is their mean
  so scalar searchers still run.
* :class:`ArchGymCompatObjective` -- ArchGym's published DRAM reward,
  ``target / |x - target|`` per metric, multiplied when several (its ``both``
  formulation).  It is **unbounded** (infinite when ``x == target``; we cap it at
  ``cap``) and rewards *closeness* to the target from either side, not being
  below it.  Use it only to compare with ArchGym's papers.

Objectives are built from a spec by :func:`make_objective`::

    "cycles"                          minimize cycles (direction from the metric)
    "cycles<=1e6"                     target (score 1 once met)
    "cycles<=1e6, energy_pj"          weighted mean, equal weights
    "0.7*cycles + 0.3*energy_pj"      weights
    "pareto:cycles,energy_pj"         vector objective
    "archgym:avg_power_mw=1000,total_time_ns=1e5"   ArchGym-compatible
    {"kind": "weighted", "terms": [{"metric": "cycles", "target": 1e6, "weight": 2}]}

Every objective must be :meth:`bound <Objective.bind>` to a simulator's metrics
before use (the environment does this).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import UserInputError

__all__ = [
    "ObjectiveError",
    "Term",
    "Objective",
    "WeightedObjective",
    "ParetoObjective",
    "ArchGymCompatObjective",
    "make_objective",
]


class ObjectiveError(UserInputError):
    """An objective spec is malformed or names an unknown metric."""


@dataclass
class Term:
    """One metric in an objective: optional target, weight (> 0)."""

    metric: str
    target: float | None = None
    weight: float = 1.0
    lower_is_better: bool | None = None  # filled from the simulator's Metric on bind
    ref: float = 1.0  # filled on bind

    def score(self, x: float) -> float:
        """Score in [0, 1] (higher better); NaN if ``x`` is not finite."""
        if x is None or not math.isfinite(x):
            return math.nan
        lower = self.lower_is_better
        if self.target is not None:
            t = self.target
            if lower:
                return 1.0 if x <= t else (t / x if t > 0 else 0.0)
            return 1.0 if x >= t else (max(x, 0.0) / t if t > 0 else 0.0)
        ref = self.ref if self.ref > 0 else 1.0
        x = max(x, 0.0)
        return ref / (ref + x) if lower else x / (x + ref)


class Objective:
    """Base class.  Subclasses implement :meth:`reward`; see the module docstring."""

    kind = "objective"
    infeasible_reward: float = -1.0
    reward_range: tuple[float, float] = (-1.0, 1.0)

    def bind(self, metrics: Sequence[Any], reference: Mapping[str, float] | None = None) -> "Objective":
        """A copy tied to a simulator's metric declarations (``Metric`` objects)
        and reference scales; raises :class:`ObjectiveError` for unknown metrics."""
        return copy.deepcopy(self)

    @property
    def metrics(self) -> list[str]:
        return []

    @property
    def n_objectives(self) -> int:
        return 1

    def reward(self, result: Mapping[str, Any]) -> float:
        raise NotImplementedError

    def vector(self, result: Mapping[str, Any]) -> np.ndarray:
        """Per-objective values, higher better (length ``n_objectives``)."""
        return np.array([self.reward(result)], dtype=np.float64)

    def to_spec(self) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_spec()})"


def _bind_terms(terms: Sequence[Term], metrics: Sequence[Any], reference: Mapping[str, float] | None) -> list[Term]:
    by_name = {m.name: m for m in metrics}
    out = []
    for t in terms:
        if t.metric not in by_name:
            raise ObjectiveError(f"objective names unknown metric {t.metric!r}; metrics are: {', '.join(by_name)}")
        t2 = copy.copy(t)
        if t2.lower_is_better is None:
            t2.lower_is_better = bool(by_name[t.metric].lower_is_better)
        ref = (reference or {}).get(t.metric)
        t2.ref = float(ref) if ref is not None and math.isfinite(ref) and ref > 0 else float(by_name[t.metric].scale)
        out.append(t2)
    return out


def _feasible(result: Mapping[str, Any]) -> bool:
    return bool(result.get("feasible", True))


class WeightedObjective(Objective):
    """Weighted mean of bounded per-metric scores; reward in [0, 1], infeasible -> ``infeasible_reward``."""

    kind = "weighted"

    def __init__(self, terms: Sequence[Term], infeasible_reward: float = -1.0) -> None:
        if not terms:
            raise ObjectiveError("an objective needs at least one metric")
        for t in terms:
            if not (t.weight > 0 and math.isfinite(t.weight)):
                raise ObjectiveError(f"weight of {t.metric!r} must be a positive number, got {t.weight}")
            if t.target is not None and not math.isfinite(t.target):
                raise ObjectiveError(f"target of {t.metric!r} must be finite, got {t.target}")
        if not infeasible_reward < 0:
            raise ObjectiveError("infeasible_reward must be negative (below every feasible reward)")
        self.terms = list(terms)
        self.infeasible_reward = float(infeasible_reward)
        self.reward_range = (self.infeasible_reward, 1.0)

    def bind(self, metrics, reference=None):
        new = copy.copy(self)
        new.terms = _bind_terms(self.terms, metrics, reference)
        return new

    @property
    def metrics(self) -> list[str]:
        return [t.metric for t in self.terms]

    def scores(self, result: Mapping[str, Any]) -> np.ndarray:
        return np.array([t.score(float(result.get(t.metric, math.nan))) for t in self.terms], dtype=np.float64)

    def reward(self, result: Mapping[str, Any]) -> float:
        if not _feasible(result):
            return self.infeasible_reward
        s = self.scores(result)
        if not np.all(np.isfinite(s)):
            return self.infeasible_reward
        w = np.array([t.weight for t in self.terms])
        return float(np.dot(w, s) / w.sum())

    def to_spec(self) -> dict:
        return {"kind": self.kind, "infeasible_reward": self.infeasible_reward,
                "terms": [{"metric": t.metric, "target": t.target, "weight": t.weight} for t in self.terms]}


class ParetoObjective(WeightedObjective):
    """Vector objective: one score per metric (higher better); ``reward`` is their weighted mean."""

    kind = "pareto"

    @property
    def n_objectives(self) -> int:
        return len(self.terms)

    def vector(self, result: Mapping[str, Any]) -> np.ndarray:
        if not _feasible(result):
            return np.full(len(self.terms), self.infeasible_reward)
        s = self.scores(result)
        return np.where(np.isfinite(s), s, self.infeasible_reward)


class ArchGymCompatObjective(Objective):
    """ArchGym's DRAM reward: ``prod_i target_i / |x_i - target_i|`` (unbounded).

    ``combine="product"`` reproduces ArchGym's ``both`` formulation; ``"sum"`` adds
    the terms instead.  An exact hit (``x == target``), which would divide by zero
    in ArchGym, is capped at ``cap``.  Metric values are used in archgym's units
    (e.g. ``avg_power_mw``, ``total_time_ns``): convert targets accordingly
    (ArchGym feeds power in W and latency in s).  Infeasible -> ``infeasible_reward``.
    """

    kind = "archgym_compat"

    def __init__(self, targets: Mapping[str, float], combine: str = "product",
                 cap: float = 1e12, infeasible_reward: float = -1.0) -> None:
        if not targets:
            raise ObjectiveError("archgym_compat needs at least one metric=target")
        if combine not in ("product", "sum"):
            raise ObjectiveError(f"combine must be 'product' or 'sum', got {combine!r}")
        for k, v in targets.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v != 0):
                raise ObjectiveError(f"target of {k!r} must be a finite non-zero number, got {v!r}")
        self.targets = {k: float(v) for k, v in targets.items()}
        self.combine = combine
        self.cap = float(cap)
        self.infeasible_reward = float(infeasible_reward)
        self.reward_range = (self.infeasible_reward, math.inf)

    def bind(self, metrics, reference=None):
        names = {m.name for m in metrics}
        for k in self.targets:
            if k not in names:
                raise ObjectiveError(f"objective names unknown metric {k!r}; metrics are: {', '.join(sorted(names))}")
        return copy.copy(self)

    @property
    def metrics(self) -> list[str]:
        return list(self.targets)

    def reward(self, result: Mapping[str, Any]) -> float:
        if not _feasible(result):
            return self.infeasible_reward
        terms = []
        for k, t in self.targets.items():
            x = float(result.get(k, math.nan))
            if not math.isfinite(x):
                return self.infeasible_reward
            d = abs(x - t)
            terms.append(self.cap if d == 0 else min(abs(t) / d, self.cap))
        r = math.prod(terms) if self.combine == "product" else sum(terms)
        return float(min(r, self.cap))

    def to_spec(self) -> dict:
        return {"kind": self.kind, "targets": dict(self.targets), "combine": self.combine, "cap": self.cap}


# --------------------------------------------------------------------------- parsing
_TERM_RE = re.compile(
    r"^\s*(?:(?P<w>[0-9.eE+-]+)\s*\*\s*)?(?P<m>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:(?P<op><=|>=)\s*(?P<t>[0-9.eE+-]+))?\s*$"
)


def _num(s: str, what: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise ObjectiveError(f"{what}: {s!r} is not a number") from None
    return v


def _parse_terms(text: str) -> list[Term]:
    # split on ',' and on '+' that is not an exponent sign (1e+6)
    parts = [p for p in re.split(r",|(?<![eE])\+", text) if p.strip()]
    if not parts:
        raise ObjectiveError(f"empty objective spec {text!r}")
    terms = []
    for p in parts:
        m = _TERM_RE.match(p)
        if not m:
            raise ObjectiveError(
                f"cannot parse objective term {p.strip()!r}; use 'metric', 'metric<=target' or 'weight*metric'"
            )
        w = _num(m["w"], "weight") if m["w"] else 1.0
        t = _num(m["t"], f"target of {m['m']}") if m["t"] else None
        lower = None if m["op"] is None else (m["op"] == "<=")
        terms.append(Term(m["m"], target=t, weight=w, lower_is_better=lower))
    return terms


def make_objective(spec: Any, default: Any = None) -> Objective:
    """Build an (unbound) objective from a spec (see the module docstring).

    ``None`` gives ``default`` (itself a spec).  An :class:`Objective` passes through.
    """
    if spec is None:
        if default is None:
            raise ObjectiveError("no objective given and the simulator declares no default")
        return make_objective(default)
    if isinstance(spec, Objective):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if ":" in text:
            kind, _, rest = text.partition(":")
            kind = kind.strip().lower()
            if kind == "pareto":
                return ParetoObjective(_parse_terms(rest))
            if kind in ("archgym", "archgym_compat"):
                targets = {}
                for part in rest.split(","):
                    if "=" not in part:
                        raise ObjectiveError(f"archgym objective needs metric=target pairs, got {part.strip()!r}")
                    k, _, v = part.partition("=")
                    targets[k.strip()] = _num(v.strip(), f"target of {k.strip()}")
                return ArchGymCompatObjective(targets)
            raise ObjectiveError(f"unknown objective kind {kind!r}; allowed: pareto, archgym")
        return WeightedObjective(_parse_terms(text))
    if isinstance(spec, Mapping):
        kind = spec.get("kind", "weighted")
        if kind == "archgym_compat" or kind == "archgym":
            return ArchGymCompatObjective(spec.get("targets") or {}, combine=spec.get("combine", "product"),
                                          cap=spec.get("cap", 1e12),
                                          infeasible_reward=spec.get("infeasible_reward", -1.0))
        raw_terms = spec.get("terms")
        if raw_terms is None and "metrics" in spec:
            raw_terms = [{"metric": m} for m in spec["metrics"]]
        if not raw_terms:
            raise ObjectiveError(f"objective spec {dict(spec)} has no 'terms' or 'metrics'")
        if isinstance(raw_terms, Mapping):
            raw_terms = [{"metric": k, **(v or {})} for k, v in raw_terms.items()]
        terms = []
        for t in raw_terms:
            if isinstance(t, str):
                terms.extend(_parse_terms(t))
                continue
            unknown = set(t) - {"metric", "target", "weight", "lower_is_better"}
            if unknown or "metric" not in t:
                raise ObjectiveError(f"objective term {t} must have 'metric' and optional 'target', 'weight'")
            terms.append(Term(t["metric"], target=t.get("target"), weight=float(t.get("weight", 1.0)),
                              lower_is_better=t.get("lower_is_better")))
        cls = {"weighted": WeightedObjective, "pareto": ParetoObjective}.get(kind)
        if cls is None:
            raise ObjectiveError(f"unknown objective kind {kind!r}; allowed: weighted, pareto, archgym_compat")
        return cls(terms, infeasible_reward=spec.get("infeasible_reward", -1.0))
    raise ObjectiveError(f"cannot build an objective from {type(spec).__name__}")

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
    "utilization>=0.8"                target of a higher-is-better metric
    "cycles<=1e6, energy_pj"          weighted mean, equal weights
    "0.7*cycles + 0.3*energy_pj"      weights
    "pareto:cycles,energy_pj"         vector objective
    "archgym:avg_power_mw=1000,total_time_ns=1e5"   ArchGym-compatible
    {"kind": "weighted", "terms": [{"metric": "cycles", "target": 1e6, "weight": 2}]}

The string grammar (whitespace between tokens is ignored)::

    spec     := terms | "pareto:" terms | "archgym:" pair ("," pair)*
    terms    := term (("," | "+") term)*
    term     := [number "*"] metric [("<=" | ">=") number]
    pair     := metric "=" number
    metric   := [A-Za-z_][A-Za-z0-9_]*
    number   := a decimal float such as 3, 0.7, 1e6, 1.2e-3

Meaning and rejections (each an :class:`ObjectiveError`, one line naming the
character position or the metric and what is allowed):

* ``,`` and ``+`` both separate terms of a weighted mean (``+`` reads as a
  sum; the mean divides by the total weight).  An empty term -- a leading,
  trailing or doubled separator such as ``"0.7*latency_ns + "`` or
  ``"latency_ns,,energy_pj"`` -- is refused, as is any other text the grammar
  does not produce.
* A metric may appear once per objective (weights, not repeats, express
  importance).
* ``metric<=t`` means "``metric`` at most ``t`` is good enough" and is allowed
  only for lower-is-better metrics; ``metric>=t`` means "at least ``t``" and is
  allowed only for higher-is-better metrics.  The comparison never changes a
  metric's direction: the opposite operator is refused, naming the metric's
  direction.  (Mapping specs' ``lower_is_better`` must agree with the metric.)
* Targets must be positive: metrics are non-negative, so ``latency_ns<=-5``
  can never be met and ``utilization>=0`` always is.  Weights must be
  positive and finite.
* ``pareto:`` needs at least two metrics (one metric is a scalar objective).
* Metric names are checked when the objective is bound to a simulator.

Every objective must be :meth:`bound <Objective.bind>` to a simulator's metrics
before use (the environment does this).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
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
    "objective_from_record",
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
    op: str | None = None  # "<=" or ">=" as written in a string spec (checked against the metric on bind)

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

    def to_record(self) -> dict:
        """The objective *as bound* (directions and reference scales
        included), as plain JSON: :func:`objective_from_record` rebuilds an
        objective that scores every result identically, without the
        simulator.  Stores keep it with each trial."""
        return self.to_spec()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_spec()})"


def _bind_terms(terms: Sequence[Term], metrics: Sequence[Any], reference: Mapping[str, float] | None) -> list[Term]:
    by_name = {m.name: m for m in metrics}
    out = []
    for t in terms:
        if t.metric not in by_name:
            raise ObjectiveError(f"objective names unknown metric {t.metric!r}; metrics are: {', '.join(by_name)}")
        t2 = copy.copy(t)
        lower = bool(by_name[t.metric].lower_is_better)
        direction = "lower-is-better" if lower else "higher-is-better"
        if t.op is not None and (t.op == "<=") != lower:
            raise ObjectiveError(f"objective term {t.metric}{t.op}{t.target:g}: {t.metric!r} is {direction}; "
                                 f"write {t.metric}{'<=' if lower else '>='}target")
        if t.lower_is_better is not None and bool(t.lower_is_better) != lower:
            raise ObjectiveError(f"objective term {t.metric!r}: lower_is_better={t.lower_is_better} contradicts "
                                 f"the metric, which is {direction}")
        t2.lower_is_better = lower
        ref = (reference or {}).get(t.metric)
        t2.ref = float(ref) if ref is not None and math.isfinite(ref) and ref > 0 else float(by_name[t.metric].scale)
        out.append(t2)
    return out


def _value(result: Mapping[str, Any], metric: str) -> float:
    """A metric of a result as a float; missing or None (an infeasible design in an env's info) is NaN."""
    v = result.get(metric)
    return math.nan if v is None else float(v)


def _feasible(result: Mapping[str, Any]) -> bool:
    return bool(result.get("feasible", True))


class WeightedObjective(Objective):
    """Weighted mean of bounded per-metric scores; reward in [0, 1], infeasible -> ``infeasible_reward``."""

    kind = "weighted"

    def __init__(self, terms: Sequence[Term], infeasible_reward: float = -1.0) -> None:
        if not terms:
            raise ObjectiveError("an objective needs at least one metric")
        seen: set[str] = set()
        for t in terms:
            if t.metric in seen:
                raise ObjectiveError(f"metric {t.metric!r} appears twice in the objective; give it once "
                                     "(use a weight to make it count more)")
            seen.add(t.metric)
            if not (isinstance(t.weight, (int, float)) and t.weight > 0 and math.isfinite(t.weight)):
                raise ObjectiveError(f"weight of {t.metric!r} must be a positive number, got {t.weight}")
            if t.target is not None and not (isinstance(t.target, (int, float)) and math.isfinite(t.target)
                                             and t.target > 0):
                raise ObjectiveError(f"target of {t.metric!r} must be a positive finite number (metrics are "
                                     f"non-negative), got {t.target!r}")
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
        return np.array([t.score(_value(result, t.metric)) for t in self.terms], dtype=np.float64)

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

    def to_record(self) -> dict:
        rec = self.to_spec()
        for term, t in zip(rec["terms"], self.terms):
            term.update(lower_is_better=t.lower_is_better, ref=t.ref)
        return rec


class ParetoObjective(WeightedObjective):
    """Vector objective: one score per metric (higher better); ``reward`` is their weighted mean."""

    kind = "pareto"

    def __init__(self, terms: Sequence[Term], infeasible_reward: float = -1.0) -> None:
        if len(terms) < 2:
            raise ObjectiveError(f"a pareto objective needs at least two metrics, got {len(terms)}: "
                                 f"{', '.join(t.metric for t in terms) or '(none)'}")
        super().__init__(terms, infeasible_reward)

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
            x = _value(result, k)
            if not math.isfinite(x):
                return self.infeasible_reward
            d = abs(x - t)
            terms.append(self.cap if d == 0 else min(abs(t) / d, self.cap))
        r = math.prod(terms) if self.combine == "product" else sum(terms)
        return float(min(r, self.cap))

    def to_spec(self) -> dict:
        return {"kind": self.kind, "targets": dict(self.targets), "combine": self.combine, "cap": self.cap}


# --------------------------------------------------------------------------- parsing
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s*")


class _Scanner:
    """Cursor over a string spec; errors name the 1-based character position in
    the whole spec (``offset`` = where ``text`` starts in it)."""

    def __init__(self, spec: str, text: str, offset: int) -> None:
        self.spec, self.text, self.offset, self.i = spec, text, offset, 0

    def skip(self) -> None:
        self.i = _SPACE.match(self.text, self.i).end()

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.text)

    def peek(self, s: str) -> bool:
        self.skip()
        return self.text.startswith(s, self.i)

    def take(self, pattern: re.Pattern) -> str | None:
        self.skip()
        m = pattern.match(self.text, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group()

    def fail(self, problem: str) -> None:
        found = repr(self.text[self.i]) if self.i < len(self.text) else "the end"
        raise ObjectiveError(f"cannot parse objective term in {self.spec!r} at character "
                             f"{self.offset + self.i + 1}: {problem}, found {found}")


def _parse_terms(text: str, spec: str | None = None, offset: int = 0) -> list[Term]:
    """Terms of ``terms`` in the module docstring's grammar."""
    spec = text if spec is None else spec
    sc = _Scanner(spec, text, offset)
    if sc.at_end():
        raise ObjectiveError(f"empty objective spec {spec!r}; give at least one metric")
    terms: list[Term] = []
    while True:
        if sc.peek(",") or sc.peek("+") and not _NUMBER.match(text, sc.i):
            sc.fail("empty term (a leading or doubled ',' or '+')")
        start = sc.i
        weight = 1.0
        w = sc.take(_NUMBER)
        if w is not None:
            if not sc.peek("*"):
                sc.i = start
                sc.skip()
                sc.fail("expected 'weight*metric' or a metric name")
            sc.i += 1
            weight = float(w)
        name = sc.take(_NAME)
        if name is None:
            sc.fail("expected a metric name")
        op = target = None
        if sc.peek("<=") or sc.peek(">="):
            op = text[sc.i:sc.i + 2]
            sc.i += 2
            t = sc.take(_NUMBER)
            if t is None:
                sc.fail(f"expected a number after {op!r}")
            target = float(t)
        terms.append(Term(name, target=target, weight=weight, op=op))
        if sc.at_end():
            return terms
        if not (sc.peek(",") or sc.peek("+")):
            sc.fail("expected ',' or '+' between terms")
        sep = sc.i
        sc.i += 1
        if sc.at_end():
            sc.i = sep
            sc.fail("empty term: nothing follows the last separator")


def _parse_pairs(text: str, spec: str, offset: int) -> dict[str, float]:
    """``metric=number`` pairs of an ``archgym:`` spec."""
    sc = _Scanner(spec, text, offset)
    out: dict[str, float] = {}
    while True:
        name = sc.take(_NAME)
        if name is None:
            sc.fail("archgym objective needs metric=target pairs; expected a metric name")
        if not sc.peek("="):
            sc.fail(f"archgym objective needs metric=target pairs; expected '=' after {name!r}")
        sc.i += 1
        t = sc.take(_NUMBER)
        if t is None:
            sc.fail(f"expected a number after '{name}='")
        if name in out:
            raise ObjectiveError(f"metric {name!r} appears twice in the objective {spec!r}")
        out[name] = float(t)
        if sc.at_end():
            return out
        if not sc.peek(","):
            sc.fail("expected ',' between metric=target pairs")
        sc.i += 1


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
        if ":" in spec:
            kind, _, rest = spec.partition(":")
            offset = len(kind) + 1
            kind = kind.strip().lower()
            if kind == "pareto":
                return ParetoObjective(_parse_terms(rest, spec, offset))
            if kind in ("archgym", "archgym_compat"):
                return ArchGymCompatObjective(_parse_pairs(rest, spec, offset))
            raise ObjectiveError(f"unknown objective kind {kind!r}; allowed: pareto, archgym")
        return WeightedObjective(_parse_terms(spec))
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
            unknown = set(t) - {"metric", "target", "weight", "lower_is_better", "ref"} if isinstance(t, Mapping) else {t}
            if unknown or "metric" not in t:
                raise ObjectiveError(f"objective term {t} must have 'metric' and optional 'target', 'weight'")
            terms.append(Term(t["metric"], target=t.get("target"), weight=float(t.get("weight", 1.0)),
                              lower_is_better=t.get("lower_is_better"), ref=float(t.get("ref", 1.0))))
        cls = {"weighted": WeightedObjective, "pareto": ParetoObjective}.get(kind)
        if cls is None:
            raise ObjectiveError(f"unknown objective kind {kind!r}; allowed: weighted, pareto, archgym_compat")
        return cls(terms, infeasible_reward=spec.get("infeasible_reward", -1.0))
    raise ObjectiveError(f"cannot build an objective from {type(spec).__name__}")


def objective_from_record(record: Mapping[str, Any]) -> Objective:
    """The bound objective that :meth:`Objective.to_record` wrote (directions
    and reference scales as recorded; no simulator needed)."""
    return make_objective(dict(record))

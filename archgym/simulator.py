"""The simulator protocol every design problem implements.

A simulator is a pure function of (design, workload): it owns a
:class:`~archgym.space.DesignSpace`, declares its metrics (name, unit, which
direction is better) and maps one validated design to one metric dict.

Contract (what the base class guarantees to callers):

* ``evaluate(config)`` validates ``config`` (bad input raises
  :class:`~archgym.space.InvalidConfigError` naming the parameter and what is
  allowed), then returns ``{metric: float for every declared metric} |
  {"feasible": bool, "reason": str, "in_space": bool}``.  An infeasible design
  has ``feasible=False``, a non-empty ``reason`` and NaN metrics, never a magic
  number.
* The space is a *search domain*, not the limit of the model: ``evaluate``
  costs any design the model supports.  A design outside the space is passed
  to :meth:`Simulator._validate_outside_space`; if the simulator accepts it,
  the result says ``in_space: False``.  The base accepts nothing outside the
  space (the space's own one-line error is raised); a simulator whose model
  covers more overrides that hook.  Searchers (through
  :class:`~archgym.env.DSEEnv`) stay inside the space.
* ``evaluate_batch(configs)`` returns a :class:`pandas.DataFrame` with one row per
  design: the parameter columns, then every metric, ``feasible`` and ``reason``.
  The default loops over :meth:`_evaluate`; vectorized simulators override
  :meth:`_evaluate_batch`.
* Simulators write no files and keep no global state, so many processes may run
  them at once.

To add a simulator, subclass :class:`Simulator`, set ``name``, ``version``,
``metrics``, build ``self.space`` in ``__init__`` (which takes ``workload`` plus
keyword options and does no heavy work), implement ``_evaluate``, and register it
(``archgym.register`` or the ``archgym.simulators`` entry-point group).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Iterable, Mapping

from .space import ConstraintViolation, DesignSpace, InvalidConfigError
from .errors import UserInputError

__all__ = ["Metric", "Simulator", "WorkloadError", "ValidatedDesign", "FEASIBLE", "REASON", "IN_SPACE"]

FEASIBLE = "feasible"
REASON = "reason"
IN_SPACE = "in_space"


class ValidatedDesign(dict):
    """A design that ``space.validate`` has already returned (canonical values,
    constraints checked), tagged with that space.  :class:`~archgym.env.DSEEnv`
    passes its designs to :meth:`Simulator.evaluate` this way, so they are not
    validated twice per step; any other mapping is validated."""

    __slots__ = ("space",)

    def __init__(self, design: Mapping[str, Any], space: DesignSpace) -> None:
        super().__init__(design)
        self.space = space


class WorkloadError(UserInputError):
    """A workload name, file or description is unknown or malformed."""


@dataclass(frozen=True)
class Metric:
    """One output of a simulator.

    ``unit`` is an SI-style unit string (``cycles``, ``pJ``, ``mm^2``, ``ns``,
    ``bytes``, ``mW``, ``GB/s``, ``fraction``); metric names carry it too
    (``energy_pj``).  ``lower_is_better`` fixes the direction objectives use.
    ``scale`` is a typical magnitude, used only when a simulator has no
    reference design to normalize against.
    """

    name: str
    unit: str
    lower_is_better: bool = True
    description: str = ""
    scale: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


class Simulator:
    """Base class of every simulator (built-in or plugin).  See the module docstring."""

    name: ClassVar[str] = "simulator"
    version: ClassVar[str] = "0"
    metrics: ClassVar[tuple[Metric, ...]] = ()
    #: objective spec used when the user gives none (see ``archgym.objective``);
    #: None means "minimize the first metric"
    default_objective: ClassVar[Any] = None
    #: named workloads this simulator ships (for ``archgym info``)
    workload_names: ClassVar[tuple[str, ...]] = ()
    #: True when one :meth:`evaluate_batch` call over many designs costs far
    #: less than as many :meth:`evaluate` calls (a proxy model, a table):
    #: :class:`~archgym.env.DSEEnv` and population searchers then send batches
    batch_friendly: ClassVar[bool] = False
    #: None for a real simulator; a stand-in (proxy model, table; see
    #: :mod:`archgym.standin`) names the simulator it answers for
    stands_in_for: str | None = None

    space: DesignSpace
    workload: Any = None

    # -- the part a subclass implements -----------------------------------------
    def _evaluate(self, config: dict) -> dict:
        """Evaluate one *validated* design; return metric values (and optionally
        ``feasible``/``reason``).  Use :meth:`infeasible` for infeasible designs."""
        raise NotImplementedError

    def _evaluate_batch(self, configs: list[dict]) -> Any:
        """Evaluate validated designs; return a list of result dicts or a
        DataFrame with the metric columns (+ ``feasible``/``reason``).  Override
        to vectorize; the default loops over :meth:`_evaluate`."""
        return [self._evaluate(c) for c in configs]

    # -- public API ----------------------------------------------------------------
    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"unknown metric {name!r}; metrics are: {', '.join(self.metric_names)}")

    @property
    def workload_label(self) -> str:
        """Short printable name of the workload (for records and plots)."""
        w = self.workload
        if w is None:
            return ""
        for attr in ("name",):
            if hasattr(w, attr):
                return str(getattr(w, attr))
        return str(w) if isinstance(w, str) else type(w).__name__

    def infeasible(self, reason: str) -> dict:
        """A result for an infeasible design: NaN metrics, ``feasible=False``."""
        if not reason:
            raise ValueError("an infeasible result needs a reason")
        out: dict[str, Any] = {m.name: math.nan for m in self.metrics}
        out[FEASIBLE] = False
        out[REASON] = str(reason)
        return out

    def _finish(self, raw: Mapping[str, Any]) -> dict:
        feasible = bool(raw.get(FEASIBLE, True))
        out: dict[str, Any] = {}
        for m in self.metrics:
            if m.name in raw:
                v = raw[m.name]
                out[m.name] = float(v) if v is not None else math.nan
            elif feasible:
                raise RuntimeError(f"simulator {self.name!r} returned no value for metric {m.name!r}")
            else:
                out[m.name] = math.nan
        out[FEASIBLE] = feasible
        out[REASON] = "" if feasible else str(raw.get(REASON) or "infeasible")
        return out

    def _validate_outside_space(self, config: Mapping[str, Any]) -> dict | None:
        """A design outside :attr:`space` that the model can still cost, in
        canonical form; None if the model does not support designs outside
        the space (the default).  Raise :class:`InvalidConfigError` (one line:
        the value and what the model allows) for a value the model cannot
        handle."""
        return None

    def validate_design(self, config: Mapping[str, Any]) -> tuple[dict, bool]:
        """``(canonical design, in_space)``: the space's validation, or for a
        design outside the space, :meth:`_validate_outside_space`.  A design
        that breaks a space constraint raises
        :class:`~archgym.space.ConstraintViolation`."""
        if type(config) is ValidatedDesign and config.space is self.space:
            return config, True
        try:
            return self.space.validate(config), True
        except ConstraintViolation:
            raise
        except InvalidConfigError:
            cfg = self._validate_outside_space(config) if isinstance(config, Mapping) else None
            if cfg is None:
                raise
            return cfg, False

    def evaluate(self, config: Mapping[str, Any]) -> dict:
        """Metrics of one design (validated first); see the module docstring."""
        cfg, in_space = self.validate_design(config)
        out = self._finish(self._evaluate(cfg))
        out[IN_SPACE] = in_space
        return out

    def evaluate_batch(self, configs: Iterable[Mapping[str, Any]]) -> "Any":
        """Metrics of many designs as a DataFrame (parameters, metrics, feasible, reason)."""
        import pandas as pd

        valid = [self.space.validate(c) for c in configs]
        if not valid:
            return pd.DataFrame(columns=self.space.names + self.metric_names + [FEASIBLE, REASON])
        raw = self._evaluate_batch(valid)
        if isinstance(raw, pd.DataFrame):
            res = raw.reset_index(drop=True)
            if FEASIBLE not in res:
                res[FEASIBLE] = True
            if REASON not in res:
                res[REASON] = ""
            missing = [m for m in self.metric_names if m not in res]
            if missing:
                raise RuntimeError(f"simulator {self.name!r} batch result lacks metrics {missing}")
            res = res[self.metric_names + [FEASIBLE, REASON]]
            res[FEASIBLE] = res[FEASIBLE].astype(bool)
        else:
            res = pd.DataFrame([self._finish(r) for r in raw], columns=self.metric_names + [FEASIBLE, REASON])
        params = pd.DataFrame(valid, columns=self.space.names)
        return pd.concat([params, res], axis=1)

    def evaluation_info(self, config: Mapping[str, Any]) -> dict:
        """Extra entries for the environment's step ``info`` about one evaluated
        (validated) design, e.g. a proxy's uncertainty.  Real simulators add none."""
        return {}

    def evaluate_details(self, config: Mapping[str, Any]):
        """Per-component breakdown (e.g. per layer) as a DataFrame, where the
        simulator has one.  The default says it has none."""
        raise NotImplementedError(f"simulator {self.name!r} has no per-component breakdown")

    def parse_config_file(self, path: str) -> dict | None:
        """Read a design from a simulator-specific file format (e.g. a SCALE-Sim
        ``.cfg``); return None if ``path`` is not in such a format, so the caller
        falls back to JSON.  Errors in a recognized file raise ``ValueError``
        naming the file and line."""
        return None

    def reference_config(self) -> dict:
        """A representative design, used to normalize observations and
        target-free rewards: the middle value of every parameter.  Override if
        that design is typically infeasible."""
        return self.space.decode(self.space.nvec // 2)

    def reference_metrics(self) -> dict:
        """Metric scales for normalization: the metrics of :meth:`reference_config`
        where finite and positive, else each metric's declared ``scale``."""
        try:
            res = self.evaluate(self.reference_config())
        except InvalidConfigError:
            res = {}
        out = {}
        for m in self.metrics:
            v = res.get(m.name, math.nan) if res.get(FEASIBLE, False) else math.nan
            out[m.name] = float(v) if (isinstance(v, (int, float)) and math.isfinite(v) and v > 0) else float(m.scale)
        return out

    def describe(self) -> dict:
        """Everything ``archgym info`` prints: parameters, metrics, workloads."""
        return {
            "name": self.name,
            "version": self.version,
            "workload": self.workload_label,
            "workloads": list(self.workload_names),
            "space": self.space.to_dict(),
            "space_size": self.space.size,
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def __repr__(self) -> str:
        wl = f", workload={self.workload_label!r}" if self.workload is not None else ""
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r}{wl})"

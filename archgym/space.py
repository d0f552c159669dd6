"""Declarative design spaces: one canonical encoding shared by every searcher.

A :class:`DesignSpace` is an ordered list of finite, discrete parameters:

* :class:`Categorical` -- unordered labels (``dataflow in {os, ws, is}``);
* :class:`Integer` -- an integer range ``low..high`` with a ``step``;
* :class:`Ordinal` -- an ordered list of numbers (``powers_of_two(4, 256)``).

Every parameter value has exactly one *index* (its position in the value
list).  The canonical encoding of a design is the vector of those indices, so
``encode``/``decode`` round-trip, a ``MultiDiscrete(nvec)`` action is a design,
and a point of the continuous relaxation ``Box(0, 1, (d,))`` maps to the bin
``floor(x * n)``.  No searcher may invent another encoding: they all go
through the methods here.

Constraints between parameters are optional callables ``config -> bool``
with a description; designs that break one fail :meth:`DesignSpace.validate`
with :class:`ConstraintViolation`.  ``size`` counts the unconstrained product.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .errors import GroupsError, UserInputError

__all__ = [
    "InvalidConfigError",
    "ConstraintViolation",
    "Parameter",
    "Categorical",
    "Integer",
    "Ordinal",
    "powers_of_two",
    "Constraint",
    "DesignSpace",
    "as_whole_number",
]


class InvalidConfigError(UserInputError):
    """A design names an unknown parameter, misses one, or has a value outside
    the allowed set.  The message names the parameter, the value and what is
    allowed, on one line."""


class ConstraintViolation(InvalidConfigError):
    """A design is made of allowed values but breaks a cross-parameter constraint."""


def _short_list(values: Sequence[Any], limit: int = 12) -> str:
    vals = [repr(v) if isinstance(v, str) else str(v) for v in values]
    if len(vals) <= limit:
        return "{" + ", ".join(vals) + "}"
    return "{" + ", ".join(vals[:5]) + ", ..., " + ", ".join(vals[-3:]) + "}"


class Parameter:
    """A finite, discrete design parameter.  Subclasses define ``values``."""

    kind = "parameter"

    def __init__(self, name: str, description: str = "", unit: str = "") -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("parameter name must be a non-empty string")
        self.name = name
        self.description = description
        self.unit = unit

    # -- value list -------------------------------------------------------
    @property
    def values(self) -> Sequence[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n(self) -> int:
        """Number of allowed values (the cardinality of the index)."""
        return len(self.values)

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        return _short_list(self.values)

    def index_of(self, value: Any) -> int:
        """Index of ``value``; raises :class:`InvalidConfigError` if not allowed."""
        raise NotImplementedError  # pragma: no cover

    def value_at(self, index: int) -> Any:
        i = int(index)
        if not 0 <= i < self.n:
            raise InvalidConfigError(
                f"parameter {self.name!r}: index {index} out of range 0..{self.n - 1}"
            )
        return self.values[i]

    def validate(self, value: Any) -> Any:
        """Return the canonical form of ``value`` (e.g. ``8.0`` -> ``8``)."""
        return self.values[self.index_of(value)]

    def _reject(self, value: Any) -> InvalidConfigError:
        kind = " (a string, not a number)" if isinstance(value, str) and self.kind != "categorical" else ""
        return InvalidConfigError(
            f"parameter {self.name!r}: value {value!r}{kind} is not allowed; allowed: {self.allowed()}"
        )

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "values": list(self.values),
                "description": self.description, "unit": self.unit}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.allowed()})"


class Categorical(Parameter):
    """Unordered choices (strings, or any hashable values)."""

    kind = "categorical"

    def __init__(self, name: str, choices: Iterable[Any], description: str = "", unit: str = "") -> None:
        super().__init__(name, description, unit)
        self._values = tuple(choices)
        if not self._values:
            raise ValueError(f"parameter {name!r}: needs at least one choice")
        if len(set(self._values)) != len(self._values):
            raise ValueError(f"parameter {name!r}: duplicate choices {self._values}")
        self._lookup = {v: i for i, v in enumerate(self._values)}

    @property
    def values(self) -> Sequence[Any]:
        return self._values

    def index_of(self, value: Any) -> int:
        try:
            return self._lookup[value]
        except (KeyError, TypeError):
            raise self._reject(value) from None


def as_whole_number(value: Any) -> int | None:
    """``value`` as an exact int, or None.  Only numbers are read: bools,
    non-integral floats and strings (even ``"32"``) are rejected, so a
    mistyped JSON or YAML value never silently means a number.  Simulators
    use it to check sizes outside their space too."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


class Integer(Parameter):
    """Integers ``low, low+step, ..., <= high`` (inclusive)."""

    kind = "integer"

    def __init__(self, name: str, low: int, high: int, step: int = 1, description: str = "", unit: str = "") -> None:
        super().__init__(name, description, unit)
        if step <= 0 or high < low:
            raise ValueError(f"parameter {name!r}: need low <= high and step > 0")
        self.low, self.high, self.step = int(low), int(high), int(step)
        self._values = range(self.low, self.high + 1, self.step)

    @property
    def values(self) -> Sequence[int]:
        return self._values

    def allowed(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"integers {self.low}..{self._values[-1]}{step}"

    def index_of(self, value: Any) -> int:
        v = as_whole_number(value)
        if v is None or v < self.low or v > self.high or (v - self.low) % self.step:
            raise self._reject(value)
        return (v - self.low) // self.step

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high,
                "step": self.step, "description": self.description, "unit": self.unit}


class Ordinal(Parameter):
    """An ordered list of numbers (ints or floats); order is the list order."""

    kind = "ordinal"

    def __init__(self, name: str, values: Iterable[float], description: str = "", unit: str = "") -> None:
        super().__init__(name, description, unit)
        vals = []
        for v in values:
            iv = as_whole_number(v)
            vals.append(iv if iv is not None else float(v))
        if not vals:
            raise ValueError(f"parameter {name!r}: needs at least one value")
        if any(b <= a for a, b in zip(vals, vals[1:])):
            raise ValueError(f"parameter {name!r}: ordinal values must be strictly increasing")
        self._values = tuple(vals)
        self._lookup = {v: i for i, v in enumerate(self._values)}

    @property
    def values(self) -> Sequence[float]:
        return self._values

    def index_of(self, value: Any) -> int:
        if isinstance(value, (bool, np.bool_, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise self._reject(value)  # numbers only: "32" is a string, not 32
        key: Any = as_whole_number(value)
        if key is None:
            key = float(value)
        try:
            return self._lookup[key]
        except KeyError:
            raise self._reject(value) from None


def powers_of_two(name: str, low: int, high: int, description: str = "", unit: str = "") -> Ordinal:
    """Ordinal parameter ``low, 2*low, ..., high`` (both powers of two)."""
    if low <= 0 or high < low or low & (low - 1) or high & (high - 1):
        raise ValueError(f"parameter {name!r}: powers_of_two needs powers of two low <= high")
    vals = []
    v = low
    while v <= high:
        vals.append(v)
        v *= 2
    return Ordinal(name, vals, description=description, unit=unit)


@dataclass(frozen=True)
class Constraint:
    """A cross-parameter rule: ``check(config) -> bool`` (True = allowed)."""

    description: str
    check: Callable[[Mapping[str, Any]], bool] = field(compare=False)


class DesignSpace:
    """An ordered, typed list of parameters with optional constraints."""

    def __init__(self, parameters: Iterable[Parameter], constraints: Iterable[Constraint] = (),
                 groups: Mapping[str, Sequence[str]] | None = None) -> None:
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        if not self.parameters:
            raise ValueError("a design space needs at least one parameter")
        names = [p.name for p in self.parameters]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate parameter names: {sorted(dup)}")
        self._by_name = {p.name: p for p in self.parameters}
        self.constraints: tuple[Constraint, ...] = tuple(constraints)
        #: groups the simulator declared (None: every parameter is its own group)
        self.declared_groups: dict[str, list[str]] | None = (
            None if groups is None else self.resolve_groups(groups))

    # -- parameter groups -----------------------------------------------------
    @property
    def groups(self) -> dict[str, list[str]]:
        """Named groups of parameters that partition the space, in space order.

        The simulator's declared groups (e.g. ``compute``, ``on_chip``,
        ``dram``) or, when it declares none, one group per parameter named
        after it.  The multi-agent view and searcher use these by default.
        """
        if self.declared_groups is not None:
            return {g: list(ps) for g, ps in self.declared_groups.items()}
        return {n: [n] for n in self.names}

    def resolve_groups(self, groups: Mapping[str, Sequence[str]] | str | None = None) -> dict[str, list[str]]:
        """Validate ``groups`` (name -> parameter names) as a partition of the space.

        ``None`` gives :attr:`groups`; the string ``"parameters"`` gives one
        group per parameter; ``"declared"`` the simulator's groups.  Parameters
        inside each group come back in space order.  Raises
        :class:`~archgym.errors.GroupsError` naming an unknown, repeated or
        missing parameter, or an empty group.
        """
        if groups is None or groups == "declared":
            return self.groups
        if groups == "parameters":
            return {n: [n] for n in self.names}
        if isinstance(groups, str) or not isinstance(groups, Mapping):
            raise GroupsError(f"groups must be a mapping of group name -> parameter names, "
                              f"'parameters' or 'declared'; got {groups!r}")
        order = {n: i for i, n in enumerate(self.names)}
        seen: dict[str, str] = {}
        out: dict[str, list[str]] = {}
        for gname, members in groups.items():
            if isinstance(members, str):
                members = [members]
            members = list(members)
            if not members:
                raise GroupsError(f"group {gname!r} is empty; every group needs at least one parameter")
            for p in members:
                if p not in order:
                    raise GroupsError(f"group {gname!r} names unknown parameter {p!r}; "
                                      f"parameters are: {', '.join(self.names)}")
                if p in seen:
                    raise GroupsError(f"parameter {p!r} is in two groups ({seen[p]!r} and {gname!r}); "
                                      "groups must partition the parameters")
                seen[p] = str(gname)
            out[str(gname)] = sorted(members, key=order.__getitem__)
        missing = [n for n in self.names if n not in seen]
        if missing:
            raise GroupsError(f"parameter {missing[0]!r} is in no group; groups must partition the "
                              f"parameters (not owned: {', '.join(missing)})")
        return out

    # -- introspection ------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def nvec(self) -> np.ndarray:
        """Cardinality of each parameter, in order (the MultiDiscrete ``nvec``)."""
        return np.array([p.n for p in self.parameters], dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of designs in the unconstrained product (exact Python int)."""
        return math.prod(p.n for p in self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidConfigError(
                f"unknown parameter {name!r}; parameters are: {', '.join(self.names)}"
            ) from None

    def __iter__(self):
        return iter(self.parameters)

    def __repr__(self) -> str:
        return f"DesignSpace({list(self.parameters)!r}, size={self.size})"

    def to_dict(self) -> dict:
        out = {"parameters": [p.to_dict() for p in self.parameters],
               "constraints": [c.description for c in self.constraints]}
        if self.declared_groups is not None:
            out["groups"] = self.groups
        return out

    def fingerprint(self) -> str:
        """A short content hash of the space (parameters, values, constraint
        descriptions, groups): equal fingerprints mean the same canonical
        encoding.  Proxy files and trial keys carry it."""
        import hashlib
        import json
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    # -- validation -----------------------------------------------------------
    def validate(self, config: Mapping[str, Any], *, check_constraints: bool = True) -> dict:
        """Return ``config`` with canonical values in parameter order.

        Raises :class:`InvalidConfigError` naming the first unknown or missing
        parameter or disallowed value, and :class:`ConstraintViolation` for a
        broken constraint.
        """
        if not isinstance(config, Mapping):
            raise InvalidConfigError(
                f"a design must be a mapping of parameter name to value, got {type(config).__name__}"
            )
        unknown = [k for k in config if k not in self._by_name]
        if unknown:
            raise InvalidConfigError(
                f"unknown parameter {unknown[0]!r}; parameters are: {', '.join(self.names)}"
            )
        missing = [n for n in self.names if n not in config]
        if missing:
            raise InvalidConfigError(
                f"missing parameter {missing[0]!r}; allowed: {self._by_name[missing[0]].allowed()}"
            )
        out = {p.name: p.validate(config[p.name]) for p in self.parameters}
        if check_constraints:
            for c in self.constraints:
                if not c.check(out):
                    raise ConstraintViolation(f"design breaks constraint: {c.description}; design: {out}")
        return out

    def contains(self, config: Mapping[str, Any]) -> bool:
        try:
            self.validate(config)
        except InvalidConfigError:
            return False
        return True

    def satisfies_constraints(self, config: Mapping[str, Any]) -> bool:
        return all(c.check(config) for c in self.constraints)

    # -- encoding -------------------------------------------------------------
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Index vector (int64) of a design; validates first."""
        cfg = self.validate(config, check_constraints=False)
        return np.array([p.index_of(cfg[p.name]) for p in self.parameters], dtype=np.int64)

    def decode(self, indices: Sequence[int] | np.ndarray) -> dict:
        """Design for an index vector (the inverse of :meth:`encode`)."""
        idx = np.asarray(indices).ravel()
        if idx.shape[0] != len(self.parameters):
            raise InvalidConfigError(
                f"index vector has length {idx.shape[0]}, the space has {len(self.parameters)} parameters"
            )
        return {p.name: p.value_at(i) for p, i in zip(self.parameters, idx)}

    def unit_to_indices(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """Map a point of the relaxation ``[0, 1]^d`` to indices: bin ``floor(x * n)``
        (clipped), so every value gets an equal share of the unit interval."""
        x = np.clip(np.asarray(x, dtype=np.float64).ravel(), 0.0, 1.0)
        if x.shape[0] != len(self.parameters):
            raise InvalidConfigError(
                f"point has length {x.shape[0]}, the space has {len(self.parameters)} parameters"
            )
        nvec = self.nvec
        return np.minimum((x * nvec).astype(np.int64), nvec - 1)

    def indices_to_unit(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Centre of each index's bin in ``[0, 1]`` (inverse of :meth:`unit_to_indices`)."""
        idx = np.asarray(indices, dtype=np.float64)
        return (idx + 0.5) / self.nvec

    # -- sampling -------------------------------------------------------------
    def sample_indices(self, rng: np.random.Generator | int | None = None, n: int = 1,
                       max_tries: int = 1000) -> np.ndarray:
        """``n`` uniformly random index vectors (shape ``(n, d)``) that satisfy
        the constraints (rejection sampling, up to ``max_tries`` rounds)."""
        rng = np.random.default_rng(rng)
        nvec = self.nvec
        if not self.constraints:
            return rng.integers(0, nvec, size=(n, len(nvec)), dtype=np.int64)
        out: list[np.ndarray] = []
        for _ in range(max_tries):
            cand = rng.integers(0, nvec, size=(max(n, 16), len(nvec)), dtype=np.int64)
            for row in cand:
                if self.satisfies_constraints(self.decode(row)):
                    out.append(row)
                    if len(out) == n:
                        return np.array(out, dtype=np.int64)
        raise RuntimeError(f"could not sample {n} designs satisfying the constraints in {max_tries} rounds")

    def sample(self, rng: np.random.Generator | int | None = None) -> dict:
        """One uniformly random design (seeded by ``rng``)."""
        return self.decode(self.sample_indices(rng, 1)[0])

    def grid_indices(self, constrained: bool = False) -> np.ndarray:
        """Every index vector of the product, in lexicographic order (small spaces
        only); ``constrained``: only the designs satisfying the space's constraints."""
        if self.size > 10_000_000:
            raise ValueError(f"space has {self.size} designs; too many to enumerate")
        grids = np.meshgrid(*[np.arange(k) for k in self.nvec], indexing="ij")
        idx = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
        if constrained and self.constraints:
            idx = idx[[self.satisfies_constraints(self.decode(row)) for row in idx]]
        return idx

    def key_strides(self) -> np.ndarray:
        """Multipliers (int64) turning an index vector into its mixed-radix key,
        last parameter fastest: ``idx @ key_strides()`` is the design's row in
        the unconstrained :meth:`grid_indices`."""
        nvec = self.nvec.astype(np.int64)
        return np.append(np.cumprod(nvec[::-1])[::-1][1:], 1).astype(np.int64)

    # -- Gymnasium views ---------------------------------------------------------
    def to_multidiscrete(self, seed: int | None = None):
        """``MultiDiscrete(nvec)``: an action is the canonical index vector."""
        from gymnasium import spaces

        return spaces.MultiDiscrete(self.nvec, seed=seed)

    def to_box(self, seed: int | None = None):
        """``Box(0, 1, (d,))``: the continuous relaxation (see :meth:`unit_to_indices`)."""
        from gymnasium import spaces

        return spaces.Box(0.0, 1.0, shape=(len(self.parameters),), dtype=np.float32, seed=seed)

    def to_dict_space(self, seed: int | None = None):
        """``Dict(name -> Discrete(n))``: one index per parameter, by name."""
        from gymnasium import spaces

        return spaces.Dict({p.name: spaces.Discrete(p.n) for p in self.parameters}, seed=seed)

    def from_dict_action(self, action: Mapping[str, Any]) -> dict:
        return self.decode([int(action[n]) for n in self.names])

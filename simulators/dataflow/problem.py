"""The problem: named loop dimensions with bounds, and data spaces as affine projections.

A :class:`Problem` is Timeloop's "shape + instance": dimensions (``C, M, R,
S, N, P, Q`` for a conv), their bounds, and data spaces.  Each data space
is a list of *data dimensions*; each data dimension is a list of terms
``(problem_dim, coefficient)`` and its index is ``sum(coefficient * index)``
(Inputs' height of a strided conv is ``[(P, stride), (R, dilation)]``).  A
data space flagged ``read_write`` is the one accumulated into (Outputs).

Assumption (checked): within one data space, each problem dimension appears
in at most one data dimension, so a tile is the product of per-data-dimension
index sets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import ProblemError

__all__ = ["DataSpace", "Problem", "conv_problem", "gemm_problem", "einsum_problem", "problem_from_layer"]

Term = tuple[str, int]


@dataclass(frozen=True)
class DataSpace:
    """One tensor: ``projection`` is a tuple of data dimensions, each a tuple of ``(dim, coefficient)``."""

    name: str
    projection: tuple[tuple[Term, ...], ...]
    read_write: bool = False

    @property
    def dims(self) -> set[str]:
        return {d for dd in self.projection for d, _ in dd}


@dataclass(frozen=True)
class Problem:
    """Loop dimensions (``dims`` in order, ``bounds``) and data spaces; ``macs`` = product of bounds."""

    name: str
    dims: tuple[str, ...]
    bounds: Mapping[str, int]
    dataspaces: tuple[DataSpace, ...]

    def __post_init__(self) -> None:
        if not self.dims:
            raise ProblemError(f"problem {self.name!r}: no dimensions")
        if len(set(self.dims)) != len(self.dims):
            raise ProblemError(f"problem {self.name!r}: repeated dimension in {list(self.dims)}")
        for d in self.dims:
            b = self.bounds.get(d)
            if b is None:
                raise ProblemError(f"problem {self.name!r}: dimension {d!r} has no bound (instance)")
            if isinstance(b, bool) or not isinstance(b, int) or b <= 0:
                raise ProblemError(f"problem {self.name!r}: dimension {d!r} bound must be a positive integer, got {b!r}")
        if not self.dataspaces:
            raise ProblemError(f"problem {self.name!r}: no data spaces")
        names = [ds.name for ds in self.dataspaces]
        if len(set(names)) != len(names):
            raise ProblemError(f"problem {self.name!r}: repeated data space name in {names}")
        if sum(ds.read_write for ds in self.dataspaces) > 1:
            raise ProblemError(f"problem {self.name!r}: more than one read_write data space")
        for ds in self.dataspaces:
            seen: set[str] = set()
            for dd in ds.projection:
                for d, c in dd:
                    if d not in self.bounds:
                        raise ProblemError(f"problem {self.name!r}: data space {ds.name!r} uses unknown dimension "
                                           f"{d!r}; dimensions: {', '.join(self.dims)}")
                    if d in seen:
                        raise ProblemError(f"problem {self.name!r}: data space {ds.name!r} uses dimension {d!r} in "
                                           "two data dimensions (not supported)")
                    if isinstance(c, bool) or not isinstance(c, int) or c <= 0:
                        raise ProblemError(f"problem {self.name!r}: data space {ds.name!r}: coefficient of {d!r} "
                                           f"must be a positive integer, got {c!r}")
                    seen.add(d)

    @property
    def macs(self) -> int:
        out = 1
        for d in self.dims:
            out *= self.bounds[d]
        return out

    def dataspace(self, name: str) -> DataSpace:
        for ds in self.dataspaces:
            if ds.name == name:
                return ds
        raise ProblemError(f"unknown data space {name!r}; data spaces: {', '.join(d.name for d in self.dataspaces)}")

    def tensor_size(self, ds: DataSpace) -> int:
        """Distinct elements of data space ``ds`` (bounding box of its projection)."""
        size = 1
        for dd in ds.projection:
            size *= sum(c * (self.bounds[d] - 1) for d, c in dd) + 1
        return size


def conv_problem(name: str = "conv", *, C: int, M: int, R: int, S: int, P: int, Q: int, N: int = 1,
                 stride: int = 1, dilation: int = 1, depthwise: bool = False) -> Problem:
    """A 2-D convolution in Timeloop's 7-dimension form (``depthwise``: one filter group per channel,
    ``M`` is the channel multiplier and Inputs do not depend on ``M``)."""
    bounds = {"C": C, "M": M, "R": R, "S": S, "N": N, "P": P, "Q": Q}
    h = (("R", dilation), ("P", stride))
    w = (("S", dilation), ("Q", stride))
    weights = DataSpace("Weights", ((("C", 1),), (("M", 1),), (("R", 1),), (("S", 1),)))
    inputs = DataSpace("Inputs", ((("N", 1),), (("C", 1),), h, w))
    out_dims = ((("N", 1),),) + (((("C", 1),),) if depthwise else ()) + ((("M", 1),), (("Q", 1),), (("P", 1),))
    outputs = DataSpace("Outputs", out_dims, True)
    return Problem(name, ("C", "M", "R", "S", "N", "P", "Q"), bounds, (weights, inputs, outputs))


def gemm_problem(name: str = "gemm", *, M: int, N: int, K: int) -> Problem:
    """``Z[m, n] = sum_k A[m, k] * B[k, n]`` with dims ``M, N, K``."""
    return Problem(name, ("M", "N", "K"), {"M": M, "N": N, "K": K}, (
        DataSpace("A", ((("M", 1),), (("K", 1),))),
        DataSpace("B", ((("K", 1),), (("N", 1),))),
        DataSpace("Z", ((("M", 1),), (("N", 1),)), True),
    ))


def einsum_problem(spec: str, sizes: Mapping[str, int], name: str = "einsum",
                   operands: Sequence[str] | None = None) -> Problem:
    """A problem from an einsum with one output, e.g. attention's ``"bhqd,bhkd->bhqk"`` (Q K^T) or
    ``"bhqk,bhkd->bhqd"`` (P V).  Dimensions are the letters (upper-cased), ``sizes`` gives each
    letter's bound; operands are named ``operands`` (default ``A, B, ..., Z`` for the output)."""
    if "->" not in spec:
        raise ProblemError(f"einsum {spec!r}: expected 'in1,in2->out'")
    lhs, out = spec.replace(" ", "").split("->")
    ins = lhs.split(",")
    letters = list(dict.fromkeys(ch for part in ins + [out] for ch in part))
    for ch in letters:
        if not ch.isalpha():
            raise ProblemError(f"einsum {spec!r}: {ch!r} is not a dimension letter")
        if ch not in sizes and ch.upper() not in sizes:
            raise ProblemError(f"einsum {spec!r}: no size for dimension {ch!r}")
    names = list(operands) if operands is not None else [chr(ord("A") + i) for i in range(len(ins))] + ["Z"]
    if len(names) != len(ins) + 1:
        raise ProblemError(f"einsum {spec!r}: {len(names)} operand names for {len(ins) + 1} operands")
    bounds = {ch.upper(): int(sizes.get(ch, sizes.get(ch.upper()))) for ch in letters}
    spaces = tuple(DataSpace(n, tuple(((ch.upper(), 1),) for ch in part), i == len(ins))
                   for i, (n, part) in enumerate(zip(names, ins + [out])))
    return Problem(name, tuple(ch.upper() for ch in letters), bounds, spaces)


def problem_from_layer(layer: Any) -> Problem:
    """Convert a :class:`archgym.simulators.workloads.layers.Layer` (padded sizes, batch 1).

    conv -> :func:`conv_problem`; gemm -> :func:`gemm_problem` (``M`` output rows,
    ``N`` filters, ``K`` reduction); dwconv -> depthwise conv (``C`` channels,
    ``M`` = ``num_filters`` per channel).
    """
    if layer.kind == "gemm":
        return gemm_problem(layer.name, M=layer.ifmap_h, N=layer.num_filters, K=layer.filt_w)
    return conv_problem(layer.name, C=layer.channels, M=layer.num_filters, R=layer.filt_h, S=layer.filt_w,
                        P=layer.ofmap_h, Q=layer.ofmap_w, stride=layer.stride, depthwise=layer.kind == "dwconv")

"""Bad-input errors of the dataflow simulator (all :class:`archgym.errors.UserInputError`).

Each message is one line naming the offending file, level, data space or
dimension and what is allowed.
"""
from __future__ import annotations

from archgym.errors import UserInputError

__all__ = ["DataflowInputError", "ProblemError", "ArchitectureError", "MappingError", "UnsupportedFeatureError"]


class DataflowInputError(UserInputError):
    """Base of the dataflow simulator's input errors."""


class ProblemError(DataflowInputError):
    """A problem (dimensions, bounds, data-space projections) is malformed."""


class ArchitectureError(DataflowInputError):
    """An architecture (levels, sizes, fan-outs) is malformed."""


class MappingError(DataflowInputError):
    """A mapping names an unknown level or dimension, has factors that do not
    multiply out, or a permutation with repeated or missing dimensions."""


class UnsupportedFeatureError(DataflowInputError):
    """A Timeloop feature this model does not implement (sparse, Jinja templates, compound components)."""

"""The one exception family for mistakes in what a user gave us.

Everything a user can get wrong -- a design value, a workload name or file, an
objective spec, a sweep spec, a store path, a hyperparameter, parameter groups
-- raises a subclass of :class:`UserInputError`.  Its message is one line that
names the offending value and what is allowed.  The CLI maps exactly this
family to that line on stderr and exit status 2; any other exception is a bug
and keeps its traceback (exit 1).

``UserInputError`` derives from :class:`ValueError` so code that caught
``ValueError`` before keeps working.  The subclasses live next to the code
that raises them (``archgym.space.InvalidConfigError``,
``archgym.simulator.WorkloadError``, ``archgym.objective.ObjectiveError``, ...);
this module holds the base and the ones with no better home.
"""
from __future__ import annotations

__all__ = ["UserInputError", "GroupsError", "OptionError"]


class UserInputError(ValueError):
    """Base of every error caused by user input (one line: what is wrong, what is allowed).

    The message is folded to one line (runs of white space, newlines included,
    become one space), so a value's multi-line repr -- a numpy array, a nested
    mapping -- never breaks the one-line contract."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(" ".join(str(message).split()), *args)


class GroupsError(UserInputError):
    """Parameter groups do not partition a design space (missing, repeated or unknown parameter)."""


class OptionError(UserInputError, TypeError):
    """An unknown simulator or env option, or a value its constructor refuses.
    Also a :class:`TypeError`, as Python raises for an unexpected keyword."""

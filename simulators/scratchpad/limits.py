"""Deterministic work budgets for the scratchpad planners, and a wall-clock safety net.

A plan must be a function of the design, never of the machine's speed or
load, so every budget that can stop a planner early is *counted*:

* ``nodes``: branch-and-bound nodes per MIP solve (HiGHS ``mip_max_nodes``,
  CBC ``maxNodes``); HiGHS runs single-threaded with its fixed random seed;
* ``search_iterations``: simplex iterations the windowed re-scheduling
  search (:mod:`.search`) and the divide-and-conquer heuristic (:mod:`.dnc`)
  may spend: no new window is started once the solver calls of the search
  have used them (the iterations are counted by the solver, so the cut-off
  falls at the same window on every machine);
* ``window_nodes``: the node limit of each window's free-order model;
* ``placement_nodes``: the node limit of each address model of
  :mod:`.placement` (a feasibility problem: its nodes are cheap, and on
  batch-2 ResNet-18 a placement of a 193-interval plan needed 1,169 nodes).

Wall time only guards against a runaway solve: when an evaluation exceeds
``time_limit_s`` it raises :class:`SafetyNetError` (never a different plan);
raise the limit or lower the work budget.  The defaults were tuned so that
no shipped workload comes near it (``docs/scratchpad.md``).

:class:`SolveContext` carries the budget, the solver choice and the safety
net into every solver call of one plan, and counts the work done (simplex
iterations, nodes, solves), which the simulator reports.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from archgym.errors import OptionError

__all__ = ["WorkBudget", "SolveContext", "SafetyNetError", "DEFAULT_TIME_LIMIT_S", "check_time_limit",
           "check_count", "check_gap"]

#: default wall-clock safety net of one evaluation (s); exceeding it is an error, never an answer
DEFAULT_TIME_LIMIT_S = 600.0


class SafetyNetError(RuntimeError):
    """A plan took longer than the wall-clock safety net (``time_limit_s``).

    Not a user-input error and not a result: the same design, given the
    time, has one answer; raise the limit or lower the work budget."""


def check_time_limit(value: object, name: str = "time_limit_s") -> float:
    """``value`` as a positive number of seconds (``None``: no safety net, inf)."""
    if value is None:
        return math.inf
    n = math.nan if isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)
    if not (n > 0):  # NaN, zero, negative, or not a number at all
        raise OptionError(f"{name}={value!r} is not allowed; allowed: a positive number of seconds "
                          f"(the wall-clock safety net per evaluation) or None for no limit")
    return n


def check_count(value: object, name: str, low: int = 1) -> int:
    """``value`` as a whole number >= ``low`` (one-line :class:`OptionError` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or int(value) != value or value < low:
        raise OptionError(f"{name}={value!r} is not allowed; allowed: a whole number >= {low}")
    return int(value)


def check_gap(value: object, name: str = "gap_rel") -> float:
    """``value`` as a relative optimality gap in ``[0, 1)``."""
    n = math.nan if isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)
    if not 0.0 <= n < 1.0:
        raise OptionError(f"{name}={value!r} is not allowed; allowed: a relative gap in [0, 1) (0 = exact)")
    return n


@dataclass(frozen=True)
class WorkBudget:
    """Counted limits (see the module docstring); every field is a whole number >= 1."""

    nodes: int = 1000
    search_iterations: int = 500_000
    window_nodes: int = 50
    placement_nodes: int = 5000

    def __post_init__(self) -> None:
        for name in ("nodes", "search_iterations", "window_nodes", "placement_nodes"):
            check_count(getattr(self, name), name)


@dataclass
class SolveContext:
    """Solver choice, work budget and safety net of one plan, plus the work counted so far.

    ``solver``: ``auto`` | ``highs`` | ``cbc``; ``gap_rel``: relative gap at
    which a MIP may stop (0: exact); ``time_limit_s``: the safety net, measured
    from the context's creation (``math.inf``: none)."""

    solver: str = "auto"
    gap_rel: float = 0.0
    budget: WorkBudget = field(default_factory=WorkBudget)
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    iterations: int = 0  #: simplex iterations, summed over every solve
    nodes: int = 0  #: branch-and-bound nodes, summed over every solve
    solves: int = 0  #: solver calls
    started: float = field(default_factory=time.perf_counter)

    def remaining_s(self) -> float:
        """Seconds left before the safety net (inf if none)."""
        return self.time_limit_s - (time.perf_counter() - self.started)

    def check_deadline(self, where: str) -> None:
        """Raise :class:`SafetyNetError` if the safety net has passed."""
        if self.remaining_s() <= 0:
            raise SafetyNetError(f"{where}: the plan took longer than the safety net time_limit_s="
                                 f"{self.time_limit_s:g} s; raise it or lower the work budget")

    def count(self, iterations: int, nodes: int) -> None:
        self.iterations += int(iterations)
        self.nodes += int(nodes)
        self.solves += 1

    def work(self) -> dict:
        """The work counted so far (deterministic)."""
        return {"lp_iterations": self.iterations, "nodes": self.nodes, "solves": self.solves}


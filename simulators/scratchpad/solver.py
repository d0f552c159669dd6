"""Solving PuLP models: HiGHS first, CBC as fallback; honest statuses.

PuLP reports status "Optimal" when a time limit stops the solver with an
incumbent, so the status here comes from ``prob.sol_status`` (and HiGHS's own
model status and MIP gap).  Every solve has a time limit and one thread.

Solver output never reaches stdout (``archgym evaluate --json`` prints only
JSON): whatever HiGHS or CBC writes to file descriptor 1 -- including the
banner HiGHS prints when its first model is created -- is captured and sent,
line by line, to the ``archgym.simulators.scratchpad.solver`` logger at DEBUG
level.  That logger is silent by default; enabling DEBUG on it also turns the
solvers' own progress logs on.
"""
from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import pulp

from archgym.errors import OptionError

__all__ = ["SolveOutcome", "available_solvers", "solve_model", "new_var", "LOGGER", "solver_output_to_log"]

#: where solver logs go (DEBUG); silent unless the application configures it
LOGGER = logging.getLogger(__name__)


@dataclass
class SolveOutcome:
    """``status``: optimal | feasible (solution with a gap) | timeout (no solution) | infeasible."""

    status: str
    objective: float
    bound: float
    time_s: float
    solver: str

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def available_solvers() -> list[str]:
    """Usable back-ends in preference order (``highs``, ``cbc``)."""
    names = pulp.listSolvers(onlyAvailable=True)
    out = []
    if "HiGHS" in names:
        out.append("highs")
    if "PULP_CBC_CMD" in names:
        out.append("cbc")
    return out


def new_var(prob: pulp.LpProblem, name: str, low: float | None = None, up: float | None = None,
            cat: str = "Continuous") -> pulp.LpVariable:
    """A variable attached to ``prob`` (PuLP >= 3 API when present).  ``Binary``
    becomes an integer in ``[low or 0, up or 1]`` so a bound of 0 can fix it."""
    if cat == "Binary":
        cat, low, up = "Integer", 0 if low is None else low, 1 if up is None else up
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, low, up, cat=cat)
    return pulp.LpVariable(name, low, up, cat=cat)


class _WarmHiGHS(pulp.HiGHS):  # type: ignore[misc, valid-type]
    """PuLP's highspy back-end, plus a MIP start from the variables' current values."""

    def __init__(self, *args, warm: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.warm = warm

    def callSolver(self, lp):  # noqa: N802 (PuLP's name)
        if self.warm:
            import highspy

            sol = highspy.HighsSolution()
            sol.col_value = [float(v.varValue) if v.varValue is not None else 0.0 for v in lp.variables()]
            sol.value_valid = True
            lp.solverModel.setSolution(sol)
            # HiGHS 1.16's presolve, given a MIP start, proved a wrong optimum on a
            # 7-operator free-order model (40 B "optimal"; brute force, CBC and the
            # cold HiGHS solve: 18 B); test_highs_warm_start_keeps_the_true_optimum.
            lp.solverModel.setOptionValue("presolve", "off")
        lp.solverModel.run()


@contextmanager
def solver_output_to_log() -> Iterator[None]:
    """Capture what native code writes to file descriptor 1 and log it (DEBUG).

    Python-level ``sys.stdout`` is flushed first so nothing printed before is
    swallowed.  If descriptor 1 is not open, nothing is redirected."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield
        finally:
            try:
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip():
                    LOGGER.debug("%s", line)


def solve_model(prob: pulp.LpProblem, *, solver: str = "auto", time_limit_s: float = 10.0,
                gap_rel: float = 0.0, warm_start: bool = False) -> SolveOutcome:
    """Solve ``prob`` (minimization) and classify the result.

    ``solver``: ``auto`` (HiGHS if available, else CBC), ``highs`` or ``cbc``.
    ``gap_rel``: relative optimality gap at which the solver may stop (0 = exact).
    ``warm_start``: use the variables' current values as a MIP start."""
    avail = available_solvers()
    if solver == "auto":
        if not avail:
            raise RuntimeError("no MILP solver available (install highspy, or PuLP's bundled CBC)")
        solver = avail[0]
    if solver not in ("highs", "cbc"):
        raise OptionError(f"unknown solver {solver!r}; choose auto, highs or cbc")
    if solver not in avail:
        raise RuntimeError(f"solver {solver!r} is not available (available: {avail})")
    tl = max(float(time_limit_s), 0.01)
    msg = LOGGER.isEnabledFor(logging.DEBUG)
    if solver == "highs":
        backend = _WarmHiGHS(msg=msg, timeLimit=tl, gapRel=gap_rel, threads=1, warm=warm_start)
    else:
        with warnings.catch_warnings():  # PuLP 3 deprecates the bundled-CBC class name
            warnings.simplefilter("ignore", DeprecationWarning)
            backend = pulp.PULP_CBC_CMD(msg=msg, timeLimit=tl, gapRel=gap_rel, threads=1, warmStart=warm_start)
    t0 = time.perf_counter()
    with solver_output_to_log():
        prob.solve(backend)
    elapsed = time.perf_counter() - t0
    obj = pulp.value(prob.objective)
    obj = float(obj) if obj is not None else math.nan
    if prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        return SolveOutcome("infeasible", math.nan, math.nan, elapsed, solver)
    if prob.sol_status == pulp.LpSolutionOptimal:
        bound = obj
        if solver == "highs" and gap_rel > 0:
            bound = _highs_bound(prob, obj)
        return SolveOutcome("optimal", obj, bound, elapsed, solver)
    if prob.sol_status == pulp.LpSolutionIntegerFeasible:
        bound = _highs_bound(prob, math.nan) if solver == "highs" else math.nan
        return SolveOutcome("feasible", obj, bound, elapsed, solver)
    bound = _highs_bound(prob, math.nan) if solver == "highs" else math.nan
    return SolveOutcome("timeout", math.nan, bound, elapsed, solver)


def _highs_bound(prob: pulp.LpProblem, default: float) -> float:
    try:
        b = float(prob.solverModel.getInfo().mip_dual_bound)
    except Exception:
        return default
    return b if math.isfinite(b) else default

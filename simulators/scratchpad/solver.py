"""Solving PuLP models: HiGHS first, CBC as fallback; honest statuses, counted budgets.

What is trusted, and from where:

* *A point* is accepted only when the solver says it is primal feasible:
  HiGHS's own ``primal_solution_status`` (PuLP labels a time- or node-limited
  HiGHS run "IntegerFeasible" whatever the point is); for CBC, PuLP's
  solution status and a re-check of every constraint here.
* *Optimal* means the solver proved it (HiGHS model status ``kOptimal``, or
  CBC's optimal), within the requested ``gap_rel``.
* *The bound* is HiGHS's ``mip_dual_bound`` on the model *with* PuLP's
  objective constant: PuLP folds the constant out of the objective it hands
  to HiGHS, so it is passed back as HiGHS's objective offset (without it the
  bound of a model with a constant term is off by that constant, and so is
  HiGHS's relative-gap test).

Budgets are counted, never timed (:mod:`.limits`): a node limit per solve,
one thread, HiGHS's fixed random seed.  The context's wall-clock safety net
becomes the solver's time limit; if the solver reaches it the solve raises
:class:`~.limits.SafetyNetError` instead of returning whatever it had.

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

from .limits import SafetyNetError, SolveContext

__all__ = ["SolveOutcome", "available_solvers", "solve_model", "new_var", "LOGGER", "solver_output_to_log"]

#: where solver logs go (DEBUG); silent unless the application configures it
LOGGER = logging.getLogger(__name__)


@dataclass
class SolveOutcome:
    """``status``: optimal (proven) | feasible (a primal-feasible point, not proven
    optimal within the node limit) | unsolved (no feasible point within the
    budget) | infeasible (the model has none).  ``bound``: a lower bound on
    the objective, constant included (NaN if unknown)."""

    status: str
    objective: float
    bound: float
    time_s: float
    solver: str
    iterations: int = 0
    nodes: int = 0

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


class _HiGHS(pulp.HiGHS):  # type: ignore[misc, valid-type]
    """PuLP's highspy back-end with the objective constant passed as HiGHS's
    offset, a node limit, one thread, an optional MIP start from the
    variables' current values, and HiGHS's own statuses read back raw."""

    def __init__(self, *args, warm: bool = False, nodes: int = 1000, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.warm, self.nodes = warm, int(nodes)
        self.raw: dict = {}

    def createAndConfigureSolver(self, lp):  # noqa: N802 (PuLP's name)
        super().createAndConfigureSolver(lp)
        h = lp.solverModel
        h.setOptionValue("mip_max_nodes", self.nodes)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("parallel", "off")

    def buildSolverModel(self, lp):  # noqa: N802
        super().buildSolverModel(lp)
        lp.solverModel.changeObjectiveOffset(float(lp.objective.constant))

    def callSolver(self, lp):  # noqa: N802
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

    def findSolutionValues(self, lp):  # noqa: N802
        import highspy

        h = lp.solverModel
        info = h.getInfo()
        ms = h.getModelStatus()
        feasible = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
        self.raw = {"model_status": ms, "feasible_point": feasible,
                    "bound": float(info.mip_dual_bound), "objective": float(info.objective_function_value),
                    "iterations": max(0, int(info.simplex_iteration_count)),
                    "nodes": max(0, int(info.mip_node_count))}
        if feasible:
            values = list(h.getSolution().col_value)
            for var in lp.variables():
                var.varValue = values[var.index]
        else:
            for var in lp.variables():
                var.varValue = None
        if ms == highspy.HighsModelStatus.kOptimal and feasible:
            return pulp.LpStatusOptimal, pulp.LpSolutionOptimal
        if ms == highspy.HighsModelStatus.kInfeasible:
            return pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
        if feasible:
            return pulp.LpStatusNotSolved, pulp.LpSolutionIntegerFeasible
        return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


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


def solve_model(prob: pulp.LpProblem, ctx: SolveContext, *, nodes: int | None = None,
                warm_start: bool = False, what: str = "model") -> SolveOutcome:
    """Solve ``prob`` (minimization) within ``nodes`` branch-and-bound nodes
    (default: the context's budget) and classify the result (see the module
    docstring).  ``warm_start``: use the variables' current values as a MIP
    start.  The work done is counted into ``ctx``; raises
    :class:`~.limits.SafetyNetError` if the context's safety net runs out."""
    avail = available_solvers()
    solver = ctx.solver
    if solver == "auto":
        if not avail:
            raise RuntimeError("no MILP solver available (install highspy, or PuLP's bundled CBC)")
        solver = avail[0]
    if solver not in ("highs", "cbc"):
        raise OptionError(f"unknown solver {solver!r}; choose auto, highs or cbc")
    if solver not in avail:
        raise RuntimeError(f"solver {solver!r} is not available (available: {avail})")
    ctx.check_deadline(what)
    left = ctx.remaining_s()
    limit = None if math.isinf(left) else max(left, 0.01)
    node_limit = ctx.budget.nodes if nodes is None else int(nodes)
    msg = LOGGER.isEnabledFor(logging.DEBUG)
    if solver == "highs":
        backend = _HiGHS(msg=msg, timeLimit=limit, gapRel=ctx.gap_rel, threads=1, warm=warm_start,
                         nodes=node_limit)
    else:
        with warnings.catch_warnings():  # PuLP 3 deprecates the bundled-CBC class name
            warnings.simplefilter("ignore", DeprecationWarning)
            backend = pulp.PULP_CBC_CMD(msg=msg, timeLimit=limit, gapRel=ctx.gap_rel, threads=1,
                                        warmStart=warm_start, maxNodes=node_limit)
    t0 = time.perf_counter()
    with solver_output_to_log():
        prob.solve(backend)
    elapsed = time.perf_counter() - t0
    if solver == "highs":
        out = _highs_outcome(prob, backend.raw, elapsed, what, ctx)
    else:
        if limit is not None and elapsed >= limit:
            raise SafetyNetError(f"{what}: the solver reached the safety net time_limit_s={ctx.time_limit_s:g} s; "
                                 f"raise it or lower the work budget")
        out = _cbc_outcome(prob, elapsed)
    ctx.count(out.iterations, out.nodes)
    return out


def _highs_outcome(prob: pulp.LpProblem, raw: dict, elapsed: float, what: str, ctx: SolveContext) -> SolveOutcome:
    import highspy

    ms = raw["model_status"]
    it, nd = raw["iterations"], raw["nodes"]
    if ms == highspy.HighsModelStatus.kTimeLimit:
        ctx.count(it, nd)
        raise SafetyNetError(f"{what}: the solver reached the safety net time_limit_s={ctx.time_limit_s:g} s; "
                             f"raise it or lower the work budget")
    if ms == highspy.HighsModelStatus.kInfeasible:
        return SolveOutcome("infeasible", math.nan, math.nan, elapsed, "highs", it, nd)
    b = raw["bound"]
    bound = b if math.isfinite(b) else math.nan
    if not raw["feasible_point"]:
        return SolveOutcome("unsolved", math.nan, bound, elapsed, "highs", it, nd)
    obj = float(pulp.value(prob.objective))
    if ms == highspy.HighsModelStatus.kOptimal:
        if math.isnan(bound):
            bound = obj
        return SolveOutcome("optimal", obj, bound, elapsed, "highs", it, nd)
    return SolveOutcome("feasible", obj, bound, elapsed, "highs", it, nd)


def _cbc_outcome(prob: pulp.LpProblem, elapsed: float) -> SolveOutcome:
    if prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        return SolveOutcome("infeasible", math.nan, math.nan, elapsed, "cbc")
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) \
            or not _satisfies_constraints(prob):
        return SolveOutcome("unsolved", math.nan, math.nan, elapsed, "cbc")
    obj = float(pulp.value(prob.objective))
    if prob.sol_status == pulp.LpSolutionOptimal:
        return SolveOutcome("optimal", obj, obj, elapsed, "cbc")
    return SolveOutcome("feasible", obj, math.nan, elapsed, "cbc")


def _satisfies_constraints(prob: pulp.LpProblem, tol: float = 1e-6) -> bool:
    """Every variable has a value within its bounds and every constraint holds (absolute
    tolerance ``tol`` scaled by the row's right-hand side)."""
    for v in prob.variables():
        x = v.varValue
        if x is None or (v.lowBound is not None and x < v.lowBound - tol) \
                or (v.upBound is not None and x > v.upBound + tol):
            return False
    rows = prob.constraints() if callable(prob.constraints) else prob.constraints.values()
    for c in rows:
        val = c.value()
        if val is None:
            return False
        eps = tol * max(1.0, abs(c.constant))
        if (c.sense == pulp.LpConstraintLE and val > eps) or (c.sense == pulp.LpConstraintGE and val < -eps) \
                or (c.sense == pulp.LpConstraintEQ and abs(val) > eps):
            return False
    return True

"""Execution plans: what every policy (ILP or heuristic) returns.

Execution model (shared by every formulation, the baselines and the checker):

* Operators run one at a time in ``order``; step ``t`` runs ``order[t]``.
* ``resident[t]`` is the set of tensors held in the scratchpad *while* step
  ``t`` runs, mapped to their byte offset (or ``None`` when the policy does not
  assign addresses).  It must contain every input and output of the operator;
  its total size must fit the capacity; with offsets, the ranges
  ``[offset, offset + bytes)`` lie inside ``[0, capacity)``, do not overlap,
  and a tensor keeps its offset for as long as it stays resident.
* Between step ``t-1`` and step ``t``, first ``writebacks[t]`` are copied off
  chip (tensors resident at ``t-1``), then tensors resident at ``t-1`` but not
  at ``t`` are dropped, then ``loads[t]`` are copied in.  A tensor that enters
  the resident set is either produced by the step's operator (first time only)
  or loaded; a load needs a valid off-chip copy (weights and inputs always have
  one; an activation has one once written back).  Dropping a live activation
  (one used again later) without an off-chip copy is illegal.
* Traffic: the first load of each weight/input and the single store of each
  graph output are *compulsory*; every other load, and every write-back, is
  *non-compulsory* (the objective).  Tensors are immutable, so one write-back
  serves every later reload.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from .graph import Graph

__all__ = ["Plan", "plan_from_residency", "with_bound", "STATUSES"]

#: optimal: proven by the solver (within the requested gap); feasible: a solver
#: solution not proven optimal within the work budget (gap against the bound);
#: unsolved: the solver found no feasible point within its budget (the plan is
#: the warm start's or a fallback's); heuristic: a heuristic plan (a bound, if
#: any, comes from a relaxation or another model).
STATUSES = ("optimal", "feasible", "unsolved", "heuristic")


@dataclass
class Plan:
    """A complete schedule + residency (+ optional addresses) and its claimed cost."""

    order: list[int]
    resident: list[dict[str, int | None]]
    loads: list[list[str]]
    writebacks: list[list[str]]
    noncompulsory_bytes: int
    method: str = ""
    status: str = "heuristic"
    bound: float = math.nan  #: lower bound on non-compulsory bytes (NaN if unknown)
    solve_time_s: float = 0.0
    solver: str = ""
    info: dict = field(default_factory=dict)

    @property
    def has_offsets(self) -> bool:
        return all(o is not None for r in self.resident for o in r.values())

    @property
    def optimality_gap(self) -> float:
        """Relative gap ``(cost - bound) / cost``: NaN if there is no bound; a
        proven optimum has gap 0 (or at most the requested ``gap_rel``), and so
        does any plan without non-compulsory traffic (0 is a lower bound, so a
        solver bound below 0 -- a weak relaxation with its objective constant --
        counts as 0 and the gap is at most 1)."""
        if self.noncompulsory_bytes <= 0:
            return 0.0
        if math.isnan(self.bound):
            return 0.0 if self.status == "optimal" else math.nan
        c, bound = float(self.noncompulsory_bytes), max(0.0, self.bound)
        if c - bound < 0.5:  # traffic is whole bytes: a bound within rounding noise proves the optimum
            return 0.0
        return (c - bound) / c


def plan_from_residency(graph: Graph, order: Sequence[int], resident: Sequence[dict[str, int | None]],
                        **meta) -> Plan:
    """Derive loads and just-in-time write-backs from resident sets, and the cost.

    A write-back is scheduled at the eviction of an activation that is used
    again later and has no off-chip copy yet."""
    uses = graph.uses(order)
    loads: list[list[str]] = []
    wbs: list[list[str]] = []
    offchip = {t for t, v in graph.tensors.items() if v.offchip}
    seen: set[str] = set()
    cost = 0
    prev: dict[str, int | None] = {}
    for t, op in enumerate(order):
        cur = resident[t]
        wb = []
        for x in prev:
            if x not in cur and x not in offchip and uses[x][-1] >= t:
                wb.append(x)
                offchip.add(x)
                cost += graph.size(x)
        produced = set(graph.ops[op].outputs)
        ld = [x for x in cur if x not in prev and x not in produced]
        for x in ld:
            if x in seen or not graph.tensors[x].offchip:
                cost += graph.size(x)
            seen.add(x)
        seen.update(produced)
        loads.append(ld)
        wbs.append(wb)
        prev = cur
    return Plan(list(order), [dict(r) for r in resident], loads, wbs, cost, **meta)


def with_bound(plan: Plan, bound: float) -> Plan:
    """Give ``plan`` the lower bound ``bound`` of the problem its policy answers
    (NaN: none known).  A plan found by a restricted model (e.g. one address
    per tensor) keeps the status "optimal" only if ``bound`` proves it."""
    plan.bound = bound
    if plan.status == "optimal" and not plan.noncompulsory_bytes - bound < 0.5:
        plan.status = "feasible"
    return plan

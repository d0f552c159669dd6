"""Independent plan checker: re-simulates a :class:`~.plan.Plan` step by step.

It shares no code with the ILPs or the baselines beyond the graph itself:
it replays the order, the resident sets, the listed write-backs and loads,
confirms every rule of the execution model (see :mod:`.plan`), and recomputes
the traffic.  Any violation raises :class:`PlanError` with a one-line message
naming the step, operator and tensor.
"""
from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph
from .plan import Plan

__all__ = ["PlanError", "CheckResult", "check_plan"]


class PlanError(ValueError):
    """A plan breaks the execution model (illegal, over capacity, wrong cost)."""


@dataclass
class CheckResult:
    """Traffic recomputed from a legal plan (all in bytes)."""

    noncompulsory_bytes: int
    compulsory_bytes: int
    peak_bytes: int
    step_traffic: list[int]  #: per step: bytes moved between DRAM and scratchpad for that step

    @property
    def offchip_bytes(self) -> int:
        return self.noncompulsory_bytes + self.compulsory_bytes


def check_plan(graph: Graph, plan: Plan, capacity: int, *, require_offsets: bool = False,
               check_cost: bool = True) -> CheckResult:
    """Verify ``plan`` on ``graph`` with a scratchpad of ``capacity`` bytes.

    ``require_offsets`` demands an address for every resident tensor.  With
    ``check_cost`` the plan's claimed ``noncompulsory_bytes`` must equal the
    recomputed value."""
    n = graph.n_ops
    order = list(plan.order)
    if sorted(order) != list(range(n)):
        raise PlanError(f"order is not a permutation of the {n} operators")
    for name, lst in (("resident", plan.resident), ("loads", plan.loads), ("writebacks", plan.writebacks)):
        if len(lst) != n:
            raise PlanError(f"plan.{name} has {len(lst)} entries, expected one per step ({n})")
    last_use: dict[str, int] = {}
    for t, op in enumerate(order):
        for x in graph.ops[op].tensors:
            last_use[x] = t
    produced: set[str] = set()
    offchip = {x for x, v in graph.tensors.items() if v.offchip}
    loaded_once: set[str] = set()
    prev: dict[str, int | None] = {}
    nc = comp = peak = 0
    traffic: list[int] = []
    for t, op_i in enumerate(order):
        op = graph.ops[op_i]
        where = f"step {t} (operator {op.name!r})"
        for x in op.inputs:
            if graph.tensors[x].kind == "activation" and x not in produced:
                raise PlanError(f"{where}: input {x!r} has not been produced yet")
        cur = plan.resident[t]
        moved = 0
        # 1. write-backs of tensors resident at the previous step
        for x in plan.writebacks[t]:
            if x not in graph.tensors:
                raise PlanError(f"{where}: write-back of unknown tensor {x!r}")
            if x not in prev:
                raise PlanError(f"{where}: writes back {x!r}, which is not resident")
            if graph.tensors[x].offchip or x in offchip:
                raise PlanError(f"{where}: writes back {x!r}, which already has an off-chip copy")
            offchip.add(x)
            nc += graph.size(x)
            moved += graph.size(x)
        # 2. drops
        for x in prev:
            if x not in cur and last_use.get(x, -1) >= t and x not in offchip:
                raise PlanError(f"{where}: drops live activation {x!r} without writing it back")
        # 3. arrivals: produced here or loaded
        new = [x for x in cur if x not in prev]
        listed = list(plan.loads[t])
        if len(set(listed)) != len(listed):
            raise PlanError(f"{where}: a tensor is loaded twice")
        for x in new:
            if x not in graph.tensors:
                raise PlanError(f"{where}: unknown tensor {x!r} is resident")
            if x in op.outputs and x not in produced:
                if x in listed:
                    raise PlanError(f"{where}: loads {x!r}, which this operator produces")
                continue
            if x not in listed:
                raise PlanError(f"{where}: {x!r} becomes resident without a load")
        for x in listed:
            if x not in new:
                raise PlanError(f"{where}: loads {x!r}, which is not newly resident")
            if x not in offchip:
                raise PlanError(f"{where}: loads {x!r}, which has no off-chip copy")
            b = graph.size(x)
            moved += b
            if graph.tensors[x].offchip and x not in loaded_once:
                comp += b
            else:
                nc += b
            loaded_once.add(x)
        for x in op.tensors:
            if x not in cur:
                raise PlanError(f"{where}: tensor {x!r} is used but not resident")
        for x in op.outputs:
            if x in produced:
                raise PlanError(f"{where}: output {x!r} was already produced")
        produced.update(op.outputs)
        for x in op.outputs:
            if not graph.consumers[x]:  # graph output: one compulsory store
                comp += graph.size(x)
                moved += graph.size(x)
        # 4. capacity and addresses
        used = sum(graph.size(x) for x in cur)
        peak = max(peak, used)
        if used > capacity:
            raise PlanError(f"{where}: resident tensors need {used} bytes > capacity {capacity}")
        offs = [(o, x) for x, o in cur.items() if o is not None]
        if require_offsets and len(offs) != len(cur):
            raise PlanError(f"{where}: a resident tensor has no offset")
        if offs:
            _check_offsets(graph, offs, prev, capacity, where)
        traffic.append(moved)
        prev = cur
    if check_cost and int(plan.noncompulsory_bytes) != nc:
        raise PlanError(f"plan claims {plan.noncompulsory_bytes} non-compulsory bytes, re-simulation gives {nc}")
    expected = graph.compulsory_bytes()
    if comp != expected:  # cannot happen for a legal plan; guards the checker itself
        raise PlanError(f"compulsory traffic {comp} differs from the graph's {expected}")
    return CheckResult(nc, comp, peak, traffic)


def _check_offsets(graph: Graph, offs: list[tuple[int, str]], prev: dict, capacity: int, where: str) -> None:
    for o, x in offs:
        if int(o) != o or o < 0 or o + graph.size(x) > capacity:
            raise PlanError(f"{where}: {x!r} at offset {o} does not fit in [0, {capacity})")
        if x in prev and prev[x] is not None and prev[x] != o:
            raise PlanError(f"{where}: resident tensor {x!r} moved from offset {prev[x]} to {o}")
    offs = sorted(offs)
    for (o1, x1), (o2, x2) in zip(offs, offs[1:]):
        if o1 + graph.size(x1) > o2:
            raise PlanError(f"{where}: {x1!r} [{o1}, {o1 + graph.size(x1)}) overlaps {x2!r} at {o2}")

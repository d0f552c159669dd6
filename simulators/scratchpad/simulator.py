"""``ScratchpadSimulator``: what off-chip traffic does a scratchpad size really cost?

For one workload graph, a design (scratchpad size, DRAM bandwidth, compute
throughput, scheduling/replacement policy) is evaluated by planning the run
with the chosen policy (:mod:`.policies`), re-checking the plan with the
independent checker (:mod:`.checker`) and deriving latency and energy
(:mod:`.cost`).  The simulator core accepts any capacity in bytes
(:meth:`ScratchpadSimulator.plan`); the design space offers, per workload,
budgets between the smallest feasible scratchpad and the peak live footprint
of the default order (:mod:`.budgets`), so every size in the space is one
where scheduling and replacement matter (``scratchpad_kb=(low, high)``
restores a fixed list of powers of two).

Named workloads (:data:`WORKLOAD_OPTIONS`): ResNet-18/50, MobileNetV2 and
GoogLeNet run at batch 2 (per-sample operators, shared weights): at batch 1
their largest operator working set is also their peak footprint, so no
budget and no policy changes anything.  The ``*_train`` workloads are
training steps (forward + backward with saved activations); ``attention`` is
a long-sequence multi-head attention block.  ``graph_options`` override.

A scratchpad that cannot hold one operator's inputs + outputs is infeasible
(the reason names the operator); so is a design for which no address
allocator can place any plan (fragmentation; the reason says so).
``optimality_gap`` is 0 for proven optima, the relative gap to the solver's
lower bound for plans not proven within the work budget, NaN without a bound
(heuristics).

*A function of the design*: every solver budget is counted, never timed
(:mod:`.limits`: nodes per MIP, window solves of the searches, one HiGHS
thread), so the same design gets the same plan and metrics on an idle and on
a loaded machine.  ``time_limit_s`` is only a wall-clock safety net: an
evaluation that exceeds it raises :class:`~.limits.SafetyNetError` instead of
returning a different answer.  ``solver_iterations`` (simplex iterations) is
the deterministic measure of planning effort; the wall time of a plan is
returned by :meth:`ScratchpadSimulator.plan`, not as a metric.
:meth:`ScratchpadSimulator.evaluation_info` adds the plan's status, method
and placement (``"fallback"`` when the address models found nothing within
their budget and a checked first-fit placement was used) to the env's ``info``.

Solver results are cached per (capacity, policy) inside one instance (plans
do not depend on bandwidth or throughput); nothing is written to disk.
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping

from archgym.errors import OptionError
from archgym.simulator import Metric, Simulator
from archgym.space import Categorical, DesignSpace, InvalidConfigError, Ordinal, as_whole_number, powers_of_two

from .baselines import InfeasibleError
from .budgets import BUDGET_LEVELS, budget_kb, budget_range
from .checker import check_plan
from .cost import HardwareModel, plan_metrics
from .graph import Graph, as_graph
from .limits import DEFAULT_TIME_LIMIT_S, SolveContext, WorkBudget, check_count, check_gap, check_time_limit
from .plan import Plan
from .policies import POLICIES, needs_offsets, run_policy, uses_search

__all__ = ["ScratchpadSimulator", "WORKLOAD_OPTIONS"]

_WORKLOADS = ("resnet18", "resnet50", "mobilenetv2", "googlenet", "inception", "transformer", "nas_cells",
              "attention", "resnet18_train", "mobilenetv2_train", "nas_cells_train", "transformer_train",
              "inception_train")

#: builder options of the named workloads (memory pressure; see the module docstring)
WORKLOAD_OPTIONS: dict[str, dict] = {"resnet18": {"batch": 2}, "resnet50": {"batch": 2},
                                     "mobilenetv2": {"batch": 2}, "googlenet": {"batch": 2}}


class ScratchpadSimulator(Simulator):
    """Operator scheduling + scratchpad allocation by ILP (COSMA class).

    Arguments: ``workload`` (builder name from ``workload_names``, a JSON
    path, a graph dict or :class:`~.graph.Graph`, or an ONNX model: a
    ``.onnx`` path, with ``input_shapes`` and ``onnx_unsupported`` as
    :func:`archgym.simulators.workloads.from_onnx`, or a ``Network``), ``time_limit_s`` (the
    wall-clock safety net of one evaluation, s; None: none; it never changes
    an answer), ``precision_bytes`` (bytes per element for named workloads),
    and options: ``solver`` (auto/highs/cbc), ``gap_rel`` (relative gap at
    which a MIP may stop, in [0, 1)), the work budget ``node_limit``
    (branch-and-bound nodes per MIP), ``search_iterations`` (simplex
    iterations the windowed search and divide-and-conquer may spend) and
    ``window_node_limit`` (nodes per window model), ``placement_node_limit``
    (nodes per address model), ``graph_options`` (builder keyword arguments, e.g.
    ``{"resolution": 112}``), ``policies`` (non-empty subset offered in the
    space), ``budget_levels`` (fractions of the way from the smallest feasible
    size to the peak footprint, see :mod:`.budgets`), ``scratchpad_kb`` (min,
    max: powers of two instead), ``free_order_max_ops`` (>= 0; beyond it
    free-order policies use the windowed search), ``search_seed`` (seed of the
    windowed search), ``hardware`` (a :class:`~.cost.HardwareModel`).  A bad
    option raises :class:`~archgym.errors.OptionError` naming it and what is
    allowed.
    """

    name = "Scratchpad"
    # 3.0: counted solver budgets (no wall-clock limit decides a plan), bounds with the
    # objective constant, primal-feasible points only, solver_iterations replaces solve_time_s
    version = "3.0"
    workload_names = _WORKLOADS
    metrics = (
        Metric("offchip_bytes", "bytes", True, "total DRAM traffic", 1e7),
        Metric("noncompulsory_bytes", "bytes", True, "write-backs + re-loads (the ILP objective)", 1e6),
        Metric("compulsory_bytes", "bytes", True, "first loads of weights/inputs + output stores", 1e7),
        Metric("latency_ns", "ns", True, "sum over operators of max(compute, DRAM transfer)", 1e6),
        Metric("energy_pj", "pJ", True, "DRAM + scratchpad + MAC energy", 1e9),
        Metric("solver_iterations", "iterations", True,
               "simplex iterations over every solver call of the plan (deterministic planning effort)", 1e4),
        Metric("optimality_gap", "fraction", True, "relative gap to the solver bound (NaN: no bound)", 1.0),
    )

    def __init__(self, workload: Any = "resnet18", time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
                 precision_bytes: int = 1, *, solver: str = "auto", gap_rel: float = 0.0,
                 node_limit: int = WorkBudget.nodes, search_iterations: int = WorkBudget.search_iterations,
                 window_node_limit: int = WorkBudget.window_nodes,
                 placement_node_limit: int = WorkBudget.placement_nodes,
                 graph_options: Mapping[str, Any] | None = None,
                 policies: tuple[str, ...] | None = None, scratchpad_kb: tuple[int, int] | None = None,
                 budget_levels: tuple[float, ...] = BUDGET_LEVELS, free_order_max_ops: int = 40,
                 search_seed: int = 0, hardware: HardwareModel | None = None, input_shapes: Any = None,
                 onnx_unsupported: str = "error") -> None:
        self.workload = workload
        self._onnx = {"input_shapes": input_shapes, "onnx_unsupported": onnx_unsupported}
        self.time_limit_s = check_time_limit(time_limit_s)
        self.precision_bytes = check_count(precision_bytes, "precision_bytes")
        if solver not in ("auto", "highs", "cbc"):
            raise OptionError(f"solver={solver!r} is not allowed; allowed: auto, highs or cbc")
        self.solver, self.gap_rel = solver, check_gap(gap_rel)
        self.work_budget = WorkBudget(nodes=check_count(node_limit, "node_limit"),
                                      search_iterations=check_count(search_iterations, "search_iterations"),
                                      window_nodes=check_count(window_node_limit, "window_node_limit"),
                                      placement_nodes=check_count(placement_node_limit, "placement_node_limit"))
        if graph_options is not None and not isinstance(graph_options, Mapping):
            raise OptionError(f"graph_options={graph_options!r} is not allowed; allowed: a mapping of "
                              f"workload builder options")
        self.graph_options = dict(graph_options or {})
        self.free_order_max_ops = check_count(free_order_max_ops, "free_order_max_ops", low=0)
        self.search_seed = check_count(search_seed, "search_seed", low=0)
        if hardware is not None and not isinstance(hardware, HardwareModel):
            raise OptionError(f"hardware={hardware!r} is not allowed; allowed: a HardwareModel")
        self.hardware = hardware or HardwareModel()
        pols = _policy_list(policies)
        self._graph: Graph | None = None
        self.budget_levels = tuple(float(f) for f in budget_levels)
        self._levels_space = scratchpad_kb is None
        if scratchpad_kb is None:
            size = Ordinal("scratchpad_kb", budget_kb(self.graph, self.budget_levels),
                           "scratchpad capacity: per-workload budgets from the smallest feasible size "
                           "to the peak live footprint", "KiB")
        else:
            size = powers_of_two("scratchpad_kb", scratchpad_kb[0], scratchpad_kb[1], "scratchpad capacity", "KiB")
        self.space = DesignSpace([
            size,
            Ordinal("dram_bw_gbps", [4, 8, 16, 32, 64, 128], "DRAM bandwidth", "GB/s"),
            powers_of_two("compute_macs_per_cycle", 64, 4096, "MACs per cycle at 1 GHz", "MAC/cycle"),
            Categorical("policy", pols, "scheduling / replacement policy"),
        ])
        self._cache: dict[tuple[int, str], tuple[Plan, Any, float] | str] = {}

    # -- workload ----------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The workload graph (built on first use)."""
        if self._graph is None:
            w = self.workload
            if isinstance(w, str) and w in _WORKLOADS:
                from archgym.simulators.workloads.graphs import build_graph
                from archgym.simulators.workloads.network import check_onnx_options

                check_onnx_options(**self._onnx)
                opts = {**WORKLOAD_OPTIONS.get(w, {}), **self.graph_options}
                self._graph = build_graph(w, precision_bytes=self.precision_bytes, **opts)
            else:
                self._graph = as_graph(w, self.precision_bytes, **self._onnx)
        return self._graph

    @property
    def workload_label(self) -> str:
        w = self.workload
        if isinstance(w, str):
            return w
        return self.graph.name

    # -- core ----------------------------------------------------------------------------
    def solve_context(self) -> SolveContext:
        """A fresh context with this simulator's solver, work budget and safety net."""
        return SolveContext(solver=self.solver, gap_rel=self.gap_rel, budget=self.work_budget,
                            time_limit_s=self.time_limit_s)

    def plan(self, capacity_bytes: int, policy: str = "ilp_fixed_order") -> tuple[Plan, Any, float]:
        """(plan, checker result, wall seconds) for any capacity in bytes; cached.

        The plan's ``info["work"]`` holds the counted solver work.  The
        free-order policies on graphs beyond the exact model reuse the
        ``windowed_search`` plan of the same capacity (the same computation;
        its work is counted in, its wall time is not).  Raises
        :class:`~.baselines.InfeasibleError` when nothing fits (or nothing can be
        placed), :class:`~.limits.SafetyNetError` past ``time_limit_s``."""
        key = (int(capacity_bytes), policy)
        hit = self._cache.get(key)
        if isinstance(hit, str):
            raise InfeasibleError(hit)
        if hit is not None:
            return hit
        searched = None
        if policy != "windowed_search" and uses_search(policy, self.graph, self.free_order_max_ops):
            # the same search as the windowed_search policy's: computed once per capacity
            searched = self.plan(capacity_bytes, "windowed_search")[0]
        t0 = time.perf_counter()
        ctx = self.solve_context()
        try:
            plan = run_policy(policy, self.graph, int(capacity_bytes), ctx=ctx, searched=searched,
                              free_order_max_ops=self.free_order_max_ops, seed=self.search_seed)
        except InfeasibleError as e:
            self._cache[key] = str(e)
            raise
        wall = time.perf_counter() - t0
        work = ctx.work()
        if searched is not None:  # the search's own work belongs to this plan too
            work = {k: v + searched.info["work"][k] for k, v in work.items()}
        plan.info["work"] = work
        check = check_plan(self.graph, plan, int(capacity_bytes), require_offsets=needs_offsets(policy))
        self._cache[key] = (plan, check, wall)
        return self._cache[key]  # type: ignore[return-value]

    def _validate_outside_space(self, config: Mapping[str, Any]) -> dict | None:
        """Any scratchpad of a whole number of KiB (>= 1), any positive DRAM
        bandwidth and throughput, any policy of :data:`~.policies.POLICIES`."""
        if set(config) != set(self.space.names):
            return None  # unknown or missing parameters: the space's error says which
        out: dict[str, Any] = {}
        for name in self.space.names:
            value = config[name]
            if name == "policy":
                if value not in POLICIES:
                    raise InvalidConfigError(f"parameter 'policy': {value!r} is not a policy; "
                                             f"allowed: {', '.join(POLICIES)}")
                out[name] = value
                continue
            if name == "dram_bw_gbps":
                try:
                    n: Any = math.nan if isinstance(value, bool) else float(value)
                except (TypeError, ValueError):
                    n = math.nan
                ok, what = math.isfinite(n) and n > 0, "number"
            else:
                n = as_whole_number(value)
                ok, what = n is not None and n >= 1, "integer"
            if not ok:
                raise InvalidConfigError(f"parameter {name!r}: {value!r} is not a value the model can cost; "
                                         f"allowed: a positive {what} (search space: {self.space[name].allowed()})")
            out[name] = n
        return out

    def _evaluate(self, config: dict) -> dict:
        capacity = int(config["scratchpad_kb"]) * 1024
        try:
            plan, check, wall = self.plan(capacity, config["policy"])
        except InfeasibleError as e:
            return self.infeasible(str(e))
        hw = HardwareModel(**{**self.hardware.__dict__, "dram_bw_gbps": float(config["dram_bw_gbps"]),
                              "macs_per_cycle": int(config["compute_macs_per_cycle"])})
        out: dict[str, Any] = plan_metrics(self.graph, plan, check, capacity, hw, self.precision_bytes)
        out["solver_iterations"] = float(plan.info.get("work", {}).get("lp_iterations", 0))
        out["optimality_gap"] = plan.optimality_gap
        return out

    def evaluation_info(self, config: Mapping[str, Any]) -> dict:
        """The plan behind an evaluated design: ``plan_status`` (optimal, feasible,
        unsolved, heuristic), ``plan_method``, ``placement`` (best_fit, ilp,
        joint, fallback; empty without addresses) and the counted solver work.
        Deterministic (no wall time), so Gymnasium's determinism check holds."""
        hit = self._cache.get((int(config["scratchpad_kb"]) * 1024, config["policy"]))
        if not isinstance(hit, tuple):
            return {}
        plan = hit[0]
        work = plan.info.get("work", {})
        return {"plan_status": plan.status, "plan_method": plan.method,
                "placement": plan.info.get("placement", ""), "solver_nodes": int(work.get("nodes", 0)),
                "solver_calls": int(work.get("solves", 0))}

    def evaluate_details(self, config: Mapping[str, Any]):
        """Per-step breakdown (operator, loads, write-backs, resident bytes) as a DataFrame."""
        import pandas as pd

        cfg = self.space.validate(config)
        capacity = int(cfg["scratchpad_kb"]) * 1024
        plan, check, _ = self.plan(capacity, cfg["policy"])
        g = self.graph
        rows = [{"step": t, "operator": g.ops[op].name, "macs": g.ops[op].macs,
                 "resident_bytes": sum(g.size(x) for x in plan.resident[t]),
                 "loads": ",".join(plan.loads[t]), "writebacks": ",".join(plan.writebacks[t]),
                 "dram_bytes": check.step_traffic[t]} for t, op in enumerate(plan.order)]
        return pd.DataFrame(rows)

    def reference_config(self) -> dict:
        """Largest scratchpad, middle bandwidth/throughput, Belady (cheap and feasible)."""
        p = self.space
        pol = "belady" if "belady" in p["policy"].values else p["policy"].values[0]
        return {"scratchpad_kb": p["scratchpad_kb"].values[-1], "dram_bw_gbps": p["dram_bw_gbps"].values[2],
                "compute_macs_per_cycle": p["compute_macs_per_cycle"].values[3], "policy": pol}

    def describe(self) -> dict:
        d = super().describe()
        d["solver"] = self.solver
        d["time_limit_s"] = None if math.isinf(self.time_limit_s) else self.time_limit_s
        d["work_budget"] = {"node_limit": self.work_budget.nodes,
                            "search_iterations": self.work_budget.search_iterations,
                            "window_node_limit": self.work_budget.window_nodes,
                            "placement_node_limit": self.work_budget.placement_nodes}
        mr, peak = budget_range(self.graph)
        kb = self.space["scratchpad_kb"].values
        d["scratchpad_budgets"] = {"min_feasible_bytes": mr, "peak_live_bytes": peak,
                                   "levels": list(self.budget_levels), "kb": list(kb)}
        d["notes"] = [f"scratchpad_kb: {self.graph.name} ({self.graph.n_ops} operators) runs in >= {mr / 1024:.0f} KiB "
                      f"(largest operator working set) and needs no spill in its default order at "
                      f"{peak / 1024:.0f} KiB (peak live footprint); the space offers {list(kb)} KiB"
                      + (f" = min * (peak/min)^f for f in {list(self.budget_levels)}" if self._levels_space else "")]
        return d


def _policy_list(policies: Any) -> tuple[str, ...]:
    """The policies offered in the space (None: all); one-line errors for anything else."""
    if policies is None:
        return POLICIES
    if isinstance(policies, str) or not isinstance(policies, (list, tuple)) or not policies:
        raise OptionError(f"policies={policies!r} is not allowed; allowed: a non-empty list of policies "
                          f"from {', '.join(POLICIES)}")
    for p in policies:
        if p not in POLICIES:
            raise OptionError(f"policies: unknown policy {p!r}; allowed: {', '.join(POLICIES)}")
    if len(set(policies)) != len(policies):
        raise OptionError(f"policies={list(policies)!r} repeats a policy; list each once")
    return tuple(policies)

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
(the reason names the operator); so is a ``first_fit`` plan that fragmentation
makes impossible.  ``optimality_gap`` is 0 for proven optima, the relative gap
for time-limited solves, NaN for heuristics (no bound).

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
from .plan import Plan
from .policies import POLICIES, run_policy

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
    :func:`archgym.simulators.workloads.from_onnx`, or a ``Network``), ``time_limit_s`` (per
    solver call), ``precision_bytes`` (bytes per element for named
    workloads), and options: ``solver`` (auto/highs/cbc), ``gap_rel``,
    ``graph_options`` (builder keyword arguments, e.g. ``{"resolution": 112}``),
    ``policies`` (subset offered in the space), ``budget_levels`` (fractions
    of the way from the smallest feasible size to the peak footprint, see
    :mod:`.budgets`), ``scratchpad_kb`` (min, max: powers of two instead),
    ``free_order_max_ops`` (beyond it free-order policies use the windowed
    search), ``search_seed`` (seed of the windowed search), ``hardware`` (a
    :class:`~.cost.HardwareModel`).
    """

    name = "Scratchpad"
    version = "2.0"  # 2.0: per-workload budgets, batch-2 CNNs, windowed search
    workload_names = _WORKLOADS
    metrics = (
        Metric("offchip_bytes", "bytes", True, "total DRAM traffic", 1e7),
        Metric("noncompulsory_bytes", "bytes", True, "write-backs + re-loads (the ILP objective)", 1e6),
        Metric("compulsory_bytes", "bytes", True, "first loads of weights/inputs + output stores", 1e7),
        Metric("latency_ns", "ns", True, "sum over operators of max(compute, DRAM transfer)", 1e6),
        Metric("energy_pj", "pJ", True, "DRAM + scratchpad + MAC energy", 1e9),
        Metric("solve_time_s", "s", True, "wall time of the policy (solver + heuristics)", 1.0),
        Metric("optimality_gap", "fraction", True, "relative gap to the solver bound (NaN: no bound)", 1.0),
    )

    def __init__(self, workload: Any = "resnet18", time_limit_s: float = 10, precision_bytes: int = 1, *,
                 solver: str = "auto", gap_rel: float = 0.0, graph_options: Mapping[str, Any] | None = None,
                 policies: tuple[str, ...] | None = None, scratchpad_kb: tuple[int, int] | None = None,
                 budget_levels: tuple[float, ...] = BUDGET_LEVELS, free_order_max_ops: int = 40,
                 search_seed: int = 0, hardware: HardwareModel | None = None, input_shapes: Any = None,
                 onnx_unsupported: str = "error") -> None:
        self.workload = workload
        self._onnx = {"input_shapes": input_shapes, "onnx_unsupported": onnx_unsupported}
        self.time_limit_s = float(time_limit_s)
        self.precision_bytes = int(precision_bytes)
        self.solver, self.gap_rel = solver, float(gap_rel)
        self.graph_options = dict(graph_options or {})
        self.free_order_max_ops = int(free_order_max_ops)
        self.search_seed = int(search_seed)
        self.hardware = hardware or HardwareModel()
        pols = tuple(policies or POLICIES)
        bad = [p for p in pols if p not in POLICIES]
        if bad:
            raise OptionError(f"unknown policy {bad[0]!r}; policies are {', '.join(POLICIES)}")
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
    def plan(self, capacity_bytes: int, policy: str = "ilp_fixed_order") -> tuple[Plan, Any, float]:
        """(plan, checker result, wall seconds) for any capacity in bytes; cached.

        Raises :class:`~.baselines.InfeasibleError` when nothing fits."""
        key = (int(capacity_bytes), policy)
        hit = self._cache.get(key)
        if isinstance(hit, str):
            raise InfeasibleError(hit)
        if hit is not None:
            return hit
        t0 = time.perf_counter()
        try:
            plan = run_policy(policy, self.graph, int(capacity_bytes), solver=self.solver,
                              time_limit_s=self.time_limit_s, gap_rel=self.gap_rel,
                              free_order_max_ops=self.free_order_max_ops, seed=self.search_seed)
        except InfeasibleError as e:
            self._cache[key] = str(e)
            raise
        wall = time.perf_counter() - t0
        check = check_plan(self.graph, plan, int(capacity_bytes), require_offsets=policy.endswith(("offsets", "fit")))
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
        out["solve_time_s"] = wall
        out["optimality_gap"] = plan.optimality_gap
        return out

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
        d["solver"], d["time_limit_s"] = self.solver, self.time_limit_s
        mr, peak = budget_range(self.graph)
        kb = self.space["scratchpad_kb"].values
        d["scratchpad_budgets"] = {"min_feasible_bytes": mr, "peak_live_bytes": peak,
                                   "levels": list(self.budget_levels), "kb": list(kb)}
        d["notes"] = [f"scratchpad_kb: {self.graph.name} ({self.graph.n_ops} operators) runs in >= {mr / 1024:.0f} KiB "
                      f"(largest operator working set) and needs no spill in its default order at "
                      f"{peak / 1024:.0f} KiB (peak live footprint); the space offers {list(kb)} KiB"
                      + (f" = min * (peak/min)^f for f in {list(self.budget_levels)}" if self._levels_space else "")]
        return d

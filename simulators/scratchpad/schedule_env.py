"""``ScratchpadScheduleEnv``: build an operator schedule one operator at a time."""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym.errors import OptionError

from .baselines import belady, check_working_sets
from .graph import Graph, as_graph
from .ilp_fixed import solve_fixed_order
from .limits import DEFAULT_TIME_LIMIT_S, SolveContext, WorkBudget, check_count, check_time_limit

__all__ = ["ScratchpadScheduleEnv"]


class ScratchpadScheduleEnv(gym.Env):
    """
    ## Description

    A searcher orders the operators of a DNN graph for a scratchpad of fixed
    capacity.  Each step it picks the next operator among those whose
    producers have all run (the *ready* list).  When every operator is placed,
    the order is scored by the off-chip traffic it forces: the exact
    fixed-order ILP (formulation (1) of :mod:`.ilp_fixed`, replacement chosen
    optimally for that order) or, with ``reward_policy="belady"``, Belady's
    furthest-next-use replacement.  Scheduling, not replacement, is where the
    savings are (Li, Gupta, Malik, arXiv:2311.18246).

    ## Action Space

    ``Discrete(max_ready)``: an index into the ready list, which holds the
    ready operators sorted by their index in the graph (the framework's
    default order) and truncated to ``max_ready`` entries.
    ``action_masks()`` returns the valid indices (for MaskablePPO).  An
    invalid index (beyond the ready list) is handled deterministically: the
    first ready operator is scheduled and ``info["invalid_action"]`` is True;
    there is no penalty.

    ## Observation Space

    ``Box(0, 1, (2 * n_ops + 2,), float32)``: per operator, 1 if already
    scheduled; per operator, 1 if ready now; then the bytes of live
    activations (produced, still needed) over the total activation bytes;
    then the fraction of operators scheduled.

    ## Rewards

    0 on every step but the last; on the last, ``-noncompulsory_bytes *
    reward_scale`` (write-backs + re-loads, bytes; default scale 1/MiB).

    ## Starting State

    Nothing scheduled; the operators without activation inputs are ready.

    ## Episode End

    Terminates after ``n_ops`` steps (every operator scheduled); never truncates.
    ``info`` then holds ``order``, ``noncompulsory_bytes``, ``status`` (the
    ILP's optimal/feasible/unsolved) and ``default_order_bytes`` (same policy,
    default order) for comparison.

    ## Arguments

    * ``workload``: builder name, JSON path, graph dict, Graph, or an ONNX model
      (``.onnx`` path or ``Network``; ``input_shapes``, ``onnx_unsupported`` as
      :func:`archgym.simulators.workloads.from_onnx`) (default ``nas_cells``).
    * ``scratchpad_kb`` / ``capacity_bytes``: capacity (default: 1.25 x the
      largest single-operator working set, rounded up to a KiB).
    * ``reward_policy``: ``"ilp"`` (default) or ``"belady"``.
    * ``max_ready``: size of the action list (default: number of operators).
    * ``time_limit_s``: wall-clock safety net of the ILP per episode (exceeding it
      raises :class:`~.limits.SafetyNetError`; the ILP's budget is counted:
      ``node_limit`` branch-and-bound nodes, so rewards do not depend on the
      machine); ``precision_bytes``,
      ``graph_options``: passed to the workload builder; ``reward_scale``.
    """

    metadata = {"render_modes": []}

    def __init__(self, workload: Any = "nas_cells", scratchpad_kb: int | None = None, *,
                 capacity_bytes: int | None = None, reward_policy: str = "ilp", max_ready: int | None = None,
                 time_limit_s: float | None = DEFAULT_TIME_LIMIT_S, precision_bytes: int = 1,
                 graph_options: dict | None = None, reward_scale: float = 1.0 / 2 ** 20, solver: str = "auto",
                 node_limit: int = WorkBudget.nodes, input_shapes: Any = None,
                 onnx_unsupported: str = "error") -> None:
        if isinstance(workload, str) and not workload.endswith(".json") and graph_options:
            from archgym.simulators.workloads.graphs import build_graph

            self.graph: Graph = build_graph(workload, precision_bytes=precision_bytes, **graph_options)
        else:
            self.graph = as_graph(workload, precision_bytes, input_shapes, onnx_unsupported)
        g = self.graph
        if reward_policy not in ("ilp", "belady"):
            raise OptionError(f"reward_policy must be 'ilp' or 'belady', got {reward_policy!r}")
        if capacity_bytes is None:
            capacity_bytes = (int(scratchpad_kb) * 1024 if scratchpad_kb is not None
                              else -(-int(1.25 * g.max_working_set()[0]) // 1024) * 1024)
        self.capacity = int(capacity_bytes)
        check_working_sets(g, self.capacity)
        self.reward_policy, self.time_limit_s, self.solver = reward_policy, check_time_limit(time_limit_s), solver
        self.work_budget = WorkBudget(nodes=check_count(node_limit, "node_limit"))
        self.reward_scale = float(reward_scale)
        n = g.n_ops
        self.max_ready = int(max_ready or n)
        self.action_space = spaces.Discrete(self.max_ready)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2 * n + 2,), dtype=np.float32)
        self._act_total = max(1, sum(t.bytes for t in g.tensors.values() if t.kind == "activation"))
        self._default_bytes: float | None = None
        self._reset_state()

    # -- state -------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.order: list[int] = []
        self._done = np.zeros(self.graph.n_ops, dtype=bool)
        self._missing = [len(p) for p in self.graph.preds]

    def ready(self) -> list[int]:
        """Ready operators (sorted by index), truncated to ``max_ready``."""
        return [o for o in range(self.graph.n_ops) if not self._done[o] and self._missing[o] == 0][: self.max_ready]

    def action_masks(self) -> np.ndarray:
        mask = np.zeros(self.max_ready, dtype=bool)
        mask[: len(self.ready())] = True
        return mask

    def _obs(self) -> np.ndarray:
        g = self.graph
        n = g.n_ops
        obs = np.zeros(2 * n + 2, dtype=np.float32)
        obs[:n] = self._done
        obs[n + np.array(self.ready(), dtype=np.int64)] = 1.0
        live = 0
        for t, v in g.tensors.items():
            if v.kind == "activation" and self._done[g.producer[t]] and any(
                    not self._done[c] for c in g.consumers[t]):
                live += v.bytes
        obs[2 * n] = min(1.0, live / self._act_total)
        obs[2 * n + 1] = len(self.order) / n
        return obs

    def _score(self, order: list[int]) -> tuple[float, str]:
        if self.reward_policy == "belady":
            return float(belady(self.graph, order, self.capacity).noncompulsory_bytes), "heuristic"
        ctx = SolveContext(solver=self.solver, budget=self.work_budget, time_limit_s=self.time_limit_s)
        p = solve_fixed_order(self.graph, self.capacity, order, ctx=ctx)
        return float(p.noncompulsory_bytes), p.status

    # -- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._reset_state()
        return self._obs(), {"ready": self.ready()}

    def step(self, action):
        ready = self.ready()
        if not ready:
            raise RuntimeError("step() called after the episode ended; call reset()")
        a = int(action)
        invalid = not 0 <= a < len(ready)
        op = ready[0] if invalid else ready[a]
        self.order.append(op)
        self._done[op] = True
        for s in self.graph.succs[op]:
            self._missing[s] -= 1
        terminated = len(self.order) == self.graph.n_ops
        info: dict[str, Any] = {"invalid_action": invalid, "operator": self.graph.ops[op].name}
        reward = 0.0
        if terminated:
            cost, status = self._score(self.order)
            if self._default_bytes is None:
                self._default_bytes = self._score(self.graph.default_order())[0]
            reward = -cost * self.reward_scale
            info.update(order=list(self.order), noncompulsory_bytes=cost, status=status,
                        default_order_bytes=self._default_bytes)
        else:
            info["ready"] = self.ready()
        return self._obs(), float(reward), terminated, False, info

"""Operator scheduling + scratchpad allocation by ILP (COSMA class).

Answers "what off-chip traffic does this scratchpad size really cost, under
the best schedule?" for a DNN given as a DAG of operators and tensors
(:mod:`.graph`, JSON format documented there).  Policies (:mod:`.policies`):
exact ILPs on PuLP (HiGHS first, CBC fallback) for a fixed or free operator
order, with or without scratchpad addresses, a divide-and-conquer heuristic
for large graphs, and the Belady / LRU / first-fit baselines.  Every plan is
re-simulated by an independent checker (:mod:`.checker`).

Reference: Y. Li, A. Gupta, S. Malik, "Combined Scheduling, Memory
Allocation and Tensor Replacement for Minimizing Off-Chip Data Accesses of
DNN Accelerators", arXiv:2311.18246 (2023).
"""
from .baselines import InfeasibleError, PlacementError
from .checker import PlanError, check_plan
from .graph import Graph, Op, Tensor, graph_from_dict, load_graph
from .plan import Plan
from .policies import POLICIES, run_policy
from .simulator import ScratchpadSimulator

__all__ = ["ScratchpadSimulator", "Graph", "Op", "Tensor", "graph_from_dict", "load_graph", "Plan",
           "PlanError", "check_plan", "InfeasibleError", "PlacementError", "POLICIES", "run_policy",
           "ScratchpadScheduleEnv"]


def __getattr__(name: str):  # the Gymnasium env is imported lazily
    if name == "ScratchpadScheduleEnv":
        from .schedule_env import ScratchpadScheduleEnv

        return ScratchpadScheduleEnv
    raise AttributeError(name)

"""Operator graphs for the scheduling simulator.

The graph data structure and its JSON format live in
:mod:`archgym.simulators.workloads.opgraph` (shared workloads); this module
re-exports them under their historical names, so
``archgym.simulators.scratchpad.graph.Graph`` keeps working.
"""
from archgym.simulators.workloads.opgraph import (KINDS, Graph, GraphError, Op, Tensor, as_graph, graph_from_dict,
                                                   load_graph)

__all__ = ["KINDS", "Tensor", "Op", "Graph", "GraphError", "graph_from_dict", "load_graph", "as_graph"]

"""A tiny simulator with a known optimum, for testing the core and searchers.

cost = (x - 7)^2 + (log2(y) - 3)^2 + penalty[mode]  (minimum 0 at x=7, y=8, mode='a')
area = x + log2(y)  (a second, conflicting metric for Pareto tests)
Designs with x > 18 are infeasible ("too hot"), to exercise feasibility handling.
"""
from __future__ import annotations

import math

from archgym.simulator import Metric, Simulator
from archgym.space import Categorical, DesignSpace, Integer, powers_of_two

PENALTY = {"a": 0.0, "b": 1.0, "c": 2.0}


class ToySimulator(Simulator):
    name = "Toy"
    version = "1"
    metrics = (Metric("cost", "units", True, "distance from the optimum", scale=10.0),
               Metric("area", "mm^2", True, "grows with x and y", scale=10.0))
    workload_names = ("default",)
    default_objective = "cost"

    def __init__(self, workload: str = "default", offset: float = 0.0) -> None:
        if workload not in self.workload_names:
            raise ValueError(f"unknown workload {workload!r}; allowed: default")
        self.workload = workload
        self.offset = float(offset)
        self.space = DesignSpace([
            Integer("x", 0, 20),
            powers_of_two("y", 1, 64),
            Categorical("mode", ["a", "b", "c"]),
        ])

    def _evaluate(self, config):
        if config["x"] > 18:
            return self.infeasible(f"x={config['x']} is too hot (x must be <= 18)")
        cost = (config["x"] - 7) ** 2 + (math.log2(config["y"]) - 3) ** 2 + PENALTY[config["mode"]] + self.offset
        return {"cost": cost, "area": config["x"] + math.log2(config["y"])}

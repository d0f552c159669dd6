"""A third-party simulator plugin: one class, found through the entry point group."""
from archgym.simulator import Metric, Simulator
from archgym.space import DesignSpace, Integer


class BowlSimulator(Simulator):
    name = "Bowl"
    version = "0.1"
    metrics = (Metric("loss", "units", True, scale=1.0),)

    def __init__(self, workload=None, center=3):
        self.workload = workload
        self.center = center
        self.space = DesignSpace([Integer("a", 0, 6), Integer("b", 0, 6)])

    def _evaluate(self, config):
        return {"loss": (config["a"] - self.center) ** 2 + (config["b"] - self.center) ** 2}

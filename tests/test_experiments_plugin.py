"""Plugin for sweep tests (imported by name in worker processes; holds no tests).

Specs register these through ``register:`` / ``pythonpath:``:

* ``Toy-v0`` (:class:`archgym.testing.ToySimulator`) and ``SlowToy-v0`` (the toy plus a sleep per
  evaluation, so a driver can be killed mid-sweep);
* agent ``hill``: a seeded local search with two hyperparameters (a lottery);
* agent ``flaky``: random search that raises for odd seeds (failure handling);
* agent ``crash``: random search whose process dies (``os._exit``) on seed 1.
  Setting the environment variable ``ARCHGYM_TEST_FLAKY_OK=1`` cures it, which
  is how the retry test simulates a fixed bug.
"""
from __future__ import annotations

import os
import time

import pytest

from archgym.agents.base import AskTellAgent, HyperParameter
from archgym.testing import ToySimulator


class SlowToy(ToySimulator):
    name = "SlowToy"

    def __init__(self, workload: str = "default", delay: float = 0.05) -> None:
        super().__init__(workload)
        self.delay = float(delay)

    def _evaluate(self, config):
        time.sleep(self.delay)
        return super()._evaluate(config)


class HillClimber(AskTellAgent):
    """Seeded local search: mutate the best design, restart with some probability."""

    name = "hill"
    hyperparameters = (
        HyperParameter("radius", 1, int, low=1, high=5, description="index steps per move"),
        HyperParameter("restart", 0.1, float, low=0.0, high=1.0, description="restart probability"),
    )

    def setup(self, space, seed, objective=None):
        super().setup(space, seed, objective)
        self.best = None
        self.best_reward = float("-inf")
        return self

    def ask(self):
        if self.best is None or self.rng.random() < self.restart:
            return self.space.sample(self.rng)
        idx = self.space.encode(self.best).copy()
        j = int(self.rng.integers(len(idx)))
        idx[j] = min(max(idx[j] + int(self.rng.integers(-self.radius, self.radius + 1)), 0),
                     self.space.nvec[j] - 1)
        return self.space.decode(idx)

    def tell(self, config, reward, info=None):
        if reward > self.best_reward:
            self.best, self.best_reward = dict(config), reward


class Flaky(AskTellAgent):
    """Random search that raises on odd seeds unless ARCHGYM_TEST_FLAKY_OK=1."""

    name = "flaky"

    def setup(self, space, seed, objective=None):
        if seed % 2 and os.environ.get("ARCHGYM_TEST_FLAKY_OK") != "1":
            raise RuntimeError(f"flaky agent refuses odd seed {seed}")
        return super().setup(space, seed, objective)

    def ask(self):
        return self.space.sample(self.rng)


class Crash(AskTellAgent):
    """Random search that kills its own process on seed 1 (a segfault stand-in)."""

    name = "crash"

    def setup(self, space, seed, objective=None):
        if seed == 1:
            os._exit(3)
        return super().setup(space, seed, objective)

    def ask(self):
        return self.space.sample(self.rng)


TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

HEADER = f"""\
pythonpath: [{TESTS_DIR}]
register:
  simulators: {{Toy-v0: "archgym.testing:ToySimulator", SlowToy-v0: "test_experiments_plugin:SlowToy"}}
  agents: {{hill: "test_experiments_plugin:HillClimber", flaky: "test_experiments_plugin:Flaky",
           crash: "test_experiments_plugin:Crash"}}
"""


def write_spec(folder, body: str, name: str = "study.yaml") -> str:
    """Write a spec (``HEADER`` + ``body``) into ``folder``; return its path."""
    path = os.path.join(str(folder), name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER + body)
    return path


@pytest.fixture(scope="module", autouse=True)
def restore_registry():
    """Undo the plugin registrations specs make in this (the driver) process, so
    other test modules see the registry as they left it."""
    from archgym import registry

    registry.list_simulators(), registry.list_agents()  # load entry points before the snapshot
    sims, agents = dict(registry._SIMS), dict(registry._AGENTS)
    yield
    registry._SIMS.clear()
    registry._SIMS.update(sims)
    registry._AGENTS.clear()
    registry._AGENTS.update(agents)

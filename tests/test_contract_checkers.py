"""archgym.testing's checkers, run over every registered simulator and searcher
(so a new plugin is covered the moment it is registered), plus proof that the
checkers catch what they claim to."""
from __future__ import annotations

import pytest

import archgym
from archgym.agents import RandomSearch
from archgym.registry import agent_class, simulator_class
from archgym.testing import ContractError, ToySimulator, check_searcher, check_simulator


@pytest.mark.parametrize("sim_id", archgym.list_simulators())
def test_every_registered_simulator_honours_the_contract(sim_id):
    check_simulator(simulator_class(sim_id))


@pytest.mark.parametrize("name", archgym.list_agents())
def test_every_registered_searcher_honours_the_contract(name):
    check_searcher(agent_class(name))


def test_an_overriding_evaluate_is_not_bypassed_by_the_env():
    from archgym.env import DSEEnv

    class Shifted(ToySimulator):
        def evaluate(self, config):
            out = super().evaluate(config)
            out["cost"] += 100.0
            return out

    _, info = DSEEnv(Shifted()).evaluate({"x": 7, "y": 8, "mode": "a"})
    assert info["metrics"]["cost"] == 100.0


def test_check_simulator_catches_nondeterminism():
    import itertools

    class Drifting(ToySimulator):
        counter = itertools.count()

        def _evaluate(self, config):
            return {"cost": float(next(self.counter)), "area": 1.0}

    with pytest.raises(ContractError, match="not deterministic"):
        check_simulator(Drifting, check_env=False)


def test_check_simulator_catches_a_missing_metric():
    class Lacking(ToySimulator):
        def evaluate(self, config):
            out = super().evaluate(config)
            del out["cost"]
            return out

    with pytest.raises(ContractError, match="lacks metrics"):
        check_simulator(Lacking, check_env=False)


def test_check_searcher_catches_an_overspending_searcher():
    class Greedy(RandomSearch):
        name = "greedy"

        def run(self, env, budget, seed):
            env.unwrapped.evaluate(env.unwrapped.space.sample(0))  # one evaluation outside the budget
            return super().run(env, budget, seed)

    with pytest.raises(ContractError, match="return every evaluation"):
        check_searcher(Greedy)


def test_check_searcher_catches_an_unseeded_searcher():
    import numpy as np

    class Unseeded(RandomSearch):
        name = "unseeded"

        def ask(self):
            return self.space.sample(np.random.default_rng())

    with pytest.raises(ContractError, match="same seed"):
        check_searcher(Unseeded)


def test_check_searcher_catches_a_searcher_that_counts_proposals_as_budget():
    """Repeats are free, so a loop of `budget` proposals leaves budget unspent."""
    from archgym.agents import Agent

    class Counting(Agent):
        name = "counting"

        def search(self, env, budget, seed):
            import numpy as np

            rng = np.random.default_rng(seed)
            for _ in range(budget):
                env.evaluate(env.space.sample(rng))

    with pytest.raises(ContractError, match="count the budget in evaluations made"):
        check_searcher(Counting)


def test_check_searcher_catches_a_searcher_that_pays_for_repeats_behind_the_rule():
    """A searcher must not opt itself out of the repeat rule (here: its own paying budget block)."""
    class Paying(RandomSearch):
        name = "paying"

        def search(self, env, budget, seed):
            with env.budget(budget, reuse=False):
                super().search(env, budget, seed)

    with pytest.raises(ContractError, match="the env charged 0 repeat"):
        check_searcher(Paying)


def test_check_searcher_checks_that_reuse_evaluations_false_pays():
    class Ignoring(RandomSearch):
        name = "ignoring"

        def run(self, env, budget, seed):
            self.reuse_evaluations = True  # ignores the user's choice
            return super().run(env, budget, seed)

    with pytest.raises(ContractError, match="reuse_evaluations=False every repeat must be paid"):
        check_searcher(Ignoring)

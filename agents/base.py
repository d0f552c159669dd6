"""Black-box searchers: the ask-and-tell base, on the core searcher interface.

The interface itself -- :class:`Agent`, :class:`HyperParameter`, the run loop
and its argument checks -- is a core contract and lives in
:mod:`archgym.searcher`; it is re-exported here.

A multi-agent searcher (several policies over parameter groups) is an
:class:`Agent` whose ``search`` drives those policies; nothing here assumes a
single policy.

Writing a searcher
------------------
* Any searcher: subclass :class:`Agent` and implement ``search(env, budget,
  seed)`` -- evaluate designs through ``env`` (a :class:`~archgym.env.DSEEnv`)
  until it raises :class:`~archgym.env.BudgetExhausted` or you are done.
* One design at a time: subclass :class:`AskTellAgent`, implement ``ask()``
  (and ``tell()`` if it learns); :meth:`AskTellAgent.setup` gives
  ``self.space``, ``self.rng`` (seeded) and ``self.objective``.
* A population (batches of designs, learning once a batch is scored): subclass
  :class:`archgym.agents.population.QueuedSearch` (also exported as
  ``archgym.agents.QueuedSearch``), the public base that the genetic
  algorithm, ant colony and random walk share.  Implement two methods:
  ``_propose() -> list of index vectors`` (the next batch, on the canonical
  index encoding of :mod:`archgym.space`) and ``_batch_done(results)``
  (``results``: ``(index vector, reward, objective vector)`` per design of the
  batch, in proposal order).  It keeps ``evaluated_`` and gives
  ``pareto_front()``.
* Repeats: inside ``run`` the environment answers a design already evaluated
  in the run from its record, without spending budget (one rule for every
  searcher, :mod:`archgym.env`); so count the budget in evaluations made
  (``env.n_evaluations``), not in designs proposed.  Declare
  ``HyperParameter("reuse_evaluations", True, bool)`` to let users make the
  searcher pay for repeats (False).  A manual ask/tell loop gets the same rule
  inside ``with env.budget(n):``.
  Helpers: :mod:`archgym.agents.moves` (mutations on index vectors),
  :mod:`archgym.pareto` (non-dominated sorting, crowding distance).
* Check it with :func:`archgym.testing.check_searcher` and register it with
  :func:`archgym.register_agent` or the ``archgym.agents`` entry-point group.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from archgym.env import DSEEnv
from archgym.searcher import (Agent, HyperParameter, HyperParameterError, RunInputError, SearchExhausted,
                              check_budget, check_seed, unwrap_env)
from archgym.space import DesignSpace

__all__ = ["HyperParameter", "HyperParameterError", "RunInputError", "Agent", "AskTellAgent", "SearchExhausted",
           "unwrap_env", "check_budget", "check_seed"]


class AskTellAgent(Agent):
    """A black-box searcher: implement :meth:`setup`, :meth:`ask`, :meth:`tell`;
    :meth:`search` is the ask-evaluate-tell loop."""

    space: DesignSpace
    rng: np.random.Generator

    def setup(self, space: DesignSpace, seed: int, objective: Any = None) -> "AskTellAgent":
        """Reset search state for ``space`` with a fresh seeded generator."""
        self.space = space
        self.objective = objective
        self.rng = np.random.default_rng(seed)
        return self

    def ask(self) -> dict:
        raise NotImplementedError

    def tell(self, config: Mapping[str, Any], reward: float, info: Mapping[str, Any] | None = None) -> None:
        """Report the reward (higher better) of a design from :meth:`ask`."""

    def ask_many(self, n: int) -> list[dict]:
        """1 to ``n`` designs that may be evaluated together before any is told
        (the same designs, in the same order, as ``ask``/``tell`` one by one
        would give).  The default asks one; population searchers return more,
        so :meth:`search` can hand a batch-friendly backend (a proxy) one batch."""
        return [self.ask()]

    def search(self, env: DSEEnv, budget: int, seed: int) -> None:
        """The ask-evaluate-tell loop (one batch per call when the simulator is
        batch-friendly, e.g. a proxy)."""
        self.setup(env.space, seed, env.objective)
        batched = env.simulator.batch_friendly
        start = env.n_evaluations
        while (done := env.n_evaluations - start) < budget:  # evaluations made: a repeat answered free is no step
            room = budget - done if env.evaluations_left is None else min(budget - done, env.evaluations_left)
            cfgs = self.ask_many(max(room, 1)) if batched else [self.ask()]
            for reward, info in env.evaluate_many(cfgs):
                self.tell(info["config"], reward, info)

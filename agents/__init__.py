"""Searchers behind one interface (installed as ``archgym.agents``).

Every searcher is an :class:`Agent`: hyperparameters in ``__init__``,
``run(env, budget, seed) -> trajectory DataFrame``; black-box ones also expose
``ask()``/``tell()``.  Find them by name with ``archgym.make_agent(name)``.
"""
from .base import Agent, AskTellAgent, HyperParameter, HyperParameterError, unwrap_env
from .random_search import RandomSearch

__all__ = ["Agent", "AskTellAgent", "HyperParameter", "HyperParameterError", "unwrap_env", "RandomSearch"]

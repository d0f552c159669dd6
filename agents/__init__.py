"""Searchers behind one interface (installed as ``archgym.agents``).

Every searcher is an :class:`Agent`: hyperparameters in ``__init__``,
``run(env, budget, seed) -> trajectory DataFrame``; black-box ones also expose
``ask()``/``tell()``.  Find them by name with ``archgym.make_agent(name)``.

Re-exported here (light imports only): random search, random walk, grid,
genetic algorithm (NSGA-II for Pareto objectives), ant colony, Bayesian
optimization.  The stable-baselines3 agents (:mod:`archgym.agents.rl`) and the
Optuna samplers (:mod:`archgym.agents.optuna_samplers`) import their heavy
dependencies only inside ``run``/``setup``; import them from their modules or
by name through ``archgym.make_agent("ppo")``.
"""
from .ant_colony import AntColony
from .base import Agent, AskTellAgent, HyperParameter, HyperParameterError, SearchExhausted, unwrap_env
from .bayesian import BayesianOptimization
from .genetic import GeneticAlgorithm
from .grid import GridSearch
from .population import QueuedSearch
from .random_search import RandomSearch
from .random_walk import RandomWalk

__all__ = ["Agent", "AskTellAgent", "HyperParameter", "HyperParameterError", "SearchExhausted", "unwrap_env", "RandomSearch",
           "RandomWalk", "GridSearch", "GeneticAlgorithm", "AntColony", "BayesianOptimization", "QueuedSearch"]

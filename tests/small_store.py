"""A small real results store for the figure and dashboard tests (holds no tests).

Every trial runs through the run pipeline (:func:`archgym.pipeline.run_trial`)
on ``Toy-v0`` and is recorded with :meth:`archgym.store.Store.record`, as
``archgym run --store`` records it:

* ``cost`` (scalar): nine searchers, five seeds each except ``grid`` and
  ``random_walk`` (three: figures draw their runs instead of a band), and
  ``ga`` in two settings (a lottery);
* ``pareto:cost,area``: three searchers, five seeds (fronts, hypervolume,
  one Optuna study with two objectives per trial).
"""
from __future__ import annotations

from pathlib import Path

BUDGET = 24
SCALAR = {"random": 5, "random_walk": 3, "grid": 3, "ga": 5, "aco": 5, "optuna_tpe": 5, "optuna_nsga2": 5,
          "bo": 5, "surrogate": 5}
PARETO = {"random": 5, "ga": 5, "optuna_nsga2": 5}
GA_SETTINGS = ({}, {"population_size": 6})


def trials():
    """(study, env kwargs, agent, hyperparameters, seed) of every trial of the store."""
    out = []
    for agent, seeds in SCALAR.items():
        for hp in (GA_SETTINGS if agent == "ga" else ({},)):
            out += [("small", {"objective": "cost"}, agent, hp, s) for s in range(seeds)]
    for agent, seeds in PARETO.items():
        out += [("small", {"objective": "pareto:cost,area"}, agent, {}, s) for s in range(seeds)]
    return out


def build(path: str | Path) -> str:
    """Write the store to ``path`` (Toy-v0 registered in this process); return its path."""
    import archgym
    from archgym import registry
    from archgym.pipeline import run_trial
    from archgym.store import Store
    from archgym.testing import ToySimulator
    from archgym.trial import Trial

    if "Toy-v0" not in registry.list_simulators():
        archgym.register("Toy-v0", ToySimulator)
    with Store(path) as db:
        for study, kw, agent, hp, seed in trials():
            trial = Trial.create("Toy-v0", kw, agent, hp, seed, BUDGET)
            result = run_trial(trial)
            assert result.ok, result.error
            db.record(db.study(study), trial, result)
    return str(path)

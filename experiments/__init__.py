"""The experiment library (installed as ``archgym.experiments``).

* :mod:`.sweep` -- the sweep engine: specs, the resumable driver, executors
  (local pool or Dask), workers;
* :mod:`.analysis` -- reading stores: curves, ranking, lottery, Pareto
  fronts, wall time; plots and reports;
* :mod:`.bench` -- the benchmark suite and leaderboard, with their data
  shipped as package data.

Outside the installed package, in the repository's ``experiments/`` folder:
``benchmarks/`` (measurement scripts), ``studies/`` (study specs and the
scripts that make their figures) and ``results/`` (committed outputs).  No
installed module imports or reads them.

Names are imported lazily so ``import archgym.experiments`` stays cheap.
"""
from __future__ import annotations

from typing import Any

__all__ = ["run_sweep", "load_spec", "parse_spec", "SweepSpec", "SpecError", "write_report", "ranking_table"]

_WHERE = {"run_sweep": "sweep", "load_spec": "sweep", "parse_spec": "sweep", "SweepSpec": "sweep",
          "SpecError": "sweep", "write_report": "analysis", "ranking_table": "analysis"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

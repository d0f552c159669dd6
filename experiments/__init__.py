"""Sweeps, analysis and benchmarks (installed as ``archgym.experiments``).

* :mod:`.spec` -- YAML sweep specs: validation (one-line errors with file and
  line) and expansion into trials with stable, content-hashed ids;
* :mod:`.worker` -- one trial as a unit of work (no store access);
* :mod:`.executors` -- local process pool (default), Dask, or inline;
* :mod:`.runner` -- :func:`run_sweep`, the resumable driver that alone writes the store;
* :mod:`.analysis`, :mod:`.pareto`, :mod:`.plots`, :mod:`.report` -- curves with
  confidence bands, the hyperparameter lottery, Pareto fronts and hypervolume,
  ranking tables, wall time; :func:`write_report` and :func:`ranking_table`;
* :mod:`.suite`, :mod:`.hardness`, :mod:`.leaderboard`, :mod:`.bench_report`,
  :mod:`.bench` -- the benchmark suite (``suite.yaml``, stored best-known values in
  ``suite_best_known.json``), hardness for random search, the leaderboard and
  ``archgym bench`` / ``archgym leaderboard``;
* ``*.yaml`` -- canonical studies (``quickstart``, ``dram_lottery``, one per simulator);
* :mod:`.benchmarks` -- speed measurements (``python -m archgym.experiments.benchmarks.sweep``).

Names are imported lazily so ``import archgym.experiments`` stays cheap.
"""
from __future__ import annotations

from typing import Any

__all__ = ["run_sweep", "load_spec", "parse_spec", "SpecError", "write_report", "ranking_table"]

_WHERE = {"run_sweep": "runner", "load_spec": "spec", "parse_spec": "spec", "SpecError": "spec",
          "write_report": "report", "ranking_table": "report"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

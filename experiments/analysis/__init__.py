"""Reading results stores: the numbers, the figures and the reports (``archgym report``, ``archgym compare``).

* :mod:`.study` -- the numbers: curves with confidence bands, ranking at
  fixed budgets, the hyperparameter lottery, Pareto fronts and hypervolume,
  wall time (definitions stated once there);
* :mod:`.plots` -- matplotlib figures from those numbers;
* :mod:`.report` -- :func:`write_report` (PNG plots, Markdown, HTML) and
  :func:`ranking_table`.

A store is read with nothing but itself: every trial carries its objective as
bound to its simulator, so no plugin or simulator is imported.
"""
from .report import ranking_table, write_report

__all__ = ["write_report", "ranking_table"]

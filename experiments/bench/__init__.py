"""The benchmark suite and leaderboard (``archgym bench``, ``archgym leaderboard``).

* :mod:`.suite` -- named, versioned problems and searcher rows (``data/suite.yaml``);
* :mod:`.hardness` -- best known values and how hard each problem is for random search;
* :mod:`.leaderboard` -- regret, ranks and overhead from recorded runs;
* :mod:`.page` -- the leaderboard's Markdown tables and HTML page with figures;
* :mod:`.commands` -- the work behind the two commands (references, runs, plans).

Shipped as package data (``data/``): the suite, its best known values
(``best_known.json``), its tables (``tables/``) and the committed run table
(``runs.csv``), so ``archgym leaderboard`` and ``archgym bench plan`` work
from a plain install.  Nothing is ever written into the package: commands
write where the user says (default: the current folder).
"""
from pathlib import Path

#: the shipped suite's files (package data; read-only)
DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SUITE = DATA / "suite.yaml"
SHIPPED_RUNS = DATA / "runs.csv"

__all__ = ["DATA", "DEFAULT_SUITE", "SHIPPED_RUNS"]

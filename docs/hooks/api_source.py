"""MkDocs hook: the source tree the API reference reads, laid out as installed.

``setup.cfg`` maps ``archgym.agents`` to ``agents/`` (and so on for
``cost_models``, ``experiments``, ``simulators``); mkdocstrings finds modules
by their files, so this hook lays out ``build/api_source/``
as the installed package looks (when MkDocs imports this hook, before
mkdocstrings reads its search paths) -- ``archgym/`` holding links to the core's
files and to the four mapped folders -- and the ``paths`` of the Python
handler in ``mkdocs.yml`` point there.  Nothing is copied and nothing is
imported.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

MAPPED = ("agents", "cost_models", "experiments", "simulators")  # archgym.<name> lives in <name>/


ROOT = Path(__file__).resolve().parents[2]


def lay_out(root: Path = ROOT) -> Path:
    """(Re)build ``root/build/api_source``; returns it."""
    tree = root / "build" / "api_source" / "archgym"
    shutil.rmtree(tree.parent, ignore_errors=True)
    tree.mkdir(parents=True)
    for entry in (root / "archgym").iterdir():
        if entry.name != "__pycache__":
            os.symlink(entry, tree / entry.name)
    for name in MAPPED:
        os.symlink(root / name, tree / name)
    return tree.parent


# at import, when MkDocs loads its hooks: before mkdocstrings reads ``paths``
lay_out()


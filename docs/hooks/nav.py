"""MkDocs hook: pages other work adds slot into the nav when their file exists.

:data:`OPTIONAL` maps a nav section to the pages it takes if present, so
``docs/dataflow.md``, ``docs/scratchpad.md`` and ``docs/workloads.md`` appear
under "Simulators" the build after they are written, without an edit to
``mkdocs.yml`` (whose ``strict`` build refuses nav entries for missing files).
A page already in the nav is left where it is.
"""
from __future__ import annotations

from pathlib import Path

#: nav section title -> [(page title, file under docs/)], appended in this order when the file exists
OPTIONAL = {
    "Simulators": [("Dataflow mapping (Timeloop class)", "dataflow.md"),
                   ("Scratchpad scheduling (COSMA class)", "scratchpad.md"),
                   ("Workloads and your own network", "workloads.md")],
}


def _listed(nav) -> set[str]:
    out: set[str] = set()
    for item in nav or ():
        for value in (item.values() if isinstance(item, dict) else [item]):
            if isinstance(value, list):
                out |= _listed(value)
            else:
                out.add(value)
    return out


def on_config(config, **kwargs):
    docs = Path(config["docs_dir"])
    listed = _listed(config["nav"])
    for section in config["nav"]:
        if not isinstance(section, dict):
            continue
        for title, pages in section.items():
            for page_title, file in OPTIONAL.get(title, ()):
                if (docs / file).is_file() and file not in listed:
                    pages.append({page_title: file})
    return config

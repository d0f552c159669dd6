"""The code blocks of a Markdown page, run as a reader would run them (holds no tests).

Used by ``tests/test_readme.py`` (README.md) and ``tests/test_docs.py``
(every page under docs/).  :func:`run_page` walks a page's fenced blocks in
order, in a fresh folder:

* a block with ``title="FILE"`` (any language) is written to ``FILE`` first --
  the files a page asks the reader to save (``my_sweep.yaml``, ``scale.cfg``);
* ``python`` blocks run with ``exec`` as ``__main__``, in one namespace per
  page (a reader's session: later blocks use names from earlier ones), or one
  per block with ``fresh_namespace=True`` (the README's examples each run on
  their own);
* ``sh`` blocks: every ``archgym`` command runs (through
  ``python -m archgym.cli``) and must exit 0; ``export K=V`` sets the
  environment of the commands after it (a ``../`` value is taken from the
  repository root); any other program (``make``, ``python``) is not run.
  Commands matching :data:`SKIP` are not run either, each for the reason given;
* ``ini`` blocks without a title must parse (configparser) and, when they
  declare entry points, name an ``archgym.*`` group;
* ``console``, ``text`` and other blocks are shown, not run (``console`` marks
  commands that need something the tests do not start: a cluster, a server
  that runs until Ctrl-C, a fresh virtual environment).

``--8<-- "path"`` lines (pymdownx.snippets) are replaced by the file they
name, relative to the repository root, as the site shows them.
"""
from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
TITLE = re.compile(r'title="([^"]+)"')
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.M)

#: commands not run, with why (substring of the command -> reason)
SKIP = {
    "run DRAM-v0 --workload random --agent aco --budget 500": "500 DRAM evaluations (~25 s CPU)",
    "dram_lottery": "the 384-trial lottery sweep and its report (tens of minutes)",
    "scratchpad_resnet18.json": "the Scratchpad table solves 1,890 ILP plans (~1.5 min); tests/test_table.py "
                                "runs `proxy table` on the toy simulator",
    "leaderboard --out": "draws nine 17-panel figures (~40 s CPU); tests/test_plots.py renders that figure kind",
}


@dataclass(frozen=True)
class Block:
    lang: str
    title: str | None
    body: str


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, snippets included."""
    out = []
    for lang, info, body in FENCE.findall(page.read_text()):
        body = SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text().rstrip("\n"), body)
        title = TITLE.search(info)
        out.append(Block(lang, title.group(1) if title else None, body))
    return out


def commands(body: str) -> list[str]:
    """Commands of a shell block: ``\\`` continuations joined, and a quoted
    argument may run over several lines."""
    out, pending = [], ""
    for line in body.replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command continues
            continue
        if pending.strip():
            out.append(pending.strip())
        pending = ""
    return out


def skipped(command: str) -> str | None:
    return next((why for key, why in SKIP.items() if key in command), None)


def run_page(page: Path, folder: Path, fresh_namespace: bool = False, timeout: int = 600) -> dict:
    """Run ``page``'s blocks in ``folder`` (the process's working folder while
    they run); returns counts of what ran: ``python``, ``commands``, ``files``."""
    from archgym import registry

    env = dict(os.environ)
    ran = {"python": 0, "commands": 0, "files": 0}
    ns: dict = {"__name__": "__main__"}
    here = os.getcwd()
    registry.list_envs(), registry.list_agents()  # entry points loaded before the snapshot
    tables = (registry._SIMS, registry._ENVS, registry._AGENTS)
    saved = [dict(t) for t in tables]  # a page registers its examples' simulators as a reader would, once
    os.chdir(folder)
    try:
        for i, block in enumerate(blocks(page), start=1):
            where = f"{page.name} block {i} ({block.lang})"
            if block.title:
                (folder / block.title).write_text(block.body)
                ran["files"] += 1
                continue
            if block.lang == "python":
                code = compile(block.body, where, "exec")
                exec(code, {"__name__": "__main__"} if fresh_namespace else ns)
                ran["python"] += 1
            elif block.lang == "sh":
                for line in commands(block.body):
                    words = shlex.split(line, comments=True)
                    if not words:
                        continue
                    if words[0] == "export":
                        k, _, v = words[1].partition("=")
                        env[k] = str((ROOT / v).resolve()) if v.startswith("..") else v
                        continue
                    if words[0] != "archgym" or skipped(line):
                        continue
                    out = subprocess.run([sys.executable, "-m", "archgym.cli", *words[1:]], cwd=folder, env=env,
                                         capture_output=True, text=True, timeout=timeout)
                    if out.returncode != 0:
                        raise AssertionError(f"{where}: `{line}` exited {out.returncode}:\n{out.stderr[-2000:]}")
                    ran["commands"] += 1
            elif block.lang == "ini":
                cp = configparser.ConfigParser()
                cp.read_string(block.body)
                if cp.has_section("options.entry_points"):
                    assert any(k.startswith("archgym.") for k in cp["options.entry_points"]), where
    finally:
        for table, before in zip(tables, saved):
            table.clear()
            table.update(before)
        os.chdir(here)
    return ran

"""Every README code block runs as written.

* ``python`` blocks run in order in one namespace (a reader's session: later
  blocks use ``env`` and ``archgym`` from the first one).
* ``sh`` blocks: every ``archgym`` command that needs no long run is executed
  (through ``python -m archgym.cli``) and must exit 0.  Skipped, and why:
  ``make demo``/``make test`` (a fresh virtualenv, minutes); commands reading the
  user's own files (``my_topo.csv``, ``scale.cfg``); the 500-evaluation DRAM
  ``run``, the 384-trial lottery ``sweep`` and the ``report``/``compare`` of its
  store (tens of minutes); building and using the Scratchpad table (its 45
  ILP plans take minutes; ``tests/test_table.py`` runs ``proxy table`` on a
  toy simulator).  ``export`` lines set the environment of the
  commands that follow.
* ``ini`` blocks must parse (configparser) and name an ``archgym.*`` group.
"""
from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
LONG = ("my_topo.csv", "run DRAM-v0", "dram_lottery",
        "scratchpad_resnet18.json")  # the Scratchpad table solves 45 ILP plans (~1.5 min); tests/test_table.py runs the command on Toy-v0


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall((ROOT / "README.md").read_text()) if kind == lang]


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


def test_python_blocks_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # files the snippets write (a proxy file) stay out of the checkout
    code = blocks("python")
    assert len(code) >= 5
    ns: dict = {"__name__": "readme"}
    for i, body in enumerate(code):
        try:
            exec(compile(body, f"README.md python block {i + 1}", "exec"), ns)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README python block {i + 1} fails: {type(exc).__name__}: {exc}\n{body}")


def test_archgym_commands_run(tmp_path):
    env = {**os.environ}
    ran = 0
    for body in blocks("sh"):
        for line in commands(body):
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "export":
                k, _, v = words[1].partition("=")
                env[k] = str((ROOT / v).resolve()) if v.startswith("..") else v
                continue
            if words[0] != "archgym" or any(s in line for s in LONG):
                continue
            out = subprocess.run([sys.executable, "-m", "archgym.cli", *words[1:]], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, (line, out.stderr[-2000:])
            ran += 1
    assert ran >= 3


def test_ini_blocks_parse():
    for body in blocks("ini"):
        cp = configparser.ConfigParser()
        cp.read_string(body)
        assert any(k.startswith("archgym.") for k in cp["options.entry_points"])

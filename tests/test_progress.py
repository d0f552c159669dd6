"""Progress on every long wait: bars on stderr only (stdout stays the result, JSON
included), shown when stderr is a terminal and the wait passes
``archgym.cli.args.WAIT_S`` (0 here, so short toy runs show them), silenced by
``--quiet``.  Each command runs in this process on the toy simulator."""
from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from archgym.cli import args as cli_args
from archgym.cli import main


class Terminal(io.StringIO):
    """stderr as a terminal (tqdm draws only there)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def term(monkeypatch):
    monkeypatch.setattr(cli_args, "WAIT_S", 0.0)
    return Terminal()


def _final(text: str, desc: str) -> str:
    """The last drawn state of the bar named ``desc`` (tqdm redraws with carriage returns)."""
    frames = [f for f in re.split(r"[\r\n]", text) if desc in f]
    assert frames, f"no progress bar {desc!r} on stderr: {text!r}"
    return frames[-1]


def _run(argv, err: io.StringIO) -> tuple[int, str]:
    """``archgym ARGV`` in this process with ``err`` as stderr; returns (exit status, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue()


def test_run_shows_evaluations_on_stderr_and_clean_json_on_stdout(term, toy_registered):
    code, out = _run(["run", "Toy-v0", "--agent", "random", "--budget", "30", "--json"], term)
    assert code == 0
    assert json.loads(out)["evaluations"] == 30  # stdout is exactly the JSON document
    assert "30/30" in _final(term.getvalue(), "random on Toy-v0")


def test_quiet_silences_every_bar(term, toy_registered, tmp_path):
    for argv in (["run", "Toy-v0", "--agent", "random", "--budget", "30", "--quiet"],
                 ["proxy", "table", "Toy-v0", "--out", str(tmp_path / "t.json"), "--quiet"],
                 ["proxy", "dataset", "Toy-v0", "--n", "40", "--out", str(tmp_path / "d.npz"), "--quiet"]):
        code, out = _run(argv, term)
        assert code == 0 and out
    assert term.getvalue() == ""


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch, toy_registered):
    monkeypatch.setattr(cli_args, "WAIT_S", 0.0)
    err = io.StringIO()  # not a terminal
    code, _ = _run(["run", "Toy-v0", "--agent", "random", "--budget", "30"], err)
    assert code == 0 and err.getvalue() == ""


def test_proxy_table_and_dataset_move_in_about_a_hundred_steps(term, toy_registered, tmp_path, monkeypatch):
    from archgym.testing import ToySimulator

    batches = []
    batch = ToySimulator.evaluate_batch
    monkeypatch.setattr(ToySimulator, "evaluate_batch", lambda self, c: (batches.append(len(c)), batch(self, c))[1])
    code, out = _run(["proxy", "table", "Toy-v0", "--out", str(tmp_path / "t.json")], term)
    assert code == 0 and "441 designs" in out
    assert "441/441" in _final(term.getvalue(), "tabulating Toy")
    assert batches == [5] * 88 + [1]  # the bar moves per batch: 1 % of the space each, not all at once
    term.seek(0), term.truncate()
    code, out = _run(["proxy", "dataset", "Toy-v0", "--n", "200", "--out", str(tmp_path / "d.npz")], term)
    assert code == 0 and "200 distinct designs" in out
    assert "200/200" in _final(term.getvalue(), "simulating Toy")


def test_bench_reference_shows_each_stage(term, toy_registered, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text("suite: toy-bench\nversion: 1\nbudgets: [5, 10]\nseeds: 2\nbest_known: best.json\n"
                     "problems:\n  - {name: toy, version: 1, env: Toy-v0, objective: cost, reference: sample,\n"
                     "     reference_samples: 60, long_runs: [{agent: ga, budget: 40, seed: 101}]}\n"
                     "searchers: [random]\n")
    code, out = _run(["bench", "reference", "--suite", str(suite), "--out", str(tmp_path / "ref")], term)
    assert code == 0 and out.strip().endswith("best_known.json")
    drawn = term.getvalue()
    assert "60/60" in _final(drawn, "toy@v1: evaluating designs")
    assert "40/40" in _final(drawn, "toy@v1: ga seed 101 x 40")

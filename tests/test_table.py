"""Tabular backends (cost_models/table.py): exact stand-ins, checked identity, refused tampering."""
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import archgym
from archgym.cli import main as cli_main
from archgym.cost_models.table import TABLE_LIMIT, TableFileError, read_table, write_table
from archgym.errors import UserInputError
from archgym.trial import trial_key

ROOT = Path(__file__).resolve().parents[1]
SCRATCHPAD_TABLE = ROOT / "experiments" / "bench" / "data" / "tables" / "scratchpad-resnet18.table.json"


@pytest.fixture
def toy_table(tmp_path, toy_registered):
    sim = archgym.make_simulator(toy_registered)
    path = tmp_path / "toy.table.json"
    digest = write_table(sim, path)
    return sim, path, digest


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def test_table_answers_every_design_exactly_as_the_simulator(toy_table):
    sim, path, digest = toy_table
    tab = read_table(path, sim, {})
    designs = [sim.space.decode(row) for row in sim.space.grid_indices()]
    _same(tab.evaluate_batch(designs), sim.evaluate_batch(designs))
    for cfg in designs[::37]:
        a, b = tab.evaluate(cfg), sim.evaluate(cfg)
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])), k
    assert tab.version == f"{sim.version}+table.{digest[:12]}"
    assert tab.reference_metrics() == sim.reference_metrics()
    assert tab.evaluate({"x": 20, "y": 1, "mode": "a"})["reason"] == "x=20 is too hot (x must be <= 18)"


def test_env_rewards_through_the_registry_equal_the_real_envs(toy_table, toy_registered):
    _, path, _ = toy_table
    real = archgym.make(toy_registered, objective="cost, area")
    tab = archgym.make(toy_registered, objective="cost, area", backend=str(path))
    rng = np.random.default_rng(0)
    for _ in range(40):
        cfg = real.space.decode(rng.integers(0, real.space.nvec))
        assert tab.evaluate(cfg)[0] == real.evaluate(cfg)[0]
    traj = archgym.make_agent("ga").run(tab, 30, 3)
    again = archgym.make_agent("ga").run(archgym.make(toy_registered, objective="cost, area", backend=str(path)),
                                         30, 3)
    assert traj["reward"].tolist() == again["reward"].tolist()


def test_writing_is_deterministic_and_the_trial_key_follows_the_content(toy_table, tmp_path, toy_registered):
    sim, path, digest = toy_table
    other = tmp_path / "again.json"
    assert write_table(sim, other) == digest  # same bytes
    k1 = trial_key(toy_registered, {"backend": str(path)}, "random", {}, 0, 10)
    k2 = trial_key(toy_registered, {"backend": str(other)}, "random", {}, 0, 10)
    assert k1 == k2  # identified by content, not by path
    write_table(archgym.make_simulator(toy_registered, offset=1.0), other, {"offset": 1.0})
    assert trial_key(toy_registered, {"backend": str(other)}, "random", {}, 0, 10) != k1


@pytest.mark.parametrize("what", ["options", "version", "workload", "space"])
def test_a_table_for_another_simulator_is_refused_in_one_line(toy_table, toy_registered, what):
    from archgym.testing import ToySimulator

    sim, path, _ = toy_table
    if what == "options":
        with pytest.raises(TableFileError, match="made with options"):
            archgym.make(toy_registered, backend=str(path), offset=1.0)
        return
    cls = type("ToyVariant", (ToySimulator,), {"version": "2"} if what == "version" else {})
    other = cls()
    if what == "workload":
        other.workload = "other"
    if what == "space":
        from archgym.space import Categorical, DesignSpace, Integer, powers_of_two

        other.space = DesignSpace([Integer("x", 0, 21), powers_of_two("y", 1, 64), Categorical("mode", ["a", "b"])])
    with pytest.raises(TableFileError) as exc:
        read_table(path, other, {})
    msg = str(exc.value)
    assert "\n" not in msg and "was made for" in msg and "archgym proxy table" in msg
    assert isinstance(exc.value, UserInputError)


def _edit(path, out, fn, fix_digest=False):
    body = json.loads(Path(path).read_text())
    fn(body)
    if fix_digest:  # a forger who recomputes the digest still meets the shape checks
        from archgym.cost_models.table import _digest

        body.pop("sha256")
        body["sha256"] = _digest(body)
    Path(out).write_text(json.dumps(body))
    return out


@pytest.mark.parametrize("case, words", [
    ("value-edited", "modified after it was written"),
    ("format", "not an archgym table file"),
    ("not-json", "not an archgym table file"),
    ("keys-out-of-range", "malformed table file"),
    ("short-column", "malformed table file"),
    ("missing", "does not exist"),
])
def test_damaged_or_foreign_tables_are_refused(toy_table, tmp_path, case, words):
    sim, path, _ = toy_table
    bad = tmp_path / "bad.json"
    if case == "value-edited":
        _edit(path, bad, lambda b: b["values"]["cost"].__setitem__(0, -1.0))
    elif case == "format":
        _edit(path, bad, lambda b: b.__setitem__("format", "something-else/1"))
    elif case == "not-json":
        bad.write_text("{ this is not json")
    elif case == "keys-out-of-range":
        _edit(path, bad, lambda b: b["keys"].__setitem__(0, 10 ** 9), fix_digest=True)
    elif case == "short-column":
        _edit(path, bad, lambda b: b["feasible"].pop(), fix_digest=True)
    else:
        bad = tmp_path / "nope.json"
    with pytest.raises(TableFileError, match=words) as exc:
        read_table(bad, sim, {})
    assert "\n" not in str(exc.value)


def test_a_pickle_given_as_backend_is_never_unpickled(tmp_path, toy_registered):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"format": "archgym-table/1"}))
    with pytest.raises(UserInputError, match="not a stand-in file of a known format"):
        archgym.make(toy_registered, backend=str(path))


def test_spaces_above_the_limit_are_refused(tmp_path):
    sim = archgym.make_simulator("Systolic-v0", workload="resnet18")
    assert sim.space.size > TABLE_LIMIT
    with pytest.raises(TableFileError, match="table limit"):
        write_table(sim, tmp_path / "big.json")
    assert not (tmp_path / "big.json").exists()


def test_cli_writes_a_table_that_run_accepts(tmp_path, capsys, toy_registered):
    out = tmp_path / "t.json"
    assert cli_main(["--import", "toy_register", "proxy", "table", "Toy-v0", "--out", str(out)]) == 0
    assert "Toy v1" in capsys.readouterr().out
    assert cli_main(["--import", "toy_register", "run", "Toy-v0", "--agent", "random", "--budget", "5",
                     "--option", f"backend={out}", "--store", str(tmp_path / "s.db")]) == 0
    capsys.readouterr()
    assert cli_main(["--import", "toy_register", "run", "Toy-v0", "--agent", "random", "--budget", "5",
                     "--option", f"backend={out}", "--option", "offset=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "made with options" in err


def test_the_shipped_scratchpad_table_fits_the_current_simulator():
    """Fails when Scratchpad-v0 changes version or space: the suite's table must then be rebuilt."""
    sim = archgym.make_simulator("Scratchpad-v0", workload="resnet18")
    tab = read_table(SCRATCHPAD_TABLE, sim, {})
    assert len(tab._frame) == sim.space.size == 1890
    df = tab.evaluate_batch([sim.space.decode(row) for row in sim.space.grid_indices()])
    assert df["feasible"].sum() > 0.5 * len(df)
    # every metric is a function of the design (counted solver budgets): the table equals a fresh
    # evaluation; the cheap policies here, the ILP ones would re-run the table's searches
    rows = df[df["policy"].isin(["belady", "lru", "ilp_fixed_order"])].head(6)
    for _, r in rows.iterrows():
        cfg = {k: r[k] for k in sim.space.names}
        fresh = sim.evaluate(cfg)
        for m in sim.metric_names:
            assert fresh[m] == pytest.approx(r[m], rel=1e-12, nan_ok=True), (cfg, m)

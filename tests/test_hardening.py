"""Issue 10 guarantees beyond the bad-input catalogue: exact trial identity,
failing sweeps that say why, the sweep lock through symlinks, workers that
exit with their driver, and designs outside the search space costed against
SCALE-Sim's own numbers."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import archgym
from archgym.cli import main
from archgym.space import InvalidConfigError
from archgym.store import Store
from archgym.trial import trial_identity, trial_key
from test_experiments_plugin import restore_registry, write_spec  # noqa: F401

TOY = ("Toy-v0", {"objective": "cost"}, "ga", {}, 0, 10)


# --------------------------------------------------------------------------- trial identity
def test_trial_key_covers_resolved_defaults_version_budget_and_seed(toy_registered, monkeypatch):
    from archgym.testing import ToySimulator

    from archgym.agents.genetic import GeneticAlgorithm
    from archgym.agents.base import HyperParameter

    base = trial_key(*TOY)
    ident = trial_identity(*TOY)
    assert ident["hyperparams"]["population_size"] == 20 and ident["simulator_version"] == "1"
    assert trial_key("toy", {"objective": "cost"}, "ga", {"population_size": 20}, 0, 10) == base  # same trial
    assert trial_key(*TOY[:4], 0, 11) != base  # budget
    assert trial_key(*TOY[:4], 1, 10) != base  # seed
    monkeypatch.setattr(ToySimulator, "version", "2")
    assert trial_key(*TOY) != base  # a new model never reuses old results
    monkeypatch.undo()
    changed = tuple(HyperParameter("population_size", 30, int, 2, 10000) if h.name == "population_size" else h
                    for h in GeneticAlgorithm.hyperparameters)
    monkeypatch.setattr(GeneticAlgorithm, "hyperparameters", changed)
    assert trial_key(*TOY) != base  # a changed agent default makes a new trial


def test_trial_key_hashes_backend_files_by_content(tmp_path, toy_registered):
    a, b = tmp_path / "a.pkl", tmp_path / "sub" / "b.pkl"
    b.parent.mkdir()
    a.write_bytes(b"proxy model v1")
    b.write_bytes(b"proxy model v1")
    key = trial_key("Toy-v0", {"backend": str(a)}, "random", {}, 0, 5)
    assert trial_key("Toy-v0", {"backend": str(b)}, "random", {}, 0, 5) == key  # moved: same content
    assert trial_identity("Toy-v0", {"backend": str(a)}, "random", {}, 0, 5)["env_kwargs"]["backend"] == {
        "sha256": hashlib.sha256(b"proxy model v1").hexdigest()}
    time.sleep(0.01)
    a.write_bytes(b"proxy model v2, retrained")
    assert trial_key("Toy-v0", {"backend": str(a)}, "random", {}, 0, 5) != key


def test_run_and_sweep_share_one_key_and_budgets_are_kept_apart(tmp_path, toy_registered, restore_registry):
    db = tmp_path / "s.db"
    for budget in (5, 7):
        assert main(["run", "Toy-v0", "--agent", "random", "--budget", str(budget), "--seed", "3",
                     "--objective", "cost", "--store", str(db)]) == 0
    with Store(db, readonly=True) as st:
        t = st.trials()
        ev = st.evaluations()
    counts = ev.groupby("trial_key").size().to_dict()
    assert sorted(zip(t["budget"], t["trial_key"].map(counts))) == [(5, 5), (7, 7)]
    spec = write_spec(tmp_path, "study: s\nbudget: 5\nseeds: [3]\nenvironments:\n  - id: Toy-v0\n"
                                "    objectives: [cost]\nsearchers:\n  - agent: random\n")
    from archgym.experiments.sweep import prepare

    trials = prepare(spec).trials()
    assert trials[0].key in set(t["trial_key"])  # the sweep names the run's trial identically


# --------------------------------------------------------------------------- sweeps
FLAKY = """\
study: flaky
budget: 4
seeds: [0, 1, 3]
environments:
  - id: Toy-v0
searchers:
  - agent: flaky
"""


def test_failing_sweep_says_why_and_exits_1_on_every_run(tmp_path, capsys, restore_registry):
    spec = write_spec(tmp_path, FLAKY)
    for attempt in range(2):  # the first run and a rerun that skips the failed trials
        assert main(["sweep", spec, "--quiet"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert "archgym: 1 trial(s) failed: RuntimeError: flaky agent refuses odd seed 1" in err[0]
        assert "RuntimeError: flaky agent refuses odd seed 3" in err[1]
        assert "2 trial(s) of the spec are failed" in err[2] and "archgym failures" in err[2]
    store = str(tmp_path / "study.db")
    assert main(["failures", store, "--short"]) == 0
    out = capsys.readouterr().out
    assert out.count("== trial") == 2 and "odd seed 3" in out


SLOW = """\
study: slow
budget: 40
seeds: 6
environments:
  - id: SlowToy-v0
    kwargs: {delay: 0.05}
searchers:
  - agent: random
"""


def test_sweep_lock_holds_through_a_symlink(tmp_path, restore_registry):
    from archgym.experiments.sweep.runner import SweepLocked, _exclusive, run_sweep

    spec = write_spec(tmp_path, FLAKY)
    real = tmp_path / "real.db"
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with _exclusive(str(real)):
        with pytest.raises(SweepLocked, match="another sweep is writing"):
            run_sweep(spec, store=str(link), progress=False)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL])  # plain `kill` (SIGTERM) ends the driver the same way
def test_spawn_workers_exit_when_the_driver_is_killed(tmp_path, sig, restore_registry):
    spec = write_spec(tmp_path, SLOW)
    proc = subprocess.Popen([sys.executable, "-m", "archgym.cli", "sweep", spec, "--workers", "2", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        workers: list[int] = []
        deadline = time.time() + 90
        while time.time() < deadline and len(workers) < 2:
            workers = [c for c in _children(proc.pid) if "spawn_main" in
                       Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool never started"
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.1)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()
                 and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]]
        assert not alive, f"workers {alive} outlived their driver"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------- outside the space
def test_designs_outside_the_space_match_scalesim(shared_data):
    """SCALE-Sim's compute-bound reference runs use 8192 KB SRAMs, outside the
    search space (16..1024 KB): evaluate costs them (in_space False) and the
    per-layer report matches SCALE-Sim's own cycle and access counts exactly."""
    from archgym.simulators.systolic import SystolicSimulator
    from archgym.simulators.systolic.simulator import MODEL_MAX

    from test_systolic_reference import _reference

    ref, layers = _reference()
    cases = [c for c in ref["cases"] if c["group"] == "compute_bound" and c["status"] == "ok"]
    assert len(cases) >= 100
    exact = ["compute_cycles", "stall_cycles", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes"]
    for case in cases:
        sim = SystolicSimulator([layers[case["layer_name"]]])
        cfg = {"array_rows": case["array_rows"], "array_cols": case["array_cols"], "dataflow": case["dataflow"],
               "ifmap_sram_kb": case["sram_kb"][0], "filter_sram_kb": case["sram_kb"][1],
               "ofmap_sram_kb": case["sram_kb"][2], "dram_bw_words_per_cycle": MODEL_MAX}
        res = sim.evaluate(cfg)
        assert res["in_space"] is False and res["feasible"], case["case_id"]
        row = sim.evaluate_details(cfg).iloc[0]
        for k in exact:
            assert float(row[k]) == float(case["results"][k]), (case["case_id"], k, row[k], case["results"][k])


def test_scalesim_tpu_example_config_is_costed(tmp_path, capsys):
    cfg = tmp_path / "google.cfg"
    cfg.write_text("[architecture_presets]\nArrayHeight: 256\nArrayWidth: 256\nIfmapSramSzkB: 6144\n"
                   "FilterSramSzkB: 6144\nOfmapSramSzkB: 2048\nDataflow: ws\nBandwidth: 10\n"
                   "[run_presets]\nInterfaceBandwidth: CALC\n")
    assert main(["evaluate", "Systolic-v0", "--config", str(cfg), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["in_space"] is False and res["feasible"] is True and res["cycles"] > 0
    one_kb = '{"array_rows": 32, "array_cols": 32, "dataflow": "os", "ifmap_sram_kb": 1, "filter_sram_kb": 64, ' \
             '"ofmap_sram_kb": 64, "dram_bw_words_per_cycle": 8}'
    assert main(["evaluate", "Systolic-v0", "--config", one_kb, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["in_space"] is False
    in_space = one_kb.replace('"ifmap_sram_kb": 1,', '"ifmap_sram_kb": 64,')
    assert main(["evaluate", "Systolic-v0", "--config", f"[{in_space}, {one_kb}]", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["in_space"] for r in rows] == [True, False] and [r["ifmap_sram_kb"] for r in rows] == [64, 1]
    env = archgym.make("Systolic-v0")  # searchers stay in the space
    with pytest.raises(InvalidConfigError, match="ifmap_sram_kb"):
        env.evaluate(json.loads(one_kb))

"""The benchmark suite (issue 15): definitions, stored references, hardness math, leaderboard."""
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.cli import main as cli_main
from archgym.experiments.bench import leaderboard as L
from archgym.experiments.bench.hardness import expected_best_of_random, fraction_within, verdict
from archgym.experiments.bench.suite import TRACES_ENV, SuiteError, load_suite, parse_suite

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT.parent / "shared" / "data" / "dram" / "traces"
RUNS_CSV = ROOT / "experiments" / "bench" / "data" / "runs.csv"  # the committed runs, shipped as package data
STUDIES = ROOT / "experiments" / "studies"


@pytest.fixture(autouse=True)
def _traces(monkeypatch):
    """ArchGym's traces ship beside the repo; without them the DRAM problems are skipped."""
    if TRACES.is_dir():
        monkeypatch.setenv(TRACES_ENV, str(TRACES))
    else:
        monkeypatch.delenv(TRACES_ENV, raising=False)


@pytest.fixture(scope="module")
def suite():
    return load_suite()


# --------------------------------------------------------------------------- definitions
def test_suite_loads_with_unique_versioned_problems(suite):
    assert suite.label == "archgym-bench@v2"
    assert suite.budgets == [50, 100, 300, 1000] and len(suite.seeds) >= 10
    labels = [p.label for p in suite.problems]
    assert len(set(labels)) == len(labels) and all("@v" in x for x in labels)
    assert {"Systolic-v0", "DRAM-v0", "Scratchpad-v0", "DataflowMapping-v0", "AcceleratorArch-v0",
            "Accelerator-v0"} <= {p.env_id for p in suite.problems}
    assert any(p.is_pareto for p in suite.active())
    assert {"ppo", "a2c", "dqn", "sac"} <= {s.name for s in suite.searchers}  # default-settings rows kept


def test_every_problem_builds(suite):
    for p in suite.problems:
        if p.unavailable():
            assert p.needs_traces and not TRACES.is_dir(), p.unavailable()  # tables ship with the suite
            continue
        env = p.make_env()
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert env.unwrapped.objective.metrics  # the problem's objective is bound


def test_every_active_problem_has_a_current_reference(suite):
    """The stored best known value belongs to this simulator version and space."""
    refs = suite.best_known()
    for p in suite.active():
        assert p.label in refs, f"no stored best known value for {p.label}: run `archgym bench reference`"
        rec = refs[p.label]
        if p.unavailable():
            continue
        sim = p.make_env().unwrapped.simulator  # with the problem's options and table
        assert rec["space_fingerprint"] == sim.space.fingerprint(), f"{p.label}: the design space changed"
        assert rec["simulator_version"] == str(sim.version), f"{p.label}: the simulator version changed"
        assert rec["env_kwargs"] == p.env_kwargs(portable=True)  # no machine paths in the stored record
        assert rec["verdict"] == "keep" or p.dropped


def test_stored_best_design_reproduces_the_stored_value(suite):
    """An independent check of each scalar reference: its recorded design, evaluated
    now through the environment, gives exactly the stored reward."""
    refs = suite.best_known()
    for p in suite.active():
        if p.is_pareto or p.unavailable():
            continue
        env = p.make_env().unwrapped
        reward, _ = env.evaluate(refs[p.label]["best_config"])
        assert reward == pytest.approx(refs[p.label]["best"], rel=1e-12, abs=1e-12), p.label


# --------------------------------------------------------------------------- hardness math
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=4), st.integers(1, 3))
def test_closed_form_equals_exhaustive_enumeration_of_draws(rewards, n):
    """E[max of n uniform draws with replacement] against all N^n equally likely draws."""
    exact = np.mean([max(c) for c in itertools.product(rewards, repeat=n)])
    assert expected_best_of_random(rewards, [n])[0] == pytest.approx(exact, abs=1e-12)


def test_closed_form_matches_simulated_random_search():
    rng = np.random.default_rng(1)
    r = rng.gamma(2.0, size=5000)
    draws = [rng.choice(r, size=(4000, n)).max(axis=1) for n in (1, 10, 100)]
    closed = expected_best_of_random(r, [1, 10, 100])
    for c, d in zip(closed, draws):  # within 4 standard errors of the simulated mean
        assert abs(c - d.mean()) < 4 * d.std() / np.sqrt(len(d))


def test_fraction_within_and_verdict():
    r = np.array([1.0, 0.995, 0.98, 0.5])
    assert fraction_within(r, 1.0) == 0.5
    easy = {"score": "reward", "best": 1.0, "reward_median": 0.5, "random_regret": {"50": 0.001, "100": 0.0}}
    hard = {"score": "reward", "best": 1.0, "reward_median": 0.5, "random_regret": {"50": 0.2, "100": 0.1}}
    assert verdict(easy).startswith("drop") and verdict(hard) == "keep"


def test_bootstrap_ci_brackets_the_median_and_is_reproducible():
    x = [0.1, 0.3, 0.2, 0.0, 0.5, 0.25, 0.15, 0.05, 0.4, 0.35]
    lo, hi = L.bootstrap_median_ci(x)
    assert lo <= np.median(x) <= hi and (lo, hi) == L.bootstrap_median_ci(x)
    assert L.bootstrap_median_ci([0.2]) == (0.2, 0.2)


# --------------------------------------------------------------------------- leaderboard
def _runs(best_values, problem="systolic-resnet18@v1"):
    return pd.DataFrame([{"problem": problem, "searcher": s, "agent": s, "seed": i, "budget": 100,
                          "n_evaluations": 100, "wall_s": 1.0, "simulator_s": 0.5, "best@50": b - 0.01, "best@100": b}
                         for s, bs in best_values.items() for i, b in enumerate(bs)])


def test_ranks_ties_and_mean_rank():
    refs = {"systolic-resnet18@v1": {"best": 1.0}}
    runs = _runs({"a": [1.0, 1.0, 0.9], "b": [0.8, 0.8, 0.8], "c": [1.0, 0.9, 1.0]})
    t = L.regret_table(runs, refs, [100])
    rank = dict(zip(t["searcher"], t["rank"]))
    assert rank == {"a": 1.5, "c": 1.5, "b": 3.0}  # equal medians share the mean rank
    assert dict(zip(t["searcher"], t["solved"])) == {"a": 2, "b": 0, "c": 2}
    over = L.overheads(runs).set_index("searcher")["overhead_ms"]
    assert over["a"] == pytest.approx(5.0)  # (1.0 s - 0.5 s) / 100 evaluations


def test_a_run_beating_the_stored_optimum_is_reported():
    refs = {"systolic-resnet18@v1": {"best": 0.9, "how": "enumeration"}}
    msgs = L.check_regret(_runs({"ga": [0.95]}), refs)
    assert len(msgs) == 1 and "is wrong" in msgs[0] and "ga seed 0 reached 0.95" in msgs[0]


def test_committed_runs_never_beat_the_stored_optimum(suite):
    """Regret >= 0 on every committed run; a failure names the stored value that is wrong."""
    if not RUNS_CSV.exists():
        pytest.skip("no committed leaderboard runs yet")
    runs = L.read_runs(RUNS_CSV)
    assert len(runs) > 0
    msgs = L.check_regret(runs, suite.best_known())
    assert not msgs, "\n".join(msgs)


TINY = ["bench", "run", "--problems", "systolic-resnet18,systolic-resnet18-pareto", "--searchers", "random,ga",
        "--max-budget", "12", "--executor", "inline", "--quiet"]


def test_leaderboard_end_to_end_on_a_tiny_budget(tmp_path, capsys):
    out = tmp_path / "bench"
    assert cli_main(TINY + ["--seeds", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".lock")) == \
        ["bench.db", "bench_runs.csv", "leaderboard"]
    csv = out / "bench_runs.csv"
    runs = L.read_runs(csv)
    assert len(runs) == 2 * 2 * 2 and set(runs["budget"]) == {12}
    suite = load_suite()
    refs = suite.best_known()
    assert not L.check_regret(runs, refs)
    reg = L.regret_table(runs, refs, [12])
    assert (reg["median"] >= 0).all() and len(reg) == 4
    hv = runs[runs["problem"] == "systolic-resnet18-pareto@v1"]["best@12"]
    assert (hv > 0).all() and (hv <= refs["systolic-resnet18-pareto@v1"]["best"]).all()
    assert (out / "leaderboard" / "leaderboard.html").exists() and list((out / "leaderboard").glob("regret_*.png"))
    capsys.readouterr()
    assert cli_main(["leaderboard", str(csv), "--budgets", "12"]) == 0
    text = capsys.readouterr().out
    assert "| random |" in text and "| ga |" in text and "mean rank @12" in text
    # resumable: a second run re-runs nothing and gives the same table
    assert cli_main(TINY + ["--seeds", "2", "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(L.read_runs(csv).drop(columns=["wall_s"]), runs.drop(columns=["wall_s"]))
    # one cell rerun (seed 5 of random on one problem) joins the table; nothing is lost
    assert cli_main(TINY[:2] + ["--problems", "systolic-resnet18", "--searchers", "random", "--seed", "5",
                                "--max-budget", "12", "--executor", "inline", "--quiet", "--out", str(out)]) == 0
    more = L.read_runs(csv)
    assert len(more) == 9 and ((more["searcher"] == "random") & (more["seed"] == 5)).sum() == 1


def test_bench_run_never_replaces_a_run_table_with_fewer_runs(tmp_path, capsys):
    """A tiny run into a folder holding the committed 1,530-run table refuses before running anything."""
    out = tmp_path / "clone"
    out.mkdir()
    (out / "bench_runs.csv").write_bytes(RUNS_CSV.read_bytes())
    assert cli_main(TINY + ["--seeds", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run(s) the new run table lacks" in err and "--force" in err
    assert (out / "bench_runs.csv").read_bytes() == RUNS_CSV.read_bytes() and not (out / "bench.db").exists()
    assert cli_main(TINY + ["--seeds", "1", "--out", str(out), "--force"]) == 0
    assert len(L.read_runs(out / "bench_runs.csv")) == 2 * 2


def test_bench_run_writes_into_the_current_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(TINY[:2] + ["--problems", "systolic-resnet18", "--searchers", "random", "--seeds", "1",
                                "--max-budget", "3", "--executor", "inline", "--quiet"]) == 0
    assert (tmp_path / "bench_runs.csv").exists() and (tmp_path / "leaderboard" / "leaderboard.md").exists()


# --------------------------------------------------------------------------- bad input
BAD_SUITES = [
    ("suite: s\nversion: 1\nproblems: []\nsearchers: [random]\nbudgets: [100, 50]\n", "increasing"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Nope-v0, objective: cycles}\n"
     "searchers: [random]\n", "Nope-v0"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: watts}\n"
     "searchers: [random]\n", "watts"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: cycles,"
     " kwargs: {trace_dir: /x}}\nsearchers: [random]\n", "trace_dir"),
    ("suite: s\nversion: 1\nproblems: []\nsearchers:\n  - {agent: ga, hyperparameters: {population_size: 0}}\n",
     "population_size"),
    ("suite: s\nversion: 1\nproblems: []\nsearchers: [random, random]\n", "duplicate"),
    ("suite: s\nversion: 1\nproblem: []\nsearchers: [random]\n", "problem"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: cycles,"
     " kwargs: {backend: t.json}}\nsearchers: [random]\n", "table key"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: cycles,"
     " long_runs: [{agent: nope, budget: 5, seed: 1}]}\nsearchers: [random]\n", "nope"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: cycles,"
     " long_runs: [{agent: ga, budget: 5}]}\nsearchers: [random]\n", "seed"),
    ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Systolic-v0, objective: cycles,"
     " long_runs: [{agent: ga, budget: 0, seed: 1}]}\nsearchers: [random]\n", "budget"),
]


def test_table_problem_without_its_table_is_unavailable_and_names_the_command(tmp_path):
    text = ("suite: s\nversion: 1\nproblems:\n  - {name: a, version: 1, env: Scratchpad-v0, workload: resnet18,"
            " objective: latency_ns, table: missing.json}\nsearchers: [random]\n")
    p = parse_suite(text, source=str(tmp_path / "s.yaml")).problems[0]
    assert p.env_kwargs()["backend"] == str(tmp_path / "missing.json")
    assert p.env_kwargs(portable=True)["backend"] == "missing.json"
    why = p.unavailable()
    assert "missing.json" in why and "archgym proxy table Scratchpad-v0 --workload resnet18" in why
    with pytest.raises(SuiteError, match="needs its table"):
        p.make_env()


@pytest.mark.parametrize("text,needle", BAD_SUITES)
def test_bad_suite_is_one_line(text, needle):
    with pytest.raises(SuiteError) as e:
        parse_suite(text, source="bad.yaml")
    msg = str(e.value)
    assert "\n" not in msg and needle in msg and msg.startswith("bad.yaml")


@pytest.mark.parametrize("args,needle", [
    (["bench"], "choose a command"),
    (["bench", "run", "--problems", "nope"], "unknown problem 'nope'"),
    (["bench", "run", "--searchers", "nope"], "unknown searcher 'nope'"),
    (["bench", "run", "--seeds", "0"], ">= 1"),
    (["bench", "run", "--trace-dir", "/no/such/dir"], "no such folder"),
    (["bench", "frobnicate"], "invalid choice"),
    (["leaderboard", "--budgets", "ten"], "--budgets"),
    (["leaderboard", "/no/such/runs.csv"], "no such file"),
    (["bench", "run", "--suite", "/no/such/suite.yaml"], "suite file '/no/such/suite.yaml': no such file"),
    (["bench", "run", "--seed", "1,1"], "--seed"),
    (["bench", "run", "--seed", "2", "--seeds", "3"], "not allowed with"),
    (["leaderboard", "--best-known", "/no/such.json"], "no such file"),
])
def test_bad_cli_input_is_one_line_exit_2(args, needle, capsys):
    try:
        code = cli_main(args)
    except SystemExit as exc:  # argparse's own errors exit from inside the parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_bench_run_from_scratch_computes_references_first(tmp_path, capsys, toy_registered):
    """`bench run --reference`: one command from an empty best-known file to a scored leaderboard,
    here on a toy problem whose optimum is known (cost 0 at x=7, y=8, mode a)."""
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        "suite: toy-bench\nversion: 1\nbudgets: [5, 10]\nseeds: 2\nbest_known: best.json\n"
        "problems:\n  - {name: toy, version: 1, env: Toy-v0, objective: cost, reference: enumerate}\n"
        "searchers: [random, ga]\n")
    args = ["bench", "run", "--suite", str(suite_file), "--reference", "--executor", "inline", "--quiet",
            "--out", str(tmp_path / "out")]
    assert cli_main(args) == 0
    capsys.readouterr()
    assert not (tmp_path / "best.json").exists()  # the suite's own file is never written
    suite = load_suite(suite_file).with_best_known(tmp_path / "out" / "best_known.json")
    ref = suite.best_known()["toy@v1"]
    assert ref["best_config"] == {"x": 7, "y": 8, "mode": "a"} and ref["designs_evaluated"] == 21 * 7 * 3
    env = suite.problems[0].make_env().unwrapped
    assert ref["best"] == env.evaluate({"x": 7, "y": 8, "mode": "a"})[0]
    runs = L.read_runs(tmp_path / "out" / "bench_runs.csv")
    assert len(runs) == 4 and not L.check_regret(runs, suite.best_known())


def test_sweeps_of_a_table_problem_answer_from_its_table(suite, tmp_path):
    """The runs see exactly the problem's env: options and the table backend reach every trial."""
    p = suite.problem("scratchpad-resnet18")
    spec = suite.sweep_specs([p], [suite.searcher("random")], [0])[0]
    assert spec.raw["environments"][0]["kwargs"] == {"backend": p.table}
    assert all(t.env_kwargs["backend"] == p.table for t in spec.trials())
    arch = suite.problem("archsearch-resnet20")
    assert suite.sweep_specs([arch], [suite.searcher("random")], [0])[0].raw["environments"][0]["kwargs"] == \
        {"mapper_budget": 20}
    assert cli_main(["bench", "run", "--problems", "scratchpad-resnet18", "--searchers", "random", "--seeds", "1",
                     "--max-budget", "5", "--executor", "inline", "--quiet", "--out", str(tmp_path)]) == 0
    runs = L.read_runs(tmp_path / "bench_runs.csv")
    assert list(runs["problem"]) == ["scratchpad-resnet18@v4"] and runs["simulator_s"].iloc[0] < 0.5


def test_lottery_table_from_a_store(tmp_path, toy_registered):
    """rl_tuning.lottery_table: one row per (agent, setting), means of each trial's best reward."""
    import sys

    sys.path.insert(0, str(STUDIES))  # a study script, outside the installed package
    from rl_tuning import lottery_table, main as lottery_main

    from archgym.experiments.sweep.runner import run_sweep
    from archgym.store import Store

    spec = tmp_path / "lottery.yaml"
    spec.write_text("study: lot\nbudget: 6\nseeds: 2\nenvironments:\n  - id: Toy-v0\n    objectives: [cost]\n"
                    "searchers:\n  - agent: random\n  - agent: ga\n    hyperparameters:\n"
                    "      population_size: [4, 6]\n")
    store = tmp_path / "lot.db"
    assert run_sweep(spec, store=store, executor="inline", progress=False)["complete"] == 6
    table = lottery_table(store)
    assert len(table) == 3 and set(table["seeds"]) == {2} and list(table.columns)[3:5] == [
        "mean_best_reward@100", "mean_best_reward@6"]
    with Store(str(store)) as db:
        ev = db.evaluations()
    best = ev.groupby("trial_id")["reward"].max()
    rand = ev[ev["agent"] == "random"]["trial_id"].unique()
    assert table.loc[table["agent"] == "random", "mean_best_reward@6"].item() == pytest.approx(best[rand].mean())
    out = tmp_path / "lottery.csv"
    pd.DataFrame([{"agent": "ppo", "setting": "{}", "seeds": 3}]).to_csv(out, index=False)
    assert lottery_main([str(store), "--out", str(out)]) == 0
    assert sorted(pd.read_csv(out)["agent"]) == ["ga", "ga", "ppo", "random"]  # other agents' rows kept

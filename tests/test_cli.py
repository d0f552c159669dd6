"""The archgym CLI, through a subprocess: commands, JSON output, one-line errors with exit 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run([sys.executable, "-m", "archgym.cli", "--import", "toy_register", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_list_and_info():
    out = cli("list")
    assert out.returncode == 0, out.stderr
    assert "archgym/Toy-v0" in out.stdout and "random:" in out.stdout
    out = cli("info", "Toy-v0")
    assert out.returncode == 0, out.stderr
    assert "x" in out.stdout and "integers 0..20" in out.stdout and "cost" in out.stdout
    assert "lower is better" in out.stdout
    info = json.loads(cli("info", "toy", "--json").stdout)
    assert info["space_size"] == 21 * 7 * 3


def test_evaluate_one_and_batch(tmp_path):
    out = cli("evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, "mode": "a"}', "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"cost": 0.0, "area": 10.0, "feasible": True, "reason": "", "in_space": True}
    f = tmp_path / "designs.jsonl"
    f.write_text('{"x": 7, "y": 8, "mode": "a"}\n{"x": 20, "y": 8, "mode": "a"}\n')
    out = cli("evaluate", "Toy-v0", "--config", str(f), "--json")
    rows = json.loads(out.stdout)
    assert [r["feasible"] for r in rows] == [True, False] and rows[1]["cost"] is None
    out = cli("evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, "mode": "a"}')
    assert "cost" in out.stdout and "units" in out.stdout


def test_run_records_to_store(tmp_path):
    db = tmp_path / "r.db"
    out = cli("run", "Toy-v0", "--agent", "random", "--budget", "12", "--seed", "3", "--store", str(db), "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["evaluations"] == 12 and len(res["trajectory"]) == 12
    out2 = cli("run", "Toy-v0", "--agent", "random", "--budget", "12", "--seed", "3", "--json")
    assert json.loads(out2.stdout)["best_reward"] == res["best_reward"]
    from archgym.store import Store

    with Store(db) as st:
        assert len(st.evaluations()) == 12


@pytest.mark.parametrize("args, needle", [
    (("info", "NoSuchEnv-v0"), "unknown environment 'NoSuchEnv-v0'"),
    (("evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, "mode": "a", "z": 1}'), "unknown parameter 'z'"),
    (("evaluate", "Toy-v0", "--config", '{"x": 99, "y": 8, "mode": "a"}'), "parameter 'x': value 99"),
    (("evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, '), "neither a file nor valid JSON"),
    (("evaluate", "Toy-v0", "--config", "[1, 2]"), "must be a JSON object"),
    (("run", "Toy-v0", "--agent", "nope", "--budget", "3"), "unknown agent 'nope'"),
    (("run", "Toy-v0", "--agent", "random", "--budget", "0"), "--budget must be an integer >= 1"),
    (("run", "Toy-v0", "--agent", "random", "--budget", "3", "--set", "lr=1"), "unknown hyperparameter 'lr'"),
    (("run", "Toy-v0", "--agent", "random", "--budget", "3", "--objective", "speed"), "unknown metric 'speed'"),
    (("evaluate", "Toy-v0", "--config", '{"x": 7, "y": 8, "mode": "a"}', "--per-layer"), "no per-component"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    out = cli(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archgym: error:"), out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr

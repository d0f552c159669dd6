"""Registry: ids, lookups, errors, and a real plugin installed through its entry point."""
import subprocess
import sys
from pathlib import Path

import gymnasium
import pytest

import archgym
from archgym.registry import RegistryError, resolve_id

PLUGIN = Path(__file__).parent / "plugin_pkg"


def test_register_makes_gym_id_and_bare_simulator(toy_registered):
    assert "Toy-v0" in archgym.list_envs()
    assert "archgym/Toy-v0" in gymnasium.registry
    sim = archgym.make_simulator("toy", offset=1.0)
    assert sim.evaluate({"x": 7, "y": 8, "mode": "a"})["cost"] == 1.0
    df = sim.evaluate_batch([{"x": 7, "y": 8, "mode": "a"}, {"x": 19, "y": 8, "mode": "a"}])
    assert df.columns.tolist() == ["x", "y", "mode", "cost", "area", "feasible", "reason"]
    assert df["feasible"].tolist() == [True, False]
    assert "too hot" in df["reason"][1]


def test_resolve_id_forms(toy_registered):
    assert resolve_id("archgym/Toy-v0") == "Toy-v0"
    assert resolve_id("TOY") == "Toy-v0"
    with pytest.raises(RegistryError, match="unknown environment 'Nope'.*known:"):
        resolve_id("Nope")


def test_duplicate_registration_rejected(toy_registered):
    from archgym.testing import ToySimulator

    with pytest.raises(ValueError, match="already registered"):
        archgym.register("Toy-v0", ToySimulator)
    with pytest.raises(ValueError, match="must not contain"):
        archgym.register("me/Toy-v1", ToySimulator)


def test_unknown_agent():
    with pytest.raises(RegistryError, match="unknown agent 'nope'"):
        archgym.make_agent("nope")
    assert "random" in archgym.list_agents()


def test_plugin_through_entry_point(tmp_path):
    """pip-install a tiny plugin package; its env works through gymnasium.make
    after `import archgym`, in a fresh interpreter, with no registration call."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(PLUGIN)], check=True, capture_output=True)
    code = (
        "import archgym, gymnasium\n"
        "env = gymnasium.make('archgym/Bowl-v0', center=2)\n"
        "env.reset(seed=0)\n"
        "_, r, *_, info = env.step(env.unwrapped.space.encode({'a': 2, 'b': 2}))\n"
        "print(info['metrics']['loss'], r, 'Bowl-v0' in archgym.list_envs())\n"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.0", "1.0", "True"]


@pytest.mark.parametrize("first", ["archgym", "gymnasium"])
def test_gym_ids_registered_whichever_is_imported_first(first):
    """`import archgym` alone does not load gymnasium (CLI start-up time), yet every
    simulator id is a Gymnasium id as soon as gymnasium is imported, in either order."""
    second = "gymnasium" if first == "archgym" else "archgym"
    code = (f"import sys, {first}\n"
            "loaded = 'gymnasium' in sys.modules\n"
            f"import {second}, gymnasium\n"
            "print(loaded, 'archgym/DRAM-v0' in gymnasium.registry)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(first == "gymnasium"), "True"]

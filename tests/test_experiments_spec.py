"""Sweep specs: validation messages (with YAML line numbers) and deterministic expansion."""
from __future__ import annotations

import pytest

from archgym.experiments.sweep import prepare
from archgym.experiments.sweep.spec import SpecError, load_spec
from archgym.experiments.sweep.spec import parse_spec as parse_shape
from archgym.trial import Trial
from test_experiments_plugin import HEADER, write_spec, restore_registry  # noqa: F401


def parse_spec(text: str, source: str):
    """The spec as a sweep uses it: shape, plugins, names resolved, problems built."""
    return prepare(parse_shape(text, source=source))

GOOD = HEADER + """\
study: s
budget: 10
seeds: 2
environments:
  - id: Toy-v0
    objectives: ["cost", "pareto:cost,area"]
searchers:
  - agent: random
  - agent: hill
    hyperparameters:
      radius: [1, 3]
      restart: 0.2
"""
HEADER_LINES = HEADER.count("\n")


def error_of(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="s.yaml")
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_good_spec_expands_to_the_product():
    spec = parse_spec(GOOD, source="s.yaml")
    trials = spec.trials()
    assert len(trials) == 2 * (1 + 2) * 2  # objectives x (random + 2 hill settings) x seeds
    assert {t.agent for t in trials} == {"random", "hill"}
    assert all(t.budget == 10 for t in trials)
    hill = [t for t in trials if t.agent == "hill"]
    assert {t.hyperparameters["radius"] for t in hill} == {1, 3}
    assert all(t.hyperparameters["restart"] == 0.2 for t in hill)


def test_expansion_is_deterministic_and_ids_are_content_hashes():
    a = [t.key for t in parse_spec(GOOD, source="s.yaml").trials()]
    b = [t.key for t in parse_spec(GOOD, source="s.yaml").trials()]
    assert a == b and len(set(a)) == len(a)
    t = parse_spec(GOOD, source="s.yaml").trials()[0]
    assert t == Trial.create(t.env_id, t.env_kwargs, t.agent, t.hyperparameters, t.seed, t.budget)
    # adding a seed keeps every existing id
    more = [t.key for t in parse_spec(GOOD.replace("seeds: 2", "seeds: 3"), source="s.yaml").trials()]
    assert set(a) < set(more)


def test_sampled_hyperparameters_are_reproducible_and_in_range():
    text = GOOD.replace("""    hyperparameters:
      radius: [1, 3]
      restart: 0.2
""", """    sample: 5
    sample_seed: 3
""")
    s1 = parse_spec(text, source="s.yaml").searchers[1].settings
    s2 = parse_spec(text, source="s.yaml").searchers[1].settings
    assert s1 == s2 and len(s1) == 5
    assert all(1 <= s["radius"] <= 5 and 0.0 <= s["restart"] <= 1.0 for s in s1)
    only = parse_spec(text.replace("    sample_seed: 3\n", "    sample_params: [restart]\n    hyperparameters: {radius: [1, 2]}\n"),
                      source="s.yaml").searchers[1].settings
    assert len(only) == 2 * 5 and {s["radius"] for s in only} == {1, 2}


@pytest.mark.parametrize("old,new,line,words", [
    ("budget: 10\n", "budget: 10\nbugdet: 3\n", 3, ["bugdet", "unknown key", "allowed"]),
    ("budget: 10\n", "budget: ten\n", 2, ["budget", "integer", "'ten'"]),
    ("seeds: 2\n", "seeds: 0\n", 3, ["seeds", ">= 1"]),
    ("  - agent: random\n", "  - agent: randm\n", 8, ["searchers[0].agent", "unknown agent 'randm'"]),
    ("      radius: [1, 3]\n", "      radius: [1, 30]\n", 11, ["radius", "outside the allowed range"]),
    ("      restart: 0.2\n", "      restart: 0.2\n      colour: red\n", 13, ["colour", "unknown key"]),
    ("  - id: Toy-v0\n", "  - id: Nope-v0\n", 5, ["environments[0].id", "unknown environment"]),
    ('"pareto:cost,area"', '"pareto:cost,watts"', 6, ["objectives", "unknown metric 'watts'"]),
    ("seeds: 2\n", "seeds: {a: 1}\n", 3, ["seeds", "expected an integer"]),
    ("study: s\n", "study: [s]\n", 1, ["study", "expected a non-empty string"]),
])
def test_validation_errors_name_key_and_line(old, new, line, words):
    assert old in GOOD
    msg = error_of(GOOD.replace(old, new, 1))
    assert msg.startswith(f"s.yaml:{HEADER_LINES + line}:"), msg
    for w in words:
        assert w in msg, msg


def test_missing_key_and_bad_yaml():
    assert "missing required key 'budget'" in error_of(GOOD.replace("budget: 10\n", ""))
    msg = error_of(GOOD.replace("seeds: 2", "seeds: [2"))
    assert msg.startswith("s.yaml:") and "invalid YAML" in msg


def test_store_path_defaults_next_to_the_spec(tmp_path):
    spec = load_spec(write_spec(tmp_path, GOOD[len(HEADER):], name="mine.yaml"))
    assert spec.store_path() == str(tmp_path / "mine.db")
    spec = load_spec(write_spec(tmp_path, "store: out/x.db\n" + GOOD[len(HEADER):], name="other.yaml"))
    assert spec.store_path() == str(tmp_path / "out" / "x.db")


def test_parsing_imports_nothing_and_plugins_load_as_an_explicit_step(tmp_path):
    """Reading a spec checks its shape only; its plugins load in prepare()."""
    import sys

    (tmp_path / "never_imported_plugin.py").write_text("raise RuntimeError('imported while parsing')\n")
    text = f"pythonpath: [{tmp_path}]\nimports: [never_imported_plugin]\n" + GOOD[len(HEADER):]
    spec = parse_shape(text, source="s.yaml")  # no import, no registry lookup
    assert "never_imported_plugin" not in sys.modules and spec.environments == []
    with pytest.raises(SpecError, match="cannot load plugins: .*RuntimeError: imported while parsing"):
        prepare(spec)


def test_an_in_memory_spec_runs_like_a_file(tmp_path, toy_registered):
    from archgym.experiments.sweep import SweepSpec, run_sweep

    spec = SweepSpec.from_dict({"study": "mem", "budget": 4, "seeds": [0, 1],
                                "environments": [{"id": "Toy-v0"}], "searchers": [{"agent": "random"}]})
    out = run_sweep(spec, store=tmp_path / "m.db", executor="inline", progress=False)
    assert out["completed"] == 2 and out["failed"] == 0
    with pytest.raises(SpecError, match=r"<spec>: budget: must be >= 1"):
        SweepSpec.from_dict({"study": "x", "budget": 0, "environments": ["Toy-v0"], "searchers": ["random"]})

"""Objectives: bounded, sign-consistent rewards; explicit infeasibility; ArchGym compat."""
import math

import pytest

from archgym.objective import (ArchGymCompatObjective, ObjectiveError, ParetoObjective, WeightedObjective,
                               make_objective)
from archgym.simulator import Metric

METRICS = [Metric("cycles", "cycles", True), Metric("energy_pj", "pJ", True), Metric("utilization", "fraction", False)]
REF = {"cycles": 1000.0, "energy_pj": 50.0, "utilization": 0.5}


def bound(spec):
    return make_objective(spec).bind(METRICS, REF)


def res(**kw):
    return {"cycles": 1000.0, "energy_pj": 50.0, "utilization": 0.5, "feasible": True, "reason": "", **kw}


def test_target_free_score_is_half_at_reference_and_monotone():
    o = bound("cycles")
    assert o.reward(res()) == pytest.approx(0.5)
    assert o.reward(res(cycles=500)) == pytest.approx(1000 / 1500)
    assert o.reward(res(cycles=0)) == 1.0
    assert o.reward(res(cycles=2000)) < o.reward(res(cycles=1999))
    # higher-is-better metric mirrors
    u = bound("utilization")
    assert u.reward(res(utilization=0.5)) == pytest.approx(0.5)
    assert u.reward(res(utilization=1.0)) > u.reward(res(utilization=0.9))


def test_targets_saturate_at_one():
    o = bound("cycles<=800")
    assert o.reward(res(cycles=800)) == 1.0
    assert o.reward(res(cycles=100)) == 1.0
    assert o.reward(res(cycles=1600)) == pytest.approx(0.5)
    o = bound("utilization>=0.8")
    assert o.reward(res(utilization=0.4)) == pytest.approx(0.5)
    assert o.reward(res(utilization=0.9)) == 1.0


def test_weighted_mean_and_parsing_forms():
    o = bound("3*cycles + 1*energy_pj")
    assert o.reward(res(cycles=0)) == pytest.approx((3 * 1 + 0.5) / 4)
    o2 = bound({"kind": "weighted", "terms": [{"metric": "cycles", "weight": 3}, {"metric": "energy_pj"}]})
    assert o2.reward(res(cycles=0)) == pytest.approx(o.reward(res(cycles=0)))
    o3 = bound("cycles<=1e+3, energy_pj")
    assert o3.terms[0].target == 1000.0


def test_infeasible_is_explicit_and_below_every_feasible_reward():
    o = bound("cycles, energy_pj")
    assert o.reward({"feasible": False, "reason": "x", "cycles": math.nan, "energy_pj": math.nan}) == -1.0
    assert o.reward(res(cycles=1e30, energy_pj=1e30)) >= 0.0
    with pytest.raises(ObjectiveError):
        WeightedObjective(o.terms, infeasible_reward=0.5)


def test_pareto_vector():
    o = bound("pareto:cycles,energy_pj")
    assert isinstance(o, ParetoObjective) and o.n_objectives == 2
    v = o.vector(res(cycles=0, energy_pj=50))
    assert v.tolist() == pytest.approx([1.0, 0.5])
    assert o.vector({"feasible": False}).tolist() == [-1.0, -1.0]
    assert o.reward(res()) == pytest.approx(0.5)


def test_archgym_compat_reproduces_published_formula():
    # ArchGym DRAMEnv: reward = target/|x - target| per metric, product for "both"
    o = bound("archgym:energy_pj=40,cycles=900")
    assert isinstance(o, ArchGymCompatObjective)
    assert o.reward(res(energy_pj=50, cycles=1000)) == pytest.approx((40 / 10) * (900 / 100))
    assert o.reward(res(energy_pj=30, cycles=900)) == o.cap  # exact hit is capped, not inf
    assert o.reward_range[1] == math.inf  # documented as unbounded
    single = bound({"kind": "archgym_compat", "targets": {"cycles": 500}})
    assert single.reward(res(cycles=1000)) == pytest.approx(1.0)


@pytest.mark.parametrize("spec, msg", [
    ("latency", "unknown metric 'latency'"),
    ("cycles<=abc", "cannot parse objective term"),
    ("pareto2:cycles", "unknown objective kind"),
    ({"kind": "weighted"}, "no 'terms'"),
    ({"terms": [{"metric": "cycles", "weight": -1}]}, "positive"),
    ("archgym:cycles", "metric=target"),
])
def test_bad_specs(spec, msg):
    with pytest.raises(ObjectiveError, match=msg):
        bound(spec)


# --------------------------------------------------------------------------- the grammar (module docstring)
@pytest.mark.parametrize("spec, terms", [
    ("cycles", [("cycles", None, 1.0)]),
    ("  2.5 * cycles<=1e+3 ,energy_pj", [("cycles", 1000.0, 2.5), ("energy_pj", None, 1.0)]),
    ("0.7*cycles + 0.3*energy_pj", [("cycles", None, 0.7), ("energy_pj", None, 0.3)]),
    ("utilization>=.5+cycles", [("utilization", 0.5, 1.0), ("cycles", None, 1.0)]),
    ("pareto: cycles , energy_pj", [("cycles", None, 1.0), ("energy_pj", None, 1.0)]),
])
def test_grammar_accepts(spec, terms):
    o = bound(spec)
    assert [(t.metric, t.target, t.weight) for t in o.terms] == terms


@pytest.mark.parametrize("spec, msg", [
    ("cycles + ", r"character 8: empty term.*found '\+'"),
    ("cycles,,energy_pj", r"character 8: empty term"),
    (",cycles", r"character 1: empty term"),
    ("cycles energy_pj", r"character 8: expected ',' or '\+' between terms"),
    ("2 cycles", r"character 1: expected 'weight\*metric'"),
    ("cycles<=", r"character 9: expected a number after '<='"),
    ("pareto:cycles,,energy_pj", r"character 15: empty term"),
    ("cycles, 3*cycles", r"'cycles' appears twice"),
    ("pareto:cycles", r"at least two metrics"),
    ("cycles<=-5", r"positive finite number.*-5"),
    ("utilization>=0", r"positive finite number"),
    ("cycles>=10", r"'cycles' is lower-is-better; write cycles<=target"),
    ("utilization<=0.5", r"'utilization' is higher-is-better; write utilization>=target"),
    ("archgym:cycles=1,cycles=2", r"'cycles' appears twice"),
    ({"terms": [{"metric": "utilization", "lower_is_better": True}]}, r"contradicts the metric"),
])
def test_grammar_rejects_with_position_or_metric(spec, msg):
    with pytest.raises(ObjectiveError, match=msg):
        bound(spec)


def test_ge_target_on_a_higher_is_better_metric_keeps_its_direction():
    o = bound("utilization>=0.8")
    assert o.terms[0].lower_is_better is False
    assert o.reward(res(utilization=0.2)) < o.reward(res(utilization=0.4)) < o.reward(res(utilization=0.8)) == 1.0

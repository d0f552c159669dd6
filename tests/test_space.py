"""Design spaces: validation, the canonical encoding, sampling, Gymnasium views."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.space import (Categorical, Constraint, ConstraintViolation, DesignSpace, Integer, InvalidConfigError,
                           Ordinal, powers_of_two)


def small_space():
    return DesignSpace([
        powers_of_two("rows", 4, 256),
        Categorical("dataflow", ["os", "ws", "is"]),
        Integer("depth", 1, 9, step=2),
        Ordinal("bw", [0.5, 1, 2.5]),
    ])


def test_values_size_and_nvec():
    s = small_space()
    assert s["rows"].values == (4, 8, 16, 32, 64, 128, 256)
    assert list(s["depth"].values) == [1, 3, 5, 7, 9]
    assert s.nvec.tolist() == [7, 3, 5, 3]
    assert s.size == 7 * 3 * 5 * 3
    assert s.names == ["rows", "dataflow", "depth", "bw"]


def test_validate_canonicalizes_and_encodes():
    s = small_space()
    cfg = s.validate({"rows": 16.0, "dataflow": "ws", "depth": 5, "bw": 2.5})
    assert cfg == {"rows": 16, "dataflow": "ws", "depth": 5, "bw": 2.5}
    assert isinstance(cfg["rows"], int)
    assert s.encode(cfg).tolist() == [2, 1, 2, 2]
    assert s.decode([2, 1, 2, 2]) == cfg


@pytest.mark.parametrize("cfg, words", [
    ({"rows": 12, "dataflow": "os", "depth": 1, "bw": 1}, ["'rows'", "12", "{4, 8, 16"]),
    ({"rows": "16", "dataflow": "os", "depth": 1, "bw": 1}, ["'rows'", "'16'", "a string, not a number"]),
    ({"rows": 16, "dataflow": "os", "depth": "5", "bw": 1}, ["'depth'", "'5'", "a string, not a number"]),
    ({"rows": 16, "dataflow": "os", "depth": 5, "bw": "2.5"}, ["'bw'", "'2.5'", "a string, not a number"]),
    ({"rows": 4, "dataflow": "xs", "depth": 1, "bw": 1}, ["'dataflow'", "'xs'", "'os', 'ws', 'is'"]),
    ({"rows": 4, "dataflow": "os", "depth": 2, "bw": 1}, ["'depth'", "2", "integers 1..9 step 2"]),
    ({"rows": 4, "dataflow": "os", "depth": 1, "bw": 1, "extra": 3}, ["unknown parameter 'extra'", "rows"]),
    ({"rows": 4, "dataflow": "os", "depth": 1}, ["missing parameter 'bw'"]),
    ({"rows": True, "dataflow": "os", "depth": 1, "bw": 1}, ["'rows'", "True"]),
    ({"rows": 4.5, "dataflow": "os", "depth": 1, "bw": 1}, ["'rows'", "4.5"]),
])
def test_bad_values_name_parameter_value_and_allowed(cfg, words):
    with pytest.raises(InvalidConfigError) as e:
        small_space().validate(cfg)
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg
    assert isinstance(e.value, ValueError)


def test_constraints():
    s = DesignSpace([powers_of_two("r", 4, 64), powers_of_two("c", 4, 64)],
                    [Constraint("r * c <= 1024", lambda d: d["r"] * d["c"] <= 1024)])
    with pytest.raises(ConstraintViolation, match="r \\* c <= 1024"):
        s.validate({"r": 64, "c": 64})
    x = s.sample_indices(0, n=200)
    assert all(s.decode(i)["r"] * s.decode(i)["c"] <= 1024 for i in x)


def test_grid_keys_and_constrained_grid():
    s = DesignSpace([powers_of_two("r", 4, 64), powers_of_two("c", 4, 64), Categorical("m", ["a", "b", "c"])],
                    [Constraint("r * c <= 1024", lambda d: d["r"] * d["c"] <= 1024)])
    grid = s.grid_indices()
    assert np.array_equal(grid @ s.key_strides(), np.arange(s.size))  # the key is the row, last parameter fastest
    kept = s.grid_indices(constrained=True)
    brute = [row for row in grid if s.decode(row)["r"] * s.decode(row)["c"] <= 1024]
    assert np.array_equal(kept, np.array(brute)) and len(kept) < len(grid)


def test_gym_views():
    s = small_space()
    md = s.to_multidiscrete()
    assert md.nvec.tolist() == [7, 3, 5, 3]
    box = s.to_box()
    assert box.shape == (4,) and box.low.min() == 0 and box.high.max() == 1
    d = s.to_dict_space()
    assert d["dataflow"].n == 3
    assert s.from_dict_action({"rows": 1, "dataflow": 2, "depth": 0, "bw": 0})["dataflow"] == "is"
    # the relaxation's bins partition [0, 1] equally and invert to the index
    assert s.unit_to_indices([0.0, 0.999, 1.0, 0.5]).tolist() == [0, 2, 4, 1]
    idx = np.array([3, 1, 4, 2])
    assert s.unit_to_indices(s.indices_to_unit(idx)).tolist() == idx.tolist()


def test_sampling_is_seeded_and_in_space():
    s = small_space()
    assert s.sample(7) == s.sample(7)
    a = s.sample_indices(3, n=1000)
    assert (a >= 0).all() and (a < s.nvec).all()
    # every value of every parameter shows up
    for j, n in enumerate(s.nvec):
        assert set(a[:, j]) == set(range(n))


def test_grid_enumerates_product():
    s = small_space()
    g = s.grid_indices()
    assert g.shape == (s.size, 4)
    assert len({tuple(r) for r in g}) == s.size


def test_bad_declarations():
    with pytest.raises(ValueError):
        powers_of_two("x", 3, 64)
    with pytest.raises(ValueError):
        Ordinal("x", [1, 1, 2])
    with pytest.raises(ValueError):
        DesignSpace([Integer("a", 0, 3), Integer("a", 0, 3)])


# ---------------------------------------------------------------- properties
@st.composite
def spaces(draw):
    params = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["cat", "int", "ord", "p2"]))
        name = f"p{i}"
        if kind == "cat":
            k = draw(st.integers(1, 5))
            params.append(Categorical(name, [f"v{j}" for j in range(k)]))
        elif kind == "int":
            lo = draw(st.integers(-50, 50))
            params.append(Integer(name, lo, lo + draw(st.integers(0, 40)), step=draw(st.integers(1, 4))))
        elif kind == "ord":
            vals = sorted(set(draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6))))
            params.append(Ordinal(name, vals))
        else:
            lo = 2 ** draw(st.integers(0, 5))
            params.append(powers_of_two(name, lo, lo * 2 ** draw(st.integers(0, 6))))
    return DesignSpace(params)


@settings(max_examples=150, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_encode_decode_round_trip(space, seed):
    for idx in space.sample_indices(seed, n=5):
        cfg = space.decode(idx)
        assert space.encode(cfg).tolist() == idx.tolist()
        assert space.validate(cfg) == cfg
        assert space.contains(cfg)


@settings(max_examples=150, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1), st.data())
def test_validation_rejects_every_out_of_space_value(space, seed, data):
    cfg = space.sample(seed)
    p = data.draw(st.sampled_from(space.parameters))
    bad = data.draw(st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=4)))
    in_space = False
    try:
        p.index_of(bad)
        in_space = True
    except InvalidConfigError:
        pass
    allowed = list(p.values)
    if isinstance(bad, float) and not math.isnan(bad) and bad in allowed:
        assert in_space
    if not in_space:
        with pytest.raises(InvalidConfigError, match=repr(p.name)):
            space.validate({**cfg, p.name: bad})


@settings(max_examples=100, deadline=None)
@given(spaces(), st.integers(0, 2**32 - 1))
def test_sampling_stays_in_space(space, seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        assert space.contains(space.sample(rng))
    u = rng.random(len(space))
    assert space.contains(space.decode(space.unit_to_indices(u)))


# -- parameter groups -----------------------------------------------------------
def _grouped_space(groups=None):
    from archgym.space import Categorical, DesignSpace, Integer
    return DesignSpace([Integer("a", 0, 3), Integer("b", 0, 3), Categorical("c", ["x", "y"])], groups=groups)


def test_groups_default_is_one_per_parameter():
    space = _grouped_space()
    assert space.declared_groups is None
    assert space.groups == {"a": ["a"], "b": ["b"], "c": ["c"]}


def test_declared_groups_come_back_in_space_order_and_in_to_dict():
    space = _grouped_space({"hw": ["b", "a"], "sw": ["c"]})
    assert space.groups == {"hw": ["a", "b"], "sw": ["c"]}
    assert space.resolve_groups("parameters") == {"a": ["a"], "b": ["b"], "c": ["c"]}
    assert space.to_dict()["groups"] == {"hw": ["a", "b"], "sw": ["c"]}
    assert space.fingerprint() != _grouped_space().fingerprint()
    assert _grouped_space().fingerprint() == _grouped_space().fingerprint()


@pytest.mark.parametrize("groups, needle", [
    ({"g": ["a", "b"]}, "'c' is in no group"),
    ({"g": ["a", "b"], "h": ["b", "c"]}, "'b' is in two groups"),
    ({"g": ["a", "b", "c", "zz"]}, "unknown parameter 'zz'"),
    ({"g": ["a", "b", "c"], "h": []}, "group 'h' is empty"),
    ("everything", "groups must be a mapping"),
])
def test_bad_groups_raise_one_line_user_error(groups, needle):
    from archgym.errors import GroupsError, UserInputError
    space = _grouped_space()
    with pytest.raises(GroupsError) as err:
        space.resolve_groups(groups)
    assert isinstance(err.value, UserInputError)
    assert needle in str(err.value) and "\n" not in str(err.value)

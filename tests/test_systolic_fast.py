"""The compiled systolic kernel (simulators/systolic/fast.py) equals the numpy model bit for bit.

The numpy model is the one checked against SCALE-Sim (test_systolic_reference.py);
these tests pin the compiled transcription to it on random designs (inside and
outside the search space), every shipped and reference layer, both DRAM sharing
modes, and every broadcasting layout the kernel accepts.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.simulators.systolic import evaluate_arrays, layer_arrays
from archgym.simulators.systolic import fast
from archgym.simulators.workloads import Layer, list_networks, load_network

pytestmark = pytest.mark.skipif(not fast.available(), reason="numba is not importable")

ALL_LAYERS = [lay for n in list_networks() for lay in load_network(n)]
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "systolic" / "scalesim_reference.json"


def _assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in b:
        assert a[k].shape == b[k].shape, k
        assert np.array_equal(a[k], b[k]), (k, a[k], b[k])


def _random_designs(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Designs well beyond the search space too (odd shapes, tiny SRAMs, fractional bandwidth)."""
    return [rng.integers(1, 300, n).astype(float), rng.integers(1, 300, n).astype(float),
            rng.integers(0, 3, n).astype(np.int8), 2.0 ** rng.integers(-3, 14, n), 2.0 ** rng.integers(-3, 14, n),
            2.0 ** rng.integers(-3, 14, n), rng.choice([0.25, 1, 3, 16, 64], n).astype(float)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sharing=st.sampled_from(["shared", "per_operand"]),
       word_bytes=st.sampled_from([1, 2, 4]))
def test_flat_points_equal_numpy(seed, sharing, word_bytes):
    rng = np.random.default_rng(seed)
    n = 600
    d = _random_designs(rng, n)
    la = layer_arrays(ALL_LAYERS)
    pick = rng.integers(0, len(ALL_LAYERS), n)
    lay = {k: v[pick] for k, v in la.items()}
    kw = dict(sharing=sharing, word_bytes=word_bytes)
    _assert_same(evaluate_arrays(*d, lay, jit=True, **kw), evaluate_arrays(*d, lay, jit=False, **kw))


@pytest.mark.parametrize("network", list_networks())
def test_designs_by_layers_grid_equals_numpy(network):
    rng = np.random.default_rng(1)
    d = [x[:, None] for x in _random_designs(rng, 300)]
    lay = {k: v[None, :] for k, v in layer_arrays(load_network(network)).items()}
    _assert_same(evaluate_arrays(*d, lay, jit=True), evaluate_arrays(*d, lay, jit=False))


def test_scalesim_reference_layers_equal_numpy():
    if not REFERENCE.exists():
        pytest.skip(f"reference data not found at {REFERENCE}")
    ref = json.loads(REFERENCE.read_text())
    layers = []
    for spec in ref["layers"].values() if isinstance(ref["layers"], dict) else ref["layers"]:
        try:
            layers.append(Layer(**{k: v for k, v in spec.items() if k in Layer.__dataclass_fields__}))
        except TypeError:
            continue
    assert layers, "no layers parsed from the SCALE-Sim reference"
    rng = np.random.default_rng(2)
    d = [x[:, None] for x in _random_designs(rng, 200)]
    lay = {k: v[None, :] for k, v in layer_arrays(layers).items()}
    _assert_same(evaluate_arrays(*d, lay, jit=True), evaluate_arrays(*d, lay, jit=False))


def test_scalar_design_and_default_dispatch():
    lay = ALL_LAYERS[3]
    args = (32, 16, "ws", 64, 64, 32, 8)
    _assert_same(evaluate_arrays(*args, lay, jit=True), evaluate_arrays(*args, lay, jit=False))
    # small batches stay in numpy (no numba import for one design); large ones use the kernel
    rng = np.random.default_rng(3)
    d = _random_designs(rng, 5000)
    la = layer_arrays(ALL_LAYERS)
    lay_arr = {k: v[rng.integers(0, len(ALL_LAYERS), 5000)] for k, v in la.items()}
    _assert_same(evaluate_arrays(*d, lay_arr), evaluate_arrays(*d, lay_arr, jit=False))


def test_three_dimensional_inputs_fall_back_to_numpy():
    lay = {k: v[None, None, :] for k, v in layer_arrays(ALL_LAYERS[:4]).items()}
    out = evaluate_arrays(np.array([8.0, 16.0])[:, None, None], np.array([8.0, 32.0])[None, :, None], "os",
                          64, 64, 64, 16, lay)
    assert out["cycles"].shape == (2, 2, 4)
    with pytest.raises(RuntimeError, match="at most two dimensions"):
        evaluate_arrays(np.array([8.0, 16.0])[:, None, None], 8, "os", 64, 64, 64, 16, lay, jit=True)

"""Scratchpad workload graphs: JSON format, validation errors, network builders."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from test_scratchpad import dags

from archgym.simulators.scratchpad.graph import graph_from_dict, load_graph
from archgym.simulators.workloads.graphs import build_graph, graph_names


def _tiny() -> dict:
    return {"name": "tiny",
            "tensors": [{"name": "x", "bytes": 8, "kind": "input"}, {"name": "w", "bytes": 4, "kind": "weight"},
                        {"name": "a", "bytes": 8, "kind": "activation"},
                        {"name": "b", "bytes": 8, "kind": "activation"}],
            "ops": [{"name": "conv", "inputs": ["x", "w"], "outputs": ["a"], "macs": 10},
                    {"name": "relu", "inputs": ["a"], "outputs": ["b"], "macs": 8}]}


def test_round_trip_and_compulsory(tmp_path):
    g = graph_from_dict(_tiny())
    assert g.graph_outputs == ["b"]
    assert g.compulsory_bytes() == 8 + 4 + 8
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(g.to_dict()))
    assert load_graph(p).to_dict() == g.to_dict()


def _mutate(fn):
    d = _tiny()
    fn(d)
    return d


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["ops"][0]["inputs"].append("b"), "cycle through operator"),
    (lambda d: d["ops"].reverse(), "operator 'relu' consumes tensor 'a' before 'conv' produces it"),
    (lambda d: d["ops"][1]["inputs"].append("nope"), "operator 'relu' uses unknown tensor 'nope'"),
    (lambda d: d["tensors"][1].update(bytes=0), "tensor 'w': bytes must be a positive integer"),
    (lambda d: d["tensors"][2].update(bytes=-3), "tensor 'a': bytes must be a positive integer"),
    (lambda d: d["tensors"][2].update(kind="buffer"), "tensor 'a': kind 'buffer'"),
    (lambda d: d["tensors"].append({"name": "x", "bytes": 1, "kind": "input"}), "tensor 'x' is declared twice"),
    (lambda d: d["ops"][1]["outputs"].append("a"), "tensor 'a' is produced by both"),
    (lambda d: d["ops"][0].update(outputs=["w"]), "writes weight tensor 'w'"),
    (lambda d: d["ops"][0].update(macs=-1), "operator 'conv': macs"),
    (lambda d: d["ops"][0].update(inputs="x"), "operator 'conv': 'inputs' must be a list"),
    (lambda d: d["ops"][0].pop("outputs"), "operator 'conv': missing key 'outputs'"),
    (lambda d: d["tensors"][0].pop("bytes"), "tensor 'x': missing key 'bytes'"),
    (lambda d: d.update(layers=[]), "unknown workload key 'layers'"),
    (lambda d: d.update(ops={}), "'ops' must be a list"),
    (lambda d: d["ops"].pop(0), "activation 'a' is never produced"),
])
def test_bad_graphs_give_one_line_errors(mutate, message):
    with pytest.raises(ValueError) as exc:
        graph_from_dict(_mutate(mutate))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_json_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{\"name\": ")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_graph(p)
    p.write_text("[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        load_graph(p)


@pytest.mark.parametrize("name", graph_names())
def test_builders_make_valid_graphs_with_weights(name):
    g = build_graph(name)
    kinds = {t.kind for t in g.tensors.values()}
    assert kinds == {"weight", "input", "activation"}
    assert g.is_topological(g.default_order()) and g.graph_outputs
    assert all(o.macs > 0 for o in g.ops)
    assert build_graph(name, precision_bytes=2).compulsory_bytes() == 2 * g.compulsory_bytes()


def test_zero_copy_concat_in_branchy_graphs():
    for name in ("googlenet", "nas_cells"):
        g = build_graph(name)
        assert not any("concat" in o.name for o in g.ops)
        assert max(sum(g.tensors[t].kind == "activation" for t in o.inputs) for o in g.ops) >= 4


def test_unknown_builder():
    with pytest.raises(ValueError, match="unknown workload graph 'vgg'"):
        build_graph("vgg")


# -- memory-pressure transforms: batches, training, peak footprint ---------------------------------
def _chain():
    from archgym.simulators.scratchpad.graph import Graph, Op, Tensor

    ts = [Tensor("x", 8, "input"), Tensor("w1", 4, "weight"), Tensor("a", 16, "activation"),
          Tensor("b", 16, "activation"), Tensor("c", 2, "activation")]
    ops = [Op("conv", ("x", "w1"), ("a",), 100), Op("relu", ("a",), ("b",), 16), Op("add", ("a", "b"), ("c",), 16)]
    return Graph.build("chain", ts, ops)


def test_batched_shares_weights_and_runs_layer_major():
    from archgym.simulators.workloads.transforms import batched

    g = batched(_chain(), 3)
    assert [o.name for o in g.ops[:4]] == ["conv@0", "conv@1", "conv@2", "relu@0"]
    assert g.ops[1].inputs == ("x@1", "w1") and g.n_ops == 9
    assert g.compulsory_bytes() == 4 + 3 * (8 + 2)  # one weight, three inputs and outputs
    assert sum(o.macs for o in g.ops) == 3 * 132
    assert batched(_chain(), 1).to_dict() == _chain().to_dict()


def test_training_reads_saved_activations_and_accumulates_gradients():
    from archgym.simulators.workloads.transforms import training

    g = training(_chain())
    got = [(o.name, o.inputs, o.outputs, o.macs) for o in g.ops[3:]]
    assert got == [
        ("loss", ("c",), ("d.c",), 2),
        ("add.bwd", ("d.c", "a", "b"), ("d2.a", "d2.b"), 32),
        ("relu.bwd", ("d2.b", "a"), ("d1.a",), 32),
        ("conv.gacc", ("d2.a", "d1.a"), ("d.a",), 16),  # a feeds relu and add: two partial gradients
        ("conv.bwd", ("d.a", "x", "w1"), ("d0.w1",), 200),
    ]
    assert g.graph_outputs == ["d0.w1"]  # the loss consumes the prediction; the weight gradient is stored


def test_peak_live_bytes_against_a_literal_count():
    from archgym.simulators.workloads.transforms import peak_live_bytes

    for g in (_chain(), build_graph("nas_cells", cells=1), build_graph("inception_train")):
        order = g.default_order()
        steps = {x: [t for t, o in enumerate(order) if x in g.ops[o].tensors] for x in g.tensors}
        live = [sum(g.size(x) for x, s in steps.items() if s and s[0] <= t <= s[-1]) for t in range(g.n_ops)]
        assert peak_live_bytes(g) == max(live)
    assert peak_live_bytes(_chain()) == 16 + 16 + 2  # at 'add': a, b and c


@settings(max_examples=30, deadline=None)
@given(dags())
def test_peak_live_bytes_is_the_smallest_spill_free_capacity(case):
    """Fixed-order optimum: 0 at the peak footprint, > 0 one byte below it (when that fits)."""
    from archgym.simulators.scratchpad.ilp_fixed import solve_fixed_order
    from archgym.simulators.workloads.transforms import peak_live_bytes

    g, _ = case
    peak = peak_live_bytes(g)
    assert solve_fixed_order(g, peak).noncompulsory_bytes == 0
    if peak - 1 >= g.max_working_set()[0]:
        assert solve_fixed_order(g, peak - 1).noncompulsory_bytes > 0

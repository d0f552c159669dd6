"""ONNX models as workloads, on hand-built models (``onnx.helper``): the operators and their
layers (checked against onnx's own shape inference and brute-force counts), constant folding,
input shapes, stable names, the operator graph, and every bad input (one line naming it)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

from archgym.errors import UserInputError  # noqa: E402
from archgym.simulators.workloads import Layer, as_layers, from_onnx, select_layer  # noqa: E402
from archgym.simulators.workloads.lowering import _Lowering  # noqa: E402
from archgym.simulators.workloads.network import SkippedOperatorsWarning  # noqa: E402
from archgym.simulators.workloads.onnx_reader import OnnxModelError, parse_input_shapes, read_onnx  # noqa: E402
from archgym.simulators.workloads.opgraph import as_graph  # noqa: E402

from onnx_models import conv_model, load, model, small_cnn, weights, write  # noqa: E402


def onnx_output_shape(data: bytes, tensor: str = "y") -> list[int]:
    """The output shape by onnx's own shape inference (the independent reference)."""
    inferred = onnx.shape_inference.infer_shapes(load(data))
    vi = next(v for v in list(inferred.graph.output) + list(inferred.graph.value_info) if v.name == tensor)
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and isinstance(exc.value, UserInputError)
    return msg


# ----------------------------------------------------------------------------------------- convolutions
def test_plain_conv_matches_the_scalesim_form():
    data = conv_model([1, 3, 20, 22], [16, 3, 5, 3], pads=[2, 1, 2, 1], strides=[2, 2])
    (lay,) = from_onnx(data).layers
    oh, ow = onnx_output_shape(data)[2:]
    assert (lay.kind, lay.ifmap_h, lay.ifmap_w, lay.filt_h, lay.filt_w, lay.channels, lay.num_filters, lay.stride) \
        == ("conv", 24, 24, 5, 3, 3, 16, 2)
    assert (lay.ofmap_h, lay.ofmap_w) == (oh, ow)
    assert lay.macs == oh * ow * 5 * 3 * 3 * 16


@pytest.mark.parametrize("auto_pad, expect", [("SAME_UPPER", (16, 16)), ("SAME_LOWER", (16, 16)), ("VALID", (13, 13))])
def test_auto_pad(auto_pad, expect):
    data = conv_model([1, 2, 13, 13], [4, 2, 4, 4], auto_pad=auto_pad, strides=[1, 1])
    (lay,) = from_onnx(data).layers
    assert (lay.ifmap_h, lay.ifmap_w) == expect
    assert [lay.ofmap_h, lay.ofmap_w] == onnx_output_shape(data)[2:]


def test_grouped_conv_is_one_layer_per_group():
    data = conv_model([1, 8, 10, 10], [12, 2, 3, 3], group=4, pads=[1, 1, 1, 1])
    net = from_onnx(data)
    assert [lay.name for lay in net.layers] == ["conv[g0]", "conv[g1]", "conv[g2]", "conv[g3]"]
    assert all((lay.kind, lay.channels, lay.num_filters, lay.ifmap_h) == ("conv", 2, 3, 12) for lay in net.layers)
    assert net.macs == 10 * 10 * 3 * 3 * 2 * 12
    w = net.graph().tensors["conv.w"]
    assert w.bytes == 12 * 2 * 3 * 3 and w.kind == "weight"


def test_depthwise_conv_with_a_channel_multiplier():
    data = conv_model([1, 4, 8, 8], [8, 1, 3, 3], group=4, pads=[1, 1, 1, 1], strides=[2, 2])
    (lay,) = from_onnx(data).layers
    assert (lay.kind, lay.channels, lay.num_filters, lay.repeat, lay.K, lay.N) == ("dwconv", 4, 2, 4, 9, 2)
    oh, ow = onnx_output_shape(data)[2:]
    assert lay.macs == oh * ow * 9 * 8


def test_conv1d_is_a_one_row_conv():
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="c1d", pads=[1, 1], strides=[2])
    data = model([node], {"x": [1, 4, 33]}, ["y"], {"W": weights(6, 4, 3)})
    (lay,) = from_onnx(data).layers
    assert (lay.ifmap_h, lay.ifmap_w, lay.filt_h, lay.filt_w, lay.stride) == (1, 35, 1, 3, 2)
    assert lay.ofmap_w == onnx_output_shape(data)[2] and lay.M == 17


@pytest.mark.parametrize("dil, stride, pad, k", [(2, 1, 2, 3), (2, 2, 2, 3), (3, 2, 3, 3), (2, 3, 0, 2), (4, 1, 0, 3)])
def test_dilated_conv_is_exact(dil, stride, pad, k):
    data = conv_model([1, 3, 17, 19], [5, 3, k, k], dilations=[dil, dil], strides=[stride, stride],
                      pads=[pad] * 4)
    net = from_onnx(data)
    oh, ow = onnx_output_shape(data)[2:]
    assert net.macs == oh * ow * k * k * 3 * 5  # the dilated operator's MACs, no zeros counted
    assert sum(lay.M for lay in net.layers) == oh * ow
    assert all(lay.filt_h == k and lay.kind == "conv" for lay in net.layers)
    g = math.gcd(stride, dil)
    assert len(net.layers) == min(dil // g, oh) * min(dil // g, ow)
    assert net.graph().ops[0].macs == net.macs


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 40), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 5), p=st.integers(0, 4))
def test_dilation_phases_against_brute_force(h, k, s, d, p):
    padded = h + 2 * p
    if (k - 1) * d + 1 > padded:
        return
    out = (padded - (k - 1) * d - 1) // s + 1
    phases, sp = _Lowering._phases(padded, k, s, d, out)
    if d == 1:  # undilated: the padded input as SCALE-Sim takes it
        assert (phases, sp) == ([(padded, out)], s)
        return
    # brute force: output o reads rows o*s + i*d; outputs of one phase read one sub-grid of step d
    reads: dict[int, set[int]] = {}
    g = math.gcd(s, d)
    for o in range(out):
        reads.setdefault(o % (d // g), set()).update(o * s + i * d for i in range(k))
    assert len(phases) == len(reads)
    for (rows, n_p), (ph, rows_read) in zip(phases, sorted(reads.items())):
        assert n_p == len(range(ph, out, d // g))
        assert all((r - min(rows_read)) % d == 0 for r in rows_read)  # one sub-grid
        assert (max(rows_read) - min(rows_read)) // d + 1 == rows  # its extent is the layer's input
        assert (rows - k) // sp + 1 == n_p  # an undilated conv of stride s/g on it gives the phase's outputs
        assert max(rows_read) < padded


def test_batch_gives_one_layer_per_sample():
    net = from_onnx(conv_model([3, 2, 6, 6], [4, 2, 3, 3]))
    assert [lay.name for lay in net.layers] == ["conv[b0]", "conv[b1]", "conv[b2]"]
    assert net.macs == 3 * 4 * 4 * 9 * 2 * 4


def test_differing_strides_are_unsupported_unless_skipped():
    data = conv_model([1, 2, 9, 9], [2, 2, 3, 3], strides=[2, 1])
    with pytest.raises(OnnxModelError) as e:
        from_onnx(data)
    assert "'conv' (Conv)" in one_line(e) and "strides 2x1" in str(e.value)
    with pytest.warns(SkippedOperatorsWarning, match="conv"):
        net = from_onnx(data, onnx_unsupported="skip")
    assert net.skipped == ("conv (Conv)",) and not net.layers


# ----------------------------------------------------------------------------------------- matrix products
def _matmul(a_shape, b_shape, b_const=False, a_const=False, op="MatMul", **attrs):
    node = helper.make_node(op, ["A", "B"], ["y"], name="mm", **attrs)
    inputs = {k: v for k, v, c in (("A", a_shape, a_const), ("B", b_shape, b_const)) if not c}
    inits = {k: weights(*v) for k, v, c in (("A", a_shape, a_const), ("B", b_shape, b_const)) if c}
    return model([node], inputs, ["y"], inits)


def test_batched_matmul_of_two_activations_is_one_gemm_per_batch_element():
    net = from_onnx(_matmul([2, 4, 16, 8], [2, 4, 8, 32]))
    assert len(net.layers) == 8 and {(lay.M, lay.N, lay.K) for lay in net.layers} == {(16, 32, 8)}
    assert net.layers[3].name == "mm[3]" and net.macs == 2 * 4 * 16 * 32 * 8
    assert not [t for t in net.graph().tensors.values() if t.kind == "weight"]


def test_broadcast_batch_and_weight_folding():
    net = from_onnx(_matmul([3, 16, 8], [8, 32], b_const=True))  # activations x a 2-D weight: batch folds into M
    assert [(lay.M, lay.N, lay.K) for lay in net.layers] == [(48, 32, 8)]
    assert net.graph().tensors["mm.w"].bytes == 8 * 32
    net = from_onnx(_matmul([1, 16, 8], [5, 8, 4]))  # A broadcast over B's batch of 5
    assert [(lay.M, lay.N, lay.K) for lay in net.layers] == [(16, 4, 8)] * 5


def test_constant_left_operand_makes_the_activation_the_ifmap():
    net = from_onnx(_matmul([4, 8], [2, 8, 5], a_const=True))  # y[b] = W @ x[b]: y^T = x^T W^T
    assert [(lay.M, lay.N, lay.K) for lay in net.layers] == [(10, 4, 8)]
    assert onnx_output_shape(_matmul([4, 8], [2, 8, 5], a_const=True)) == [2, 4, 5]


def test_gemm_transposes():
    net = from_onnx(_matmul([8, 3], [5, 8], b_const=True, op="Gemm", transA=1, transB=1))
    assert [(lay.M, lay.N, lay.K) for lay in net.layers] == [(3, 5, 8)]


@pytest.mark.parametrize("eq, shapes, gemms", [
    ("bhid,bhjd->bhij", ([1, 2, 6, 4], [1, 2, 7, 4]), [(6, 7, 4)] * 2),
    ("ij,jk", ([6, 4], [4, 9]), [(6, 9, 4)]),
    ("...ik,kj->...ij", ([2, 3, 6, 4], [4, 9]), [(36, 9, 4)]),
    ("bqd,bkd->bqk", ([3, 5, 8], [3, 7, 8]), [(5, 7, 8)] * 3),
])
def test_einsum_contractions(eq, shapes, gemms):
    node = helper.make_node("Einsum", ["A", "B"], ["y"], name="es", equation=eq)
    data = model([node], {"A": shapes[0], "B": shapes[1]}, ["y"])
    net = from_onnx(data)
    assert [(lay.M, lay.N, lay.K) for lay in net.layers] == gemms
    assert net.macs == int(np.prod(onnx_output_shape(data))) * gemms[0][2]


@pytest.mark.parametrize("eq, n_in", [("ij,jk->i", 2), ("ii,ij->ij", 2), ("ij->ji", 1), ("ij,jk,kl->il", 3)])
def test_einsum_that_is_not_a_contraction_is_named(eq, n_in):
    node = helper.make_node("Einsum", ["A", "B", "C"][:n_in], ["y"], name="es", equation=eq)
    data = model([node], {k: [4, 4] for k in "ABC"[:n_in]}, ["y"])
    with pytest.raises(OnnxModelError) as e:
        from_onnx(data)
    assert "'es' (Einsum)" in one_line(e)


# ----------------------------------------------------------------------------------------- graph
def test_graph_rules_on_a_small_cnn():
    net = from_onnx(small_cnn())
    assert [lay.name for lay in net.layers] == ["conv1", "branch_a", "branch_b", "mix", "fc"]
    g = net.graph()
    # relu fused into conv1, concat zero-copy, flatten a view: 9 operators
    assert [o.name for o in g.ops] == ["conv1", "pool1", "branch_a", "branch_b", "mix", "residual", "gap", "fc",
                                       "softmax"]
    ops = {o.name: o for o in g.ops}
    assert ops["mix"].inputs == ("branch_a.out", "branch_b.out", "mix.w")  # reads both concat parts
    assert ops["residual"].inputs == ("mix.out", "branch_a.out", "branch_b.out")
    assert ops["conv1"].macs == 8 * 8 * 27 * 8 and ops["pool1"].macs == 4 * 4 * 8 * 4 and ops["gap"].macs == 128
    assert ops["fc"].inputs == ("gap.out", "fc.w") and g.tensors["fc.w"].bytes == 80  # no bias
    assert g.tensors["x"].kind == "input" and g.tensors["x"].bytes == 3 * 16 * 16
    assert g.graph_outputs == ["softmax.out"]
    g2 = net.graph(precision_bytes=2)
    assert all(g2.tensors[t].bytes == 2 * v.bytes for t, v in g.tensors.items())


def test_weight_tiles_follow_the_builtin_graphs():
    data = conv_model([1, 256, 8, 8], [512, 256, 3, 3], pads=[1, 1, 1, 1])  # 1.18 MB weight at 1 B: 5 tiles
    net = from_onnx(data)
    g = net.graph()
    assert [o.name for o in g.ops] == [f"conv/t{k}" for k in range(5)]
    assert sum(t.bytes for t in g.tensors.values() if t.kind == "weight") == 512 * 256 * 9
    assert sum(o.macs for o in g.ops) == net.macs
    assert net.graph_op_indices() == [[0, 1, 2, 3, 4]]


def test_unfused_activation_and_multi_output_ops_are_operators():
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),  # c is read twice: relu cannot fuse
             helper.make_node("Split", ["c", "sizes"], ["s0", "s1"], name="split", axis=1),
             helper.make_node("Add", ["s0", "r"], ["y"], name="add")]
    data = model(nodes, {"x": [1, 2, 4, 4]}, ["y", "s1"], {"W": weights(4, 2, 1, 1),
                                                           "sizes": np.array([1, 3], dtype=np.int64)})
    g = from_onnx(data).graph()
    assert [o.name for o in g.ops] == ["conv", "relu", "split", "add"]
    assert g.ops[2].outputs == ("split.out0", "split.out1")
    assert (g.tensors["split.out0"].bytes, g.tensors["split.out1"].bytes) == (16, 48)


# ----------------------------------------------------------------------------------------- folding, shapes
def test_shape_arithmetic_is_folded():
    nodes = [helper.make_node("Shape", ["x"], ["shp"], name="shape"),
             helper.make_node("Gather", ["shp", "zero"], ["n"], name="gather", axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], name="concat", axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape"),
             helper.make_node("MatMul", ["flat", "W"], ["y"], name="fc")]
    inits = {"zero": np.array(0, dtype=np.int64), "axes": np.array([0], dtype=np.int64),
             "minus1": np.array([-1], dtype=np.int64), "W": weights(48, 10)}
    data = model(nodes, {"x": ["N", 3, 4, 4]}, ["y"], inits)
    g = read_onnx(data, {"x": [2, 3, 4, 4]})
    assert [n.op_type for n in g.nodes] == ["Reshape", "MatMul"] and g.folded == 4
    assert g.shape("flat") == (2, 48)
    assert [(lay.M, lay.N, lay.K) for lay in from_onnx(data, "x=2x3x4x4").layers] == [(2, 10, 48)]


def test_constant_subgraph_on_weights_is_folded_shape_only():
    nodes = [helper.make_node("Transpose", ["Wt"], ["W"], name="wT", perm=[1, 0]),
             helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")]
    data = model(nodes, {"x": [4, 5000]}, ["y"], {"Wt": weights(3, 5000)})
    g = read_onnx(data)
    assert [n.name for n in g.nodes] == ["fc"] and g.constants["W"] is None and g.shape("W") == (5000, 3)
    assert from_onnx(data).graph().tensors["fc.w"].bytes == 15000


def test_nodes_out_of_order_are_sorted():
    m = load(small_cnn())
    nodes = list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes[::-1])
    net, ref = from_onnx(m.SerializeToString()), from_onnx(small_cnn())
    # a topological order of the reversed file: the two branches swap, nothing else moves
    assert [lay.name for lay in net.layers] == ["conv1", "branch_b", "branch_a", "mix", "fc"]
    assert net.macs == ref.macs and net.graph().n_ops == ref.graph().n_ops


@pytest.mark.parametrize("spec", [{"x": [2, 3, 16, 16]}, {"x": "2x3x16x16"}, "x=2x3x16x16", "2x3x16x16",
                                  [2, 3, 16, 16], ["x=2x3x16x16"]])
def test_dynamic_batch_from_input_shapes(spec):
    net = from_onnx(small_cnn(batch="N"), spec)
    assert [lay.name for lay in net.layers[:2]] == ["conv1[b0]", "conv1[b1]"]
    assert net.macs == 2 * from_onnx(small_cnn()).macs


def test_input_shapes_parsing():
    assert parse_input_shapes("a=1x3x8x8,b=2x4") == {"a": (1, 3, 8, 8), "b": (2, 4)}
    assert parse_input_shapes("a=1x3;b=5") == {"a": (1, 3), "b": (5,)}
    assert parse_input_shapes({"a": "1,3"}) == {"a": (1, 3)}
    for bad in ("a=1xx3", "a=0x3", {"a": [1, -2]}, {"a": 3.5}, "=1x2"):
        with pytest.raises(OnnxModelError) as e:
            parse_input_shapes(bad)
        one_line(e)


@pytest.mark.parametrize("spec, match", [
    (None, "input 'x' has a dynamic dimension 0 ('N')"),
    ({"y": [1, 3, 16, 16]}, "input shape given for 'y', which is not a graph input; inputs: x"),
    ({"x": [1, 3, 16]}, "input 'x' has 4 dimensions"),
    ({"x": [1, 3, 16, 17]}, "input 'x' dimension 3 is fixed at 16"),
])
def test_input_shape_errors(spec, match):
    with pytest.raises(OnnxModelError) as e:
        from_onnx(small_cnn(batch="N"), spec)
    assert match in one_line(e)


# ----------------------------------------------------------------------------------------- names
def test_stable_names_follow_content(tmp_path):
    a = from_onnx(write(tmp_path / "net.onnx", small_cnn(seed=0)))
    b = from_onnx(write(tmp_path / "other" if False else tmp_path / "net2.onnx", small_cnn(seed=0)), name="net")
    c = from_onnx(write(tmp_path / "net3.onnx", small_cnn(seed=7)), name="net")  # other weights, same costs
    assert a.name.startswith("net-") and len(a.name) == len("net-") + 10
    assert a.name == b.name == c.name == str(a)
    dyn = write(tmp_path / "dyn.onnx", small_cnn(batch="N"))
    names = {from_onnx(dyn, {"x": [n, 3, 16, 16]}).name for n in (1, 2)}
    names.add(from_onnx(dyn, {"x": [1, 3, 16, 16]}, onnx_unsupported="skip").name)
    assert len(names) == 3  # the shapes and the policy are part of the identity
    m = load(small_cnn())
    m.graph.node[0].attribute[1].ints[:] = [1, 1]  # conv1's strides: another network
    assert from_onnx(m.SerializeToString(), name="net").name != a.name


# ----------------------------------------------------------------------------------------- layer choice
def test_select_layer_by_index_name_or_node():
    net = from_onnx(small_cnn())
    assert net.layer(0).name == "conv1" and net.layer("-1").name == "fc" and net.layer("mix").name == "mix"
    batched = from_onnx(small_cnn(batch="N"), {"x": [2, 3, 16, 16]})
    assert batched.layer("conv1[b1]").name == "conv1[b1]"
    with pytest.raises(UserInputError, match="node 'conv1' of .* is 2 layers"):
        batched.layer("conv1")
    with pytest.raises(UserInputError, match="index 9 is out of range"):
        net.layer(9)
    with pytest.raises(UserInputError, match="no layer or node 'nope'"):
        net.layer("nope")
    assert select_layer("resnet18", "layer1.0.conv1") == Layer("layer1.0.conv1", "conv", 58, 58, 3, 3, 64, 64, 1)
    assert select_layer("resnet18", 0).name == "conv1"


def test_onnx_options_only_for_onnx_workloads():
    for call in (lambda: as_layers("resnet18", input_shapes="1x3x8x8"),
                 lambda: as_graph("resnet18", 1, None, "skip"),
                 lambda: as_layers(from_onnx(small_cnn()), input_shapes="1x3x8x8")):
        with pytest.raises(UserInputError) as e:
            call()
        one_line(e)


# ----------------------------------------------------------------------------------------- bad input
def _cycle() -> bytes:
    nodes = [helper.make_node("Add", ["x", "b_out"], ["a_out"], name="A"),
             helper.make_node("Relu", ["a_out"], ["b_out"], name="B")]
    return model(nodes, {"x": [1, 4]}, ["a_out"])


def _truncated() -> bytes:
    data = small_cnn()
    return data[:len(data) // 2]


BAD = {
    "missing shape": (lambda: model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": None}, ["y"]),
                      "input 'x' declares no shape"),
    "unsupported op": (lambda: model([helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
                                      helper.make_node("NonMaxSuppression", ["c"], ["y"], name="nms")],
                                     {"x": [1, 2, 4, 4]}, ["y"], {"W": weights(2, 2, 1, 1)}),
                       "node 'nms' (NonMaxSuppression): operator NonMaxSuppression is not supported"),
    "custom domain": (lambda: model([helper.make_node("Fancy", ["x"], ["y"], name="f", domain="com.acme")],
                                    {"x": [1, 2]}, ["y"], domains=["com.acme"]),
                      "node 'f' (Fancy): operator Fancy of domain 'com.acme'"),
    "no opset for a domain": (lambda: model([helper.make_node("Fancy", ["x"], ["y"], name="f", domain="com.acme")],
                                            {"x": [1, 2]}, ["y"]), "No opset import for domain com.acme optype Fancy"),
    "cycle": (_cycle, "the graph has a cycle through node"),
    "empty graph": (lambda: model([], {"x": [1, 2]}, ["x"]), "the graph has no nodes"),
    "dangling input": (lambda: model([helper.make_node("Relu", ["ghost"], ["y"], name="r")], {"x": [1, 2]}, ["y"]),
                       "node 'r' (Relu) reads tensor 'ghost', which no node, graph input or initializer provides"),
    "non-ONNX file": (lambda: b"Layer name, IFMAP Height\nconv1, 224\n", "not an ONNX model"),
    "truncated file": (_truncated, "truncated or corrupt ONNX file"),
    "empty file": (lambda: b"", "empty file"),
    "produced twice": (lambda: model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                                      helper.make_node("Relu", ["x"], ["y"], name="r2")], {"x": [1, 2]}, ["y"]),
                       "tensor 'y' is produced by both node 'r1' (Relu) and node 'r2' (Relu)"),
    "control flow": (lambda: model([helper.make_node("If", ["c"], ["y"], name="branch",
                                                     then_branch=helper.make_graph([], "t", [], []),
                                                     else_branch=helper.make_graph([], "e", [], []))],
                                   {"c": [1]}, ["y"]), "node 'branch' (If) has a sub-graph"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_models_are_named_in_one_line(case, tmp_path):
    make, match = BAD[case]
    path = write(tmp_path / "bad.onnx", make())
    with pytest.raises(OnnxModelError) as e:
        from_onnx(path)
    msg = one_line(e)
    assert match in msg and str(path) in msg


def test_missing_file_and_skip_policy(tmp_path):
    with pytest.raises(OnnxModelError) as e:
        from_onnx(tmp_path / "nope.onnx")
    assert "nope.onnx': no such file" in one_line(e)
    with pytest.raises(OnnxModelError) as e:
        from_onnx(tmp_path)
    assert "is a folder; give a file" in one_line(e)
    with pytest.raises(OnnxModelError) as e:
        from_onnx(small_cnn(), onnx_unsupported="ignore")
    assert "onnx_unsupported must be one of error, skip" in one_line(e)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        net = from_onnx(BAD["unsupported op"][0](), onnx_unsupported="skip")
    assert net.skipped == ("nms (NonMaxSuppression)",) and "nms (NonMaxSuppression)" in str(w[0].message)
    assert [lay.name for lay in net.layers] == ["conv"]


def test_unknown_shape_after_a_skipped_node_names_the_consumer():
    nodes = [helper.make_node("Fancy", ["x"], ["f"], name="fancy", domain="com.acme"),
             helper.make_node("Conv", ["f", "W"], ["y"], name="conv")]
    data = model(nodes, {"x": [1, 2, 4, 4]}, ["y"], {"W": weights(2, 2, 1, 1)}, domains=["com.acme"])
    with pytest.raises(OnnxModelError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedOperatorsWarning)
        from_onnx(data, onnx_unsupported="skip")
    assert "node 'conv' (Conv): the shape of 'f' is unknown" in one_line(e)


def test_missing_onnx_package_is_one_line(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "onnx":
            raise ImportError("no onnx")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(OnnxModelError) as e:
        from_onnx(b"\x08\x08")
    assert "pip install 'archgym[onnx]'" in one_line(e)

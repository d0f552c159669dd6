"""Real networks through PyTorch's ONNX exporter equal the built-in workloads of the same name.

The networks are plain ``torch.nn`` definitions (``onnx_nets``: ResNet-18/50, MobileNetV2,
GoogLeNet; no torchvision, no weights), exported inside the test.  Checked against archgym's
built-in layer tables (SCALE-Sim CSVs transcribed from the papers) and graph builders, which
were written independently of any ONNX file:

* every conv/GEMM layer has the built-in layer's shape and MACs; the one difference is the
  classifier, which ONNX gives as a ``Gemm`` (archgym's GEMM form ``M=1, N=1000, K=C``) and the
  tables as a 1x1 convolution on a 1x1 input with ``C`` channels: the same GEMM, so the same
  ``M, N, K``, MACs and SCALE-Sim costs (the Systolic test below compares all metrics);
* ``Systolic-v0`` gives identical metrics on the ONNX and the built-in network;
* the operator graph has as many operators (weight tiles included) and the same weight bytes
  as the built-in graph -- indeed the same operators in the same order, so ``Scratchpad-v0``
  gives identical metrics too;
* ``nn.TransformerEncoderLayer`` at BERT-base sizes gives ``bert_base_layer``'s GEMMs.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import archgym  # noqa: E402
from archgym.simulators.workloads import from_onnx, from_torch, load_network  # noqa: E402
from archgym.simulators.workloads.graphs import build_graph  # noqa: E402

import onnx_nets  # noqa: E402

LAYER_TABLES = ("resnet18", "resnet50", "mobilenetv2")  # googlenet ships as a graph only


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> path of the ONNX file PyTorch's TorchScript exporter writes (eval mode, batch 1, 224x224)."""
    folder = tmp_path_factory.mktemp("onnx")
    out = {}
    for name, build in onnx_nets.NETWORKS.items():
        torch.manual_seed(0)
        out[name] = folder / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(build().eval(), (torch.randn(1, 3, 224, 224),), str(out[name]), dynamo=False,
                              input_names=["image"])
    return out


@pytest.fixture(scope="module")
def networks(exported):
    return {name: from_onnx(path) for name, path in exported.items()}


def _shape(lay):
    d = lay.to_dict()
    d.pop("name")
    return d


@pytest.mark.parametrize("name", LAYER_TABLES)
def test_layers_equal_the_builtin_table(networks, name):
    onnx_layers, table = networks[name].layers, load_network(name)
    assert len(onnx_layers) == len(table)
    for ours, ref in zip(onnx_layers[:-1], table[:-1]):
        assert _shape(ours) == _shape(ref), (ours.name, ref.name)
        assert ours.macs == ref.macs
    fc, ref = onnx_layers[-1], table[-1]  # the classifier: ONNX Gemm vs the table's 1x1 conv (module docstring)
    assert (fc.kind, ref.kind, ref.filt_h, ref.ifmap_h) == ("gemm", "conv", 1, 1)
    assert (fc.M, fc.N, fc.K, fc.macs, fc.ifmap_footprint) == (ref.M, ref.N, ref.K, ref.macs, ref.ifmap_footprint)
    assert networks[name].macs == sum(lay.macs for lay in table)
    # torch's module paths name the layers
    assert onnx_layers[1].name in ("/layer1/layer1.0/conv1/Conv", "/features/features.1/conv/conv.0/conv.0.0/Conv")


def test_googlenet_layers_are_the_builtin_graphs_convolutions(networks):
    net, ref = networks["googlenet"], build_graph("googlenet")
    macs_by_op: dict[str, int] = {}
    for op in ref.ops:
        if any(ref.tensors[t].kind == "weight" for t in op.inputs):
            macs_by_op[op.name.split("/t")[0]] = macs_by_op.get(op.name.split("/t")[0], 0) + op.macs
    assert [lay.macs for lay in net.layers] == list(macs_by_op.values())  # 57 convs + fc, in order
    assert len(net.layers) == 58 and abs(net.macs / 1e9 - 1.58) < 0.01  # Szegedy et al.: ~1.5 G multiply-adds


@pytest.mark.parametrize("name", LAYER_TABLES)
def test_systolic_metrics_identical(networks, name):
    ours = archgym.make_simulator("Systolic-v0", workload=networks[name])
    ref = archgym.make_simulator("Systolic-v0", workload=name)
    designs = [ref.space.sample(seed) for seed in range(200)] + [ref.reference_config()]
    a, b = ours.evaluate_batch(designs), ref.evaluate_batch(designs)
    for col in [m.name for m in ref.metrics] + ["feasible"]:
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy(), equal_nan=True), col


@pytest.mark.parametrize("name", sorted(onnx_nets.NETWORKS))
def test_graph_equals_the_builtin_graph(networks, name):
    g, ref = networks[name].graph(), build_graph(name)
    assert g.n_ops == ref.n_ops
    weight = lambda gr: sum(t.bytes for t in gr.tensors.values() if t.kind == "weight")  # noqa: E731
    assert weight(g) == weight(ref)

    def ops(gr):
        return [(o.macs, [gr.tensors[t].bytes for t in o.inputs], [gr.tensors[t].bytes for t in o.outputs])
                for o in gr.ops]

    assert ops(g) == ops(ref)
    assert g.compulsory_bytes() == ref.compulsory_bytes()


def test_scratchpad_metrics_identical(networks):
    ours = archgym.make_simulator("Scratchpad-v0", workload=networks["resnet18"])
    ref = archgym.make_simulator("Scratchpad-v0", workload="resnet18",
                                 graph_options={"batch": 1})
    assert ours.space["scratchpad_kb"].allowed() == ref.space["scratchpad_kb"].allowed()
    for policy in ("belady", "ilp_fixed_order"):
        for kb in ref.space["scratchpad_kb"].values[:3]:
            cfg = {"scratchpad_kb": kb, "dram_bw_gbps": 16, "compute_macs_per_cycle": 256, "policy": policy}
            a, b = ours.evaluate(cfg), ref.evaluate(cfg)
            for m in ("offchip_bytes", "noncompulsory_bytes", "latency_ns", "energy_pj"):
                assert a[m] == b[m], (policy, kb, m)


def test_the_two_exporters_agree():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    ts = from_torch(onnx_nets.resnet18(), x, dynamo=False)
    dy = from_torch(onnx_nets.resnet18(), x, dynamo=True)
    assert ts.name.startswith("ResNet-") and ts.name != dy.name  # other node names: another file
    assert [_shape(a) for a in ts.layers] == [_shape(b) for b in dy.layers]
    g1, g2 = ts.graph(), dy.graph()
    assert [(o.macs, len(o.inputs)) for o in g1.ops] == [(o.macs, len(o.inputs)) for o in g2.ops]


def test_from_torch_leaves_the_module_as_it_was():
    m = onnx_nets.mobilenet_v2().train()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    from_torch(m, torch.randn(1, 3, 64, 64))
    assert m.training and all(torch.equal(before[k], v) for k, v in m.state_dict().items())


def test_transformer_encoder_layer_gives_berts_gemms():
    """PyTorch's encoder layer at BERT-base sizes (hidden 768, 12 heads, FFN 3072, 128 tokens).

    The one difference from ``bert_base_layer``: ``nn.MultiheadAttention`` packs the Q, K and V
    projections into one ``in_proj`` GEMM (``N = 3 x 768``), where the table lists three
    ``128 x 768 x 768`` GEMMs: same ``M`` and ``K``, same MACs.  Per-head ``QK^T`` and ``AV``
    come out of the batched MatMuls as 12 GEMMs each, as in the table."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(768, 12, 3072, dropout=0.0, batch_first=True)
    net = from_torch(layer, torch.randn(1, 128, 768))  # the TorchScript tracer cannot: dynamo exports it
    ours = sorted((lay.M, lay.N, lay.K) for lay in net.layers)
    bert = load_network("bert_base_layer")
    qkv = [lay for lay in bert if lay.name in ("q_proj", "k_proj", "v_proj")]
    expected = sorted([(lay.M, lay.N, lay.K) for lay in bert if lay not in qkv] + [(128, 3 * 768, 768)])
    assert ours == expected
    assert net.macs == sum(lay.macs for lay in bert)
    assert len(net.skipped) == 0

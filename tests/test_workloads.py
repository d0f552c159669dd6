"""The workload library: shipped networks and the topology CSV loader."""
from __future__ import annotations

import pytest

from archgym.simulators.workloads import (Layer, WorkloadError, list_networks, load_network, network_info,
                                          parse_topology, read_topology_csv)

HDR = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"

# published MAC counts (batch 1) the tables must reproduce, in GMACs
EXPECTED_GMACS = {"alexnet": (1.0, 1.2), "vgg16": (15.3, 15.6), "resnet18": (1.8, 1.83), "resnet50": (4.05, 4.15),
                  "mobilenetv2": (0.29, 0.31), "resnet20_cifar": (0.040, 0.042), "bert_base_layer": (0.93, 0.932)}


def test_networks_shipped_with_sources():
    nets = list_networks()
    for name in EXPECTED_GMACS:
        assert name in nets
        info = network_info(name)
        assert info["source"] and info["file"].endswith(".csv")


@pytest.mark.parametrize("name", sorted(EXPECTED_GMACS))
def test_network_macs_match_the_papers(name):
    lo, hi = EXPECTED_GMACS[name]
    layers = load_network(name)
    assert lo <= sum(lay.macs for lay in layers) / 1e9 <= hi
    for lay in layers:
        assert lay.M > 0 and lay.K > 0 and lay.N > 0


def test_resnet_shapes():
    r18 = {lay.name: lay for lay in load_network("resnet18")}
    assert (r18["conv1"].ofmap_h, r18["conv1"].M, r18["conv1"].K, r18["conv1"].N) == (112, 112 * 112, 147, 64)
    assert r18["layer4.1.conv2"].ofmap_h == 7
    assert r18["fc"].M == 1 and r18["fc"].K == 512 and r18["fc"].N == 1000


def test_depthwise_and_gemm_forms():
    mb = load_network("mobilenetv2")
    dw = [lay for lay in mb if lay.kind == "dwconv"]
    assert len(dw) == 17 and all("DP" in lay.name and lay.K == 9 and lay.N == 1 for lay in dw)
    bert = {lay.name: lay for lay in load_network("bert_base_layer")}
    q = bert["q_proj"]
    assert (q.kind, q.M, q.K, q.N) == ("gemm", 128, 768, 768)
    assert bert["ffn1"].N == 3072 and bert["attn_scores_h0"].K == 64


def test_gemm_layer_uses_scalesim_mapping():
    g = Layer.gemm("g", 37, 19, 53)
    assert (g.ifmap_h, g.ifmap_w, g.filt_h, g.filt_w, g.channels, g.num_filters) == (37, 53, 1, 53, 1, 19)
    assert (g.M, g.K, g.N, g.ifmap_footprint) == (37, 53, 19, 37 * 53)


def test_ifmap_footprint_skips_untouched_pixels():
    assert Layer("s", "conv", 9, 9, 1, 1, 2, 4, 2).ifmap_footprint == 5 * 5 * 2
    assert Layer("c", "conv", 230, 230, 7, 7, 3, 64, 2).ifmap_footprint == 229 * 229 * 3


def test_read_csv_roundtrip(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(HDR + "c1, 34, 34, 3, 3, 16, 16, 1,\n\n# comment\nc2_DP, 10, 10, 3, 3, 8, 1, 2,#dw\n")
    layers = read_topology_csv(p)
    assert [lay.kind for lay in layers] == ["conv", "dwconv"]
    assert (layers[1].repeat, layers[1].K, layers[1].N, layers[1].macs) == (8, 9, 1, 8 * 16 * 9)
    assert layers[0].M == 32 * 32
    p.write_text("Layer, M, N, K,\nfc, 1, 1000, 512,\n")
    assert read_topology_csv(p)[0].K == 512


@pytest.mark.parametrize("row, msg", [
    ("c1, 34, 34, 3, 3, 16, 1,", "malformed row"),
    ("c1, 34, 34, 3, 3, 16, 0, 1,", "Num Filter must be positive"),
    ("c1, 34, -4, 3, 3, 16, 16, 1,", "IFMAP Width must be positive"),
    ("c1, 34, 34, 3, x, 16, 16, 1,", "Filter Width is not a number"),
    ("c1, 2, 34, 3, 3, 16, 16, 1,", "larger than input"),
])
def test_csv_errors_name_file_and_line(tmp_path, row, msg):
    p = tmp_path / "bad.csv"
    p.write_text(HDR + "ok, 10, 10, 3, 3, 4, 4, 1,\n" + row + "\n")
    with pytest.raises(WorkloadError, match=msg) as err:
        read_topology_csv(p)
    assert f"{p}:3" in str(err.value)
    assert "\n" not in str(err.value)


def test_other_loader_errors(tmp_path):
    with pytest.raises(WorkloadError, match="cannot read"):
        read_topology_csv(tmp_path / "missing.csv")
    with pytest.raises(WorkloadError, match="header"):
        parse_topology("a, b, c\n1, 2, 3\n", "x.csv")
    with pytest.raises(WorkloadError, match="no layers"):
        parse_topology(HDR, "x.csv")
    with pytest.raises(WorkloadError, match="unknown network"):
        network_info("lenet")
    with pytest.raises(WorkloadError, match="unknown kind"):
        Layer("x", "pool", 4, 4, 2, 2, 1, 1, 1)
    with pytest.raises(WorkloadError, match="GEMM M"):
        Layer.gemm("g", 0, 3, 3)

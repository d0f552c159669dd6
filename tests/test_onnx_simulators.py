"""An ONNX model as the workload of every simulator that takes a network, from Python, the CLI and
sweeps; trial identity follows content; the export round trip (SCALE-Sim CSV, Timeloop YAML read
back by the existing readers) gives identical metrics."""
from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest

pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

import archgym  # noqa: E402
from archgym.cli import main  # noqa: E402
from archgym.errors import UserInputError  # noqa: E402
from archgym.simulators.dataflow.problem import problem_from_layer  # noqa: E402
from archgym.simulators.dataflow.timeloop_io import read_problem  # noqa: E402
from archgym.simulators.workloads import from_onnx, read_topology_csv  # noqa: E402
from archgym.simulators.workloads.export import FORMATS, export_workload, scalesim_topology  # noqa: E402
from archgym.simulators.workloads.opgraph import load_graph  # noqa: E402
from archgym.trial import trial_key  # noqa: E402

from onnx_models import model, small_cnn, weights, write  # noqa: E402


def mixed_model() -> bytes:
    """Every layer kind: conv, depthwise (multiplier 2), grouped, dilated, then an attention-like
    batched MatMul and a GEMM."""
    nodes = [helper.make_node("Conv", ["x", "W1"], ["c1"], name="stem", pads=[1] * 4, strides=[2, 2]),
             helper.make_node("Conv", ["c1", "Wdw"], ["dw"], name="dw", group=8, pads=[1] * 4),
             helper.make_node("Conv", ["dw", "Wg"], ["g"], name="grouped", group=4),
             helper.make_node("Conv", ["g", "Wd"], ["d"], name="dilated", dilations=[2, 2], pads=[2] * 4),
             helper.make_node("Reshape", ["d", "shape"], ["tokens"], name="to_tokens"),
             helper.make_node("MatMul", ["tokens", "Wq"], ["q"], name="q_proj"),
             helper.make_node("Transpose", ["q"], ["qt"], name="qT", perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "qt"], ["scores"], name="scores"),
             helper.make_node("Softmax", ["scores"], ["att"], name="softmax", axis=-1),
             helper.make_node("MatMul", ["att", "q"], ["ctx"], name="context")]
    inits = {"W1": weights(8, 3, 3, 3), "Wdw": weights(16, 1, 3, 3), "Wg": weights(16, 4, 1, 1),
             "Wd": weights(8, 16, 3, 3), "shape": np.array([2, 32, 16], dtype=np.int64), "Wq": weights(16, 12)}
    return model(nodes, {"x": [1, 3, 16, 16]}, ["ctx"], inits)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return {"cnn": write(folder / "cnn.onnx", small_cnn()), "mixed": write(folder / "mixed.onnx", mixed_model()),
            "dynamic": write(folder / "dyn.onnx", small_cnn(batch="N")),
            "unsupported": write(folder / "unsup.onnx", model(
                [helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
                 helper.make_node("NonMaxSuppression", ["c"], ["y"], name="nms")],
                {"x": [1, 2, 4, 4]}, ["y"], {"W": weights(2, 2, 1, 1)}))}


def test_mixed_model_layers(files):
    net = from_onnx(files["mixed"])
    kinds = [(lay.name, lay.kind) for lay in net.layers]
    assert kinds[:2] == [("stem", "conv"), ("dw", "dwconv")]
    assert [k for k, _ in kinds].count("scores[0]") == 1 and len(net.layers) == 1 + 1 + 4 + 4 + 1 + 2 + 2


# ----------------------------------------------------------------------------------------- every simulator
def test_systolic_and_accelerator_take_a_path_or_a_network(files):
    net = from_onnx(files["cnn"])
    for env in ("Systolic-v0", "Accelerator-v0"):
        by_path = archgym.make_simulator(env, workload=files["cnn"])
        by_net = archgym.make_simulator(env, workload=net)
        assert by_path.workload_label == by_net.workload_label == net.name
        cfg = by_path.reference_config()
        assert by_path.evaluate(cfg) == by_net.evaluate(cfg)


def test_accelerator_activation_buffer_plans_the_onnx_graph(files):
    sim = archgym.make_simulator("Accelerator-v0", workload=files["cnn"])
    cfg = sim.reference_config()
    plain = sim.evaluate(cfg)
    buffered = sim.evaluate({**cfg, "act_buffer_kb": 256, "act_buffer_policy": "belady"})
    assert buffered["feasible"] and buffered["dram_bytes"] < plain["dram_bytes"]


def test_dataflow_mapping_costs_one_layer_by_name_or_index(files):
    by_name = archgym.make_simulator("DataflowMapping-v0", workload=files["cnn"], layer="branch_a")
    by_index = archgym.make_simulator("DataflowMapping-v0", workload=from_onnx(files["cnn"]), layer=1)
    assert by_name.problem == by_index.problem and by_name.problem.macs == 4 * 4 * 9 * 8 * 4
    cfg = by_name.reference_config()
    assert by_name.evaluate(cfg) == by_index.evaluate(cfg)
    dw = archgym.make_simulator("DataflowMapping-v0", workload=files["mixed"], layer="dw")
    assert dw.problem.macs == 8 * 8 * 9 * 16
    builtin = archgym.make_simulator("DataflowMapping-v0", workload="resnet18", layer="layer1.0.conv1")
    assert builtin.problem == archgym.make_simulator("DataflowMapping-v0").problem
    with pytest.raises(UserInputError, match="costs one layer; got 5 .*layer=NAME"):
        archgym.make_simulator("DataflowMapping-v0", workload=files["cnn"])


def test_accelerator_arch_maps_every_layer(files):
    sim = archgym.make_simulator("AcceleratorArch-v0", workload=files["cnn"], mapper_budget=4)
    assert [p.name for p in sim.problems] == ["conv1", "branch_a", "branch_b", "mix", "fc"]
    r = sim.evaluate(sim.space.sample(0))
    assert r["feasible"] and r["cycles"] > 0


def test_scratchpad_and_schedule_env_plan_the_graph(files):
    sim = archgym.make_simulator("Scratchpad-v0", workload=files["cnn"], precision_bytes=2)
    assert sim.graph.n_ops == 9 and sim.graph.tensors["x"].bytes == 2 * 3 * 16 * 16
    r = sim.evaluate(sim.space.sample(0))
    assert r["feasible"] and r["offchip_bytes"] >= sim.graph.compulsory_bytes()
    env = gymnasium.make("archgym/ScratchpadSchedule-v0", workload=files["cnn"], reward_policy="belady")
    obs, info = env.reset(seed=0)
    done, steps = False, 0
    while not done:
        mask = info.get("action_mask", obs.get("action_mask") if isinstance(obs, dict) else None)
        action = int(np.flatnonzero(mask)[0]) if mask is not None else 0
        obs, _, done, _, info = env.step(action)
        steps += 1
    assert steps == 9


def test_dynamic_shapes_and_skip_as_simulator_options(files):
    sim = archgym.make_simulator("Systolic-v0", workload=files["dynamic"], input_shapes="x=2x3x16x16")
    assert len(sim.layers) == 9  # each conv once per sample; the classifier's batch folds into its GEMM's M
    with pytest.raises(UserInputError, match="dynamic dimension 0 .'N'."):
        archgym.make_simulator("Systolic-v0", workload=files["dynamic"])
    with pytest.raises(UserInputError, match="'nms' .NonMaxSuppression."):
        archgym.make_simulator("Scratchpad-v0", workload=files["unsupported"])
    with pytest.warns(UserWarning, match="nms"):
        sim = archgym.make_simulator("Scratchpad-v0", workload=files["unsupported"], onnx_unsupported="skip")
    assert sim.graph.n_ops == 1
    for env in ("Systolic-v0", "Scratchpad-v0", "DataflowMapping-v0", "AcceleratorArch-v0"):
        wl = "resnet18:layer1.0.conv1" if env == "DataflowMapping-v0" else "resnet18"
        with pytest.raises(UserInputError, match="input_shapes applies to ONNX workloads"):
            archgym.make_simulator(env, workload=wl, input_shapes="1x3x8x8")


def test_trial_identity_follows_content(files, tmp_path):
    key = lambda wl: trial_key("Systolic-v0", {"workload": wl}, "random", {}, 0, 10)  # noqa: E731
    (tmp_path / "moved").mkdir()
    moved = write(tmp_path / "moved" / "cnn.onnx", open(files["cnn"], "rb").read())
    assert key(files["cnn"]) == key(moved)  # a path counts by its bytes
    assert key(files["cnn"]) != key(files["mixed"])
    # a Network by its name: the file's stem and the content digest
    assert key(from_onnx(files["cnn"])) == key(from_onnx(moved)) != key(from_onnx(files["mixed"], name="cnn"))


def test_sweep_spec_takes_an_onnx_workload(files, tmp_path):
    from archgym.experiments.sweep import run_sweep
    from archgym.experiments.sweep.spec import SweepSpec
    from archgym.store import Store

    spec = SweepSpec.from_dict({"study": "onnx", "store": str(tmp_path / "s.db"), "budget": 5, "seeds": 2,
                                "environments": [{"id": "Systolic-v0", "workloads": [files["cnn"], files["mixed"]]}],
                                "searchers": [{"agent": "random"}]})
    summary = run_sweep(spec, workers=1, progress=False, executor="inline")
    assert summary["completed"] == 4 and summary["failed"] == 0
    with Store(summary["store"]) as db:
        assert set(db.trials()["status"]) == {"complete"}


# ----------------------------------------------------------------------------------------- round trip
def test_scalesim_round_trip_gives_identical_metrics(files, tmp_path):
    for name in ("cnn", "mixed"):
        net = from_onnx(files[name])
        (csv,) = export_workload(files[name], "scalesim", tmp_path / name)
        back = read_topology_csv(csv)
        assert [lay.kind for lay in back] == [("conv" if lay.kind == "gemm" else lay.kind) for lay in net.layers]
        a = archgym.make_simulator("Systolic-v0", workload=net)
        b = archgym.make_simulator("Systolic-v0", workload=str(csv))
        designs = [a.space.sample(s) for s in range(100)]
        da, db = a.evaluate_batch(designs), b.evaluate_batch(designs)
        for m in a.metrics:
            assert np.array_equal(da[m.name].to_numpy(), db[m.name].to_numpy(), equal_nan=True), (name, m.name)


def test_gemm_only_networks_use_the_gemm_form():
    net = from_onnx(model([helper.make_node("MatMul", ["a", "b"], ["y"], name="bmm")], {"a": [2, 8, 4],
                                                                                      "b": [2, 4, 6]}, ["y"]))
    text = scalesim_topology(net.layers)
    assert text.splitlines() == ["Layer, M, N, K,", "bmm_0, 8, 6, 4,", "bmm_1, 8, 6, 4,"]


def test_timeloop_round_trip_gives_identical_problems_and_metrics(files, tmp_path):
    net = from_onnx(files["mixed"])
    paths = export_workload(files["mixed"], "timeloop", tmp_path / "tl")
    assert len(paths) == len(net.layers)
    for lay, path in zip(net.layers, paths):
        back, ref = read_problem(path), problem_from_layer(lay)
        assert (back.dims, back.bounds, back.dataspaces) == (ref.dims, ref.bounds, ref.dataspaces), lay.name
    for i in (0, 1, 2, len(net.layers) - 1):  # conv, depthwise, grouped, GEMM
        a = archgym.make_simulator("DataflowMapping-v0", workload=net, layer=i)
        b = archgym.make_simulator("DataflowMapping-v0", workload=str(paths[i]))
        designs = [a.space.sample(s) for s in range(30)]
        da, db = a.evaluate_batch(designs), b.evaluate_batch(designs)
        for m in a.metrics:
            assert np.array_equal(da[m.name].to_numpy(), db[m.name].to_numpy(), equal_nan=True), (i, m.name)


def test_graph_export_round_trip(files, tmp_path):
    (path,) = export_workload(files["cnn"], "graph", tmp_path / "g", precision_bytes=2)
    assert load_graph(path).to_dict() == from_onnx(files["cnn"]).graph(2).to_dict()


# ----------------------------------------------------------------------------------------- CLI
def test_cli_workloads_show_and_export(files, tmp_path, capsys):
    from archgym.cli.workloads import FORMATS as CLI_FORMATS

    assert CLI_FORMATS == FORMATS  # the command lists the formats without importing the library
    assert main(["workloads", "show", files["cnn"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["layers"] == 5 and shown["graph"]["ops"] == 9 and shown["name"] == from_onnx(files["cnn"]).name
    with pytest.warns(UserWarning, match="nms"):
        assert main(["workloads", "show", files["unsupported"], "--set", "onnx_unsupported=skip"]) == 0
    assert "skipped (1): nms (NonMaxSuppression)" in capsys.readouterr().out
    assert main(["workloads", "show", files["dynamic"], "--input-shape", "x=3x3x16x16"]) == 0
    assert "13 layers" in capsys.readouterr().out
    for fmt in FORMATS:
        assert main(["workloads", "export", files["cnn"], "--to", fmt, "--out", str(tmp_path / fmt)]) == 0
    assert len(list((tmp_path / "timeloop").glob("*.yaml"))) == 5
    capsys.readouterr()
    assert main(["workloads", "export", files["cnn"], "--to", "graph", "--out", str(tmp_path / "graph")]) == 2
    assert "exists; choose another --out folder or replace it with --force" in capsys.readouterr().err
    assert main(["workloads", "export", files["cnn"], "--to", "graph", "--out", str(tmp_path / "graph"),
                 "--force"]) == 0


@pytest.mark.parametrize("argv, match", [
    (["workloads", "show", "{dynamic}"], "dynamic dimension 0 ('N')"),
    (["workloads", "show", "{unsupported}"], "node 'nms' (NonMaxSuppression)"),
    (["workloads", "show", "{cnn}", "--set", "colour=red"], "--set colour: unknown key"),
    (["workloads", "export", "{cnn}", "--to", "graph", "--out", "{cnn}"], "is a file; give a folder"),
    (["evaluate", "Systolic-v0", "--workload", "{truncated}", "--config", "{{}}"], "truncated or corrupt ONNX file"),
    (["evaluate", "Systolic-v0", "--workload", "{dynamic}", "--config", "{{}}"], "--input-shape x="),
])
def test_cli_bad_input_is_one_line(files, tmp_path, capsys, argv, match):
    data = open(files["cnn"], "rb").read()
    paths = {**files, "truncated": write(tmp_path / "cut.onnx", data[:len(data) // 3])}
    assert main([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1 and err.startswith("archgym: error:")


def test_cli_evaluate_and_run_with_onnx_options(files, capsys):
    sim = archgym.make_simulator("Systolic-v0", workload=files["dynamic"], input_shapes="x=2x3x16x16")
    cfg = sim.reference_config()
    assert main(["evaluate", "Systolic-v0", "--workload", files["dynamic"], "--set", "input_shapes=x=2x3x16x16",
                 "--config", json.dumps(cfg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cycles"] == sim.evaluate(cfg)["cycles"]
    assert main(["run", "DataflowMapping-v0", "--workload", files["cnn"], "--option", "layer=mix", "--agent",
                 "random", "--budget", "3", "--seed", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluations"] == 3


def test_input_shape_flag_on_env_commands(files, capsys):
    """`--input-shape NAME=DIMS` on info/evaluate/run is the input_shapes option."""
    from archgym.cli import main

    assert main(["info", "Systolic-v0", "--workload", str(files["dynamic"]), "--input-shape", "x=2x3x16x16",
                 "--json"]) == 0
    assert '"space_size"' in capsys.readouterr().out
    assert main(["run", "Systolic-v0", "--workload", str(files["dynamic"]), "--input-shape", "x=2x3x16x16",
                 "--agent", "random", "--budget", "2", "--json"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "Systolic-v0", "--workload", str(files["dynamic"]), "--input-shape", "x=2x3x16x16",
                 "--set", "input_shapes=x=1x3x8x8", "--config", "{}"]) == 2
    assert "given twice" in capsys.readouterr().err

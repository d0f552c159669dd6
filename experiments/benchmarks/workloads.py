"""ONNX import speed: reading an exported network and building all its workloads.

For ResNet-50 (the issue's target: under 1 s), ResNet-18, MobileNetV2 and
GoogLeNet, exported by PyTorch's TorchScript exporter from the plain
``torch.nn`` definitions the tests use (``tests/onnx_nets.py``; random
weights, eval mode, 1x3x224x224), this measures the process CPU time
(``time.process_time``) of

* ``onnx_load``: ``onnx.load`` of the file alone (the protobuf parse, a floor);
* ``read``: :func:`~archgym.simulators.workloads.onnx_reader.read_onnx`
  (parse, checks, shape inference, constant folding);
* ``lower``: the layers and the word-size-free operator list;
* ``graph``: the operator graph at 1 byte per element;
* ``total``: ``from_onnx(path)`` plus ``.graph()``, i.e. every workload the
  simulators take (layers for Systolic/Accelerator/Dataflow, the graph for
  Scratchpad), in this process after a first (warm-up) read;
* ``cold_imports`` and ``cold_first_read``: in a fresh interpreter, the
  imports (``onnx`` and archgym's workload modules, with numpy, pandas and
  gymnasium) and then the first ``from_onnx(path).graph()``;
  ``cold_total`` is their sum.

Warm figures are medians over ``--repeats`` rounds in which the networks
and stages are interleaved; cold ones are medians over ``--cold`` child
processes.  Also recorded: the ratio ``total / onnx_load`` of each round, the
file sizes, layer and operator counts, the export time (one run) and the load
average before and after.

    python experiments/benchmarks/workloads.py [--repeats 9] [--cold 5]

Prints the figures and writes experiments/benchmarks/results/workloads.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results" / "workloads.json"
NETWORKS = ("resnet50", "resnet18", "mobilenetv2", "googlenet")

COLD = """
import time, sys
t0 = time.process_time()
import onnx
from archgym.simulators.workloads import from_onnx
t1 = time.process_time()
from_onnx(sys.argv[1]).graph()
print(t1 - t0, time.process_time() - t1)
"""


def export(folder: Path) -> dict[str, dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    import torch
    from onnx_nets import NETWORKS as BUILD

    out = {}
    for name in NETWORKS:
        torch.manual_seed(0)
        path = folder / f"{name}.onnx"
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(BUILD[name]().eval(), (torch.randn(1, 3, 224, 224),), str(path), dynamo=False)
        out[name] = {"path": path, "export_s": time.process_time() - t0, "file_mb": path.stat().st_size / 1e6}
    return out


def cpu(fn) -> tuple[float, object]:
    t0 = time.process_time()
    result = fn()
    return time.process_time() - t0, result


def one_round(path: Path) -> dict[str, float]:
    import onnx

    from archgym.simulators.workloads import from_onnx
    from archgym.simulators.workloads.lowering import lower
    from archgym.simulators.workloads.network import Network
    from archgym.simulators.workloads.onnx_reader import read_onnx

    t_load, _ = cpu(lambda: onnx.load(str(path)))
    t_read, g = cpu(lambda: read_onnx(path))
    t_lower, low = cpu(lambda: lower(g))
    net = Network.from_lowered("bench", low, str(path))
    t_graph, _ = cpu(lambda: net.graph())
    t_total, _ = cpu(lambda: from_onnx(path).graph())
    return {"onnx_load": t_load, "read": t_read, "lower": t_lower, "graph": t_graph, "total": t_total,
            "total_over_onnx_load": t_total / t_load}


def cold(path: Path, n: int) -> dict[str, float]:
    """Medians over ``n`` fresh interpreters: (imports of onnx and archgym's workloads, first read + graph)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [[float(x) for x in subprocess.run([sys.executable, "-c", COLD, str(path)], capture_output=True, text=True,
                                              check=True, env=env).stdout.split()] for _ in range(n)]
    return {"cold_imports_s": round(statistics.median(r[0] for r in runs), 3),
            "cold_first_read_s": round(statistics.median(r[1] for r in runs), 3),
            "cold_total_s": round(statistics.median(r[0] + r[1] for r in runs), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--cold", type=int, default=5)
    args = ap.parse_args()
    from archgym.threads import limit_threads

    limit_threads(1)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        files = export(Path(d))
        from archgym.simulators.workloads import from_onnx

        for name in NETWORKS:  # warm-up: imports, first reads
            net = from_onnx(files[name]["path"])
            files[name].update(layers=len(net.layers), graph_ops=net.graph().n_ops, gmacs=net.macs / 1e9)
        rounds: dict[str, list[dict]] = {n: [] for n in NETWORKS}
        for _ in range(args.repeats):
            for name in NETWORKS:
                rounds[name].append(one_round(files[name]["path"]))
        cold_s = {name: cold(files[name]["path"], args.cold) for name in ("resnet50", "resnet18")}
    load_after = os.getloadavg()
    out = {"protocol": {"clock": "process CPU time (time.process_time)", "statistic": "median",
                        "repeats": args.repeats, "cold_repeats": args.cold, "interleaved": True,
                        "exporter": "torch.onnx.export(dynamo=False), eval mode, 1x3x224x224",
                        "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in load_after],
                        "python": sys.version.split()[0]},
           "networks": {}}
    for name in NETWORKS:
        info = files[name]
        med = {k: statistics.median(r[k] for r in rounds[name]) for k in rounds[name][0]}
        row = {"file_mb": round(info["file_mb"], 1), "layers": info["layers"], "graph_ops": info["graph_ops"],
               "gmacs": round(info["gmacs"], 3), "export_s": round(info["export_s"], 2),
               **{f"{k}_s" if k != "total_over_onnx_load" else k: round(v, 4) for k, v in med.items()}}
        row.update(cold_s.get(name, {}))
        out["networks"][name] = row
        cold_txt = (f"; fresh process: imports {row['cold_imports_s']:.2f} s + first read "
                    f"{row['cold_first_read_s']:.2f} s" if "cold_total_s" in row else "")
        print(f"{name:12s} {row['file_mb']:6.1f} MB  {row['layers']:3d} layers {row['graph_ops']:4d} ops: "
              f"total {row['total_s']:.3f} s (onnx.load {row['onnx_load_s']:.3f}, read {row['read_s']:.3f}, "
              f"lower {row['lower_s']:.4f}, graph {row['graph_s']:.4f}; x{row['total_over_onnx_load']:.1f} "
              f"the parse){cold_txt}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

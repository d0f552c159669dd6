"""Speed and mapper quality of the dataflow-mapping simulator (``archgym.simulators.dataflow``).

Run:  python experiments/benchmarks/dataflow.py [--quick]

Prints and writes ``experiments/benchmarks/results/dataflow.json``.  Times are
process CPU time of the single benchmark thread (median of repeats; one math
thread), because the shared machines run other jobs; wall times are recorded
too.

(a) mappings per second of the batched numpy kernel
    (``DataflowMappingSimulator.evaluate_indices``: canonical index rows ->
    metrics and reasons) for ResNet-18 ``layer2.0.conv2`` (3x3, 128 -> 128,
    28x28) on the 3-level hierarchy (MainMemory, GlobalBuffer, 16 PEs with a
    RegisterFile), random mappings of the space, both reuse modes; the full
    ``evaluate_batch`` path (validation, DataFrame) and one ``evaluate`` call;
(b) CPU time to cost one AcceleratorArch-v0 design (Eyeriss's shape) over
    ResNet-18 with the internal mapper (its default budget per distinct layer);
(c) the mapper (``AcceleratorArchSimulator``'s default budget, seeds 0-2) against the best of a long random
    search (``--random`` mappings sampled uniformly from the space) on
    ResNet-18 layers on the Eyeriss-like architecture: EDP ratio mapper/random.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from archgym.simulators.dataflow import AcceleratorArchSimulator, DataflowMappingSimulator, eyeriss_like  # noqa: E402
from archgym.simulators.dataflow.mapper import map_layer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "dataflow.json"
BUDGET = AcceleratorArchSimulator().mapper_budget
LAYER = "resnet18:layer2.0.conv2"
MAPPER_LAYERS = ["resnet18:conv1", "resnet18:layer1.0.conv1", "resnet18:layer2.0.conv2", "resnet18:layer3.0.conv2",
                 "resnet18:layer4.0.downsample"]


def cpu_and_wall(fn, repeats: int) -> dict:
    """Median CPU and wall seconds of ``fn()`` over ``repeats`` runs."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall), "repeats": repeats}


def kernel_speed(n: int, repeats: int) -> dict:
    out = {}
    for reuse in ("exact", "timeloop"):
        sim = DataflowMappingSimulator(workload=LAYER, arch="three_level", reuse=reuse)
        idx = sim.space.sample_indices(np.random.default_rng(0), n=n)
        sim.evaluate_indices(idx[:1000])   # warm the set caches
        t = cpu_and_wall(lambda: sim.evaluate_indices(idx), repeats)
        _, reasons = sim.evaluate_indices(idx)
        out[reuse] = {**t, "mappings": n, "mappings_per_s": n / t["cpu_s"],
                      "feasible_fraction": float(np.mean(reasons == ""))}
    sim = DataflowMappingSimulator(workload=LAYER, arch="three_level")
    configs = [sim.space.decode(i) for i in sim.space.sample_indices(np.random.default_rng(1), n=max(500, n // 20))]
    t = cpu_and_wall(lambda: sim.evaluate_batch(configs), repeats)
    out["evaluate_batch"] = {**t, "designs": len(configs), "designs_per_s": len(configs) / t["cpu_s"]}
    one = sim.reference_config()
    t = cpu_and_wall(lambda: [sim.evaluate(one) for _ in range(50)], repeats)
    out["evaluate_one_ms"] = 1e3 * t["cpu_s"] / 50
    return out


def arch_cost(repeats: int) -> dict:
    cfg = AcceleratorArchSimulator().reference_config()
    t = cpu_and_wall(lambda: AcceleratorArchSimulator().evaluate(cfg), repeats)   # fresh instance: no memo
    sim = AcceleratorArchSimulator()
    res = sim.evaluate(cfg)
    return {**t, "layers": len(sim.problems), "mapper_budget": sim.mapper_budget,
            "distinct_layers": len({(p.dims, tuple(sorted(p.bounds.items()))) for p in sim.problems}),
            "metrics": {k: res[k] for k in ("energy_pj", "cycles", "edp", "area_mm2")}}


def mapper_vs_random(n_random: int, seeds: int) -> dict:
    arch = eyeriss_like()
    rows = []
    for name in MAPPER_LAYERS:
        sim = DataflowMappingSimulator(workload=name, arch=arch)
        best = np.inf
        feasible = 0
        rng = np.random.default_rng(0)
        for lo in range(0, n_random, 20000):
            m, r = sim.evaluate_indices(sim.space.sample_indices(rng, n=min(20000, n_random - lo)))
            ok = r == ""
            feasible += int(ok.sum())
            if ok.any():
                best = min(best, float(np.nanmin(m["edp"][ok])))
        mapped = [map_layer(sim.problem, arch, BUDGET, seed).metrics["edp"] for seed in range(seeds)]
        rows.append({"layer": name, "random_best_edp": best, "random_feasible": feasible,
                     "mapper_edp": mapped, "ratio_median": float(np.median(mapped) / best)})
    ratios = [r["ratio_median"] for r in rows]
    return {"random_mappings": n_random, "mapper_budget": BUDGET, "seeds": seeds, "layers": rows,
            "ratio_median_over_layers": float(np.median(ratios)), "ratio_max": float(np.max(ratios))}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--random", type=int, default=200000, help="mappings in the long random search")
    args = ap.parse_args(argv)
    n, repeats = (20000, 3) if args.quick else (100000, 5)
    out = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "load_avg": os.getloadavg()},
        "kernel": kernel_speed(n, repeats),
        "arch_cost_resnet18": arch_cost(1 if args.quick else 3),
        "mapper_vs_random": mapper_vs_random(20000 if args.quick else args.random, 3),
    }
    out["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    if not args.quick:
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()

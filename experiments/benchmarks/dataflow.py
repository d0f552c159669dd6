"""Speed and mapper quality of the dataflow-mapping simulator (``archgym.simulators.dataflow``).

Run:  python experiments/benchmarks/dataflow.py [--quick]

Prints and writes ``experiments/benchmarks/results/dataflow.json``.  Times are
process CPU time of the single benchmark thread (one math thread; medians of
repeats where repeated), because the shared machines run other jobs; the load
average is recorded at the start and the end.

(a) mappings per second of the batched numpy kernel
    (``DataflowMappingSimulator.evaluate_indices``) for ResNet-18
    ``layer2.0.conv2`` on the 3-level hierarchy, random mappings, both reuse
    modes; the ``evaluate_batch`` path and one ``evaluate`` call;
(b) the mapper against timeloop-mapper on every exercise and example design
    with a ``timeloop-mapper.stats.txt`` (tests/data/dataflow_exercises): same
    architecture, constraints, energy table (ERT.yaml) and counting mode
    (``reuse=timeloop``); our best EDP / the EDP of Timeloop's own mapping
    (costed by our model, which reproduces Timeloop's counts exactly and its
    energy within 0.2 %), for ``archgym map``'s defaults (budget 10,000
    mappings, 2 restarts) and seeds 0-2; CPU seconds per search on one core;
(c) distance from convergence: per ResNet-18 layer on the Eyeriss-like
    architecture (unconstrained: bypass is searched too), the mapper's EDP at
    budgets 20 ... 10,000 (seeds 0-2) over the best EDP of a long search (the
    mapper at 3 x 30,000 plus 200,000 uniformly random mappings); and the
    old figure, mapper at AcceleratorArch-v0's default budget vs the best of
    the long random search alone;
(d) AcceleratorArch-v0 on ResNet-18 (Eyeriss's shape): CPU seconds per design
    and network EDP at mapper budgets 20 ... 3,000 over the EDP at 10,000;
(e) imperfect factorization (``imperfect=true``, residual factors): the mapper at
    ``archgym map``'s defaults (10,000 mappings, 2 restarts, seeds 0-2) in the
    imperfect space over the perfect-only space, same budget, ``reuse=exact``
    (residuals are costed in that mode only), on the cases of (b) and the
    ResNet-18 layers of (c) on the Eyeriss-like architecture; EDP ratio per seed
    (below 1: the imperfect space found a better mapping), CPU seconds per
    search, and the kernel's mappings per second on random imperfect designs.
    ``--only imperfect`` runs just this part and merges it into the results file.
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
from archgym.simulators.dataflow import evaluate_mapping  # noqa: E402
from archgym.simulators.dataflow.mapper import map_layer  # noqa: E402
from archgym.simulators.dataflow.timeloop_io import load_yaml, parse_mapping  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results" / "dataflow.json"
EXERCISES = ROOT / "tests" / "data" / "dataflow_exercises"
ARCH_BUDGET = AcceleratorArchSimulator().mapper_budget
MAP_BUDGET, MAP_RESTARTS = 10000, 2          # archgym map's defaults
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


def versus_timeloop(budget: int, restarts: int, seeds: int) -> dict:
    rows = []
    for d in sorted(p for p in EXERCISES.iterdir() if (p / "map.yaml").exists()):
        inp = d / "parsed-processed-input.yaml"
        sim = DataflowMappingSimulator(workload=str(inp), arch=str(inp), ert=str(d / "ERT.yaml"), reuse="timeloop")
        theirs = evaluate_mapping(sim.problem, sim.arch, parse_mapping(load_yaml(d / "map.yaml"), sim.problem, sim.arch),
                                  "timeloop", sim.table)["metrics"]
        printed = [ln for ln in (d / "stats.txt").read_text().splitlines() if ln.startswith("EDP(J*cycle)")]
        ratios, cpu = [], []
        for seed in range(seeds):
            c0 = time.process_time()
            res = map_layer(sim.problem, sim.arch, budget, seed, "timeloop", "edp", space=sim.mspace, table=sim.table,
                            restarts=restarts)
            cpu.append(time.process_time() - c0)
            ratios.append(res.metrics["edp"] / theirs["edp"])
        rows.append({"case": d.name, "timeloop_edp_pj_cycles": theirs["edp"],
                     "timeloop_printed_edp_j_cycles": float(printed[0].split(":")[1]) if printed else None,
                     "timeloop_cycles": theirs["cycles"], "timeloop_energy_pj": theirs["energy_pj"],
                     "space_size": float(sim.space.size), "ratio_by_seed": ratios, "ratio_worst": max(ratios),
                     "cpu_s_median": statistics.median(cpu)})
        print(f"  {d.name:40s} ours/Timeloop EDP {' '.join(f'{r:.3f}' for r in ratios)}  "
              f"{statistics.median(cpu):.1f} s CPU", flush=True)
    return {"budget": budget, "restarts": restarts, "seeds": seeds, "cases": rows,
            "worst_ratio": max(r["ratio_worst"] for r in rows),
            "median_ratio": float(np.median([np.median(r["ratio_by_seed"]) for r in rows]))}


def convergence(n_random: int, long_budget: int, budgets: list[int], seeds: int) -> dict:
    arch = eyeriss_like()
    rows = []
    for name in MAPPER_LAYERS:
        sim = DataflowMappingSimulator(workload=name, arch=arch)
        random_best, rng = np.inf, np.random.default_rng(0)
        for lo in range(0, n_random, 20000):
            m, r = sim.evaluate_indices(sim.space.sample_indices(rng, n=min(20000, n_random - lo)))
            ok = r == ""
            if ok.any():
                random_best = min(random_best, float(np.nanmin(m["edp"][ok])))
        long_best = map_layer(sim.problem, arch, long_budget, 1000, restarts=3, space=sim.mspace).metrics["edp"]
        best = min(random_best, long_best)
        at = {}
        for b in budgets:
            c0 = time.process_time()
            edps = [map_layer(sim.problem, arch, b, seed, space=sim.mspace).metrics["edp"] for seed in range(seeds)]
            at[str(b)] = {"ratio_by_seed": [e / best for e in edps], "ratio_median": float(np.median(edps) / best),
                          "cpu_s_per_search": (time.process_time() - c0) / seeds}
        default = [map_layer(sim.problem, arch, ARCH_BUDGET, seed, space=sim.mspace).metrics["edp"]
                   for seed in range(seeds)]
        rows.append({"layer": name, "long_best_edp": best, "random_best_edp": random_best, "mapper_long_edp": long_best,
                     "by_budget": at, "default_vs_random_ratio_median": float(np.median(default) / random_best)})
        print(f"  {name:32s} " + "  ".join(f"{b}: {at[str(b)]['ratio_median']:.2f}" for b in budgets), flush=True)
    return {"random_mappings": n_random, "long_mapper_budget": f"3 x {long_budget}", "seeds": seeds,
            "default_budget": ARCH_BUDGET, "layers": rows,
            "median_over_layers_by_budget": {str(b): float(np.median([r["by_budget"][str(b)]["ratio_median"]
                                                                     for r in rows])) for b in budgets},
            "default_vs_random_median_over_layers": float(np.median([r["default_vs_random_ratio_median"]
                                                                     for r in rows]))}


def arch_budgets(budgets: list[int], top: int) -> dict:
    out = {}
    cfg = AcceleratorArchSimulator().reference_config()
    ref = AcceleratorArchSimulator(mapper_budget=top).evaluate(cfg)["edp"]
    for b in budgets:
        c0 = time.process_time()
        res = AcceleratorArchSimulator(mapper_budget=b).evaluate(cfg)   # fresh instance: no memo
        out[str(b)] = {"cpu_s_per_design": time.process_time() - c0, "edp": res["edp"], "ratio_to_top": res["edp"] / ref}
        print(f"  AcceleratorArch-v0 resnet18, mapper budget {b}: {out[str(b)]['cpu_s_per_design']:.1f} s CPU, "
              f"EDP / EDP at {top} = {out[str(b)]['ratio_to_top']:.3f}", flush=True)
    return {"workload": "resnet18", "design": cfg, "top_budget": top, "edp_at_top": ref, "by_budget": out}


def imperfect_vs_perfect(budget: int, restarts: int, seeds: int, n_kernel: int) -> dict:
    """(e): the imperfect space against the perfect-only one at the same budget (``reuse=exact``)."""
    cases = [(d.name, dict(workload=str(d / "parsed-processed-input.yaml"), arch=str(d / "parsed-processed-input.yaml"),
                           ert=str(d / "ERT.yaml")))
             for d in sorted(p for p in EXERCISES.iterdir() if (p / "map.yaml").exists())]
    cases += [(f"{name} / eyeriss_like", dict(workload=name, arch="eyeriss_like")) for name in MAPPER_LAYERS]
    rows = []
    for case, kw in cases:
        row: dict = {"case": case}
        for imperfect in (False, True):
            sim = DataflowMappingSimulator(**kw, imperfect=imperfect)
            edps, cpu, resid = [], [], 0
            for seed in range(seeds):
                c0 = time.process_time()
                res = map_layer(sim.problem, sim.arch, budget, seed, "exact", "edp", space=sim.mspace, table=sim.table,
                                restarts=restarts)
                cpu.append(time.process_time() - c0)
                edps.append(res.metrics["edp"])
                nest = sim.mspace.nest(res.indices[None, :])
                resid += bool(nest.rt is not None and np.any(nest.rt != nest.tf))
            key = "imperfect" if imperfect else "perfect"
            row[key] = {"edp_by_seed": edps, "cpu_s_median": statistics.median(cpu), "params": len(sim.space.names)}
            if imperfect:
                row[key]["best_has_residuals_seeds"] = resid
        row["ratio_by_seed"] = [a / b for a, b in zip(row["imperfect"]["edp_by_seed"], row["perfect"]["edp_by_seed"])]
        row["ratio_median"] = float(np.median(row["ratio_by_seed"]))
        row["ratio_of_best"] = min(row["imperfect"]["edp_by_seed"]) / min(row["perfect"]["edp_by_seed"])
        rows.append(row)
        print(f"  {case:44s} imperfect/perfect EDP {' '.join(f'{r:.3f}' for r in row['ratio_by_seed'])}  CPU "
              f"{row['perfect']['cpu_s_median']:.1f} -> {row['imperfect']['cpu_s_median']:.1f} s", flush=True)
    kernel = {}
    for imperfect in (False, True):
        sim = DataflowMappingSimulator(workload=LAYER, arch="three_level", imperfect=imperfect)
        idx = sim.space.sample_indices(np.random.default_rng(0), n=n_kernel)
        sim.evaluate_indices(idx[:200])
        t = cpu_and_wall(lambda: sim.evaluate_indices(idx), 3)
        kernel["imperfect" if imperfect else "perfect"] = {**t, "mappings": n_kernel,
                                                          "mappings_per_s": n_kernel / t["cpu_s"]}
    return {"budget": budget, "restarts": restarts, "seeds": seeds, "reuse": "exact", "cases": rows,
            "median_ratio": float(np.median([r["ratio_median"] for r in rows])),
            "cases_better": sum(r["ratio_median"] < 1 - 1e-9 for r in rows),
            "cases_worse": sum(r["ratio_median"] > 1 + 1e-9 for r in rows),
            "best_of_seeds_median_ratio": float(np.median([r["ratio_of_best"] for r in rows])),
            "kernel_random_designs": kernel}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run; writes nothing)")
    ap.add_argument("--only", choices=("imperfect",), help="run one part and merge it into the results file")
    args = ap.parse_args(argv)
    q = args.quick
    out = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                       "load_avg": os.getloadavg()}}
    if args.only == "imperfect" or not args.only:
        print("imperfect vs perfect-only space (reuse=exact, same budget):", flush=True)
        part = imperfect_vs_perfect(2000 if q else MAP_BUDGET, MAP_RESTARTS, 1 if q else 3, 2000 if q else 10000)
        part["load_avg"] = [out["machine"]["load_avg"], os.getloadavg()]
        if args.only:
            print(json.dumps({k: v for k, v in part.items() if k != "cases"}, indent=1, default=str))
            if not q:
                merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
                merged["imperfect"] = part
                RESULTS.write_text(json.dumps(merged, indent=1, default=str) + "\n")
            return part
        out["imperfect"] = part
    out["kernel"] = kernel_speed(20000 if q else 100000, 3 if q else 5)
    print("mapper vs timeloop-mapper:", flush=True)
    out["versus_timeloop"] = versus_timeloop(2000 if q else MAP_BUDGET, MAP_RESTARTS, 1 if q else 3)
    print("distance from convergence (EDP / best of a long search):", flush=True)
    out["convergence"] = convergence(20000 if q else 200000, 3000 if q else 30000,
                                     [20, 200] if q else [20, 200, 1000, 3000, 10000], 1 if q else 3)
    out["accelerator_arch"] = arch_budgets([20, 200] if q else [20, 200, 1000, 3000], 1000 if q else 10000)
    out["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps({k: v for k, v in out.items() if k != "convergence"}, indent=1, default=str)[:4000])
    if not q:
        RESULTS.write_text(json.dumps(out, indent=1, default=str) + "\n")
    return out


if __name__ == "__main__":
    main()

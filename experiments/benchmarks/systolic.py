"""Speed of the analytical systolic simulator (``archgym.simulators.systolic``).

Run:  python experiments/benchmarks/systolic.py [--quick]

Prints and writes ``experiments/benchmarks/results/systolic.json``:

All times are process CPU time of the single benchmark thread (median of
repeats), because the shared 2-core machines run other jobs; wall times are
recorded too.

(a) kernel throughput: (design, layer) points per second of
    :func:`evaluate_arrays` over 10^6 random points (random designs from the
    space x random layers of the shipped networks), single core, median of
    repeated runs: the compiled kernel (numba, the default install) and the
    numpy model (``jit=False``) measured in the same run;
(b) ``SystolicSimulator.evaluate`` time per call and ``evaluate_batch``
    throughput (designs/s, incl. the base class's validation and the
    DataFrame) on ResNet-18;
(c) per-layer time against SCALE-Sim 3.0.0's recorded wall time for each
    reference case (``scalesim_wall_s`` in shared/data/systolic, recorded on
    a similar 2-CPU x86_64 machine); with ``--scalesim-python PY`` (a Python
    that has ``scalesim`` 3.0.0 and ``numpy<2.4``; SCALE-Sim crashes on newer
    numpy) SCALE-Sim is also run live on the quick compute-bound cases, timed
    in CPU seconds next to us, and its Total Cycles are compared with ours.
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

from archgym.simulators.systolic import SystolicSimulator, evaluate_arrays  # noqa: E402
from archgym.simulators.systolic import layer_arrays  # noqa: E402
from archgym.simulators.systolic.compute import dataflow_code  # noqa: E402
from archgym.simulators.systolic.model import CHUNK_POINTS  # noqa: E402
from archgym.simulators.workloads import Layer, list_networks, load_network  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "systolic.json"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "systolic" / "scalesim_reference.json"


#: the clock used for every figure: process CPU time (one thread), so that other
#: processes sharing the machine do not inflate the numbers; wall time is
#: recorded alongside in ``wall_s`` entries
CLOCK = time.process_time


def _median_time(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return statistics.median(times), times


def _random_designs(sim: SystolicSimulator, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    idx = sim.space.sample_indices(rng, n)
    out = {}
    for i, p in enumerate(sim.space.parameters):
        vals = np.asarray(p.values, dtype=object)[idx[:, i]]
        out[p.name] = dataflow_code(vals.astype(str)) if p.name == "dataflow" else vals.astype(np.float64)
    return out


def kernel_throughput(n_points: int, repeats: int, seed: int = 0) -> dict:
    """(design, layer) points/s of evaluate_arrays, two layouts of the same number of points:

    * ``random``: ``n_points`` independent random designs, each paired with a random
      layer of any shipped network (every input is a length-n array);
    * ``grid``: ``n_points / 21`` random designs x the 21 ResNet-18 layers, shapes
      ``(P, 1)`` x ``(1, 21)`` (the layout ``evaluate_batch`` uses).
    """
    sim = SystolicSimulator("resnet18")
    rng = np.random.default_rng(seed)
    d = _random_designs(sim, rng, n_points)
    all_layers = [lay for n in list_networks() for lay in load_network(n)]
    la = layer_arrays(all_layers)
    pick = rng.integers(0, len(all_layers), n_points)
    lay = {k: v[pick] for k, v in la.items()}
    args = [d[p] for p in sim.space.names]

    def run_random(report=False, jit=None):
        evaluate_arrays(*args, lay, report=report, jit=jit)

    P = n_points // len(sim.layers)
    g = _random_designs(sim, rng, P)
    gargs = [g[p][:, None] for p in sim.space.names]
    glay = {k: v[None, :] for k, v in layer_arrays(sim.layers).items()}

    def run_grid(jit=None):
        evaluate_arrays(*gargs, glay, jit=jit)

    t0 = CLOCK()
    run_random()                   # first call: numba import + compile (or cache load)
    first_call_s = CLOCK() - t0
    run_grid()
    run_random(jit=False)
    med, times = _median_time(run_random, repeats)
    med_np, times_np = _median_time(lambda: run_random(jit=False), repeats)
    med_r, _ = _median_time(lambda: run_random(True), max(1, repeats // 2))
    med_g, times_g = _median_time(run_grid, repeats)
    med_gnp, _ = _median_time(lambda: run_grid(jit=False), repeats)
    return {"points": n_points, "repeats": repeats, "kernel": "compiled (numba, simulators/systolic/fast.py)",
            "first_call_s_incl_numba_import_and_compile_or_cache": first_call_s,
            "random": {"median_s": med, "all_s": times, "points_per_s": n_points / med,
                       "numpy_points_per_s": n_points / med_np, "numpy_all_s": times_np,
                       "speedup_over_numpy": med_np / med,
                       "points_per_s_with_report_columns": n_points / med_r,
                       "layers_sampled_from": len(all_layers)},
            "grid": {"designs": P, "layers": len(sim.layers), "median_s": med_g, "all_s": times_g,
                     "points_per_s": P * len(sim.layers) / med_g,
                     "numpy_points_per_s": P * len(sim.layers) / med_gnp},
            "chunk_points": CHUNK_POINTS}


def simulator_figures(n_batch: int, seed: int = 0) -> dict:
    sim = SystolicSimulator("resnet18")
    cfg = sim.reference_config()
    sim.evaluate(cfg)
    n = 300
    t0, w0 = CLOCK(), time.perf_counter()
    for _ in range(n):
        sim.evaluate(cfg)
    per_call = (CLOCK() - t0) / n
    per_call_wall = (time.perf_counter() - w0) / n
    t0 = CLOCK()
    SystolicSimulator("resnet50")
    construct = CLOCK() - t0
    cfgs = [sim.space.decode(i) for i in sim.space.sample_indices(seed, n_batch)]
    sim.evaluate_batch(cfgs[:100])
    t0, w0 = CLOCK(), time.perf_counter()
    sim.evaluate_batch(cfgs)
    batch_s = CLOCK() - t0
    batch_wall = time.perf_counter() - w0
    # the kernel alone on the same designs (no validation / DataFrame)
    d = {p: np.array([c[p] for c in cfgs]) for p in sim.space.names}
    t0 = CLOCK()
    sim.evaluate_arrays(**d)
    kernel_s = CLOCK() - t0
    return {"network": "resnet18", "layers": len(sim.layers), "evaluate_s_per_call": per_call,
            "evaluate_wall_s_per_call": per_call_wall, "construct_resnet50_s": construct, "batch_designs": n_batch,
            "evaluate_batch_s": batch_s, "evaluate_batch_wall_s": batch_wall,
            "evaluate_batch_designs_per_s": n_batch / batch_s,
            "evaluate_arrays_designs_per_s": n_batch / kernel_s,
            "evaluate_arrays_points_per_s": n_batch * len(sim.layers) / kernel_s,
            "space_size": sim.space.size,
            "full_space_sweep_est_s": sim.space.size / (n_batch / batch_s)}


def _reference_layer(lay: dict) -> Layer:
    if lay["kind"] == "gemm":
        return Layer.gemm(lay["name"], lay["gemm_m"], lay["gemm_n"], lay["gemm_k"])
    return Layer(lay["name"], "conv", lay["ifmap_h"], lay["ifmap_w"], lay["filt_h"], lay["filt_w"],
                 lay["channels"], lay["num_filters"], lay["stride"])


def scalesim_comparison(repeats: int = 20) -> dict | None:
    if not REFERENCE.exists():
        return None
    ref = json.loads(REFERENCE.read_text())
    layers = {lay["name"]: _reference_layer(lay) for lay in ref["layers"]}
    ours, theirs = [], []
    for c in ref["cases"]:
        if c["status"] != "ok":
            continue
        lay = layers[c["layer_name"]]
        bw = c["bandwidth"] if c["bw_mode"] == "USER" else 1e12

        def one():
            evaluate_arrays(c["array_rows"], c["array_cols"], c["dataflow"], *c["sram_kb"], bw,
                            lay, report=True)
        one()
        t, _ = _median_time(one, repeats)
        ours.append(t)
        theirs.append(c["scalesim_wall_s"])
    ours_a, theirs_a = np.array(ours), np.array(theirs)
    speedup = theirs_a / ours_a
    return {"cases": len(ours), "ours_median_s_per_layer": float(np.median(ours_a)),
            "scalesim_median_s_per_layer": float(np.median(theirs_a)),
            "scalesim_total_s": float(theirs_a.sum()), "ours_total_s": float(ours_a.sum()),
            "speedup_median": float(np.median(speedup)), "speedup_min": float(speedup.min()),
            "note": "SCALE-Sim times are the recorded scalesim_wall_s of the reference JSON (SCALE-Sim 3.0.0, "
                    "traces off, 2-CPU x86_64 machine with parallel workers), not re-run here; ours is one "
                    "scalar evaluate_arrays call with report columns on this machine."}


_SCALESIM_HARNESS = r"""
import json, os, sys, tempfile, time
from scalesim.scale_sim import scalesim
CFG = "\n".join([
    "[general]", "run_name = run",
    "[architecture_presets]", "ArrayHeight: {R}", "ArrayWidth: {C}", "IfmapSramSzkB: {kb[0]}",
    "FilterSramSzkB: {kb[1]}", "OfmapSramSzkB: {kb[2]}", "IfmapOffset: 0", "FilterOffset: 10000000",
    "OfmapOffset: 20000000", "Bandwidth: {bw}", "Dataflow: {df}", "MemoryBanks: 1",
    "ReadRequestBuffer: 32", "WriteRequestBuffer: 32",
    "[layout]", "IfmapCustomLayout: False", "IfmapSRAMBankBandwidth: {bw}", "IfmapSRAMBankNum: 1",
    "IfmapSRAMBankPort: 2", "FilterCustomLayout: False", "FilterSRAMBankBandwidth: {bw}",
    "FilterSRAMBankNum: 1", "FilterSRAMBankPort: 2",
    "[run_presets]", "InterfaceBandwidth: {mode}", "UseRamulatorTrace: False",
    "[sparsity]", "SparsitySupport: false", "SparseRep: ellpack_block", "OptimizedMapping: false",
    "BlockSize: 8", "RandomNumberGeneratorSeed: 40", ""])
out = []
for case in json.load(sys.stdin):
    with tempfile.TemporaryDirectory() as d:
        cfg, topo = os.path.join(d, "run.cfg"), os.path.join(d, "topo.csv")
        open(cfg, "w").write(CFG.format(**case))
        open(topo, "w").write(case["topology"])
        t, w = time.process_time(), time.perf_counter()
        sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=topo,
                       input_type_gemm=case["gemm"])
        sim.run_scale(top_path=os.path.join(d, "out"))
        cpu, wall = time.process_time() - t, time.perf_counter() - w
        row = open(os.path.join(d, "out", "run", "COMPUTE_REPORT.csv")).read().splitlines()[1].split(",")
        out.append({"cpu_s": cpu, "wall_s": wall, "compute_cycles": int(row[2])})
print(json.dumps(out))
"""


def scalesim_live(python: str, max_recorded_s: float = 2.0) -> dict:
    """Run SCALE-Sim itself (in another interpreter, e.g. a venv with ``scalesim`` 3.0.0 and
    ``numpy<2.4``) on the compute-bound reference cases that took <= ``max_recorded_s``;
    time it and us on this machine in CPU seconds and cross-check Total Cycles."""
    import subprocess

    ref = json.loads(REFERENCE.read_text())
    layers = {lay["name"]: lay for lay in ref["layers"]}
    cases = [c for c in ref["cases"] if c["group"] == "compute_bound" and c["scalesim_wall_s"] <= max_recorded_s]
    jobs = []
    for c in cases:
        lay = layers[c["layer_name"]]
        gemm = lay["kind"] == "gemm"
        if gemm:
            topo = f"Layer, M, N, K,\n{lay['name']}, {lay['gemm_m']}, {lay['gemm_n']}, {lay['gemm_k']},\n"
        else:
            topo = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                    f"Strides,\n{lay['name']}, {lay['ifmap_h']}, {lay['ifmap_w']}, {lay['filt_h']}, "
                    f"{lay['filt_w']}, {lay['channels']}, {lay['num_filters']}, {lay['stride']},\n")
        jobs.append({"R": c["array_rows"], "C": c["array_cols"], "kb": c["sram_kb"], "bw": c["bandwidth"],
                     "df": c["dataflow"], "mode": c["bw_mode"], "topology": topo, "gemm": gemm})
    proc = subprocess.run([python, "-c", _SCALESIM_HARNESS], input=json.dumps(jobs), capture_output=True,
                          text=True, check=True)
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    ours, match = [], 0
    for c, th in zip(cases, theirs):
        layer = _reference_layer(layers[c["layer_name"]])

        def one():
            return evaluate_arrays(c["array_rows"], c["array_cols"], c["dataflow"], *c["sram_kb"], 1e12, layer,
                                   report=True)
        match += int(one()["compute_cycles"][0] == th["compute_cycles"])
        ours.append(_median_time(one, 20)[0])
    cpu = np.array([t["cpu_s"] for t in theirs])
    ours_a = np.array(ours)
    return {"cases": len(cases), "compute_cycles_identical": match,
            "scalesim_cpu_s_median": float(np.median(cpu)),
            "scalesim_wall_s_median": float(np.median([t["wall_s"] for t in theirs])),
            "ours_cpu_s_median": float(np.median(ours_a)), "speedup_median": float(np.median(cpu / ours_a)),
            "speedup_min": float((cpu / ours_a).min()),
            "note": f"SCALE-Sim 3.0.0 run live (traces off) on the compute-bound reference cases whose recorded "
                    f"time was <= {max_recorded_s} s; CPU seconds on this machine."}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points/repeats (smoke test)")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--scalesim-python", default=None,
                    help="a Python with scalesim 3.0.0 (and numpy<2.4) installed: also run SCALE-Sim live")
    args = ap.parse_args(argv)
    n_points, repeats, n_batch = (10**5, 3, 2000) if args.quick else (10**6, 7, 20000)
    res = {"machine": {"python": platform.python_version(), "numpy": np.__version__,
                       "cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                       "threads": "1 (OMP/OPENBLAS/MKL_NUM_THREADS=1)", "clock": "time.process_time",
                       "load_average_at_start": os.getloadavg()},
           "kernel": kernel_throughput(n_points, repeats),
           "simulator": simulator_figures(n_batch),
           "scalesim": scalesim_comparison(5 if args.quick else 20)}
    if args.scalesim_python and REFERENCE.exists():
        res["scalesim_live"] = scalesim_live(args.scalesim_python)
    k, s, c = res["kernel"], res["simulator"], res["scalesim"]
    print(f"(a) evaluate_arrays, {k['points']:.0e} (design, layer) points, median of {k['repeats']} runs: "
          f"random pairs {k['random']['points_per_s']:.3g} points/s compiled "
          f"(numpy model {k['random']['numpy_points_per_s']:.3g}/s, x{k['random']['speedup_over_numpy']:.1f}; "
          f"{k['random']['points_per_s_with_report_columns']:.3g}/s with report columns, numpy); "
          f"design x layer grid {k['grid']['points_per_s']:.3g} points/s "
          f"(numpy {k['grid']['numpy_points_per_s']:.3g}/s); first call {k['first_call_s_incl_numba_import_and_compile_or_cache']:.2f} s")
    print(f"(b) evaluate: {s['evaluate_s_per_call'] * 1e6:.0f} us/call on {s['network']} ({s['layers']} layers); "
          f"evaluate_batch: {s['evaluate_batch_designs_per_s']:.3g} designs/s "
          f"(kernel alone {s['evaluate_arrays_designs_per_s']:.3g} designs/s); "
          f"full space ({s['space_size']} designs) ~{s['full_space_sweep_est_s']:.0f} s")
    if c:
        print(f"(c) per layer: ours {c['ours_median_s_per_layer'] * 1e6:.0f} us vs SCALE-Sim "
              f"{c['scalesim_median_s_per_layer']:.3f} s (recorded): median speed-up {c['speedup_median']:.3g}x "
              f"over {c['cases']} cases")
    live = res.get("scalesim_live")
    if live:
        print(f"(c') live SCALE-Sim, {live['cases']} cases: {live['compute_cycles_identical']} identical Total "
              f"Cycles; SCALE-Sim {live['scalesim_cpu_s_median']:.3f} s vs ours "
              f"{live['ours_cpu_s_median'] * 1e6:.0f} us CPU per layer: median speed-up {live['speedup_median']:.3g}x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")
    return res


if __name__ == "__main__":
    main()

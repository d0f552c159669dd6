"""DRAM simulator benchmark: speed (requests/s) and fidelity against DRAMSys 4.0.

Usage::

    python -m archgym.experiments.benchmarks.dram [--no-fidelity] [--pure] [--out PATH]

Speed: requests simulated per second, single core, median of 5 runs after one
warm-up (so numba's compile time is excluded), measured in process CPU time
(the headline; the machines are shared) and wall time (also recorded), on
ArchGym's four traces (``stream``, ``random``, ``cloud-1``, ``cloud-2`` from
``../shared/data/dram/traces`` when present) and the shipped synthetic
workloads, under ArchGym's baseline controller configuration.

Fidelity: every DRAMSys 4.0 reference case in
``../shared/data/dram/dramsys_reference.json`` (trace + full mcconfig) is
simulated; total time and average power errors are summarized per memory
(cases within 2 % / 1 %, worst cases).

Writes ``experiments/benchmarks/results/dram.json`` and prints the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from archgym.simulators.dram import jit_available, load_standard, load_trace, resolve_workload, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "dram"
RESULTS = Path(__file__).resolve().parent / "results" / "dram.json"
ARCHGYM_TRACES = ("stream", "random", "cloud-1", "cloud-2")
SYNTHETIC = ("stream", "random", "seq_read_g25", "rand_read", "mixed_rw", "row_conflict", "half_load_random")


def reference_trace_path(mem: str, name: str) -> Path:
    """Where a reference case's trace lives under ``shared/data/dram/traces``."""
    if name.startswith("ddr4_"):
        return SHARED / "traces" / "synthetic_ddr4" / name[5:]
    if name in ("stream.stl", "random.stl", "cloud-1.stl", "cloud-2.stl"):
        return SHARED / "traces" / name
    return SHARED / "traces" / f"synthetic_{mem}" / name


def _rate(spec, trace, jit, repeats=5):
    """Median wall and CPU (process) time of ``repeats`` runs; CPU time is the
    headline figure because the benchmark machines are shared (load is recorded)."""
    run(spec, trace, {}, jit=jit)  # warm-up (and compile)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        run(spec, trace, {}, jit=jit)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    w, c = statistics.median(wall), statistics.median(cpu)
    return {"requests": len(trace), "median_wall_s": w, "median_cpu_s": c,
            "requests_per_s": len(trace) / c if c > 0 else float("inf"),
            "requests_per_s_wall": len(trace) / w if w > 0 else float("inf")}


def speed(jit) -> dict:
    spec = load_standard("ddr3-1600")
    out: dict = {"archgym": {}, "synthetic": {}}
    for name in ARCHGYM_TRACES:
        p = SHARED / "traces" / f"{name}.stl"
        if p.is_file():
            out["archgym"][name] = _rate(spec, load_trace(p), jit)
    for name in SYNTHETIC:
        out["synthetic"][name] = _rate(spec, resolve_workload(name, spec), jit)
    return out


def fidelity(jit) -> dict:
    ref = json.loads((SHARED / "dramsys_reference.json").read_text())
    specs = {"ddr3": load_standard("ddr3-1600"), "ddr4": load_standard("ddr4-2400")}
    traces: dict = {}
    per_mem: dict = {}
    for case in ref["dramsys_results"]:
        mem = case["mem"]
        row = per_mem.setdefault(mem, {"cases": []})
        key = (mem, case["trace"])
        if key not in traces:
            traces[key] = load_trace(reference_trace_path(mem, case["trace"]))
        res = run(specs[mem], traces[key], case["mcconfig"], jit=jit)
        et = res.total_time_ns / case["total_time_ns"] - 1
        ep = res.energy.avg_power_mw / case["avg_power_mW"] - 1
        row["cases"].append({"trace": case["trace"], "override": case["override"], "time_err": et, "power_err": ep,
                             "energy_err": res.energy.total_pj / case["total_energy_pJ"] - 1})
    summary = {}
    for mem, row in per_mem.items():
        cs = row["cases"]
        te = np.array([abs(c["time_err"]) for c in cs])
        pe = np.array([abs(c["power_err"]) for c in cs])
        summary[mem] = {
            "cases": len(cs),
            "time_within_2pct": int((te <= 0.02).sum()), "power_within_1pct": int((pe <= 0.01).sum()),
            "time_exact_0.1pct": int((te <= 0.001).sum()),
            "median_abs_time_err": float(np.median(te)), "median_abs_power_err": float(np.median(pe)),
            "worst_time": sorted(cs, key=lambda c: -abs(c["time_err"]))[:5],
            "worst_power": sorted(cs, key=lambda c: -abs(c["power_err"]))[:5],
        }
    return summary


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-fidelity", action="store_true")
    ap.add_argument("--pure", action="store_true", help="force the pure-Python core")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    jit = False if args.pure else None
    t0 = time.perf_counter()
    used_jit = (not args.pure) and jit_available()
    compile_s = time.perf_counter() - t0
    out = {"simulator": "archgym.simulators.dram", "numba": used_jit, "jit_setup_s": compile_s,
           "load_average": os.getloadavg(), "cpu_count": os.cpu_count(),
           "python": platform.python_version(), "machine": platform.machine(), "speed": speed(jit)}
    for group, rows in out["speed"].items():
        for name, r in rows.items():
            print(f"speed  {group:9s} {name:18s} {r['requests_per_s']:>12,.0f} requests/s CPU "
                  f"({r['requests_per_s_wall']:>10,.0f} wall; median {r['median_cpu_s'] * 1e3:.1f} ms CPU)")
    if not args.no_fidelity and (SHARED / "dramsys_reference.json").is_file():
        t1 = time.perf_counter()
        out["fidelity"] = fidelity(jit)
        out["fidelity_wall_s"] = time.perf_counter() - t1
        for mem, s in out["fidelity"].items():
            print(f"fidelity {mem}: {s['cases']} cases; "
                  f"time within 2%: {s['time_within_2pct']}, power within 1%: {s['power_within_1pct']}; "
                  f"worst time {s['worst_time'][0]['time_err']:+.3%} ({s['worst_time'][0]['trace']} "
                  f"{s['worst_time'][0]['override']}), worst power {s['worst_power'][0]['power_err']:+.3%} "
                  f"({s['worst_power'][0]['trace']} {s['worst_power'][0]['override']})")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()

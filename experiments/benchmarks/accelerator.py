"""Accelerator-v0 benchmark: cost per design (exact and windowed), the window's error, HBM2 vs DDR4.

Usage::

    python experiments/benchmarks/accelerator.py [--designs 80] [--compare 50] [--out PATH]

Designs: ArchGym's baseline controller on a 32x32 ws design with 256 KB SRAMs
on DDR4-2400 (the env's reference design), plus random feasible designs of
the space (seed 0).  For each design and each workload (ResNet-18 and one
BERT-base encoder layer at sequence length 128), the whole stream is served
(``window=None``) and so is a sample of ``window`` requests per layer for
each window size; the relative error of ``latency_ns`` and
``dram_energy_pj`` against the whole stream is summarized (median, 90th
percentile, worst).

Cost per design: process CPU time (and wall) of one evaluation, median and
95th percentile over the designs, for the whole stream (the default) and
each window; the per-instance cache of identical layers is cleared before
every design, so repeated layers inside one network are the only reuse.  The
numba-compiled DRAM core is loaded before timing.

HBM2 vs DDR4 (``--compare`` random feasible designs per workload, seed 1):
each design on HBM2 and on DDR4-2400 at its channel count, exact service,
under each layout (address mapping x placement, :mod:`archgym.simulators.
accelerator.placement`); the latency ratio HBM2 / DDR4 (median, 10th/90th
percentile), how many designs are slower on HBM2, and the median row-hit rate.

Writes ``experiments/benchmarks/results/accelerator.json`` and prints the figures.
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

from archgym.simulators.accelerator import AcceleratorSimulator  # noqa: E402
from archgym.simulators.dram import jit_available  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "accelerator.json"
WORKLOADS = ("resnet18", "bert_base_layer")
WINDOWS = (2048, 4096, 8192)
METRICS = ("latency_ns", "dram_energy_pj")
#: (address_mapping, placement): Accelerator-v0 0.1's layout first, the default last
LAYOUTS = (("stock", "mib"), ("stock", "staggered"), ("interleaved", "packed"), ("interleaved", "staggered"))


def designs(sim: AcceleratorSimulator, n: int, seed: int = 0, reference: bool = True) -> list[dict]:
    """The reference design (if ``reference``) and random feasible ones, ``n`` in all."""
    out = [sim.reference_config()] if reference else []
    rng = np.random.default_rng(seed)
    while len(out) < n:
        cfg = sim.space.decode(sim.space.sample_indices(rng)[0])
        if AcceleratorSimulator(sim.layers, ideal_memory=True).evaluate(cfg)["feasible"]:
            out.append(cfg)
    return out


def timed(sim: AcceleratorSimulator, cfg: dict) -> tuple[dict, float, float]:
    """One evaluation from a cleared cache: (metrics, wall s, CPU s)."""
    sim._cache.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    res = sim.evaluate(cfg)
    return res, time.perf_counter() - t0, time.process_time() - c0


def summary(errors: list[float]) -> dict:
    a = np.abs(np.asarray(errors))
    return {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "max": float(a.max()),
            "mean_signed": float(np.mean(errors)), "min_signed": float(np.min(errors)),
            "max_signed": float(np.max(errors))}


def cost(seconds: list[float]) -> dict:
    """Median, 95th percentile and worst of per-design times (s)."""
    a = np.asarray(seconds)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max())}


def compare_standards(workload: str, n: int) -> dict:
    """HBM2 vs DDR4-2400 at equal channels, exact service, per layout (module docstring)."""
    base = AcceleratorSimulator(workload)
    cfgs = designs(base, n, seed=1, reference=False)
    out = {}
    for mapping, placement in LAYOUTS:
        sim = AcceleratorSimulator(workload, address_mapping=mapping, placement=placement)
        ratio, hit_hbm, hit_ddr, e_ratio = [], [], [], []
        for cfg in cfgs:
            h = sim.evaluate({**cfg, "memory": "hbm2"})
            d = sim.evaluate({**cfg, "memory": "ddr4-2400"})
            ratio.append(h["latency_ns"] / d["latency_ns"])
            e_ratio.append(h["dram_energy_pj"] / d["dram_energy_pj"])
            hit_hbm.append(h["row_hit_rate"])
            hit_ddr.append(d["row_hit_rate"])
        r = np.asarray(ratio)
        out[f"{mapping}/{placement}"] = {
            "designs": len(cfgs), "latency_ratio_median": float(np.median(r)),
            "latency_ratio_p10": float(np.percentile(r, 10)), "latency_ratio_p90": float(np.percentile(r, 90)),
            "hbm2_slower": int(np.sum(r > 1.0)), "dram_energy_ratio_median": float(np.median(e_ratio)),
            "row_hit_hbm2_median": float(np.median(hit_hbm)), "row_hit_ddr4_median": float(np.median(hit_ddr))}
        v = out[f"{mapping}/{placement}"]
        print(f"  {workload} {mapping}/{placement}: HBM2/DDR4 latency median {v['latency_ratio_median']:.2f} "
              f"(p10 {v['latency_ratio_p10']:.2f}, p90 {v['latency_ratio_p90']:.2f}), HBM2 slower on "
              f"{v['hbm2_slower']}/{len(cfgs)}; row hits {v['row_hit_hbm2_median']:.3f} / "
              f"{v['row_hit_ddr4_median']:.3f}")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=80)
    ap.add_argument("--compare", type=int, default=50, help="designs per workload for HBM2 vs DDR4 (0: skip)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    jit_available()                                         # load the compiled core outside the timings
    out: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                             "load_before": os.getloadavg()[0]},
                 "default_window": AcceleratorSimulator().window, "workloads": {}}
    for wl in WORKLOADS:
        full = AcceleratorSimulator(wl, window=None)
        cfgs = designs(full, args.designs)
        rec: dict = {"designs": len(cfgs), "full": {"wall_s": [], "cpu_s": []}, "windows": {}}
        ref = []
        for cfg in cfgs:
            r, w, c = timed(full, cfg)
            ref.append(r)
            rec["full"]["wall_s"].append(w)
            rec["full"]["cpu_s"].append(c)
        for window in WINDOWS:
            sim = AcceleratorSimulator(wl, window=window)
            errs = {m: [] for m in METRICS}
            wall, cpu = [], []
            for cfg, r0 in zip(cfgs, ref):
                r, w, c = timed(sim, cfg)
                wall.append(w)
                cpu.append(c)
                for m in METRICS:
                    errs[m].append(r[m] / r0[m] - 1.0)
            rec["windows"][str(window)] = {"error": {m: summary(v) for m, v in errs.items()},
                                           "errors": errs, "median_wall_s": statistics.median(wall),
                                           "median_cpu_s": statistics.median(cpu), "cpu_s": cost(cpu)}
        for k in ("wall_s", "cpu_s"):
            rec["full"][f"median_{k}"] = statistics.median(rec["full"][k])
        rec["full"]["cpu"] = cost(rec["full"]["cpu_s"])
        rec["stall_fraction"] = [r["stall_cycles"] / r["cycles"] for r in ref]
        out["workloads"][wl] = rec
        fc = rec["full"]["cpu"]
        print(f"{wl}: whole stream (default) CPU s/design median {fc['median']:.3f}, p95 {fc['p95']:.3f}, "
              f"max {fc['max']:.3f}")
        for window, v in rec["windows"].items():
            e = v["error"]
            print(f"  window {window}: CPU s/design median {v['cpu_s']['median']:.3f}, p95 {v['cpu_s']['p95']:.3f}; "
                  f"latency error median {e['latency_ns']['median']:.2%} p90 {e['latency_ns']['p90']:.2%} "
                  f"max {e['latency_ns']['max']:.2%}; DRAM energy median {e['dram_energy_pj']['median']:.2%} "
                  f"p90 {e['dram_energy_pj']['p90']:.2%} max {e['dram_energy_pj']['max']:.2%}")
    if args.compare:
        out["hbm2_vs_ddr4"] = {wl: compare_standards(wl, args.compare) for wl in WORKLOADS}
    out["machine"]["load_after"] = os.getloadavg()[0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

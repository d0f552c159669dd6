"""Accelerator-v0 benchmark: designs per second, and the windowed extrapolation's error.

Usage::

    python experiments/benchmarks/accelerator.py [--designs 12] [--out PATH]

Designs: ArchGym's baseline controller on a 32x32 ws design with 256 KB SRAMs
on DDR4-2400 (the env's reference design), plus random feasible designs of
the space (seed 0).  For each design and each workload (ResNet-18 and one
BERT-base encoder layer at sequence length 128), the whole stream is served
(``window=None``) and so is a sample of ``window`` requests per layer for
each window size; the relative error of ``latency_ns`` and
``dram_energy_pj`` against the whole stream is summarized (median, 90th
percentile, worst).

Speed: one design evaluation of ResNet-18 on one core, wall and process CPU
time, median over the designs, with the default window and with the whole
stream; the per-instance cache of identical layers is cleared before every
design, so repeated layers inside one network are the only reuse.  The
numba-compiled DRAM core is loaded before timing.

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


def designs(sim: AcceleratorSimulator, n: int, seed: int = 0) -> list[dict]:
    """The reference design and ``n - 1`` random feasible ones."""
    out = [sim.reference_config()]
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
            "mean_signed": float(np.mean(errors))}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=12)
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
                                           "median_cpu_s": statistics.median(cpu)}
        for k in ("wall_s", "cpu_s"):
            rec["full"][f"median_{k}"] = statistics.median(rec["full"][k])
        rec["stall_fraction"] = [r["stall_cycles"] / r["cycles"] for r in ref]
        out["workloads"][wl] = rec
        print(f"{wl}: whole stream {rec['full']['median_wall_s']:.3f} s/design "
              f"({1 / rec['full']['median_cpu_s']:.2f} designs/s CPU)")
        for window, v in rec["windows"].items():
            e = v["error"]
            print(f"  window {window}: {v['median_wall_s']:.3f} s/design ({1 / v['median_cpu_s']:.2f} designs/s CPU); "
                  f"latency error median {e['latency_ns']['median']:.2%} p90 {e['latency_ns']['p90']:.2%} "
                  f"max {e['latency_ns']['max']:.2%}; DRAM energy median {e['dram_energy_pj']['median']:.2%} "
                  f"p90 {e['dram_energy_pj']['p90']:.2%} max {e['dram_energy_pj']['max']:.2%}")
    out["machine"]["load_after"] = os.getloadavg()[0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

"""Proxy cost models: error and speed-up against the real simulators.

For each simulator (Systolic-v0 on ResNet-18, and DRAM-v0 on a short synthetic
trace when available) and each model kind: train on N random designs, test on
held-out random designs; report per-metric median APE and Spearman rank
correlation, feasibility accuracy, fit time, and the speed-up of the proxy's
``evaluate_batch`` over the simulator's on the test batch (median of repeats).

    python experiments/benchmarks/cost_models.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import archgym
from archgym.cost_models import ProxySimulator, dataset_from_simulator, score_proxy

RESULTS = Path(__file__).resolve().parent / "results" / "cost_models.json"


def bench(env_id: str, kwargs: dict, n_train: int, n_test: int, models: list[str]) -> dict:
    sim = archgym.make_simulator(env_id, **kwargs)
    t0 = time.perf_counter()
    data = dataset_from_simulator(sim, n_train + n_test, seed=0)
    gen_s = time.perf_counter() - t0
    train, test = data.split(n_test / (n_train + n_test), seed=1)
    out = {"env": env_id, "kwargs": kwargs, "n_train": len(train), "n_test": len(test),
           "dataset_generation_s": gen_s, "models": {}}
    for kind in models:
        t0 = time.perf_counter()
        proxy = ProxySimulator.train(sim, train, model=kind)
        fit_s = time.perf_counter() - t0
        score = score_proxy(proxy, sim, test, repeats=3)
        score["fit_s"] = fit_s
        out["models"][kind] = score
        worst = max(v["mape"] for v in score["metrics"].values())
        rho = min(v["spearman"] for v in score["metrics"].values() if v["spearman"] == v["spearman"])
        print(f"{env_id:<14} {kind:<4} n={len(train):>5}  fit {fit_s:6.2f}s  worst median APE {worst:6.2f}%  "
              f"min Spearman {rho:.3f}  feas acc {score['feasibility_accuracy']:.3f}  speed-up {score['speedup']:.1f}x")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_train, n_test = (1000, 300) if args.quick else (4000, 1000)
    results = {"runs": []}
    envs = archgym.list_envs()
    if "Systolic-v0" in envs:
        results["runs"].append(bench("Systolic-v0", {"workload": "resnet18"}, n_train, n_test, ["hgb", "rf", "knn"]))
    if "DRAM-v0" in envs:
        n = (200, 100) if args.quick else (600, 200)
        results["runs"].append(bench("DRAM-v0", {"workload": "stream"}, n[0], n[1], ["hgb", "rf"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

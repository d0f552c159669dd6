"""Core overheads: `import archgym` time, DSEEnv.step and Store throughput.

Prints the figures and writes them to experiments/benchmarks/results/core.json.
Medians over repeated runs (these machines are shared and noisy).

    python experiments/benchmarks/core.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "core.json"


def import_time_ms(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import archgym"], check=True)
        times.append((time.perf_counter() - t0) * 1e3)
    base = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times) - statistics.median(base)


def step_us(env_id: str, repeats: int, n: int = 2000, **kwargs) -> dict:
    import archgym

    env = archgym.make(env_id, **kwargs)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(n)]
    sim = env.simulator
    configs = [env.space.decode(a) for a in actions]
    step, bare = [], []
    for _ in range(repeats):
        env.history.clear()
        t0 = time.perf_counter()
        for a in actions:
            env.step(a)
        step.append((time.perf_counter() - t0) / n * 1e6)
        t0 = time.perf_counter()
        for c in configs:
            sim.evaluate(c)
        bare.append((time.perf_counter() - t0) / n * 1e6)
    return {"env_step_us": statistics.median(step), "simulator_evaluate_us": statistics.median(bare),
            "env_overhead_us": statistics.median(step) - statistics.median(bare), "steps": n}


def store_rows_per_s(repeats: int, n: int = 20000) -> float:
    from archgym.store import Store

    rows = [{"config": {"a": i, "b": "x"}, "metrics": {"m": float(i)}, "reward": 0.5, "feasible": True,
             "reason": "", "wall_time_s": 1e-4} for i in range(n)]
    rates = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as d, Store(Path(d) / "s.db") as st:
            sid = st.study("bench")
            tid = st.add_trial(sid, f"t{r}", "random", {}, "X", {}, 0, n)
            t0 = time.perf_counter()
            st.start_trial(tid)
            st.complete_trial(tid, rows)
            rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    import archgym
    from archgym.testing import ToySimulator

    archgym.register("Toy-v0", ToySimulator, overwrite=True)
    out = {"repeats": args.repeats, "import_archgym_ms": round(import_time_ms(args.repeats), 1)}
    out["toy_env"] = step_us("Toy-v0", args.repeats)
    if "Systolic-v0" in archgym.list_envs():
        out["systolic_env_resnet18"] = step_us("Systolic-v0", args.repeats, n=500, workload="resnet18")
    out["store_evaluation_rows_per_s"] = round(store_rows_per_s(args.repeats))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

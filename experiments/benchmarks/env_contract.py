"""What routing DSEEnv through the public ``Simulator.evaluate`` costs per step.

Issue 10 made ``DSEEnv`` cost designs through the simulator's public
``evaluate`` (so a simulator overriding it is never bypassed) instead of the
private ``_finish(_evaluate())``.  This measures, in the same process and with
interleaved repeats (so machine load affects both alike), ``env.step`` on the
public path and on the old private path (the simulator's ``evaluate`` patched
back to ``_finish(_evaluate())``), and prints the median difference and ratio.

    python experiments/benchmarks/env_contract.py [--repeats 9]

Writes experiments/benchmarks/results/env_contract.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "env_contract.json"


def paired_step_us(env_id: str, repeats: int, n: int, **kwargs) -> dict:
    import archgym

    env = archgym.make(env_id, **kwargs)
    env.reset(seed=0)
    sim = env.simulator
    actions = [env.action_space.sample() for _ in range(n)]

    def private(config):
        return sim._finish(sim._evaluate(dict(config)))

    public_us, private_us = [], []
    for _ in range(repeats):
        for path, out in (("public", public_us), ("private", private_us)):
            if path == "private":
                sim.evaluate = private
            env.history.clear()
            t0 = time.perf_counter()
            for a in actions:
                env.step(a)
            out.append((time.perf_counter() - t0) / n * 1e6)
            if path == "private":
                del sim.evaluate
    pub, priv = statistics.median(public_us), statistics.median(private_us)
    return {"steps": n, "public_evaluate_step_us": round(pub, 2), "private_path_step_us": round(priv, 2),
            "difference_us": round(pub - priv, 2), "ratio": round(pub / priv, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    import os

    import archgym
    from archgym.testing import ToySimulator

    archgym.register("Toy-v0", ToySimulator, overwrite=True)
    out = {"repeats": args.repeats, "load_average_1min": round(os.getloadavg()[0], 2),
           "toy_env": paired_step_us("Toy-v0", args.repeats, 2000),
           "systolic_env_resnet18": paired_step_us("Systolic-v0", args.repeats, 300, workload="resnet18")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: the multi-agent searcher's variants on the separable problem (known optimum).

Problem: :class:`~archgym.testing.SeparableSimulator`
(10 parameters x 8 values, cost = sum of per-parameter terms, unique optimum
at reward 1).  For each variant and seed, one ``run`` of ``--budget``
evaluations; reported per variant: how many seeds reach the optimum, the
median number of evaluations to reach it (over the seeds that do), the median
best reward after 100 / 200 / ``budget`` evaluations, and the searcher's
cost per evaluation: ``overhead_ms_per_eval`` (wall time of ``run`` minus
simulator time) and ``cpu_ms_per_eval`` (CPU time of the process during
``run``, which is what the searcher costs on a loaded machine; the simulator
takes microseconds here).  One process, one math thread, torch imported and a
warm-up run done before timing.

Variants: ``marl`` with one agent per parameter (the paper's form) and with
the declared pairs (5 agents), each with the per-agent (``local``) and the
centralized (``central``) critic; random search as the floor.  This is the
measurement behind keeping (or not) the centralized critic.

Usage::

    python experiments/benchmarks/marl.py                 # 10 seeds x 400 evaluations
    python experiments/benchmarks/marl.py --seeds 3 --budget 200

Writes ``experiments/benchmarks/results/marl.json`` (``--out``) and prints the table.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "marl.json"

VARIANTS: dict[str, tuple[str, dict, bool]] = {  # name -> (agent, hyperparameters, declared pairs)
    "marl per-parameter, local critic": ("marl", {"groups": "parameters", "critic": "local"}, False),
    "marl per-parameter, central critic": ("marl", {"groups": "parameters", "critic": "central"}, False),
    "marl pairs, local critic": ("marl", {"groups": "declared", "critic": "local"}, True),
    "marl pairs, central critic": ("marl", {"groups": "declared", "critic": "central"}, True),
    "random": ("random", {}, False),
}


def run_variant(agent: str, params: dict, pairs: bool, seed: int, budget: int) -> dict:
    import archgym
    from archgym.env import DSEEnv

    from archgym.testing import SeparableSimulator

    env = DSEEnv(SeparableSimulator(groups=pairs))
    t0, c0 = time.perf_counter(), time.process_time()
    df = archgym.make_agent(agent, **params).run(env, budget, seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    best = df["reward"].cummax().to_numpy()
    hit = np.flatnonzero(best >= 1.0 - 1e-12)
    return {"seed": seed, "evals_to_optimum": int(hit[0]) + 1 if hit.size else None,
            "best": {str(c): float(best[min(c, len(best)) - 1]) for c in (100, 200, budget)},
            "overhead_ms_per_eval": 1e3 * (wall - float(df["wall_time_s"].sum())) / len(df),
            "cpu_ms_per_eval": 1e3 * cpu / len(df)}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--budget", type=int, default=400)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    from archgym.threads import limit_threads

    limit_threads(1)
    import torch  # noqa: F401  (imported before anything is timed)

    run_variant("marl", {}, False, 0, 40)  # warm-up: torch's first calls are slow

    result: dict = {"config": {"seeds": args.seeds, "budget": args.budget,
                               "problem": "Separable (10 x 8 values, sum of per-parameter terms)"},
                    "variants": {}}
    for name, (agent, params, pairs) in VARIANTS.items():
        runs = [run_variant(agent, params, pairs, s, args.budget) for s in range(args.seeds)]
        hits = [r["evals_to_optimum"] for r in runs if r["evals_to_optimum"] is not None]
        result["variants"][name] = {
            "agent": agent, "hyperparameters": params, "optimum_found": len(hits), "n_runs": len(runs),
            "median_evals_to_optimum": float(np.median(hits)) if hits else None,
            "median_best": {c: float(np.median([r["best"][c] for r in runs])) for c in runs[0]["best"]},
            "overhead_ms_per_eval": float(np.median([r["overhead_ms_per_eval"] for r in runs])),
            "cpu_ms_per_eval": float(np.median([r["cpu_ms_per_eval"] for r in runs])),
            "runs": runs}
        print(f"  {name}: optimum on {len(hits)}/{len(runs)} seeds", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    cps = list(next(iter(result["variants"].values()))["median_best"])
    head = f"{'variant':<38}{'found opt':>10}{'median evals':>14}" + "".join(f"{'best@' + c:>11}" for c in cps) \
        + f"{'ms/eval':>9}{'CPU ms/eval':>13}"
    print(head)
    for name, v in result["variants"].items():
        med = v["median_evals_to_optimum"]
        print(f"{name:<38}{str(v['optimum_found']) + '/' + str(v['n_runs']):>10}"
              f"{'-' if med is None else f'{med:.0f}':>14}" + "".join(f"{v['median_best'][c]:>11.4f}" for c in cps)
              + f"{v['overhead_ms_per_eval']:>9.2f}{v['cpu_ms_per_eval']:>13.2f}")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()

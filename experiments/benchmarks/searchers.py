"""Benchmark: every searcher's regret and overhead on Systolic-v0 (and DRAM-v0).

Systolic-v0 (workload ``resnet18``, objective ``cycles, energy_pj, area_mm2``,
an equal-weight latency/energy/area trade-off): the whole 352,947-design space
is evaluated once with ``simulator.evaluate_batch`` and scored with the env's
own objective, so the true optimum reward is known.  For each searcher and
seed the run records the best reward after 100, 300 and 1,000 evaluations;
the table gives the **median over seeds of the regret** (optimum reward - best
reward found) and the searcher's **overhead per evaluation** in ms (wall time
of ``run`` minus the time spent inside the simulator, as recorded per
evaluation in the trajectory, divided by the number of evaluations; env
bookkeeping is included).  Heavy imports (torch, SB3, scikit-learn, Optuna)
happen once per worker before any timing.

DRAM-v0 (workload ``mixed_rw``, objective ``avg_read_latency_ns, energy_pj``,
a latency/energy trade-off; ArchGym's own ``total_time_ns``/power pair varies
by only ~10% over random designs on these traces): the space (442,368 designs at ~40 ms each) cannot
be enumerated, so the reference is the best reward found by any run here plus a
long genetic-algorithm run (``--dram-reference-budget`` evaluations); regrets
are relative to that and therefore lower bounds.  Fewer seeds and a smaller
budget keep it affordable (``--dram-seeds``, ``--dram-budget``).

Searcher settings are the defaults, except the grid (``stride=3,
shuffle=True``: a seeded shuffle of the 1,458-point coarse lattice, since a
lexicographic grid only visits one corner of the space in 1,000 evaluations).

Usage::

    python experiments/benchmarks/searchers.py            # full: 10 seeds, 1,000 evals
    python experiments/benchmarks/searchers.py --quick    # 3 seeds, 300 evals, no DRAM
    python experiments/benchmarks/searchers.py --searchers ga,bo --seeds 5

Writes ``experiments/benchmarks/results/searchers.json`` (``--out``) and prints
the tables.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

SEARCHERS: dict[str, dict] = {
    "random": {},
    "random_walk": {},
    "grid": {"stride": 3, "shuffle": True},
    "ga": {},
    "aco": {},
    "bo": {},
    "optuna_tpe": {},
    "optuna_nsga2": {},
    "ppo": {},
    "a2c": {},
    "dqn": {},
    "sac": {},
    "marl": {},
}
# rough relative cost, to start the slow runs first
COST = {"bo": 10, "optuna_tpe": 8, "dqn": 6, "sac": 5, "ppo": 3, "marl": 3, "optuna_nsga2": 2, "a2c": 2}

SYSTOLIC = {"env_id": "Systolic-v0", "env_kwargs": {"workload": "resnet18"},
            "objective": "cycles, energy_pj, area_mm2"}
DRAM = {"env_id": "DRAM-v0", "env_kwargs": {"workload": "mixed_rw"},
        "objective": "avg_read_latency_ns, energy_pj"}

RESULTS = Path(__file__).resolve().parent / "results" / "searchers.json"


def _worker_init() -> None:
    """One math thread; import the heavy libraries before anything is timed."""
    from archgym.threads import limit_threads

    limit_threads(1)
    for mod in ("sklearn.gaussian_process", "scipy.stats", "optuna", "torch", "stable_baselines3"):
        try:
            __import__(mod)
        except ImportError:
            pass
    limit_threads(1)


def make_env(problem: dict):
    import archgym

    return archgym.make(problem["env_id"], objective=problem["objective"], **problem["env_kwargs"])


def run_one(problem: dict, agent: str, params: dict, seed: int, budget: int, checkpoints: list[int]) -> dict:
    """One search run: best reward at each checkpoint, wall and simulator time."""
    import archgym

    env = make_env(problem)
    searcher = archgym.make_agent(agent, **params)
    t0 = time.perf_counter()
    df = searcher.run(env, budget, seed)
    wall = time.perf_counter() - t0
    n = len(df)
    best = df["reward"].cummax().to_numpy()
    sim = float(df["wall_time_s"].sum())
    out = {"problem": problem["env_id"], "agent": agent, "seed": seed, "n_evaluations": n,
           "best": {str(c): float(best[min(c, n) - 1]) for c in checkpoints if n},
           "wall_s": wall, "simulator_s": sim,
           "overhead_ms_per_eval": 1e3 * (wall - sim) / max(n, 1),
           "best_config": {k: (v.item() if hasattr(v, "item") else v)
                           for k, v in df.loc[df["reward"].idxmax(), env.space.names].items()}}
    if hasattr(searcher, "timings_"):
        out["timings"] = {k: float(v) for k, v in searcher.timings_.items()}
    return out


def systolic_optimum(problem: dict) -> dict:
    """Enumerate the Systolic space with ``evaluate_batch``; score with the env's objective."""
    env = make_env(problem)
    space, sim = env.space, env.simulator
    t0 = time.perf_counter()
    idx = space.grid_indices()
    best_r, best_cfg, n_feasible = -math.inf, None, 0
    chunk = 50_000
    for s in range(0, len(idx), chunk):
        configs = [space.decode(i) for i in idx[s:s + chunk]]
        df = sim.evaluate_batch(configs)
        metrics = df[sim.metric_names].to_dict("records")
        feas = df["feasible"].to_numpy()
        n_feasible += int(feas.sum())
        for j, (m, f) in enumerate(zip(metrics, feas)):
            r = env.objective.reward({**m, "feasible": bool(f)})
            if r > best_r:
                best_r, best_cfg = r, configs[j]
    return {"optimum_reward": float(best_r), "optimum_config": best_cfg, "n_designs": int(len(idx)),
            "n_feasible": n_feasible, "enumeration_s": time.perf_counter() - t0,
            "subset": "none: the full space is enumerated"}


def run_problem(problem: dict, agents: list[str], seeds: int, budget: int, checkpoints: list[int],
                jobs: int, log=print) -> list[dict]:
    tasks = [(problem, a, SEARCHERS[a], s, budget, checkpoints) for a in agents for s in range(seeds)]
    tasks.sort(key=lambda t: -COST.get(t[1], 1))
    runs: list[dict] = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init) as pool:
        futs = {pool.submit(run_one, *t): t for t in tasks}
        for k, fut in enumerate(as_completed(futs), 1):
            t = futs[fut]
            try:
                r = fut.result()
            except Exception as exc:  # record, keep going
                r = {"problem": problem["env_id"], "agent": t[1], "seed": t[3], "error": repr(exc)}
            runs.append(r)
            log(f"  [{k}/{len(tasks)}] {problem['env_id']} {t[1]} seed {t[3]}: "
                + (f"error {r['error']}" if "error" in r else
                   f"best {max(r['best'].values()):.4f}, {r['wall_s']:.1f} s"))
    return runs


def summarize(runs: list[dict], optimum: float, checkpoints: list[int]) -> dict:
    """Per agent: median (and quartiles) of regret at each checkpoint, median overhead."""
    out = {}
    for agent in dict.fromkeys(r["agent"] for r in runs):
        ok = sorted((r for r in runs if r["agent"] == agent and "error" not in r), key=lambda r: r["seed"])
        if not ok:
            out[agent] = {"error": next(r["error"] for r in runs if r["agent"] == agent)}
            continue
        row = {"n_runs": len(ok), "regret_median": {}, "regret_q25": {}, "regret_q75": {}, "regret_by_seed": {}}
        for c in checkpoints:
            reg = np.array([optimum - r["best"][str(c)] for r in ok if str(c) in r["best"]])
            row["regret_median"][str(c)] = float(np.median(reg))
            row["regret_q25"][str(c)] = float(np.percentile(reg, 25))
            row["regret_q75"][str(c)] = float(np.percentile(reg, 75))
            row["regret_by_seed"][str(c)] = [float(v) for v in reg]
        row["overhead_ms_per_eval"] = float(np.median([r["overhead_ms_per_eval"] for r in ok]))
        row["simulator_ms_per_eval"] = float(np.median([1e3 * r["simulator_s"] / max(r["n_evaluations"], 1)
                                                        for r in ok]))
        row["optimum_found"] = sum(optimum - max(r["best"].values()) <= 1e-12 for r in ok)
        out[agent] = row
    return out


def comparisons(summary: dict, checkpoints: list[int]) -> list[str]:
    """Where our best searcher fails to beat random clearly or to match optuna_tpe."""
    ours = [a for a in summary if a not in ("random", "optuna_tpe", "optuna_nsga2") and "error" not in summary[a]]
    notes = []
    for c in map(str, checkpoints):
        if not ours:
            break
        best = min(ours, key=lambda a: summary[a]["regret_median"][c])
        mine = np.array(summary[best]["regret_by_seed"][c])
        for ref in ("random", "optuna_tpe"):
            if ref not in summary or "error" in summary[ref]:
                continue
            other = np.array(summary[ref]["regret_by_seed"][c])
            k = min(len(mine), len(other))
            wins = float(np.mean(mine[:k] < other[:k])) if k else math.nan
            ties = float(np.mean(mine[:k] == other[:k])) if k else math.nan
            m0, m1 = summary[best]["regret_median"][c], summary[ref]["regret_median"][c]
            if ref == "random":
                clear = m0 < m1 and wins >= 0.7
                verdict = "beats random clearly" if clear else "does NOT beat random clearly"
            else:
                clear = m0 <= m1 * 1.05 + 1e-12
                verdict = "matches optuna_tpe" if clear else "does NOT match optuna_tpe"
            notes.append(f"@{c}: our best ({best}, median regret {m0:.4g}) {verdict} "
                         f"({ref} median {m1:.4g}; paired by seed: {wins:.0%} wins, {ties:.0%} ties)")
    return notes


def table(title: str, summary: dict, checkpoints: list[int]) -> str:
    head = f"{'searcher':<14}" + "".join(f"{'regret@' + str(c):>14}" for c in checkpoints) \
        + f"{'found opt':>10}{'overhead ms/eval':>18}"
    lines = [title, head, "-" * len(head)]
    order = sorted(summary, key=lambda a: summary[a].get("regret_median", {}).get(str(checkpoints[-1]), math.inf))
    for a in order:
        s = summary[a]
        if "error" in s:
            lines.append(f"{a:<14} error: {s['error'][:80]}")
            continue
        lines.append(f"{a:<14}" + "".join(f"{s['regret_median'][str(c)]:>14.4g}" for c in checkpoints)
                     + f"{str(s['optimum_found']) + '/' + str(s['n_runs']):>10}{s['overhead_ms_per_eval']:>18.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 seeds, 300 evaluations, no DRAM")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--budget", type=int, default=None)
    p.add_argument("--searchers", default=",".join(SEARCHERS))
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--skip-dram", action="store_true")
    p.add_argument("--skip-systolic", action="store_true", help="(for testing the DRAM part)")
    p.add_argument("--dram-seeds", type=int, default=5)
    p.add_argument("--dram-budget", type=int, default=300)
    p.add_argument("--dram-reference-budget", type=int, default=3000)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)

    seeds = args.seeds or (3 if args.quick else 10)
    budget = args.budget or (300 if args.quick else 1000)
    checkpoints = [c for c in (100, 300, 1000) if c <= budget] or [budget]
    agents = [a.strip() for a in args.searchers.split(",") if a.strip()]
    unknown = [a for a in agents if a not in SEARCHERS]
    if unknown:
        p.error(f"unknown searcher(s) {unknown}; allowed: {', '.join(SEARCHERS)}")
    from archgym.threads import limit_threads

    limit_threads(1)
    t_start = time.perf_counter()
    result: dict = {"config": {"seeds": seeds, "budget": budget, "checkpoints": checkpoints, "jobs": args.jobs,
                               "quick": args.quick, "searchers": {a: SEARCHERS[a] for a in agents},
                               "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                           "platform": platform.platform()}},
                    "problems": {}}

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["total_s"] = time.perf_counter() - t_start
        out.write_text(json.dumps(result, indent=1, default=str))

    if not args.skip_systolic:
        print(f"Systolic-v0: enumerating the space ({SYSTOLIC['objective']}) ...", flush=True)
        opt = systolic_optimum(SYSTOLIC)
        print(f"  optimum reward {opt['optimum_reward']:.6f} at {opt['optimum_config']} "
              f"({opt['n_designs']} designs, {opt['enumeration_s']:.0f} s)", flush=True)
        runs = run_problem(SYSTOLIC, agents, seeds, budget, checkpoints, args.jobs)
        summ = summarize(runs, opt["optimum_reward"], checkpoints)
        result["problems"]["Systolic-v0"] = {**SYSTOLIC, "reference": opt, "reference_kind": "exact optimum",
                                             "summary": summ, "notes": comparisons(summ, checkpoints),
                                             "runs": runs}
        save()  # keep the Systolic results even if the DRAM part is interrupted

    if args.quick or args.skip_dram:
        result["problems"]["DRAM-v0"] = {"TODO": "skipped (--quick/--skip-dram)"}
    else:
        try:
            import archgym

            archgym.make_simulator(DRAM["env_id"])
        except Exception as exc:  # the DRAM simulator is not available
            result["problems"]["DRAM-v0"] = {"TODO": f"DRAM-v0 not available: {exc!r}"}
        else:
            dcp = [c for c in (100, 300, 1000) if c <= args.dram_budget] or [args.dram_budget]
            print(f"DRAM-v0: reference run (ga, {args.dram_reference_budget} evaluations) ...", flush=True)
            ref_run = run_one(DRAM, "ga", {}, 12345, args.dram_reference_budget, [args.dram_reference_budget])
            druns = run_problem(DRAM, agents, args.dram_seeds, args.dram_budget, dcp, args.jobs)
            ref = max([max(ref_run["best"].values())]
                      + [max(r["best"].values()) for r in druns if "error" not in r])
            dsumm = summarize(druns, ref, dcp)
            result["problems"]["DRAM-v0"] = {
                **DRAM, "reference": {"optimum_reward": ref, "reference_run": ref_run},
                "reference_kind": "best reward found by any run (incl. a long GA run); regrets are lower bounds",
                "seeds": args.dram_seeds, "budget": args.dram_budget, "checkpoints": dcp,
                "summary": dsumm, "notes": comparisons(dsumm, dcp), "runs": druns}

    save()

    for name, prob in result["problems"].items():
        if "summary" not in prob:
            print(f"\n{name}: TODO -- {prob['TODO']}")
            continue
        cps = prob.get("checkpoints", checkpoints)
        print()
        print(table(f"{name} ({prob['objective']}; {prob['reference_kind']} "
                    f"{prob['reference']['optimum_reward']:.6f}); median regret over seeds", prob["summary"], cps))
        for note in prob["notes"]:
            print("  " + note)
    print(f"\nwrote {out} ({result['total_s']:.0f} s)")
    return result


if __name__ == "__main__":
    main()

"""Scratchpad ILP benchmark: solve time vs graph size, and traffic vs heuristics.

Run:  python experiments/benchmarks/scratchpad.py [--quick] [--out PATH]

Part 1 (scaling): solve time and status of every formulation and solver on
seeded random skip-connection networks (10-140 operators), Inception
module stacks (9-25 operators) and NAS-cell stacks (23-123 operators), at a
budget with spills (1.1 x the largest single-operator working set).
Part 2 (networks): non-compulsory traffic of the exact fixed-order ILP vs
Belady / LRU / first-fit on the default order, and of the free-order
search (ILP or divide-and-conquer), on the real-network graphs, at
scratchpad sizes 64 KiB - 4 MiB and at COSMA-style budgets relative to the
largest single-operator working set M_R (1.0, 1.1, 1.25 x M_R).
Part 3 (cosma): the comparison in the form of COSMA's Table (Li, Gupta, Malik,
arXiv:2311.18246): for every workload shipped with Scratchpad-v0, at its
tightest and its middle budget of the design space (levels 0 and 1/2 of
:mod:`archgym.simulators.scratchpad.budgets`), the reduction of
non-compulsory traffic against the best default-order baseline (Belady, LRU,
first-fit) achieved by the exact fixed-order ILP, by free order
(``ilp_free_order``: the exact model up to 40 operators, the windowed search
beyond) and by the windowed search on every graph; means over workloads,
solve times per run.

Every plan passes the independent checker.  Prints tables and writes JSON to
``experiments/benchmarks/results/scratchpad.json`` (``--parts`` re-runs some
parts and keeps the others' stored results).  One solver thread.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

from archgym.threads import limit_threads

OUT = Path(__file__).resolve().parent / "results" / "scratchpad.json"


def _run(policy: str, g, cap: int, **kw) -> dict:
    from archgym.simulators.scratchpad import InfeasibleError, PlacementError, check_plan, run_policy

    t0 = time.perf_counter()
    try:
        plan = run_policy(policy, g, cap, **kw)
    except PlacementError as e:
        return {"policy": policy, "status": "unplaceable", "error": str(e), "time_s": time.perf_counter() - t0}
    except InfeasibleError as e:
        return {"policy": policy, "status": "infeasible", "error": str(e), "time_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    res = check_plan(g, plan, cap, require_offsets=policy.endswith(("offsets", "fit")))
    return {"policy": policy, "status": plan.status, "noncompulsory_bytes": res.noncompulsory_bytes,
            "bound": None if math.isnan(plan.bound) else plan.bound, "gap": plan.optimality_gap
            if not math.isnan(plan.optimality_gap) else None, "solver": plan.solver, "time_s": wall,
            "method": plan.method, "fallback": plan.info.get("fallback", "")}


def scaling(quick: bool) -> list[dict]:
    from archgym.simulators.scratchpad.solver import available_solvers
    from archgym.simulators.workloads.graphs import inception_stack, nas_cells, random_dag

    graphs = [random_dag(n) for n in ([10, 30, 60] if quick else [10, 30, 60, 100, 140])]
    graphs += [inception_stack(modules=m) for m in (("3a",), ("3a", "3b"), ("3a", "3b", "4a"))]
    graphs += [nas_cells(cells=c) for c in ([1, 2] if quick else [1, 2, 4, 6])]
    solvers = available_solvers()
    rows = []
    for g in graphs:
        cap = int(1.1 * g.max_working_set()[0])
        runs = []
        for s in solvers:
            runs.append(("ilp_fixed_order", s, 30))
            if s == "highs" or g.n_ops <= 30:
                runs.append(("ilp_fixed_order_offsets", s, 30))
            if g.n_ops <= 30:
                runs.append(("ilp_free_order", s, 30 if s == "highs" else 15))
            if g.n_ops <= 10 or (g.n_ops <= 25 and s == "highs"):
                runs.append(("ilp_free_order_offsets", s, 15))
        runs.append(("divide_and_conquer", solvers[0], 15))
        runs += [("belady", "", 0), ("lru", "", 0)]
        for policy, s, tl in runs:
            kw = dict(solver=s, time_limit_s=tl, free_order_max_ops=10 ** 6) if s else {}
            r = _run(policy, g, cap, **kw)
            r.update(graph=g.name, ops=g.n_ops, capacity=cap, solver=s or "-")
            rows.append(r)
            print(f"  {g.name:10s} {g.n_ops:4d} ops  {policy:24s} {r['solver']:6s} {r['status']:10s} "
                  f"{r.get('noncompulsory_bytes', float('nan')):>12} B  {r['time_s']:7.2f} s", flush=True)
    return rows


def networks(quick: bool) -> list[dict]:
    from archgym.simulators.workloads.graphs import build_graph, graph_names

    rows = []
    kbs = [64, 128, 256, 512, 1024, 2048, 4096]
    for name in graph_names():
        g = build_graph(name)
        mr = g.max_working_set()[0]
        budgets = [("kb", kb * 1024) for kb in kbs] + [("x M_R", int(f * mr)) for f in (1.0, 1.1, 1.25)]
        for label, cap in budgets:
            row = {"graph": name, "ops": g.n_ops, "budget": label, "capacity": cap, "m_r": mr}
            if cap < mr:
                row["status"] = "infeasible"
                rows.append(row)
                continue
            for policy in ("ilp_fixed_order", "belady", "lru", "first_fit"):
                r = _run(policy, g, cap, time_limit_s=30)
                row[policy] = r.get("noncompulsory_bytes")
                row[policy + "_status"] = r["status"]
                row[policy + "_time_s"] = r["time_s"]
            spills = (row["ilp_fixed_order"] or 0) > 0 or (row["lru"] or 0) > 0
            if spills and not quick:  # free order: ILP <= 40 ops, else D&C
                r = _run("ilp_free_order", g, cap, time_limit_s=20, free_order_max_ops=40)
                row["free_order"], row["free_order_status"] = r.get("noncompulsory_bytes"), r["status"]
                row["free_order_time_s"], row["free_order_method"] = r["time_s"], r.get("method")
            heur = [row[p] for p in ("belady", "lru", "first_fit") if row.get(p) is not None]
            row["best_heuristic"] = min(heur) if heur else None
            rows.append(row)
            best = row["best_heuristic"]
            free = row.get("free_order")
            print(f"  {name:12s} {label:6s} {cap / 1024:8.0f} KiB  ilp {row['ilp_fixed_order']:>10}  "
                  f"belady {row['belady']:>10}  lru {row['lru']:>10}  first_fit {row['first_fit']!s:>10}  "
                  f"free {free!s:>10}  best-heur {best!s:>10}", flush=True)
    return rows


def summarize(net_rows: list[dict]) -> dict:
    """Per network: mean reduction of non-compulsory traffic vs the best heuristic
    over the budgets where the best heuristic spills."""
    out = {}
    for name in dict.fromkeys(r["graph"] for r in net_rows):
        fixed, free = [], []
        for r in net_rows:
            if r["graph"] != name or not r.get("best_heuristic"):
                continue
            fixed.append(1 - r["ilp_fixed_order"] / r["best_heuristic"])
            if r.get("free_order") is not None:
                free.append(1 - r["free_order"] / r["best_heuristic"])
        out[name] = {"budgets_with_spills": len(fixed),
                     "fixed_order_reduction": sum(fixed) / len(fixed) if fixed else None,
                     "free_order_reduction": sum(free) / len(free) if free else None}
    return out


#: COSMA-form comparison: the methods compared with the best default-order baseline
COSMA_METHODS = ("ilp_fixed_order", "ilp_free_order", "windowed_search")
BASELINE_POLICIES = ("belady", "lru", "first_fit")


def cosma(quick: bool, time_limit_s: float, only: tuple[str, ...] = ()) -> dict:
    """Part 3 (see the module docstring): rows per (workload, budget) and means."""
    from archgym.simulators.scratchpad import ScratchpadSimulator

    names = list(ScratchpadSimulator.workload_names)
    if quick:
        names = [n for n in names if n in ("inception", "attention", "transformer_train", "inception_train")]
    if only:
        names = [n for n in names if n in only]
    rows = []
    for name in names:
        sim = ScratchpadSimulator(name)
        g, kb = sim.graph, sim.space["scratchpad_kb"].values
        for label, k in (("tightest", kb[0]), ("middle", kb[len(kb) // 2])):
            cap = k * 1024
            row: dict = {"workload": name, "graph": g.name, "ops": g.n_ops, "budget": label, "kb": k}
            for policy in BASELINE_POLICIES + COSMA_METHODS:
                r = _run(policy, g, cap, time_limit_s=time_limit_s, free_order_max_ops=40)
                row[policy] = r.get("noncompulsory_bytes")
                row[policy + "_status"], row[policy + "_time_s"] = r["status"], r["time_s"]
                row[policy + "_gap"] = r.get("gap")
            base = [row[p] for p in BASELINE_POLICIES if row[p] is not None]
            row["best_baseline"] = best = min(base)
            for m in COSMA_METHODS:
                row[m + "_reduction"] = (1 - row[m] / best) if best else None
            rows.append(row)
            print(f"  {name:18s} {g.n_ops:4d} ops {label:8s} {k:6d} KiB  best baseline {best:>9}  "
                  + "  ".join(f"{m.split('_')[1] if m.startswith('ilp') else 'windowed'} {row[m]:>9} "
                              f"({row[m + '_time_s']:5.1f} s)" for m in COSMA_METHODS), flush=True)
    means = {}
    for label in ("tightest", "middle", "both"):
        sel = [r for r in rows if (label == "both" or r["budget"] == label) and r["best_baseline"]]
        means[label] = {"runs": len(sel), "workloads": len({r["workload"] for r in sel})}
        for m in COSMA_METHODS:
            red = [r[m + "_reduction"] for r in sel]
            times = sorted(r[m + "_time_s"] for r in sel)
            means[label][m] = {"mean_reduction": sum(red) / len(red) if red else None,
                               "median_time_s": times[len(times) // 2] if times else None,
                               "max_time_s": times[-1] if times else None}
    return {"time_limit_s": time_limit_s, "rows": rows, "means": means,
            "paper": {"human_designed_dnns": 0.84, "nas_networks": 0.85}}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller graphs, no free-order on networks")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--parts", default="scaling,networks,cosma", help="comma list of scaling, networks, cosma")
    ap.add_argument("--time-limit", type=float, default=20.0, help="per policy run in the cosma part (s)")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    limit_threads(1)
    t0 = time.perf_counter()
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    result = {"benchmark": "scratchpad", "python": platform.python_version()}
    result.update({k: old[k] for k in ("scaling", "networks", "summary", "cosma") if k in old})
    if "scaling" in parts:
        print("== scaling: solve time vs operator count ==")
        result["scaling"] = scaling(args.quick)
    if "networks" in parts:
        print("== networks: non-compulsory bytes, default order unless 'free' ==")
        nets = networks(args.quick)
        result["networks"], result["summary"] = nets, summarize(nets)
        print("== reduction vs best heuristic (mean over budgets where it spills) ==")
        for name, s in result["summary"].items():
            fx, fr = s["fixed_order_reduction"], s["free_order_reduction"]
            print(f"  {name:12s} budgets {s['budgets_with_spills']:2d}  fixed-order ILP "
                  f"{'-' if fx is None else f'{100 * fx:5.1f}%'}  free order "
                  f"{'-' if fr is None else f'{100 * fr:5.1f}%'}")
    if "cosma" in parts:
        print("== cosma: reduction of non-compulsory traffic vs the best default-order baseline ==")
        result["cosma"] = cosma(args.quick, args.time_limit)
        for label, m in result["cosma"]["means"].items():
            print(f"  {label:8s} {m['workloads']:2d} workloads  " + "  ".join(
                f"{k} {100 * m[k]['mean_reduction']:5.1f}% (median {m[k]['median_time_s']:.1f} s)"
                for k in COSMA_METHODS))
    result["wall_s"] = time.perf_counter() - t0
    result["parts_run"] = sorted(parts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {args.out} ({result['wall_s']:.0f} s)")
    return result


if __name__ == "__main__":
    main()

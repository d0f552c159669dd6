"""Scratchpad ILP benchmark: solve work vs graph size, traffic vs heuristics, COSMA's table,
large-graph quality, and CPU per evaluation before/after.

Run:  python experiments/benchmarks/scratchpad.py [--quick] [--parts ...] [--out PATH]

Every solver budget is counted (:mod:`archgym.simulators.scratchpad.limits`:
branch-and-bound nodes per MIP, simplex iterations of a search, one HiGHS
thread), so every plan below is a function of the instance and the budget,
not of this machine's load; times are process CPU seconds (and wall).

Part ``scaling``: work, CPU and status of every formulation and solver on
seeded random skip-connection networks (10-140 operators), Inception module
stacks (9-25 operators) and NAS-cell stacks (23-123 operators), at a budget
with spills (1.1 x the largest single-operator working set).
Part ``networks``: non-compulsory traffic of the exact fixed-order ILP vs
Belady / LRU / first-fit on the default order, and of free order, on the
real-network graphs at scratchpad sizes 64 KiB - 4 MiB and at 1.0, 1.1,
1.25 x M_R (the largest single-operator working set).
Part ``cosma``: the comparison in the form of COSMA's table (Li, Gupta,
Malik, arXiv:2311.18246): for every workload shipped with Scratchpad-v0, at
its tightest and its middle budget of the design space, the reduction of
non-compulsory traffic against the best default-order baseline (Belady, LRU,
first-fit) achieved by the exact fixed-order ILP, by free order
(``ilp_free_order``: the exact model up to 40 operators, the windowed search
beyond) and by the windowed search; means over all rows, over the rows whose
free-order plan is proven optimal and over the best-found ones.
Part ``large``: free-order plans (``ilp_free_order`` at the default budget)
on NAS-cell stacks of 43-103 operators at 1.0 / 1.1 / 1.25 x M_R (12
budgets), against the best known plan of each (part ``large_reference``:
the best of long windowed searches with several seeds and of
divide-and-conquer, recorded with how it was found); counts the budgets
within 1.25x.
Part ``cpu``: CPU seconds of one uncached evaluation of each ILP policy at
the default budget, this code vs a pristine install (``--base-python``, the
code before counted budgets, 10 s wall-clock limits), interleaved design by
design in two worker processes; medians per policy.

Every plan passes the independent checker.  Prints tables and writes JSON to
``experiments/benchmarks/results/scratchpad.json`` (``--parts`` re-runs some
parts and keeps the others' stored results).  One solver thread.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from archgym.threads import limit_threads

OUT = Path(__file__).resolve().parent / "results" / "scratchpad.json"
BASE_PYTHON = "/work/base/.venv/bin/python"


def _ctx(solver: str = "auto", **budget):
    from archgym.simulators.scratchpad.limits import SolveContext, WorkBudget

    return SolveContext(solver=solver, budget=WorkBudget(**budget))


def _budget_used() -> dict:
    from dataclasses import asdict

    from archgym.simulators.scratchpad.limits import WorkBudget

    return asdict(WorkBudget())


def _run(policy: str, g, cap: int, *, solver: str = "auto", budget: dict | None = None, **kw) -> dict:
    """One checked policy run: status, bytes, bound, gap, counted work, CPU and wall seconds."""
    from archgym.simulators.scratchpad import InfeasibleError, PlacementError, check_plan, run_policy
    from archgym.simulators.scratchpad.policies import needs_offsets

    ctx = _ctx(solver, **(budget or {}))
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        plan = run_policy(policy, g, cap, ctx=ctx, **kw)
    except PlacementError as e:
        return {"policy": policy, "status": "unplaceable", "error": str(e), "time_s": time.perf_counter() - t0,
                "cpu_s": time.process_time() - c0}
    except InfeasibleError as e:
        return {"policy": policy, "status": "infeasible", "error": str(e), "time_s": time.perf_counter() - t0,
                "cpu_s": time.process_time() - c0}
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = check_plan(g, plan, cap, require_offsets=needs_offsets(policy))
    gap = plan.optimality_gap
    return {"policy": policy, "status": plan.status, "noncompulsory_bytes": res.noncompulsory_bytes,
            "bound": None if math.isnan(plan.bound) else plan.bound, "gap": None if math.isnan(gap) else gap,
            "solver": plan.solver, "time_s": wall, "cpu_s": cpu, "method": plan.method,
            "placement": plan.info.get("placement", ""), "solved_by": plan.info.get("solved_by", ""),
            "plan": plan, **ctx.work()}


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
            runs.append(("ilp_fixed_order", s))
            if s == "highs" or g.n_ops <= 30:
                runs.append(("ilp_fixed_order_offsets", s))
            if g.n_ops <= 30:
                runs.append(("ilp_free_order", s))
            if g.n_ops <= 10 or (g.n_ops <= 25 and s == "highs"):
                runs.append(("ilp_free_order_offsets", s))
        runs.append(("divide_and_conquer", solvers[0]))
        runs += [("belady", ""), ("lru", "")]
        for policy, s in runs:
            kw = dict(solver=s, free_order_max_ops=10 ** 6) if s else {}
            r = _run(policy, g, cap, **kw)
            r.pop("plan", None)
            r.update(graph=g.name, ops=g.n_ops, capacity=cap, solver=s or "-")
            rows.append(r)
            print(f"  {g.name:10s} {g.n_ops:4d} ops  {policy:24s} {r['solver']:6s} {r['status']:10s} "
                  f"{r.get('noncompulsory_bytes', float('nan')):>12} B  {r['cpu_s']:7.2f} s CPU", flush=True)
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
                r = _run(policy, g, cap)
                row[policy] = r.get("noncompulsory_bytes")
                row[policy + "_status"] = r["status"]
                row[policy + "_cpu_s"] = r["cpu_s"]
            spills = (row["ilp_fixed_order"] or 0) > 0 or (row["lru"] or 0) > 0
            if spills and not quick:  # free order: ILP <= 40 ops, else the windowed search
                r = _run("ilp_free_order", g, cap, free_order_max_ops=40)
                row["free_order"], row["free_order_status"] = r.get("noncompulsory_bytes"), r["status"]
                row["free_order_cpu_s"], row["free_order_method"] = r["cpu_s"], r.get("method")
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


def cosma(quick: bool, only: tuple[str, ...] = ()) -> dict:
    """Part ``cosma`` (see the module docstring): rows per (workload, budget) and means."""
    from archgym.simulators.scratchpad import ScratchpadSimulator
    from archgym.simulators.scratchpad.policies import uses_search

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
            searched = None
            for policy in BASELINE_POLICIES + ("ilp_fixed_order", "windowed_search", "ilp_free_order"):
                # beyond the exact model, free order *is* the windowed search (the simulator shares it
                # too): run it once, count its CPU and iterations for both columns
                shared = policy == "ilp_free_order" and uses_search(policy, g, 40)
                r = _run(policy, g, cap, free_order_max_ops=40, searched=searched if shared else None)
                if policy == "windowed_search" and r["status"] not in ("infeasible", "unplaceable"):
                    searched, search_run = r["plan"], r
                if shared and searched is not None:
                    for key in ("cpu_s", "time_s", "lp_iterations"):
                        r[key] += search_run[key]
                row[policy] = r.get("noncompulsory_bytes")
                row[policy + "_status"], row[policy + "_cpu_s"] = r["status"], r["cpu_s"]
                row[policy + "_time_s"], row[policy + "_gap"] = r["time_s"], r.get("gap")
                row[policy + "_iterations"] = r.get("lp_iterations")
            base = [row[p] for p in BASELINE_POLICIES if row[p] is not None]
            row["best_baseline"] = best = min(base)
            for m in COSMA_METHODS:
                row[m + "_reduction"] = (1 - row[m] / best) if best else None
            rows.append(row)
            print(f"  {name:18s} {g.n_ops:4d} ops {label:8s} {k:6d} KiB  best baseline {best:>9}  "
                  + "  ".join(f"{m.split('_')[1] if m.startswith('ilp') else 'windowed'} {row[m]:>9} "
                              f"{row[m + '_status'][:4]} ({row[m + '_cpu_s']:5.1f} s)" for m in COSMA_METHODS),
                  flush=True)
    return {"budget": _budget_used(), "rows": rows, "means": cosma_means(rows),
            "paper": {"human_designed_dnns": 0.84, "nas_networks": 0.85}}


def cosma_means(rows: list[dict]) -> dict:
    """Mean reductions per budget label, and for the rows whose free-order plan is proven
    optimal ("proven") and the others ("best_found"); rows without spills are left out."""
    groups = {"tightest": lambda r: r["budget"] == "tightest", "middle": lambda r: r["budget"] == "middle",
              "both": lambda r: True, "proven": lambda r: r["ilp_free_order_status"] == "optimal",
              "best_found": lambda r: r["ilp_free_order_status"] != "optimal"}
    means = {}
    for label, keep in groups.items():
        sel = [r for r in rows if keep(r) and r["best_baseline"]]
        means[label] = {"runs": len(sel), "workloads": len({r["workload"] for r in sel})}
        for m in COSMA_METHODS:
            red = [r[m + "_reduction"] for r in sel]
            cpu = sorted(r[m + "_cpu_s"] for r in sel)
            means[label][m] = {"mean_reduction": sum(red) / len(red) if red else None,
                               "median_cpu_s": statistics.median(cpu) if cpu else None,
                               "max_cpu_s": cpu[-1] if cpu else None,
                               "proven_optimal": sum(r[m + "_status"] == "optimal" for r in sel)}
    return means


#: part ``large``: NAS-cell stacks of 43, 63, 83, 103 operators x budgets relative to M_R
LARGE_CELLS = (2, 3, 4, 5)
LARGE_FACTORS = (1.0, 1.1, 1.25)
#: the long searches behind the best known plans (part ``large_reference``)
REFERENCE_SEARCHES = ({"search_iterations": 3_000_000, "window_nodes": 200, "max_window_ops": 24, "seeds": (0, 1, 2)},
                      {"search_iterations": 3_000_000, "window_nodes": 50, "max_window_ops": 16, "seeds": (0, 1, 2)})


def _large_instances():
    from archgym.simulators.workloads.graphs import nas_cells

    for c in LARGE_CELLS:
        g = nas_cells(cells=c)
        for f in LARGE_FACTORS:
            yield f"nas_cells{c}@{f}", g, int(f * g.max_working_set()[0])


def large_reference(old: dict | None) -> dict:
    """Best known plan per large-graph budget: long windowed searches (several seeds and
    settings) and divide-and-conquer; an earlier reference is kept where it is better."""
    from archgym.simulators.scratchpad.checker import check_plan
    from archgym.simulators.scratchpad.dnc import divide_and_conquer
    from archgym.simulators.scratchpad.search import windowed_search

    out = dict(old or {})
    for key, g, cap in _large_instances():
        best = out.get(key, {"bytes": None})
        for spec in REFERENCE_SEARCHES:
            for seed in spec["seeds"]:
                ctx = _ctx(search_iterations=spec["search_iterations"], window_nodes=spec["window_nodes"])
                c0 = time.process_time()
                plan = windowed_search(g, cap, seed=seed, max_window_ops=spec["max_window_ops"], exact_max_ops=0,
                                       ctx=ctx)
                cost = check_plan(g, plan, cap).noncompulsory_bytes
                how = (f"windowed_search seed {seed}, {spec['search_iterations']:,} iterations, "
                       f"{spec['window_nodes']} nodes per window, windows <= {spec['max_window_ops']} ops")
                print(f"  {key:18s} {cost:>10} B  {how}  ({time.process_time() - c0:.0f} s CPU)", flush=True)
                if best["bytes"] is None or cost < best["bytes"]:
                    best = {"bytes": cost, "how": how, "order": plan.order}
        plan = divide_and_conquer(g, cap, block_ops=10, ctx=_ctx(search_iterations=3_000_000, window_nodes=200))
        cost = check_plan(g, plan, cap).noncompulsory_bytes
        if cost < best["bytes"]:
            best = {"bytes": cost, "how": "divide_and_conquer, 10-op blocks", "order": plan.order}
        out[key] = best
    return out


def large(reference: dict) -> dict:
    """Part ``large``: the default ``ilp_free_order`` plan per budget vs the best known."""
    rows = []
    for key, g, cap in _large_instances():
        r = _run("ilp_free_order", g, cap, free_order_max_ops=40)
        best = (reference.get(key) or {}).get("bytes")
        cost = r["noncompulsory_bytes"]
        best = cost if best is None else min(best, cost)
        ratio = cost / best if best else (1.0 if cost == 0 else math.inf)
        rows.append({"instance": key, "ops": g.n_ops, "capacity": cap, "bytes": cost, "best_known": best,
                     "ratio": ratio, "status": r["status"], "cpu_s": r["cpu_s"], "time_s": r["time_s"],
                     "lp_iterations": r["lp_iterations"]})
        print(f"  {key:18s} {g.n_ops:4d} ops  {cost:>10} B  best known {best:>10} B  {ratio:5.2f}x  "
              f"({r['cpu_s']:.1f} s CPU)", flush=True)
    within = sum(r["ratio"] <= 1.25 for r in rows)
    print(f"  within 1.25x of the best known: {within} of {len(rows)}")
    return {"budget": _budget_used(), "rows": rows, "within_1_25x": within, "instances": len(rows)}


#: part ``cpu``: (workload, budget level index) x the ILP policies
CPU_DESIGNS = (("resnet18", (0, 1, 2, 3, 4)), ("inception", (0, 2)), ("nas_cells", (0, 2)),
               ("transformer_train", (0, 2)))
CPU_POLICIES = ("ilp_fixed_order", "ilp_fixed_order_offsets", "ilp_free_order", "ilp_free_order_offsets",
                "windowed_search", "divide_and_conquer")
_CPU_WORKER = """
import json, sys, time
from archgym.threads import limit_threads
limit_threads(1)
from archgym.simulators.scratchpad import ScratchpadSimulator
for line in sys.stdin:
    wl, kb, policy = json.loads(line)
    sim = ScratchpadSimulator(wl)
    cfg = {"scratchpad_kb": kb, "dram_bw_gbps": 16, "compute_macs_per_cycle": 512, "policy": policy}
    c0, t0 = time.process_time(), time.perf_counter()
    out = sim.evaluate(cfg)
    print(json.dumps([time.process_time() - c0, time.perf_counter() - t0, out["noncompulsory_bytes"]]), flush=True)
"""


def cpu(base_python: str, quick: bool) -> dict:
    """Part ``cpu``: interleaved CPU seconds per uncached evaluation, base vs this code."""
    from archgym.simulators.scratchpad import ScratchpadSimulator

    designs = []
    for wl, levels in CPU_DESIGNS[:1] if quick else CPU_DESIGNS:
        kb = ScratchpadSimulator(wl).space["scratchpad_kb"].values
        designs += [(wl, kb[i], p) for i in levels for p in CPU_POLICIES]
    root = Path(__file__).resolve().parents[2]
    workers = {}
    for name, py, cwd in (("base", base_python, "/tmp"), ("new", sys.executable, str(root))):
        workers[name] = subprocess.Popen([py, "-c", _CPU_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": ""})
    rows = []
    try:
        for k, d in enumerate(designs):
            row = {"workload": d[0], "kb": d[1], "policy": d[2]}
            for name in (("base", "new") if k % 2 == 0 else ("new", "base")):  # alternate who goes first
                w = workers[name]
                w.stdin.write(json.dumps(d) + "\n")
                w.stdin.flush()
                c, t, b = json.loads(w.stdout.readline())
                row[name + "_cpu_s"], row[name + "_wall_s"], row[name + "_bytes"] = c, t, b
            rows.append(row)
            print(f"  {d[0]:18s} {d[1]:6d} KiB {d[2]:24s} base {row['base_cpu_s']:6.2f} s "
                  f"({row['base_bytes']:>10}) new {row['new_cpu_s']:6.2f} s ({row['new_bytes']:>10})", flush=True)
    finally:
        for w in workers.values():
            w.stdin.close()
            w.wait(timeout=60)
    per_policy = {}
    for p in CPU_POLICIES:
        sel = [r for r in rows if r["policy"] == p]
        if sel:
            per_policy[p] = {"designs": len(sel), "base_median_cpu_s": statistics.median(r["base_cpu_s"] for r in sel),
                             "new_median_cpu_s": statistics.median(r["new_cpu_s"] for r in sel),
                             "new_lower_bytes": sum(r["new_bytes"] < r["base_bytes"] for r in sel),
                             "new_higher_bytes": sum(r["new_bytes"] > r["base_bytes"] for r in sel)}
    return {"base_python": base_python, "budget": _budget_used(), "load_avg_start": os.getloadavg(),
            "rows": rows, "per_policy": per_policy,
            "all": {"base_median_cpu_s": statistics.median(r["base_cpu_s"] for r in rows),
                    "new_median_cpu_s": statistics.median(r["new_cpu_s"] for r in rows)}}


PARTS = ("scaling", "networks", "cosma", "large_reference", "large", "cpu")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller graphs and fewer designs")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--parts", default="cosma,large,cpu", help=f"comma list of {', '.join(PARTS)}")
    ap.add_argument("--base-python", default=BASE_PYTHON, help="python of the pristine install (part cpu)")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    limit_threads(1)
    t0 = time.perf_counter()
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    result = {"benchmark": "scratchpad", "python": platform.python_version()}
    result.update({k: old[k] for k in ("scaling", "networks", "summary", "cosma", "large_reference", "large", "cpu",
                                       "part_info") if k in old})
    info = result.setdefault("part_info", {})

    def stamp(part: str, started: float) -> None:
        from archgym.simulators.scratchpad import ScratchpadSimulator

        info[part] = {"simulator_version": ScratchpadSimulator.version, "budget": _budget_used(),
                      "wall_s": time.perf_counter() - started, "load_avg_end": os.getloadavg()}

    if "scaling" in parts:
        print("== scaling: work and CPU vs operator count ==")
        started = time.perf_counter()
        result["scaling"] = scaling(args.quick)
        stamp("scaling", started)
    if "networks" in parts:
        print("== networks: non-compulsory bytes, default order unless 'free' ==")
        started = time.perf_counter()
        nets = networks(args.quick)
        result["networks"], result["summary"] = nets, summarize(nets)
        stamp("networks", started)
        print("== reduction vs best heuristic (mean over budgets where it spills) ==")
        for name, s in result["summary"].items():
            fx, fr = s["fixed_order_reduction"], s["free_order_reduction"]
            print(f"  {name:12s} budgets {s['budgets_with_spills']:2d}  fixed-order ILP "
                  f"{'-' if fx is None else f'{100 * fx:5.1f}%'}  free order "
                  f"{'-' if fr is None else f'{100 * fr:5.1f}%'}")
    if "cosma" in parts:
        print("== cosma: reduction of non-compulsory traffic vs the best default-order baseline ==")
        started = time.perf_counter()
        result["cosma"] = cosma(args.quick)
        stamp("cosma", started)
        for label, m in result["cosma"]["means"].items():
            print(f"  {label:10s} {m['runs']:2d} runs  " + "  ".join(
                f"{k} {100 * m[k]['mean_reduction']:5.1f}% ({m[k]['proven_optimal']} proven, median "
                f"{m[k]['median_cpu_s']:.1f} s CPU)" for k in COSMA_METHODS if m[k]["mean_reduction"] is not None))
    if "large_reference" in parts:
        print("== large_reference: best known plans of the large-graph budgets ==")
        started = time.perf_counter()
        result["large_reference"] = large_reference(result.get("large_reference"))
        stamp("large_reference", started)
    if "large" in parts:
        print("== large: ilp_free_order at the default budget vs the best known plans ==")
        started = time.perf_counter()
        result["large"] = large(result.get("large_reference", {}))
        stamp("large", started)
    if "cpu" in parts:
        print("== cpu: CPU seconds per uncached evaluation, base (10 s limits) vs counted budgets ==")
        started = time.perf_counter()
        result["cpu"] = cpu(args.base_python, args.quick)
        stamp("cpu", started)
        for p, m in result["cpu"]["per_policy"].items():
            print(f"  {p:24s} median base {m['base_median_cpu_s']:6.2f} s  new {m['new_median_cpu_s']:6.2f} s  "
                  f"(bytes lower {m['new_lower_bytes']}, higher {m['new_higher_bytes']} of {m['designs']})")
    result["wall_s"] = time.perf_counter() - t0
    result["parts_run"] = sorted(parts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {args.out} ({result['wall_s']:.0f} s)")
    return result


if __name__ == "__main__":
    main()

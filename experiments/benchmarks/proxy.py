"""Proxy cost models: accuracy, speed on the path searchers take, and active-learning savings.

Sections (``--only`` picks some; all write into ``results/proxy.json``):

* ``accuracy`` -- DRAM-v0 on ArchGym's cloud-1 trace (``ARCHGYM_DRAM_TRACES``):
  a proxy per model kind (et/rf/hgb at 1k, et/rf at 10k: CPU is scarce)
  trained on the first 1k / 10k of 12k distinct uniform
  designs, scored on the last 2k (held-out designs) and on 2k designs of the
  cloud-2 trace (held-out trace); RMSE % of the mean, MAPE, R^2, Kendall tau,
  top-10 recall per metric (definitions in ``archgym.cost_models.evaluation``);
  plus where the latency error sits (share of squared error per knob value).
* ``speed`` -- the 10k-design proxy vs the simulator: one ``evaluate(config)``
  call (median over designs), one ``env.step`` (what an RL agent calls),
  ``evaluate_batch`` on 1e5 designs; wall time of a 1,000-evaluation GA run on
  the proxy env vs the simulator env; the same per-call figures for
  Scratchpad-v0 with the free-order ILP (inception, 17 operators), where one
  uncached evaluation is one ILP solve.
* ``accelerator`` -- AcceleratorArch-v0 (the dataflow architecture env): 60
  LHS designs to train, 20 held out; per-call speed-up over the simulator.
* ``active`` -- real simulations the ``surrogate`` searcher needs to reach a
  target vs random, GA and ACO (3 seeds each, same budget): Scratchpad-v0
  (free-order ILP on inception, objective ``latency_ns,energy_pj``; the true
  optimum by enumerating all 336 designs; target = the optimum) and DRAM-v0 on
  cloud-1 (objective ``total_time_ns``; target = within 1 % of the best of the
  12k-design dataset).  Searchers share one warmed simulator per problem (the
  scratchpad caches plans per capacity), so counts, not wall times, are compared.

* ``active_arch`` / ``active_arch_variant`` / ``active_arch_summary`` -- the
  same race on AcceleratorArch-v0 (resnet20_cifar, ``mapper_budget=20``,
  objective ``edp``) vs random, GA, BO and Optuna TPE, then one more surrogate
  setting, then evaluations to 1/5/10/25 % of the best edp any run found.
* ``percall`` / ``table`` -- where one DRAM proxy call's time goes (validation,
  encoding, features, tree walk), compact forests (fewer trees, larger leaves)
  with their held-out accuracy, and the 10-tree proxy answering from a table
  of every design (``ProxyModel.tabulate``).

Datasets are cached outside git in ``$ARCHGYM_PROXY_CACHE`` (default
``/tmp/archgym_proxy_cache``); generating them costs ~14 ms per DRAM design.

    ARCHGYM_DRAM_TRACES=../shared/data/dram/traces nice -n 10 python experiments/benchmarks/proxy.py
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import archgym
from archgym.cost_models import Dataset, ProxySimulator, dataset_from_simulator, sample_designs
from archgym.cost_models.evaluation import score_predictions
from archgym.env import DSEEnv

RESULTS = Path(__file__).resolve().parent / "results" / "proxy.json"
CACHE = Path(os.environ.get("ARCHGYM_PROXY_CACHE", "/tmp/archgym_proxy_cache"))
SECTIONS = ("accuracy", "speed", "active", "accelerator", "active_arch", "active_arch_variant", "active_arch_summary", "percall",
            "table")


def _dataset(sim, workload: str, n: int, seed: int) -> Dataset:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"dram_{workload}_n{n}_s{seed}.npz"
    if path.exists():
        return Dataset.load(path, sim)
    t0 = time.perf_counter()
    data = dataset_from_simulator(sim, n, seed=seed)
    print(f"  simulated {n} designs of {workload} in {time.perf_counter() - t0:.0f} s", flush=True)
    data.save(path, sim.space)
    return data


def _dram(workload: str):
    return archgym.make_simulator("DRAM-v0", workload=workload)


def _rmse(score: dict) -> dict:
    return {k: round(v["rmse_pct"], 3) for k, v in score["metrics"].items()}


def accuracy(out: dict) -> None:
    sim, sim2 = _dram("cloud-1"), _dram("cloud-2")
    data = _dataset(sim, "cloud-1", 12000, 0)
    other = _dataset(sim2, "cloud-2", 2000, 1)
    test = data.subset(np.arange(10000, 12000))
    rows = []
    for n in (1000, 10000):
        train = data.subset(np.arange(n))
        for kind in ("et", "rf", "hgb") if n <= 1000 else ("et", "rf"):
            t0 = time.perf_counter()
            proxy = ProxySimulator.train(sim, train, model=kind, n_estimators=50)
            fit_s = time.perf_counter() - t0
            held = score_predictions(test.results, proxy.evaluate_batch(test.configs), sim.metrics)
            trace = score_predictions(other.results, proxy.evaluate_batch(other.configs), sim.metrics)
            rows.append({"n_train": n, "model": kind, "fit_s": fit_s, "nodes": int(len(proxy.model.ensemble_.feature)),
                         "held_out_designs": held, "held_out_trace_cloud2": trace})
            print(f"  n={n:>5} {kind:<3} fit {fit_s:5.1f}s  held-out RMSE% {_rmse(held)}", flush=True)
            print(f"  {'':>12} cloud-2 trace RMSE% {_rmse(trace)}", flush=True)
    out["accuracy"] = {"env": "DRAM-v0", "train_workload": "cloud-1", "n_estimators": 50, "runs": rows,
                       "n_test": len(test), "n_test_trace": len(other),
                       "not_run": "50k training designs (~12 min of simulation alone on an idle core)"}
    # where the latency error sits: 1k-design ET proxy, share of squared error per knob value
    proxy = ProxySimulator.train(sim, data.subset(np.arange(1000)), model="et", n_estimators=50)
    pred = proxy.evaluate_batch(test.configs)["avg_read_latency_ns"].to_numpy()
    truth = test.results["avg_read_latency_ns"].to_numpy()
    frame = pd.DataFrame(test.configs)
    frame["se"] = (pred - truth) ** 2
    share = {k: (frame.groupby(k)["se"].sum() / frame["se"].sum()).round(3).to_dict() for k in
             ("Arbiter", "RequestBufferSize", "MaxActiveTransactions", "SchedulerBuffer")}
    full = pd.concat([pd.DataFrame(data.configs), data.results], axis=1)
    cells = full.groupby(["Arbiter", "RequestBufferSize"])["avg_read_latency_ns"].median().unstack().round(0)
    out["latency_regimes"] = {
        "percentiles_ns": dict(zip(("p1", "p50", "p99"), np.percentile(full["avg_read_latency_ns"], [1, 50, 99]).round(1))),
        "squared_error_share_1k_et": {k: {str(a): b for a, b in v.items()} for k, v in share.items()},
        "median_latency_by_arbiter_and_buffer": {str(a): {str(b): c for b, c in row.items()} for a, row in cells.iterrows()},
    }


def _median_call(fn, items, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        for it in items:
            t0 = time.perf_counter()
            fn(it)
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def speed(out: dict) -> None:
    sim = _dram("cloud-1")
    data = _dataset(sim, "cloud-1", 12000, 0)
    path = CACHE / "dram_cloud1_et10k.npz"
    if path.exists():  # trained by an earlier run on the same cached data
        proxy = ProxySimulator.load(path, sim)
    else:
        proxy = ProxySimulator.train(sim, data.subset(np.arange(10000)), model="et", n_estimators=50)
        proxy.save(path)
    configs = data.configs[10000:10200]
    proxy.evaluate(configs[0])
    r: dict = {"proxy_file_bytes": path.stat().st_size, "path": "DRAM-v0 cloud-1, ET 50 trees/metric, 10k designs"}
    r["simulator_call_s"] = _median_call(sim.evaluate, configs[:40], 1)
    r["proxy_call_s"] = _median_call(proxy.evaluate, configs)
    r["per_call_speedup"] = r["simulator_call_s"] / r["proxy_call_s"]
    envs = {"simulator": archgym.make("DRAM-v0", workload="cloud-1"),
            "proxy": archgym.make("DRAM-v0", workload="cloud-1", backend=str(path))}
    for name, env in envs.items():
        env.reset(seed=0)
        acts = [env.space.encode(c) for c in configs[: 40 if name == "simulator" else 200]]
        r[f"{name}_env_step_s"] = _median_call(env.step, acts, 1 if name == "simulator" else 3)
    r["env_step_speedup"] = r["simulator_env_step_s"] / r["proxy_env_step_s"]
    big = [sim.space.decode(i) for i in sim.space.sample_indices(5, 100_000)]
    t0 = time.perf_counter()
    proxy.evaluate_batch(big)
    r["proxy_batch_designs_per_s"] = len(big) / (time.perf_counter() - t0)
    idx = np.array([sim.space.encode(c) for c in big])
    t0 = time.perf_counter()
    proxy.model.predict_indices(idx)
    r["proxy_batch_indices_designs_per_s"] = len(big) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    sim.evaluate_batch(configs[:40])
    r["simulator_batch_designs_per_s"] = 40 / (time.perf_counter() - t0)
    for name, env in envs.items():
        t0 = time.perf_counter()
        archgym.make_agent("ga").run(env, 1000, 0)
        r[f"ga_1000_{name}_s"] = time.perf_counter() - t0
    r["ga_1000_speedup"] = r["ga_1000_simulator_s"] / r["ga_1000_proxy_s"]
    print(f"  DRAM: call {r['simulator_call_s'] * 1e3:.2f} ms vs {r['proxy_call_s'] * 1e6:.1f} us "
          f"({r['per_call_speedup']:.0f}x); env.step {r['env_step_speedup']:.0f}x; batch "
          f"{r['proxy_batch_designs_per_s']:.3g}/s; GA 1000: {r['ga_1000_simulator_s']:.1f}s vs {r['ga_1000_proxy_s']:.2f}s",
          flush=True)
    out["speed_dram"] = r
    # scratchpad free-order ILP: one uncached evaluation = one solve
    sp, frame = _scratchpad_truth()
    feas = frame[frame["feasible"]]
    sp_data = Dataset([{n: row[n] for n in sp.space.names} for _, row in frame.iterrows()],
                      frame[sp.metric_names + ["feasible"]].reset_index(drop=True))
    sp_proxy = ProxySimulator.train(sp, sp_data, model="et", n_estimators=50)
    sp_cfgs = sp_data.configs[:100]
    sp_proxy.evaluate(sp_cfgs[0])
    s = {"path": "Scratchpad-v0 inception, ilp_free_order, ET on all 336 designs",
         "simulator_uncached_call_s_median": float(feas["plan_wall_s"].median()),
         "simulator_uncached_call_s_mean": float(feas["plan_wall_s"].mean()),
         "proxy_call_s": _median_call(sp_proxy.evaluate, sp_cfgs)}
    s["per_call_speedup_median"] = s["simulator_uncached_call_s_median"] / s["proxy_call_s"]
    s["per_call_speedup_mean"] = s["simulator_uncached_call_s_mean"] / s["proxy_call_s"]
    print(f"  Scratchpad: solve {s['simulator_uncached_call_s_median']:.2f} s vs proxy {s['proxy_call_s'] * 1e6:.1f} us "
          f"({s['per_call_speedup_median']:.0f}x median)", flush=True)
    out["speed_scratchpad"] = s


_SP = {}


def _scratchpad_truth():
    """The free-order Scratchpad simulator (plans cached) and every design's metrics."""
    if not _SP:
        sim = archgym.make_simulator("Scratchpad-v0", workload="inception", policies=("ilp_free_order",))
        t0 = time.perf_counter()
        configs = [sim.space.decode(i) for i in sim.space.grid_indices()]
        frame = sim.evaluate_batch(configs)
        # wall seconds of each design's plan, uncached (the simulator keeps it beside the plan)
        frame["plan_wall_s"] = [sim.plan(c["scratchpad_kb"] * 1024, c["policy"])[2] if ok else math.nan
                                for c, ok in zip(configs, frame["feasible"])]
        print(f"  scratchpad ground truth: {len(configs)} designs in {time.perf_counter() - t0:.0f} s", flush=True)
        _SP["sim"], _SP["frame"] = sim, frame
    return _SP["sim"], _SP["frame"]


def accelerator(out: dict) -> None:
    """AcceleratorArch-v0 (dataflow architecture env, ~2.6 s per design on a loaded
    core): 80 LHS designs (60 train / 20 held out), per-call speed-up."""
    sim = archgym.make_simulator("AcceleratorArch-v0")
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "accel_arch_n80_s0.npz"
    t0 = time.perf_counter()
    if path.exists():
        data = Dataset.load(path, sim)
    else:
        data = dataset_from_simulator(sim, 80, seed=0, method="lhs")
        data.save(path, sim.space)
    gen_s = time.perf_counter() - t0
    train, test = data.subset(np.arange(60)), data.subset(np.arange(60, 80))
    proxy = ProxySimulator.train(sim, train, model="et", n_estimators=50)
    held = score_predictions(test.results, proxy.evaluate_batch(test.configs), sim.metrics, top_k=5)
    proxy.evaluate(test.configs[0])
    fresh = archgym.make_simulator("AcceleratorArch-v0")  # no results cached from the dataset
    new = [fresh.space.decode(i) for i in sample_designs(fresh, 5, seed=99, exclude=np.array(
        [sim.space.encode(c) for c in data.configs]))]
    r = {"path": "AcceleratorArch-v0 default workload, ET 50 trees/metric on 60 LHS designs, 20 held out; "
                 "simulator timed on 5 designs it has not seen, fresh instance",
         "dataset_generation_s": gen_s,
         "simulator_call_s": _median_call(fresh.evaluate, new, 1),
         "proxy_call_s": _median_call(proxy.evaluate, test.configs), "held_out": held}
    r["per_call_speedup"] = r["simulator_call_s"] / r["proxy_call_s"]
    print(f"  AcceleratorArch: call {r['simulator_call_s']:.2f} s vs {r['proxy_call_s'] * 1e6:.0f} us "
          f"({r['per_call_speedup']:.0f}x); held-out RMSE% {_rmse(held)}", flush=True)
    out["accelerator_arch"] = r


def _race(sim, objective: str, reached, budget: int, seeds: int) -> dict:
    """Evaluations each searcher needs until ``reached(trajectory)`` (a bool
    per evaluation) first holds; the surrogate is checked never to repeat a design."""
    res = {}
    for agent in ("surrogate", "random", "ga", "aco"):
        counts, walls = [], []
        for seed in range(seeds):
            env = DSEEnv(sim, objective=objective)
            t0 = time.perf_counter()
            traj = archgym.make_agent(agent).run(env, budget, seed)
            walls.append(time.perf_counter() - t0)
            assert len(traj) <= budget
            if agent == "surrogate":
                keys = {tuple(r["config"].values()) for r in env.history}
                assert len(keys) == len(env.history), "surrogate simulated a design twice"
            hit = np.flatnonzero(reached(traj))
            counts.append(int(hit[0]) + 1 if len(hit) else None)
        res[agent] = {"evals_to_target": counts, "reached": sum(c is not None for c in counts), "seeds": seeds,
                      "median_evals_to_target": float(np.median([c if c is not None else budget + 1 for c in counts])),
                      "wall_s": walls}
        print(f"  {agent:<10} evals to target {counts}", flush=True)
    plain = min(v["median_evals_to_target"] for k, v in res.items() if k != "surrogate")
    return {"budget": budget, "objective": objective, "searchers": res, "best_plain_median": plain,
            "surrogate_median": res["surrogate"]["median_evals_to_target"],
            "savings_vs_best_plain": plain / res["surrogate"]["median_evals_to_target"],
            "note": "a run that never reaches the target counts as budget + 1 (a lower bound on its need)"}


def active(out: dict, seeds: int) -> None:
    sp, frame = _scratchpad_truth()
    objective = "latency_ns,energy_pj"
    env = DSEEnv(sp, objective=objective)
    rewards = [env.objective.reward(r) for r in frame.to_dict(orient="records")]
    best = frame.iloc[int(np.argmax(rewards))]
    optimum = float(np.max(rewards))
    res = _race(sp, objective, lambda t: t["reward"].to_numpy() >= optimum - 1e-12, budget=150, seeds=seeds)
    res["target"] = "the optimum reward (enumerated)"
    res["optimum"] = {n: best[n] for n in sp.space.names}
    res["problem"] = "Scratchpad-v0 inception, ilp_free_order (336 designs)"
    out["active_scratchpad"] = res
    sim = _dram("cloud-1")
    data = _dataset(sim, "cloud-1", 12000, 0)
    best_known = float(data.results["total_time_ns"].min())
    res = _race(sim, "total_time_ns", lambda t: t["total_time_ns"].to_numpy(float) <= 1.01 * best_known,
                budget=200, seeds=seeds)
    res["target"] = "total_time_ns within 1 % of the best of 12k random designs"
    res["best_known_total_time_ns"] = best_known
    res["problem"] = "DRAM-v0 cloud-1 (442,368 designs), target within 1 % of the best of 12k random designs"
    out["active_dram"] = res


def _dataset_any_version(sim, path: Path) -> tuple[Dataset, str]:
    """The cached dataset at ``path``; one sampled under an earlier DRAM version
    whose space has the same parameters and values (only the fingerprint moved)
    is read from its arrays, and the note says so."""
    try:
        return Dataset.load(path, sim), "cached, current simulator version"
    except archgym.errors.UserInputError:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta["parameters"] != sim.space.names:
                raise
            cols = {m: z[f"metric.{m}"] for m in meta["metrics"]}
            cols["feasible"] = z["feasible"].astype(bool)
            configs = [sim.space.decode(r) for r in z["indices"]]
        prov = {**meta["provenance"], "space_fingerprint": sim.space.fingerprint()}
        return Dataset(configs, pd.DataFrame(cols), prov), (
            f"cached 12k designs sampled under DRAM {meta['provenance'].get('version')} (same parameters and values; "
            f"metrics not re-simulated under {sim.version})")


COMPACT = ((50, 1), (20, 1), (10, 1), (10, 5), (5, 10))  # (trees per metric, min_samples_leaf)


def _walk_steps(proxy, configs) -> dict:
    """Median seconds of each step of one ``proxy.evaluate(config)`` call."""
    space, model = proxy.space, proxy.model
    cfg = [proxy.validate_design(c)[0] for c in configs]
    idx = [space.encode(c)[None, :] for c in cfg]
    X = [model.features(i) for i in idx]
    return {"evaluate": _median_call(proxy.evaluate, configs),
            "validate_design": _median_call(proxy.validate_design, configs),
            "encode": _median_call(space.encode, cfg),
            "features": _median_call(model.features, idx),
            "walk": _median_call(model.ensemble_.predict, X),
            "predict_indices": _median_call(model.predict_indices, idx)}


def percall(out: dict) -> None:
    """Where one proxy call's time goes, and compact forests (fewer trees, larger
    leaves) with their accuracy cost: DRAM-v0 cloud-1, first 10k of the cached
    12k designs to train, last 2k held out."""
    sim = _dram("cloud-1")
    data, note = _dataset_any_version(sim, CACHE / "dram_cloud-1_n12000_s0.npz")
    train, test = data.subset(np.arange(10000)), data.subset(np.arange(10000, 12000))
    configs = test.configs[:200]
    big = sim.space.sample_indices(5, 100_000)
    rows = []
    for trees, leaf in COMPACT:
        path = CACHE / f"dram_cloud1_et10k_t{trees}_l{leaf}.npz"
        if path.exists():
            proxy = ProxySimulator.load(path, sim)
        else:
            proxy = ProxySimulator.train(sim, train, model="et", n_estimators=trees, min_samples_leaf=leaf)
            proxy.save(path)
        proxy.evaluate(configs[0])
        held = score_predictions(test.results, proxy.evaluate_batch(test.configs), sim.metrics, top_k=10)
        steps = _walk_steps(proxy, configs)
        t0 = time.perf_counter()
        proxy.model.predict_indices(big)
        batch = len(big) / (time.perf_counter() - t0)
        row = {"trees_per_metric": trees, "min_samples_leaf": leaf, "nodes": int(len(proxy.model.ensemble_.feature)),
               "file_bytes": path.stat().st_size, "steps_s": steps, "batch_indices_designs_per_s": batch,
               "held_out_rmse_pct": _rmse(held),
               "held_out_kendall_tau": {k: v["kendall_tau"] for k, v in held["metrics"].items()}}
        rows.append(row)
        print(f"  {trees:>3} trees leaf {leaf:>2}: {row['nodes']:>8} nodes; call {steps['evaluate'] * 1e6:.0f} us "
              f"(walk {steps['walk'] * 1e6:.0f}, features {steps['features'] * 1e6:.0f}, encode "
              f"{steps['encode'] * 1e6:.0f}, validate {steps['validate_design'] * 1e6:.0f}); batch {batch:.3g}/s; "
              f"RMSE% time {row['held_out_rmse_pct']['total_time_ns']}, power {row['held_out_rmse_pct']['avg_power_mw']}",
              flush=True)
    out["percall_dram"] = {"data": note, "path": "DRAM-v0 cloud-1 ExtraTrees proxies on 10k designs, 2k held out; one "
                                   "proxy.evaluate(config) call split into its steps (medians over 200 held-out "
                                   "designs x 3); batch = predict_indices on 1e5 index vectors",
                           "sim_call_s": _median_call(sim.evaluate, configs[:10], 1), "forests": rows}


def table(out: dict) -> None:
    """The 10-tree proxy of ``percall`` (trained there) answering from a table of
    every design (``ProxyModel.tabulate``): build time, per-call steps, batch."""
    sim = _dram("cloud-1")
    data, _ = _dataset_any_version(sim, CACHE / "dram_cloud-1_n12000_s0.npz")
    configs = data.configs[10000:10200]
    proxy = ProxySimulator.load(CACHE / "dram_cloud1_et10k_t10_l1.npz", sim)
    t0 = time.perf_counter()
    n = proxy.model.tabulate()
    build = time.perf_counter() - t0
    proxy.evaluate(configs[0])
    steps = _walk_steps(proxy, configs)
    steps.pop("walk")  # the table replaces the walk
    big = sim.space.sample_indices(5, 100_000)
    t0 = time.perf_counter()
    proxy.model.predict_indices(big)
    batch = len(big) / (time.perf_counter() - t0)
    cfgs = [sim.space.decode(i) for i in big[:20000]]
    t0 = time.perf_counter()
    proxy.evaluate_batch(cfgs)
    batch_cfg = len(cfgs) / (time.perf_counter() - t0)
    env = archgym.make("DRAM-v0", workload="cloud-1", backend=str(CACHE / "dram_cloud1_et10k_t10_l1.npz"))
    getattr(env, "unwrapped", env).simulator.model.tabulate()
    env.reset(seed=0)
    step = _median_call(env.step, [getattr(env, "unwrapped", env).space.encode(c) for c in configs])
    out["table_dram"] = {"path": "DRAM-v0 cloud-1, 10-tree ET proxy (percall section) tabulated over all designs",
                         "designs": n, "build_s": build, "steps_s": steps, "env_step_s": step,
                         "batch_indices_designs_per_s": batch, "batch_configs_designs_per_s": batch_cfg,
                         "table_bytes": int(proxy.model.table_mean_.nbytes + proxy.model.table_spread_.nbytes)}
    print(f"  table of {n} designs built in {build:.1f} s; call {steps['evaluate'] * 1e6:.0f} us "
          f"(predict_indices {steps['predict_indices'] * 1e6:.0f}); env.step {step * 1e6:.0f} us; "
          f"batch {batch:.3g}/s (indices), {batch_cfg:.3g}/s (configs)", flush=True)


ARCH_SEARCHERS = {"surrogate": {}, "surrogate_rank": {"target": "rank"}, "random": {}, "ga": {}, "bo": {},
                  "optuna_tpe": {}}


def _evals_to(curve: np.ndarray, bound: float) -> int | None:
    hit = np.flatnonzero(curve <= bound)
    return int(hit[0]) + 1 if len(hit) else None


def _counts_to(curves: dict, bound: float, budget: int) -> dict:
    """Per searcher: evaluations until its best-so-far curve is <= ``bound`` (None:
    never), and their median with a miss counted as ``budget + 1``."""
    per = {}
    for name, cs in curves.items():
        counts = [_evals_to(np.array(c), bound) for c in cs]
        per[name] = {"evals_to_target": counts,
                     "median": float(np.median([c if c is not None else budget + 1 for c in counts]))}
    return per


def active_arch(out: dict, seeds: int, budget: int = 50, long_budget: int = 200) -> None:
    """Real simulations to a target regret on AcceleratorArch-v0 (resnet20_cifar,
    ``mapper_budget=20`` to fit the CPU: ~0.5 s per design on a loaded core),
    objective ``edp``.  Every searcher runs ``budget`` evaluations per seed on one
    shared simulator whose design memo is unbounded, so a design any run already
    simulated is free in wall time (counts, not wall times, are compared).  The
    best known edp is the minimum over a longer GA run (``long_budget``
    evaluations, seed 99) and every run here; evaluations to reach edp within
    1 / 5 / 10 / 25 % of it are derived from each run's best-so-far curve."""
    sim = archgym.make_simulator("AcceleratorArch-v0", workload="resnet20_cifar", mapper_budget=20)
    sim.CACHE_DESIGNS = 10**9  # instance override: keep every design simulated in this process
    curves: dict[str, list[list[float]]] = {}
    walls: dict[str, list[float]] = {}
    for name, hp in ARCH_SEARCHERS.items():
        agent_name = name.split("_rank")[0]
        for seed in range(seeds):
            env = DSEEnv(sim, objective="edp")
            t0 = time.perf_counter()
            traj = archgym.make_agent(agent_name, **hp).run(env, budget, seed)
            walls.setdefault(name, []).append(time.perf_counter() - t0)
            assert len(traj) <= budget
            if agent_name == "surrogate":
                keys = {tuple(r["config"].values()) for r in env.history}
                assert len(keys) == len(env.history), "surrogate simulated a design twice"
            edp = traj["edp"].to_numpy(float)
            curves.setdefault(name, []).append(np.minimum.accumulate(np.where(np.isfinite(edp), edp, np.inf)).tolist())
            print(f"  {name:<15} seed {seed}: best edp {curves[name][-1][-1]:.4g} ({walls[name][-1]:.0f} s)", flush=True)
    t0 = time.perf_counter()
    long = archgym.make_agent("ga").run(DSEEnv(sim, objective="edp"), long_budget, 99)
    long_s = time.perf_counter() - t0
    best = float(min(np.nanmin(long["edp"].to_numpy(float)), min(c[-1] for cs in curves.values() for c in cs)))
    targets = {}
    for regret in (0.01, 0.05, 0.10, 0.25):
        per = _counts_to(curves, best * (1 + regret), budget)
        plain = min(v["median"] for k, v in per.items() if not k.startswith("surrogate"))
        sur = min(v["median"] for k, v in per.items() if k.startswith("surrogate"))
        targets[f"{int(regret * 100)}pct"] = {"searchers": per, "best_plain_median": plain,
                                               "best_surrogate_median": sur, "savings_vs_best_plain": plain / sur}
        print(f"  within {regret:.0%}: " + ", ".join(f"{k} {v['evals_to_target']}" for k, v in per.items())
              + f"; best plain median {plain} vs surrogate {sur} ({plain / sur:.2f}x)", flush=True)
    out["active_arch"] = {
        "problem": "AcceleratorArch-v0 workload=resnet20_cifar mapper_budget=20 (2,880,000 designs), objective edp",
        "budget": budget, "seeds": list(range(seeds)), "best_known_edp": best,
        "best_known_from": f"min over a GA run of {long_budget} evaluations (seed 99) and every run below",
        "long_run_s": long_s, "targets": targets, "curves_best_so_far_edp": curves, "wall_s": walls,
        "note": "a run that never reaches the target counts as budget + 1 (a lower bound on its need); "
                "walls share one memoizing simulator, so they are not comparable between searchers"}


ARCH_VARIANT = {"target": "rank", "explore_every": 0}


def active_arch_variant(out: dict, seeds: int) -> None:
    """One more surrogate setting (``ARCH_VARIANT``: rank targets, no pure-uncertainty
    picks) on the ``active_arch`` problem, scored against that section's best
    known edp and searchers (run it after ``active_arch``; a fresh simulator, so
    only counts are comparable)."""
    base = json.loads(RESULTS.read_text())["active_arch"]
    sim = archgym.make_simulator("AcceleratorArch-v0", workload="resnet20_cifar", mapper_budget=20)
    sim.CACHE_DESIGNS = 10**9
    curves = []
    for seed in base["seeds"][:seeds]:
        traj = archgym.make_agent("surrogate", **ARCH_VARIANT).run(DSEEnv(sim, objective="edp"), base["budget"], seed)
        edp = traj["edp"].to_numpy(float)
        curves.append(np.minimum.accumulate(np.where(np.isfinite(edp), edp, np.inf)).tolist())
        print(f"  surrogate {ARCH_VARIANT} seed {seed}: best edp {curves[-1][-1]:.4g}", flush=True)
    res = {"hyperparameters": ARCH_VARIANT, "curves_best_so_far_edp": curves, "targets": {}}
    for key, t in base["targets"].items():
        regret = int(key.rstrip("pct")) / 100
        counts = [_evals_to(np.array(c), base["best_known_edp"] * (1 + regret)) for c in curves]
        med = float(np.median([c if c is not None else base["budget"] + 1 for c in counts]))
        res["targets"][key] = {"evals_to_target": counts, "median": med,
                               "savings_vs_best_plain": t["best_plain_median"] / med}
        print(f"  within {key}: {counts} (median {med}) vs best plain median {t['best_plain_median']}", flush=True)
    out["active_arch_variant"] = res


def active_arch_summary(out: dict) -> None:
    """No simulation: evaluations to target for every searcher of ``active_arch``
    and ``active_arch_variant``, against the best edp any of them found."""
    res = json.loads(RESULTS.read_text())
    base, var = res["active_arch"], res["active_arch_variant"]
    curves = {**base["curves_best_so_far_edp"], "surrogate_rank_noexplore": var["curves_best_so_far_edp"]}
    best = min(c[-1] for cs in curves.values() for c in cs)
    budget, targets = base["budget"], {}
    for regret in (0.01, 0.05, 0.10, 0.25):
        per = _counts_to(curves, best * (1 + regret), budget)
        plain = min(v["median"] for k, v in per.items() if not k.startswith("surrogate"))
        targets[f"{int(regret * 100)}pct"] = {"searchers": per, "best_plain_median": plain,
                                               "surrogate_rank_noexplore_median": per["surrogate_rank_noexplore"]["median"],
                                               "savings_vs_best_plain": plain / per["surrogate_rank_noexplore"]["median"]}
        print(f"  within {regret:.0%}: " + ", ".join(f"{k} {v['evals_to_target']}" for k, v in per.items()), flush=True)
    out["active_arch_summary"] = {"best_known_edp": best, "best_known_from": "min over every run of active_arch "
                                  "(incl. its 200-evaluation GA run) and active_arch_variant", "budget": budget,
                                  "targets": targets, "variant": var["hyperparameters"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", choices=SECTIONS)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    from archgym.cost_models.forest import numba_available

    for name in args.only or SECTIONS:
        print(f"[{name}]", flush=True)
        t0 = time.perf_counter()
        part: dict = {}
        {"accuracy": accuracy, "speed": speed, "active": lambda o: active(o, args.seeds),
         "accelerator": accelerator, "active_arch": lambda o: active_arch(o, args.seeds),
         "active_arch_variant": lambda o: active_arch_variant(o, args.seeds),
         "active_arch_summary": active_arch_summary, "percall": percall, "table": table}[name](part)
        # merge into the file as it is now (sections may run in separate processes)
        out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        out.update(part)
        out["numba"] = numba_available()
        out.setdefault("wall_s", {})[name] = time.perf_counter() - t0
        out.setdefault("seeds", {})[name] = args.seeds
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

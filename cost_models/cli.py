"""``archgym proxy ...``: datasets, training, scores and active-learning search from the shell.

::

    archgym proxy dataset ENV --out FILE [--n N] [--method uniform|lhs] [--seed S]
                  [--from-store STORE [--study NAME]] [--workload W] [--set KEY=VALUE ...]
    archgym proxy train ENV --data FILE --out FILE [--model et|rf|hgb] [--trees N]
                  [--min-samples-leaf N] [--no-log] [--cv K] [--workload W] [--set KEY=VALUE ...]
    archgym proxy evaluate ENV --proxy FILE --data FILE [--top-k K] [--plot DIR] [--json] [--workload W] [--set ...]
    archgym proxy search ENV --budget N [--seed S] [--objective SPEC] [--hp KEY=VALUE ...]
                  [--save FILE] [--top K] [--json] [--workload W] [--set ...]
    archgym proxy table ENV --out FILE.json [--workload W] [--set KEY=VALUE ...]
    archgym proxy hash FILE

``--set`` gives simulator options (the same ones a proxy file records and
checks).  ``archgym.cli`` dispatches ``archgym proxy`` here lazily; bad input
is one line on stderr and exit status 2 (the core's ``UserInputError`` family).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

import numpy as np

from archgym.cli import int_arg
from archgym.errors import UserInputError

__all__ = ["main", "build_parser", "rescore_best"]


class ProxyCLIError(UserInputError):
    """A ``archgym proxy`` argument is unusable."""


def _cli():
    import archgym.cli as core_cli

    return core_cli


def _simulator(args):
    import archgym

    options = _cli()._parse_sets(args.set)
    kw = dict(options)
    if args.workload is not None:
        kw["workload"] = args.workload
    return archgym.make_simulator(args.env, **kw), options


def _progress(seq: list, desc: str):
    if not sys.stderr.isatty():
        return seq
    from tqdm import tqdm

    return tqdm(seq, desc=desc, unit="chunk")


def cmd_dataset(args) -> int:
    from .dataset import dataset_from_simulator, dataset_from_store

    sim, _ = _simulator(args)
    if args.from_store:
        data = dataset_from_store(args.from_store, sim, study=args.study)
    else:
        data = dataset_from_simulator(sim, args.n, seed=args.seed, method=args.method,
                                      progress=lambda c: _progress(c, f"simulating {sim.name}"))
    data.save(args.out, sim.space)
    n_inf = int((~data.results["feasible"]).sum())
    print(f"wrote {args.out}: {len(data)} distinct designs of {sim.name} ({sim.workload_label}), "
          f"{n_inf} infeasible; source {data.provenance.get('source')}")
    return 0


def _model_params(args) -> dict:
    return {"model": args.model, "n_estimators": args.trees, "min_samples_leaf": args.min_samples_leaf,
            "log_targets": not args.no_log}


def cross_validate(sim, data, params: dict, folds: int, seed: int = 0) -> float:
    """Mean over folds and metrics of the held-out RMSE % of the mean."""
    from .evaluation import score_predictions
    from .proxy import ProxyModel

    order = np.random.default_rng(seed).permutation(len(data))
    scores = []
    for f in range(folds):
        test_rows = order[f::folds]
        train = data.subset(np.setdiff1d(order, test_rows))
        test = data.subset(test_rows)
        model = ProxyModel(**params).fit(sim.space, sim.metrics, train)
        s = score_predictions(test.results, model.predict(test.configs), sim.metrics)
        scores.extend(v["rmse_pct"] for v in s["metrics"].values() if np.isfinite(v["rmse_pct"]))
    return float(np.mean(scores)) if scores else float("inf")


def cmd_train(args) -> int:
    from .dataset import Dataset
    from .proxy import MODELS, ProxySimulator

    sim, options = _simulator(args)
    data = Dataset.load(args.data, sim)
    params = _model_params(args)
    if args.cv:
        if args.cv < 2:
            raise ProxyCLIError(f"--cv needs at least 2 folds, got {args.cv}")
        grid = [{**params, "model": m, "min_samples_leaf": leaf} for m in MODELS for leaf in (1, 3)]
        cv = [(cross_validate(sim, data, p, args.cv), p) for p in _progress(grid, "cross-validating")]
        for score, p in cv:
            print(f"  cv {p['model']:<3} min_samples_leaf={p['min_samples_leaf']}: mean RMSE {score:.3f} % of mean")
        params = min(cv, key=lambda t: t[0])[1]
    proxy = ProxySimulator.train(sim, data, options=options, **params)
    digest = proxy.save(args.out)
    print(f"wrote {args.out} ({params['model']}, {len(data)} designs); sha256 {digest}")
    return 0


def cmd_evaluate(args) -> int:
    from .dataset import Dataset
    from .evaluation import score_proxy
    from .proxy import ProxySimulator

    sim, options = _simulator(args)
    proxy = ProxySimulator.load(args.proxy, sim, options)
    data = Dataset.load(args.data, sim)
    score = score_proxy(proxy, sim, data, truth=data.results, top_k=args.top_k)
    if args.plot:
        _plot(proxy, sim, data, args.plot)
    if args.json:
        _cli()._print_json(score)
        return 0
    print(f"{proxy.name} v{proxy.version} on {len(data)} designs of {args.data} "
          f"(feasibility accuracy {score['feasibility_accuracy']:.3f})")
    print(f"  {'metric':<24} {'RMSE%':>8} {'MAPE%':>8} {'R^2':>7} {'tau':>6} {'top-k':>6}")
    for name, m in score["metrics"].items():
        print(f"  {name:<24} {m['rmse_pct']:8.3f} {m['mape']:8.3f} {m['r2']:7.4f} {m['kendall_tau']:6.3f} "
              f"{m['top_k_recall']:6.2f}")
    sp = score["speed"]
    print(f"  per call: simulator {sp['simulator_per_call_s'] * 1e6:.1f} us, proxy {sp['proxy_per_call_s'] * 1e6:.1f} us "
          f"({sp['per_call_speedup']:.0f}x); batch: {sp['proxy_batch_designs_per_s']:.3g} designs/s "
          f"({sp['batch_speedup']:.0f}x)")
    return 0


def _plot(proxy, sim, data, out_dir: str) -> None:
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    pred = proxy.evaluate_batch(data.configs)
    for name in sim.metric_names:
        y, p = data.results[name].to_numpy(float), pred[name].to_numpy(float)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.scatter(y, p, s=4, alpha=0.5)
        lo, hi = np.nanmin(y), np.nanmax(y)
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlabel(f"simulated {name}")
        ax.set_ylabel(f"proxy {name}")
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, f"{name}.png"), dpi=100)
        plt.close(fig)
    print(f"plots in {os.path.join(out_dir, '')}")


def rescore_best(env, traj, real_env, k: int = 5) -> list[dict]:
    """The ``k`` best distinct designs of a proxy-backed run, re-evaluated on
    ``real_env`` (same objective and reference design): proxy and real reward
    and metrics side by side.  The re-evaluations are not part of the run."""
    names = env.space.names
    best = traj.sort_values("reward", ascending=False, kind="stable").drop_duplicates(subset=names).head(k)
    rows = []
    for _, r in best.iterrows():
        cfg = {n: r[n] for n in names}
        real_reward, info = real_env.evaluate(cfg)
        rows.append({"config": cfg, "proxy_reward": float(r["reward"]), "real_reward": float(real_reward),
                     "proxy_metrics": {m: float(r[m]) for m in env.simulator.metric_names},
                     "real_metrics": info["metrics"]})
    return rows


def print_rescore(rows: list[dict]) -> None:
    print("best designs re-scored on the real simulator (proxy reward -> real reward):")
    for r in rows:
        print(f"  {r['proxy_reward']:.6g} -> {r['real_reward']:.6g}  {r['config']}")


def cmd_search(args) -> int:
    import archgym

    _, options = _simulator(args)
    kw = dict(options)
    if args.workload is not None:
        kw["workload"] = args.workload
    if args.objective is not None:
        kw["objective"] = args.objective
    agent = archgym.make_agent("surrogate", **_cli()._parse_sets(args.hp))
    env = archgym.make(args.env, **kw)
    traj = agent.run(env, args.budget, args.seed)
    designs = [r["config"] for r in env.history]
    unique = {tuple(sorted(c.items())) for c in designs}
    best = traj.sort_values("reward", ascending=False, kind="stable").head(args.top)
    out: dict[str, Any] = {"env": args.env, "budget": args.budget, "seed": args.seed,
                           "real_simulations": len(designs), "distinct_designs": len(unique),
                           "best_reward": float(traj["reward"].max()),
                           "best": [{"config": {n: r[n] for n in env.space.names}, "real_reward": float(r["reward"])}
                                    for _, r in best.iterrows()]}
    if args.save:
        from .dataset import Dataset, simulator_identity
        from .proxy import ProxySimulator

        frame = traj[env.simulator.metric_names + ["feasible"]].reset_index(drop=True)
        prov = {"source": "surrogate search", "seed": args.seed, "n": len(designs), **simulator_identity(env.simulator)}
        proxy = ProxySimulator.train(env.simulator, Dataset(designs, frame, prov), options=options)
        out["saved"], out["sha256"] = args.save, proxy.save(args.save)
        pred = proxy.evaluate_batch([b["config"] for b in out["best"]])
        penv = archgym.make(args.env, backend=proxy, **kw)
        for b, (_, row) in zip(out["best"], pred.iterrows()):
            b["proxy_reward"] = float(penv.objective.reward(row.to_dict()))
    if args.json:
        _cli()._print_json(out)
        return 0
    print(f"surrogate search on {args.env}: {out['real_simulations']} real simulations "
          f"({out['distinct_designs']} distinct), best reward {out['best_reward']:.6g}")
    for b in out["best"]:
        proxy_part = f" (proxy {b['proxy_reward']:.6g})" if "proxy_reward" in b else ""
        print(f"  real {b['real_reward']:.6g}{proxy_part}  {b['config']}")
    if args.save:
        print(f"proxy fitted on every simulated design written to {args.save}; sha256 {out['sha256']}")
    return 0


def cmd_hash(args) -> int:
    from .proxy_file import file_hash, read_meta

    meta = read_meta(args.file)
    s = meta["simulator"]
    print(f"{file_hash(args.file)}  {args.file}  ({s['simulator']} v{s['version']}, workload {s['workload']!r}, "
          f"space {s['space_fingerprint']}, {meta['model']['model']} on {meta['model']['n_train']} designs)")
    return 0


def cmd_table(args) -> int:
    from .table import write_table

    sim, options = _simulator(args)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=sim.space.size, desc="table", unit="design")

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.n = done
            bar.refresh()

    digest = write_table(sim, args.out, options, provenance={"command": "archgym proxy table"}, chunk=args.chunk,
                         progress=step)
    if bar is not None:
        bar.close()
    print(f"{digest}  {args.out}  ({sim.name} v{sim.version}, workload {sim.workload_label!r}, "
          f"{sim.space.size:,} designs)")
    return 0


def _common(p) -> None:
    p.add_argument("env")
    p.add_argument("--workload")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="simulator option")


def build_parser() -> argparse.ArgumentParser:
    from .dataset import SAMPLING
    from .proxy import MODELS

    parser_cls = _cli()._Parser
    p = parser_cls(prog="archgym proxy", description="Proxy cost models: datasets, training, scores, search.")
    sub = p.add_subparsers(dest="command", parser_class=parser_cls, required=True)

    s = sub.add_parser("dataset", help="sample designs and simulate them (or read a store) into a dataset file")
    _common(s)
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int_arg(1, "--n"), default=1000, help="distinct designs to simulate")
    s.add_argument("--method", choices=SAMPLING, default="uniform")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--from-store", metavar="STORE", help="take recorded evaluations instead of simulating")
    s.add_argument("--study")
    s.set_defaults(func=cmd_dataset)

    s = sub.add_parser("train", help="fit a proxy on a dataset file and write a proxy file")
    _common(s)
    s.add_argument("--data", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--model", choices=MODELS, default="et")
    s.add_argument("--trees", type=int_arg(1, "--trees"), default=100)
    s.add_argument("--min-samples-leaf", type=int_arg(1, "--min-samples-leaf"), default=1)
    s.add_argument("--no-log", action="store_true", help="learn raw metrics, not log(metric)")
    s.add_argument("--cv", type=int, default=0, metavar="K", help="pick model and leaf size by K-fold CV")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("evaluate", help="held-out scores (RMSE%%, MAPE, R^2, Kendall tau, top-k recall) and speed")
    _common(s)
    s.add_argument("--proxy", required=True)
    s.add_argument("--data", required=True, help="held-out dataset file")
    s.add_argument("--top-k", type=int_arg(1, "--top-k"), default=10)
    s.add_argument("--plot", metavar="DIR", help="write predicted-vs-simulated scatter plots")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("search", help="active-learning search on the real simulator (searcher `surrogate`)")
    _common(s)
    s.add_argument("--budget", type=int_arg(1, "--budget"), required=True, help="real simulations")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--objective")
    s.add_argument("--hp", action="append", metavar="KEY=VALUE", help="surrogate hyperparameter")
    s.add_argument("--save", metavar="FILE", help="also write a proxy fitted on every simulated design")
    s.add_argument("--top", type=int_arg(1, "--top"), default=5)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("table", help="evaluate every design of a small space once: a tabular backend (JSON)")
    _common(s)
    s.add_argument("--out", required=True, help="table file to write (use it with --option backend=FILE)")
    s.add_argument("--chunk", type=int_arg(1, "--chunk"), default=5000, help="designs per batch call")
    s.set_defaults(func=cmd_table)

    s = sub.add_parser("hash", help="content hash (SHA-256) and identity of a proxy file")
    s.add_argument("file")
    s.set_defaults(func=cmd_hash)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``archgym proxy`` with ``argv``; user errors propagate to ``archgym.cli``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)

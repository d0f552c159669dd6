"""``archgym proxy ...``: datasets, training, scores, tables and active-learning search (work in :mod:`archgym.cost_models`).

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

``--set`` gives simulator options (the same ones a proxy file records and checks).
"""
from __future__ import annotations

import argparse
from typing import Any

from archgym.userfiles import output_file, output_folder

from .args import (Command, UsageError, add_env_arguments, add_quiet, int_arg, key_values, print_json, progress_bar,
                   simulator_kwargs)

__all__ = ["PROXY"]

MODELS = ("et", "rf", "hgb")  # checked against archgym.cost_models.proxy.MODELS by the tests
SAMPLING = ("uniform", "lhs")


def _simulator(args):
    """The simulator of ``ENV --workload --set`` and its options besides the workload."""
    import archgym

    options = key_values(args.set)
    return archgym.make_simulator(args.env, **simulator_kwargs(args, args.set)), options


def _chunk(n: int, most: int) -> int:
    """Designs per batch call: at most ``most`` (a vectorized simulator's batch), and
    small enough that a bar moves about a hundred times over ``n`` designs."""
    return max(1, min(most, -(-n // 100)))


def _dataset(args) -> int:
    from archgym.cost_models.dataset import dataset_from_simulator, dataset_from_store

    sim, _ = _simulator(args)
    output_file(args.out, "--out", UsageError)
    if args.from_store:
        data = dataset_from_store(args.from_store, sim, study=args.study)
    else:
        bar = progress_bar(args.n, f"simulating {sim.name}", "design", enabled=not args.quiet)

        def step(chunks):
            for c in chunks:
                yield c
                bar.update(len(c))

        try:
            data = dataset_from_simulator(sim, args.n, seed=args.seed, method=args.method, progress=step,
                                          chunk=_chunk(args.n, 500))
        finally:
            bar.close()
    data.save(args.out, sim.space)
    n_inf = int((~data.results["feasible"]).sum())
    print(f"wrote {args.out}: {len(data)} distinct designs of {sim.name} ({sim.workload_label}), "
          f"{n_inf} infeasible; source {data.provenance.get('source')}")
    return 0


def _train(args) -> int:
    from archgym.cost_models.dataset import Dataset
    from archgym.cost_models.evaluation import cross_validate
    from archgym.cost_models.proxy import MODELS as KNOWN, ProxySimulator

    sim, options = _simulator(args)
    output_file(args.out, "--out", UsageError)
    data = Dataset.load(args.data, sim)
    params = {"model": args.model, "n_estimators": args.trees, "min_samples_leaf": args.min_samples_leaf,
              "log_targets": not args.no_log}
    if args.cv:
        grid = [{**params, "model": m, "min_samples_leaf": leaf} for m in KNOWN for leaf in (1, 3)]
        with progress_bar(len(grid), "cross-validating", "setting", enabled=not args.quiet) as bar:
            cv = []
            for p in grid:
                cv.append((cross_validate(sim, data, p, args.cv), p))
                bar.update(1)
        for score, p in cv:
            print(f"  cv {p['model']:<3} min_samples_leaf={p['min_samples_leaf']}: mean RMSE {score:.3f} % of mean")
        params = min(cv, key=lambda t: t[0])[1]
    proxy = ProxySimulator.train(sim, data, options=options, **params)
    digest = proxy.save(args.out)
    print(f"wrote {args.out} ({params['model']}, {len(data)} designs); sha256 {digest}")
    return 0


def _evaluate(args) -> int:
    from archgym.cost_models.dataset import Dataset
    from archgym.cost_models.evaluation import plot_predictions, score_proxy
    from archgym.cost_models.proxy import ProxySimulator

    sim, options = _simulator(args)
    proxy = ProxySimulator.load(args.proxy, sim, options)
    data = Dataset.load(args.data, sim)
    if args.plot is not None:
        output_folder(args.plot, "--plot", UsageError)
    score = score_proxy(proxy, sim, data, truth=data.results, top_k=args.top_k)
    if args.plot:
        plot_predictions(proxy, sim, data, args.plot)
    if args.json:
        print_json(score)
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
    if args.plot:
        print(f"plots in {args.plot}")
    return 0


def _search(args) -> int:
    import archgym

    _, options = _simulator(args)
    kw = simulator_kwargs(args, args.set)
    if args.objective is not None:
        kw["objective"] = args.objective
    if args.save is not None:
        output_file(args.save, "--save", UsageError)
    agent = archgym.make_agent("surrogate", **key_values(args.hp, "--hp"))
    env = archgym.make(args.env, **kw)
    with progress_bar(args.budget, f"surrogate on {args.env}", "simulation", enabled=not args.quiet) as bar:
        env.unwrapped.listeners.append(lambda record: bar.update(1))
        traj = agent.run(env, args.budget, args.seed)
    designs = [r["config"] for r in env.history]
    best = traj.sort_values("reward", ascending=False, kind="stable").head(args.top)
    out: dict[str, Any] = {"env": args.env, "budget": args.budget, "seed": args.seed,
                           "real_simulations": len(designs),
                           "distinct_designs": len({tuple(sorted(c.items())) for c in designs}),
                           "best_reward": float(traj["reward"].max()),
                           "best": [{"config": {n: r[n] for n in env.space.names}, "real_reward": float(r["reward"])}
                                    for _, r in best.iterrows()]}
    if args.save:
        from archgym.cost_models.dataset import dataset_from_env
        from archgym.cost_models.proxy import ProxySimulator

        data = dataset_from_env(env, {"source": "surrogate search", "seed": args.seed})
        proxy = ProxySimulator.train(env.simulator, data, options=options)
        out["saved"], out["sha256"] = args.save, proxy.save(args.save)
        pred = proxy.evaluate_batch([b["config"] for b in out["best"]])
        for b, (_, row) in zip(out["best"], pred.iterrows()):
            b["proxy_reward"] = float(env.objective.reward(row.to_dict()))
    if args.json:
        print_json(out)
        return 0
    print(f"surrogate search on {args.env}: {out['real_simulations']} real simulations "
          f"({out['distinct_designs']} distinct), best reward {out['best_reward']:.6g}")
    for b in out["best"]:
        proxy_part = f" (proxy {b['proxy_reward']:.6g})" if "proxy_reward" in b else ""
        print(f"  real {b['real_reward']:.6g}{proxy_part}  {b['config']}")
    if args.save:
        print(f"proxy fitted on every simulated design written to {args.save}; sha256 {out['sha256']}")
    return 0


def _hash(args) -> int:
    from archgym.cost_models.proxy_file import file_hash, read_meta

    meta = read_meta(args.file)
    s = meta["simulator"]
    print(f"{file_hash(args.file)}  {args.file}  ({s['simulator']} v{s['version']}, workload {s['workload']!r}, "
          f"space {s['space_fingerprint']}, {meta['model']['model']} on {meta['model']['n_train']} designs)")
    return 0


def _table(args) -> int:
    from archgym.cost_models.table import write_table

    sim, options = _simulator(args)
    output_file(args.out, "--out", UsageError)
    bar = progress_bar(sim.space.size, f"tabulating {sim.name}", "design", enabled=not args.quiet)

    def step(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        digest = write_table(sim, args.out, options, provenance={"command": "archgym proxy table"},
                             chunk=args.chunk or _chunk(sim.space.size, 5000), progress=step)
    finally:
        bar.close()
    print(f"{digest}  {args.out}  ({sim.name} v{sim.version}, workload {sim.workload_label!r}, "
          f"{sim.space.size:,} designs)")
    return 0


def _configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="proxy_command", parser_class=type(p), required=True)

    s = sub.add_parser("dataset", help="sample designs and simulate them (or read a store) into a dataset file")
    add_env_arguments(s)
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int_arg(1, "--n"), default=1000, help="distinct designs to simulate")
    s.add_argument("--method", choices=SAMPLING, default="uniform")
    s.add_argument("--seed", type=int_arg(0, "--seed"), default=0)
    s.add_argument("--from-store", metavar="STORE", help="take recorded evaluations instead of simulating")
    s.add_argument("--study")
    add_quiet(s)
    s.set_defaults(proxy_func=_dataset)

    s = sub.add_parser("train", help="fit a proxy on a dataset file and write a proxy file")
    add_env_arguments(s)
    s.add_argument("--data", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--model", choices=MODELS, default="et")
    s.add_argument("--trees", type=int_arg(1, "--trees"), default=100)
    s.add_argument("--min-samples-leaf", type=int_arg(1, "--min-samples-leaf"), default=1)
    s.add_argument("--no-log", action="store_true", help="learn raw metrics, not log(metric)")
    s.add_argument("--cv", type=int_arg(2, "--cv"), metavar="K", help="pick model and leaf size by K-fold CV")
    add_quiet(s)
    s.set_defaults(proxy_func=_train)

    s = sub.add_parser("evaluate", help="held-out scores (RMSE%%, MAPE, R^2, Kendall tau, top-k recall) and speed")
    add_env_arguments(s)
    s.add_argument("--proxy", required=True)
    s.add_argument("--data", required=True, help="held-out dataset file")
    s.add_argument("--top-k", type=int_arg(1, "--top-k"), default=10)
    s.add_argument("--plot", metavar="DIR", help="write predicted-vs-simulated scatter plots")
    s.add_argument("--json", action="store_true")
    s.set_defaults(proxy_func=_evaluate)

    s = sub.add_parser("search", help="active-learning search on the real simulator (searcher `surrogate`)")
    add_env_arguments(s)
    s.add_argument("--budget", type=int_arg(1, "--budget"), required=True, help="real simulations")
    s.add_argument("--seed", type=int_arg(0, "--seed"), default=0)
    s.add_argument("--objective")
    s.add_argument("--hp", action="append", metavar="KEY=VALUE", help="surrogate hyperparameter")
    s.add_argument("--save", metavar="FILE", help="also write a proxy fitted on every simulated design")
    s.add_argument("--top", type=int_arg(1, "--top"), default=5)
    s.add_argument("--json", action="store_true")
    add_quiet(s)
    s.set_defaults(proxy_func=_search)

    s = sub.add_parser("table", help="evaluate every design of a small space once: a tabular backend (JSON)")
    add_env_arguments(s)
    s.add_argument("--out", required=True, help="table file to write (use it with --option backend=FILE)")
    s.add_argument("--chunk", type=int_arg(1, "--chunk"),
                   help="designs per batch call (default: up to 5000, about 1%% of the space)")
    add_quiet(s)
    s.set_defaults(proxy_func=_table)

    s = sub.add_parser("hash", help="content hash (SHA-256) and identity of a proxy file")
    s.add_argument("file")
    s.set_defaults(proxy_func=_hash)


def _dispatch(args) -> int:
    return int(args.proxy_func(args) or 0)


PROXY = Command("proxy cost models: dataset | train | evaluate | search | table | hash", _configure, _dispatch)

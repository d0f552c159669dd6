"""``archgym map``: what timeloop-mapper does -- search the mappings of one layer on one architecture.

::

    archgym map --arch ARCH --problem PROB [--mapper mapper.yaml] [--constraints C.yaml]
                [--set ert=ERT.yaml] [--set reuse=timeloop] [--set imperfect=true] [--budget N] [--seed S] [--restarts R]
                [--searcher NAME] [--json] [--out map.yaml]

Reads what timeloop-mapper reads (a Timeloop v0.4 architecture or Timeloop's
own ``parsed-processed-input.yaml``, with the constraints it carries; a
problem; optionally ``mapper.yaml`` for the optimization metrics, extra
constraints and an Accelergy ``ERT.yaml``), searches ``--budget`` mappings
(counted, seeded: the internal mapper of
:mod:`archgym.simulators.dataflow.mapper`, or any searcher of the project
with ``--searcher`` driving ``DataflowMapping-v0``), prints the best mapping's
cycles, energy and EDP with the per-level table, and writes it as a Timeloop
mapping with ``--out``.  The handler imports the library when it runs.
"""
from __future__ import annotations

import argparse

from .args import Command, UsageError, fmt, int_arg, key_values, print_json

__all__ = ["MAP"]

#: Timeloop ``optimization_metrics`` lists -> the mapper's objective
METRIC_OBJECTIVES = {("edp",): "edp", ("delay", "energy"): "cycles", ("delay",): "cycles", ("energy",): "energy",
                     ("energy", "delay"): "energy"}


def _configure(s: argparse.ArgumentParser) -> None:
    s.add_argument("--arch", required=True, help="Timeloop architecture YAML (or a built-in: eyeriss_like, three_level)")
    s.add_argument("--problem", required=True, help="Timeloop problem YAML or NETWORK:LAYER (e.g. resnet18:conv1)")
    s.add_argument("--mapper", help="Timeloop mapper.yaml (optimization_metrics; mapspace template uber or ruby, "
                                    "ruby = imperfect factors; other search settings are ignored: the search is "
                                    "budgeted by --budget)")
    s.add_argument("--constraints", help="Timeloop constraints YAML, added to the architecture's")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="simulator option: ert=ERT.yaml, reuse=exact|timeloop, imperfect=true (residual factors, "
                        "reuse=exact)")
    s.add_argument("--budget", type=int_arg(1, "--budget"), default=10000, help="mappings evaluated (default 10000)")
    s.add_argument("--seed", type=int_arg(0, "--seed"), default=0)
    s.add_argument("--restarts", type=int_arg(1, "--restarts"), default=2,
                   help="independent searches sharing the budget (internal mapper; default 2)")
    s.add_argument("--objective", choices=("edp", "energy", "cycles"),
                   help="what to minimize (default: the mapper file's optimization_metrics, else edp)")
    s.add_argument("--searcher", help="a searcher of the project (archgym list agents) instead of the internal mapper")
    s.add_argument("--json", action="store_true")
    s.add_argument("--out", help="write the best mapping here (Timeloop mapping YAML)")


def _objective(args) -> str:
    if args.objective:
        return args.objective
    if not args.mapper:
        return "edp"
    from archgym.simulators.dataflow.timeloop_io import load_yaml

    doc = load_yaml(args.mapper)
    section = doc.get("mapper", doc) if isinstance(doc, dict) else {}
    metrics = section.get("optimization_metrics") or section.get("optimization_metric") or ["edp"]
    metrics = tuple(str(m) for m in (metrics if isinstance(metrics, list) else [metrics]))
    if metrics not in METRIC_OBJECTIVES:
        allowed = "; ".join(", ".join(k) for k in METRIC_OBJECTIVES)
        raise UsageError(f"{args.mapper}: optimization_metrics {list(metrics)} not supported; supported: {allowed}")
    return METRIC_OBJECTIVES[metrics]


def _template(args) -> str:
    """The mapper file's ``mapspace: {template: uber|ruby}`` (Timeloop's perfect-factor space, or Ruby's with
    imperfect factors: ``ruby`` turns ``imperfect`` on unless ``--set imperfect`` says otherwise)."""
    if not args.mapper:
        return "uber"
    from archgym.simulators.dataflow.timeloop_io import load_yaml

    doc = load_yaml(args.mapper)
    section = doc.get("mapspace") if isinstance(doc, dict) else None
    template = str(section.get("template", "uber")) if isinstance(section, dict) else "uber"
    if template not in ("uber", "ruby"):
        raise UsageError(f"{args.mapper}: mapspace template {template!r} not supported; supported: uber, ruby")
    return template


def _run(args) -> int:
    import time

    import numpy as np

    from archgym.simulators.dataflow.evaluate import count_rows, evaluate_nest, level_rows
    from archgym.simulators.dataflow.mapper import map_layer
    from archgym.simulators.dataflow.mapping import mapping_of
    from archgym.simulators.dataflow.simulator import DataflowMappingSimulator
    from archgym.simulators.dataflow.timeloop_io import mapping_document

    options = key_values(args.set)
    unknown = sorted(set(options) - {"ert", "reuse", "imperfect"})
    if unknown:
        raise UsageError(f"--set {unknown[0]}: unknown option; allowed: ert, reuse, imperfect")
    objective = _objective(args)
    if "imperfect" not in options and _template(args) == "ruby":
        options["imperfect"] = True
    kw = dict(workload=args.problem, arch=args.arch, constraints=args.constraints, **options)
    sim = DataflowMappingSimulator(**kw)
    t0 = time.process_time()
    if args.searcher:
        idx, evaluated = _drive(args, kw, objective)
        nest = sim.mspace.nest(idx[None, :])
    else:
        res = map_layer(sim.problem, sim.arch, args.budget, args.seed, sim.reuse, objective, space=sim.mspace,
                        table=sim.table, restarts=args.restarts)
        nest, evaluated = sim.mspace.nest(res.indices[None, :]), res.evaluated
    cpu = time.process_time() - t0
    metrics, reasons, counts = evaluate_nest(sim.problem, sim.arch, nest, sim.reuse, sim.table)
    if reasons[0]:
        raise UsageError(f"no feasible mapping found in {evaluated} evaluations (last reason: {reasons[0]})")
    mapping = mapping_of(nest, 0, sim.problem, sim.arch)
    doc = mapping_document(mapping, sim.problem, sim.arch)
    if args.out:
        import yaml

        with open(args.out, "w", encoding="utf-8") as fh:
            yaml.safe_dump(doc, fh, sort_keys=False)
    out = {"problem": sim.problem.name, "arch": sim.arch.name, "objective": objective, "evaluated": evaluated,
           "searcher": args.searcher or "mapper", "seed": args.seed, "cpu_s": cpu,
           "energy_table": sim.table.source if sim.table else "built-in 45 nm",
           "metrics": {k: float(v[0]) for k, v in metrics.items()},
           "levels": level_rows(sim.arch, counts), "rows": count_rows(sim.problem, sim.arch, counts),
           "mapping": doc["mapping"]}
    if args.json:
        print_json(out)
        return 0
    m = out["metrics"]
    print(f"{out['searcher']} on {sim.problem.name} / {sim.arch.name}: {evaluated} mappings, seed {args.seed}, "
          f"{cpu:.2f} s CPU, minimizing {objective} ({out['energy_table']})")
    print(f"cycles {fmt(m['cycles'])}  energy {fmt(m['energy_pj'])} pJ  EDP {fmt(m['edp'])} pJ*cycles  "
          f"utilization {fmt(m['utilization'])}  throttling {fmt(m['throttling'])}")
    print(f"{'level':<28} {'energy_pj':>14} {'throttling':>10}")
    for r in out["levels"]:
        print(f"{r['level']:<28} {fmt(r['energy_pj']):>14} {fmt(r['throttling']):>10}")
    if args.out:
        print(f"mapping written to {args.out}")
    return 0


def _drive(args, kw: dict, objective: str):
    """Run ``--searcher`` on ``DataflowMapping-v0`` through the run pipeline; the best design's indices."""
    import numpy as np

    from archgym.pipeline import build, execute
    from archgym.trial import Trial

    env_kwargs = {k: v for k, v in kw.items() if v is not None}
    env_kwargs["objective"] = {"edp": "edp", "energy": "energy_pj", "cycles": "cycles"}[objective]
    trial = Trial.create("DataflowMapping-v0", env_kwargs, args.searcher, {}, args.seed, args.budget)
    env, agent = build(trial)
    result = execute(trial, env, agent)
    if not result.ok:
        if result.user_error:
            raise UsageError(result.error_line)
        raise RuntimeError(result.error)
    dse = getattr(env, "unwrapped", env)
    traj = dse.trajectory()
    best = traj.loc[traj["reward"].idxmax()]
    sim = dse.simulator
    return sim.mspace.indices([{n: best[n] for n in sim.space.names}])[0], int(len(traj))


MAP = Command("search the mappings of one layer on one architecture (what timeloop-mapper does)", _configure, _run)

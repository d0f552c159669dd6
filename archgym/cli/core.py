"""``archgym list``, ``info``, ``evaluate`` and ``run``: environments, designs and one search."""
from __future__ import annotations

import argparse
import json
import os
import sys

from archgym.userfiles import read_text

from .args import Command, UsageError, add_env_arguments, add_quiet, add_workload_arguments, fmt, int_arg, json_value, \
    key_values, print_json, progress_bar, simulator_kwargs, to_json

__all__ = ["LIST", "INFO", "EVALUATE", "RUN"]


# --------------------------------------------------------------------------- list
def _configure_list(s: argparse.ArgumentParser) -> None:
    s.add_argument("what", nargs="?", choices=["all", "envs", "agents"], default="all")


def _list(args) -> int:
    import archgym
    from archgym.registry import agent_class

    if args.what in ("all", "envs"):
        print("environments:")
        for sid in archgym.list_envs():
            print(f"  archgym/{sid}")
    if args.what in ("all", "agents"):
        print("agents:")
        for name in archgym.list_agents():
            try:
                desc = agent_class(name).describe()
            except Exception as exc:  # a plugin that fails to import is listed, not fatal
                desc = f"{name}: unavailable ({exc})"
            print(f"  {desc}")
    return 0


# --------------------------------------------------------------------------- info
def _configure_info(s: argparse.ArgumentParser) -> None:
    s.add_argument("env")
    add_workload_arguments(s)
    s.add_argument("--json", action="store_true")


def _info(args) -> int:
    import archgym

    sim = archgym.make_simulator(args.env, **simulator_kwargs(args, None))
    d = sim.describe()
    if args.json:
        print_json(d)
        return 0
    print(f"{d['name']} v{d['version']}  workload: {d['workload'] or '-'}  designs: {d['space_size']:,}")
    print("parameters:")
    for p in sim.space:
        unit = f" [{p.unit}]" if p.unit else ""
        print(f"  {p.name:<28} {p.kind:<12} {p.allowed()}{unit}")
    if sim.space.constraints:
        print("constraints:")
        for c in sim.space.constraints:
            print(f"  {c.description}")
    print("metrics:")
    for m in sim.metrics:
        better = "lower" if m.lower_is_better else "higher"
        print(f"  {m.name:<28} {m.unit:<10} {better} is better")
    print("reference design (--config reference; a partial --config such as "
          f"'{_example_change(sim)}' is the reference design with that change):")
    print("  " + json.dumps(to_json(sim.reference_config())))
    if d["workloads"]:
        print("workloads:", ", ".join(d["workloads"]))
    for line in d.get("notes", ()):
        print(line)
    return 0


# --------------------------------------------------------------------------- evaluate
def _example_change(sim) -> str:
    """A one-parameter partial design for ``archgym info``: the first parameter at
    the next allowed value after the reference design's."""
    space = sim.space
    idx = space.encode(sim.reference_config()).copy()
    idx[0] = (idx[0] + 1) % space.nvec[0]
    name = space.names[0]
    return json.dumps(to_json({name: space.decode(idx)[name]}))


#: ``--config reference``: the simulator's reference design
REFERENCE = "reference"


def _configure_evaluate(s: argparse.ArgumentParser) -> None:
    add_env_arguments(s)
    s.add_argument("--config", required=True,
                   help="'reference' (the simulator's reference design, see `archgym info`), a JSON object (the "
                        "parameters it leaves out keep the reference design's values), a JSON list or JSON-lines "
                        "file of such objects, or a simulator config file")
    s.add_argument("--per-layer", action="store_true", help="per-component breakdown (e.g. per layer)")
    s.add_argument("--json", action="store_true")


def _load_configs(sim, text: str) -> tuple[list[dict], bool]:
    """Designs from ``reference``, inline JSON, a JSON/JSON-lines file, or a
    simulator-specific file; every design is the reference design updated with
    the parameters it names (:func:`_filled`).  Returns (configs, was_a_list)."""
    configs, many = _read_configs(sim, text)
    return [_filled(sim, c) for c in configs], many


def _filled(sim, design: dict) -> dict:
    """``design`` completed with the reference design's values for the parameters it
    leaves out: ``{"PagePolicy": "Closed"}`` is the reference design with that change.
    Unknown parameters stay in, so the simulator's validation names them."""
    return {**sim.reference_config(), **design}


def _read_configs(sim, text: str) -> tuple[list[dict], bool]:
    """The designs as written (see :func:`_load_configs`)."""
    if text.strip() == REFERENCE:
        return [sim.reference_config()], False
    if os.path.exists(text):
        if os.path.isdir(text):
            raise UsageError(f"--config {text!r} is a folder; give a JSON design, a JSON/JSON-lines file or a "
                             "simulator config file")
        parsed = sim.parse_config_file(text)
        if parsed is not None:
            return [parsed], False
        body = read_text(text, "--config", UsageError)
        try:
            data = json_value(body, f"--config {text}")
        except json.JSONDecodeError as exc:
            lines = [ln for ln in body.splitlines() if ln.strip()]
            data = []
            for i, ln in enumerate(lines, start=1):
                try:
                    data.append(json_value(ln, f"--config {text} line {i}"))
                except json.JSONDecodeError:
                    raise UsageError(f"{text}: not JSON or JSON lines (line {i}): {exc.msg}") from None
        if not data:
            raise UsageError(f"--config {text!r} holds no design; give a JSON object, a list of objects or "
                             "JSON lines")
    else:
        try:
            data = json_value(text, "--config")
        except json.JSONDecodeError as exc:
            raise UsageError(f"--config is neither a file nor valid JSON: {exc.msg} at char {exc.pos}") from None
    if isinstance(data, dict):
        return [data], False
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        return data, True
    if isinstance(data, list) and not data:
        raise UsageError("--config '[]' holds no design; give a JSON object or a non-empty list of objects")
    raise UsageError("--config must be a JSON object (one design) or a list of objects")


def _evaluate_many(sim, configs: list[dict]):
    """The batch path for designs of the space; if any lies outside it, every
    design through ``Simulator.evaluate`` (which costs what the model supports
    and adds the ``in_space`` column)."""
    from archgym.space import ConstraintViolation, InvalidConfigError

    try:
        return sim.evaluate_batch(configs)
    except ConstraintViolation:
        raise
    except InvalidConfigError:
        import pandas as pd

        return pd.DataFrame([{**sim.validate_design(c)[0], **sim.evaluate(c)} for c in configs])


def _evaluate(args) -> int:
    import archgym

    sim = archgym.make_simulator(args.env, **simulator_kwargs(args, args.set))
    configs, many = _load_configs(sim, args.config)
    if args.per_layer:
        if many:
            raise UsageError("--per-layer takes a single design")
        try:
            df = sim.evaluate_details(configs[0])
        except NotImplementedError as exc:
            raise UsageError(str(exc)) from None
        if args.json:
            print_json(df.to_dict(orient="records"))
        else:
            import pandas as pd

            with pd.option_context("display.max_columns", None, "display.width", 200):
                print(df.to_string(index=False))
        return 0
    if many:
        df = _evaluate_many(sim, configs)
        print_json(df.to_dict(orient="records")) if args.json else print(df.to_string(index=False))
        return 0
    res = sim.evaluate(configs[0])
    if args.json:
        print_json(res)
        return 0
    units = {m.name: m.unit for m in sim.metrics}
    for k, v in res.items():
        print(f"{k:<24} {fmt(v)} {units.get(k, '')}".rstrip())
    return 0


# --------------------------------------------------------------------------- run
def _configure_run(s: argparse.ArgumentParser) -> None:
    s.add_argument("env")
    s.add_argument("--agent", required=True)
    s.add_argument("--budget", type=int_arg(1, "--budget"), required=True, help="simulator evaluations")
    s.add_argument("--seed", type=int_arg(0, "--seed"), default=0)
    add_workload_arguments(s)
    s.add_argument("--objective", help="objective spec, e.g. 'cycles' or 'cycles<=1e6,energy_pj'")
    s.add_argument("--set", action="append", metavar="HP=VALUE", help="searcher hyperparameter")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="simulator/env option")
    s.add_argument("--store", help="SQLite results file to record the run in")
    s.add_argument("--study", default="cli", help="study name in the store")
    s.add_argument("--json", action="store_true", help="print the result as JSON on stdout (progress stays on stderr)")
    add_quiet(s)


def _run(args) -> int:
    """One trial through the run pipeline (:mod:`archgym.pipeline`), recorded
    in ``--store`` as ``archgym sweep`` records its trials."""
    import time

    import archgym
    from archgym.env import DSEEnv
    from archgym.pipeline import build, execute
    from archgym.trial import Trial

    if args.study is not None and not args.study.strip():
        raise UsageError("--study: give a study name, got ''")
    if args.store is not None and not args.store.strip():
        raise UsageError("--store: give a results file (e.g. runs.db), got ''")
    env_kwargs = simulator_kwargs(args, args.option, "--option")
    if args.objective is not None:
        env_kwargs["objective"] = args.objective
    # checks the env id, the agent and its hyperparameters before any work
    trial = Trial.create(args.env, env_kwargs, args.agent, key_values(args.set), args.seed, args.budget)
    store = None
    if args.store:
        from archgym.store import Store

        store = Store(args.store)  # validated now, so a bad store cannot lose the search's result
    try:
        t0 = time.perf_counter()
        env, agent = build(trial)
        dse = getattr(env, "unwrapped", env)
        if not isinstance(dse, DSEEnv):
            raise UsageError(f"{trial.env_id} is not a design-space env (a {type(env).__name__}); searchers run "
                             f"on: {', '.join(archgym.list_simulators())}")
        bar = progress_bar(args.budget, f"{args.agent} on {trial.env_id}", "eval", enabled=not args.quiet)
        try:
            result = execute(trial, env, agent, setup_time_s=time.perf_counter() - t0,
                             listeners=(lambda record: bar.update(1),))
        finally:
            bar.close()
        if store is not None:
            store.record(store.study(args.study), trial, result)
    finally:
        if store is not None:
            store.close()
    if not result.ok:
        if result.user_error:
            raise UsageError(result.error_line)
        print(result.error, file=sys.stderr, end="")
        return 1
    _report_run(args, trial, dse, env_kwargs)
    return 0


def _report_run(args, trial, dse, env_kwargs: dict) -> None:
    """Print (or ``--json``) the run's best design; a stand-in's best designs re-scored on the real simulator."""
    import archgym
    from archgym.standin import rescore_best

    traj = dse.trajectory()
    best = traj.loc[traj["reward"].idxmax()] if len(traj) else None
    rescored = None
    if dse.simulator.stands_in_for and len(traj):
        real = archgym.make(trial.env_id, **{k: v for k, v in env_kwargs.items() if k != "backend"})
        rescored = rescore_best(dse, traj, real)
    objective = dse.objective.to_spec()
    if args.json:
        print_json({"env": trial.env_id, "agent": args.agent, "seed": args.seed, "budget": args.budget,
                    "objective": objective, "evaluations": len(traj),
                    "best_reward": None if best is None else float(best["reward"]),
                    "best_config": None if best is None else {n: best[n] for n in dse.space.names},
                    "best_metrics": None if best is None else {m: best[m] for m in dse.simulator.metric_names},
                    "rescored_on_simulator": rescored, "trajectory": traj.to_dict(orient="records")})
        return
    print(f"{args.agent} on {trial.env_id} ({dse.simulator.workload_label}), budget {args.budget}, seed {args.seed}: "
          f"{len(traj)} evaluations, best reward {fmt(float(best['reward'])) if best is not None else '-'}")
    print(f"objective: {objective_text(dse.objective)}")
    if best is not None:
        print("best design:", to_json({n: best[n] for n in dse.space.names}))
        units = {m.name: m.unit for m in dse.simulator.metrics}
        for m in dse.simulator.metric_names:
            print(f"  {m:<24} {fmt(best[m])} {units[m]}".rstrip())
    if rescored:
        print(f"best designs re-scored on the real simulator ({dse.simulator.version} -> real reward):")
        for r in rescored:
            print(f"  {r['stand_in_reward']:.6g} -> {r['real_reward']:.6g}  {r['config']}")
    if args.store:
        print(f"recorded in {args.store} (study {args.study!r})")


def objective_text(objective) -> str:
    """A bound objective in the spec grammar of :mod:`archgym.objective`, with
    what its reward means: ``cost (minimize; reward in [0, 1], -1 if infeasible)``."""
    spec = objective.to_spec()
    if spec["kind"] == "archgym_compat":
        pairs = ",".join(f"{k}={fmt(float(v))}" for k, v in spec["targets"].items())
        how = "summed" if spec["combine"] == "sum" else "multiplied"
        return (f"archgym:{pairs} (ArchGym's reward target/|x - target| per metric, {how}; unbounded, "
                f"{fmt(objective.infeasible_reward)} if infeasible)")
    terms = objective.terms
    same = len({t.weight for t in terms}) == 1
    words = []
    for t in terms:
        target = "" if t.target is None else f"{'<=' if t.lower_is_better else '>='}{fmt(float(t.target))}"
        words.append(f"{'' if same else fmt(float(t.weight)) + '*'}{t.metric}{target}")
    goals = ", ".join(f"{'minimize' if t.lower_is_better else 'maximize'}" + (f" {t.metric}" if len(terms) > 1 else "")
                      for t in terms)
    if spec["kind"] == "pareto":
        return (f"pareto:{','.join(words)} ({goals}: {len(terms)} objectives, each scored in [0, 1]; "
                f"reward = their mean, {fmt(objective.infeasible_reward)} if infeasible)")
    mean = "" if len(terms) == 1 else ", weighted mean of the scores"
    return f"{', '.join(words)} ({goals}{mean}; reward in [0, 1], {fmt(objective.infeasible_reward)} if infeasible)"


LIST = Command("environments and searchers, one line each", _configure_list, _list)
INFO = Command("parameters, metrics and workloads of an environment", _configure_info, _info)
EVALUATE = Command("evaluate one design (or a JSON list / JSON-lines file of designs)", _configure_evaluate,
                    _evaluate)
RUN = Command("run one searcher on one environment", _configure_run, _run)

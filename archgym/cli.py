"""The ``archgym`` command line.

::

    archgym [--import MODULE] COMMAND ...
    archgym list [envs|agents]
    archgym info ENV [--workload W] [--json]
    archgym evaluate ENV [--workload W] --config JSON|FILE [--per-layer] [--json] [--set key=value ...]
    archgym run ENV --agent A --budget N --seed S [--workload W] [--objective SPEC]
                [--set hp=value ...] [--store FILE] [--json]
    archgym sweep SPEC.yaml [--store FILE] [--workers N] [--executor local|dask]
                [--scheduler ADDRESS] [--retry-failed]
    archgym report STORE [--out DIR]
    archgym compare STORE [--budgets 100,300]
    archgym failures STORE [--study NAME] [--short]
    archgym bench {reference,run,plan} ...       (archgym.experiments.bench)
    archgym leaderboard [RUNS.csv|STORE.db] ...  (archgym.experiments.bench)
    archgym proxy dataset|train|evaluate|search|hash ...   (see archgym.cost_models.cli)

Error contract: a mistake in the user's input -- any
:class:`archgym.errors.UserInputError` (bad design value, workload, objective,
spec, store, hyperparameter, option, ...) -- prints exactly one line,
``archgym: error: ...``, on stderr and exits with status 2.  Every other
exception is a bug and keeps its traceback (exit status 1).  A sweep with
failed trials exits 1 after naming the reasons.

Subcommands live in one table, :data:`COMMANDS` (name -> :class:`Command`:
help, argument setup, handler); a sub-package adds its own with one entry
(a :class:`Command`, or a ``"module:attribute"`` string naming one, imported
when the parser is built).  The CLI is the one module that reaches into every
sub-package, and it imports each only when its command runs.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from archgym.errors import UserInputError

EXIT_USAGE = 2


class UsageError(UserInputError):
    """A bad command-line argument: reported in one line, exit status 2."""


def _parse_value(text: str) -> Any:
    """``key=value`` values: JSON if it parses (numbers, true/false, lists), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_sets(items: Sequence[str] | None) -> dict:
    out = {}
    for item in items or ():
        if "=" not in item:
            raise UsageError(f"--set expects key=value, got {item!r}")
        k, _, v = item.partition("=")
        if not k.strip():
            raise UsageError(f"--set expects key=value, got {item!r}")
        out[k.strip()] = _parse_value(v.strip())
    return out


def int_arg(low: int, what: str) -> Callable[[str], int]:
    """argparse type: an integer >= ``low`` (argparse reports a bad one in one line, exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{what} must be an integer >= {low}, got {text!r}")
        return value
    parse.__name__ = what
    return parse


def _sim_kwargs(args) -> dict:
    kw = {}
    if getattr(args, "workload", None) is not None:
        kw["workload"] = args.workload
    return kw


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.6g}"
    return str(v)


def _json_default(o: Any):
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _clean(o: Any) -> Any:
    """NaN -> None recursively, so --json output is strict JSON."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):
        return _clean(o.item())
    return o


def _print_json(obj: Any) -> None:
    print(json.dumps(_clean(obj), indent=2, default=_json_default))


# --------------------------------------------------------------------------- commands
def cmd_list(args) -> int:
    import archgym

    what = args.what
    if what in ("all", "envs"):
        print("environments:")
        for sid in archgym.list_envs():
            print(f"  archgym/{sid}")
    if what in ("all", "agents"):
        print("agents:")
        from archgym.registry import agent_class

        for name in archgym.list_agents():
            try:
                desc = agent_class(name).describe()
            except Exception as exc:  # a plugin that fails to import is listed, not fatal
                desc = f"{name}: unavailable ({exc})"
            print(f"  {desc}")
    return 0


def cmd_info(args) -> int:
    import archgym

    sim = archgym.make_simulator(args.env, **_sim_kwargs(args))
    d = sim.describe()
    if args.json:
        _print_json(d)
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
    if d["workloads"]:
        print("workloads:", ", ".join(d["workloads"]))
    for line in d.get("notes", ()):
        print(line)
    return 0


def _load_configs(sim, text: str) -> tuple[list[dict], bool]:
    """Designs from inline JSON, a JSON/JSON-lines file, or a simulator-specific
    file; returns (configs, was_a_list)."""
    if os.path.exists(text):
        if os.path.isdir(text):
            raise UsageError(f"--config {text!r} is a folder; give a JSON design, a JSON/JSON-lines file or a "
                             "simulator config file")
        parsed = sim.parse_config_file(text)
        if parsed is not None:
            return [parsed], False
        try:
            with open(text, encoding="utf-8") as fh:
                body = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--config {text!r} cannot be read as text: {exc}") from None
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            lines = [ln for ln in body.splitlines() if ln.strip()]
            data = []
            for i, ln in enumerate(lines, start=1):
                try:
                    data.append(json.loads(ln))
                except json.JSONDecodeError:
                    raise UsageError(f"{text}: not JSON or JSON lines (line {i}): {exc.msg}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--config is neither a file nor valid JSON: {exc.msg} at char {exc.pos}") from None
    if isinstance(data, dict):
        return [data], False
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return data, True
    raise UsageError("--config must be a JSON object (one design) or a list of objects")


def cmd_evaluate(args) -> int:
    import archgym

    sim = archgym.make_simulator(args.env, **_sim_kwargs(args), **_parse_sets(args.set))
    configs, many = _load_configs(sim, args.config)
    if args.per_layer:
        if many:
            raise UsageError("--per-layer takes a single design")
        try:
            df = sim.evaluate_details(configs[0])
        except NotImplementedError as exc:
            raise UsageError(str(exc)) from None
        if args.json:
            _print_json(df.to_dict(orient="records"))
        else:
            import pandas as pd

            with pd.option_context("display.max_columns", None, "display.width", 200):
                print(df.to_string(index=False))
        return 0
    if many:
        df = _evaluate_many(sim, configs)
        records = df.to_dict(orient="records")
        if args.json:
            _print_json(records)
        else:
            print(df.to_string(index=False))
        return 0
    res = sim.evaluate(configs[0])
    if args.json:
        _print_json(res)
        return 0
    units = {m.name: m.unit for m in sim.metrics}
    for k, v in res.items():
        unit = units.get(k, "")
        print(f"{k:<24} {_fmt(v)} {unit}".rstrip())
    return 0


def _evaluate_many(sim, configs: list[dict]):
    """The batch path for designs of the space; if any lies outside it, every
    design through ``Simulator.evaluate`` (which costs what the model supports
    and adds the ``in_space`` column)."""
    from archgym.space import ConstraintViolation, InvalidConfigError

    try:
        return sim.evaluate_batch(_progress(configs, "evaluate"))
    except ConstraintViolation:
        raise
    except InvalidConfigError:
        import pandas as pd

        return pd.DataFrame([{**sim.validate_design(c)[0], **sim.evaluate(c)} for c in configs])


def _progress(items, desc: str):
    if len(items) < 200 or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="design")


def cmd_run(args) -> int:
    import archgym
    from archgym.registry import resolve_id

    env_id = resolve_id(args.env)
    hp = _parse_sets(args.set)
    agent = archgym.make_agent(args.agent, **hp)  # validates hyperparameters before any work
    env_kwargs = {**_sim_kwargs(args), **_parse_sets(args.option)}
    if args.objective is not None:
        env_kwargs["objective"] = args.objective
    env = archgym.make(env_id, **env_kwargs)
    from archgym.env import DSEEnv

    if not isinstance(getattr(env, "unwrapped", env), DSEEnv):
        searchable = ", ".join(archgym.list_simulators())
        raise UsageError(f"{env_id} is not a design-space env (a {type(env).__name__}); searchers run on: "
                         f"{searchable}")
    store = None
    if args.store:
        from archgym.store import Store

        store = Store(args.store)  # validated now, so a bad store cannot lose the search's result
    bar = None
    if args.budget >= 200 and sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        bar = tqdm(total=args.budget, desc=f"{args.agent} on {env_id}", unit="eval")
        env.listeners.append(lambda record: bar.update(1))
    try:
        traj = agent.run(env, args.budget, args.seed)
    except BaseException:
        if store is not None:
            store.close()
        raise
    finally:
        if bar is not None:
            bar.close()
    if store is not None:
        from archgym.trial_key import trial_key

        with store:
            sid = store.study(args.study)
            key = trial_key(env_id, env_kwargs, args.agent, agent.get_params(), args.seed, args.budget)
            tid = store.add_trial(sid, key, args.agent, agent.get_params(), env_id, env_kwargs, args.seed, args.budget)
            store.start_trial(tid)
            store.complete_trial(tid, env.history, env.simulator.name, env.simulator.version,
                                 float(traj["wall_time_s"].sum()))
    best = traj.loc[traj["reward"].idxmax()] if len(traj) else None
    rescored = None
    if getattr(env.simulator, "base_name", None) and len(traj):  # proxy backend: re-score on the real simulator
        from archgym.cost_models.cli import rescore_best

        real = {k: v for k, v in env_kwargs.items() if k != "backend"}
        rescored = rescore_best(env, traj, archgym.make(env_id, **real))
    if args.json:
        _print_json({"env": env_id, "agent": args.agent, "seed": args.seed, "budget": args.budget,
                     "evaluations": len(traj), "best_reward": None if best is None else float(best["reward"]),
                     "best_config": None if best is None else {n: best[n] for n in env.space.names},
                     "best_metrics": None if best is None else {m: best[m] for m in env.simulator.metric_names},
                     "rescored_on_simulator": rescored,
                     "trajectory": traj.to_dict(orient="records")})
        return 0
    print(f"{args.agent} on {env_id} ({env.simulator.workload_label}), budget {args.budget}, seed {args.seed}: "
          f"{len(traj)} evaluations, best reward {_fmt(float(best['reward'])) if best is not None else '-'}")
    if best is not None:
        print("best design:", _clean({n: best[n] for n in env.space.names}))
        units = {m.name: m.unit for m in env.simulator.metrics}
        for m in env.simulator.metric_names:
            print(f"  {m:<24} {_fmt(best[m])} {units[m]}".rstrip())
    if rescored:
        from archgym.cost_models.cli import print_rescore

        print_rescore(rescored)
    if args.store:
        print(f"recorded in {args.store} (study {args.study!r})")
    return 0


def cmd_sweep(args) -> int:
    from archgym.experiments.runner import failure_lines, run_sweep

    summary = run_sweep(args.spec, store=args.store, workers=args.workers, executor=args.executor,
                        scheduler=args.scheduler, retry_failed=args.retry_failed, progress=not args.quiet)
    print(json.dumps(_clean(summary), default=_json_default))
    if summary.get("failed_total"):
        for line in failure_lines(summary):
            print(f"archgym: {line}", file=sys.stderr)
        return 1
    return 0


def cmd_failures(args) -> int:
    from archgym.experiments.runner import failure_reason
    from archgym.store import Store

    with Store(args.store, readonly=True) as db:
        t = db.trials(args.study)
    t = t[t["status"] == "failed"]
    if t.empty:
        print(f"no failed trials in {args.store}")
        return 0
    for _, r in t.iterrows():
        print(f"== trial {r['trial_key']} ({r['study']}): {r['agent']} on {r['env_id']}, seed {r['seed']}, "
              f"budget {r['budget']}: {failure_reason(r['error'])}")
        if not args.short:
            print((r["error"] or "").rstrip())
    return 0


def cmd_report(args) -> int:
    from archgym.experiments.report import write_report

    files = write_report(args.store, args.out)
    for f in files:
        print(f)
    return 0


def cmd_compare(args) -> int:
    from archgym.experiments.report import ranking_table

    budgets = None
    if args.budgets is not None:
        try:
            budgets = [int(b) for b in args.budgets.split(",")]
        except ValueError:
            raise UsageError(f"--budgets expects comma-separated integers such as 100,300; got "
                             f"{args.budgets!r}") from None
    table = ranking_table(args.store, budgets=budgets)
    print(table.to_string(index=False) if hasattr(table, "to_string") else table)
    return 0


# --------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(EXIT_USAGE, f"archgym: error: {message}\n")


@dataclass(frozen=True)
class Command:
    """One subcommand: ``help`` (one line), ``configure(parser)`` adds its
    arguments, ``run(args) -> exit status``."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_proxy(s: argparse.ArgumentParser) -> None:
    s.add_argument("rest", nargs=argparse.REMAINDER, help="dataset | train | evaluate | search | hash ...")


def cmd_proxy(args) -> int:
    from archgym.cost_models.cli import main as proxy_main  # heavy (numba, scikit-learn): only when used

    return proxy_main(args.rest)


def _configure_list(s: argparse.ArgumentParser) -> None:
    s.add_argument("what", nargs="?", choices=["all", "envs", "agents"], default="all")


def _configure_info(s: argparse.ArgumentParser) -> None:
    s.add_argument("env")
    s.add_argument("--workload")
    s.add_argument("--json", action="store_true")


def _configure_evaluate(s: argparse.ArgumentParser) -> None:
    s.add_argument("env")
    s.add_argument("--workload")
    s.add_argument("--config", required=True, help="JSON object, JSON/JSON-lines file, or a simulator config file")
    s.add_argument("--per-layer", action="store_true", help="per-component breakdown (e.g. per layer)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="simulator option")


def _configure_run(s: argparse.ArgumentParser) -> None:
    s.add_argument("env")
    s.add_argument("--agent", required=True)
    s.add_argument("--budget", type=int_arg(1, "--budget"), required=True, help="simulator evaluations")
    s.add_argument("--seed", type=int_arg(0, "--seed"), default=0)
    s.add_argument("--workload")
    s.add_argument("--objective", help="objective spec, e.g. 'cycles' or 'cycles<=1e6,energy_pj'")
    s.add_argument("--set", action="append", metavar="HP=VALUE", help="searcher hyperparameter")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="simulator/env option")
    s.add_argument("--store", help="SQLite results file to record the run in")
    s.add_argument("--study", default="cli", help="study name in the store")
    s.add_argument("--json", action="store_true")


def _configure_sweep(s: argparse.ArgumentParser) -> None:
    s.add_argument("spec")
    s.add_argument("--store")
    s.add_argument("--workers", type=int_arg(1, "--workers"), default=1)
    s.add_argument("--executor", choices=["local", "dask"], default="local")
    s.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    s.add_argument("--retry-failed", action="store_true")
    s.add_argument("--quiet", action="store_true")


def _configure_report(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--out", default="report")


def _configure_compare(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--budgets", help="comma-separated evaluation counts")


def _configure_failures(s: argparse.ArgumentParser) -> None:
    s.add_argument("store")
    s.add_argument("--study", help="only this study")
    s.add_argument("--short", action="store_true", help="one line per trial, no tracebacks")


#: Every subcommand, in ``--help`` order.  Add one with an entry here: a
#: :class:`Command`, or ``"module:attribute"`` naming one (imported when the
#: parser is built, so keep that module light).
COMMANDS: dict[str, Command | str] = {
    "list": Command("environments and searchers, one line each", _configure_list, cmd_list),
    "info": Command("parameters, metrics and workloads of an environment", _configure_info, cmd_info),
    "evaluate": Command("evaluate one design (or a JSON list / JSON-lines file of designs)",
                        _configure_evaluate, cmd_evaluate),
    "run": Command("run one searcher on one environment", _configure_run, cmd_run),
    "sweep": Command("run a sweep spec (YAML): envs x agents x hyperparameters x seeds", _configure_sweep,
                     cmd_sweep),
    "report": Command("plots and a Markdown/HTML report from a results store", _configure_report, cmd_report),
    "compare": Command("ranking table of searchers at fixed budgets", _configure_compare, cmd_compare),
    "failures": Command("failed trials of a store with their tracebacks", _configure_failures, cmd_failures),
    "bench": "archgym.experiments.bench_cli:BENCH",
    "leaderboard": "archgym.experiments.bench_cli:LEADERBOARD",
    "proxy": Command("proxy cost models: dataset | train | evaluate | search | hash", _configure_proxy, cmd_proxy),
}


def _command(entry: Command | str) -> Command:
    if isinstance(entry, Command):
        return entry
    mod, _, attr = entry.partition(":")
    return getattr(importlib.import_module(mod), attr)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="archgym", description="Design-space exploration gym for hardware accelerators.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--import", dest="imports", action="append", metavar="MODULE",
                   help="import MODULE first (e.g. one that calls archgym.register for your simulator)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    for name, entry in COMMANDS.items():
        cmd = _command(entry)
        s = sub.add_parser(name, help=cmd.help)
        cmd.configure(s)
        s.set_defaults(func=cmd.run)
    return p


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import archgym

        print(archgym.__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        for mod in args.imports or ():
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                raise UsageError(f"--import {mod}: {exc}") from None
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("archgym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except UserInputError as exc:  # exactly this family; anything else is a bug with a traceback
        print(f"archgym: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

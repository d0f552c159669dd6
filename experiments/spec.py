"""Sweep specs: a YAML file -> a validated :class:`SweepSpec` -> a list of :class:`Trial`.

A spec names a study and the product to run::

    study: quickstart                 # required; the study's name in the store
    description: free text            # optional
    store: quickstart.db              # optional; default <spec stem>.db next to the spec
    budget: 150                       # required; simulator evaluations per trial
    seeds: 3                          # N -> seeds 0..N-1, or an explicit list [0, 7, 42]
    objectives: ["cycles"]            # optional; one spec or a list (see archgym.objective)
    imports: [my_plugin]              # optional; modules imported by the driver and every worker
    pythonpath: [plugins]             # optional; folders (relative to the spec) put on sys.path first
    register:                         # optional; plugins registered in the driver and every worker
      simulators: {Toy-v0: "toysim:ToySimulator"}
      agents: {mine: "my_plugin:MyAgent"}
    environments:                     # required; each is an id or a mapping
      - Systolic-v0
      - id: DRAM-v0
        workloads: [stream, random]   # optional; one trial set per workload
        kwargs: {memory: ddr4-2400}   # optional; passed to archgym.make
        objectives: [...]             # optional; overrides the top-level list
        budget: 300                   # optional; overrides the top-level budget
    searchers:                        # required
      - agent: random
      - agent: ga
        hyperparameters:              # a list is a grid axis, a scalar is fixed;
          population_size: [8, 16]    # to pass a list *value*, wrap it: [[64, 64]]
          mutation_rate: 0.1
      - agent: aco
        sample: 10                    # 10 random settings from the declared ranges
        sample_seed: 0                # optional (default 0)
        sample_params: [evaporation]  # optional; default: every declared one not set below
        hyperparameters: {ant_count: 8}  # fixed/grid values are not sampled (crossed with samples)

Expansion order is fixed: environments x workloads x objectives x searchers x
hyperparameter settings x seeds, each in the order written.  A trial's id is
:func:`archgym.trial_key.trial_key` (the same function ``archgym run --store``
uses): a hash of everything that determines its trajectory -- env id and
simulator version, env kwargs (files by content hash), agent, *all*
hyperparameters resolved (defaults included), seed, budget -- so it survives
reordering the spec, adding entries never changes the ids of existing trials,
and a changed agent default or simulator version makes new trials instead of
reusing stale ones.  ``Trial.hyperparams`` keeps only the explicitly set
values (the labels of reports); the key covers the resolved ones.

Validation errors are one line: ``<file>:<line>: <key path>: <problem>``.
"""
from __future__ import annotations

import difflib
import importlib
import itertools
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from archgym.errors import UserInputError
from archgym.trial_key import canonical_json, trial_key

__all__ = ["SpecError", "SweepSpec", "EnvSpec", "SearcherSpec", "Trial", "load_spec", "parse_spec",
           "expand", "trial_key", "prepare_plugins", "check_problems"]

TOP_KEYS = {"study", "description", "store", "budget", "seeds", "objectives", "imports", "pythonpath",
            "register", "environments", "searchers"}
ENV_KEYS = {"id", "workloads", "kwargs", "objectives", "budget"}
SEARCHER_KEYS = {"agent", "hyperparameters", "sample", "sample_seed", "sample_params"}
REGISTER_KEYS = {"simulators", "agents"}


class SpecError(UserInputError):
    """A sweep spec is malformed; the message is one line naming file, line and key."""


# --------------------------------------------------------------------------- trial
@dataclass(frozen=True)
class Trial:
    """One unit of work: one agent with one hyperparameter setting, on one
    environment, with one seed and budget."""

    key: str
    env_id: str
    env_kwargs: Mapping[str, Any]
    agent: str
    hyperparams: Mapping[str, Any]
    seed: int
    budget: int

    def content(self) -> dict:
        return {"env_id": self.env_id, "env_kwargs": dict(self.env_kwargs), "agent": self.agent,
                "hyperparams": dict(self.hyperparams), "seed": self.seed, "budget": self.budget}


_canonical = canonical_json


# --------------------------------------------------------------------------- spec
@dataclass
class EnvSpec:
    id: str
    workloads: list[Any] = field(default_factory=lambda: [None])
    kwargs: dict = field(default_factory=dict)
    objectives: list[Any] = field(default_factory=lambda: [None])
    budget: int | None = None
    location: str = ""  # "<file>:<line>: environments[i]", for errors found later


@dataclass
class SearcherSpec:
    agent: str
    settings: list[dict]  # expanded hyperparameter settings (explicit values only)


@dataclass
class SweepSpec:
    """A validated sweep (see the module docstring).  ``raw`` is the parsed YAML."""

    study: str
    budget: int
    seeds: list[int]
    environments: list[EnvSpec]
    searchers: list[SearcherSpec]
    path: str | None = None
    store: str | None = None
    description: str = ""
    imports: list[str] = field(default_factory=list)
    pythonpath: list[str] = field(default_factory=list)
    register: dict = field(default_factory=lambda: {"simulators": {}, "agents": {}})
    raw: dict = field(default_factory=dict)

    @property
    def plugins(self) -> dict:
        """What a worker needs before it can build this spec's envs and agents."""
        return {"pythonpath": list(self.pythonpath), "imports": list(self.imports),
                "register": {k: dict(v) for k, v in self.register.items()}}

    def store_path(self) -> str:
        """``store:`` (relative to the spec) or ``<spec stem>.db`` next to the spec."""
        base = Path(self.path).resolve().parent if self.path else Path.cwd()
        if self.store:
            p = Path(self.store).expanduser()
            return str(p if p.is_absolute() else base / p)
        stem = Path(self.path).stem if self.path else self.study
        return str(base / f"{stem}.db")

    def trials(self) -> list["Trial"]:
        return expand(self)


# --------------------------------------------------------------------------- YAML with line numbers
class _Located:
    """Line numbers of every node of a YAML document, by key path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[tuple, int] = {}

    def record(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in node.value:
                try:
                    key = yaml.constructor.SafeConstructor().construct_object(k, deep=True)
                except Exception:
                    continue
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    continue
                line = k.start_mark.line + 1
                if key in seen:
                    at = _fmt_path(path + (key,))
                    raise SpecError(f"{self.source}:{line}: {at}: duplicate key {key!r} (first given on line "
                                    f"{seen[key]}); a mapping may name each key once")
                seen[key] = line
                self.record(v, path + (key,))
                self.lines[path + (key,)] = k.start_mark.line + 1  # the key's own line
                self.lines[path + (key, "__value__")] = v.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.record(v, path + (i,))

    def line(self, path: tuple) -> int | None:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def value_line(self, path: tuple) -> int | None:
        return self.lines.get(path + ("__value__",)) or self.line(path)


class _Checker:
    """Raises :class:`SpecError` with ``file:line: path: message``."""

    def __init__(self, where: _Located) -> None:
        self.where = where

    def fail(self, path: tuple, msg: str, value_line: bool = False) -> None:
        line = self.where.value_line(path) if value_line else self.where.line(path)
        loc = f"{self.where.source}:{line}" if line else self.where.source
        key = _fmt_path(path)
        raise SpecError(f"{loc}: {key + ': ' if key else ''}{msg}")

    def mapping(self, value: Any, path: tuple, allowed: set[str], required: Iterable[str] = ()) -> dict:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping, got {_type(value)}", value_line=True)
        for k in value:
            if k not in allowed:
                if not allowed:
                    self.fail(path + (k,), f"unknown key {k!r}; nothing is allowed here")
                close = difflib.get_close_matches(str(k), sorted(map(str, allowed)), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(path + (k,), f"unknown key {k!r}{hint}; allowed: {', '.join(sorted(map(str, allowed)))}")
        for k in required:
            if k not in value:
                self.fail(path, f"missing required key {k!r}")
        return dict(value)

    def str_(self, value: Any, path: tuple) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {_type(value)} {value!r}", value_line=True)
        return value

    def int_(self, value: Any, path: tuple, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {_type(value)} {value!r}", value_line=True)
        if low is not None and value < low:
            self.fail(path, f"must be >= {low}, got {value}", value_line=True)
        return value

    def list_(self, value: Any, path: tuple, allow_scalar: bool = False) -> list:
        if isinstance(value, list):
            return value
        if allow_scalar and value is not None:
            return [value]
        self.fail(path, f"expected a list, got {_type(value)}", value_line=True)
        return []


def _type(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean", type(None): "nothing"}.get(type(v), type(v).__name__)


def _fmt_path(path: tuple) -> str:
    out = ""
    for p in path:
        if p == "__value__":
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --------------------------------------------------------------------------- plugins
def prepare_plugins(plugins: Mapping[str, Any] | None) -> None:
    """Make a spec's simulators and agents available in this process (idempotent):
    extend ``sys.path``, import modules, register ``module:Class`` targets."""
    if not plugins:
        return
    for p in plugins.get("pythonpath", ()):
        if p not in sys.path:
            sys.path.insert(0, p)
    for mod in plugins.get("imports", ()):
        importlib.import_module(mod)
    import archgym
    from archgym import registry

    reg = plugins.get("register") or {}
    for sid, target in (reg.get("simulators") or {}).items():
        if sid not in registry.list_simulators():
            archgym.register(sid, target)
    for name, target in (reg.get("agents") or {}).items():
        if name not in registry.list_agents():
            archgym.register_agent(name, target)


# --------------------------------------------------------------------------- parsing
def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a YAML spec file (plugins are imported and registered)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise SpecError(f"no such sweep spec: {path!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read sweep spec {path!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_spec(text, source=path)


def read_located_yaml(text: str, source: str, error: type[UserInputError] | None = None) -> tuple[Any, "_Checker"]:
    """Parse YAML text; return the data and a checker that reports ``file:line: key: problem``
    (YAML syntax errors raise ``error``, default :class:`SpecError`, in the same one-line form)."""
    error = error or SpecError
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{source}{line}: invalid YAML: {problem}") from None
    where = _Located(source)
    if node is not None:
        where.record(node, ())
    return data, _Checker(where)


def parse_spec(text: str, source: str = "<spec>") -> SweepSpec:
    """Validate a spec given as YAML text (``source`` names it in errors)."""
    data, chk = read_located_yaml(text, source)
    if data is None:
        raise SpecError(f"{source}: the spec is empty")
    top = chk.mapping(data, (), TOP_KEYS, required=("study", "budget", "environments", "searchers"))
    base = Path(source).resolve().parent if os.path.exists(source) else Path.cwd()

    study = chk.str_(top["study"], ("study",))
    budget = chk.int_(top["budget"], ("budget",), low=1)
    seeds = _seeds(chk, top.get("seeds", 1))
    imports = [chk.str_(m, ("imports", i)) for i, m in enumerate(chk.list_(top.get("imports", []), ("imports",),
                                                                          allow_scalar=True))]
    pythonpath = [str((base / chk.str_(p, ("pythonpath", i))).resolve())
                  for i, p in enumerate(chk.list_(top.get("pythonpath", []), ("pythonpath",), allow_scalar=True))]
    register = _register(chk, top.get("register") or {})
    spec = SweepSpec(study=study, budget=budget, seeds=seeds, environments=[], searchers=[],
                     path=source if os.path.exists(source) else None,
                     store=chk.str_(top["store"], ("store",)) if "store" in top else None,
                     description=str(top.get("description", "")), imports=imports, pythonpath=pythonpath,
                     register=register, raw=data)
    try:
        prepare_plugins(spec.plugins)
    except Exception as exc:
        key = "register" if register["simulators"] or register["agents"] else "imports"
        chk.fail((key,), f"cannot load plugins: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")

    default_objs = _objectives(chk, top.get("objectives"), ("objectives",))
    envs = chk.list_(top["environments"], ("environments",))
    if not envs:
        chk.fail(("environments",), "needs at least one environment", value_line=True)
    for i, e in enumerate(envs):
        spec.environments.append(_environment(chk, e, ("environments", i), default_objs))
    searchers = chk.list_(top["searchers"], ("searchers",))
    if not searchers:
        chk.fail(("searchers",), "needs at least one searcher", value_line=True)
    for i, s in enumerate(searchers):
        spec.searchers.append(_searcher(chk, s, ("searchers", i)))
    return spec


def _seeds(chk: _Checker, value: Any) -> list[int]:
    if isinstance(value, list):
        seeds = [chk.int_(s, ("seeds", i), low=0) for i, s in enumerate(value)]
        if not seeds:
            chk.fail(("seeds",), "needs at least one seed", value_line=True)
        if len(set(seeds)) != len(seeds):
            chk.fail(("seeds",), "seeds must be distinct", value_line=True)
        return seeds
    return list(range(chk.int_(value, ("seeds",), low=1)))


def _register(chk: _Checker, value: Any) -> dict:
    reg = chk.mapping(value, ("register",), REGISTER_KEYS)
    out: dict = {"simulators": {}, "agents": {}}
    for kind in REGISTER_KEYS:
        table = chk.mapping(reg.get(kind) or {}, ("register", kind), set(reg.get(kind) or {}))
        for name, target in table.items():
            t = chk.str_(target, ("register", kind, name))
            if ":" not in t:
                chk.fail(("register", kind, name), f"expected 'module:Class', got {t!r}", value_line=True)
            out[kind][str(name)] = t
    return out


def _objectives(chk: _Checker, value: Any, path: tuple, sim_cls: type | None = None) -> list[Any]:
    """Objective specs (syntax checked; metric names checked against ``sim_cls``)."""
    from archgym.objective import ObjectiveError, make_objective

    if value is None:
        return [None]
    items = value if isinstance(value, list) else [value]
    if not items:
        chk.fail(path, "needs at least one objective (or leave the key out)", value_line=True)
    for i, obj in enumerate(items):
        p = path + (i,) if isinstance(value, list) else path
        if not isinstance(obj, (str, Mapping)):
            chk.fail(p, f"an objective is a string or a mapping, got {_type(obj)}", value_line=True)
        try:
            o = make_objective(obj)
            if sim_cls is not None:
                o.bind(sim_cls.metrics)
        except (ObjectiveError, TypeError, ValueError) as exc:
            chk.fail(p, str(exc), value_line=True)
    return list(items)


def _environment(chk: _Checker, value: Any, path: tuple, default_objs: list[Any]) -> EnvSpec:
    from archgym.registry import RegistryError, resolve_id, simulator_class

    if isinstance(value, str):
        value = {"id": value}
        id_path = path
    else:
        value = chk.mapping(value, path, ENV_KEYS, required=("id",))
        id_path = path + ("id",)
    raw_id = chk.str_(value["id"], id_path)
    try:
        env_id = resolve_id(raw_id)
    except RegistryError as exc:
        chk.fail(id_path, str(exc), value_line=True)
    try:
        sim_cls = simulator_class(env_id)
    except RegistryError as exc:
        if "without a simulator" not in str(exc):
            chk.fail(id_path, str(exc), value_line=True)
        sim_cls = None
    workloads = [None]
    if "workloads" in value:
        workloads = chk.list_(value["workloads"], path + ("workloads",), allow_scalar=True)
        if not workloads:
            chk.fail(path + ("workloads",), "needs at least one workload (or leave the key out)", value_line=True)
    kwargs = chk.mapping(value.get("kwargs") or {}, path + ("kwargs",), set(value.get("kwargs") or {}))
    for reserved in ("workload", "objective"):
        if reserved in kwargs:
            chk.fail(path + ("kwargs", reserved), f"use the {reserved}s key of the environment, not kwargs")
    objs = default_objs
    if "objectives" in value:
        objs = _objectives(chk, value["objectives"], path + ("objectives",), sim_cls)
    elif sim_cls is not None and default_objs != [None]:
        _objectives(chk, default_objs, path + ("id",), sim_cls)
    budget = chk.int_(value["budget"], path + ("budget",), low=1) if "budget" in value else None
    line = chk.where.line(path)
    location = f"{chk.where.source}:{line}: {_fmt_path(path)}" if line else f"{chk.where.source}: {_fmt_path(path)}"
    return EnvSpec(id=env_id, workloads=list(workloads), kwargs=kwargs, objectives=list(objs), budget=budget,
                   location=location)


def _searcher(chk: _Checker, value: Any, path: tuple) -> SearcherSpec:
    from archgym.registry import RegistryError, agent_class

    if isinstance(value, str):
        value = {"agent": value}
        agent_path = path
    else:
        value = chk.mapping(value, path, SEARCHER_KEYS, required=("agent",))
        agent_path = path + ("agent",)
    name = chk.str_(value["agent"], agent_path)
    try:
        cls = agent_class(name)
    except RegistryError as exc:
        chk.fail(agent_path, str(exc), value_line=True)
    declared = {h.name: h for h in getattr(cls, "hyperparameters", ())}
    hp_path = path + ("hyperparameters",)
    if value.get("hyperparameters") and not declared:
        chk.fail(hp_path, f"agent {name!r} has no hyperparameters")
    hps = chk.mapping(value.get("hyperparameters") or {}, hp_path, set(declared))
    axes: dict[str, list] = {}
    for k, v in hps.items():
        values = v if isinstance(v, list) else [v]
        if not values:
            chk.fail(hp_path + (k,), "an empty list gives no settings", value_line=True)
        checked = []
        for j, x in enumerate(values):
            try:
                checked.append(declared[k].validate(x))
            except Exception as exc:
                chk.fail(hp_path + ((k, j) if isinstance(v, list) else (k,)), str(exc), value_line=True)
        axes[k] = checked
    grid = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    if "sample" in value:
        n = chk.int_(value["sample"], path + ("sample",), low=1)
        seed = chk.int_(value.get("sample_seed", 0), path + ("sample_seed",), low=0)
        free = [h for name_, h in declared.items() if name_ not in axes]
        if "sample_params" in value:
            pp = path + ("sample_params",)
            wanted = [chk.str_(x, pp + (j,)) for j, x in enumerate(chk.list_(value["sample_params"], pp))]
            for j, w in enumerate(wanted):
                if w not in declared:
                    chk.fail(pp + (j,), f"agent {name!r} has no hyperparameter {w!r}; it has: "
                                        f"{', '.join(declared) or '(none)'}", value_line=True)
                if w in axes:
                    chk.fail(pp + (j,), f"{w!r} is also set under hyperparameters", value_line=True)
            free = [declared[w] for w in wanted]
        if not free:
            chk.fail(path + ("sample",), f"agent {name!r} has no hyperparameters left to sample")
        samples = _sample_settings(free, n, seed)
        grid = [{**g, **s} for g in grid for s in samples]
    else:
        for key in ("sample_seed", "sample_params"):
            if key in value:
                chk.fail(path + (key,), f"{key} needs sample: N")
    return SearcherSpec(agent=name, settings=grid)


def _sample_settings(free: list, n: int, seed: int) -> list[dict]:
    """``n`` distinct-as-possible random settings of the ``free`` hyperparameters;
    floats rounded to 4 significant digits so ids and tables stay readable."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[dict] = []
    seen: set[str] = set()
    for _ in range(n * 20):
        s = {}
        for h in free:
            v = h.sample(rng)
            if isinstance(v, float):
                v = float(f"{v:.4g}")
                v = h.validate(min(max(v, h.low if h.low is not None else v), h.high if h.high is not None else v))
            s[h.name] = v.item() if hasattr(v, "item") else v
        c = _canonical(s)
        if c not in seen:
            seen.add(c)
            out.append(s)
        if len(out) == n:
            break
    return out


# --------------------------------------------------------------------------- up-front checks
def _problems(env: EnvSpec):
    """``(workload, env kwargs)`` per workload x objective of one environment, in spec order."""
    for workload, objective in itertools.product(env.workloads, env.objectives):
        kwargs = dict(env.kwargs)
        if workload is not None:
            kwargs["workload"] = workload
        if objective is not None:
            kwargs["objective"] = objective
        yield workload, kwargs


def check_problems(spec: SweepSpec) -> None:
    """Build every problem of the spec once (environment x workload x
    objective, with its kwargs) in this process, so a bad workload, a missing
    trace file (e.g. ArchGym's ``cloud-1``, which needs ``ARCHGYM_DRAM_TRACES``
    or ``trace_dir=``), an unknown env option or an objective the simulator
    cannot score fails before any trial runs, as one :class:`SpecError` line
    naming the spec entry.  Building an env evaluates the simulator's
    reference design once (the same first step every trial takes)."""
    import archgym

    for env in spec.environments:
        for workload, kwargs in _problems(env):
            try:
                archgym.make(env.id, **kwargs)
            except (UserInputError, FileNotFoundError) as exc:
                what = f"{env.id}" + (f" with workload {workload!r}" if workload is not None else "")
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise SpecError(f"{env.location or spec.path or '<spec>'}: {what}: {msg}") from None


# --------------------------------------------------------------------------- expansion
def expand(spec: SweepSpec) -> list[Trial]:
    """Every trial of the spec, in the fixed order of the module docstring."""
    trials: list[Trial] = []
    seen: set[str] = set()
    for env in spec.environments:
        budget = env.budget or spec.budget
        for _, kwargs in _problems(env):
            for searcher in spec.searchers:
                for hp in searcher.settings:
                    for seed in spec.seeds:
                        key = trial_key(env.id, kwargs, searcher.agent, hp, int(seed), int(budget))
                        if key in seen:  # the same trial listed twice runs once
                            continue
                        seen.add(key)
                        trials.append(Trial(key=key, env_id=env.id, env_kwargs=json.loads(_canonical(kwargs)),
                                            agent=searcher.agent, hyperparams=dict(hp), seed=int(seed),
                                            budget=int(budget)))
    return trials


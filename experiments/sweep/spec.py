"""Sweep specs: a YAML file (or a dict) -> a :class:`SweepSpec` -> its :class:`~archgym.trial.Trial` list.

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
      simulators: {Toy-v0: "archgym.testing:ToySimulator"}
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

Three explicit steps turn a spec into trials (:func:`archgym.experiments.run_sweep`
takes them in order):

1. :func:`load_spec` / :func:`parse_spec` / :meth:`SweepSpec.from_dict` check
   the spec's *shape* (keys, types, required entries); nothing is imported;
2. :func:`load_spec_plugins` loads the spec's plugins (``pythonpath``,
   ``imports``, ``register``) into this process;
3. :meth:`SweepSpec.resolve` checks every name against the registry (env ids,
   agents, hyperparameters and their ranges, objectives against the
   simulator's metrics) and expands hyperparameter grids and samples;
   :meth:`SweepSpec.trials` then lists the trials, computed once.

Expansion order is fixed: environments x workloads x objectives x searchers x
hyperparameter settings x seeds, each in the order written.  A trial's key is
:meth:`archgym.trial.Trial.create`'s (the same ``archgym run --store`` uses):
a hash of everything that determines its trajectory -- env id and simulator
version, env kwargs (files by content hash), agent, *all* hyperparameters
resolved (defaults included), seed, budget -- so it survives reordering the
spec, adding entries never changes the keys of existing trials, and a changed
agent default or simulator version makes new trials instead of reusing stale
ones.  ``Trial.hyperparameters`` keeps only the explicitly set values (the
labels of reports); the key covers the resolved ones.

Validation errors are one line: ``<file>:<line>: <key path>: <problem>``.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from archgym.errors import UserInputError
from archgym.trial import Trial, canonical_json
from archgym.userfiles import read_text

from ..located_yaml import Located, YamlChecker, describe_type, format_path, read_located_yaml

__all__ = ["SpecError", "SweepSpec", "EnvSpec", "SearcherSpec", "load_spec", "parse_spec", "load_spec_plugins",
           "check_problems", "read_located_yaml"]

TOP_KEYS = {"study", "description", "store", "budget", "seeds", "objectives", "imports", "pythonpath",
            "register", "environments", "searchers"}
ENV_KEYS = {"id", "workloads", "kwargs", "objectives", "budget"}
SEARCHER_KEYS = {"agent", "hyperparameters", "sample", "sample_seed", "sample_params"}
REGISTER_KEYS = {"simulators", "agents"}


class SpecError(UserInputError):
    """A sweep spec is malformed; the message is one line naming file, line and key."""


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
    """A sweep (see the module docstring).  ``raw`` is the parsed document;
    ``environments`` and ``searchers`` are filled by :meth:`resolve`."""

    study: str
    budget: int
    seeds: list[int]
    path: str | None = None
    store: str | None = None
    description: str = ""
    imports: list[str] = field(default_factory=list)
    pythonpath: list[str] = field(default_factory=list)
    register: dict = field(default_factory=lambda: {"simulators": {}, "agents": {}})
    raw: dict = field(default_factory=dict)
    environments: list[EnvSpec] = field(default_factory=list)
    searchers: list[SearcherSpec] = field(default_factory=list)
    _checker: Any = field(default=None, repr=False)
    _trials: list[Trial] | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<spec>") -> "SweepSpec":
        """A spec given as a mapping (in-memory, e.g. built by ``archgym bench``);
        ``source`` names it in errors.  Shape checked only (module docstring, step 1)."""
        return _parse(data, YamlChecker(Located(source, SpecError)), source)

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

    def resolve(self) -> "SweepSpec":
        """Check every name against the registry and expand hyperparameter
        settings (module docstring, step 3; load plugins first).  Idempotent."""
        if self.environments:
            return self
        chk, top = self._checker, self.raw
        default_objs = _objectives(chk, top.get("objectives"), ("objectives",))
        self.environments = [_environment(chk, e, ("environments", i), default_objs)
                             for i, e in enumerate(top["environments"])]
        self.searchers = [_searcher(chk, s, ("searchers", i)) for i, s in enumerate(top["searchers"])]
        return self

    def trials(self) -> list[Trial]:
        """Every trial of the resolved spec, in the fixed order (computed once)."""
        if self._trials is None:
            self._trials = _expand(self.resolve())
        return list(self._trials)


# --------------------------------------------------------------------------- plugins
def load_spec_plugins(spec: SweepSpec) -> None:
    """Load the spec's plugins into this process (module docstring, step 2);
    a plugin that fails to load is one :class:`SpecError` line naming the key."""
    from archgym.registry import load_plugins

    try:
        load_plugins(spec.plugins)
    except Exception as exc:
        key = "register" if spec.register["simulators"] or spec.register["agents"] else "imports"
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        if spec._checker is not None:
            spec._checker.fail((key,), f"cannot load plugins: {msg}")
        raise SpecError(f"{spec.path or '<spec>'}: {key}: cannot load plugins: {msg}") from None


# --------------------------------------------------------------------------- parsing
def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a YAML spec file and check its shape (nothing is imported)."""
    text = read_text(path, "sweep spec", SpecError)
    return parse_spec(text, source=os.fspath(path))


def parse_spec(text: str, source: str = "<spec>") -> SweepSpec:
    """A spec given as YAML text (``source`` names it in errors); shape checked only."""
    data, chk = read_located_yaml(text, source, SpecError)
    if data is None:
        raise SpecError(f"{source}: the spec is empty")
    return _parse(data, chk, source)


def _parse(data: Any, chk: "YamlChecker", source: str) -> SweepSpec:
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
    if not chk.list_(top["environments"], ("environments",)):
        chk.fail(("environments",), "needs at least one environment", value_line=True)
    if not chk.list_(top["searchers"], ("searchers",)):
        chk.fail(("searchers",), "needs at least one searcher", value_line=True)
    return SweepSpec(study=study, budget=budget, seeds=seeds, path=source if os.path.exists(source) else None,
                     store=chk.str_(top["store"], ("store",)) if "store" in top else None,
                     description=str(top.get("description", "")), imports=imports, pythonpath=pythonpath,
                     register=register, raw=dict(top), _checker=chk)


def _seeds(chk: YamlChecker, value: Any) -> list[int]:
    if isinstance(value, list):
        seeds = [chk.int_(s, ("seeds", i), low=0) for i, s in enumerate(value)]
        if not seeds:
            chk.fail(("seeds",), "needs at least one seed", value_line=True)
        if len(set(seeds)) != len(seeds):
            chk.fail(("seeds",), "seeds must be distinct", value_line=True)
        return seeds
    return list(range(chk.int_(value, ("seeds",), low=1)))


def _register(chk: YamlChecker, value: Any) -> dict:
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


def _objectives(chk: YamlChecker, value: Any, path: tuple, sim_cls: type | None = None) -> list[Any]:
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
            chk.fail(p, f"an objective is a string or a mapping, got {describe_type(obj)}", value_line=True)
        try:
            o = make_objective(obj)
            if sim_cls is not None:
                o.bind(sim_cls.metrics)
        except (ObjectiveError, TypeError, ValueError) as exc:
            chk.fail(p, str(exc), value_line=True)
    return list(items)


def _named_entry(chk: YamlChecker, value: Any, path: tuple, key: str, allowed: set[str]) -> tuple[dict, tuple, str]:
    """An entry written as a bare name or as a mapping with ``key``: ``(mapping, path of the name, name)``."""
    if isinstance(value, str):
        return {key: value}, path, chk.str_(value, path)
    value = chk.mapping(value, path, allowed, required=(key,))
    return value, path + (key,), chk.str_(value[key], path + (key,))


def _environment(chk: YamlChecker, value: Any, path: tuple, default_objs: list[Any]) -> EnvSpec:
    from archgym.registry import RegistryError, resolve_id, simulator_class

    value, id_path, raw_id = _named_entry(chk, value, path, "id", ENV_KEYS)
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
        for j, w in enumerate(workloads):
            if w is None or (isinstance(w, str) and not w.strip()):
                chk.fail(path + ("workloads", j), f"a workload is a name or a file, got {w!r} (an empty entry "
                         "would silently mean the default workload)", value_line=True)
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
    location = f"{chk.where.source}:{line}: {format_path(path)}" if line else f"{chk.where.source}: {format_path(path)}"
    return EnvSpec(id=env_id, workloads=list(workloads), kwargs=kwargs, objectives=list(objs), budget=budget,
                   location=location)


def _searcher(chk: YamlChecker, value: Any, path: tuple) -> SearcherSpec:
    from archgym.registry import RegistryError, agent_class

    value, agent_path, name = _named_entry(chk, value, path, "agent", SEARCHER_KEYS)
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
        c = canonical_json(s)
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

    for env in spec.resolve().environments:
        for workload, kwargs in _problems(env):
            try:
                archgym.make(env.id, **kwargs)
            except (UserInputError, FileNotFoundError) as exc:
                what = f"{env.id}" + (f" with workload {workload!r}" if workload is not None else "")
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise SpecError(f"{env.location or spec.path or '<spec>'}: {what}: {msg}") from None


# --------------------------------------------------------------------------- expansion
def _expand(spec: SweepSpec) -> list[Trial]:
    """Every trial of a resolved spec, in the fixed order of the module docstring."""
    trials: list[Trial] = []
    seen: set[str] = set()
    for env in spec.environments:
        budget = env.budget or spec.budget
        for _, kwargs in _problems(env):
            for searcher in spec.searchers:
                for hp in searcher.settings:
                    for seed in spec.seeds:
                        trial = Trial.create(env.id, kwargs, searcher.agent, hp, int(seed), int(budget))
                        if trial.key not in seen:  # the same trial listed twice runs once
                            seen.add(trial.key)
                            trials.append(trial)
    return trials

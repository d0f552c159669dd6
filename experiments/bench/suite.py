"""The benchmark suite: named, versioned problems with stored best-known values.

The shipped suite is package data, ``archgym/experiments/bench/data/suite.yaml``
(in the repository: ``experiments/bench/data/suite.yaml``); any file of the
same shape works (``--suite FILE``)::

    suite: archgym-bench          # required
    version: 1                    # required; bump when problems or searchers change
    budgets: [50, 100, 300, 1000] # evaluations at which regret is reported
    seeds: 10                     # N -> seeds 0..N-1
    best_known: best_known.json   # machine-written references (relative to this file)
    problems:
      - name: systolic-resnet18   # required, unique
        version: 1                # required; bump when anything moving the optimum changes
        env: Systolic-v0          # required; a registered id
        workload: resnet18        # optional
        objective: "cycles, energy_pj, area_mm2"   # required; an objective spec
        kwargs: {}                # optional; other env options (never trace paths)
        reference: enumerate      # enumerate | sample: how the best known value is obtained
        reference_samples: 1000   # with sample: designs drawn (plus long runs, see hardness)
        long_runs:                # with sample: searcher runs whose best joins the reference
          - {agent: ga, budget: 1000, seed: 101}
        table: tables/x.json      # optional; a table file (archgym proxy table) answers evaluations
        needs_traces: false       # true: needs ArchGym's DRAM traces (ARCHGYM_DRAM_TRACES)
        max_budget: 1000          # optional cap on evaluations per run for this problem
        dropped: "why"            # optional; kept for the record, not benchmarked
        note: free text
    searchers:
      - agent: bo                 # required; a registered agent
        name: bo                  # optional; defaults to the agent (unique)
        hyperparameters: {}       # optional; scalars only (one setting per entry)
        max_budget: 300           # optional cap (expensive searchers)
        note: free text

A **run** is one searcher on one problem with one seed; its budget is the
smallest of the suite's largest budget, the problem's and the searcher's
``max_budget``.  Regret at a budget larger than a run's is not reported.

A problem with a ``table`` is a *tabular* problem (as in HPOBench's tabular
benchmarks): its environment answers from a file holding every design's
metrics, computed once by the real simulator (``backend=`` the file; trial
keys hash it by content).  Use it where the simulator's answer depends on the
machine (time-limited solvers) or where an evaluation costs seconds.

Trace files are never part of a problem (they are machine paths): the DRAM
problems read ArchGym's traces from ``ARCHGYM_DRAM_TRACES``; without it they
are *unavailable* (listed, skipped, never silently replaced by other traces).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from archgym.errors import UserInputError
from archgym.trial import canonical_json
from archgym.userfiles import read_text

from ..located_yaml import YamlChecker, read_located_yaml
from . import DEFAULT_SUITE

__all__ = ["SuiteError", "Problem", "SearcherEntry", "Suite", "load_suite", "parse_suite", "TRACES_ENV"]

TRACES_ENV = "ARCHGYM_DRAM_TRACES"
TOP_KEYS = {"suite", "version", "budgets", "seeds", "best_known", "problems", "searchers"}
PROBLEM_KEYS = {"name", "version", "env", "workload", "objective", "kwargs", "reference", "reference_samples",
                "needs_traces", "max_budget", "dropped", "note", "long_runs", "table"}
SEARCHER_KEYS = {"agent", "name", "hyperparameters", "max_budget", "note"}
REFERENCE_KINDS = ("enumerate", "sample")
#: long runs of a sampled reference when the problem names none
DEFAULT_LONG_RUNS = (("ga", 1000, 101), ("ga", 1000, 102))


class SuiteError(UserInputError):
    """A suite file is malformed, or a problem/searcher name is unknown (one line)."""


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: an environment with everything that fixes its reward."""

    name: str
    version: int
    env_id: str
    objective: str
    workload: Any = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    reference: str = "enumerate"
    reference_samples: int = 1000
    needs_traces: bool = False
    max_budget: int | None = None
    dropped: str | None = None
    note: str = ""
    long_runs: tuple[tuple[str, int, int], ...] = DEFAULT_LONG_RUNS
    table: str | None = None  # absolute path (resolved against the suite file)
    table_as_written: str | None = None  # the suite's own text (portable between clones)

    @property
    def label(self) -> str:
        """``name@vN``: the key of stored references and leaderboard rows."""
        return f"{self.name}@v{self.version}"

    @property
    def is_pareto(self) -> bool:
        return self.objective.strip().lower().startswith("pareto:")

    def env_kwargs(self, portable: bool = False) -> dict:
        """Keyword arguments of ``archgym.make`` (what a sweep trial records);
        ``portable``: the table as the suite writes it (relative to the suite
        file), as stored references record it, instead of this machine's path."""
        kw = dict(self.kwargs)
        if self.workload is not None:
            kw["workload"] = self.workload
        if self.table is not None:
            kw["backend"] = self.table_as_written if portable else self.table
        kw["objective"] = self.objective
        return json.loads(canonical_json(kw))

    def unavailable(self) -> str | None:
        """Why this problem cannot run on this machine (None: it can)."""
        if self.table is not None and not os.path.isfile(self.table):
            return (f"needs its table {self.table}: write it with `archgym proxy table {self.env_id}"
                    + (f" --workload {self.workload}" if self.workload is not None else "") + " --out <file>`")
        if self.needs_traces:
            d = os.environ.get(TRACES_ENV)
            wl = f"{self.workload}.stl"
            if not d or not os.path.exists(os.path.join(d, wl)):
                return f"needs ArchGym's trace {wl}: set {TRACES_ENV} to the folder holding it"
        return None

    def make_env(self):
        """The problem's environment (``archgym.make``)."""
        import archgym

        why = self.unavailable()
        if why:
            raise SuiteError(f"problem {self.name!r} {why}")
        return archgym.make(self.env_id, **self.env_kwargs())


@dataclass(frozen=True)
class SearcherEntry:
    """One leaderboard row: an agent with one fixed hyperparameter setting."""

    name: str
    agent: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    max_budget: int | None = None
    note: str = ""

    def key(self) -> str:
        """Canonical identity of (agent, explicit hyperparameters), as trials record them."""
        return canonical_json({"agent": self.agent, "hyperparameters": dict(self.hyperparameters)})


@dataclass
class Suite:
    """A validated suite (see the module docstring)."""

    name: str
    version: int
    budgets: list[int]
    seeds: list[int]
    problems: list[Problem]
    searchers: list[SearcherEntry]
    path: str | None = None
    best_known_file: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def max_budget(self) -> int:
        return max(self.budgets)

    def active(self) -> list[Problem]:
        """Problems that are benchmarked (not dropped)."""
        return [p for p in self.problems if not p.dropped]

    def problem(self, name: str) -> Problem:
        for p in self.problems:
            if name in (p.name, p.label):
                return p
        raise SuiteError(f"unknown problem {name!r}; problems: {', '.join(p.name for p in self.problems)}")

    def searcher(self, name: str) -> SearcherEntry:
        for s in self.searchers:
            if s.name == name:
                return s
        raise SuiteError(f"unknown searcher {name!r}; searchers: {', '.join(s.name for s in self.searchers)}")

    def select(self, problems: Sequence[str] | None = None, searchers: Sequence[str] | None = None
               ) -> tuple[list[Problem], list[SearcherEntry]]:
        """The named problems/searchers (default: active problems, every searcher)."""
        ps = [self.problem(n) for n in problems] if problems else self.active()
        ss = [self.searcher(n) for n in searchers] if searchers else list(self.searchers)
        return ps, ss

    def run_budget(self, problem: Problem, searcher: SearcherEntry, cap: int | None = None) -> int:
        """Evaluations per run of ``searcher`` on ``problem`` (see the module docstring)."""
        caps = [self.max_budget, problem.max_budget, searcher.max_budget, cap]
        return min(c for c in caps if c is not None)

    def with_best_known(self, path: str | os.PathLike) -> "Suite":
        """This suite reading (and ``archgym bench reference`` writing) its best
        known values at ``path`` instead of the suite's own file."""
        from dataclasses import replace

        return replace(self, best_known_file=os.fspath(path))

    def best_known(self) -> dict[str, dict]:
        """Stored references by problem label (empty when the file does not exist yet)."""
        if not self.best_known_file or not os.path.exists(self.best_known_file):
            return {}
        with open(self.best_known_file, encoding="utf-8") as fh:
            return json.load(fh).get("problems", {})

    def sweep_specs(self, problems: Sequence[Problem], searchers: Sequence[SearcherEntry], seeds: Sequence[int],
                    cap: int | None = None) -> list:
        """In-memory sweep specs (:class:`~archgym.experiments.sweep.SweepSpec`)
        running ``searchers`` x ``problems`` x ``seeds``: one spec per (problem,
        run budget), since a spec has one budget per environment."""
        from ..sweep import SweepSpec

        out = []
        for p in problems:
            by_budget: dict[int, list[SearcherEntry]] = {}
            for s in searchers:
                by_budget.setdefault(self.run_budget(p, s, cap), []).append(s)
            for budget, group in sorted(by_budget.items()):
                env: dict[str, Any] = {"id": p.env_id, "objectives": [p.objective]}
                if p.workload is not None:
                    env["workloads"] = [p.workload]
                kwargs = {k: v for k, v in p.env_kwargs().items() if k not in ("workload", "objective")}
                if kwargs:  # options and the table backend: exactly what the problem's env is made with
                    env["kwargs"] = kwargs
                study = f"{self.label}:{p.label}:b{budget}"
                out.append(SweepSpec.from_dict(
                    {"study": study, "description": f"{self.label} problem {p.label}: {p.note}",
                     "budget": int(budget), "seeds": [int(s) for s in seeds], "environments": [env],
                     "searchers": [{"agent": s.agent, "hyperparameters": {k: _wrap(v) for k, v in
                                                                         s.hyperparameters.items()}}
                                   if s.hyperparameters else {"agent": s.agent} for s in group]},
                    source=f"{self.path or '<suite>'}: {study}"))
        return out


def _wrap(v: Any) -> Any:
    """A list *value* is wrapped so the sweep spec does not read it as a grid axis."""
    return [v] if isinstance(v, list) else v


# --------------------------------------------------------------------------- loading
def load_suite(path: str | os.PathLike | None = None) -> Suite:
    """Read and validate a suite file (default: the shipped suite, :data:`DEFAULT_SUITE`)."""
    path = os.fspath(path or DEFAULT_SUITE)
    return parse_suite(read_text(path, "suite file", SuiteError), source=path)


def parse_suite(text: str, source: str = "<suite>") -> Suite:
    """Validate a suite given as YAML text (``source`` names it in errors)."""
    data, chk = read_located_yaml(text, source, SuiteError)
    try:
        return _suite(chk, data, source)
    except UserInputError as exc:  # the spec checker's SpecError -> this module's error type
        if isinstance(exc, SuiteError):
            raise
        raise SuiteError(str(exc)) from None


def _suite(chk: YamlChecker, data: Any, source: str) -> Suite:
    from archgym.objective import ObjectiveError, make_objective
    from archgym.registry import RegistryError, agent_class, resolve_id, simulator_class

    if data is None:
        raise SuiteError(f"{source}: the suite is empty")
    top = chk.mapping(data, (), TOP_KEYS, required=("suite", "version", "problems", "searchers"))
    budgets = [chk.int_(b, ("budgets", i), low=1) for i, b in enumerate(chk.list_(top.get("budgets", [50, 100, 300,
                                                                                                     1000]),
                                                                                  ("budgets",)))]
    if not budgets or sorted(set(budgets)) != budgets:
        chk.fail(("budgets",), "must be a non-empty increasing list of evaluation counts", value_line=True)
    seeds_v = top.get("seeds", 10)
    seeds = list(range(chk.int_(seeds_v, ("seeds",), low=1))) if not isinstance(seeds_v, list) else \
        [chk.int_(s, ("seeds", i), low=0) for i, s in enumerate(seeds_v)]
    base = Path(source).resolve().parent
    bk = top.get("best_known")
    problems: list[Problem] = []
    for i, raw in enumerate(chk.list_(top["problems"], ("problems",))):
        path = ("problems", i)
        p = chk.mapping(raw, path, PROBLEM_KEYS, required=("name", "version", "env", "objective"))
        try:
            env_id = resolve_id(chk.str_(p["env"], path + ("env",)))
            sim_cls = simulator_class(env_id)
        except RegistryError as exc:
            chk.fail(path + ("env",), str(exc), value_line=True)
        objective = chk.str_(p["objective"], path + ("objective",))
        try:
            make_objective(objective).bind(sim_cls.metrics)
        except (ObjectiveError, TypeError, ValueError) as exc:
            chk.fail(path + ("objective",), str(exc), value_line=True)
        ref = p.get("reference", "enumerate")
        if ref not in REFERENCE_KINDS:
            chk.fail(path + ("reference",), f"unknown reference {ref!r}; allowed: {', '.join(REFERENCE_KINDS)}",
                     value_line=True)
        kwargs = chk.mapping(p.get("kwargs") or {}, path + ("kwargs",), set(p.get("kwargs") or {}))
        for reserved in ("workload", "objective", "trace_dir", "backend"):
            if reserved in kwargs:
                chk.fail(path + ("kwargs", reserved), f"{reserved!r} does not belong in kwargs"
                         + (f" (set {TRACES_ENV})" if reserved == "trace_dir" else
                            " (use the table key)" if reserved == "backend" else f" (use the {reserved} key)"))
        problems.append(Problem(
            name=chk.str_(p["name"], path + ("name",)), version=chk.int_(p["version"], path + ("version",), low=1),
            env_id=env_id, objective=objective, workload=p.get("workload"), kwargs=kwargs, reference=ref,
            reference_samples=chk.int_(p.get("reference_samples", 1000), path + ("reference_samples",), low=10),
            needs_traces=bool(p.get("needs_traces", False)),
            max_budget=chk.int_(p["max_budget"], path + ("max_budget",), low=1) if "max_budget" in p else None,
            dropped=str(p["dropped"]) if p.get("dropped") else None, note=str(p.get("note", "")),
            long_runs=_long_runs(chk, p.get("long_runs"), path + ("long_runs",)),
            table=str(base / chk.str_(p["table"], path + ("table",))) if "table" in p else None,
            table_as_written=str(p["table"]) if "table" in p else None))
    _unique(chk, [p.name for p in problems], ("problems",), "problem")
    searchers: list[SearcherEntry] = []
    for i, raw in enumerate(chk.list_(top["searchers"], ("searchers",))):
        path = ("searchers", i)
        s = chk.mapping({"agent": raw} if isinstance(raw, str) else raw, path, SEARCHER_KEYS, required=("agent",))
        agent = chk.str_(s["agent"], path + ("agent",))
        try:
            cls = agent_class(agent)
        except RegistryError as exc:
            chk.fail(path + ("agent",), str(exc), value_line=True)
        declared = {h.name: h for h in getattr(cls, "hyperparameters", ())}
        hps = chk.mapping(s.get("hyperparameters") or {}, path + ("hyperparameters",), set(declared))
        for k, v in hps.items():
            try:
                hps[k] = declared[k].validate(v)
            except Exception as exc:
                chk.fail(path + ("hyperparameters", k), str(exc), value_line=True)
        searchers.append(SearcherEntry(
            name=chk.str_(s.get("name", agent), path + ("name",)), agent=agent, hyperparameters=hps,
            max_budget=chk.int_(s["max_budget"], path + ("max_budget",), low=1) if "max_budget" in s else None,
            note=str(s.get("note", ""))))
    _unique(chk, [s.name for s in searchers], ("searchers",), "searcher")
    _unique(chk, [s.key() for s in searchers], ("searchers",), "agent + hyperparameters of a searcher")
    return Suite(name=chk.str_(top["suite"], ("suite",)), version=chk.int_(top["version"], ("version",), low=1),
                 budgets=budgets, seeds=seeds, problems=problems, searchers=searchers, path=source,
                 best_known_file=str(base / chk.str_(bk, ("best_known",))) if bk else None)


def _long_runs(chk: YamlChecker, raw: Any, path: tuple) -> tuple[tuple[str, int, int], ...]:
    from archgym.registry import RegistryError, agent_class

    if raw is None:
        return DEFAULT_LONG_RUNS
    out = []
    for i, item in enumerate(chk.list_(raw, path)):
        r = chk.mapping(item, path + (i,), {"agent", "budget", "seed"}, required=("agent", "budget", "seed"))
        agent = chk.str_(r["agent"], path + (i, "agent"))
        try:
            agent_class(agent)
        except RegistryError as exc:
            chk.fail(path + (i, "agent"), str(exc), value_line=True)
        out.append((agent, chk.int_(r["budget"], path + (i, "budget"), low=1),
                    chk.int_(r["seed"], path + (i, "seed"), low=0)))
    return tuple(out)


def _unique(chk: YamlChecker, names: list[str], path: tuple, what: str) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            chk.fail(path + (i,), f"duplicate {what} {n!r}")
        seen.add(n)

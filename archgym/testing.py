"""Contract checkers for plugin authors (as scikit-learn's ``check_estimator``).

::

    from archgym.testing import check_simulator, check_searcher

    check_simulator(MySimulator)          # or an instance, e.g. MySimulator(workload="w")
    check_searcher(MySearcher)

Each raises :class:`ContractError` (an ``AssertionError``, so test runners show
it as a failure) naming the first broken rule, and returns None when the
plugin honours the contract.  The project's own tests run both over every
registered simulator and searcher.

:func:`check_simulator` checks: ``name``/``version`` are non-empty strings;
``metrics`` are :class:`~archgym.simulator.Metric` with unique names; the
space has parameters and a valid ``reference_config``; ``evaluate`` returns
every metric as a float plus ``feasible``/``reason``/``in_space`` (infeasible
designs: NaN metrics and a reason), does not modify its input, and gives the
same result twice (determinism); ``evaluate_batch`` agrees with ``evaluate``;
bad input (not a mapping, an unknown or missing parameter) raises a one-line
:class:`~archgym.errors.UserInputError`; the :class:`~archgym.env.DSEEnv`
around it passes Gymnasium's ``check_env`` as users run it (random actions;
step infos of equal steps must compare equal, so an env never puts NaN in
``info``).

:func:`check_searcher` checks: an :class:`~archgym.agents.base.Agent`
subclass with a ``name`` and uniquely named, valid hyperparameter
declarations; defaults are plain attributes and ``get_params()`` returns them
all; unknown hyperparameters are refused; ``run`` spends at most the budget
(counted from the env's earlier evaluations), returns exactly those
evaluations, respects a user's cap (``max_evaluations``) and restores it
afterwards, gives the same trajectory for the same seed, and refuses a bad
budget or seed with a ``UserInputError``.  It runs on :class:`ToySimulator`
(a 3-parameter space of 441 designs).  It also measures the repeat rule
(one rule for every searcher, :mod:`archgym.env`): on a space of 6 designs
with a budget of 6, the trajectory repeats a design only where the env
charged a repeat (after its patience of free answers), and a run whose
repeats were answered free still spends the whole budget (a searcher counts
evaluations made, not designs proposed); with ``reuse_evaluations=False``
(if the searcher declares it) no repeat is answered free.

Toy simulators with known optima, for plugin authors' tests and the
project's own: :class:`ToySimulator` and :class:`SeparableSimulator`.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .env import DSEEnv
from .errors import UserInputError
from .simulator import FEASIBLE, IN_SPACE, REASON, Metric, Simulator
from .space import Categorical, DesignSpace, Integer, powers_of_two

__all__ = ["ContractError", "check_simulator", "check_searcher", "ToySimulator", "SeparableSimulator"]


class ContractError(AssertionError):
    """A simulator or searcher breaks the archgym contract (the message says which rule)."""


def _require(ok: bool, who: str, rule: str) -> None:
    if not ok:
        raise ContractError(f"{who}: {rule}")


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if set(a) != set(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


def _raises_user_error(fn, *args) -> bool:
    try:
        fn(*args)
    except UserInputError as exc:
        return "\n" not in str(exc).strip()
    return False


# --------------------------------------------------------------------------- simulators
def check_simulator(sim: type[Simulator] | Simulator, n_designs: int = 4, seed: int = 0,
                    check_env: bool = True) -> None:
    """Check a simulator class (built with its defaults) or instance against the
    contract (module docstring), on its reference design and ``n_designs``
    seeded random designs."""
    if isinstance(sim, type):
        _require(issubclass(sim, Simulator), sim.__name__, "must subclass archgym.simulator.Simulator")
        sim = sim()
    who = f"simulator {type(sim).__name__}"
    _require(isinstance(sim, Simulator), who, "must be an archgym.simulator.Simulator")
    _require(isinstance(sim.name, str) and bool(sim.name), who, "needs a non-empty string `name`")
    _require(isinstance(sim.version, str) and bool(sim.version), who, "needs a non-empty string `version`")
    metrics = list(sim.metrics)
    _require(bool(metrics) and all(isinstance(m, Metric) for m in metrics), who,
             "`metrics` must be a non-empty sequence of Metric")
    names = [m.name for m in metrics]
    _require(len(set(names)) == len(names), who, f"metric names must be unique, got {names}")
    _require(not set(names) & {FEASIBLE, REASON, IN_SPACE}, who, "metric names must not be feasible/reason/in_space")
    space = getattr(sim, "space", None)
    _require(isinstance(space, DesignSpace) and len(space) > 0, who, "`space` must be a non-empty DesignSpace")
    _require(bool(np.all(space.nvec >= 1)), who, "every parameter needs at least one value")

    ref = sim.reference_config()
    _require(space.contains(ref), who, f"reference_config() {ref} is not a valid design of the space")
    rng = np.random.default_rng(seed)
    designs = [ref] + [space.sample(rng) for _ in range(n_designs)]
    results = []
    for cfg in designs:
        given = dict(cfg)
        res = sim.evaluate(cfg)
        _require(dict(cfg) == given, who, "evaluate() must not modify the design it is given")
        _require(isinstance(res, dict), who, "evaluate() must return a dict")
        missing = [n for n in names if n not in res]
        _require(not missing, who, f"evaluate() result lacks metrics {missing}")
        _require(all(isinstance(res[n], float) for n in names), who, "metric values must be floats")
        _require(isinstance(res.get(FEASIBLE), bool) and isinstance(res.get(REASON), str), who,
                 "evaluate() must return feasible (bool) and reason (str)")
        _require(res.get(IN_SPACE) is True, who, "a design of the space must be evaluated with in_space=True")
        if not res[FEASIBLE]:
            _require(bool(res[REASON]) and all(math.isnan(res[n]) for n in names), who,
                     "an infeasible design needs a reason and NaN metrics")
        _require(_same(res, sim.evaluate(dict(cfg))), who, f"evaluate() is not deterministic on {cfg}")
        results.append(res)

    df = sim.evaluate_batch(designs)
    _require(len(df) == len(designs), who, "evaluate_batch() must return one row per design")
    for i, res in enumerate(results):
        row = df.iloc[i]
        for n in names:
            a, b = float(row[n]), res[n]
            _require((math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), who,
                     f"evaluate_batch() and evaluate() disagree on {n} for {designs[i]}: {a} vs {b}")
        _require(bool(row[FEASIBLE]) == res[FEASIBLE], who, "evaluate_batch() and evaluate() disagree on feasible")

    _require(_raises_user_error(sim.evaluate, [1, 2]), who, "a design that is not a mapping must raise a "
                                                            "one-line UserInputError")
    _require(_raises_user_error(sim.evaluate, {**ref, "__no_such_parameter__": 1}), who,
             "an unknown parameter must raise a one-line UserInputError")
    first = space.names[0]
    _require(_raises_user_error(sim.evaluate, {k: v for k, v in ref.items() if k != first}), who,
             "a missing parameter must raise a one-line UserInputError")
    if check_env:  # Gymnasium's own checker, as users run it (random actions, determinism of infos included)
        from gymnasium.utils.env_checker import check_env as gym_check_env

        try:
            gym_check_env(DSEEnv(sim), skip_render_check=True)
        except AssertionError as exc:
            raise ContractError(f"{who}: gymnasium.utils.env_checker.check_env fails: {exc}") from None


# --------------------------------------------------------------------------- toy simulators
class ToySimulator(Simulator):
    """A 441-design toy with a known optimum, for tests, examples and benchmarks.

    ``cost = (x - 7)^2 + (log2(y) - 3)^2 + penalty[mode] + offset`` (minimum
    ``offset`` at ``x=7, y=8, mode="a"``); ``area = x + log2(y)`` (a second,
    conflicting metric for Pareto tests).  Designs with ``x > 18`` are
    infeasible ("too hot").  ``spin`` makes every evaluation cost that many
    iterations of a pure-Python loop (one core, no more), for measuring a
    sweep's throughput on a simulator of known cost; it changes no metric.
    """

    name = "Toy"
    version = "1"
    metrics = (Metric("cost", "units", True, "distance from the optimum", scale=10.0),
               Metric("area", "mm^2", True, "grows with x and y", scale=10.0))
    workload_names = ("default",)
    default_objective = "cost"
    PENALTY = {"a": 0.0, "b": 1.0, "c": 2.0}

    def __init__(self, workload: str = "default", offset: float = 0.0, spin: int = 0) -> None:
        if workload not in self.workload_names:
            raise ValueError(f"unknown workload {workload!r}; allowed: default")
        self.workload = workload
        self.offset = float(offset)
        self.spin = int(spin)
        self.space = DesignSpace([Integer("x", 0, 20), powers_of_two("y", 1, 64), Categorical("mode", ["a", "b", "c"])])

    def _evaluate(self, config: dict) -> dict:
        acc = 0
        for i in range(self.spin):
            acc = (acc + i * i) % 1_000_003
        if config["x"] > 18:
            return self.infeasible(f"x={config['x']} is too hot (x must be <= 18)")
        cost = (config["x"] - 7) ** 2 + (math.log2(config["y"]) - 3) ** 2 + self.PENALTY[config["mode"]] + self.offset
        return {"cost": cost, "area": config["x"] + math.log2(config["y"])}


_SEP_N_PARAMS, _SEP_N_VALUES = 10, 8
_SEP_NAMES = [f"p{j}" for j in range(_SEP_N_PARAMS)]
_sep_rng = np.random.default_rng(2211)
_SEP_PENALTY = _sep_rng.uniform(1.0, 3.0, size=(_SEP_N_PARAMS, _SEP_N_VALUES))
_SEP_BEST = _sep_rng.integers(0, _SEP_N_VALUES, size=_SEP_N_PARAMS)
_SEP_PENALTY[np.arange(_SEP_N_PARAMS), _SEP_BEST] = 0.0


class SeparableSimulator(Simulator):
    """A separable toy with a known optimum, for multi-agent searchers.

    Ten categorical parameters ``p0..p9`` with eight values each (8**10 ~ 1.1e9
    designs).  ``cost = sum_j penalty_j[value_j]``: each parameter contributes
    its own term, 0 at its best value and between 1 and 3 elsewhere (a fixed,
    seeded table), so the unique optimum (:attr:`OPTIMUM`) is every parameter
    at its best value (``cost == 0``).  ``groups=True`` declares the parameters
    in pairs (``pair0..pair4``).
    """

    name = "Separable"
    version = "1"
    metrics = (Metric("cost", "units", True, "sum of per-parameter penalties (0 at the optimum)", scale=20.0),)
    workload_names = ("default",)
    default_objective = "cost"
    N_PARAMS, N_VALUES = _SEP_N_PARAMS, _SEP_N_VALUES
    NAMES = _SEP_NAMES
    PENALTY = _SEP_PENALTY
    BEST = _SEP_BEST
    OPTIMUM = {n: f"v{int(_SEP_BEST[j])}" for j, n in enumerate(_SEP_NAMES)}
    PAIRS = {f"pair{k}": [_SEP_NAMES[2 * k], _SEP_NAMES[2 * k + 1]] for k in range(_SEP_N_PARAMS // 2)}

    def __init__(self, workload: str = "default", groups: bool = False) -> None:
        self.workload = workload
        params = [Categorical(n, [f"v{i}" for i in range(self.N_VALUES)]) for n in self.NAMES]
        self.space = DesignSpace(params, groups=self.PAIRS if groups else None)

    def reference_config(self) -> dict:
        return {n: "v0" if self.BEST[j] else "v1" for j, n in enumerate(self.NAMES)}

    def _evaluate(self, config: dict) -> dict:
        idx = [int(config[n][1:]) for n in self.NAMES]
        return {"cost": float(self.PENALTY[np.arange(self.N_PARAMS), idx].sum())}


class _SixDesigns(Simulator):
    """Six designs (``x`` in 0..2, ``mode`` a/b), so searchers repeat designs: the repeat rule's probe."""

    name = "SixDesigns"
    version = "1"
    metrics = (Metric("cost", "units", True, "(x - 1)^2, plus 1 in mode b"),)
    default_objective = "cost"

    def __init__(self) -> None:
        self.space = DesignSpace([Integer("x", 0, 2), Categorical("mode", ["a", "b"])])

    def _evaluate(self, config: dict) -> dict:
        return {"cost": float((config["x"] - 1) ** 2 + (config["mode"] == "b"))}


def _check_repeat_rule(cls: type, params: Mapping[str, Any], seed: int, who: str) -> None:
    """The repeat rule, measured on :class:`_SixDesigns` (module docstring)."""
    env = DSEEnv(_SixDesigns())
    size = int(env.space.size)
    traj = cls(**params).run(env, size, seed)
    designs = [tuple(r) for r in traj[env.space.names].itertuples(index=False)]
    charged, free = env.repeats_charged, env.repeats_free
    _require(len(designs) - len(set(designs)) == charged, who,
             f"the trajectory repeats {len(designs) - len(set(designs))} design(s) but the env charged {charged} "
             "repeat(s): evaluate through the env inside run(), which answers repeats free")
    _require(free == 0 or len(traj) == size, who,
             f"{free} repeat(s) were answered free but the run made only {len(traj)} of {size} evaluations: "
             "count the budget in evaluations made (env.n_evaluations), not in designs proposed")
    if any(h.name == "reuse_evaluations" for h in cls.hyperparameters):
        paying = DSEEnv(_SixDesigns())
        cls(**{**params, "reuse_evaluations": False}).run(paying, size, seed)
        _require(paying.repeats_free == 0, who, "with reuse_evaluations=False every repeat must be paid for")


# --------------------------------------------------------------------------- searchers
def _trajectory(agent_cls: type, params: Mapping[str, Any], budget: int, seed: int, warmup: bool):
    env = DSEEnv(ToySimulator())
    if warmup:
        env.evaluate(env.space.decode(np.zeros(len(env.space), dtype=int)))
    start = env.n_evaluations
    traj = agent_cls(**params).run(env, budget, seed)
    return env, start, traj


def check_searcher(cls: type, budget: int = 13, seed: int = 3, params: Mapping[str, Any] | None = None) -> None:
    """Check a searcher class against the contract (module docstring), running it
    with ``params`` (default: its defaults) for ``budget`` evaluations."""
    from .searcher import Agent, HyperParameter, HyperParameterError

    who = f"searcher {getattr(cls, '__name__', cls)!s}"
    _require(isinstance(cls, type) and issubclass(cls, Agent), who, "must subclass archgym.agents.Agent")
    _require(isinstance(cls.name, str) and bool(cls.name) and cls.name != "agent", who, "needs its own `name`")
    hps = list(cls.hyperparameters)
    _require(all(isinstance(h, HyperParameter) for h in hps), who, "hyperparameters must be HyperParameter")
    hp_names = [h.name for h in hps]
    _require(len(set(hp_names)) == len(hp_names), who, f"hyperparameter names must be unique: {hp_names}")
    for h in hps:
        try:
            h.validate(h.default)
        except UserInputError as exc:
            raise ContractError(f"{who}: the default of {h.name!r} is not valid: {exc}") from None
    agent = cls()
    params_ = agent.get_params()
    _require(list(params_) == hp_names, who, "get_params() must return every declared hyperparameter, in order")
    for h in hps:
        _require(h.name in vars(agent), who, f"hyperparameter {h.name!r} must be a plain instance attribute")
        _require(params_[h.name] == h.validate(h.default), who, f"{h.name!r} must default to {h.default!r}")
    _require(cls(**params_).get_params() == params_, who, "cls(**get_params()) must give the same parameters")
    try:
        cls(__no_such_hyperparameter__=1)
    except HyperParameterError:
        pass
    else:
        raise ContractError(f"{who}: an unknown hyperparameter must raise HyperParameterError")
    cls.describe()

    params = dict(params or {})
    env, start, traj = _trajectory(cls, params, budget, seed, warmup=True)
    n = len(traj)
    _require(1 <= n <= budget, who, f"run() made {n} evaluations with a budget of {budget}")
    _require(env.n_evaluations == start + n, who, "run() must return every evaluation it made, and only those")
    _require(list(traj["evaluation"]) == list(range(start + 1, start + n + 1)), who,
             "the trajectory must list the run's evaluations in order")
    _require(env.max_evaluations is None, who, "run() must restore the env's budget cap when it returns")
    capped = DSEEnv(ToySimulator(), max_evaluations=3)  # a user's cap below the budget wins, and stays
    n_capped = len(cls(**params).run(capped, budget, seed))
    _require(n_capped <= 3 and capped.n_evaluations == n_capped and capped.max_evaluations == 3, who,
             f"run() must respect the env's cap (max_evaluations=3) and restore it; made {n_capped} evaluations")
    _, _, again = _trajectory(cls, params, budget, seed, warmup=True)
    cols = [c for c in traj.columns if c != "wall_time_s"]
    _require(traj[cols].reset_index(drop=True).equals(again[cols].reset_index(drop=True)), who,
             "the same seed must give the same trajectory")
    _require(_raises_user_error(cls(**params).run, DSEEnv(ToySimulator()), 0, seed), who,
             "run() with budget 0 must raise a one-line UserInputError")
    _require(_raises_user_error(cls(**params).run, DSEEnv(ToySimulator()), budget, None), who,
             "run() with seed=None must raise a one-line UserInputError")
    _check_repeat_rule(cls, params, seed, who)

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
around it passes Gymnasium's ``check_env``.

:func:`check_searcher` checks: an :class:`~archgym.agents.base.Agent`
subclass with a ``name`` and uniquely named, valid hyperparameter
declarations; defaults are plain attributes and ``get_params()`` returns them
all; unknown hyperparameters are refused; ``run`` spends at most the budget
(counted from the env's earlier evaluations), returns exactly those
evaluations, lifts the cap afterwards, gives the same trajectory for the same
seed, and refuses a bad budget or seed with a ``UserInputError``.  It runs on
:class:`TinySimulator` (a 3-parameter space of 216 designs).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .errors import UserInputError
from .simulator import FEASIBLE, IN_SPACE, REASON, Metric, Simulator
from .space import Categorical, DesignSpace, Integer, powers_of_two

__all__ = ["ContractError", "check_simulator", "check_searcher", "TinySimulator"]


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
    if check_env:
        from gymnasium.utils.env_checker import check_env as gym_check_env

        from .env import DSEEnv

        class _ComparableInfo(DSEEnv):
            """Gymnasium's determinism check compares step infos with ``==``, and an infeasible
            design's NaN metrics never equal themselves: report them as None for the check."""

            def step(self, action):
                obs, reward, term, trunc, info = super().step(action)
                if "metrics" in info:
                    info = {**info, "metrics": {k: None if isinstance(v, float) and math.isnan(v) else v
                                                for k, v in info["metrics"].items()}}
                return obs, reward, term, trunc, info

        gym_check_env(_ComparableInfo(sim), skip_render_check=True)


# --------------------------------------------------------------------------- searchers
class TinySimulator(Simulator):
    """A 216-design toy with one optimum (``a=3, b=8, c="y"``) and an infeasible
    corner (``a=5, b=32``), used by :func:`check_searcher`."""

    name = "Tiny"
    version = "1"
    metrics = (Metric("loss", "units", True, "distance from the optimum", 5.0),)

    def __init__(self, workload: str = "default") -> None:
        self.workload = workload
        self.space = DesignSpace([Integer("a", 0, 5), powers_of_two("b", 1, 32),
                                  Categorical("c", ["x", "y", "z", "w", "v", "u"])])

    def _evaluate(self, config: dict) -> dict:
        if config["a"] == 5 and config["b"] == 32:
            return self.infeasible("a=5 with b=32 overheats")
        return {"loss": abs(config["a"] - 3) + abs(math.log2(config["b"]) - 3) + (config["c"] != "y")}


def _trajectory(agent_cls: type, params: Mapping[str, Any], budget: int, seed: int, warmup: bool):
    from .env import DSEEnv

    env = DSEEnv(TinySimulator())
    if warmup:
        env.evaluate(env.space.decode(np.zeros(len(env.space), dtype=int)))
    start = env.n_evaluations
    traj = agent_cls(**params).run(env, budget, seed)
    return env, start, traj


def check_searcher(cls: type, budget: int = 13, seed: int = 3, params: Mapping[str, Any] | None = None) -> None:
    """Check a searcher class against the contract (module docstring), running it
    with ``params`` (default: its defaults) for ``budget`` evaluations."""
    from .agents.base import Agent, HyperParameter, HyperParameterError

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
    _require(env.max_evaluations is None, who, "run() must lift the budget cap when it returns")
    _, _, again = _trajectory(cls, params, budget, seed, warmup=True)
    cols = [c for c in traj.columns if c != "wall_time_s"]
    _require(traj[cols].reset_index(drop=True).equals(again[cols].reset_index(drop=True)), who,
             "the same seed must give the same trajectory")
    from .env import DSEEnv

    _require(_raises_user_error(cls(**params).run, DSEEnv(TinySimulator()), 0, seed), who,
             "run() with budget 0 must raise a one-line UserInputError")
    _require(_raises_user_error(cls(**params).run, DSEEnv(TinySimulator()), budget, None), who,
             "run() with seed=None must raise a one-line UserInputError")

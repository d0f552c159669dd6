"""Best-known values and hardness of benchmark problems (``archgym bench reference``).

For each problem of a suite (:mod:`.suite`) this module finds the value regret
is measured against and says how hard the problem is for uniform random search:

* ``reference: enumerate`` -- every design of the space is evaluated with the
  simulator's vectorized ``evaluate_batch`` and scored with the problem's own
  objective (the environment's, bound to the simulator's reference design).
  The optimum is exact.  Pareto problems: the exact front of the whole space
  and its hypervolume (score space, origin reference, :mod:`.pareto`).
* ``reference: sample`` -- ``reference_samples`` uniformly random designs plus
  long searcher runs (recorded: agent, seed, budget, best); the best known value
  is the best of all of them, so regrets against it are lower bounds and a run
  that beats it means the stored value must be updated.

Hardness, from the enumerated (exact) or sampled (estimated) reward distribution
``r_(1) <= ... <= r_(N)`` of uniformly random designs:

* ``within_1pct`` -- fraction of designs whose reward is within 1 % of the best
  known value (``r >= best - 0.01 |best|``);
* random search's expected regret after ``n`` evaluations, in closed form: it
  draws ``n`` designs independently and uniformly (with replacement, as
  ``agents.random_search`` does), so ``P(max <= r_(k)) = (k/N)^n`` and
  ``E[max] = sum_k r_(k) ((k/N)^n - ((k-1)/N)^n)``; regret is ``best - E[max]``.
  Pareto problems have no closed form for the hypervolume of ``n`` random
  designs: it is estimated from ``draws`` Monte Carlo draws of ``n`` designs.

A problem on which random search is near-optimal at the smallest budget (the
suite drops it) is flagged by :func:`verdict`.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from archgym.pareto import hypervolume, nondominated

__all__ = ["expected_best_of_random", "fraction_within", "evaluate_designs", "score_designs", "design_rewards",
           "reference",
           "random_hypervolume", "verdict", "NEAR_OPTIMAL"]

#: ``progress(done, total, stage)``: work done of the current stage (a progress bar's feed)
Progress = Callable[[int, int, str], None]

#: random search counts as near-optimal when its expected regret at the smallest
#: budget is below this fraction of the reward range it faces (best - median).
NEAR_OPTIMAL = 0.02


def expected_best_of_random(rewards: Sequence[float], budgets: Sequence[int]) -> np.ndarray:
    """``E[max of n iid uniform draws from rewards]`` for each ``n`` in ``budgets`` (closed form)."""
    r = np.sort(np.asarray(rewards, dtype=np.float64))
    n_designs = len(r)
    if n_designs == 0:
        raise ValueError("no rewards")
    k = np.arange(n_designs + 1, dtype=np.float64) / n_designs
    out = []
    for n in budgets:
        cdf = k ** int(n)  # P(max <= r_(k)), k = 0..N
        out.append(float(np.dot(r, np.diff(cdf))))
    return np.array(out)


def fraction_within(rewards: Sequence[float], best: float, tol: float = 0.01) -> float:
    """Fraction of designs with reward >= ``best - tol * |best|``."""
    r = np.asarray(rewards, dtype=np.float64)
    return float(np.mean(r >= best - tol * abs(best)))


def evaluate_designs(problem: Any, samples: int | None = None, seed: int = 0, chunk: int = 50_000,
                     progress: Progress | None = None) -> dict:
    """Evaluate every design of ``problem`` (``samples=None``) or ``samples``
    uniformly random ones; return ``metrics`` (DataFrame: metrics + ``feasible``),
    ``indices`` (index vectors), ``space`` and ``seconds``.  Independent of the
    objective, so one evaluation serves every objective on the same simulator.
    ``progress(done, total, stage)`` is called after every batch (of at most
    ``chunk`` designs, and about 1 % of them)."""
    import pandas as pd

    dse = getattr(problem.make_env(), "unwrapped", None)
    space, sim = dse.space, dse.simulator
    idx = space.grid_indices(constrained=True) if samples is None else space.sample_indices(seed, n=int(samples))
    t0 = time.perf_counter()
    parts = []
    chunk = max(1, min(chunk, -(-len(idx) // 100))) if progress else chunk
    for s in range(0, len(idx), chunk):
        df = sim.evaluate_batch([space.decode(row) for row in idx[s:s + chunk]])
        parts.append(df[sim.metric_names + ["feasible"]])
        if progress:
            progress(min(s + chunk, len(idx)), len(idx), f"{problem.label}: evaluating designs")
    return {"metrics": pd.concat(parts, ignore_index=True), "indices": idx, "space": space,
            "seconds": time.perf_counter() - t0}


def score_designs(problem: Any, metrics: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Rewards (and objective vectors on Pareto problems) of evaluated designs
    under the problem's own objective, bound as its environment binds it."""
    objective = getattr(problem.make_env(), "unwrapped", None).objective
    rewards, vectors = [], []
    for res in metrics.to_dict("records"):
        res["feasible"] = bool(res["feasible"])
        rewards.append(objective.reward(res))
        if problem.is_pareto:
            vectors.append(objective.vector(res))
    return (np.asarray(rewards, dtype=np.float64),
            np.asarray(vectors, dtype=np.float64) if problem.is_pareto else None)


def design_rewards(problem: Any, samples: int | None = None, seed: int = 0, designs: dict | None = None,
                   progress: Progress | None = None) -> dict:
    """:func:`evaluate_designs` (or the given ``designs``) scored by :func:`score_designs`:
    adds ``rewards`` and ``vectors`` (Pareto problems, else None)."""
    d = dict(designs or evaluate_designs(problem, samples, seed, progress=progress))
    d["rewards"], d["vectors"] = score_designs(problem, d["metrics"])
    return d


def random_hypervolume(vectors: np.ndarray, budgets: Sequence[int], draws: int = 200, seed: int = 0) -> np.ndarray:
    """Mean hypervolume of ``n`` uniformly random designs (with replacement), by Monte Carlo."""
    rng = np.random.default_rng(seed)
    v = np.asarray(vectors, dtype=np.float64)
    return np.array([np.mean([hypervolume(v[rng.integers(0, len(v), int(n))]) for _ in range(draws)])
                     for n in budgets])


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _long_runs(problem: Any, runs: Sequence[tuple[str, int, int]], progress: Progress | None = None) -> list[dict]:
    import archgym

    out = []
    for agent, budget, seed in runs:
        env = problem.make_env()
        t0 = time.perf_counter()
        if progress:
            stage = f"{problem.label}: {agent} seed {seed} x {budget}"
            done = iter(range(1, int(budget) + 1))
            env.unwrapped.listeners.append(lambda record: progress(next(done, int(budget)), int(budget), stage))
        df = archgym.make_agent(agent).run(env, int(budget), int(seed))
        i = int(df["reward"].idxmax())
        names = getattr(env, "unwrapped", env).space.names
        out.append({"agent": agent, "seed": int(seed), "budget": int(budget), "best_reward": float(df["reward"].max()),
                    "best_config": {k: _plain(df.loc[i, k]) for k in names},
                    "seconds": round(time.perf_counter() - t0, 1)})
    return out


def reference(problem: Any, budgets: Sequence[int], long_runs: Sequence[tuple[str, int, int]] | None = None,
              seed: int = 0, designs: dict | None = None, progress: Progress | None = None) -> dict:
    """The stored record of one problem: best known value, how it was obtained,
    and its hardness (see the module docstring).  ``long_runs``: (agent,
    budget, seed) runs of a sampled reference (default: the problem's own).
    ``designs``: an earlier :func:`evaluate_designs` result of the same
    simulator, space and workload (re-scored here, not re-simulated).
    ``progress(done, total, stage)``: called as designs are evaluated and as
    each long run evaluates (a progress bar's feed; the record is the same)."""
    if long_runs is None:
        long_runs = problem.long_runs
    import archgym

    sampled = problem.reference == "sample"
    d = design_rewards(problem, samples=problem.reference_samples if sampled else None, seed=seed, designs=designs,
                       progress=progress)
    r, space = d["rewards"], d["space"]
    sim = getattr(problem.make_env(), "unwrapped", None).simulator
    rec: dict[str, Any] = {
        "problem": problem.label, "env": problem.env_id, "env_kwargs": problem.env_kwargs(portable=True),
        "simulator_version": str(sim.version), "space_fingerprint": space.fingerprint(),
        "space_size": int(space.size), "archgym_version": archgym.__version__,
        "designs_evaluated": int(len(r)), "evaluation_seconds": round(d["seconds"], 1),
        "design_seed": None if not sampled else int(seed),
        "score": "hypervolume" if problem.is_pareto else "reward",
    }
    i_best = int(np.argmax(r))
    best_cfg = {k: _plain(v) for k, v in space.decode(d["indices"][i_best]).items()}
    if problem.is_pareto:
        v = d["vectors"]
        front = np.flatnonzero(nondominated(v))
        hv = hypervolume(v[front])
        rand = random_hypervolume(v, budgets, seed=seed)
        rec.update(best=float(hv), how=(f"exact: hypervolume of the Pareto front of all {len(r):,} designs "
                                        f"({len(front)} non-dominated)"),
                   front_size=int(len(front)), fraction_on_front=float(len(front) / len(r)),
                   random_expected={str(b): float(x) for b, x in zip(budgets, rand)},
                   random_expected_method=f"Monte Carlo, 200 draws of n designs (seed {seed})")
    else:
        best = float(r[i_best])
        how = f"exact: best of all {len(r):,} designs (enumeration)"
        runs: list[dict] = []
        if sampled:
            runs = _long_runs(problem, long_runs, progress)
            best_run = max(runs, key=lambda x: x["best_reward"]) if runs else None
            how = (f"best of {len(r):,} uniformly random designs (seed {seed}) and long runs "
                   + ", ".join(f"{x['agent']} seed {x['seed']} x {x['budget']}" for x in runs))
            if best_run and best_run["best_reward"] > best:
                best, best_cfg = best_run["best_reward"], best_run["best_config"]
        rand = expected_best_of_random(r, budgets)
        rec.update(best=best, how=how, best_config=best_cfg, long_runs=runs,
                   within_1pct=fraction_within(r, best), reward_median=float(np.median(r)),
                   reward_min=float(r.min()),
                   random_expected={str(b): float(x) for b, x in zip(budgets, rand)},
                   random_expected_method=("closed form over the enumerated distribution" if not sampled else
                                           "closed form over the sampled distribution (an estimate)"))
    if problem.is_pareto:
        rec["best_config"] = best_cfg
    rec["random_regret"] = {b: rec["best"] - x for b, x in rec["random_expected"].items()}
    rec["verdict"] = verdict(rec)
    return rec


def verdict(rec: dict) -> str:
    """``keep`` or ``drop: <why>`` from a reference record (see :data:`NEAR_OPTIMAL`)."""
    regrets = rec["random_regret"]
    first = regrets[min(regrets, key=int)]
    spread = rec["best"] - rec.get("reward_median", 0.0) if rec["score"] == "reward" else rec["best"]
    if spread <= 0 or first <= NEAR_OPTIMAL * spread:
        return (f"drop: random search is near-optimal (expected regret {first:.3g} at "
                f"{min(regrets, key=int)} evaluations vs a best-median spread of {spread:.3g})")
    return "keep"

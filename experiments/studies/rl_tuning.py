"""The per-setting table of a hyperparameter lottery (``rl_tuning.yaml``, ``marl_tuning.yaml``).

One row per (agent, hyperparameter setting) of the complete trials in a
results store: seeds, mean best reward after 100 and after the whole budget,
median wall time per run.  The suite's ``*-tuned`` rows are each agent's best
setting by mean best reward at the full budget (ties: the earlier row)::

    python experiments/studies/rl_tuning.py STORE.db [--out experiments/results/rl_tuning_lottery.csv]

With ``--by-problem`` (lotteries over several problems, as ``rl_tuning.yaml``
and ``rl_tuning_stage2.yaml``, run into one store) a setting is named by the
hyperparameters that differ from the agent's defaults, resolved (a setting
run by both stages is one row), and the table has one column of mean best
reward per problem (``<env>/<workload>@<budget>``) and ``mean_rank``: the mean over
problems of the setting's rank among its agent's settings (1 = best; ties
share the mean rank).  The winner of an agent is its setting with the lowest
mean rank (ties: the higher mean reward over problems); ``edge`` names every
hyperparameter whose winning value is the smallest or largest value the
agent's grid tried (a winner at an edge means the grid was not wide enough).

With ``--out`` naming an existing table, rows of agents in the store replace
that table's rows of the same agents; other agents' rows are kept.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Sequence

import pandas as pd

__all__ = ["lottery_table", "problem_table", "main"]


def _resolved_label(agent: str, explicit: dict) -> str:
    """The setting as the hyperparameters that differ from the agent's defaults, resolved
    (so a setting spelled differently in two stages is one setting)."""
    from archgym.registry import agent_class

    cls = agent_class(agent)
    params, defaults = cls(**explicit).get_params(), cls().get_params()
    return json.dumps({k: v for k, v in params.items() if v != defaults[k]}, sort_keys=True, separators=(",", ":"))


def _complete_trials(store_path: str | os.PathLike):
    from archgym.store import Store

    with Store(os.fspath(store_path)) as db:
        trials, evals = db.trials(), db.evaluations()
    trials = trials[trials["status"] == "complete"].set_index("trial_id")
    evals = evals.sort_values(["trial_id", "step"])
    by_trial = evals.groupby("trial_id")["reward"]
    trials["best"] = by_trial.max()
    trials["best100"] = by_trial.apply(lambda r: r.iloc[:100].max())
    trials["setting"] = trials["hyperparameters"].map(lambda h: json.dumps(h, sort_keys=True, separators=(",", ":")))
    return trials


def lottery_table(store_path: str | os.PathLike) -> pd.DataFrame:
    """The per-setting table of a lottery store (see the module docstring)."""
    trials = _complete_trials(store_path)
    rows = []
    for (agent, setting), g in trials.groupby(["agent", "setting"]):
        rows.append({"agent": agent, "setting": setting, "seeds": len(g),
                     "mean_best_reward@100": round(float(g["best100"].mean()), 6),
                     f"mean_best_reward@{int(g['budget'].max())}": round(float(g["best"].mean()), 6),
                     "median_wall_s": round(float(g["wall_time_s"].median()), 4)})
    out = pd.DataFrame(rows)
    last = [c for c in out.columns if c.startswith("mean_best_reward@") and c != "mean_best_reward@100"]
    return out.sort_values(["agent", last[0]], ascending=[True, False], kind="stable").reset_index(drop=True)


def _problem(row) -> str:
    workload = (row["env_kwargs"] or {}).get("workload")
    return f"{row['env_id']}/{workload}" if workload else str(row["env_id"])


def _edges(agent: str, agent_rows: pd.DataFrame, winner: str) -> str:
    """Hyperparameters whose winning value is the smallest or largest the agent's settings tried."""
    from archgym.registry import agent_class

    cls = agent_class(agent)
    settings = [cls(**json.loads(s)).get_params() for s in agent_rows["setting"]]
    won = cls(**json.loads(winner)).get_params()
    out = []
    for name, value in won.items():
        tried = sorted({s[name] for s in settings}, key=lambda v: (str(type(v)), v))
        if len(tried) > 1 and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and value in (tried[0], tried[-1]):
            out.append(f"{name}={value}")
    return ",".join(out)


def problem_table(store_path: str | os.PathLike) -> pd.DataFrame:
    """The per-setting table of a lottery over several problems (module docstring)."""
    trials = _complete_trials(store_path)
    trials["problem"] = trials.apply(_problem, axis=1)
    trials["setting"] = [_resolved_label(a, h) for a, h in zip(trials["agent"], trials["hyperparameters"])]
    trials = trials.drop_duplicates(["trial_key"]) if "trial_key" in trials else trials
    budget = int(trials["budget"].max())
    problems = list(dict.fromkeys(trials["problem"]))
    means = trials.groupby(["agent", "setting", "problem"])["best"].mean().unstack("problem")[problems]
    seeds = trials.groupby(["agent", "setting"]).size() // len(problems)
    wall = trials.groupby(["agent", "setting"])["wall_time_s"].median()
    ranks = means.groupby(level="agent").rank(ascending=False, method="average")
    out = pd.DataFrame({"agent": means.index.get_level_values(0), "setting": means.index.get_level_values(1)})
    out["seeds"] = seeds.reindex(means.index).to_numpy()
    for p in problems:
        out[f"{p}@{budget}"] = means[p].round(6).to_numpy()
    out["mean_reward"] = means.mean(axis=1).round(6).to_numpy()
    out["mean_rank"] = ranks.mean(axis=1).round(3).to_numpy()
    out["median_wall_s"] = wall.reindex(means.index).round(3).to_numpy()
    out = out.sort_values(["agent", "mean_rank", "mean_reward"], ascending=[True, True, False],
                          kind="stable").reset_index(drop=True)
    out["winner"] = ~out.duplicated("agent")
    out["edge"] = ""
    for agent, g in out.groupby("agent"):
        first = g.index[0]
        out.loc[first, "edge"] = _edges(agent, g, g.loc[first, "setting"])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python experiments/studies/rl_tuning.py", description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("--out", help="CSV to write or update")
    p.add_argument("--by-problem", action="store_true", help="one column per problem, ranks and winners")
    args = p.parse_args(argv)
    table = problem_table(args.store) if args.by_problem else lottery_table(args.store)
    if args.out and os.path.exists(args.out):
        old = pd.read_csv(args.out, keep_default_na=False)
        table = pd.concat([old[~old["agent"].isin(table["agent"])], table], ignore_index=True)
        table = table.sort_values("agent", kind="stable").reset_index(drop=True)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 80):
        print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

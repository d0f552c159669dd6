"""The per-setting table of a hyperparameter lottery (``rl_tuning.yaml``, ``marl_tuning.yaml``).

One row per (agent, hyperparameter setting) of the complete trials in a
results store: seeds, mean best reward after 100 and after the whole budget,
median wall time per run.  The suite's ``*-tuned`` rows are each agent's best
setting by mean best reward at the full budget (ties: the earlier row)::

    python experiments/studies/rl_tuning.py STORE.db [--out experiments/results/rl_tuning_lottery.csv]

With ``--out`` naming an existing table, rows of agents in the store replace
that table's rows of the same agents; other agents' rows are kept.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Sequence

import pandas as pd

__all__ = ["lottery_table", "main"]


def lottery_table(store_path: str | os.PathLike) -> pd.DataFrame:
    """The per-setting table of a lottery store (see the module docstring)."""
    from archgym.store import Store

    with Store(os.fspath(store_path)) as db:
        trials, evals = db.trials(), db.evaluations()
    trials = trials[trials["status"] == "complete"].set_index("trial_id")
    evals = evals.sort_values(["trial_id", "step"])
    by_trial = evals.groupby("trial_id")["reward"]
    trials["best"] = by_trial.max()
    trials["best100"] = by_trial.apply(lambda r: r.iloc[:100].max())
    trials["setting"] = trials["hyperparameters"].map(lambda h: json.dumps(h, sort_keys=True, separators=(",", ":")))
    rows = []
    for (agent, setting), g in trials.groupby(["agent", "setting"]):
        rows.append({"agent": agent, "setting": setting, "seeds": len(g),
                     "mean_best_reward@100": round(float(g["best100"].mean()), 6),
                     f"mean_best_reward@{int(g['budget'].max())}": round(float(g["best"].mean()), 6),
                     "median_wall_s": round(float(g["wall_time_s"].median()), 4)})
    out = pd.DataFrame(rows)
    last = [c for c in out.columns if c.startswith("mean_best_reward@") and c != "mean_best_reward@100"]
    return out.sort_values(["agent", last[0]], ascending=[True, False], kind="stable").reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python experiments/studies/rl_tuning.py", description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("--out", help="CSV to write or update")
    args = p.parse_args(argv)
    table = lottery_table(args.store)
    if args.out and os.path.exists(args.out):
        old = pd.read_csv(args.out)
        table = pd.concat([old[~old["agent"].isin(table["agent"])], table], ignore_index=True)
        table = table.sort_values("agent", kind="stable").reset_index(drop=True)
    print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

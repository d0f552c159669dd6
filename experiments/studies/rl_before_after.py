"""Before/after table of the leaderboard's RL rows (issue 30): old defaults vs small-budget defaults.

For every RL row of the suite (``ppo``, ``a2c``, ``dqn``, ``sac``, ``marl``,
plus the retired ``*-tuned`` rows on the old side) and every problem, the
median regret over seeds [bootstrap 95 % CI of the median] at each budget,
from the old run table (``experiments/results/leaderboard_history/before_issue30/runs.csv``)
and the new one (``experiments/bench/data/runs.csv``), next to random search
and the best non-RL searcher of the new table at that budget.  ``vs_random``
reads the new row against the new random row: ``better`` / ``worse`` when the
two bootstrap intervals of the median do not overlap, else ``tie``::

    python experiments/studies/rl_before_after.py OLD.csv NEW.csv [--budgets 50,100,300] [--out DIR]

writes ``DIR/before_after.csv`` and ``DIR/before_after.md``.
"""
from __future__ import annotations

import argparse
import os
from typing import Sequence

import pandas as pd

RL_ROWS = ("ppo", "a2c", "dqn", "sac", "marl")
RETIRED = ("ppo-tuned", "a2c-tuned", "sac-tuned", "marl-tuned")


def _cell(r) -> str:
    return "-" if r is None else f"{r['median']:.3g} [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"


def before_after(old_runs: pd.DataFrame, new_runs: pd.DataFrame, budgets: Sequence[int]) -> pd.DataFrame:
    """The table of the module docstring (one row per problem, budget and RL searcher)."""
    from archgym.experiments.bench import leaderboard as L
    from archgym.experiments.bench.suite import load_suite

    best_known = load_suite().best_known()
    old = L.regret_table(old_runs, best_known, budgets).set_index(["problem", "budget", "searcher"])
    new = L.regret_table(new_runs, best_known, budgets).set_index(["problem", "budget", "searcher"])

    def get(table, key):
        return table.loc[key] if key in table.index else None

    rows = []
    for problem in dict.fromkeys(new_runs["problem"]):
        for b in budgets:
            rnd = get(new, (problem, b, "random"))
            others = new.loc[(problem, b)] if (problem, b) in new.index.droplevel(2) else None
            best_other = None
            if others is not None:
                non_rl = others[~others.index.isin(RL_ROWS + RETIRED)]
                if len(non_rl):
                    best_other = (non_rl["median"].idxmin(), non_rl.loc[non_rl["median"].idxmin()])
            for s in RL_ROWS + RETIRED:
                o, n = get(old, (problem, b, s)), get(new, (problem, b, s))
                if o is None and n is None:
                    continue
                verdict = "-"
                if n is not None and rnd is not None:
                    verdict = ("better" if n["ci_high"] < rnd["ci_low"] else
                               "worse" if n["ci_low"] > rnd["ci_high"] else "tie")
                rows.append({"problem": problem, "budget": b, "searcher": s, "before": _cell(o), "after": _cell(n),
                             "random_after": _cell(rnd), "vs_random": verdict,
                             "best_non_rl": "-" if best_other is None else f"{best_other[0]} {_cell(best_other[1])}"})
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    from archgym.experiments.bench import leaderboard as L

    p = argparse.ArgumentParser(prog="python experiments/studies/rl_before_after.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--budgets", default="50,100,300")
    p.add_argument("--out")
    args = p.parse_args(argv)
    table = before_after(L.read_runs(args.old), L.read_runs(args.new), [int(b) for b in args.budgets.split(",")])
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        table.to_csv(os.path.join(args.out, "before_after.csv"), index=False)
        md = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        md += ["| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)]
        with open(os.path.join(args.out, "before_after.md"), "w") as f:
            f.write("# Leaderboard RL rows before and after issue 30\n\nMedian regret over seeds "
                    "[bootstrap 95 % CI of the median]; `vs_random`: the new row against the new random row "
                    "(intervals apart, else tie). Written by experiments/studies/rl_before_after.py.\n\n"
                    + "\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does default PPO beat random search?  The table of ``rl_vs_random.yaml`` (issue 30's "done means").

One row per (problem, searcher setting) of the complete trials in a results
store, at the full budget: seeds, mean and median best reward, the 95 %
percentile-bootstrap interval of the median (as the leaderboard's cells) and
of the mean, and against random search on the same problem the mean
difference with the 95 % bootstrap interval of the difference of means
(resampling each searcher's seeds independently).  ``separated`` says that
the setting's bootstrap interval of the median lies entirely above random
search's (the leaderboard's reading of "the CI separates them")::

    python experiments/studies/rl_vs_random.py STORE.db [--out experiments/results/rl_vs_random/rl_vs_random.csv]
"""
from __future__ import annotations

import argparse
from typing import Sequence

import numpy as np
import pandas as pd

N_BOOT = 2000


def mean_difference_ci(a: Sequence[float], b: Sequence[float], n_boot: int = N_BOOT, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``mean(a) - mean(b)``, ``a`` and ``b``
    resampled independently (two unpaired samples of runs)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    diffs = (a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
             - b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1))
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return float(lo), float(hi)


def comparison_table(store_path: str) -> pd.DataFrame:
    """The table of the module docstring."""
    from archgym.experiments.analysis import study as A

    data = A.load(store_path)
    budget = int(data.complete()["budget"].max())
    ba = A.best_at(data, [budget])
    ba["searcher"] = [a if s == "defaults" else f"{a} ({s})" for a, s in zip(ba["agent"], ba["setting"])]
    rows = []
    for problem, p in ba.groupby("problem", sort=False):
        base = p.loc[p["searcher"] == "random", "best_reward"].to_numpy()
        base_hi = A.bootstrap_ci(base, "median")[1] if len(base) else np.nan
        for searcher, g in p.groupby("searcher", sort=False):
            x = g["best_reward"].to_numpy()
            med_lo, med_hi = A.bootstrap_ci(x, "median")
            mean_lo, mean_hi = A.bootstrap_ci(x, "mean")
            d_lo, d_hi = mean_difference_ci(x, base) if len(base) else (np.nan, np.nan)
            rows.append({"problem": problem, "searcher": searcher, "budget": budget, "seeds": len(x),
                         "mean": x.mean(), "mean_ci_low": mean_lo, "mean_ci_high": mean_hi,
                         "median": float(np.median(x)), "median_ci_low": med_lo, "median_ci_high": med_hi,
                         "mean_minus_random": x.mean() - base.mean() if len(base) else np.nan,
                         "diff_ci_low": d_lo, "diff_ci_high": d_hi,
                         "separated": bool(searcher != "random" and med_lo > base_hi)})
    return pd.DataFrame(rows).round(6)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python experiments/studies/rl_vs_random.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("store")
    p.add_argument("--out", help="CSV to write")
    args = p.parse_args(argv)
    table = comparison_table(args.store)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Draw docs/figures/architecture.png: the layers of archgym and the run pipeline.

    python docs/figures/architecture.py
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parent / "architecture.png"

LAYERS = [  # (label, folder, contents, y, color)
    ("experiments", "experiments/ -> archgym.experiments",
     "sweep: specs, runner, executors (local pool or Dask)\n"
     "analysis: curves, ranking, reports    bench: suite, leaderboard, shipped data", 4.2, "#dbe9f6"),
    ("simulators, agents, cost models", "simulators/ agents/ cost_models/",
     "Systolic  DRAM  Scratchpad  Dataflow  Accelerator\n"
     "random  GA  ACO  BO  TPE  RL  marl    |    proxy models, tables", 2.7, "#e3f1e0"),
    ("core", "archgym/",
     "space  simulator  standin  objective  env (DSEEnv, budget)  searcher  registry\n"
     "trial  pipeline  store  pareto  threads  testing  cli", 1.2, "#fbe8d3"),
]


def main() -> None:
    fig, ax = plt.subplots(figsize=(12.5, 6.6))
    ax.set_xlim(0, 12.5)
    ax.set_ylim(0, 6.2)
    ax.axis("off")
    for title, folder, contents, y, color in LAYERS:
        ax.add_patch(FancyBboxPatch((0.3, y), 7.4, 1.05, boxstyle="round,pad=0.05", fc=color, ec="#555555"))
        ax.text(0.5, y + 0.78, title, fontsize=12, weight="bold", va="center")
        ax.text(7.55, y + 0.78, folder, fontsize=9, ha="right", va="center", family="monospace", color="#333333")
        ax.text(0.5, y + 0.3, contents, fontsize=8.5, va="center", linespacing=1.5)
    for y0, y1 in ((4.2, 3.75), (2.7, 2.25)):  # imports point down only
        ax.add_patch(FancyArrowPatch((4.0, y0), (4.0, y1 + 0.02), arrowstyle="-|>", mutation_scale=16, color="#333333"))
    ax.text(4.15, 4.0, "imports", fontsize=8, va="center")
    ax.text(4.15, 2.5, "imports", fontsize=8, va="center")
    ax.text(0.3, 0.75, "Built-in simulators, searchers and backends are found like plugins: entry-point\n"
            "groups archgym.simulators, .envs, .agents, .backends.", fontsize=8.5, color="#333333", va="center")
    ax.text(0.3, 0.15, "Outside the package: experiments/benchmarks (scripts), experiments/studies\n"
            "(specs, figure scripts), experiments/results, docs/, tests/.", fontsize=8.5, color="#333333",
            va="center")
    # the run pipeline, right column
    steps = ["archgym run / sweep / bench", "Trial.create(...)\n(its identity = its key)",
             "pipeline.run_trial\n(budget: DSEEnv.budget)",
             "TrialResult\n(TrialState, wall time,\nbound objective)", "Store.record\n(one transaction)"]
    x, y = 10.4, 5.6
    for i, s in enumerate(steps):
        ax.add_patch(FancyBboxPatch((x - 1.45, y - 0.42), 2.9, 0.84, boxstyle="round,pad=0.04", fc="#f3f3f3",
                                    ec="#777777"))
        ax.text(x, y - 0.02, s, fontsize=8, ha="center", va="center")
        if i < len(steps) - 1:
            ax.add_patch(FancyArrowPatch((x, y - 0.47), (x, y - 0.7), arrowstyle="-|>", mutation_scale=12,
                                         color="#333333"))
        y -= 1.15
    ax.text(10.4, 6.15, "the run pipeline", fontsize=11, weight="bold", ha="center")
    fig.savefig(OUT, dpi=110, bbox_inches="tight")
    print(OUT)


if __name__ == "__main__":
    main()

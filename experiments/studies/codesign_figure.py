"""The co-design picture and summary for ``experiments/codesign.yaml``.

Usage::

    python experiments/studies/codesign_figure.py codesign.db [--out experiments/results/codesign]

For each workload of the study: every feasible design the searchers
evaluated on Accelerator-v0, its latency-energy Pareto front coloured by the
DRAM standard, against what each single-subsystem environment would pick
with the other subsystems at defaults, evaluated on Accelerator-v0:

* *Systolic-v0's picks*: its whole space is enumerated with the DRAM as a
  bandwidth of 16 words/cycle (DDR3-1600's 12.8 GB/s at 1 GHz, rounded to the
  space's nearest value); its latency-energy front (up to 12 designs, evenly
  spread) and its best design under the study's objective (equal-weight
  normalized latency + energy), each run with DRAM-v0's defaults (DDR3-1600,
  ArchGym's baseline controller).
* *DRAM-v0's pick*: the controller knobs a GA finds on DRAM-v0's own default
  workload (``stream``, DDR3-1600, objective total time + energy, 100
  evaluations, seed 0), run under the default compute/SRAM design
  (Accelerator-v0's reference: 32x32 ws, 256 KB SRAMs).
* *defaults*: the default compute/SRAM design with DRAM-v0's defaults.

"Co-design buys" = best single-subsystem pick / best co-designed design, for
EDP, latency and energy.  Also writes the searcher ranking at fixed budgets (the analysis module's defaults)
(``archgym.experiments.analysis.study.ranking``).  Outputs ``codesign_pareto.png``,
``summary.json`` and ``ranking.md`` in ``--out``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from archgym.simulators.accelerator import MEMORIES, AcceleratorSimulator
from archgym.simulators.dram.knobs import DEFAULT_MCCONFIG, KNOBS
from archgym.simulators.systolic import SystolicSimulator


OUT = Path(__file__).resolve().parents[1] / "results" / "codesign"
SYSTOLIC_BW = 16
COLORS = dict(zip(MEMORIES, ("tab:blue", "tab:orange", "tab:green", "tab:red")))


def front_2d(latency: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Indices of the latency-energy Pareto front (both minimized), by increasing latency
    (sort by latency, keep each point whose energy is below every faster point's)."""
    order = np.lexsort((energy, latency))
    e = energy[order]
    best = np.minimum.accumulate(e)
    keep = np.r_[True, e[1:] < best[:-1]]
    return order[keep]


def _default_dram() -> dict:
    return {"memory": "ddr3-1600", "channels": 1, **{k: DEFAULT_MCCONFIG[k] for k in KNOBS}}


def systolic_picks(workload: str, n_front: int = 12) -> tuple[list[dict], dict]:
    """Systolic-v0's latency-energy front (compute + SRAM parameters) and its objective-best design."""
    sim = SystolicSimulator(workload)
    grid = sim.space.grid_indices()
    bw = sim.space.names.index("dram_bw_words_per_cycle")
    grid = grid[grid[:, bw] == sim.space["dram_bw_words_per_cycle"].index_of(SYSTOLIC_BW)]
    configs = [sim.space.decode(i) for i in grid]
    df = sim.evaluate_batch(configs)
    df = df[df["feasible"]].reset_index(drop=True)
    front = df.iloc[front_2d(df["latency_ns"].to_numpy(), df["energy_pj"].to_numpy())]
    ref = sim.reference_metrics()
    score = df["latency_ns"] / ref["latency_ns"] + df["energy_pj"] / ref["energy_pj"]
    keep = ["array_rows", "array_cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb"]
    take = np.unique(np.round(np.linspace(0, len(front) - 1, min(n_front, len(front)))).astype(int))
    return ([front.iloc[i][keep].to_dict() for i in take], df.loc[score.idxmin(), keep].to_dict())


def dram_pick(budget: int = 100, seed: int = 0) -> dict:
    """Controller knobs a GA picks on DRAM-v0's default workload and memory."""
    import archgym
    from archgym.agents import GeneticAlgorithm

    env = archgym.make("DRAM-v0", workload="stream", objective="total_time_ns, energy_pj")
    traj = GeneticAlgorithm().run(env, budget=budget, seed=seed)
    best = traj.loc[traj["reward"].idxmax()]
    return {k: best[k] for k in KNOBS}


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archgym.experiments.analysis import study as analysis

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = analysis.load(args.store)
    ev = data.evals
    knobs = dram_pick()
    summary: dict = {"dram_v0_pick": {k: _plain(v) for k, v in knobs.items()}, "workloads": {}}
    workloads = sorted({kw.get("workload") for kw in data.trials["env_kwargs"]})
    fig, axes = plt.subplots(1, len(workloads), figsize=(6.2 * len(workloads), 4.8), squeeze=False)
    for ax, wl in zip(axes[0], workloads):
        acc = AcceleratorSimulator(wl)
        ids = data.trials.loc[[kw.get("workload") == wl for kw in data.trials["env_kwargs"]], "trial_id"]
        e = ev[ev["trial_id"].isin(ids) & ev["feasible"]]
        if e.empty:
            ax.set_title(f"Accelerator-v0, {wl}: no feasible evaluations yet")
            continue
        front = e.iloc[front_2d(e["latency_ns"].to_numpy(), e["energy_pj"].to_numpy())]
        ax.scatter(e["latency_ns"], e["energy_pj"], s=6, c="0.8", label=f"evaluated ({len(e)})")
        for mem in MEMORIES:                  # each standard's own front, and the overall front's points
            em = e[e["config.memory"] == mem]
            if len(em):
                fm = em.iloc[front_2d(em["latency_ns"].to_numpy(), em["energy_pj"].to_numpy())]
                ax.step(fm["latency_ns"], fm["energy_pj"], where="post", c=COLORS[mem], lw=1.2,
                        label=f"best with {mem}")
                ax.scatter(fm["latency_ns"], fm["energy_pj"], s=10, c=COLORS[mem])
            f = front[front["config.memory"] == mem]
            if len(f):
                ax.scatter(f["latency_ns"], f["energy_pj"], s=45, c=COLORS[mem], edgecolors="k",
                           label=f"co-design front: {mem}", zorder=3)
        s_front, s_best = systolic_picks(wl)
        ref = acc.reference_config()          # no activation buffer, one channel
        sys_res = [acc.evaluate({**ref, **c, **_default_dram()}) for c in s_front]
        best_res = acc.evaluate({**ref, **s_best, **_default_dram()})
        base = {k: ref[k] for k in ("array_rows", "array_cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb",
                                   "ofmap_sram_kb")}
        dram_res = acc.evaluate({**ref, **base, "memory": "ddr3-1600", "channels": 1, **knobs})
        default_res = acc.evaluate({**ref, **base, **_default_dram()})
        shown = [r for r in sys_res if r["feasible"]]   # an infeasible design has no latency to draw
        ax.scatter([best_res["latency_ns"]], [best_res["energy_pj"]], marker="*", s=160, c="k",
                   label="Systolic-v0's best (latency+energy)")
        ax.scatter([r["latency_ns"] for r in shown], [r["energy_pj"] for r in shown], marker="x", s=45,
                   c="tab:purple", linewidths=2, zorder=5,   # on top: the best is often a front design
                   label="Systolic-v0 front, DRAM at defaults (its feasible designs)")
        ax.scatter([dram_res["latency_ns"]], [dram_res["energy_pj"]], marker="s", s=50, facecolors="none",
                   edgecolors="k", label="DRAM-v0's pick, compute/SRAM at defaults")
        ax.scatter([default_res["latency_ns"]], [default_res["energy_pj"]], marker="^", s=50, c="0.4",
                   label="all defaults")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("latency (ns)")
        ax.set_ylabel("energy (pJ)")
        ax.set_title(f"Accelerator-v0, {wl}: latency-energy fronts")
        singles = [r for r in sys_res + [best_res, dram_res, default_res] if r["feasible"]]

        def best(metric_fn, rows):
            return min(metric_fn(r) for r in rows)

        edp = lambda r: r["energy_pj"] * r["latency_ns"]  # noqa: E731
        co_rows = front.to_dict("records")
        summary["workloads"][wl] = {
            "evaluated_designs": int(len(e)),
            "front": [{"latency_ns": r["latency_ns"], "energy_pj": r["energy_pj"], "memory": r["config.memory"],
                       "array": f"{r['config.array_rows']}x{r['config.array_cols']} {r['config.dataflow']}"}
                      for r in co_rows],
            "front_memories": {m: int((front["config.memory"] == m).sum()) for m in MEMORIES},
            "systolic_best": {**{k: _plain(v) for k, v in s_best.items()},
                              "latency_ns": best_res["latency_ns"], "energy_pj": best_res["energy_pj"]},
            "dram_pick": {"latency_ns": dram_res["latency_ns"], "energy_pj": dram_res["energy_pj"]},
            "defaults": {"latency_ns": default_res["latency_ns"], "energy_pj": default_res["energy_pj"]},
            "codesign_buys": {
                "edp": best(edp, singles) / best(edp, co_rows),
                "latency": best(lambda r: r["latency_ns"], singles) / best(lambda r: r["latency_ns"], co_rows),
                "energy": best(lambda r: r["energy_pj"], singles) / best(lambda r: r["energy_pj"], co_rows),
            },
        }
    legend = {}                                # one legend for both panels, below them, off the data
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label if not label.startswith("evaluated") else "evaluated designs", h)
    fig.legend(legend.values(), legend.keys(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8,
               frameon=False)
    fig.tight_layout()
    fig.savefig(out / "codesign_pareto.png", dpi=130, bbox_inches="tight")
    table = analysis.ranking(data)
    cols = ["problem", "budget", "rank", "agent", "median", "mean", "ci95"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]).replace(" | ", "; ")
                                for c in cols) + " |"
              for r in table.to_dict("records")]
    (out / "ranking.md").write_text("\n".join(lines) + "\n")
    summary["ranking"] = json.loads(table.to_json(orient="records"))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_plain))
    print(json.dumps({wl: v["codesign_buys"] for wl, v in summary["workloads"].items()}, indent=1))
    print(table.to_string(index=False))
    return summary


if __name__ == "__main__":
    main()

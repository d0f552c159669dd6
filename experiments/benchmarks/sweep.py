"""Sweep-runner benchmark: per-trial overhead, local speed-up, and Dask parity.

Run: ``python experiments/benchmarks/sweep.py [--quick]``.  It prints
the figures and writes ``experiments/benchmarks/results/sweep.json``.

1. **Overhead** -- sweeps of trivially cheap trials (``Toy-v0`` (:class:`archgym.testing.ToySimulator`) with no spin,
   budget 5) through the local executor with one worker.  The runner's
   overhead per trial is ``(sweep wall time - time spent inside trials) / n``;
   it is measured at two sweep sizes, and the slope between them is the
   marginal cost per trial (the pool start-up and spec loading cancel out).
2. **Speed-up** -- the same CPU-bound sweep (pure-Python spin inside every
   evaluation, so one core per worker) with 1 and with 2 local workers.
3. **Dask** -- that sweep again through a real ``dask scheduler`` and two
   ``dask worker --nthreads 1`` processes started here on loopback (and
   stopped afterwards); every trial's evaluations must equal the local run's,
   seed for seed.

Assumptions: the ``dask`` console script sits next to this Python (the venv);
the machine may be shared (the load average before and after is recorded, as
other processes skew the speed-up), so overhead figures are best-of-``repeats``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


RESULTS = Path(__file__).resolve().parent / "results" / "sweep.json"


def _spec(folder: Path, name: str, seeds: int, budget: int, spin: int, agents: list[str]) -> str:
    text = f"""\
study: {name}
budget: {budget}
seeds: {seeds}
register:
  simulators: {{Toy-v0: "archgym.testing:ToySimulator"}}
environments:
  - id: Toy-v0
    kwargs: {{spin: {spin}}}
searchers:
""" + "".join(f"  - agent: {a}\n" for a in agents)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return str(path)


def _available(names: list[str]) -> list[str]:
    from archgym.registry import agent_class

    ok = []
    for n in names:
        try:
            agent_class(n)
            ok.append(n)
        except Exception:
            pass
    return ok


def _in_trial_seconds(store: str) -> float:
    from archgym.store import Store

    with Store(store) as db:
        return float(db.trials()["wall_time_s"].sum())


def _records(store: str) -> dict:
    from archgym.store import Store

    with Store(store) as db:
        ev = db.evaluations()
    cols = sorted(c for c in ev.columns if c.startswith("config.")) + ["cost", "area", "reward"]
    return {k: g.sort_values("step")[["step"] + cols].values.tolist() for k, g in ev.groupby("trial_key")}


def _sweep(spec: str, store: str, **kw) -> tuple[float, dict]:
    from archgym.experiments.sweep import run_sweep

    t0 = time.perf_counter()
    summary = run_sweep(spec, store=store, progress=False, **kw)
    wall = time.perf_counter() - t0
    if summary["failed"]:
        raise RuntimeError(f"benchmark sweep had failures: {summary}")
    return wall, summary


def overhead(folder: Path, sizes: tuple[int, int], repeats: int) -> dict:
    out = {}
    for n in sizes:
        best = None
        for r in range(repeats):
            spec = _spec(folder, f"cheap{n}_{r}", seeds=n, budget=5, spin=0, agents=["random"])
            wall, _ = _sweep(spec, str(folder / f"cheap{n}_{r}.db"), workers=1)
            inside = _in_trial_seconds(str(folder / f"cheap{n}_{r}.db"))
            res = {"trials": n, "sweep_wall_s": wall, "in_trial_s": inside,
                   "overhead_per_trial_ms": 1000 * (wall - inside) / n}
            if best is None or res["sweep_wall_s"] < best["sweep_wall_s"]:
                best = res
        out[str(n)] = best
    a, b = (out[str(n)] for n in sizes)
    out["marginal_overhead_per_trial_ms"] = 1000 * ((b["sweep_wall_s"] - b["in_trial_s"]) -
                                                   (a["sweep_wall_s"] - a["in_trial_s"])) / (sizes[1] - sizes[0])
    out["fixed_cost_s"] = (a["sweep_wall_s"] - a["in_trial_s"]) - sizes[0] * out["marginal_overhead_per_trial_ms"] / 1000
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskOnLoopback:
    """A ``dask scheduler`` and ``n`` single-thread ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, workers: int = 2) -> None:
        self.n = workers
        self.procs: list[subprocess.Popen] = []
        self.address = ""

    def __enter__(self) -> "DaskOnLoopback":
        dask_cli = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
        if dask_cli is None:
            raise RuntimeError("the 'dask' command is not installed (pip install 'archgym[dask]')")
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs.append(subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                            "--no-dashboard"], **quiet))
        for _ in range(self.n):
            self.procs.append(subprocess.Popen([dask_cli, "worker", self.address, "--nthreads", "1",
                                                "--nworkers", "1", "--no-dashboard"], **quiet))
        from dask.distributed import Client

        deadline = time.time() + 60
        while True:
            try:
                with Client(self.address, timeout=5) as c:
                    c.wait_for_workers(self.n, timeout=60)
                break
            except Exception:
                if time.time() > deadline:
                    self.__exit__()
                    raise
                time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        for p in reversed(self.procs):  # workers first, scheduler last
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()


def speedup_and_dask(folder: Path, seeds: int, budget: int, spin: int, agents: list[str]) -> dict:
    spec = _spec(folder, "cpu", seeds=seeds, budget=budget, spin=spin, agents=agents)
    w1, s1 = _sweep(spec, str(folder / "cpu_w1.db"), workers=1)
    w2, _ = _sweep(spec, str(folder / "cpu_w2.db"), workers=2)
    in1, in2 = (_in_trial_seconds(str(folder / f"cpu_w{w}.db")) for w in (1, 2))
    out = {"trials": s1["trials"], "budget": budget, "spin": spin, "agents": agents,
           "in_trial_s_per_trial": in1 / s1["trials"], "in_trial_s_per_trial_2_workers": in2 / s1["trials"],
           "wall_1_worker_s": w1, "wall_2_workers_s": w2, "speedup_2_over_1": w1 / w2,
           # share of the 2-worker wall time the workers spent inside trials: the runner's part of
           # the speed-up, independent of CPU contention from other processes on the machine
           "worker_busy_fraction_2_workers": in2 / (2 * w2)}
    ref = _records(str(folder / "cpu_w1.db"))
    out["local_2_workers_identical"] = _records(str(folder / "cpu_w2.db")) == ref
    with DaskOnLoopback(2) as cluster:
        wd, _ = _sweep(spec, str(folder / "cpu_dask.db"), executor="dask", scheduler=cluster.address)
    dask_records = _records(str(folder / "cpu_dask.db"))
    out.update(dask_scheduler="dask scheduler --host 127.0.0.1 + 2 x dask worker --nthreads 1",
               wall_dask_2_workers_s=wd, speedup_dask_over_1_local=w1 / wd,
               dask_identical_to_local=dask_records == ref,
               dask_trials_compared=len(dask_records))
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sweeps (a smoke run)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    import archgym

    agents = _available(["random", "random_walk", "ga"])
    sizes = (20, 60) if args.quick else (50, 250)
    with tempfile.TemporaryDirectory(prefix="archgym-sweep-bench-") as tmp:
        folder = Path(tmp)
        result = {"archgym": archgym.__version__, "cpus": os.cpu_count(), "python": sys.version.split()[0],
                  "load_average_before": os.getloadavg(),
                  "overhead": overhead(folder, sizes, repeats=1 if args.quick else 2),
                  "cpu_bound": speedup_and_dask(folder, seeds=2 if args.quick else 4,
                                                budget=20 if args.quick else 30,
                                                spin=20_000 if args.quick else 400_000, agents=agents)}
        result["load_average_after"] = os.getloadavg()
    o, c = result["overhead"], result["cpu_bound"]
    big = o[str(sizes[1])]
    print(f"runner overhead per trial: {big['overhead_per_trial_ms']:.1f} ms at {sizes[1]} trials "
          f"(marginal {o['marginal_overhead_per_trial_ms']:.1f} ms/trial, fixed {o['fixed_cost_s']:.2f} s)")
    print(f"CPU-bound sweep ({c['trials']} trials x {c['in_trial_s_per_trial']:.2f} s): "
          f"1 worker {c['wall_1_worker_s']:.1f} s, 2 workers {c['wall_2_workers_s']:.1f} s, "
          f"speed-up {c['speedup_2_over_1']:.2f}x (workers busy {100 * c['worker_busy_fraction_2_workers']:.0f}% "
          f"of the time; a trial took {c['in_trial_s_per_trial_2_workers']:.2f} s with 2 running)")
    print(f"Dask (scheduler + 2 workers on loopback): {c['wall_dask_2_workers_s']:.1f} s, "
          f"speed-up {c['speedup_dask_over_1_local']:.2f}x over 1 local worker; results identical to local: "
          f"{c['dask_identical_to_local']} ({c['dask_trials_compared']} trials)")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2, default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()

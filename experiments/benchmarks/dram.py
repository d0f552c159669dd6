"""DRAM simulator benchmark: speed (requests/s) and fidelity against DRAMSys 4.0.

Usage::

    python -m archgym.experiments.benchmarks.dram [--no-fidelity] [--pure] [--out PATH]

Speed: requests simulated per second, single core, median of 5 runs after one
warm-up (so numba's compile time is excluded), measured in process CPU time
(the headline; the machines are shared) and wall time (also recorded), on
ArchGym's four traces (``stream``, ``random``, ``cloud-1``, ``cloud-2`` from
``../shared/data/dram/traces`` when present) and the shipped synthetic
workloads, under ArchGym's baseline controller configuration.

Fidelity: every DRAMSys 4.0 reference case in
``../shared/data/dram/dramsys_reference.json`` (trace + full mcconfig) is
simulated; total time and average power errors are summarized per memory
(cases within 2 % / 1 %, worst cases).

LPDDR4-3200 and HBM2: total time on the 20 configurations x 3 traces per
memory handed over in ``../shared/data/dram/lpddr4_hbm2/`` (DRAMSys 4.0 on
its stock memspecs; DRAMSys has no power model for them).

Against DRAMSys (ratios, never absolute rates):

* recorded: our in-process ``run`` (CPU time, median of 3) against the wall
  time DRAMSys 4.0 took for the same trace and mcconfig when the DDR3
  reference was recorded (``wall_s`` in ``dramsys_reference.json``; another
  run, another load: indicative only);
* side by side (``--dramsys BIN --dramsys-sim SIM.json [--dramsys-resources
  DIR]``): the DRAMSys 4.0 binary and this model on ArchGym's four traces x 5
  configurations, interleaved, in the same run, median of 3 (wall time of
  one DRAMSys process against one in-process ``DRAMSimulator(trace).evaluate``).
  ``SIM.json`` is a DRAMSys simulation file (e.g. ArchGym's
  ``ddr3-example.json``) whose ``mcconfig`` entry names a file this script
  rewrites per design and whose trace this script points at each trace in
  turn (linked into ``DIR/traces``), as ArchGym's wrapper does; ``DIR`` is
  DRAMSys's resources folder, passed as its second argument.  First the
  binary is checked against the recorded DRAMSys 4.0 total times (52 DDR3
  cases on ArchGym's traces), and both total times are kept per design.
  ``--side-by-side-only`` updates just that entry of the results file.

Start-up: ``import archgym`` time, a cold ``archgym evaluate DRAM-v0`` with
a warm numba cache (median of 3 processes), and the first call's compile
time (fresh cache folder, median of 3 processes).  Batch: ``evaluate_batch``
over 20 designs of one trace against 20 fresh single-design simulators.

Before/after (``--against PYTHON``, e.g. the interpreter of a checkout of an
earlier version with its own install): the same measurements for both
interpreters in one run, interleaved -- requests/s per workload (one
long-lived worker process per interpreter, alternating run by run, CPU time,
median) and the first-ever call on a fresh numba cache folder (alternating
fresh processes, median): whole-process CPU, the first ``run``'s CPU and
wall time, and the first ``run`` of a new process once the cache is warm.
``--against-only`` updates just that entry of the results file.

Writes ``experiments/benchmarks/results/dram.json`` and prints the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from archgym.simulators.dram import (  # noqa: E402
    DRAMSimulator, decode_trace, jit_available, load_standard, load_trace, resolve_workload, run,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "dram"
RESULTS = Path(__file__).resolve().parent / "results" / "dram.json"
ARCHGYM_TRACES = ("stream", "random", "cloud-1", "cloud-2")
SYNTHETIC = ("stream", "random", "seq_read_g25", "rand_read", "mixed_rw", "row_conflict", "half_load_random")


def reference_trace_path(mem: str, name: str) -> Path:
    """Where a reference case's trace lives under ``shared/data/dram/traces``."""
    if name.startswith("ddr4_"):
        return SHARED / "traces" / "synthetic_ddr4" / name[5:]
    if name in ("stream.stl", "random.stl", "cloud-1.stl", "cloud-2.stl"):
        return SHARED / "traces" / name
    return SHARED / "traces" / f"synthetic_{mem}" / name


def _rate(spec, trace, jit, repeats=5):
    """Median wall and CPU (process) time of ``repeats`` runs; CPU time is the
    headline figure because the benchmark machines are shared (load is recorded)."""
    run(spec, trace, {}, jit=jit)  # warm-up (and compile)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        run(spec, trace, {}, jit=jit)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    w, c = statistics.median(wall), statistics.median(cpu)
    return {"requests": len(trace), "median_wall_s": w, "median_cpu_s": c,
            "requests_per_s": len(trace) / c if c > 0 else float("inf"),
            "requests_per_s_wall": len(trace) / w if w > 0 else float("inf")}


def speed(jit) -> dict:
    spec = load_standard("ddr3-1600")
    out: dict = {"archgym": {}, "synthetic": {}}
    for name in ARCHGYM_TRACES:
        p = SHARED / "traces" / f"{name}.stl"
        if p.is_file():
            out["archgym"][name] = _rate(spec, load_trace(p), jit)
    for name in SYNTHETIC:
        out["synthetic"][name] = _rate(spec, resolve_workload(name, spec), jit)
    return out


def fidelity(jit) -> dict:
    ref = json.loads((SHARED / "dramsys_reference.json").read_text())
    specs = {"ddr3": load_standard("ddr3-1600"), "ddr4": load_standard("ddr4-2400")}
    traces: dict = {}
    per_mem: dict = {}
    for case in ref["dramsys_results"]:
        mem = case["mem"]
        row = per_mem.setdefault(mem, {"cases": []})
        key = (mem, case["trace"])
        if key not in traces:
            traces[key] = load_trace(reference_trace_path(mem, case["trace"]))
        res = run(specs[mem], traces[key], case["mcconfig"], jit=jit)
        et = res.total_time_ns / case["total_time_ns"] - 1
        ep = res.energy.avg_power_mw / case["avg_power_mW"] - 1
        row["cases"].append({"trace": case["trace"], "override": case["override"], "time_err": et, "power_err": ep,
                             "energy_err": res.energy.total_pj / case["total_energy_pJ"] - 1})
    summary = {}
    for mem, row in per_mem.items():
        cs = row["cases"]
        te = np.array([abs(c["time_err"]) for c in cs])
        pe = np.array([abs(c["power_err"]) for c in cs])
        summary[mem] = {
            "cases": len(cs),
            "time_within_2pct": int((te <= 0.02).sum()), "power_within_1pct": int((pe <= 0.01).sum()),
            "time_exact_0.1pct": int((te <= 0.001).sum()),
            "median_abs_time_err": float(np.median(te)), "median_abs_power_err": float(np.median(pe)),
            "worst_time": sorted(cs, key=lambda c: -abs(c["time_err"]))[:5],
            "worst_power": sorted(cs, key=lambda c: -abs(c["power_err"]))[:5],
        }
    return summary


def lpddr4_hbm2_errors(mem: str, jit=None) -> list[dict]:
    """Relative total-time error against DRAMSys 4.0 on every handed-over LPDDR4/HBM2 point."""
    root = SHARED / "lpddr4_hbm2"
    ref = json.loads((root / "dramsys_reference.json").read_text())
    spec = load_standard({"lpddr4": "lpddr4-3200", "hbm2": "hbm2"}[mem])
    traces: dict = {}
    out = []
    for r in ref["results"]:
        if r["mem"] != mem:
            continue
        if r["trace"] not in traces:
            traces[r["trace"]] = load_trace(root / "traces" / f"{mem}_{r['trace']}.dramsys.stl")
        mc = {**ref["configs"][str(r["config_index"])], **ref["fixed_mcconfig"]}
        t = run(spec, traces[r["trace"]], mc, jit=jit).total_time_ns
        out.append({"trace": r["trace"], "config": r["config_index"], "time_err": t / r["total_time_ns"] - 1})
    return out


def fidelity_lpddr4_hbm2(jit) -> dict:
    summary = {}
    for mem in ("lpddr4", "hbm2"):
        cs = lpddr4_hbm2_errors(mem, jit)
        te = np.array([abs(c["time_err"]) for c in cs])
        summary[mem] = {"cases": len(cs), "median_abs_time_err": float(np.median(te)),
                        "p95_abs_time_err": float(np.percentile(te, 95)), "max_abs_time_err": float(te.max()),
                        "worst_time": sorted(cs, key=lambda c: -abs(c["time_err"]))[:5]}
    return summary


def against_recorded_dramsys(jit, repeats: int = 3) -> dict:
    """Our CPU time per run against DRAMSys's recorded wall time, same trace and mcconfig (DDR3)."""
    ref = json.loads((SHARED / "dramsys_reference.json").read_text())
    spec = load_standard("ddr3-1600")
    out = {}
    for name in ARCHGYM_TRACES:
        cases = [c for c in ref["dramsys_results"] if c["mem"] == "ddr3" and c["trace"] == f"{name}.stl"]
        if not cases:
            continue
        dec = decode_trace(spec, load_trace(SHARED / "traces" / f"{name}.stl"))   # as DRAMSimulator caches it
        ratios = []
        for c in cases:
            run(spec, None, c["mcconfig"], jit=jit, decoded=dec)
            ts = []
            for _ in range(repeats):
                c0 = time.process_time()
                run(spec, None, c["mcconfig"], jit=jit, decoded=dec).metrics()
                ts.append(time.process_time() - c0)
            ratios.append(c["wall_s"] / statistics.median(ts))
        out[name] = {"configs": len(cases), "median_speedup": float(np.median(ratios)),
                     "min_speedup": float(np.min(ratios)), "max_speedup": float(np.max(ratios))}
    return out


def _dramsys_total_time_ns(stdout: str) -> float:
    """DRAMSys 4.0's ``...  Total Time:     50025 ns`` line (an ``sc_time`` string) in ns."""
    units = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    for line in stdout.splitlines():
        if "Total Time:" in line:
            value, unit = line.split("Total Time:")[1].split()
            return float(value) * units[unit]
    raise RuntimeError("DRAMSys printed no 'Total Time' line:\n" + stdout[-2000:])


class DRAMSysRunner:
    """Runs a DRAMSys 4.0 binary the way ArchGym's wrapper does: one process per design,
    the ``mcconfig`` file named by the simulation JSON rewritten per design, the trace
    placed in ``<resources>/traces/`` and named in the ``tracesetup``."""

    def __init__(self, binary: str, sim_json: str, resources: str | None = None) -> None:
        self.binary = str(Path(binary).resolve())
        self.sim_path = Path(sim_json).resolve()
        self.resources = Path(resources).resolve() if resources else None
        self.sim_cfg = json.loads(self.sim_path.read_text())
        mc_name = self.sim_cfg["simulation"]["mcconfig"]
        roots = [self.resources / "configs" / "mcconfigs"] if self.resources else []
        roots.append(self.sim_path.parent)
        self.mc_file = next((f for r in roots if r.is_dir() for f in r.rglob(mc_name) if f.is_file()), None)
        if self.mc_file is None:
            raise SystemExit(f"mcconfig file {mc_name!r} named in {self.sim_path} not found under {roots}")
        self.original_mc = self.mc_file.read_text()

    def set_trace(self, stl: Path) -> None:
        if self.resources:
            link = self.resources / "traces" / stl.name
            link.parent.mkdir(exist_ok=True)
            if not link.exists():
                link.symlink_to(stl)
            name = stl.name
        else:
            name = str(stl)
        self.sim_cfg["simulation"]["tracesetup"][0]["name"] = name
        self.sim_path.write_text(json.dumps(self.sim_cfg, indent=1))

    def set_mcconfig(self, cfg: dict) -> None:
        mc = json.loads(self.original_mc)
        mc.setdefault("mcconfig", mc).update(cfg)
        self.mc_file.write_text(json.dumps(mc, indent=1))

    def run(self) -> tuple[float, float]:
        """(wall s of the whole process, DRAMSys's total simulated time in ns)."""
        cmd = [self.binary, str(self.sim_path)] + ([str(self.resources)] if self.resources else [])
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self.sim_path.parent)
        return time.perf_counter() - t0, _dramsys_total_time_ns(out.stdout)

    def restore(self) -> None:
        self.mc_file.write_text(self.original_mc)


def dramsys_sanity(runner: DRAMSysRunner) -> dict:
    """The binary reproduces the recorded DRAMSys 4.0 total times (ArchGym's four traces,
    the ``archgym_policy_json`` and ``page_x_sched`` reference cases)."""
    ref = json.loads((SHARED / "dramsys_reference.json").read_text())
    rows = []
    for name in ARCHGYM_TRACES:
        cases = [c for c in ref["dramsys_results"] if c["mem"] == "ddr3" and c["trace"] == f"{name}.stl"
                 and c["group"] in ("archgym_policy_json", "page_x_sched")]
        if not cases:
            continue
        runner.set_trace(SHARED / "traces" / f"{name}.stl")
        for c in cases:
            runner.set_mcconfig(c["mcconfig"])
            _, t = runner.run()
            rows.append({"trace": name, "override": c["override"], "recorded_ns": c["total_time_ns"], "measured_ns": t})
    return {"cases": len(rows), "equal": sum(r["recorded_ns"] == r["measured_ns"] for r in rows),
            "max_abs_rel_diff": max((abs(r["measured_ns"] / r["recorded_ns"] - 1) for r in rows), default=0.0),
            "mismatches": [r for r in rows if r["recorded_ns"] != r["measured_ns"]]}


def side_by_side(dramsys: str, sim_json: str, jit, resources: str | None = None,
                 repeats: int = 3, n_configs: int = 5) -> dict:
    """DRAMSys 4.0 binary and this model on the same traces and designs, interleaved, same run.

    Per design: the median wall time of ``repeats`` DRAMSys processes against the median wall
    time of ``repeats`` in-process ``DRAMSimulator(trace).evaluate(design)`` calls (a fresh
    simulator each, so the trace is decoded each time; numba already loaded); the ratio is
    DRAMSys / ours.  Also records both total times (model agreement on these designs)."""
    runner = DRAMSysRunner(dramsys, sim_json, resources)
    space = DRAMSimulator().space
    configs = [space.sample(seed) for seed in range(n_configs)]
    out: dict = {}
    try:
        out["sanity_vs_recorded"] = dramsys_sanity(runner)
        for name in ARCHGYM_TRACES:
            p = SHARED / "traces" / f"{name}.stl"
            if not p.is_file():
                continue
            tr = load_trace(p)
            runner.set_trace(p)
            ratios, sim_ratios, errs = [], [], []
            for cfg in configs:
                runner.set_mcconfig(cfg)
                ours, theirs = [], []
                for _ in range(repeats):
                    w, t_theirs = runner.run()
                    theirs.append(w)
                    t0 = time.perf_counter()
                    m = DRAMSimulator(tr, jit=jit).evaluate(cfg)
                    ours.append(time.perf_counter() - t0)
                ratios.append(statistics.median(theirs) / statistics.median(ours))
                errs.append(m["total_time_ns"] / t_theirs - 1)
            out[name] = {"designs": len(configs), "median_speedup": float(np.median(ratios)),
                         "min_speedup": float(np.min(ratios)), "max_speedup": float(np.max(ratios)),
                         "max_abs_total_time_err": float(np.max(np.abs(errs)))}
    finally:
        runner.restore()
    out["load_average"] = os.getloadavg()
    return out


def _median_wall(cmd: list[str], repeats: int = 3, env=None) -> tuple[float, float]:
    """Median (wall s, CPU s) of ``repeats`` runs of ``cmd``; CPU = the child's user + system time."""
    ts, cs = [], []
    for _ in range(repeats):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        ts.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cs.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(ts), statistics.median(cs)


def startup() -> dict:
    """Process start-up costs, in wall seconds (each a fresh Python process)."""
    py = sys.executable
    cfg = json.dumps(DRAMSimulator().reference_config())
    cli = [py, "-m", "archgym.cli", "evaluate", "DRAM-v0", "--workload", "stream", "--config", cfg, "--json"]
    subprocess.run(cli, check=True, capture_output=True)                      # warm the numba cache
    cases = {
        "python_startup": [py, "-c", "pass"],
        "import_archgym": [py, "-c", "import archgym"],
        "import_numba": [py, "-c", "import numba"],
        "core_from_cache": [py, "-c", "from archgym.simulators.dram import jit_available; jit_available()"],
        "cold_cli_evaluate": cli,
    }
    out = {}
    for name, cmd in cases.items():
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = _median_wall(cmd)
    cold_wall, cold_cpu = [], []
    for _ in range(3):                                                        # first call ever: compile
        with tempfile.TemporaryDirectory() as d:
            w, c = _median_wall(cli, repeats=1, env={**os.environ, "NUMBA_CACHE_DIR": d})
        cold_wall.append(w)
        cold_cpu.append(c)
    out["first_call_compile_wall_s"] = statistics.median(cold_wall)
    out["first_call_compile_cpu_s"] = statistics.median(cold_cpu)
    out["load_average"] = os.getloadavg()
    return out


#: a worker that runs DRAM workloads on request (stdin "NAME REPEATS" -> stdout JSON of CPU seconds
#: per run); it uses only API that every version has, so two versions can be compared
_SPEED_WORKER = r"""
import json, sys, time
from pathlib import Path
from archgym.simulators.dram import load_standard, load_trace, resolve_workload, run
spec = load_standard("ddr3-1600")
traces = {}
def trace(name):
    if name not in traces:
        traces[name] = load_trace(name[4:]) if name.startswith("stl:") else resolve_workload(name, spec)
        run(spec, traces[name], {})                     # warm-up: compile or load the core, decode
    return traces[name]
print("ready", flush=True)
for line in sys.stdin:
    name, k = line.rsplit(None, 1)
    tr = trace(name)
    cpu = []
    for _ in range(int(k)):
        c0 = time.process_time()
        run(spec, tr, {})
        cpu.append(time.process_time() - c0)
    print(json.dumps({"requests": len(tr), "cpu_s": cpu}), flush=True)
"""

#: a fresh process's first DRAM run: import, then the first run (compile or cache load), as JSON
_FIRST_CALL = r"""
import json, time
c0, w0 = time.process_time(), time.perf_counter()
from archgym.simulators.dram import generate, load_standard, run
spec, tr = load_standard("ddr3-1600"), generate({"pattern": "random", "n": 200, "seed": 1})
c1, w1 = time.process_time(), time.perf_counter()
run(spec, tr, {})
c2, w2 = time.process_time(), time.perf_counter()
print(json.dumps({"import_cpu_s": c1 - c0, "first_run_cpu_s": c2 - c1, "first_run_wall_s": w2 - w1}))
"""


def _speed_workloads() -> list[str]:
    stl = [SHARED / "traces" / f"{n}.stl" for n in ARCHGYM_TRACES]
    return [f"stl:{p}" for p in stl if p.is_file()] + list(SYNTHETIC)


def _first_call(py: str, cache: str) -> dict:
    """One fresh process of ``py`` running :data:`_FIRST_CALL` with numba's cache in ``cache``."""
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHGYM_QUIET", "ARCHGYM_NOJIT", "ARCHGYM_DRAM_NOJIT")}
    env["NUMBA_CACHE_DIR"] = cache
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([py, "-c", _FIRST_CALL], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(),
                         check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = json.loads(out.stdout)
    res["process_cpu_s"] = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    res["stderr"] = out.stderr.strip()
    return res


def before_after(other: str, rounds: int = 5, compile_repeats: int = 3) -> dict:
    """This interpreter ("after") against ``other`` ("before"), interleaved in one run (see the
    module docstring).  Medians; CPU seconds of the measured process."""
    pys = {"before": other, "after": sys.executable}
    out: dict = {"before_python": other, "after_python": sys.executable, "rounds": rounds,
                 "compile_repeats": compile_repeats, "load_average_start": os.getloadavg()}
    first: dict = {k: {"cold": [], "warm": []} for k in pys}
    for r in range(compile_repeats):                 # first-ever call: fresh cache folder, then warm
        for k in (list(pys) if r % 2 == 0 else list(pys)[::-1]):
            with tempfile.TemporaryDirectory() as cache:
                first[k]["cold"].append(_first_call(pys[k], cache))
                first[k]["warm"].append(_first_call(pys[k], cache))
    out["first_call"] = {}
    for k, runs in first.items():
        row = {}
        for state, rs in runs.items():
            for field in ("process_cpu_s", "import_cpu_s", "first_run_cpu_s", "first_run_wall_s"):
                row[f"{state}_{field}"] = statistics.median(x[field] for x in rs)
            row[f"{state}_stderr"] = rs[0]["stderr"]
        out["first_call"][k] = row
    workers = {k: subprocess.Popen([p, "-c", _SPEED_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True, cwd=tempfile.gettempdir()) for k, p in pys.items()}
    try:
        for w in workers.values():
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError("speed worker failed to start")
        samples: dict = {k: {} for k in pys}
        sizes: dict = {}
        for r in range(rounds):
            for name in _speed_workloads():
                for k in (list(pys) if r % 2 == 0 else list(pys)[::-1]):
                    workers[k].stdin.write(f"{name} 1\n")
                    workers[k].stdin.flush()
                    got = json.loads(workers[k].stdout.readline())
                    samples[k].setdefault(name, []).extend(got["cpu_s"])
                    sizes[name] = got["requests"]
    finally:
        for w in workers.values():
            w.stdin.close()
            w.wait()
    out["speed"] = {}
    for name, n in sizes.items():
        b, a = (n / statistics.median(samples[k][name]) for k in ("before", "after"))
        label = Path(name[4:]).name if name.startswith("stl:") else name     # "stream.stl" vs synthetic "stream"
        out["speed"][label] = {"requests": n, "before_requests_per_s": b, "after_requests_per_s": a,
                               "after_over_before": a / b}
    out["load_average_end"] = os.getloadavg()
    return out


def _print_before_after(r: dict) -> None:
    for k, row in r["first_call"].items():
        print(f"first call {k:6s}: cold cache {row['cold_first_run_cpu_s']:.2f} s CPU "
              f"({row['cold_first_run_wall_s']:.2f} s wall; whole process {row['cold_process_cpu_s']:.2f} s CPU), "
              f"warm cache {row['warm_first_run_cpu_s']:.2f} s CPU (whole process {row['warm_process_cpu_s']:.2f} s)")
    for name, x in r["speed"].items():
        print(f"speed {name:18s} before {x['before_requests_per_s']:>12,.0f}/s  after "
              f"{x['after_requests_per_s']:>12,.0f}/s  x{x['after_over_before']:.2f}")


def batch(jit, n: int = 20, repeats: int = 3) -> dict:
    """Per-design CPU time on ArchGym's random.stl (parsed from the file): evaluate_batch on one
    simulator vs a fresh simulator per design (interleaved, median of ``repeats``)."""
    space = DRAMSimulator().space
    cfgs = [space.sample(s) for s in range(n)]
    stl = SHARED / "traces" / "random.stl"
    wl = str(stl) if stl.is_file() else {"pattern": "random", "n": 10000, "seed": 1}
    DRAMSimulator(wl, jit=jit).evaluate(cfgs[0])
    tb, ts = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        DRAMSimulator(wl, jit=jit).evaluate_batch(cfgs)
        tb.append((time.process_time() - c0) / n)
        c0 = time.process_time()
        for c in cfgs:
            DRAMSimulator(wl, jit=jit).evaluate(c)
        ts.append((time.process_time() - c0) / n)
    b, s1 = statistics.median(tb), statistics.median(ts)
    return {"designs": n, "workload": str(wl), "batch_per_design_cpu_s": b, "single_per_design_cpu_s": s1, "batch_speedup": s1 / b}


def _run_side_by_side(args, jit) -> dict:
    if not (args.dramsys and args.dramsys_sim):
        raise SystemExit("side by side needs --dramsys BIN and --dramsys-sim SIM.json")
    if jit is None:
        jit_available()  # load the compiled core before timing
    r = side_by_side(args.dramsys, args.dramsys_sim, jit, resources=args.dramsys_resources)
    s = r["sanity_vs_recorded"]
    print(f"DRAMSys binary vs recorded DRAMSys 4.0 total times: {s['equal']}/{s['cases']} equal, "
          f"largest difference {s['max_abs_rel_diff']:.4%}")
    for name in ARCHGYM_TRACES:
        if name in r:
            x = r[name]
            print(f"side by side vs DRAMSys  {name:8s} median {x['median_speedup']:.2f}x "
                  f"(min {x['min_speedup']:.2f}x, max {x['max_speedup']:.2f}x; total time within "
                  f"{x['max_abs_total_time_err']:.2%} of DRAMSys on these designs)")
    return r


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-fidelity", action="store_true")
    ap.add_argument("--pure", action="store_true", help="force the pure-Python core")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--dramsys", help="DRAMSys 4.0 binary: run it side by side with this model")
    ap.add_argument("--dramsys-sim", help="DRAMSys simulation JSON for --dramsys (e.g. ArchGym's ddr3-example.json)")
    ap.add_argument("--dramsys-resources", help="DRAMSys resources folder (configs/, traces/), passed as its 2nd argument")
    ap.add_argument("--side-by-side-only", action="store_true",
                    help="run only the side-by-side measurement and update that entry of an existing results file")
    ap.add_argument("--no-startup", action="store_true", help="skip the process start-up measurements")
    ap.add_argument("--startup-only", action="store_true",
                    help="measure only start-up and update that entry of an existing results file")
    ap.add_argument("--against", metavar="PYTHON",
                    help="also measure this interpreter (an earlier version's install), interleaved: before/after")
    ap.add_argument("--against-only", action="store_true",
                    help="run only the --against comparison and update that entry of an existing results file")
    args = ap.parse_args(argv)
    if args.against_only:
        if not args.against:
            raise SystemExit("--against-only needs --against PYTHON")
        prev = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
        prev["before_after"] = before_after(args.against)
        _print_before_after(prev["before_after"])
        Path(args.out).write_text(json.dumps(prev, indent=1, default=float))
        return prev
    if args.startup_only:
        prev = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
        prev["startup"] = startup()
        print("startup: " + ", ".join(f"{k} {v:.2f}" for k, v in prev["startup"].items() if k != "load_average"))
        Path(args.out).write_text(json.dumps(prev, indent=1, default=float))
        return prev
    jit = False if args.pure else None
    if args.side_by_side_only:
        prev = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
        prev["side_by_side"] = _run_side_by_side(args, jit)
        Path(args.out).write_text(json.dumps(prev, indent=1, default=float))
        return prev
    t0 = time.perf_counter()
    used_jit = (not args.pure) and jit_available()
    compile_s = time.perf_counter() - t0
    out = {"simulator": "archgym.simulators.dram", "numba": used_jit, "jit_setup_s": compile_s,
           "load_average": os.getloadavg(), "cpu_count": os.cpu_count(),
           "python": platform.python_version(), "machine": platform.machine(), "speed": speed(jit)}
    for group, rows in out["speed"].items():
        for name, r in rows.items():
            print(f"speed  {group:9s} {name:18s} {r['requests_per_s']:>12,.0f} requests/s CPU "
                  f"({r['requests_per_s_wall']:>10,.0f} wall; median {r['median_cpu_s'] * 1e3:.1f} ms CPU)")
    if not args.no_fidelity and (SHARED / "dramsys_reference.json").is_file():
        t1 = time.perf_counter()
        out["fidelity"] = fidelity(jit)
        out["fidelity_wall_s"] = time.perf_counter() - t1
        for mem, s in out["fidelity"].items():
            print(f"fidelity {mem}: {s['cases']} cases; "
                  f"time within 2%: {s['time_within_2pct']}, power within 1%: {s['power_within_1pct']}; "
                  f"worst time {s['worst_time'][0]['time_err']:+.3%} ({s['worst_time'][0]['trace']} "
                  f"{s['worst_time'][0]['override']}), worst power {s['worst_power'][0]['power_err']:+.3%} "
                  f"({s['worst_power'][0]['trace']} {s['worst_power'][0]['override']})")
    if (SHARED / "lpddr4_hbm2" / "dramsys_reference.json").is_file() and not args.no_fidelity:
        out["fidelity_lpddr4_hbm2"] = fidelity_lpddr4_hbm2(jit)
        for mem, s in out["fidelity_lpddr4_hbm2"].items():
            print(f"fidelity {mem}: {s['cases']} points; total time |error| median {s['median_abs_time_err']:.3%}, "
                  f"p95 {s['p95_abs_time_err']:.3%}, worst {s['max_abs_time_err']:.3%}")
    if (SHARED / "dramsys_reference.json").is_file():
        out["vs_recorded_dramsys"] = against_recorded_dramsys(jit)
        for name, r in out["vs_recorded_dramsys"].items():
            print(f"vs recorded DRAMSys wall time  {name:8s} median {r['median_speedup']:.1f}x faster "
                  f"(min {r['min_speedup']:.1f}x, {r['configs']} configs)")
    out["batch"] = batch(jit)
    print(f"evaluate_batch: {out['batch']['batch_per_design_cpu_s'] * 1e3:.1f} ms CPU/design vs "
          f"{out['batch']['single_per_design_cpu_s'] * 1e3:.1f} ms for fresh single-design simulators")
    if not args.no_startup and not args.pure:
        out["startup"] = startup()
        print("startup: " + ", ".join(f"{k} {v:.2f}" for k, v in out["startup"].items() if k != "load_average"))
    if args.against:
        out["before_after"] = before_after(args.against)
        _print_before_after(out["before_after"])
    if args.dramsys:
        out["side_by_side"] = _run_side_by_side(args, jit)
    else:
        out["side_by_side"] = "not run: no DRAMSys binary given (--dramsys)"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()

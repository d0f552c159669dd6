"""DRAM simulator benchmark: speed (requests/s) and fidelity against DRAMSys 4.0, side by side with its binary.

Usage::

    python experiments/benchmarks/dram.py [--no-fidelity] [--pure] [--out PATH]
        [--dramsys BIN [--agreement N]] [--against PYTHON] [--X-only ...]

Speed: requests simulated per second, single core, median of 5 runs after one
warm-up (so numba's compile time is excluded), measured in process CPU time
(the headline; the machines are shared) and wall time (also recorded), on
ArchGym's four traces (``stream``, ``random``, ``cloud-1``, ``cloud-2`` from
``../shared/data/dram/traces`` when present) and the shipped synthetic
workloads, under ArchGym's baseline controller configuration.

Fidelity: every DRAMSys 4.0 reference case in
``../shared/data/dram/dramsys_reference.json`` (trace + full mcconfig) is
simulated; total time and average power errors are summarized per memory
(cases within 2 % / 1 %, worst cases).  LPDDR4-3200 and HBM2: total time on the
20 configurations x 3 traces per memory in ``../shared/data/dram/lpddr4_hbm2/``.

Profile (``profile``): where a run's time goes, per request and per command,
on ArchGym's four traces x 5 designs: the Python around the kernel (file
parsing, trace decoding, knob encoding and state allocation, results,
metrics; CPU time) and the kernel split into the controller's parts by the
CPU's cycle counter (a generated copy of the loop with every part's calls
timed; the timers' own cost taken out, preempted regions dropped, shares
scaled to the real kernel's CPU time).

Against DRAMSys (ratios, never absolute rates):

* recorded: our in-process ``run`` (CPU time, median of 3) against the wall
  time DRAMSys 4.0 took for the same trace and mcconfig when the DDR3
  reference was recorded (``wall_s`` in ``dramsys_reference.json``; another
  run, another load: indicative only);
* side by side (``--dramsys BIN``, the binary ArchGym ships:
  ``sims/DRAM/binary/DRAMSys/DRAMSys`` of srivatsankrishnan/oss-arch-gym, its
  resources and ``ddr3-example.json`` found next to it as laid out there, or
  given with ``--dramsys-resources`` / ``--dramsys-sim``): run as ArchGym's
  wrapper runs it (one process per design, the mcconfig rewritten), on a
  private copy of its configuration.  First the binary is checked against the
  recorded DRAMSys 4.0 total times; ``--agreement N`` compares total time and
  energy on N random designs per trace.  Then ArchGym's four traces x 5 designs,
  interleaved, median of 3: a DRAMSys process (wall, CPU of the process, its
  own reported simulation time) against one in-process ``evaluate`` (a reused
  simulator; and a fresh one), one ``archgym evaluate`` CLI process, and one
  design through a running ``archgym serve``; per trace also ``archgym
  evaluate --config designs.jsonl`` over 100 designs (CPU per design) and the
  server's CPU per design over the same 100; and a DRAMSys process on a
  one-request trace (its start-up cost).  Ratios are DRAMSys / ours; the load
  average is recorded.  ``--side-by-side-only`` updates just that entry.

Start-up: the pieces of a CLI call (Python, numpy, archgym, the DRAM
package, llvmlite, loading the native kernel) and a cold ``archgym evaluate
DRAM-v0`` with a warm kernel cache (median of 3 processes, .pyc files
written), and the first call's compile time (fresh cache folder, median of 3
processes).  Batch: ``evaluate_batch`` over 20 designs of one trace against
20 fresh single-design simulators.

Before/after (``--against PYTHON``, e.g. the interpreter of a checkout of an
earlier version with its own install): the same measurements for both
interpreters in one run, interleaved -- requests/s per workload (one
long-lived worker process per interpreter, alternating run by run, CPU time,
median) and the first-ever call on a fresh cache folder (alternating fresh
processes, median): whole-process CPU, the first ``run``'s CPU and wall time,
and the first ``run`` of a new process once the cache is warm.

``--X-only`` (``startup``, ``against``, ``side-by-side``, ``profile``) runs one
part and updates its entry of an existing results file.  Writes
``experiments/benchmarks/results/dram.json`` and prints the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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


_UNITS = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def _dramsys_output(stdout: str) -> dict:
    """DRAMSys 4.0's report: ``Total Time:     50025 ns`` (an ``sc_time`` string, in ns),
    ``Total Energy:`` (pJ) and ``Simulation took 0.049 seconds`` (its own wall time of the
    simulation, without start-up and configuration)."""
    out = {}
    for line in stdout.splitlines():
        if "Total Time:" in line:
            value, unit = line.split("Total Time:")[1].split()
            out["total_time_ns"] = float(value) * _UNITS[unit]
        elif "Total Energy:" in line:
            out["energy_pj"] = float(line.split("Total Energy:")[1].split()[0])
        elif line.startswith("Simulation took"):
            out["sim_s"] = float(line.split()[2])
    if "total_time_ns" not in out:
        raise RuntimeError("DRAMSys printed no 'Total Time' line:\n" + stdout[-2000:])
    return out


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class DRAMSysRunner:
    """Runs a DRAMSys 4.0 binary the way ArchGym's wrapper does -- one process per design,
    ``DRAMSys <simulation.json> <resources>/`` with the mcconfig file the simulation names
    rewritten per design -- but on a private copy of the configuration (a temporary folder:
    the binary's own files are never modified), with our trace files linked into its
    ``traces/``.  ``resources``: DRAMSys's resources folder (configs/); ``sim_json``: the
    simulation file (ArchGym's ``ddr3-example.json``)."""

    def __init__(self, binary: str, resources: str, sim_json: str) -> None:
        self.binary = str(Path(binary).resolve())
        self.tmp = tempfile.TemporaryDirectory(prefix="dramsys-")
        root = Path(self.tmp.name)
        shutil.copytree(Path(resources) / "configs", root / "configs")
        (root / "traces").mkdir()
        self.resources = str(root) + "/"          # DRAMSys joins it with 'configs/...' as given
        self.sim_path = root / "simulation.json"
        self.sim_cfg = json.loads(Path(sim_json).read_text())
        mc_name = self.sim_cfg["simulation"]["mcconfig"]
        self.mc_file = root / "configs" / "mcconfigs" / mc_name
        self.original_mc = json.loads(self.mc_file.read_text())

    def set_trace(self, stl: Path) -> None:
        link = Path(self.resources) / "traces" / stl.name
        if not link.exists():
            link.symlink_to(stl.resolve())
        self.sim_cfg["simulation"]["tracesetup"][0]["name"] = stl.name
        self.sim_path.write_text(json.dumps(self.sim_cfg, indent=1))

    def set_mcconfig(self, cfg: dict) -> None:
        mc = json.loads(json.dumps(self.original_mc))
        mc.setdefault("mcconfig", mc).update(cfg)
        self.mc_file.write_text(json.dumps(mc, indent=1))

    def run(self) -> dict:
        """One DRAMSys process: its report plus ``wall_s`` and ``cpu_s`` (user + system) of the process."""
        c0, t0 = _child_cpu(), time.perf_counter()
        out = subprocess.run([self.binary, str(self.sim_path), self.resources], check=True, capture_output=True,
                             text=True, cwd=self.tmp.name)
        wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
        return {**_dramsys_output(out.stdout), "wall_s": wall, "cpu_s": cpu}

    def close(self) -> None:
        self.tmp.cleanup()


def default_dramsys_paths(binary: str) -> tuple[str, str]:
    """(resources, simulation JSON) next to a binary laid out as in srivatsankrishnan/oss-arch-gym
    (``sims/DRAM/binary/DRAMSys/DRAMSys`` and ``sims/DRAM/DRAMSys/library/{resources,simulations}``)."""
    lib = Path(binary).resolve().parents[2] / "DRAMSys" / "library"
    return str(lib / "resources"), str(lib / "simulations" / "ddr3-example.json")


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
            t = runner.run()["total_time_ns"]
            rows.append({"trace": name, "override": c["override"], "recorded_ns": c["total_time_ns"], "measured_ns": t})
    return {"cases": len(rows), "equal": sum(r["recorded_ns"] == r["measured_ns"] for r in rows),
            "max_abs_rel_diff": max((abs(r["measured_ns"] / r["recorded_ns"] - 1) for r in rows), default=0.0),
            "mismatches": [r for r in rows if r["recorded_ns"] != r["measured_ns"]]}


def agreement(runner: DRAMSysRunner, n_designs: int, seed0: int = 1000) -> dict:
    """This model against the binary on ``n_designs`` random designs x ArchGym's four traces:
    total time and energy."""
    space = DRAMSimulator().space
    designs = [space.sample(seed0 + i) for i in range(n_designs)]
    out: dict = {"designs_per_trace": n_designs, "seed0": seed0}
    for name in ARCHGYM_TRACES:
        p = SHARED / "traces" / f"{name}.stl"
        if not p.is_file():
            continue
        runner.set_trace(p)
        sim = DRAMSimulator(str(p))
        time_err, energy_err = [], []
        for d in designs:
            runner.set_mcconfig(d)
            theirs = runner.run()
            ours = sim.simulate(d)
            time_err.append(ours.total_time_ns / theirs["total_time_ns"] - 1)
            energy_err.append(ours.energy.total_pj / theirs["energy_pj"] - 1)
        te, ee = np.abs(time_err), np.abs(energy_err)
        out[name] = {"total_time_exact": int((te == 0).sum()), "total_time_max_abs_err": float(te.max()),
                     "energy_within_1e-9": int((ee <= 1e-9).sum()), "energy_max_abs_err": float(ee.max())}
    return out


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "archgym.cli", *args]


def _cli_env() -> dict:
    """The environment CLI child processes run in: quiet, and writing .pyc files as a normal
    install does (some sandboxes set PYTHONDONTWRITEBYTECODE, which would make every start-up
    recompile archgym's modules)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["ARCHGYM_QUIET"] = "1"
    return env


class _Server:
    """A long-lived ``archgym serve DRAM-v0 --workload PATH``: one design out, one result back."""

    def __init__(self, workload: str) -> None:
        self.proc = subprocess.Popen(_cli("serve", "DRAM-v0", "--workload", workload), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_cli_env(), cwd=tempfile.gettempdir())

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def ask(self, design: dict) -> dict:
        self.proc.stdin.write(json.dumps(design) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def side_by_side(runner: DRAMSysRunner, jit, repeats: int = 3, n_designs: int = 5, n_jsonl: int = 100) -> dict:
    """The DRAMSys binary and this model on the same traces and designs, interleaved, same run.

    Per trace and design, ``repeats`` times in turn: one DRAMSys process (wall and CPU of
    the process, its own reported simulation time); one in-process ``evaluate`` on a
    simulator reused across designs, and one on a fresh simulator (the trace object
    given, so it is decoded again); one ``archgym evaluate`` CLI process; one design
    through a running ``archgym serve`` (round trip, and the server's CPU).  Medians per
    design; ratios are DRAMSys / ours.  Per trace also ``archgym evaluate --config
    designs.jsonl`` on ``n_jsonl`` designs (CPU per design, the process's start-up
    included), and a DRAMSys process on a one-request trace (its start-up)."""
    space = DRAMSimulator().space
    designs = [space.sample(seed) for seed in range(n_designs)]
    med = statistics.median
    out: dict = {"protocol": "per trace and design, interleaved, median of the repeats: one DRAMSys process "
                             "(wall, CPU of the process, its reported simulation time) / one in-process evaluate "
                             "on a reused simulator (CPU, wall) and on a fresh one (CPU) / one archgym evaluate CLI "
                             "process (wall, CPU) / one design through a running archgym serve (round trip, server "
                             "CPU); ratios DRAMSys / ours",
                 "designs": designs, "repeats": repeats, "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one_request.stl"
        one.write_text("0:\tread\t0x0\n")
        runner.set_trace(one)
        runner.set_mcconfig(designs[0])
        startups = [runner.run() for _ in range(5)]
        out["dramsys_one_request"] = {"wall_s": med(r["wall_s"] for r in startups),
                                      "cpu_s": med(r["cpu_s"] for r in startups),
                                      "sim_s": med(r["sim_s"] for r in startups)}
        for name in ARCHGYM_TRACES:
            p = SHARED / "traces" / f"{name}.stl"
            if not p.is_file():
                continue
            runner.set_trace(p)
            tr = load_trace(p)
            reused = DRAMSimulator(tr, jit=jit)
            reused.evaluate(designs[0])
            server = _Server(str(p))
            server.ask(designs[0])
            rows = []
            for d in designs:
                runner.set_mcconfig(d)
                cli = _cli("evaluate", "DRAM-v0", "--workload", str(p), "--config", json.dumps(d), "--json")
                samples: dict = {k: [] for k in ("ds_wall", "ds_cpu", "ds_sim", "ours_cpu", "ours_wall", "fresh_cpu",
                                                 "cli_wall", "cli_cpu", "serve_wall")}
                for _ in range(repeats):
                    theirs = runner.run()
                    samples["ds_wall"].append(theirs["wall_s"])
                    samples["ds_cpu"].append(theirs["cpu_s"])
                    samples["ds_sim"].append(theirs["sim_s"])
                    c0, t0 = time.process_time(), time.perf_counter()
                    m = reused.evaluate(d)
                    samples["ours_cpu"].append(time.process_time() - c0)
                    samples["ours_wall"].append(time.perf_counter() - t0)
                    c0 = time.process_time()
                    DRAMSimulator(tr, jit=jit).evaluate(d)
                    samples["fresh_cpu"].append(time.process_time() - c0)
                    c0, t0 = _child_cpu(), time.perf_counter()
                    subprocess.run(cli, check=True, capture_output=True, env=_cli_env(), cwd=tmp)
                    samples["cli_wall"].append(time.perf_counter() - t0)
                    samples["cli_cpu"].append(_child_cpu() - c0)
                    t0 = time.perf_counter()
                    served = server.ask(d)
                    samples["serve_wall"].append(time.perf_counter() - t0)
                rows.append({**{k: med(v) for k, v in samples.items()}, "design": d,
                             "ours_total_time_ns": m["total_time_ns"], "served_total_time_ns": served["total_time_ns"],
                             "dramsys_total_time_ns": theirs["total_time_ns"]})
            many = [space.sample(1000 + i) for i in range(n_jsonl)]
            c0, t0 = server.cpu_s(), time.perf_counter()        # /proc counts 10 ms ticks: a mean over many
            for d in many:
                server.ask(d)
            serve_cpu, serve_wall = (server.cpu_s() - c0) / n_jsonl, (time.perf_counter() - t0) / n_jsonl
            server.close()
            jsonl = Path(tmp) / "designs.jsonl"
            jsonl.write_text("".join(json.dumps(d) + "\n" for d in many))
            many_cpu = []
            for _ in range(repeats):
                c0 = _child_cpu()
                subprocess.run(_cli("evaluate", "DRAM-v0", "--workload", str(p), "--config", str(jsonl), "--json"),
                               check=True, capture_output=True, env=_cli_env(), cwd=tmp)
                many_cpu.append(_child_cpu() - c0)

            def ratios(num: str, den: str) -> dict:
                r = [row[num] / row[den] for row in rows]
                return {"median": float(np.median(r)), "min": float(np.min(r)), "max": float(np.max(r))}

            out[name] = {
                "rows": rows,
                "dramsys_cpu_over_ours_cpu": ratios("ds_cpu", "ours_cpu"),
                "dramsys_wall_over_ours_wall": ratios("ds_wall", "ours_wall"),
                "dramsys_cpu_over_fresh_simulator_cpu": ratios("ds_cpu", "fresh_cpu"),
                "dramsys_reported_sim_over_ours_cpu": ratios("ds_sim", "ours_cpu"),
                "cli_cpu_over_dramsys_cpu": ratios("cli_cpu", "ds_cpu"),
                "cli_wall_over_dramsys_wall": ratios("cli_wall", "ds_wall"),
                "serve_cpu_per_design_s": serve_cpu, "serve_wall_per_design_s": serve_wall,
                "dramsys_cpu_over_serve_cpu": float(np.median([r["ds_cpu"] for r in rows])) / max(serve_cpu, 1e-9),
                "dramsys_wall_over_serve_round_trip": ratios("ds_wall", "serve_wall"),
                "jsonl_designs": n_jsonl, "jsonl_process_cpu_s": med(many_cpu),
                "jsonl_cpu_per_design_s": med(many_cpu) / n_jsonl,
                "dramsys_cpu_median_s": float(np.median([r["ds_cpu"] for r in rows])),
                "total_time_equal": sum(r["ours_total_time_ns"] == r["dramsys_total_time_ns"] for r in rows),
            }
    out["load_average_end"] = os.getloadavg()
    return out


# ---- where the time goes ---------------------------------------------------------------------

#: timed parts of a run: name -> the core's calls timed as that part (see :func:`profile`)
_PART_CALLS = {
    "responses": ("response.pop",),
    "arbiter and buffer admission": ("arbiter.take", "arbiter.forward", "arbiter.release"),
    "bank machines: proposals and retiming": ("bankmachine.propose", "bankmachine.settle", "bankmachine.retime"),
    "refresh and power-down managers": ("refresh.plan", "powerdown.decide", "refresh.issue", "powerdown.issue",
                                        "bankmachine.replan_all"),
    "command mux": ("cmdmux.select",),
    "bank command: bank, checker and queue state": ("bankmachine.issue",),
    "next event": ("min(t_bank",),
    "idle fast-forward": ("idle.record", "idle.advance"),
}
#: DRAMPower's counting, timed inside the command parts (and taken out of them)
_POWER_CALLS = ("flush(", "bank_command(", "precharge_all(", "refresh(now")
_CLOCK = """from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def rdtsc(typingctx):
    def codegen(context, builder, signature, args):
        from llvmlite import ir
        fnty = ir.FunctionType(ir.IntType(64), [])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter"), [])
    return types.int64(), codegen


def overhead(n):
    acc = 0
    for _ in range(n):
        t0 = rdtsc()
        acc += rdtsc() - t0
    return acc
"""


#: a timed region longer than this many cycles was preempted (the machine is shared): not counted
_PREEMPTED = 200_000


def _timed(src: str, calls: dict[str, int], count_slot: int) -> str:
    """``src`` with each statement calling one of ``calls`` (start of the statement -> slot)
    wrapped in cycle-counter reads accumulated into ``st[slot]`` (and a count into
    ``st[slot + count_slot]``; regions longer than ``_PREEMPTED`` cycles are dropped);
    ``if CALL(...):`` becomes a timed assignment and a test."""
    lines, out, i = src.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        body = line.lstrip()
        indent = line[:len(line) - len(body)]
        head = body[3:] if body.startswith("if ") else body.split("= ", 1)[-1] if " = " in body else body
        slot = next((k for c, k in calls.items() if head.startswith(c)), None)
        if slot is None or body.startswith(("def ", "#", "elif ")):
            out.append(line)
            i += 1
            continue
        block = [line]
        depth = line.count("(") - line.count(")")
        while depth > 0:
            i += 1
            block.append(lines[i])
            depth += lines[i].count("(") - lines[i].count(")")
        is_if = body.startswith("if ")
        if is_if:
            block[0] = indent + "_hit = " + body[3:]
            block[-1] = block[-1].rstrip()[:-1]
        out += [f"{indent}_t0 = rdtsc()", *block, f"{indent}_dt = rdtsc() - _t0",
                f"{indent}if _dt < {_PREEMPTED}:", f"{indent}    st[{slot}] += _dt", f"{indent}    st[{slot + count_slot}] += 1"]
        if is_if:
            out.append(f"{indent}if _hit:")
        i += 1
    return "\n".join(out)


def _profiled_kernel():
    """The controller loop with every part's calls timed by the CPU's cycle counter, compiled
    like the real kernel: generated from the core's own source into modules named inside
    the core's package (so archgym.jit compiles their callees), never written into it."""
    import importlib
    import types as pytypes

    from archgym.jit import Kernel
    from archgym.simulators.dram import _core, controller

    parts = list(_PART_CALLS) + ["DRAMPower bookkeeping"]
    base = _core.S_LEN
    slots = {c: base + k for k, name in enumerate(_PART_CALLS) for c in _PART_CALLS[name]}
    power = {c: base + len(_PART_CALLS) for c in _POWER_CALLS}
    tmp = Path(tempfile.mkdtemp(prefix="dramprof-"))
    core_dir = Path(_core.__file__).parent
    pkg = "archgym.simulators.dram._core"
    sources = {"_prof_clock": _CLOCK}
    for mod in ("bankmachine", "refresh"):
        src = (core_dir / f"{mod}.py").read_text()
        sources[f"_prof_{mod}"] = "from ._prof_clock import rdtsc\n" + _timed(src, power, len(parts))
    loop = (core_dir / "loop.py").read_text()
    loop = loop.replace("from . import arbiter, bankmachine,", "from . import _prof_bankmachine as bankmachine\n"
                        "from . import _prof_refresh as refresh\nfrom . import arbiter,")
    loop = loop.replace(" powerdown, refresh, response", " powerdown, response")
    sources["_prof_loop"] = "from ._prof_clock import rdtsc\n" + _timed(loop, slots, len(parts))
    modules = {}
    for name, src in sources.items():
        path = tmp / f"{name}.py"
        path.write_text(src)
        module = pytypes.ModuleType(f"{pkg}.{name}")
        module.__file__, module.__package__ = str(path), pkg
        sys.modules[module.__name__] = module
        exec(compile(src, str(path), "exec"), module.__dict__)  # noqa: S102
        modules[name] = module
    kernel = Kernel(modules["_prof_loop"].simulate_core, label="the profiled DRAM loop", example=lambda: (
        *controller._example_arguments()[:15], np.zeros(base + 2 * len(parts), np.int64),
        *controller._example_arguments()[16:]), nogil=True, error_model="numpy", _nrt=False)
    clock = importlib.import_module("numba").njit(modules["_prof_clock"].overhead)
    return kernel.compiled(), parts, base, clock


def profile(jit, repeats: int = 5) -> dict:
    """Where a run's time goes, per request and per command, on ArchGym's four traces x 5
    designs: Python around the kernel (trace decoding, knob encoding and state allocation,
    the call, results and metrics) timed in process (CPU, median of ``repeats``), and the
    kernel split by part with the CPU's cycle counter (a copy of the loop with every part's
    calls timed, the timers' own cost taken out, shares scaled to the real kernel's time)."""
    from archgym.simulators.dram import _core, controller
    from archgym.simulators.dram.knobs import encode_mcconfig

    kernel, parts, base, clock = _profiled_kernel()
    real = controller.KERNEL.select(jit)
    per_timer = min(clock(10000) for _ in range(20)) / 10000          # cycles per timed region
    space = DRAMSimulator().space
    designs = [space.sample(seed) for seed in range(5)]
    spec = load_standard("ddr3-1600")
    med = statistics.median
    out: dict = {"designs": designs, "timer_overhead_cycles": per_timer, "load_average_start": os.getloadavg()}
    for name in ARCHGYM_TRACES:
        p = SHARED / "traces" / f"{name}.stl"
        if not p.is_file():
            continue
        tr = load_trace(p)
        n = len(tr)
        t_parse = []
        for _ in range(repeats):
            c0 = time.process_time()
            load_trace(p)
            t_parse.append(time.process_time() - c0)
        acc = {k: [] for k in ("decode", "prepare", "kernel", "results", "metrics")}
        shares = np.zeros(len(parts) + 1)
        cmds = steps = proposals = 0
        for d in designs:
            knobs = encode_mcconfig(d)
            for _ in range(repeats):
                c0 = time.process_time()
                dec = decode_trace(spec, tr)
                c1 = time.process_time()
                send, resp, st = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(_core.S_LEN, np.int64)
                args = controller._core_arguments(dec, encode_mcconfig(d), send, resp, st)
                c2 = time.process_time()
                real(*args)
                c3 = time.process_time()
                res = run(spec, None, d, jit=jit, decoded=dec)      # the results part is run() minus its kernel
                c4 = time.process_time()
                res.metrics()
                c5 = time.process_time()
                for k, v in zip(acc, (c1 - c0, c2 - c1, c3 - c2, (c4 - c3) - (c3 - c2) - (c2 - c1), c5 - c4)):
                    acc[k].append(v)
            runs = []
            for _ in range(3):
                pst = np.zeros(base + 2 * len(parts), np.int64)
                kernel(*controller._core_arguments(dec, knobs, np.zeros(n, np.int64), np.zeros(n, np.int64), pst))
                cyc = np.maximum(pst[base:base + len(parts)] - per_timer * pst[base + len(parts):], 0)
                cyc[list(_PART_CALLS).index("bank command: bank, checker and queue state")] -= cyc[-1]
                runs.append(np.maximum(cyc, 0))
            cyc = np.median(runs, axis=0)
            shares[:-1] += cyc / max(cyc.sum(), 1.0)
            cmds += int(pst[_core.S_NCMD])
            steps += int(pst[_core.S_ITER])
            proposals += int(pst[_core.S_PROPOSE])
        shares /= len(designs)
        kernel_s = med(acc["kernel"])
        row = {"requests": n, "commands_per_request": cmds / len(designs) / n, "steps_per_request": steps / len(designs) / n,
               "proposals_per_request": proposals / len(designs) / n,
               "parse_file_ns_per_request": med(t_parse) / n * 1e9,
               "python_ns_per_request": {k: med(v) / n * 1e9 for k, v in acc.items() if k != "kernel"},
               "kernel_ns_per_request": kernel_s / n * 1e9,
               "kernel_ns_per_command": kernel_s / (cmds / len(designs)) * 1e9,
               "kernel_parts_ns_per_request": {part: float(sh) * kernel_s / n * 1e9 for part, sh in zip(parts, shares)},
               "kernel_parts_share": {part: float(sh) for part, sh in zip(parts, shares)}}
        out[name] = row
    out["load_average_end"] = os.getloadavg()
    return out


def _print_profile(r: dict) -> None:
    for name in ARCHGYM_TRACES:
        if name not in r:
            continue
        x = r[name]
        py = ", ".join(f"{k} {v:.0f}" for k, v in x["python_ns_per_request"].items())
        parts = ", ".join(f"{k} {v:.0f}" for k, v in x["kernel_parts_ns_per_request"].items())
        print(f"profile {name:8s} ns/request: kernel {x['kernel_ns_per_request']:.0f} ({x['kernel_ns_per_command']:.0f}"
              f"/command, {x['steps_per_request']:.1f} steps, {x['commands_per_request']:.1f} commands); Python: {py}; "
              f"file parse {x['parse_file_ns_per_request']:.0f}; kernel parts: {parts}")


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
    """Process start-up costs, each a fresh Python process (median of 3; wall and the child's
    CPU seconds): the pieces of a CLI call and the call itself, with a warm kernel cache and
    .pyc files written (:func:`_cli_env`); then the first call ever on a fresh cache folder."""
    py = sys.executable
    env = _cli_env()
    cfg = json.dumps(DRAMSimulator().reference_config())
    cli = [py, "-m", "archgym.cli", "evaluate", "DRAM-v0", "--workload", "stream", "--config", cfg, "--json"]
    subprocess.run(cli, check=True, capture_output=True, env=env)                # warm the caches
    cases = {
        "python_startup": [py, "-c", "pass"],
        "import_numpy": [py, "-c", "import numpy"],
        "import_archgym": [py, "-c", "import archgym"],
        "import_dram_simulator": [py, "-c", "import archgym.simulators.dram"],
        "import_llvmlite_binding": [py, "-c", "import llvmlite.binding"],
        "core_from_cache": [py, "-c", "from archgym.simulators.dram import jit_available; jit_available()"],
        "cold_cli_evaluate": cli,
    }
    out = {}
    for name, cmd in cases.items():
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = _median_wall(cmd, env=env)
    probe = "import sys; from archgym.simulators.dram import simulate; simulate('stream', {}); print('numba' in sys.modules)"
    out["numba_imported_with_warm_cache"] = subprocess.run([py, "-c", probe], capture_output=True, text=True,
                                                           env=env).stdout.strip() == "True"
    cold_wall, cold_cpu = [], []
    for _ in range(3):                                                        # first call ever: compile
        with tempfile.TemporaryDirectory() as d:
            w, c = _median_wall(cli, repeats=1, env={**env, "NUMBA_CACHE_DIR": d})
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
    resources, sim_json = default_dramsys_paths(args.dramsys)
    runner = DRAMSysRunner(args.dramsys, args.dramsys_resources or resources, args.dramsys_sim or sim_json)
    if jit is None:
        jit_available()  # load the compiled core before timing
    try:
        r = {"binary": str(Path(args.dramsys).resolve()), "sanity_vs_recorded": dramsys_sanity(runner)}
        s = r["sanity_vs_recorded"]
        print(f"DRAMSys binary vs recorded DRAMSys 4.0 total times: {s['equal']}/{s['cases']} equal, "
              f"largest difference {s['max_abs_rel_diff']:.4%}")
        if args.agreement:
            r["agreement"] = agreement(runner, args.agreement)
            for name in ARCHGYM_TRACES:
                if name in r["agreement"]:
                    a = r["agreement"][name]
                    print(f"agreement {name:8s}: total time equal on {a['total_time_exact']}/{args.agreement} designs "
                          f"(worst {a['total_time_max_abs_err']:.2e}), energy on {a['energy_within_1e-9']}")
        r.update(side_by_side(runner, jit))
    finally:
        runner.close()
    for name in ARCHGYM_TRACES:
        if name in r:
            x = r[name]
            print(f"{name:8s} DRAMSys/ours CPU median {x['dramsys_cpu_over_ours_cpu']['median']:.1f}x "
                  f"(min {x['dramsys_cpu_over_ours_cpu']['min']:.1f}x), wall median "
                  f"{x['dramsys_wall_over_ours_wall']['median']:.1f}x (min {x['dramsys_wall_over_ours_wall']['min']:.1f}x); "
                  f"its reported sim time / our CPU min {x['dramsys_reported_sim_over_ours_cpu']['min']:.1f}x; "
                  f"CLI/DRAMSys CPU {x['cli_cpu_over_dramsys_cpu']['median']:.1f}x; jsonl "
                  f"{x['jsonl_cpu_per_design_s'] * 1e3:.1f} ms/design; serve DRAMSys/ours CPU "
                  f"{x['dramsys_cpu_over_serve_cpu']:.1f}x; total time equal {x['total_time_equal']}/5")
    return r


def _print_startup(r: dict) -> None:
    print("startup: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if isinstance(v, float)))


#: how an entry updated alone (``--X-only``) is printed
_PRINTERS = {"before_after": _print_before_after, "startup": _print_startup, "profile": _print_profile}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-fidelity", action="store_true")
    ap.add_argument("--pure", action="store_true", help="force the pure-Python core")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--dramsys", help="DRAMSys 4.0 binary (ArchGym's sims/DRAM/binary/DRAMSys/DRAMSys): run it side "
                    "by side with this model")
    ap.add_argument("--dramsys-sim", help="DRAMSys simulation JSON (default: ArchGym's ddr3-example.json next to "
                    "the binary)")
    ap.add_argument("--dramsys-resources", help="DRAMSys resources folder with configs/ (default: next to the binary "
                    "as in oss-arch-gym)")
    ap.add_argument("--agreement", type=int, default=0, metavar="N",
                    help="also compare total time and energy with the binary on N random designs per trace")
    ap.add_argument("--side-by-side-only", action="store_true",
                    help="run only the side-by-side measurement and update that entry of an existing results file")
    ap.add_argument("--no-startup", action="store_true", help="skip the process start-up measurements")
    ap.add_argument("--startup-only", action="store_true",
                    help="measure only start-up and update that entry of an existing results file")
    ap.add_argument("--against", metavar="PYTHON",
                    help="also measure this interpreter (an earlier version's install), interleaved: before/after")
    ap.add_argument("--against-only", action="store_true",
                    help="run only the --against comparison and update that entry of an existing results file")
    ap.add_argument("--profile-only", action="store_true",
                    help="run only the profile (where the time goes) and update that entry of an existing results file")
    args = ap.parse_args(argv)
    jit = False if args.pure else None
    if args.against_only and not args.against:
        raise SystemExit("--against-only needs --against PYTHON")
    only = {"before_after": args.against_only and (lambda: before_after(args.against)),
            "startup": args.startup_only and startup, "side_by_side": args.side_by_side_only and (
                lambda: _run_side_by_side(args, jit)), "profile": args.profile_only and (lambda: profile(jit))}
    for key, measure in only.items():
        if measure:
            prev = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
            prev[key] = measure()
            _PRINTERS.get(key, lambda r: None)(prev[key])
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
    if not args.pure:
        out["profile"] = profile(jit)
        _print_profile(out["profile"])
    if not args.no_startup and not args.pure:
        out["startup"] = startup()
        _print_startup(out["startup"])
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

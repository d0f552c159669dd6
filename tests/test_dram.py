"""Unit, first-principles and contract tests of archgym.simulators.dram (no reference data needed)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archgym.simulator import WorkloadError
from archgym.space import InvalidConfigError
from archgym.simulators.dram import _core
from archgym.simulators.dram import (
    ControllerDeadlock, KNOBS, DRAMSimulator, Trace, dram_space, generate, jit_available, load_standard,
    load_trace, parse_csv, resolve_workload, run, simulate, standard_names,
)

DDR3 = load_standard("ddr3-1600")
DDR4 = load_standard("ddr4-2400")


def _trace(times, addrs, writes=None, relative=False):
    n = len(times)
    return Trace(np.asarray(times, np.int64), np.asarray(writes or [0] * n, np.int8),
                 np.asarray(addrs, np.uint64), relative, "t")


# ---- standards --------------------------------------------------------------------

def test_standards_load_and_describe():
    assert set(standard_names()) >= {"ddr3-1600", "ddr4-2400", "lpddr4-3200", "hbm2"}
    assert DDR3.capacity_bytes == 1 << 30 and DDR3.banks == 8 and DDR3.burst_bytes == 64
    assert DDR4.banks == 16 and DDR4.bankgroups == 4
    assert DDR3.peak_bandwidth_gbps == pytest.approx(12.8)
    for name in standard_names():
        spec = load_standard(name)
        assert spec.timing_vector().shape == (_core.T_LEN,)


def test_missing_timing_is_a_clear_error(tmp_path):
    raw = json.loads(json.dumps(DDR3.raw))
    del raw["timing_ck"]["RCD"]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="missing RCD"):
        load_standard(p)
    with pytest.raises(ValueError, match="unknown memory"):
        load_standard("ddr9")


def test_address_mapping_ddr3_rbc():
    bank, bg, row = DDR3.decode(np.array([0x0, 0x2000, 0x10000, 0x3FFFFFC0], np.uint64))
    assert list(bank) == [0, 1, 0, 7] and list(row) == [0, 0, 1, 16383]
    bank, bg, row = DDR4.decode(np.array([0x2000, 0x8000, 0x20000], np.uint64))
    assert list(bg) == [1, 0, 0] and list(bank) == [4, 1, 0] and list(row) == [0, 0, 1]


# ---- first principles -----------------------------------------------------------------

@pytest.mark.parametrize("memory", standard_names())
def test_unloaded_read_costs_rcd_cl_burst(memory):
    spec = load_standard(memory)
    res = run(spec, _trace([0], [0]), {})
    t = spec.timing
    # DRAMSys's read data interval: LPDDR4 RL + tDQSCK + BL/2 + 3 after a 4-cycle
    # command; HBM2 tRCDRD + 1 (2-cycle ACT), then RL + tDQSCK + BL/2
    extra = {"lpddr4": t["DQSCK"] + 3, "hbm2": 1 + t["DQSCK"]}.get(spec.protocol, 0)
    assert res.total_time_ns == pytest.approx((t["RCD"] + t["CL"] + spec.burst_cycles + extra) * spec.tck_ns)


def test_ddr4_stream_in_one_bank_group_is_tccd_l_bound():
    # consecutive bursts to one bank group are tCCD_L apart: ~BL/2 / tCCD_L of peak
    # (a little more: every 128 bursts the stream moves to another bank group)
    m = run(DDR4, resolve_workload("stream", DDR4), {"RefreshPolicy": "NoRefresh"}).metrics()
    bound = DDR4.burst_cycles / DDR4.timing["CCD_L"] * DDR4.peak_bandwidth_gbps
    assert 0.99 * bound <= m["bandwidth_gbps"] <= 1.03 * bound


def test_saturated_stream_reaches_peak_and_closed_page_is_slower():
    tr = resolve_workload("stream", DDR3)
    open_ = run(DDR3, tr, {"RefreshPolicy": "NoRefresh"}).metrics()
    assert open_["bandwidth_gbps"] >= 0.99 * DDR3.peak_bandwidth_gbps
    closed = run(DDR3, tr, {"PagePolicy": "Closed"}).metrics()
    assert closed["total_time_ns"] > 5 * open_["total_time_ns"]
    assert closed["row_hit_rate"] == 0.0 and open_["row_hit_rate"] > 0.99


def test_empty_trace_gives_zero_time():
    res = run(DDR3, _trace([], []), {})
    m = res.metrics()
    assert m["total_time_ns"] == 0 and m["energy_pj"] == 0 and m["bandwidth_gbps"] == 0


def test_relative_trace_times():
    absolute = run(DDR3, _trace([0, 100], [0, 0x40]), {})
    relative = run(DDR3, _trace([0, 99], [0, 0x40], relative=True), {})
    # relative: sent 99 player cycles after the edge following acceptance of request 0
    assert relative.send_ns[1] == absolute.send_ns[1]


# ---- traces and bad input --------------------------------------------------------------

def test_stl_parser_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.stl"
    p.write_text("0:\tread\t0x0\n1:\tfetch\t0x40\n")
    with pytest.raises(ValueError, match=r"bad\.stl:2: command .fetch. is not read or write"):
        load_trace(p)
    p.write_text("5:\tread\t0x0\n1:\tread\t0x40\n")
    with pytest.raises(ValueError, match=r"bad\.stl:2: timestamps not sorted"):
        load_trace(p)
    p.write_text("0:\tread\t0x0\n1:\twrite\t0x40\tdeadbeef\n# comment\n\n")
    tr = load_trace(p)
    assert len(tr) == 2 and tr.n_writes == 1


def test_csv_trace(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("time,command,address\n0,read,0x0\n3,w,64\n")
    tr = parse_csv(p)
    assert list(tr.times) == [0, 3] and list(tr.is_write) == [0, 1] and list(tr.addresses) == [0, 64]
    p.write_text("time,command,address\n0,read,zz\n")
    with pytest.raises(ValueError, match=r"t\.csv:2"):
        parse_csv(p)


def test_address_beyond_capacity_and_unknown_knob():
    with pytest.raises(ValueError, match="beyond"):
        run(DDR3, _trace([0], [1 << 30]), {})
    with pytest.raises(ValueError, match="PagePolicy"):
        run(DDR3, _trace([0], [0]), {"PagePolicy": "Sometimes"})
    with pytest.raises(ValueError, match="RequestBufferSize"):
        run(DDR3, _trace([0], [0]), {"RequestBufferSize": 200})
    with pytest.raises(ValueError, match="MaxActiveTransactions"):
        run(DDR3, _trace([0], [0]), {"MaxActiveTransactions": 2.5})


def test_integer_variant_of_the_space():
    sim = DRAMSimulator({"pattern": "random", "n": 400}, integer=True)
    assert sim.space.size == 4 * 3 * 3 * 128 * 2 * 2 * 8 * 8 * 3 * 128
    cfg = {**sim.reference_config(), "RequestBufferSize": 6, "MaxActiveTransactions": 21, "Arbiter": "Fifo"}
    assert sim.evaluate(cfg)["feasible"]
    with pytest.raises(InvalidConfigError):
        DRAMSimulator("stream").evaluate(cfg)


def test_generators_and_offered_load():
    for pattern in ("sequential", "random", "strided", "mixed", "row_conflict"):
        tr = generate({"pattern": pattern, "n": 500})
        assert len(tr) == 500 and int(tr.addresses.max()) < DDR3.capacity_bytes
        assert np.all(tr.addresses % 64 == 0)
    half = simulate({"pattern": "random", "n": 2000, "offered_load": 0.05}, {"RefreshPolicy": "NoRefresh"})
    assert half.metrics()["bandwidth_gbps"] == pytest.approx(0.05 * 12.8, rel=0.05)
    with pytest.raises(ValueError, match="pattern"):
        generate({"pattern": "zigzag"})
    with pytest.raises(ValueError, match="unknown keys"):
        generate({"pattern": "random", "colour": 1})


# ---- the simulator contract -------------------------------------------------------------

def test_simulator_contract():
    sim = DRAMSimulator("stream")
    assert sim.name == "DRAM" and sim.version
    assert sim.space.names == list(KNOBS)
    assert sim.space.size == 442_368
    assert {"stream", "random", "cloud-1", "cloud-2"} <= set(sim.workload_names)
    m = sim.evaluate(sim.reference_config())
    assert m["feasible"] and set(sim.metric_names) <= set(m)
    assert m["total_time_ns"] == pytest.approx(50025.0)  # DRAMSys 4.0 on ArchGym's baseline
    with pytest.raises(InvalidConfigError, match="Scheduler"):
        sim.evaluate({**sim.reference_config(), "Scheduler": "Lottery"})
    df = sim.evaluate_batch([sim.space.sample(s) for s in range(3)])
    assert len(df) == 3 and df["feasible"].all()


def test_workload_resolution(tmp_path):
    with pytest.raises(WorkloadError, match="unknown workload"):
        DRAMSimulator("nonsense")
    with pytest.raises(WorkloadError, match="trace_dir"):
        resolve_workload("cloud-1", DDR3)
    p = tmp_path / "cloud-1.stl"
    p.write_text("0:\tread\t0x0\n1:\tread\t0x40\n")
    sim = DRAMSimulator("cloud-1", trace_dir=tmp_path)
    assert len(sim.trace) == 2
    sim2 = DRAMSimulator({"pattern": "random", "n": 300, "name": "r300"}, memory="ddr4-2400")
    assert sim2.workload_label == "r300" and sim2.evaluate(sim2.reference_config())["feasible"]
    assert DRAMSimulator(str(p)).evaluate(sim.reference_config())["total_time_ns"] > 0


@pytest.mark.parametrize("memory", ["lpddr4-3200", "hbm2", "lpddr4-3200-x32", "hbm2-legacy"])
def test_other_standards_run(memory):
    sim = DRAMSimulator({"pattern": "random", "n": 500}, memory=memory)
    m = sim.evaluate(sim.reference_config())
    assert m["feasible"] and m["total_time_ns"] > 0 and m["avg_power_mw"] > 0


def test_power_down_extension():
    sim = DRAMSimulator({"pattern": "random", "n": 300, "gap": 50}, power_down=True)
    base = {**sim.reference_config(), "PowerDownPolicy": "NoPowerDown"}
    pd = {**base, "PowerDownPolicy": "Staggered"}
    assert sim.evaluate(pd)["avg_power_mw"] < sim.evaluate(base)["avg_power_mw"]


# ---- the pure-Python core equals the compiled one; invariants ---------------------------------

_SPACE = dram_space(power_down=True, integer=True)


@pytest.mark.skipif(not jit_available(), reason="numba not installed: only the pure-Python core exists")
@pytest.mark.parametrize("seed", range(4))
def test_pure_python_core_matches_numba(seed):
    tr = generate({"pattern": "mixed", "n": 400, "read_fraction": 0.5, "seed": seed})
    cfg = _SPACE.sample(seed)
    a, b = run(DDR3, tr, cfg, jit=False), run(DDR3, tr, cfg, jit=True)
    assert np.array_equal(a.complete_ns, b.complete_ns)
    assert a.energy == b.energy


@settings(max_examples=25, deadline=None)
@given(idx=st.lists(st.integers(0, 127), min_size=11, max_size=11), seed=st.integers(0, 1000),
       n=st.integers(1, 120), gap=st.sampled_from([0, 1, 3, 40]),
       memory=st.sampled_from(["ddr3-1600", "ddr4-2400", "lpddr4-3200", "hbm2"]))
def test_invariants_over_the_space(idx, seed, n, gap, memory):
    spec = load_standard(memory)
    cfg = _SPACE.decode([(i * 37) % k for i, k in zip(idx, _SPACE.nvec)])
    tr = generate({"pattern": "mixed", "n": n, "gap": gap, "read_fraction": 0.7, "seed": seed,
                   "span": 1 << 22}, capacity=spec.capacity_bytes)
    res = run(spec, tr, cfg)
    t = spec.timing
    unloaded = (t["RCD"] + min(t["CL"], t["WL"]) + spec.burst_cycles) * spec.tck_ns
    lat = res.complete_ns - res.send_ns
    assert np.all(lat >= min(t["CL"], t["WL"]) * spec.tck_ns)
    assert res.total_time_ns >= unloaded - 1e-9
    assert np.all(np.diff(res.send_ns) >= 0)
    m = res.metrics()
    assert all(math.isfinite(v) for v in m.values())
    assert m["energy_pj"] > 0 and 0 <= m["row_hit_rate"] <= 1


def test_strict_cmdmux_with_grouping_scheduler_is_a_clear_deadlock():
    # CmdMux Strict forces CAS order while FrFcfsGrp serves same-direction hits
    # first: this model (like DRAMSys) can stall; it must fail fast and clearly
    tr = generate({"pattern": "mixed", "n": 300, "read_fraction": 0.6, "seed": 5, "span": 1 << 20})
    cfg = {"Scheduler": "FrFcfsGrp", "CmdMux": "Strict", "PagePolicy": "Closed"}
    with pytest.raises(ControllerDeadlock, match="no progress"):
        run(DDR3, tr, cfg)
    sim = DRAMSimulator(tr, fixed={"CmdMux": "Strict"})
    res = sim.evaluate({**sim.reference_config(), "Scheduler": "FrFcfsGrp", "PagePolicy": "Closed"})
    assert not res["feasible"] and "no progress" in res["reason"]
    assert run(DDR3, tr, {**cfg, "Scheduler": "FrFcfs"}).total_time_ns > 0


#: total times (ns) printed by the DRAMSys binary ArchGym ships (sims/DRAM/binary/DRAMSys/DRAMSys of
#: srivatsankrishnan/oss-arch-gym at 53f745af, its ddr3-example.json and policy.json), run on
#: stream.stl, which the shipped "stream" workload reproduces bit for bit
_BINARY_STREAM = [
    ({"Scheduler": "FrFcfsGrp", "Arbiter": "Fifo", "MaxActiveTransactions": 2, "RefreshMaxPostponed": 2}, 89805.0),
    ({"Scheduler": "FrFcfsGrp", "Arbiter": "Fifo", "MaxActiveTransactions": 2, "RefreshMaxPostponed": 4}, 89647.5),
    ({"Scheduler": "FrFcfs", "Arbiter": "Reorder", "MaxActiveTransactions": 2, "RefreshMaxPostponed": 1}, 89840.0),
    ({"Scheduler": "FrFcfsGrp", "Arbiter": "Fifo", "MaxActiveTransactions": 2, "RefreshPolicy": "NoRefresh"}, 89380.0),
]


@pytest.mark.parametrize("override, dramsys_ns", _BINARY_STREAM)
def test_refresh_between_requests_matches_the_dramsys_binary(override, dramsys_ns):
    """With two requests outstanding the buffer runs empty between them: DRAMSys's refresh
    manager then sees every bank machine idle and refreshes at once instead of postponing."""
    cfg = {"PagePolicy": "Open", "SchedulerBuffer": "Bankwise", "RequestBufferSize": 8, "RespQueue": "Fifo",
           "RefreshPolicy": "AllBank", "RefreshMaxPulledin": 8, **override}
    assert simulate("stream", cfg).total_time_ns == dramsys_ns


# ---- unusual but valid traces: idle gaps of any length ----------------------------

def test_requests_a_billion_cycles_apart_are_simulated_with_refresh_in_between():
    """Reads at player cycle 0 and 10^9: the second is served like the first (refresh ran
    through the gap as DRAMSys's manager does when idle: RefreshMaxPulledin refreshes pulled
    in, then one per tREFI), and a 10^15-cycle gap costs no more, thanks to the idle fast-forward."""
    tr = _trace([0, 10**9], [0, 0x40])
    res = run(DDR3, tr, {})
    first = run(DDR3, _trace([0], [0]), {})
    lat = res.complete_ns - res.send_ns
    assert res.send_ns[1] == 10**9 * 1.25 and lat[0] == first.total_time_ns and 0 < lat[1] < 200
    refi_ns = DDR3.timing["REFI"] * DDR3.tck_ns                 # idle: one per tREFI, plus 8 pulled in
    assert res.n_refresh == res.total_time_ns // refi_ns + 8
    far = run(DDR3, _trace([0, 10**15], [0, 0x40]), {})       # ~14 days of idle refresh
    assert far.send_ns[1] == 10**15 * 1.25 and far.n_refresh == far.total_time_ns // refi_ns + 8


_GAP_CONFIGS = [{}, {"RefreshMaxPostponed": 1, "RefreshMaxPulledin": 2},
                {"PagePolicy": "Closed", "RefreshMaxPulledin": 4, "Arbiter": "Fifo", "MaxActiveTransactions": 2},
                {"PowerDownPolicy": "Staggered", "RefreshMaxPulledin": 1}, {"RefreshPolicy": "NoRefresh"}]


@pytest.mark.skipif(not jit_available(), reason="compares the compiled core with the pure one")
@pytest.mark.parametrize("memory", ["ddr3-1600", "ddr4-2400", "hbm2", "lpddr4-3200"])
@pytest.mark.parametrize("cfg", _GAP_CONFIGS, ids=range(len(_GAP_CONFIGS)))
def test_idle_fast_forward_equals_stepping_through_every_refresh(memory, cfg, monkeypatch):
    """Requests in bursts with idle gaps of 10^5 to 3*10^5 player cycles: the compiled core
    (which skips whole idle refresh intervals) and the pure core made to step through every
    cycle agree on every response time, command count and energy term."""
    from archgym.simulators.dram._core import idle

    rng = np.random.default_rng(len(memory) + len(cfg))
    t = np.cumsum(rng.choice([0, 1, 3, 10**5, 3 * 10**5], size=10))
    tr = Trace(t.astype(np.int64), rng.integers(0, 2, 10).astype(np.int8),
               (rng.integers(0, 1 << 22, 10) * 64).astype(np.uint64), False, "bursts")
    spec = load_standard(memory)
    fast = run(spec, tr, cfg)
    monkeypatch.setattr(idle, "_periodic", lambda *args: False)   # never skip: step through every cycle
    slow = run(spec, tr, cfg, jit=False)
    assert np.array_equal(fast.send_ns, slow.send_ns) and np.array_equal(fast.complete_ns, slow.complete_ns)
    assert (fast.n_refresh, fast.n_commands, fast.energy) == (slow.n_refresh, slow.n_commands, slow.energy)


def test_trace_fingerprint_follows_the_requests_not_the_name(tmp_path):
    """cloud-2 copied to cloud-1.stl is another workload for a proxy made on cloud-1."""
    from archgym.standin import check_identity, simulator_identity

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "cloud-1.stl").write_text("0:\tread\t0x0\n1:\tread\t0x40\n")
    (b / "cloud-1.stl").write_text("0:\tread\t0x0\n1:\tread\t0x80\n")
    (b / "same.stl").write_text("# the same requests as a/cloud-1.stl\n0:  read 0x0\n\n1: read 64\n")
    sim_a, sim_b = DRAMSimulator("cloud-1", trace_dir=a), DRAMSimulator("cloud-1", trace_dir=b)
    assert sim_a.workload_label == sim_b.workload_label == "cloud-1"
    assert sim_a.workload.fingerprint() != sim_b.workload.fingerprint()
    assert load_trace(b / "same.stl").fingerprint() == sim_a.workload.fingerprint()
    assert _trace([0, 1], [0, 64], relative=True).fingerprint() != sim_a.workload.fingerprint()
    meta = {"simulator": simulator_identity(sim_a)}
    assert meta["simulator"]["workload_sha256"] == sim_a.workload.fingerprint()
    check_identity("p.npz", meta, sim_a, None, kind="proxy", remedy="retrain", error=ValueError)
    with pytest.raises(ValueError, match="other workload content"):
        check_identity("p.npz", meta, sim_b, None, kind="proxy", remedy="retrain", error=ValueError)


def test_serve_answers_each_design_line_like_evaluate():
    """``archgym serve``: one JSON line per design line, errors as lines, the loop goes on."""
    import subprocess
    import sys

    sim = DRAMSimulator("stream")
    good = sim.reference_config()
    other = sim.space.sample(3)
    lines = [json.dumps(good), "", "not json", json.dumps({**good, "PagePolicy": "Sideways"}), json.dumps(other)]
    out = subprocess.run([sys.executable, "-m", "archgym.cli", "serve", "DRAM-v0", "--workload", "stream"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    replies = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(replies) == 4
    assert replies[0] == sim.evaluate(good) and replies[3] == sim.evaluate(other)
    assert replies[1]["error"].startswith("line 3: not JSON")
    assert replies[2]["error"].startswith("line 4:") and "'Sideways'" in replies[2]["error"]

"""Accelerator-v0's memory side: operand placement and address mapping (every bank in use, exactly
DRAMSys with that mapping), and the idle tail's background energy (against the controller core
simulating the idle time, and monotone in the request stream)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from archgym.errors import UserInputError
from archgym.simulators.accelerator import MEMORIES, AcceleratorSimulator, write_stl
from archgym.simulators.accelerator.placement import MAPPINGS, PLACEMENTS, layout
from archgym.simulators.accelerator.serve import run_service
from archgym.simulators.accelerator.stream import split_channels
from archgym.simulators.dram import DRAMSimulator, run
from archgym.simulators.dram.knobs import DEFAULT_MCCONFIG, KNOBS
from archgym.simulators.dram.standards import load_standard
from archgym.simulators.dram.trace import Trace

SPECS = {m: load_standard(m) for m in MEMORIES}


def design(mem="ddr4-2400", channels=1, **knobs):
    cfg = {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "ifmap_sram_kb": 256, "filter_sram_kb": 256,
           "ofmap_sram_kb": 256, "act_buffer_kb": 0, "act_buffer_policy": "none", "memory": mem,
           "channels": channels}
    cfg.update({k: DEFAULT_MCCONFIG[k] for k in KNOBS})
    cfg.update(knobs)
    return cfg


def remapped_standard(spec, amap):
    """The standard with ``amap``'s fields as its DRAMSys address mapping (an independent decoder)."""
    raw = dict(spec.raw)
    raw["address_mapping"] = {"byte_bits": amap.byte_bits, "fields": [list(f) for f in amap.fields]}
    return load_standard(raw)


@pytest.mark.parametrize("mem", MEMORIES)
def test_interleaved_mapping_is_the_decoder_with_those_fields(mem):
    spec = SPECS[mem]
    amap = layout(spec).amap
    logical = (np.random.default_rng(1).integers(0, spec.capacity_bytes // 8, 5000) * 8).astype(np.uint64)
    want = remapped_standard(spec, amap).decode(logical)
    got = spec.decode(amap.device_addresses(logical))
    for w, g in zip(want, got):
        assert np.array_equal(w, g)
    # the bank bits sit right above the column bits: one row's bytes per bank, every bank per stripe
    bank, _, row = spec.decode(amap.device_addresses(np.arange(amap.banks, dtype=np.uint64) * amap.bank_bytes))
    assert sorted(bank) == list(range(spec.channel_banks)) and not row.any()
    assert layout(spec, "stock").device_addresses(logical) is not None
    assert np.array_equal(layout(spec, "stock").device_addresses(logical), logical)


def test_mappings_are_stated_per_standard():
    """DDR3/DDR4's stock mappings already interleave rows over the banks; LPDDR4's and HBM2's put
    the bank bits above the row bits."""
    desc = {m: (layout(SPECS[m]).amap.describe(), layout(SPECS[m], "stock").amap.describe()) for m in MEMORIES}
    assert desc["ddr3-1600"] == ("row:bank:column",) * 2
    assert desc["ddr4-2400"] == ("row:bank:bankgroup:column",) * 2
    assert desc["lpddr4-3200"] == ("row:bank:column", "bank:row:column")
    assert desc["hbm2"] == ("row:rank:bank:bankgroup:column", "rank:bankgroup:bank:row:column")


@pytest.mark.parametrize("mem", MEMORIES)
@pytest.mark.parametrize("mapping", MAPPINGS)
def test_staggered_regions_start_a_third_of_the_banks_apart_and_do_not_overlap(mem, mapping):
    spec = SPECS[mem]
    lay = layout(spec, mapping, "staggered")
    sizes = np.array([3 << 20, 5 << 19, 1 << 20, 1 << 20])
    bases = lay.bases(sizes)
    assert bases[3] == bases[2]
    assert bases[0] + sizes[0] <= bases[1] and bases[1] + sizes[1] <= bases[2]
    assert bases[2] + sizes[2] <= spec.capacity_bytes
    bank, _, _ = spec.decode(lay.device_addresses(bases[:3].astype(np.uint64)))
    want = [round(k * lay.amap.banks / 3) for k in range(3)]
    # the mapping's k-th bank in its own order is where region k starts
    order, _, _ = spec.decode(lay.device_addresses(np.arange(lay.amap.banks, dtype=np.uint64)
                                                   * lay.amap.bank_bytes))
    assert list(bank) == [int(order[w]) for w in want]


def banks_touched(sim, cfg):
    streams = sim.layer_streams(cfg)[1]
    spec = sim.spec(cfg["memory"])
    return max(len(np.unique(spec.decode(s.trace()[0].addresses)[0])) for s in streams if s.n_requests)


@pytest.mark.parametrize("mem", ["hbm2", "lpddr4-3200"])
def test_interleaved_layers_use_every_bank_where_the_stock_layout_used_one(mem):
    """The audit's finding (issue 27): with DRAMSys's stock HBM2/LPDDR4 mapping and 1 MiB regions a
    BERT layer touches one bank; the default layout spreads it over all of them."""
    cfg = design(mem)
    old = AcceleratorSimulator("bert_base_layer", address_mapping="stock", placement="mib")
    new = AcceleratorSimulator("bert_base_layer")
    assert banks_touched(old, cfg) == 1
    assert banks_touched(new, cfg) == SPECS[mem].channel_banks


@pytest.mark.parametrize("mem, mapping, placement", [("hbm2", "interleaved", "staggered"),
                                                     ("lpddr4-3200", "stock", "staggered"),
                                                     ("hbm2", "interleaved", "packed")])
def test_remapped_layer_equals_dram_v0_with_that_mapping(tmp_path, mem, mapping, placement):
    """The accelerator's stream (logical addresses) through DRAM-v0 configured with the chosen
    mapping as its address mapping gives exactly the accelerator's service."""
    sim = AcceleratorSimulator("resnet18", address_mapping=mapping, placement=placement)
    cfg = design(mem, 2, PagePolicy="OpenAdaptive", Scheduler="FrFcfs")
    whole = sim.layer_streams(cfg)[1][7]
    stream = split_channels(whole, 2)[0]
    tr, _ = stream.trace()
    mc = {k: cfg[k] for k in KNOBS}
    ours = run(sim.spec(mem), tr, mc)
    lay = stream.layout
    tr_log, _ = type(stream)(stream.counts, stream.L, stream.cycle_ns, stream.burst_bytes, stream.player_ns,
                             stream.bases, stream.region_bytes, stream.Fr, None).trace()
    std = remapped_standard(sim.spec(mem), lay.amap)
    path = write_stl(tr_log, tmp_path / "layer.stl")
    theirs = DRAMSimulator(workload=str(path), memory=std).simulate(mc)
    assert ours.metrics() == theirs.metrics()
    assert np.array_equal(ours.complete_ns, theirs.complete_ns)


def test_layout_options_are_checked_in_one_line():
    for kw, name in (({"address_mapping": "xor"}, "address_mapping"), ({"placement": "random"}, "placement")):
        with pytest.raises(UserInputError, match=name) as e:
            AcceleratorSimulator("bert_base_layer", **kw)
        assert "\n" not in str(e.value) and "allowed" in str(e.value)


def test_layouts_are_options_of_the_env():
    for mapping in MAPPINGS:
        for placement in PLACEMENTS:
            r = AcceleratorSimulator("bert_base_layer", address_mapping=mapping, placement=placement).evaluate(
                design("hbm2"))
            assert r["feasible"] and r["latency_ns"] > 0


# -- idle tail ---------------------------------------------------------------------------------
POLICIES = [{"PagePolicy": pp, "RefreshPolicy": rf, "PowerDownPolicy": pd}
            for pp in ("Open", "Closed", "OpenAdaptive", "ClosedAdaptive")
            for rf in ("AllBank", "NoRefresh") for pd in ("NoPowerDown", "Staggered")]


def random_trace(spec, n, seed, span=2000):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.integers(0, span, n))
    addr = (rng.integers(0, 1 << 16, n) * spec.burst_bytes).astype(np.uint64)
    return Trace(times, rng.integers(0, 2, n).astype(np.int8), addr)


@pytest.mark.parametrize("mem", MEMORIES)
@pytest.mark.parametrize("mc", POLICIES, ids=lambda m: "-".join(m.values()))
def test_idle_tail_matches_the_core_simulating_the_idle_time(mem, mc):
    """Idle-tail energy against the controller core run over the same idle time (the trace plus
    one request 300k player cycles later, its energy up to that request's arrival): within 2 %
    (measured with DRAM-v0 1.2: 0.02-1.4 % with refresh -- the model puts the tail's refreshes on
    the tREFI grid, pulls RefreshMaxPulledin in at the first, and closes open rows there; it
    leaves out each refresh's power-down exit --, < 0.1 % without)."""
    spec = SPECS[mem]
    tr = random_trace(spec, 200, 0)
    a = run(spec, tr, mc)
    T = int(tr.times[-1]) + 300_000
    b = run(spec, Trace(np.r_[tr.times, T], np.r_[tr.is_write, 0].astype(np.int8),
                        np.r_[tr.addresses, tr.addresses[-1]].astype(np.uint64)), mc)
    layer_ns = float(b.send_ns[-1])
    svc = run_service(a, spec, mc)
    # the core pulls refreshes in over the idle time (DRAM-v0 >= 1.2); a layer is not charged for
    # them, but to compare with the core's continuous run the model counts them too
    svc = dataclasses.replace(svc, idle=dataclasses.replace(svc.idle, pull_in=DEFAULT_MCCONFIG["RefreshMaxPulledin"]))
    model = svc.energy_pj(layer_ns) - svc.dynamic_pj - svc.busy_background_pj
    e = b.energy
    core = e.background_pj + e.refresh_pj + e.powerdown_pj - svc.busy_background_pj
    assert model == pytest.approx(core, rel=0.02 if mc["RefreshPolicy"] == "AllBank" else 1e-3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MEMORIES), st.sampled_from(POLICIES), st.sampled_from(["Fifo", "FrFcfs"]),
       st.integers(2, 60), st.integers(0, 2**31), st.floats(0.0, 1.0), st.integers(0, 50_000))
@example("lpddr4-3200", {"PagePolicy": "Open", "RefreshPolicy": "AllBank", "PowerDownPolicy": "NoPowerDown"},
         "Fifo", 4, 4, 0.0, 0)      # CI found it: the full run postponed a refresh the tail then dropped
@example("ddr3-1600", {"PagePolicy": "Open", "RefreshPolicy": "AllBank", "PowerDownPolicy": "NoPowerDown"},
         "Fifo", 10, 113476, 0.5, 0)  # the sparser run pulled 8 refreshes in (DRAM-v0 1.2)
def test_layer_energy_never_rises_for_a_subset_of_its_requests(mem, mc, sched, n, seed, keep, extra_ns):
    """A layer's DRAM energy never rises when its request stream is a subset of another's at the
    same layer time (requests spaced so that no two queue behind each other), up to 1 %: the
    run's pulled-in refreshes are taken off and the idle tail is charged analytically, each
    within the idle-tail test's 2 % of the core (found: HBM2, Closed, Staggered, two requests
    and one of them, +0.3 %; worst of 2,500 random cases +0.5 %)."""
    spec = SPECS[mem]
    rng = np.random.default_rng(seed)
    gap = 400 * spec.trace_player_mhz / 1e3                      # 400 ns in player cycles
    times = np.cumsum(rng.integers(int(gap), int(3 * gap), n))
    addr = (rng.integers(0, 1 << 14, n) * spec.burst_bytes).astype(np.uint64)
    writes = rng.integers(0, 2, n).astype(np.int8)
    sub = rng.random(n) < keep
    sub[0] = True
    mc = {**mc, "Scheduler": sched}
    full = run(spec, Trace(times, writes, addr), mc)
    part = run(spec, Trace(times[sub], writes[sub], addr[sub]), mc)
    layer_ns = max(full.energy.window_ns, part.energy.window_ns) + extra_ns
    e_full = run_service(full, spec, mc).energy_pj(layer_ns)
    e_part = run_service(part, spec, mc).energy_pj(layer_ns)
    assert e_part <= e_full * 1.01


def test_a_large_activation_buffer_no_longer_raises_dram_energy():
    """Issue 27's example: a 1 MiB activation buffer cut traffic 4.5 % and ACTs 6 % but raised DRAM
    energy 1.9 % (the busy start's background power charged over the idle layer)."""
    cfg = {"array_rows": 4, "array_cols": 4, "dataflow": "is", "ifmap_sram_kb": 32, "filter_sram_kb": 1024,
           "ofmap_sram_kb": 512, "act_buffer_kb": 0, "act_buffer_policy": "belady", "memory": "ddr4-2400",
           "channels": 2, "PagePolicy": "ClosedAdaptive", "Scheduler": "FrFcfsGrp", "SchedulerBuffer": "ReadWrite",
           "RequestBufferSize": 8, "RespQueue": "Reorder", "RefreshPolicy": "NoRefresh", "RefreshMaxPostponed": 4,
           "RefreshMaxPulledin": 8, "Arbiter": "Reorder", "MaxActiveTransactions": 2}
    sim = AcceleratorSimulator("resnet18")
    det0 = sim.evaluate_details(cfg)
    det1 = sim.evaluate_details({**cfg, "act_buffer_kb": 1024})
    assert det1["dram_requests"].sum() < det0["dram_requests"].sum()
    fewer = det1["dram_requests"] <= det0["dram_requests"]
    same_time = det1["cycles"] == det0["cycles"]
    assert (det1["dram_energy_pj"][fewer & same_time] <= det0["dram_energy_pj"][fewer & same_time] + 1e-6).all()
    assert det1["dram_energy_pj"].sum() < det0["dram_energy_pj"].sum()

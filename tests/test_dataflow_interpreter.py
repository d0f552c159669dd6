"""The analytical counts equal a literal loop-nest interpreter on random small problems, both reuse modes.

The random cases cover container levels (nested fan-outs, multicast counted level by level), bypass,
Timeloop's partition chain, and bandwidths (cycles under Timeloop's throttling)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archgym.simulators.dataflow import (Architecture, DataSpace, Fanout, LevelMapping, Mapping, Problem,
                                         StorageLevel, analyze)
from archgym.simulators.dataflow.arch import dummy_level
from archgym.simulators.dataflow.mapping import nest_of
from archgym.simulators.dataflow.mapping_space import prime_factors
from archgym.simulators.dataflow.costs import costs
from dataflow_interpreter import interpret, throttled_cycles


def random_case(seed: int):
    """A random small problem (a sliding-window data dimension included), hierarchy and mapping."""
    rng = np.random.default_rng(seed)
    dims = ["A", "B", "C"][: int(rng.integers(2, 4))]
    bounds = {d: int(rng.choice([1, 2, 3, 4, 6])) for d in dims}
    perm = list(rng.permutation(dims))
    w = DataSpace("W", tuple(((d, 1),) for d in perm if rng.random() < 0.6) or (((perm[0], 1),),))
    slide = (perm[0], int(rng.integers(1, 3))), (perm[1], int(rng.integers(1, 3)))
    i = DataSpace("I", (slide,) + tuple(((d, 1),) for d in perm[2:] if rng.random() < 0.5))
    o = DataSpace("O", tuple(((d, 1),) for d in perm[1:] if rng.random() < 0.7) or (((perm[-1], 1),),), True)
    problem = Problem("rand", tuple(dims), bounds, (w, i, o))
    L = int(rng.integers(1, 5))
    # levels past the backing store may be containers' levels (dummy: hold nothing, carry a fan-out),
    # so nested fan-outs between two data levels occur
    dummy = [k > 0 and rng.random() < 0.3 for k in range(L)]
    bw = lambda: float(rng.choice([0.25, 0.5, 1.0, 2.0, 8.0])) if rng.random() < 0.35 else None  # noqa: E731
    levels = tuple(dummy_level(f"inter_F{k}_spatial") if dummy[k] else
                   StorageLevel(f"L{k}", "DRAM" if k == 0 else "SRAM", read_bw=bw(), write_bw=bw(), shared_bw=bw())
                   for k in range(L))
    fanouts = tuple(Fanout(f"F{k}", int(rng.integers(1, 4)), int(rng.integers(1, 3)))
                    if dummy[k] or rng.random() < 0.6 else None for k in range(L))
    arch = Architecture("rand", levels, fanouts)
    slots = [(k, "t") for k in range(L)] + [(k, a) for k in range(L) if fanouts[k] is not None for a in "xy"]
    fac = {s: {} for s in slots}
    for d in dims:
        for p in prime_factors(bounds[d]):
            s = slots[int(rng.integers(len(slots)))]
            fac[s][d] = fac[s].get(d, 1) * p
    lms = []
    for k in range(L):
        keep = None if k == 0 else frozenset() if dummy[k] else \
            frozenset(ds.name for ds in problem.dataspaces if rng.random() < 0.7)
        lms.append(LevelMapping(fac[(k, "t")], tuple(rng.permutation(dims)), fac.get((k, "x"), {}),
                                fac.get((k, "y"), {}), keep))
    return problem, arch, Mapping(tuple(lms))


def _check(seed: int, mode: str) -> None:
    problem, arch, mapping = random_case(seed)
    mapping.check(problem, arch)
    got = analyze(problem, arch, nest_of([mapping], problem, arch), mode)
    want = interpret(problem, arch, mapping, mode)
    cycles, slowest = throttled_cycles(problem, arch, mapping, want)
    metrics = costs(arch, got, problem.macs)
    assert metrics["cycles"][0] == cycles and metrics["throttling"][0] == pytest.approx(slowest), (seed, mode)
    names = [ds.name for ds in problem.dataspaces]
    for (level, dsn), row in want.items():
        lv, s = arch.level_index(level), names.index(dsn)
        mine = {"reads": got["reads"][0, lv, s], "fills": got["fills"][0, lv, s],
                "updates": got["updates"][0, lv, s], "capacity": got["capacity"][0, lv, s],
                "instances": got["instances"][0, lv]}
        assert {k: int(v) for k, v in mine.items()} == row, (seed, mode, level, dsn)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10 ** 9))
def test_exact_mode_equals_interpreter(seed):
    _check(seed, "exact")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10 ** 9))
def test_timeloop_mode_equals_interpreter(seed):
    _check(seed, "timeloop")


def test_random_cases_exercise_fanouts_bypass_and_both_reuse_rules():
    """The generator is not vacuous: fan-outs in use, bypassed levels, and cases where the two modes differ."""
    spatial = bypass = differ = nested = throttled = 0
    for seed in range(40):
        problem, arch, mapping = random_case(seed)
        used = [any(v > 1 for v in [*lm.spatial_x.values(), *lm.spatial_y.values()]) for lm in mapping.levels]
        spatial += any(used)
        nested += any(used[a] and used[b] and all(lv.is_dummy for lv in arch.levels[a + 1:b + 1])
                      for a in range(len(used)) for b in range(a + 1, len(used)))
        bypass += any(lm.keep is not None and len(lm.keep) < len(problem.dataspaces) for lm in mapping.levels)
        want = interpret(problem, arch, mapping, "exact")
        differ += want != interpret(problem, arch, mapping, "timeloop")
        throttled += throttled_cycles(problem, arch, mapping, want)[1] < 1
    assert spatial >= 10 and bypass >= 10 and differ >= 5 and nested >= 3 and throttled >= 5, \
        (spatial, bypass, differ, nested, throttled)

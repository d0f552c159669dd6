"""The analytical counts equal a literal loop-nest interpreter on random small problems, both reuse modes.

The random cases cover container levels (nested fan-outs, multicast counted level by level), bypass,
Timeloop's partition chain, and bandwidths (cycles under Timeloop's throttling); the imperfect cases
add Timeloop's residual factors (``reuse=exact``: the interpreter runs the partial last iterations)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archgym.simulators.dataflow import (Architecture, DataSpace, Fanout, LevelMapping, Mapping, Problem,
                                         StorageLevel, analyze)
from archgym.simulators.dataflow.arch import dummy_level
from archgym.simulators.dataflow.mapping import mapping_of, nest_of, structural_reasons
from archgym.simulators.dataflow.residual import covered, imperfect_rows
from archgym.simulators.dataflow.mapping_space import MappingSpace, prime_factors
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


def random_imperfect_case(seed: int):
    """:func:`random_case` with residuals: some temporal loops outside every spatial loop of their dimension
    grow by 0-2 iterations and get a random residual end; the bounds become what the loops cover."""
    problem, arch, mapping = random_case(seed)
    rng = np.random.default_rng(seed + 1)
    levels = []
    spatial_above: set = set()
    for lm in mapping.levels:
        temporal, residual = dict(lm.temporal), {}
        for d in problem.dims:
            if d not in spatial_above and rng.random() < 0.5:
                e = temporal.get(d, 1) + int(rng.integers(0, 3))
                if e > 1:
                    temporal[d] = e
                    residual[d] = int(rng.integers(1, e + 1))
        order = tuple(lm.order) + tuple(d for d in problem.dims if d not in lm.order)
        levels.append(LevelMapping(temporal, order, lm.spatial_x, lm.spatial_y, lm.keep, residual))
        spatial_above |= {d for d, f in {**(lm.spatial_x or {}), **(lm.spatial_y or {})}.items() if f > 1}
    mapping = Mapping(tuple(levels))
    cov = covered(nest_of([mapping], problem, arch))[0]
    bounds = {d: int(c) for d, c in zip(problem.dims, cov)}
    return Problem(problem.name, problem.dims, bounds, problem.dataspaces), arch, mapping


def _check(seed: int, mode: str, case=random_case) -> None:
    problem, arch, mapping = case(seed)
    _compare(problem, arch, mapping, mode, seed)


def _compare(problem, arch, mapping, mode: str, seed: int) -> None:
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


@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10 ** 9))
def test_residual_factors_equal_interpreter(seed):
    """Imperfect mappings (nested fan-outs, bypass, bandwidth limits included) count exactly what the
    interpreter counts when it runs every partial last iteration."""
    _check(seed, "exact", random_imperfect_case)


def test_imperfect_cases_are_imperfect():
    """The imperfect generator is not vacuous: residuals that change the counts, next to fan-outs and limits."""
    resid = nested = throttled = changed = 0
    for seed in range(60):
        problem, arch, mapping = random_imperfect_case(seed)
        res = [d for lm in mapping.levels for d, r in (lm.residual or {}).items() if r != lm.temporal.get(d, 1)]
        resid += bool(res)
        if res:
            used = [any(v > 1 for v in [*lm.spatial_x.values(), *lm.spatial_y.values()]) for lm in mapping.levels]
            nested += any(used[a] and used[b] and all(lv.is_dummy for lv in arch.levels[a + 1:b + 1])
                          for a in range(len(used)) for b in range(a + 1, len(used)))
            want = interpret(problem, arch, mapping, "exact")
            throttled += throttled_cycles(problem, arch, mapping, want)[1] < 1
            padded = Mapping(tuple(LevelMapping(lm.temporal, lm.order, lm.spatial_x, lm.spatial_y, lm.keep)
                                   for lm in mapping.levels))
            big = Problem(problem.name, problem.dims, {d: int(c) for d, c in zip(
                problem.dims, covered(nest_of([padded], problem, arch))[0])}, problem.dataspaces)
            changed += interpret(big, arch, padded, "exact") != want
    assert resid >= 30 and nested >= 3 and throttled >= 5 and changed >= 20, (resid, nested, throttled, changed)


def test_timeloop_mode_refuses_residuals_in_one_line():
    from archgym.errors import UserInputError

    for seed in range(40):
        problem, arch, mapping = random_imperfect_case(seed)
        if any(r != lm.temporal.get(d, 1) for lm in mapping.levels for d, r in (lm.residual or {}).items()):
            with pytest.raises(UserInputError, match="reuse=exact only"):
                analyze(problem, arch, nest_of([mapping], problem, arch), "timeloop")
            return
    raise AssertionError("no imperfect case")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10 ** 9))
def test_imperfect_mapping_space_designs_equal_interpreter(seed):
    """``MappingSpace(imperfect=True)`` decodes designs whose loops cover the bounds (Timeloop's formula) and
    whose imperfect mappings count what the interpreter counts."""
    problem, arch, _ = random_case(seed)
    ms = MappingSpace(problem, arch, imperfect=True)
    rng = np.random.default_rng(seed)
    nest = ms.nest(np.stack([rng.integers(0, n, 6) for n in ms.space.nvec], axis=1))
    reasons = structural_reasons(problem, arch, nest)
    assert not any("cover" in r or "multiply" in r for r in reasons), reasons
    for i in imperfect_rows(nest):
        if not reasons[i]:
            _compare(problem, arch, mapping_of(nest, int(i), problem, arch), "exact", seed)


def test_imperfect_space_is_an_option():
    """Off by default (the perfect-only space and its parameters, unchanged); on, it adds one ``resid_<dim>`` per
    free dimension and decodes some designs with residuals."""
    with_resid = decoded = 0
    for seed in range(12):
        problem, arch, _ = random_case(seed)
        plain, imp = MappingSpace(problem, arch), MappingSpace(problem, arch, imperfect=True)
        assert not [n for n in plain.names if n.startswith("resid_")]
        assert [n for n in imp.names if not n.startswith("resid_")] == plain.names
        with_resid += any(n.startswith("resid_") for n in imp.names)
        rng = np.random.default_rng(0)
        decoded += imperfect_rows(imp.nest(np.stack([rng.integers(0, n, 50) for n in imp.space.nvec], axis=1))).size
    assert with_resid >= 5 and decoded >= 20, (with_resid, decoded)


def test_residuals_outside_the_class_model_are_infeasible_with_a_reason():
    """A residual inside a spatial loop of a dimension that shares a data index with another (a sliding
    window) is outside the model: a hand-built nest with one is rejected before the counts, naming it."""
    from archgym.simulators.dataflow.evaluate import evaluate_nest

    for seed in range(200):
        problem, arch, mapping = random_case(seed)
        nest = nest_of([mapping], problem, arch)
        sf = nest.sx[0] * nest.sy[0]
        multi = {problem.dims.index(d) for ds in problem.dataspaces for dd in ds.projection if len(dd) > 1
                 for d, _ in dd}
        hit = [(lv, d) for lv in range(1, sf.shape[0]) for d in multi
               if np.any(sf[:lv, d] > 1) and not arch.levels[lv].is_dummy]
        if hit:
            lv, d = hit[0]
            nest.tf[0, lv, d] += 1
            nest.rt = nest.tf.copy()
            nest.rt[0, lv, d] = 1
            problem = Problem(problem.name, problem.dims, {dd: int(c) for dd, c in zip(problem.dims, covered(nest)[0])},
                              problem.dataspaces)
            _, reasons, _ = evaluate_nest(problem, arch, nest)
            assert "sliding window" in reasons[0] and repr(problem.dims[d]) in reasons[0], reasons[0]
            return
    raise AssertionError("no case with a spatial loop above a data level")

def random_spatial_case(seed: int):
    """:func:`random_case` with residuals anywhere the class model covers: spatial loops grow by 0-2
    instances and get a random residual end (fewer instances in the last iteration), temporal loops
    (also below a spatial loop of their dimension) likewise; a dimension whose residuals fall outside
    the model (two splitting fan-outs, a sliding-window index) is made perfect again.  The bounds become
    what the loops cover."""
    from archgym.simulators.dataflow.residual import unsupported_residuals

    problem, arch, mapping = random_case(seed)
    rng = np.random.default_rng(seed + 2)
    if rng.random() < 0.5:  # half the cases without the sliding window, so every dimension may split
        ds = [DataSpace(d.name, tuple(dd[:1] for dd in d.projection), d.read_write) for d in problem.dataspaces]
        problem = Problem(problem.name, problem.dims, problem.bounds, tuple(ds))
    levels = []
    for lm, fan in zip(mapping.levels, arch.fanouts):
        temporal, residual, sx, sres = dict(lm.temporal), {}, dict(lm.spatial_x or {}), {}
        for d in problem.dims:
            if rng.random() < 0.4:
                e = temporal.get(d, 1) + int(rng.integers(0, 3))
                if e > 1:
                    temporal[d], residual[d] = e, int(rng.integers(1, e + 1))
            used = sx.get(d, 1) > 1 or (lm.spatial_y or {}).get(d, 1) > 1
            if (used and rng.random() < 0.7) or (fan is not None and not used and rng.random() < 0.3):
                sx[d] = sx.get(d, 1) + int(rng.integers(0 if used else 1, 3))
                n = sx[d] * (lm.spatial_y or {}).get(d, 1)
                sres[d] = int(rng.integers(1, n + 1))
        order = tuple(lm.order) + tuple(d for d in problem.dims if d not in lm.order)
        levels.append(LevelMapping(temporal, order, sx, lm.spatial_y, lm.keep, residual, sres))
    mapping = Mapping(tuple(levels))
    for _ in range(len(problem.dims)):
        bad = unsupported_residuals(problem, arch, nest_of([mapping], problem, arch))
        if not bad:
            break
        d = next(d for d in problem.dims if repr(d) in bad[0])
        mapping = Mapping(tuple(LevelMapping(lm.temporal, lm.order, lm.spatial_x, lm.spatial_y, lm.keep,
                                             {k: v for k, v in (lm.residual or {}).items() if k != d},
                                             {k: v for k, v in (lm.spatial_residual or {}).items() if k != d})
                                for lm in mapping.levels))
    cov = covered(nest_of([mapping], problem, arch))[0]
    bounds = {d: int(c) for d, c in zip(problem.dims, cov)}
    return Problem(problem.name, problem.dims, bounds, problem.dataspaces), arch, mapping


def _compare_instances(problem, arch, mapping, seed: int) -> None:
    """Counts per busy instance: the model's classes sum to the interpreter's instances, and the energy
    (vector accesses per instance, the default table) equals the interpreter's."""
    from archgym.simulators.dataflow.ert import default_table

    nest = nest_of([mapping], problem, arch)
    got = analyze(problem, arch, nest, "exact")
    metrics = costs(arch, got, problem.macs)
    _, every = interpret(problem, arch, mapping, "exact", per_instance=True)
    names = [ds.name for ds in problem.dataspaces]
    table = default_table(arch)
    energy = float(problem.macs) * table.compute_pj
    for (level, dsn), rows in every.items():
        lv, s = arch.level_index(level), names.index(dsn)
        total = {k: sum(r[k] for r in rows) for k in ("reads", "fills", "updates")}
        if "classes" in got:
            mine = {k: int(sum(c[0] * c[1 + q][s] for c in got["classes"][0][lv]))
                    for q, k in enumerate(("reads", "fills", "updates"))}
        else:
            mine = {k: int(got[k][0, lv, s] * got["instances"][0, lv]) for k in total}
        assert mine == total, (seed, level, dsn)
        e, b = table.storage[level], arch.levels[lv].block_words
        energy += sum(-(-r["reads"] // b) * e["read"] + -(-r["fills"] // b) * e["fill"]
                      + -(-r["updates"] // b) * e["update"] for r in rows)
    for lv, level in enumerate(arch.levels):
        if not level.is_dummy:
            energy += table.storage[level.name]["leak"] * metrics["cycles"][0] * got["instances"][0, lv]
    assert metrics["energy_pj"][0] == pytest.approx(energy, rel=1e-12), seed


@settings(max_examples=80, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10 ** 9))
def test_spatial_residuals_equal_interpreter(seed):
    """Spatial residuals (fewer instances in the last iteration) and temporal residuals inside a spatial loop
    of their dimension: the first instance's counts, cycles and throttling, the busy instances, every
    instance's counts summed and the energy equal the interpreter's (nested fan-outs, bypass, bandwidth)."""
    problem, arch, mapping = random_spatial_case(seed)
    _compare(problem, arch, mapping, "exact", seed)
    _compare_instances(problem, arch, mapping, seed)


def test_spatial_cases_split_instances():
    """The spatial generator is not vacuous: instances that differ, next to nested fan-outs and limits."""
    from archgym.simulators.dataflow.residual_classes import split_rows

    split = spatial = nested = throttled = idle = 0
    for seed in range(60):
        problem, arch, mapping = random_spatial_case(seed)
        nest = nest_of([mapping], problem, arch)
        if not split_rows(nest).size:
            continue
        split += 1
        spatial += bool(nest.rs is not None and np.any(nest.rs != nest.sx * nest.sy))
        used = [any(v > 1 for v in [*lm.spatial_x.values(), *lm.spatial_y.values()]) for lm in mapping.levels]
        nested += any(used[a] and used[b] and all(lv.is_dummy for lv in arch.levels[a + 1:b + 1])
                      for a in range(len(used)) for b in range(a + 1, len(used)))
        want = interpret(problem, arch, mapping, "exact")
        throttled += throttled_cycles(problem, arch, mapping, want)[1] < 1
        idle += any(r["instances"] < int(np.prod([1] + [
            (lm.spatial_x or {}).get(d, 1) * (lm.spatial_y or {}).get(d, 1)
            for lm in mapping.levels[:arch.level_index(k[0])] for d in problem.dims])) for k, r in want.items())
    assert split >= 25 and spatial >= 20 and nested >= 3 and throttled >= 5 and idle >= 5, \
        (split, spatial, nested, throttled, idle)

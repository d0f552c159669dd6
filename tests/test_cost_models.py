"""Proxy cost models: accuracy on known functions, exact flattening, safe checked files, env use."""
import io
import json
import os
import pickle
import zipfile

import gymnasium
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

import archgym
from archgym.pipeline import run_trial
from archgym.trial import Trial
from archgym.cost_models import (Dataset, DatasetError, ProxyFileError, ProxyMismatchError, ProxyModel,
                                 ProxyModelError, ProxySimulator, dataset_from_simulator, dataset_from_store,
                                 file_hash, sample_designs, score_proxy)
from archgym.cost_models.forest import flatten
from archgym.cost_models.proxy_file import _digest
from archgym.env import BudgetExhausted
from archgym.errors import UserInputError
from archgym.features import SpaceEncoder
from archgym.store import Store


@pytest.fixture(scope="module")
def toy():
    from archgym.testing import ToySimulator

    return ToySimulator()


@pytest.fixture(scope="module")
def toy_data(toy):
    return dataset_from_simulator(toy, 400, seed=0, method="lhs")


@pytest.fixture(scope="module")
def proxy_file(toy, toy_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("proxy") / "toy.npz"
    proxy = ProxySimulator.train(toy, toy_data, n_estimators=60)
    proxy.save(path)
    return proxy, path


def test_flattened_ensembles_predict_exactly_like_scikit_learn():
    from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor, RandomForestRegressor

    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    y = 3 * X[:, 0] + np.sin(6 * X[:, 1]) + (X[:, 2] > 0.5)
    models = [ExtraTreesRegressor(20, random_state=0).fit(X, y), RandomForestRegressor(20, random_state=0).fit(X, y),
              HistGradientBoostingRegressor(max_iter=40).fit(X, y)]
    flat = flatten(models, 4)
    Xt = rng.random((200, 4))
    mean, spread = flat.predict(Xt)
    for j, m in enumerate(models):
        np.testing.assert_allclose(mean[:, j], m.predict(Xt), rtol=0, atol=1e-12)
    per_tree = np.stack([t.predict(Xt) for t in models[0].estimators_])
    np.testing.assert_allclose(spread[:, 0], per_tree.std(axis=0), atol=1e-12)
    assert np.all(spread[:, 2] == 0)  # boosting has no per-tree spread


def test_fast_features_equal_the_core_encoder(toy, proxy_file):
    proxy, _ = proxy_file
    idx = toy.space.sample_indices(3, 50)
    np.testing.assert_array_equal(proxy.model.features(idx), SpaceEncoder(toy.space).transform(idx))


def test_proxy_of_known_analytical_function_reaches_stated_error(toy, toy_data):
    """Toy: cost = (x-7)^2 + (log2 y - 3)^2 + penalty[mode], area = x + log2 y;
    300 of 400 LHS designs to train, 100 held out: RMSE <= 6 % (cost) and <= 1.5 % (area) of the mean."""
    train, test = toy_data.split(0.25, seed=1)
    proxy = ProxySimulator.train(toy, train)
    s = score_proxy(proxy, toy, test, n_timing=5, repeats=1)
    assert s["feasibility_accuracy"] >= 0.97
    assert s["metrics"]["cost"]["rmse_pct"] <= 6.0
    assert s["metrics"]["area"]["rmse_pct"] <= 1.5
    assert s["metrics"]["cost"]["kendall_tau"] >= 0.9
    assert s["metrics"]["cost"]["r2"] >= 0.99
    assert 0 <= s["metrics"]["cost"]["top_k_recall"] <= 1
    assert s["speed"]["proxy_batch_designs_per_s"] > 0


def test_save_load_round_trip_is_bit_for_bit(toy, toy_data, proxy_file, tmp_path):
    proxy, path = proxy_file
    loaded = ProxySimulator.load(path, toy)
    configs = [toy.space.decode(i) for i in toy.space.grid_indices()]
    a, b = proxy.evaluate_batch(configs), loaded.evaluate_batch(configs)
    assert a.equals(b)
    assert [proxy.evaluate(c) for c in configs[:30]] == [loaded.evaluate(c) for c in configs[:30]]
    # same proxy, same bytes: the content hash identifies it
    again = tmp_path / "again.npz"
    loaded.save(again)
    assert file_hash(again) == file_hash(path) == loaded.content_hash
    assert loaded.content_hash[:12] in loaded.version
    assert loaded.provenance["method"] == "lhs" and loaded.provenance["n_train"] == len(toy_data)


def _variant(toy, **changes):
    from archgym.testing import ToySimulator

    cls = type("ToyVariant", (ToySimulator,), {k: v for k, v in changes.items() if k in ("name", "version")})
    sim = cls()
    if "workload" in changes:
        sim.workload = changes["workload"]
    if "space" in changes:
        from archgym.space import Categorical, DesignSpace, Integer, powers_of_two

        sim.space = DesignSpace([Integer("x", 0, 21), powers_of_two("y", 1, 64), Categorical("mode", ["a", "b", "c"])])
    return sim


@pytest.mark.parametrize("change, words", [
    ({"name": "Other"}, "simulator 'Toy', not 'Other'"),
    ({"version": "2"}, "simulator version '1', not '2'"),
    ({"space": True}, "design space"),
    ({"workload": "other"}, "workload 'default', not 'other'"),
])
def test_mismatched_simulator_version_space_workload_refused(toy, proxy_file, change, words):
    _, path = proxy_file
    with pytest.raises(ProxyMismatchError, match=words) as exc:
        ProxySimulator.load(path, _variant(toy, **change))
    assert isinstance(exc.value, UserInputError) and "\n" not in str(exc.value)


def test_mismatched_options_refused_through_the_registry(toy_registered, proxy_file):
    _, path = proxy_file
    env = archgym.make(toy_registered, backend=str(path))  # trained with no options: fine
    sim = env.simulator  # the stand-in protocol: the real name, what it stands in for, a version naming the file
    assert sim.name == sim.stands_in_for == "Toy" and sim.batch_friendly
    assert sim.version == f"1+proxy.{sim.content_hash[:12]}"
    with pytest.raises(ProxyMismatchError, match="options"):
        archgym.make(toy_registered, backend=str(path), offset=1.0)
    with pytest.raises(UserInputError, match="no such file"):
        archgym.make(toy_registered, backend=str(path) + ".missing")


def _rewrite(path, out, edit_meta=None, edit_arrays=None, fix_digest=False):
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        arrays = {n[:-4]: np.lib.format.read_array(io.BytesIO(zf.read(n))) for n in zf.namelist() if n.endswith(".npy")}
        digest = zf.read("SHA256")
    if edit_meta:
        edit_meta(meta)
    if edit_arrays:
        edit_arrays(arrays)
    meta_bytes = json.dumps(meta).encode()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("meta.json", meta_bytes)
        for k, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a, allow_pickle=True)
            zf.writestr(f"{k}.npy", buf.getvalue())
        zf.writestr("SHA256", _digest(meta_bytes, arrays).encode() if fix_digest else digest)  # noqa


class _Bomb:
    def __reduce__(self):
        return (os.system, ("touch BOOM_executed",))


def test_tampered_or_foreign_files_refused_without_executing(toy, proxy_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, path = proxy_file
    cases = {}
    cases["pickle"] = tmp_path / "evil.pkl"
    cases["pickle"].write_bytes(pickle.dumps(_Bomb()))
    cases["garbage"] = tmp_path / "garbage.npz"
    cases["garbage"].write_bytes(os.urandom(2000))
    cases["plain npz"] = tmp_path / "plain.npz"
    np.savez(cases["plain npz"], a=np.arange(3))
    cases["edited value"] = tmp_path / "edited.npz"
    _rewrite(path, cases["edited value"], edit_arrays=lambda a: a["value"].__setitem__(0, 1e9))
    cases["edited meta"] = tmp_path / "meta.npz"
    _rewrite(path, cases["edited meta"], edit_meta=lambda m: m["simulator"].update(version="9"))
    cases["object array"] = tmp_path / "obj.npz"
    _rewrite(path, cases["object array"], edit_arrays=lambda a: a.__setitem__("seen", np.array([_Bomb()], dtype=object)))
    # a consistent digest does not make a malformed tree acceptable (the compiled walk has no bounds checks)
    cases["bad child ids"] = tmp_path / "cycle.npz"
    _rewrite(path, cases["bad child ids"], edit_arrays=lambda a: a["left"].__setitem__(0, 0), fix_digest=True)
    cases["bad feature"] = tmp_path / "feature.npz"
    _rewrite(path, cases["bad feature"], edit_arrays=lambda a: a["feature"].__setitem__(0, 10_000), fix_digest=True)
    for label, p in cases.items():
        with pytest.raises(ProxyFileError) as exc:
            ProxySimulator.load(p, toy)
        assert "\n" not in str(exc.value), label
    assert not (tmp_path / "BOOM_executed").exists()


def test_any_single_bit_flip_is_refused_in_one_line(toy, proxy_file, tmp_path):
    """Issue 22: 162 of 4,000 random single-bit flips of a small proxy file gave a zlib.error
    traceback.  Every flip (300 random positions, seeded) either leaves a file that loads and
    predicts exactly as before (a flip in zip padding or an unused header field) or is a
    ProxyFileError in one line."""
    proxy, path = proxy_file
    data = path.read_bytes()
    rng = np.random.default_rng(22)
    cfgs = [toy.space.sample(rng) for _ in range(5)]
    want = [proxy.evaluate(c) for c in cfgs]
    refused = 0
    for i, pos in enumerate(rng.integers(0, len(data), 300)):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        p = tmp_path / f"flip{i}.npz"
        p.write_bytes(bytes(bad))
        try:
            loaded = ProxySimulator.load(p, toy)
        except ProxyFileError as exc:
            assert "\n" not in str(exc)
            refused += 1
            continue
        assert [loaded.evaluate(c) for c in cfgs] == want, f"byte {pos}"
    assert refused > 250


def test_proxy_env_passes_check_env_and_gives_real_rewards(toy_registered, proxy_file):
    _, path = proxy_file
    genv = gymnasium.make("archgym/Toy-v0", backend=str(path))
    check_env(genv.unwrapped)
    real, prox = archgym.make(toy_registered), archgym.make(toy_registered, backend=str(path))
    assert prox.reference == real.reference
    assert prox.simulator.reference_config() == real.simulator.reference_config()
    rng = np.random.default_rng(0)
    for _ in range(20):
        result = {"cost": float(rng.uniform(0, 50)), "area": float(rng.uniform(1, 30)), "feasible": True, "reason": ""}
        assert prox.objective.reward(result) == real.objective.reward(result)
    genv.reset(seed=0)
    *_, info = genv.step(genv.unwrapped.space.encode({"x": 7, "y": 8, "mode": "a"}))
    assert set(info["proxy_uncertainty"]) == {"cost", "area"}
    assert info["proxy_ood"] is False and 0 <= info["proxy_p_feasible"] <= 1
    assert info["metrics"]["area"] == pytest.approx(10.0, rel=0.05)


def test_out_of_distribution_flag_marks_unseen_values(toy):
    data = dataset_from_simulator(toy, 300, seed=2)
    keep = [i for i, c in enumerate(data.configs) if c["mode"] != "c"]
    proxy = ProxySimulator.train(toy, data.subset(keep))
    df = proxy.predict_with_uncertainty([{"x": 3, "y": 2, "mode": "c"}, {"x": 3, "y": 2, "mode": "a"}])
    assert df["ood"].tolist() == [True, False]
    assert (df[["std.cost", "std.area"]] >= 0).all().all()


def test_batch_hook_keeps_trajectories_and_budget(toy_registered, proxy_file):
    _, path = proxy_file
    for agent in ("random", "ga", "aco", "grid"):
        runs = []
        for batched in (True, False):
            env = archgym.make(toy_registered, backend=str(path))
            env.simulator.batch_friendly = batched
            runs.append(archgym.make_agent(agent).run(env, 90, 4).drop(columns="wall_time_s"))
            assert env.n_evaluations == 90
        assert runs[0].equals(runs[1]), agent
    env = archgym.make(toy_registered, backend=str(path), max_evaluations=3)
    configs = [env.space.sample(i) for i in range(4)]
    with pytest.raises(BudgetExhausted):
        env.evaluate_many(configs)
    assert env.n_evaluations == 0
    assert len(env.evaluate_many(configs[:3])) == 3 and env.n_evaluations == 3


def test_datasets_are_distinct_balanced_and_round_trip(toy, tmp_path):
    idx = sample_designs(toy, 210, seed=0, method="lhs")
    assert len({tuple(r) for r in idx}) == 210
    counts = np.bincount(idx[:, 0], minlength=21)  # x has 21 values: LHS hits each 10 times
    assert counts.min() >= 8 and counts.max() <= 12
    assert len(sample_designs(toy, 10_000, seed=0)) == toy.space.size  # capped at the space
    data = dataset_from_simulator(toy, 50, seed=3)
    data.save(tmp_path / "d.npz", toy.space)
    back = Dataset.load(tmp_path / "d.npz", toy)
    assert back.configs == data.configs and back.provenance == data.provenance
    pd.testing.assert_frame_equal(back.results, data.results)


def test_dataset_from_store_dedupes_and_matches_simulator(tmp_path, toy_registered, toy):
    trial = Trial.create(toy_registered, {}, "random", {}, 0, 60)
    result = run_trial(trial)
    with Store(tmp_path / "s.db") as st:
        st.record(st.study("s"), trial, result)
    data = dataset_from_store(tmp_path / "s.db", toy)
    assert len(data) == len({tuple(sorted(r["config"].items())) for r in result.history})
    assert data.provenance["source"] == "store"
    for cfg, (_, row) in zip(data.configs, data.results.iterrows()):
        truth = toy.evaluate(cfg)
        assert bool(row["feasible"]) == truth["feasible"]
        if truth["feasible"]:
            assert row["cost"] == truth["cost"]


@pytest.mark.parametrize("call, err, words", [
    (lambda s, d: ProxyModel(model="svm").fit(s.space, s.metrics, d), ProxyModelError, "unknown proxy model 'svm'"),
    (lambda s, d: ProxyModel(n_estimators=0).fit(s.space, s.metrics, d), ProxyModelError, "n_estimators"),
    (lambda s, d: ProxyModel(max_features=2.0).fit(s.space, s.metrics, d), ProxyModelError, "max_features"),
    (lambda s, d: ProxySimulator(s, ProxyModel()), ProxyModelError, "not fitted"),
    (lambda s, d: d.split(1.5), DatasetError, "test_fraction"),
    (lambda s, d: sample_designs(s, 10, method="sobol"), DatasetError, "unknown sampling method 'sobol'"),
    (lambda s, d: sample_designs(s, 0), DatasetError, "positive integer"),
])
def test_bad_inputs_one_line(toy, call, err, words):
    data = dataset_from_simulator(toy, 20, seed=0)
    with pytest.raises(err, match=words) as exc:
        call(toy, data)
    assert isinstance(exc.value, UserInputError) and "\n" not in str(exc.value)


def test_tabulated_proxy_answers_exactly_like_its_forest(toy, proxy_file, tmp_path):
    proxy, path = proxy_file
    tab = ProxySimulator.load(path, toy)
    assert tab.model.tabulate() == toy.space.size
    idx = toy.space.grid_indices()
    rng = np.random.default_rng(0)
    idx = idx[rng.permutation(len(idx))]
    for a, b in zip(proxy.model.predict_indices(idx), tab.model.predict_indices(idx)):
        if isinstance(a, dict):
            assert all(np.array_equal(a[k], b[k]) for k in a)
        else:
            assert np.array_equal(a, b)
    configs = [toy.space.decode(i) for i in idx[:20]]
    assert [proxy.evaluate(c) for c in configs] == [tab.evaluate(c) for c in configs]
    assert tab.save(tmp_path / "t.npz") == proxy.content_hash  # the table is derived, never stored
    with pytest.raises(ProxyModelError, match="table limit 10"):
        tab.model.tabulate(max_designs=10)

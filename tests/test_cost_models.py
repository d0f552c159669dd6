"""Proxy cost models: fit on recorded evaluations, error against the real simulator, use as a backend."""
import gymnasium
import numpy as np
import pytest

import archgym
from archgym.cost_models import (ProxyModel, ProxySimulator, dataset_from_simulator, dataset_from_store,
                                 score_proxy)
from archgym.store import Store


def test_proxy_learns_toy_simulator_and_works_as_backend(tmp_path, toy_registered):
    from toysim import ToySimulator

    sim = ToySimulator()
    data = dataset_from_simulator(sim, 400, seed=0)
    assert (~data.results["feasible"]).any()  # the toy has infeasible designs
    train, test = data.split(0.25, seed=1)
    proxy = ProxySimulator.train(sim, train, model="hgb")
    score = score_proxy(proxy, sim, test, repeats=1)
    assert score["feasibility_accuracy"] >= 0.95
    assert score["metrics"]["area"]["spearman"] > 0.95
    assert score["metrics"]["cost"]["spearman"] > 0.9
    # a proxy is a Simulator: saved, it is a gymnasium backend
    path = tmp_path / "toy_proxy.pkl"
    proxy.save(path)
    env = gymnasium.make("archgym/Toy-v0", backend=str(path))
    env.reset(seed=0)
    *_, info = env.step(env.unwrapped.space.encode({"x": 7, "y": 8, "mode": "a"}))
    assert env.unwrapped.simulator.name == "Toy-proxy"
    assert info["metrics"]["area"] == pytest.approx(10.0, rel=0.15)


def test_dataset_from_store_dedupes_and_matches_simulator(tmp_path, toy_registered):
    from toysim import ToySimulator

    env = archgym.make(toy_registered)
    archgym.make_agent("random").run(env, 60, 0)
    with Store(tmp_path / "s.db") as st:
        sid = st.study("s")
        tid = st.add_trial(sid, "k", "random", {}, "Toy-v0", {}, 0, 60)
        st.start_trial(tid)
        st.complete_trial(tid, env.history, "Toy", "1")
    data = dataset_from_store(tmp_path / "s.db", ToySimulator())
    unique = {tuple(sorted(r["config"].items())) for r in env.history}
    assert len(data) == len(unique)
    for cfg, (_, row) in zip(data.configs, data.results.iterrows()):
        truth = ToySimulator().evaluate(cfg)
        assert bool(row["feasible"]) == truth["feasible"]
        if truth["feasible"]:
            assert row["cost"] == truth["cost"]


def test_bad_inputs():
    from toysim import ToySimulator

    sim = ToySimulator()
    data = dataset_from_simulator(sim, 20, seed=0)
    with pytest.raises(ValueError, match="unknown proxy model 'svm'"):
        ProxyModel(model="svm").fit(sim.space, sim.metrics, data)
    with pytest.raises(ValueError, match="not fitted"):
        ProxySimulator(sim, ProxyModel())
    with pytest.raises(ValueError, match="test_fraction"):
        data.split(1.5)

"""Proxy cost models trained on recorded evaluations (installed as ``archgym.cost_models``).

::

    from archgym.cost_models import ProxySimulator, dataset_from_simulator, score_proxy
    sim = archgym.make_simulator("Systolic-v0", workload="resnet18")
    train, test = dataset_from_simulator(sim, 3000, seed=0).split(0.2)
    proxy = ProxySimulator.train(sim, train, model="hgb")
    print(score_proxy(proxy, sim, test))
    proxy.save("systolic_proxy.pkl")
    env = gymnasium.make("archgym/Systolic-v0", workload="resnet18", backend="systolic_proxy.pkl")
"""
from .dataset import Dataset, dataset_from_simulator, dataset_from_store
from .evaluation import score_proxy
from .proxy import MODELS, ProxyModel, ProxySimulator

__all__ = ["Dataset", "dataset_from_simulator", "dataset_from_store", "score_proxy", "ProxyModel",
           "ProxySimulator", "MODELS"]

"""Proxy cost models trained on recorded evaluations (installed as ``archgym.cost_models``).

::

    from archgym.cost_models import ProxySimulator, dataset_from_simulator, score_proxy
    sim = archgym.make_simulator("DRAM-v0", workload="stream")
    train, test = dataset_from_simulator(sim, 300, seed=0).split(0.2)
    proxy = ProxySimulator.train(sim, train, model="et")
    print(score_proxy(proxy, sim, test)["metrics"]["total_time_ns"])
    proxy.save("dram_proxy.npz")          # arrays + JSON, nothing executable
    env = gymnasium.make("archgym/DRAM-v0", workload="stream", backend="dram_proxy.npz")

The same steps from the shell: ``archgym proxy dataset|train|evaluate|search``
(:mod:`.cli`).
"""
from .dataset import Dataset, DatasetError, dataset_from_simulator, dataset_from_store, sample_designs
from .evaluation import score_proxy, score_predictions
from .proxy import MODELS, ProxyModel, ProxyModelError, ProxySimulator
from .proxy_file import ProxyFileError, ProxyMismatchError, file_hash, read_meta, read_proxy

__all__ = ["Dataset", "DatasetError", "dataset_from_simulator", "dataset_from_store", "sample_designs",
           "score_proxy", "score_predictions", "ProxyModel", "ProxyModelError", "ProxySimulator", "MODELS",
           "ProxyFileError", "ProxyMismatchError", "file_hash", "read_meta", "read_proxy"]

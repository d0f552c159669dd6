"""Shared DNN workloads: layer tables of real networks (SCALE-Sim topology CSV)
and their loader (:mod:`.layers`), operator graphs (:mod:`.opgraph`),
builders of real networks as graphs (:mod:`.graphs`), and networks read from
ONNX or exported from PyTorch (:func:`from_onnx`, :func:`from_torch`: one
:class:`Network` every simulator takes; :mod:`.network`, with the reader
:mod:`.onnx_reader`, the lowering :mod:`.lowering` and the writers
:mod:`.export`).  Imports only the core (never a simulator package), so
every simulator may depend on it; ``onnx`` and ``torch`` are imported only
when a model is read or exported."""
from .layers import (Layer, WorkloadError, as_layers, list_networks, load_network, network_info,
                     network_sources, parse_topology, read_topology_csv)
from .network import Network, from_onnx, from_torch, select_layer

__all__ = ["Layer", "WorkloadError", "as_layers", "list_networks", "load_network", "network_info",
           "network_sources", "parse_topology", "read_topology_csv", "Network", "from_onnx", "from_torch",
           "select_layer"]

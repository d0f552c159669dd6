"""Shared DNN workloads: layer tables of real networks (SCALE-Sim topology CSV)
and their loader (:mod:`.layers`), operator graphs (:mod:`.opgraph`) and
builders of real networks as graphs (:mod:`.graphs`).  Imports only the core
(never a simulator package), so every simulator may depend on it."""
from .layers import (Layer, WorkloadError, as_layers, list_networks, load_network, network_info,
                     network_sources, parse_topology, read_topology_csv)

__all__ = ["Layer", "WorkloadError", "as_layers", "list_networks", "load_network", "network_info",
           "network_sources", "parse_topology", "read_topology_csv"]

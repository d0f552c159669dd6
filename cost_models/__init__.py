"""Proxy cost models trained on recorded evaluations (installed as ``archgym.cost_models``)."""

"""Sweeps, analysis and benchmarks (installed as ``archgym.experiments``)."""

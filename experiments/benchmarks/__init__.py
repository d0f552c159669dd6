"""Benchmarks: speed and accuracy measurements that print figures and write results files."""

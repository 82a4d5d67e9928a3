"""Benchmarks and the chaos run (not shipped)."""

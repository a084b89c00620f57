"""Benchmarks of the origin: `make bench` runs bench/run.py."""

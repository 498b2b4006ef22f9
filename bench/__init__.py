"""Throughput and memory benchmark of mftui against zip/unzip: ``python -m bench``."""

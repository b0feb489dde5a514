"""Benchmarks and comparisons (run as scripts); ``bench.corpora`` is shared with the tests."""

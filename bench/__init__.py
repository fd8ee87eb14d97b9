"""Benchmarks: run by hand (`make bench`) and in CI in --quick mode to check they run."""

"""Benchmarks for customer_core: ``python -m benchmarks --help``. Not part of the test run."""

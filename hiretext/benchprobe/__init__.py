"""Calibration endpoints for the benchmarks: the ceilings every ratio is measured against.

Mounted under /bench/ only when HIRETEXT_BENCH_ENDPOINTS=1; production URLs never have them.
"""

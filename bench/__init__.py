"""hiretext's benchmark suite: `make bench` (full) and `python -m bench --smoke` (seconds).

Every benchmark warms up, repeats, reports the median, and prints a ratio measured in the
same run against a ceiling on the same machine (see BENCHMARKS.md).
"""

#!/bin/sh
# make bench: the latency benchmarks, from the repository root.
set -e
cd "$(dirname "$0")/.."
BUILD=${1:-build}
"$BUILD/bench/bench" "$BUILD" "${BENCH_N:-2000}"
echo
# The Python runtime against a fresh python3 and the seed's workaround
# (BENCH_PY_N invocations each; it measures /usr/bin/python3 itself).
exec python3 bench/python_bench.py "$BUILD"

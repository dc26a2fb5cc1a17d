#!/bin/sh
# make bench: the latency benchmarks, from the repository root.
set -e
cd "$(dirname "$0")/.."
BUILD=${1:-build}
"$BUILD/bench/bench" "$BUILD" "${BENCH_N:-2000}"
echo
# The Python runtime against a fresh python3 and the seed's workaround
# (BENCH_PY_N invocations each; it measures /usr/bin/python3 itself).
python3 bench/python_bench.py "$BUILD"
echo
# forkboxd lambda against the unsafe in-process runtime loop, both on its
# own Runtime API on loopback (BENCH_LAMBDA_N invocations per runtime and
# round, BENCH_LAMBDA_ROUNDS rounds).
exec "$BUILD/bench/lambda_bench" "$BUILD" "${BENCH_LAMBDA_N:-2000}" \
	"${BENCH_LAMBDA_ROUNDS:-2}"

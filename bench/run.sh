#!/bin/sh
# make bench: the latency benchmark, from the repository root.
set -e
cd "$(dirname "$0")/.."
BUILD=${1:-build}
exec "$BUILD/bench/bench" "$BUILD" "${BENCH_N:-2000}"

#!/bin/sh
# Installs the Debian 12 packages forkbox builds and tests with. Idempotent:
# does nothing when everything is present.
#   scripts/install-deps.sh [--bench]
# --bench adds what only `make bench` uses: python3-numpy, for the
# preloaded-numpy row of bench/python_bench.py.
set -eu
. "$(dirname "$0")/apt.sh"
PKGS="gcc clang make pkg-config libseccomp-dev libcjson-dev uuid-dev
libcmocka-dev python3 python3-dev util-linux libcurl4-openssl-dev"
# Node.js and npm run @vercel/fun, a third-party Lambda Runtime API the
# tests use (tests/e2e/test_lambda_fun.py): Debian's nodejs and npm, unless
# a node and an npm are already on PATH (NodeSource's nodejs, for one,
# bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
[ "${1:-}" != --bench ] || PKGS="$PKGS python3-numpy"
missing=$(apt_missing $PKGS)
[ -z "$missing" ] || apt_install try $missing

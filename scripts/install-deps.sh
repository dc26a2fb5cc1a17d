#!/bin/sh
# Installs the Debian 12 packages forkbox builds and tests with. Idempotent:
# does nothing when everything is present.
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
missing=$(apt_missing $PKGS)
[ -z "$missing" ] || apt_install try $missing

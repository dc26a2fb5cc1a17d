#!/bin/sh
# Installs the Debian 12 packages forkbox builds and tests with. Idempotent:
# does nothing when everything is present.
set -eu
PKGS="gcc clang make pkg-config libseccomp-dev libcjson-dev uuid-dev
libcmocka-dev python3 python3-dev util-linux libcurl4-openssl-dev"
# Node.js and npm run @vercel/fun, a third-party Lambda Runtime API the
# tests use (tests/e2e/test_lambda_fun.py): Debian's nodejs and npm, unless
# a node and an npm are already on PATH (NodeSource's nodejs, for one,
# bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "forkbox: missing Debian packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "forkbox: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}

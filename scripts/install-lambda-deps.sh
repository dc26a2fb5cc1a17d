#!/bin/sh
# Installs what `make lambda-zip` needs on Debian 12, on top of
# scripts/install-deps.sh. Idempotent: does nothing when everything is
# present.
#   scripts/install-lambda-deps.sh x86_64   zip, unzip, objdump
#   scripts/install-lambda-deps.sh arm64    also the aarch64 cross toolchain
#                                           and the :arm64 -dev packages
#   scripts/install-lambda-deps.sh qemu     qemu-user-static (the tests run
#                                           the arm64 zip under it)
set -eu
cd "$(dirname "$0")/.."
what=${1:-x86_64}
scripts/install-deps.sh

PKGS="zip unzip binutils python3"
case "$what" in
x86_64) ;;
arm64)
	# libpython3.11-stdlib:arm64 (a dependency of libpython3.11-dev:arm64)
	# brings the aarch64 lib-dynload modules and everything they link.
	PKGS="$PKGS gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
libc6:arm64 libseccomp-dev:arm64 libcjson-dev:arm64 uuid-dev:arm64
libcurl4-openssl-dev:arm64 libpython3.11-dev:arm64 libpython3-dev:arm64"
	;;
qemu) PKGS="qemu-user-static" ;;
*)
	echo "usage: $0 x86_64|arm64|qemu" >&2
	exit 2
	;;
esac

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
export DEBIAN_FRONTEND=noninteractive
# Several builds may share a machine: wait for another apt rather than fail.
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends"
need_update=""
if [ "$what" = arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "forkbox: adding the arm64 architecture to dpkg" >&2
	dpkg --add-architecture arm64
	need_update=1
fi
echo "forkbox: installing$missing" >&2
if [ -n "$need_update" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	$APT install $missing >/dev/null
else
	$APT install $missing >/dev/null 2>&1 || {
		apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
		$APT install $missing >/dev/null
	}
fi

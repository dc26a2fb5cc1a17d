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
. scripts/apt.sh
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

missing=$(apt_missing $PKGS)
[ -z "$missing" ] && exit 0
mode=try
if [ "$what" = arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" = 0 ]; then
		echo "forkbox: adding the arm64 architecture to dpkg" >&2
		dpkg --add-architecture arm64
	fi
	mode=update
fi
apt_install $mode $missing

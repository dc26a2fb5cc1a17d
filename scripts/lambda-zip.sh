#!/bin/bash
# Builds dist/forkbox-lambda-ARCH.zip for AWS Lambda's provided.al2023
# runtime (Amazon Linux 2023, glibc 2.34). `make lambda-zip` runs it for
# x86_64 and arm64 (cross-compiled with Debian's aarch64 toolchain).
#   scripts/lambda-zip.sh x86_64|arm64
#
# Lambda unpacks the zip at /var/task ($LAMBDA_TASK_ROOT), next to the
# function's own files, and runs /var/task/bootstrap:
#   bootstrap                  forkboxd (as `bootstrap` it is the runtime)
#   forkbox                    the CLI
#   libexec/forkbox-zygote     zygote helpers: FBX_LIBEXECDIR=/var/task/libexec
#   libexec/forkbox-zygote-python
#   policies/*.policy          FBX_POLICYDIR=/var/task/policies
#   lib/*.so.*                 every non-glibc library, found by an $ORIGIN
#                              rpath (DT_RPATH: it applies to the libraries'
#                              own dependencies and to dlopen()ed extension
#                              modules too, and comes before Lambda's
#                              LD_LIBRARY_PATH with its /lib64 and /usr/lib64)
#   lib/python3.11/            Debian's stdlib without its tests, idlelib,
#                              tkinter, turtledemo, ensurepip and lib2to3;
#                              lib-dynload for this architecture; bytecode
#                              compiled as unchecked-hash .pyc (the zip
#                              keeps mtimes to 2 s only, /var/task is
#                              read-only: timestamp .pyc would be recompiled
#                              on every import). forkbox-zygote-python takes
#                              <its dir>/.. as Python's home when
#                              lib/python3.11/os.py is there.
# Every ELF file is checked to need at most GLIBC_2.34 (lambda-glibc.py);
# the few Debian libraries that need more are rewritten by it, and the
# build fails if one cannot be.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-}
case "$arch" in
x86_64)
	triplet=x86_64-linux-gnu
	cc=gcc
	strip=strip
	;;
arm64)
	triplet=aarch64-linux-gnu
	cc=aarch64-linux-gnu-gcc
	strip=aarch64-linux-gnu-strip
	;;
*)
	echo "usage: $0 x86_64|arm64" >&2
	exit 2
	;;
esac
TASK=/var/task
PYVER=3.11
BUILD=build-zip-$arch
STAGE=$BUILD/stage
ZIP=$PWD/dist/forkbox-lambda-$arch.zip
PY=/usr/bin/python3 # Debian's, whatever python3 comes first on PATH
start=$(date +%s)

scripts/install-lambda-deps.sh "$arch"

# pkg-config answers for the target's libraries (python3-embed included).
export PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

mkdir -p "$BUILD" dist
$cc -std=gnu11 -O2 -Wall -Wextra -Werror -c scripts/lambda-glibc-compat.c \
	-o "$BUILD/glibc-compat.o"
# Link flags are not prerequisites: relink every time (it is quick).
rm -f "$BUILD/forkboxd" "$BUILD/forkbox" "$BUILD/forkbox-zygote" \
	"$BUILD/forkbox-zygote-python"
# '$$ORIGIN': make turns $$ into $, the recipe's shell keeps the quotes.
make --no-print-directory BUILD="$BUILD" CC="$cc" CFLAGS="-O2 -g" \
	SANITIZE= ZYGOTE_SANITIZE= PREFIX=$TASK LIBEXECDIR=$TASK/libexec \
	POLICYDIR=$TASK/policies PY_PREFIX=$TASK \
	BIN_LDFLAGS="-Wl,--disable-new-dtags,-rpath,'\$\$ORIGIN/lib'" \
	ZYGOTE_LDFLAGS="-Wl,--disable-new-dtags,-rpath,'\$\$ORIGIN/../lib'" \
	PY_ZYGOTE_LDFLAGS="$BUILD/glibc-compat.o -Wl,--export-dynamic-symbol=arc4random_buf" \
	"$BUILD/forkboxd" "$BUILD/forkbox" "$BUILD/forkbox-zygote" \
	"$BUILD/forkbox-zygote-python"

rm -rf "$STAGE"
mkdir -p "$STAGE/libexec" "$STAGE/policies" "$STAGE/lib"
install -m 0755 "$BUILD/forkboxd" "$STAGE/bootstrap"
install -m 0755 "$BUILD/forkbox" "$STAGE/forkbox"
install -m 0755 "$BUILD/forkbox-zygote" "$BUILD/forkbox-zygote-python" \
	"$STAGE/libexec/"
$strip --strip-all "$STAGE/bootstrap" "$STAGE/forkbox" "$STAGE"/libexec/*
install -m 0644 policies/*.policy "$STAGE/policies/"

# The standard library, compiled once per Debian version of it.
pystd=/usr/lib/python$PYVER
debarch=$([ "$arch" = x86_64 ] && echo amd64 || echo arm64)
stamp="$(dpkg-query -W -f='${Version}' "libpython$PYVER-stdlib:$debarch") $(sha1sum <"$0")"
pycache=$BUILD/python$PYVER
if [ ! -f "$pycache.stamp" ] || [ "$(cat "$pycache.stamp")" != "$stamp" ]; then
	echo "lambda-zip: copying and compiling the Python $PYVER stdlib" >&2
	rm -rf "$pycache" "$pycache.stamp"
	mkdir -p "$pycache/lib-dynload"
	tar -C "$pystd" --exclude=__pycache__ --exclude=test --exclude=tests \
		--exclude=idle_test --exclude=idlelib --exclude=tkinter \
		--exclude=turtledemo --exclude=ensurepip --exclude=lib2to3 \
		--exclude=lib-dynload --exclude='config-*' \
		--exclude='_sysconfigdata_*' --exclude=site-packages \
		--exclude=dist-packages -cf - . | tar -C "$pycache" -xf -
	cp "$pystd"/_sysconfigdata_*_"$triplet".py "$pycache/"
	for so in "$pystd"/lib-dynload/*.cpython-*-"$triplet".so; do
		case "$(basename "$so")" in
		_test* | _ctypes_test* | _xxtestfuzz* | xxlimited*) continue ;;
		esac
		cp "$so" "$pycache/lib-dynload/"
	done
	$PY -m compileall -q -j 0 --invalidation-mode unchecked-hash \
		-d "$TASK/lib/python$PYVER" "$pycache" >/dev/null
	echo "$stamp" >"$pycache.stamp"
fi
cp -a "$pycache" "$STAGE/lib/"

# Every library the binaries and extension modules need, but glibc's own.
is_glibc() {
	[[ $1 =~ ^(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libBrokenLocale|libmvec|ld-linux[-a-z0-9_]*)\.so\.[0-9]+$ ]]
}
queue=("$STAGE/bootstrap" "$STAGE/forkbox" "$STAGE"/libexec/* \
	"$STAGE/lib/python$PYVER"/lib-dynload/*.so)
declare -A seen=()
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		is_glibc "$n" && continue
		[ -n "${seen[$n]:-}" ] && continue
		seen[$n]=1
		src=""
		for d in /lib/$triplet /usr/lib/$triplet; do
			[ -e "$d/$n" ] && src=$d/$n && break
		done
		if [ -z "$src" ]; then
			echo "lambda-zip: $n (needed by $f) not found" >&2
			exit 1
		fi
		cp -L "$src" "$STAGE/lib/$n"
		chmod 0644 "$STAGE/lib/$n"
		queue+=("$STAGE/lib/$n")
	done
done

$PY scripts/lambda-glibc.py patch --glibc-dir=/lib/$triplet \
	"$STAGE"/lib/*.so* "$STAGE/lib/python$PYVER"/lib-dynload/*.so
$PY scripts/lambda-glibc.py check "$STAGE/bootstrap" "$STAGE/forkbox" \
	"$STAGE"/libexec/* "$STAGE"/lib/*.so* \
	"$STAGE/lib/python$PYVER"/lib-dynload/*.so || {
	echo "lambda-zip: a file above needs a glibc newer than Amazon Linux 2023's 2.34" >&2
	exit 1
}

find "$STAGE" -type d -exec chmod 0755 {} +
rm -f "$ZIP"
(cd "$STAGE" && zip -q -r -9 "$ZIP" .)
echo "lambda-zip: ${ZIP#"$PWD"/}: $(du -k "$ZIP" | cut -f1) KiB," \
	"$(du -sk "$STAGE" | cut -f1) KiB unpacked, $(($(date +%s) - start)) s" >&2

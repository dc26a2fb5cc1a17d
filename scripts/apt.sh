# Sourced by the dependency scripts (install-deps.sh, install-lambda-deps.sh).

# Prints the packages of "$@" that are not installed, each after a space.
apt_missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			printf ' %s' "$p"
	done
}

# apt_install update|try PKG...: installs the packages as root. "update"
# refreshes the package lists first; "try" does so only when the install
# fails (fresh lists are usually there, and updating costs time).
apt_install() {
	mode=$1
	shift
	if [ "$(id -u)" != 0 ]; then
		echo "forkbox: missing Debian packages: $* (run as root to install)" >&2
		exit 1
	fi
	echo "forkbox: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Several builds may share a machine: wait for another apt rather than fail.
	lock="-o DPkg::Lock::Timeout=600"
	if [ "$mode" = update ]; then
		apt-get $lock update -q >/dev/null
	elif apt-get $lock install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
		return 0
	else
		apt-get $lock update -q >/dev/null
	fi
	apt-get $lock install -y -q --no-install-recommends "$@" >/dev/null
}

#!/bin/bash
# Runs every test of a build directory and ends with "N passed, N failed".
#   tests/run-all.sh [BUILD_DIR]
# Unit tests (cmocka) run directly; end-to-end tests, which run hostile
# modules as root, run inside fresh PID, mount, UTS and IPC namespaces with
# a small init as PID 1, so a sandbox bug cannot kill, remount or rename
# the machine running them.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "# unit: $t"
	"$t" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ge 128 ]; then
		# A crash before cmocka could report counts as a failure.
		echo "not ok - $t exited with status $rc" | tee -a "$log"
	fi
done

echo "# end-to-end tests (in fresh pid/mount/uts/ipc namespaces)"
if unshare --pid --fork --mount --uts --ipc --mount-proc true 2>/dev/null; then
	unshare --pid --fork --mount --uts --ipc --mount-proc \
		"$BUILD/tests/pid1" python3 tests/e2e/run.py "$BUILD" 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -le 1 ] ||
		echo "not ok - end-to-end runner died" | tee -a "$log"
	# The hostile modules again with private dirs emptied and recycled
	# instead of removed: the cleanup's rules hold either way.
	echo "# hostile modules, --recycle-dirs"
	FORKBOX_E2E_EXTRA_ARGS=--recycle-dirs unshare --pid --fork --mount \
		--uts --ipc --mount-proc "$BUILD/tests/pid1" \
		python3 tests/e2e/run.py "$BUILD" test_hostile 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -le 1 ] ||
		echo "not ok - end-to-end runner died (--recycle-dirs)" | tee -a "$log"
else
	echo "not ok - cannot create test namespaces (need root or user namespaces): end-to-end tests not run" | tee -a "$log"
fi

# TAP: a line with "# SKIP" is a skip whether cmocka wrote "ok" or "not ok".
passed=$(grep '^ok ' "$log" | grep -vic '# skip' | tr -d ' ')
failed=$(grep '^not ok' "$log" | grep -vic '# skip' | tr -d ' ')
skipped=$(grep -E '^(not )?ok ' "$log" | grep -ic '# skip' | tr -d ' ')
echo "# $skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

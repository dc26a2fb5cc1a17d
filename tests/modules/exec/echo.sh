#!/bin/sh
# An exec-runtime module: the event on stdin, the result on stdout, logs on
# stderr, the invocation's ids in the environment.
read -r event || true
echo "echo.sh: request $FORKBOX_REQUEST_ID in $TMPDIR" >&2
case "$event" in
*'"fail"'*) echo "failing on purpose" >&2; exit 3 ;;
*'"garbage"'*) echo "this is not json"; exit 0 ;;
*'"nothing"'*) exit 0 ;;
esac
printf '{"event": %s, "cwd": "%s", "tmpdir": "%s", "request_id": "%s"}\n' \
	"$event" "$(pwd)" "$TMPDIR" "$FORKBOX_REQUEST_ID"

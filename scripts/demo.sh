#!/bin/bash
# make demo: the seed scenario, live. A warm process is asked nine times to
# load a module from the same path, rewritten before each request to return
# 1..9. First a plain warm process (dlopen caches the first version), then
# one long-lived forkboxd (a fresh sandboxed child per request).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
work=$(mktemp -d /tmp/forkbox-demo.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
func="$work/func.so"

echo "== a warm process that dlopen()s $func for every request =="
coproc TRAP { "$BUILD/tests/dlopen_trap"; }
answers=()
for i in 1 2 3 4 5 6 7 8 9; do
	cp "$BUILD/tests/modules/value_$i.so" "$func.new" && mv "$func.new" "$func"
	echo "$func" >&"${TRAP[1]}"
	read -r answer <&"${TRAP[0]}"
	answers+=("$answer")
done
exec {TRAP[1]}>&-
wait "$TRAP_PID" || true
echo "   answers: ${answers[*]}   <- the first module, every time"
echo

echo "== one long-lived forkboxd stdio --module $func =="
coproc FBX { "$BUILD/forkboxd" stdio --module "$func" 2>"$work/forkboxd.log"; }
answers=()
for i in 1 2 3 4 5 6 7 8 9; do
	cp "$BUILD/tests/modules/value_$i.so" "$func"   # rewritten in place
	echo "{\"id\": $i, \"event\": {}}" >&"${FBX[1]}"
	read -r response <&"${FBX[0]}"
	echo "   request $i -> $response" | cut -c1-150
	answers+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["result"])' "$response")")
done
exec {FBX[1]}>&-
wait "$FBX_PID" || true
echo "   answers: ${answers[*]}"
grep '"level"' "$work/forkboxd.log" | head -5 | sed 's/^/   stderr: /'
[ "${answers[*]}" = "1 2 3 4 5 6 7 8 9" ] || { echo "FAILED: native answers ${answers[*]}"; exit 1; }
echo "OK: every request got the module it shipped."
echo

# The original story, in Python: /tmp/func.py written from each request,
# then `import func`.
pyfunc="$work/py"
mkdir -p "$pyfunc" && chmod 755 "$pyfunc"
src() { printf "def scrape_process(driver):\n    return('%s')\n" "$1"; }
echo "== a warm Python that writes func.py and runs 'import func' per request =="
answers=$(/usr/bin/python3 -B - "$pyfunc" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
out = []
for i in range(1, 10):
    with open(sys.argv[1] + "/func.py", "w") as f:
        f.write("def scrape_process(driver):\n    return('%d')\n" % i)
    import func
    out.append(func.scrape_process(None))
print(" ".join(out))
PY
)
echo "   answers: $answers   <- sys.modules keeps the first module"
echo

echo "== one long-lived forkboxd stdio --runtime python --allow-request-modules =="
coproc PYD { "$BUILD/forkboxd" stdio --runtime python --allow-request-modules 2>"$work/forkboxd-py.log"; }
answers=()
for i in 1 2 3 4 5 6 7 8 9; do
	req=$(python3 -c 'import json,sys; print(json.dumps({"id": int(sys.argv[1]), "event": {}, "module": {"runtime": "python", "name": "func.py", "source": sys.argv[2], "entry": "scrape_process"}}))' "$i" "$(src "$i")")
	echo "$req" >&"${PYD[1]}"
	read -r response <&"${PYD[0]}"
	echo "   request $i -> $response" | cut -c1-150
	answers+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["result"])' "$response")")
done
exec {PYD[1]}>&-
wait "$PYD_PID" || true
echo "   answers: ${answers[*]}"
[ "${answers[*]}" = "1 2 3 4 5 6 7 8 9" ] || { echo "FAILED: python answers ${answers[*]}"; exit 1; }
echo "OK: every request imported the func.py it shipped."

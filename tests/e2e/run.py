"""Runs every test_* function of tests/e2e/test_*.py and prints TAP.

    python3 tests/e2e/run.py BUILD_DIR [NAME_SUBSTRING]
"""

import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    only = sys.argv[2] if len(sys.argv) > 2 else None
    os.environ["FORKBOX_BUILD"] = build
    import harness  # noqa: E402  (reads FORKBOX_BUILD)
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(vars(mod), key=lambda n: getattr(getattr(mod, n), "__code__", None)
                           and getattr(mod, n).__code__.co_firstlineno or 0):
            fn = getattr(mod, name)
            if name.startswith("test_") and callable(fn):
                full = "%s.%s" % (fname[:-3], name)
                if harness.EXTRA_ARGS:
                    full += " [%s]" % " ".join(harness.EXTRA_ARGS)
                if only is None or only in full:
                    tests.append((full, fn))
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, (name, fn) in enumerate(tests, 1):
        start = time.monotonic()
        try:
            fn()
        except harness.Skip as e:
            print("ok %d - %s # SKIP %s" % (i, name, e), flush=True)
            continue
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("#   " + line, flush=True)
            continue
        print("ok %d - %s (%.2fs)" % (i, name, time.monotonic() - start), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reports what earlier invocations may have left behind, then plants all
of it for the next one: globals, sys.modules, a monkey-patched stdlib
function, sys.path, builtins, os.environ, the cwd, a file."""
import builtins
import json
import os
import sys

COUNTER = 0


def handler(event, context):
    global COUNTER
    COUNTER += 1
    seen = {
        "counter": COUNTER,
        "planted_module": "forkbox_planted" in sys.modules,
        "patched_dumps": getattr(json.dumps, "planted", False),
        "planted_path": "/planted" in sys.path,
        "planted_builtin": hasattr(builtins, "forkbox_planted"),
        "planted_env": os.environ.get("FORKBOX_PLANTED"),
        "cwd_is_tmp_dir": os.getcwd() == context.tmp_dir,
        "sys_path0_is_tmp_dir": sys.path[0] == context.tmp_dir,
        "files": sorted(os.listdir(".")),
        "tmpdir_env": os.environ.get("TMPDIR") == context.tmp_dir,
    }
    sys.modules["forkbox_planted"] = type(sys)("forkbox_planted")
    original = json.dumps

    def patched(*a, **k):
        return original(*a, **k)
    patched.planted = True
    json.dumps = patched
    sys.path.append("/planted")
    builtins.forkbox_planted = True
    os.environ["FORKBOX_PLANTED"] = "yes"
    with open("planted.txt", "w") as f:
        f.write("left behind?")
    os.chdir("/")
    return seen

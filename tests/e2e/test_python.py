"""The python runtime: the seed's scenario, the handler contract as in AWS
Lambda's Python runtime, isolation between invocations, and hostile
handlers under python.policy."""

import json
import os
import py_compile
import shutil
import socket
import subprocess
import time

from harness import (ROOT, Daemon, Scratch, Skip, child_pids, error_type,
                     ok, private_dirs, wait_until)

PY = os.path.join(ROOT, "tests", "modules", "python")


def pymod(name):
    return os.path.join(PY, name + ".py")


class Py(Daemon):
    def __init__(self, *args, module=None, **kw):
        if module:
            kw["module_path"] = pymod(module)
        super().__init__("--runtime", "python", *args, **kw)


def test_seed_inline_source_rewritten_each_request_answers_1_to_9():
    template = "def scrape_process(driver):\n    return('__value__')"
    answers = []
    with Py("--allow-request-modules") as d:
        for i in range(1, 10):
            answers.append(ok(d.call({
                "event": {},
                "module": {"runtime": "python", "name": "func.py",
                           "source": template.replace("__value__", str(i)),
                           "entry": "scrape_process"}})))
    assert answers == [str(i) for i in range(1, 10)], answers


def test_the_same_in_one_warm_python_keeps_the_first_module():
    """Control for the test above: what a warm Lambda does."""
    s = Scratch()
    prog = (
        "import importlib, sys\n"
        "sys.path.insert(0, %r)\n"
        "out = []\n"
        "for i in range(1, 10):\n"
        "    open(%r, 'w').write(\"def scrape_process(d):\\n    return('%%d')\" %% i)\n"
        "    import func\n"
        "    out.append(func.scrape_process(None))\n"
        "print(','.join(out))\n") % (s.path, s.file("func.py"))
    out = subprocess.run(["/usr/bin/python3", "-B", "-c", prog],
                         capture_output=True, text=True, check=True).stdout
    s.cleanup()
    assert out.strip() == ",".join(["1"] * 9), out


def test_nothing_survives_into_the_next_invocation():
    with Py(module="state") as d:
        for _ in range(3):
            seen = ok(d.event({}))
            assert seen == {
                "counter": 1, "planted_module": False, "patched_dumps": False,
                "planted_path": False, "planted_builtin": False,
                "planted_env": None, "cwd_is_tmp_dir": True,
                "sys_path0_is_tmp_dir": True, "files": ["state.py"],
                "tmpdir_env": True}, seen
        assert private_dirs(d.scratch.tmp_base) == []


def test_entry_takes_as_many_arguments_as_it_accepts():
    with Py(module="one_arg", *["--entry", "scrape_process"]) as d:
        assert ok(d.event({"a": 1})) == {"got": {"a": 1}}
    with Py(module="no_args") as d:
        assert ok(d.event({})) == "no arguments"


def test_context_is_lambdas():
    with Py("--function-name", "fn", "--memory-mb", "256",
            "--timeout-ms", "2000", module="behaviours") as d:
        r = d.event({"do": "context"})
        c = ok(r)
        assert c["aws_request_id"] == r["request_id"]
        assert c["function_name"] == "fn"
        assert c["memory_limit_in_mb"] == "256"
        assert 0 < c["remaining"] <= 2000
        assert c["tmp_dir"].startswith(d.scratch.tmp_base + "/")


def test_exception_reports_class_message_and_user_frames():
    with Py(module="raises") as d:
        r = d.event({"value": 7})
        assert error_type(r) == "MyError"
        assert r["error"]["errorMessage"] == "bad value: 7"
        st = r["error"]["stackTrace"]
        assert any("raises.py" in l and "in check" in l for l in st), st
        assert any("in handler" in l for l in st), st
        assert not any("forkbox_runtime" in l for l in st), st


def test_import_failures_have_lambdas_error_types():
    with Py(module="syntax_error") as d:
        r = d.event({})
        assert error_type(r) == "Runtime.UserCodeSyntaxError", r
        assert "Syntax error in module 'syntax_error'" in r["error"]["errorMessage"]
    with Py(module="import_error") as d:
        r = d.event({})
        assert error_type(r) == "Runtime.ImportModuleError", r
        assert "forkbox_no_such_module" in r["error"]["errorMessage"]
    with Py("--entry", "nope", module="behaviours") as d:
        assert error_type(d.event({})) == "Runtime.HandlerNotFound"
    s = Scratch()
    with Py(module_path=s.file("missing.py"), scratch=s) as d:
        assert error_type(d.event({})) == "Runtime.ImportModuleError"
    s.cleanup()


def test_results_must_be_json():
    with Py(module="behaviours") as d:
        r = d.event({"do": "marshal"})
        assert error_type(r) == "Runtime.MarshalError", r
        assert "Unable to marshal response" in r["error"]["errorMessage"]
        assert error_type(d.event({"do": "nan"})) == "Runtime.MarshalError"
        assert ok(d.event({"do": "echo"})) == {"echo": {"do": "echo"}}


def test_print_flood_is_bounded_and_output_is_not_duplicated():
    with Py(module="behaviours") as d:
        r = d.event({"do": "print_flood", "kb": 8192})
        assert ok(r) == "printed"
        assert 0 < len(r["logs"]) <= 70000, len(r["logs"])
        r = d.event({"do": "partial_print"})
        assert r["logs"].count("no newline at the end") == 1, r["logs"]
        r = d.event({"do": "log", "arg": "x1"})
        line = [l for l in r["logs"].splitlines() if "careful" in l]
        assert len(line) == 1 and r["request_id"] in line[0], r["logs"]
        assert line[0].startswith("[WARNING]"), line


def test_no_aws_secret_in_os_environ():
    env = {"AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "t0k3n",
           "AWS_REGION": "eu-west-1"}
    with Py(module="behaviours", env=env) as d:
        r = d.event({"do": "environ"})
        seen = ok(r)
        assert "s3cr3t" not in json.dumps(seen) and "t0k3n" not in json.dumps(seen)
        assert seen.get("AWS_REGION") == "eu-west-1"
        assert seen.get("TMPDIR", "").startswith(d.scratch.tmp_base + "/")
        assert seen.get("FORKBOX_REQUEST_ID") == r["request_id"]


def test_socket_is_refused_and_nothing_connects():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.3)
    with Py(module="behaviours") as d:
        r = d.event({"do": "socket", "port": srv.getsockname()[1]})
        assert error_type(r) == "PermissionError", r
        try:
            srv.accept()
            assert False, "the handler connected"
        except socket.timeout:
            pass
        assert ok(d.event({"do": "sha"}))
    srv.close()


def test_fork_and_exec_are_refused():
    with Py(module="behaviours") as d:
        assert error_type(d.event({"do": "fork"})) == "PermissionError"
        r = d.event({"do": "exec"})
        assert error_type(r) == "Forkbox.SyscallDenied", r
        assert r["error"].get("syscall") == "execve", r
        assert ok(d.event({"do": "sha"}))


def test_threads_and_asyncio_work_under_python_policy():
    with Py(module="behaviours") as d:
        assert ok(d.event({"do": "threads"})) == [0, 1, 2, 3]
        assert ok(d.event({"do": "asyncio"})) == "async"


def test_daemonized_grandchild_does_not_survive():
    # python.policy refuses fork; under a policy that allows it the
    # process-tree kill is what must hold.
    policy = os.path.join(PY, "fork.policy")
    with Py("--policy", policy, module="behaviours") as d:
        gc = ok(d.event({"do": "daemonize"}))["grandchild"]
        assert wait_until(lambda: not os.path.exists("/proc/%d" % gc), 2), \
            "grandchild %d survived the invocation" % gc
        assert ok(d.event({"do": "sha"}))


def test_timeout_and_exit_then_next_request_works():
    with Py("--timeout-ms", "500", module="behaviours") as d:
        t = time.monotonic()
        assert error_type(d.event({"do": "sleep", "s": 30})) == "Sandbox.Timedout"
        assert time.monotonic() - t < 2.5
        assert error_type(d.event({"do": "exit", "code": 4})) == "Runtime.ExitError"
        assert ok(d.event({"do": "sha"}))


def test_random_differs_per_child_hash_secret_is_the_zygotes():
    with Py("--spares", "2", module="behaviours") as d:
        rs = [ok(d.event({"do": "random"})) for _ in range(4)]
        assert len({r["random"] for r in rs}) == 4, rs
        assert len({r["urandom"] for r in rs}) == 4, rs
        hs = [ok(d.event({"do": "hash"})) for _ in range(3)]
        assert len({h["hash"] for h in hs}) == 1, hs  # documented as shared
        assert len({h["pid"] for h in hs}) == 3, hs


def test_pyc_beside_the_source_is_never_trusted_and_none_is_written():
    s = Scratch()
    src = s.file("helper.py")
    with open(src, "w") as f:
        f.write("VALUE = 'stale1'\n")
    st = os.stat(src)
    py_compile.compile(src, doraise=True)
    with open(src, "w") as f:
        f.write("VALUE = 'fresh1'\n")  # same size, same mtime below
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    shutil.copy(pymod("uses_helper"), s.file("uses_helper.py"))
    os.chmod(s.path, 0o755)
    # Control: plain CPython takes the stale bytecode.
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "import sys; sys.path.insert(0, %r); import helper;"
                          " print(helper.VALUE)" % s.path],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "stale1", out
    shutil.rmtree(os.path.join(s.path, "__pycache__"))
    py_compile.compile(src, cfile=os.path.join(s.path, "__pycache__",
                                               "helper.cpython-311.pyc"))
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with open(src, "w") as f:
        f.write("VALUE = 'fresh2'\n")
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    with Py(module_path=s.file("uses_helper.py"), scratch=s) as d:
        assert ok(d.event({})) == "fresh2"
    # No bytecode written: the cache holds only what the test put there.
    assert os.listdir(os.path.join(s.path, "__pycache__")) == \
        ["helper.cpython-311.pyc"]
    s.cleanup()


def test_preload_runs_in_the_zygote_and_bad_preloads_refuse_to_start():
    with Py("--preload", "json,decimal,email.utils", module="behaviours") as d:
        assert ok(d.event({"do": "sha"}))
        z = child_pids(d.proc.pid)
        with open("/proc/%d/cmdline" % z[0], "rb") as f:
            assert f.read().split(b"\0")[0] == b"forkbox-zygote-python"
    for preload, words in (("forkbox_no_such_module", "forkbox_no_such_module"),
                           ("threads_at_import", "threads")):
        s = Scratch()
        d = Py("--preload", preload, module="threads_at_import", scratch=s)
        rc = d.close()
        with open(d.stderr_path) as f:
            diag = f.read()
        s.cleanup()
        assert rc != 0, "the daemon started with --preload %s" % preload
        assert words in diag, diag


def test_python_network_policy_lets_the_handler_connect():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    policy = os.path.join(ROOT, "policies", "python-network.policy")
    with Py("--policy", policy, module="behaviours") as d:
        r = d.event({"do": "socket", "port": srv.getsockname()[1]})
        assert ok(r) == "connected", r
        conn, _ = srv.accept()
        conn.close()
        assert ok(d.event({"do": "asyncio"})) == "async"
    srv.close()


def test_python_policy_kills_what_no_handler_needs():
    with Py(module="behaviours") as d:
        for fn, args in (("ptrace", [0, 0, 0, 0]), ("mount", [0, 0, 0, 0, 0]),
                         ("unshare", [0x10000000]), ("chroot", [b"/"])):
            r = d.event({"do": "libc", "fn": fn,
                         "args": [a.decode() if isinstance(a, bytes) else a
                                  for a in args]})
            assert error_type(r) == "Forkbox.SyscallDenied", (fn, r)
            assert r["error"]["syscall"] == fn, (fn, r)
        # TIOCSTI would push input into a terminal: ENOTTY, not done.
        assert ok(d.event({"do": "tiocsti"}))["errno"] == 25
        assert ok(d.event({"do": "threads"})) == [0, 1, 2, 3]


def test_recycling_under_a_stream_loses_nothing_and_redraws_the_hash_secret():
    with Py("--zygote-max-invocations", "4", "-j", "2",
            module="behaviours") as d:
        n = 24
        for i in range(n):
            d.send_raw(json.dumps({"id": i, "event": {"do": "hash"}}).encode()
                       + b"\n")
        rs = [d.read_response() for _ in range(n)]
    assert [r["id"] for r in rs] == list(range(n)), [r["id"] for r in rs]
    seen = [ok(r) for r in rs]
    by_zygote = {}
    for s in seen:
        by_zygote.setdefault(s["ppid"], set()).add(s["hash"])
    assert len(by_zygote) >= 6, by_zygote  # 24 invocations, 4 per zygote
    # One hash secret per zygote, a new one for each.
    assert all(len(h) == 1 for h in by_zygote.values()), by_zygote
    secrets = [next(iter(h)) for h in by_zygote.values()]
    assert len(set(secrets)) == len(secrets), by_zygote


def test_numpy_preloaded_works_and_its_random_state_is_reseeded():
    if subprocess.run(["/usr/bin/python3", "-c", "import numpy"],
                      capture_output=True).returncode != 0:
        raise Skip("python3-numpy is not installed (optional)")
    with Py("--preload", "numpy", "--spares", "2", module="behaviours") as d:
        rs = [ok(d.event({"do": "numpy"})) for _ in range(4)]
    assert all(r["sum"] == 45.0 for r in rs), rs
    assert len({r["random"] for r in rs}) == 4, rs


def test_a_module_that_breaks_the_runtime_gets_an_internal_error_and_the_next_is_served():
    with Py(module="sabotage") as d:
        r = d.event({"do": "encoder"})
        assert error_type(r) == "Forkbox.InternalError", r
        msg = r["error"]["errorMessage"]
        assert "calling the handler" in msg and "Odd" in msg, msg
        r = d.event({"do": "frame_kind"})
        assert error_type(r) == "Forkbox.InternalError", r
        assert "unexpected frame" in r["error"]["errorMessage"], r
        # Each child's damage was its own.
        assert ok(d.event({"do": "nothing"})) == {"sabotaged": "nothing"}


def test_a_child_whose_runtime_set_up_fails_says_why():
    with Py("--preload", "breaks_child_init", module="behaviours") as d:
        # Spares fail first; then children are forked for each request.
        for _ in range(5):
            r = d.event({"do": "sha"})
            assert error_type(r) == "Forkbox.InternalError", (r, d.diag())
            msg = r["error"]["errorMessage"]
            assert "RuntimeError: child_init sabotaged by a preload" in msg, msg
        assert d.proc.poll() is None

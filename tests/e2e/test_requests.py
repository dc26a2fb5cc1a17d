"""Bad input and request handling in forkboxd stdio: every bad line gets an
error response and the next request is served."""

import json
import os
import shutil

from harness import Daemon, Scratch, error_type, module, ok


def _bad_then_good(d, raw):
    d.send_raw(raw + b"\n")
    r = d.read_response()
    good = d.call({"id": "next", "event": {}})
    assert good["id"] == "next" and good["status"] == "ok", good
    return r


def test_malformed_json():
    with Daemon(module_path=module("counter")) as d:
        r = _bad_then_good(d, b'{"event": {')
        assert error_type(r) == "Forkbox.InvalidRequest"
        assert "JSON" in r["error"]["errorMessage"]


def test_json_array_and_wrong_types():
    with Daemon(module_path=module("counter")) as d:
        for raw in (b'[1, 2]', b'"text"', b'{"timeout_ms": "soon"}', b'{"timeout_ms": -5}',
                    b'{"module": "func.so"}', b'{"module": {"path": 5}}'):
            r = _bad_then_good(d, raw)
            assert error_type(r) == "Forkbox.InvalidRequest", (raw, r)


def test_nul_bytes():
    with Daemon(module_path=module("counter")) as d:
        r = _bad_then_good(d, b'{"event": "a\x00b"}')
        assert error_type(r) == "Forkbox.InvalidRequest"


def test_10_mib_line():
    with Daemon(module_path=module("counter")) as d:
        big = b'{"event": "' + b"x" * (10 << 20) + b'"}'
        r = _bad_then_good(d, big)
        assert error_type(r) == "Forkbox.InvalidRequest"
        assert "exceeds" in r["error"]["errorMessage"]


def test_id_is_echoed_verbatim_and_event_passed_exactly():
    with Daemon(module_path=module("counter")) as d:
        d.send_raw(b'{"id": {"n": 12345678901234567890}, "event": {}}\n')
        line = d.read_line()
        assert line.startswith(b'{"id":{"n": 12345678901234567890}') or \
            b'12345678901234567890' in line, line


def test_missing_module_is_import_module_error():
    s = Scratch()
    with Daemon(module_path=s.file("nope.so"), scratch=s) as d:
        r = d.event({})
        assert error_type(r) == "Runtime.ImportModuleError", r
        assert "nope.so" in r["error"]["errorMessage"]
    s.cleanup()


def test_not_a_forkbox_module_and_wrong_abi_are_refused():
    for name, words in (("noabi", "FORKBOX_MODULE"), ("wrongabi", "ABI 999")):
        with Daemon(module_path=module(name)) as d:
            r = d.event({})
            assert error_type(r) == "Runtime.ImportModuleError", r
            assert words in r["error"]["errorMessage"], r


def test_missing_entry_is_handler_not_found():
    with Daemon("--entry", "no_such_entry", module_path=module("counter")) as d:
        r = d.event({})
        assert error_type(r) == "Runtime.HandlerNotFound"


def test_request_modules_refused_unless_allowed():
    req = {"event": {}, "module": {"path": module("value_3")}}
    with Daemon(module_path=module("counter")) as d:
        r = d.call(req)
        assert error_type(r) == "Forkbox.InvalidRequest"
        assert "--allow-request-modules" in r["error"]["errorMessage"]
    with Daemon("--allow-request-modules", module_path=module("counter")) as d:
        assert ok(d.call(req)) == 3
        assert ok(d.event({})) == 1


def test_handler_flag_lambda_style():
    s = Scratch()
    shutil.copy(module("value_7"), s.file("func.so"))
    with Daemon("--handler", "func.handler", "--task-root", s.path, scratch=s) as d:
        assert ok(d.event({})) == 7
    s.cleanup()


def test_responses_keep_request_order_with_j4():
    with Daemon("-j", "4", module_path=module("inspect")) as d:
        for i in range(12):
            sleep = 300 if i % 3 == 0 else 0
            d.send_raw(json.dumps({"id": i, "event": {"sleep_ms": sleep}}).encode() + b"\n")
        ids = [d.read_response()["id"] for _ in range(12)]
        assert ids == list(range(12)), ids


def test_report_has_accounting():
    with Daemon(module_path=module("counter")) as d:
        r = d.event({})
        rep = r["report"]
        assert rep["duration_ms"] > 0 and rep["max_rss_kb"] > 0 and rep["cpu_ms"] >= 0
        assert rep["exit"] == {"code": 0}
        assert len(r["request_id"]) == 36


def test_broken_policy_refuses_to_start():
    s = Scratch()
    with open(s.file("bad.policy"), "w") as f:
        f.write("read\nwrite: arg0 ==\n")
    with Daemon("--policy", s.file("bad.policy"), module_path=module("counter"), scratch=s) as d:
        code = d.proc.wait(timeout=10)
        assert code != 0
        assert "bad.policy:2:" in d.diag(), d.diag()
    s.cleanup()


def test_help_documents_every_flag():
    import subprocess
    from harness import build_path
    out = subprocess.run([build_path("forkboxd"), "stdio", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for flag in ("--module", "--runtime", "--entry", "--handler", "--allow-request-modules",
                 "--tmp-base", "--timeout-ms", "--memory-mb", "--policy", "-j"):
        assert flag in out, flag
    top = subprocess.run([build_path("forkboxd"), "--help"], capture_output=True, text=True)
    assert top.returncode == 0 and "stdio" in top.stdout


def test_event_reaches_the_module_as_its_exact_text():
    with Daemon(module_path=module("hostile")) as d:
        event = '{"do": "echo", "big": 12345678901234567890, "f": 1e400, "s": "\\u00e9\u00e9",   "deep": [[[{}]]]}'
        d.send_raw(('{"id": 7, "event": ' + event + '}\n').encode())
        line = d.read_line().decode()
        assert ('"result":' + event + ',') in line, line


def test_sigterm_answers_what_was_read_then_exits_cleanly():
    import signal
    import time
    from harness import child_pids, private_dirs, wait_until
    # -j 1 answers on the thread that reads (the signal lands mid-invoke);
    # -j 2 answers on workers that have the signal blocked.
    for jobs in ("1", "2"):
        with Daemon("-j", jobs, module_path=module("inspect")) as d:
            d.send_raw(b'{"id": "slow", "event": {"sleep_ms": 700}}\n')
            assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
            zygote = child_pids(d.proc.pid)
            d.proc.send_signal(signal.SIGTERM)
            r = d.read_response(timeout=10)
            assert r["id"] == "slow" and r["status"] == "ok", (jobs, r)
            assert d.proc.wait(timeout=10) == 0
            assert "stopping on a signal" in d.diag()
            assert wait_until(lambda: all(not os.path.exists("/proc/%d" % z) for z in zygote))
            assert private_dirs(d.scratch.tmp_base) == []


def test_a_request_module_replaces_the_default_module_copied_ahead():
    # Spares copy the default module (counter.so) into their dir before any
    # job; a job for another module must find only its own file there.
    req = {"event": {}, "module": {"path": module("inspect")}}
    with Daemon("--allow-request-modules", module_path=module("counter")) as d:
        for _ in range(3):
            r = ok(d.call(req))
            assert r["entries_on_entry"] == ["inspect.so"], r["entries_on_entry"]
            assert ok(d.event({})) == 1
        inline = {"event": {}, "module": {"path": module("inspect"), "name": "counter.so"}}
        r = ok(d.call(inline))
        assert r["entries_on_entry"] == ["counter.so"], r

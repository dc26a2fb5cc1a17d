"""libforkbox from a multithreaded host, and the zygote's life cycle."""

import os
import signal
import subprocess
import time

from harness import (ROOT, Daemon, Scratch, build_path, child_pids, error_type, module, ok,
                     wait_until)


def _mt(mode):
    s = Scratch()
    env = dict(os.environ, FORKBOX_ZYGOTE=build_path("forkbox-zygote"),
               FORKBOX_POLICY_DIR=os.path.join(ROOT, "policies"))
    p = subprocess.run([build_path("tests", "mt_host"), build_path("tests", "modules"),
                        s.tmp_base, mode, "8", "100"], capture_output=True, text=True,
                       timeout=300, env=env, cwd=os.path.join(os.path.dirname(__file__), "..", ".."))
    s.cleanup()
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    assert "calls=800 bad=0" in p.stdout


def test_8_threads_x_100_invocations_on_one_handle():
    _mt("shared")


def test_8_threads_x_100_invocations_one_handle_each():
    _mt("each")


def test_zygote_killed_between_requests_is_restarted_and_says_so():
    with Daemon(module_path=module("counter")) as d:
        ok(d.event({}))
        (zygote,) = child_pids(d.proc.pid)
        os.kill(zygote, signal.SIGKILL)
        wait_until(lambda: zygote not in child_pids(d.proc.pid) or True)
        r = d.event({})
        assert ok(r) == 1
        assert r["report"].get("zygote_restarted") is True, r
        assert "restarted" in d.diag()
        (new,) = child_pids(d.proc.pid)
        assert new != zygote
        assert "zygote_restarted" not in d.event({})["report"]


def test_zygote_killed_during_a_request_fails_it_without_hanging():
    with Daemon("--timeout-ms", "5000", module_path=module("hostile")) as d:
        d.send_raw(b'{"event": {"do": "spin"}}\n')
        time.sleep(0.3)
        (zygote,) = child_pids(d.proc.pid)
        start = time.monotonic()
        os.kill(zygote, signal.SIGKILL)
        r = d.read_response(timeout=10)
        assert time.monotonic() - start < 3
        assert error_type(r) == "Forkbox.InternalError", r
        r = d.event({"do": "fail", "arg": "next"})
        assert error_type(r) == "MyError"

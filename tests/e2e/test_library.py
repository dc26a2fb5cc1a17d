"""libforkbox from a multithreaded host, and the zygote's life cycle."""

import os
import re
import signal
import subprocess
import time

from harness import (ROOT, Daemon, Scratch, Skip, build_path, child_pids, error_type,
                     invocation_pids,
                     module, ok, proc_state, wait_until)


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
        # Between requests: it has finished dying (a zombie of forkboxd's)
        # before the next request is sent.
        assert wait_until(lambda: proc_state(zygote) in ("Z", None))
        r = d.event({})
        assert ok(r) == 1
        assert r["report"].get("zygote_restarted") is True, r
        assert "restarted" in d.diag()
        (new,) = child_pids(d.proc.pid)
        assert new != zygote
        assert "zygote_restarted" not in d.event({})["report"]


# A host may ignore SIGCHLD (plenty of daemons do): the kernel then reaps
# its children at once, the zygote included, and waiting for it fails with
# ECHILD. The disposition passes through exec, so forkboxd started this
# way is such a host.
IGNORING_SIGCHLD = [
    "python3", "-c",
    "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
    "os.execvp(sys.argv[1], sys.argv[1:])"]


def test_zygote_killed_in_a_host_that_ignores_sigchld_is_restarted():
    with Daemon(module_path=module("counter"), prefix=IGNORING_SIGCHLD) as d:
        assert ok(d.event({})) == 1
        with open("/proc/%d/status" % d.proc.pid) as f:
            ignored = int(re.search(r"SigIgn:\s*([0-9a-f]+)", f.read()).group(1), 16)
        assert ignored & (1 << (signal.SIGCHLD - 1)), "forkboxd does not ignore SIGCHLD"
        (zygote,) = child_pids(d.proc.pid)
        assert ok(d.event({})) == 1, "a live zygote taken for a dead one"
        assert "zygote_restarted" not in d.event({})["report"]
        os.kill(zygote, signal.SIGKILL)
        # Reaped by the kernel: no zombie is left to see.
        assert wait_until(lambda: proc_state(zygote) is None)
        r = d.event({})
        assert ok(r) == 1
        assert r["report"].get("zygote_restarted") is True, r
        assert "zygote (pid %d) is gone" % zygote in d.diag(), d.diag()
        (new,) = child_pids(d.proc.pid)
        assert new != zygote
        for i in range(3):
            r = d.event({})
            assert ok(r) == 1 and "zygote_restarted" not in r["report"], r


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


def test_a_spare_child_waits_set_up_and_is_replaced_after_use():
    with Daemon("--spares", "1", module_path=module("counter")) as d:
        ok(d.event({}))
        (zygote,) = child_pids(d.proc.pid)
        assert wait_until(lambda: len(invocation_pids(zygote)) == 1)
        (spare,) = invocation_pids(zygote)

        def status():
            with open("/proc/%d/status" % spare) as f:
                return f.read()
        def filters(text):
            return int([l for l in text.splitlines() if l.startswith("Seccomp_filters:")][0].split()[1])
        # Set-up runs while it waits: its own filter is its last step, on
        # top of the zygote's pass-through one (zygote_policy.c).
        with open("/proc/%d/status" % zygote) as f:
            assert filters(f.read()) == 1
        assert wait_until(lambda: filters(status()) == 2)
        assert "NoNewPrivs:\t1" in status()
        if os.geteuid() == 0:
            uid = int([l for l in status().splitlines() if l.startswith("Uid:")][0].split()[1])
            assert uid != 0, "the spare must already have dropped root"

        assert "counter.so" not in open("/proc/%d/maps" % spare).read()
        assert ok(d.event({})) == 1
        assert wait_until(lambda: len(invocation_pids(zygote)) == 1 and invocation_pids(zygote) != [spare])


def test_a_spare_killed_while_idle_does_not_fail_the_next_request():
    with Daemon("--spares", "1", module_path=module("counter")) as d:
        ok(d.event({}))
        (zygote,) = child_pids(d.proc.pid)
        assert wait_until(lambda: len(invocation_pids(zygote)) == 1)
        spare = invocation_pids(zygote)[0]
        os.kill(spare, signal.SIGKILL)
        assert wait_until(lambda: proc_state(spare) in ("Z", None))
        for _ in range(3):
            assert ok(d.event({})) == 1
        assert "died before its job" in d.diag()


def test_no_spares_forks_on_demand():
    with Daemon("--spares", "0", module_path=module("counter")) as d:
        assert ok(d.event({})) == 1
        (zygote,) = child_pids(d.proc.pid)
        time.sleep(0.1)
        assert invocation_pids(zygote) == []
        assert ok(d.event({})) == 1


def test_two_spares_by_default_and_the_used_one_is_replaced_after_the_answer():
    with Daemon(module_path=module("counter")) as d:
        ok(d.event({}))
        (zygote,) = child_pids(d.proc.pid)
        assert wait_until(lambda: len(invocation_pids(zygote)) == 2)
        before = set(invocation_pids(zygote))
        assert ok(d.event({})) == 1
        # One of the two ran the request; a new one replaced it.
        assert wait_until(lambda: len(invocation_pids(zygote)) == 2 and
                          len(set(invocation_pids(zygote)) & before) == 1)
        assert "died before its job" not in d.diag()


def _slice(pid):
    with open("/proc/%d/sched" % pid) as f:
        for line in f:
            if line.startswith("se.slice"):
                return int(line.split(":")[1])
    return None


def test_the_zygote_asks_for_a_short_slice_and_its_children_do_not():
    if not os.path.exists("/proc/self/sched"):
        raise Skip("no /proc/PID/sched (CONFIG_SCHED_DEBUG off)")
    if tuple(int(x) for x in os.uname().release.split(".")[:2]) < (6, 12):
        raise Skip("custom EEVDF slices need Linux 6.12")
    with Daemon("--spares", "1", module_path=module("counter")) as d:
        ok(d.event({}))
        (zygote,) = child_pids(d.proc.pid)
        assert _slice(zygote) == 100000
        assert wait_until(lambda: len(invocation_pids(zygote)) == 1)
        (spare,) = invocation_pids(zygote)
        assert wait_until(lambda: _slice(spare) not in (None, 100000))
        assert _slice(spare) == _slice(os.getpid())

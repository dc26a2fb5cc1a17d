"""Hostile modules. Each is followed by a normal request that must succeed,
and leaves no process, private dir or daemon fd behind."""

import os
import socket
import time

from harness import (Daemon, Scratch, error_type, module, ok, open_fd_count,
                     private_dirs, process_names, child_pids, proc_state,
                     wait_until)


class Hostile(Daemon):
    """A daemon serving the hostile module, checking after every act that
    the next request works and nothing leaked."""

    def __init__(self, *args, **kw):
        super().__init__(*args, module_path=module("hostile"), **kw)
        self.call({"event": {"do": "fail", "arg": "warm-up"}})
        # The zygote closes its end of the report just after sending it and
        # takes the next spare's seccomp listener when that spare is ready:
        # the baseline is the count once it stops moving.
        prev = None
        for _ in range(50):
            time.sleep(0.1)
            now = self.fd_counts()
            if now == prev:
                break
            prev = now
        self.baseline = now

    def fd_counts(self):
        return (open_fd_count(self.proc.pid),
                [open_fd_count(z) for z in child_pids(self.proc.pid)])

    def act(self, event, **extra):
        before = self.baseline
        r = self.event(event, **extra)
        # The next request is served normally.
        after_ok = self.event({"do": "fail", "arg": "after"})
        assert error_type(after_ok) == "MyError", after_ok
        assert private_dirs(self.scratch.tmp_base) == [], "private dir left behind"
        # A leak only ever adds descriptors. The zygote may hold one fewer
        # for a moment: the next spare's seccomp listener arrives when that
        # spare is ready, which a loaded machine may take a while to be.
        def no_leak():
            daemon, zygote = self.fd_counts()
            return daemon == before[0] and all(z <= b for z, b in zip(zygote, before[1]))
        # A descriptor of the invocation just ended (or of the spare being
        # made) may be held a moment longer on a loaded machine; a leak
        # stays.
        if not wait_until(no_leak, timeout=5):
            raise AssertionError("fd counts grew: %s -> %s; zygote fds: %s" % (
                before, self.fd_counts(), self.zygote_fds()))
        return r

    def zygote_fds(self):
        out = {}
        for z in child_pids(self.proc.pid):
            try:
                for f in os.listdir("/proc/%d/fd" % z):
                    try:
                        out["%d/%s" % (z, f)] = os.readlink("/proc/%d/fd/%s" % (z, f))
                    except OSError:
                        pass
            except OSError:
                pass
        return out


def test_segfault_is_runtime_exit_error_naming_the_signal():
    with Hostile() as d:
        r = d.act({"do": "segv"})
        assert error_type(r) == "Runtime.ExitError"
        assert "SIGSEGV" in r["error"]["errorMessage"]
        assert r["report"]["exit"] == {"signal": "SIGSEGV"}


def test_infinite_loop_ignoring_sigterm_times_out_within_2s():
    with Hostile("--timeout-ms", "500") as d:
        start = time.monotonic()
        r = d.act({"do": "spin"})
        elapsed = time.monotonic() - start
        assert error_type(r) == "Sandbox.Timedout", r
        assert "0.50 seconds" in r["error"]["errorMessage"]
        assert elapsed < 2.0, elapsed


def test_request_cannot_raise_the_timeout():
    with Hostile("--timeout-ms", "300") as d:
        r = d.act({"do": "spin"}, timeout_ms=60000)
        assert error_type(r) == "Sandbox.Timedout"
        assert "0.30 seconds" in r["error"]["errorMessage"]


def _daemonize_leaves_nothing(*args):
    marker = "fbx-surv-%d" % (os.getpid() % 10000)
    with Hostile(*args) as d:
        r = d.act({"do": "daemonize", "arg": marker})
        assert ok(r) == {"forked": 1}, r
        # Without a PID namespace the zygote's sweep killed the survivor
        # and says so; with one, the kernel did.
        if "pidns" not in args:
            assert r["report"].get("orphans_killed", 0) >= 1, r
        survivors = [p for p, n in process_names().items() if n == marker]
        assert survivors == [], "processes survived the invocation: %s" % survivors


def test_fork_setsid_double_fork_nothing_survives():
    _daemonize_leaves_nothing()


def test_fork_setsid_double_fork_nothing_survives_with_pidns():
    _daemonize_leaves_nothing("--enable-layer", "pidns")


def test_fork_setsid_double_fork_nothing_survives_shared_uid():
    _daemonize_leaves_nothing("--disable-layer", "uid-drop")


def test_leftover_is_swept_behind_another_invocations_crowd_of_children():
    # The sweep once read only the zygote's first 256 children: a
    # concurrent invocation that parks ~255 processes there (as the
    # zygote's children, ahead of anything re-parented later) hid the
    # other's daemonized leftover from it. As root, each slot's sweep takes
    # only its own uid, so the crowd stays while the leftover must go.
    if os.geteuid() != 0:
        from harness import Skip
        raise Skip("slots have uids of their own only as root")
    crowd = "fbx-crowd-%d" % (os.getpid() % 10000)
    marker = "fbx-left-%d" % (os.getpid() % 10000)
    with Daemon("-j", "2", "--timeout-ms", "30000", module_path=module("hostile")) as d:
        error_type(d.event({"do": "fail", "arg": "warm"}))
        (zygote,) = child_pids(d.proc.pid)
        base = d.scratch.tmp_base
        d.send_raw(('{"id": "B", "event": {"do": "crowd", "mb": 400, "ms": 4000, '
                    '"arg": "%s"}}\n' % crowd).encode())
        assert wait_until(lambda: len(child_pids(zygote)) > 256, timeout=10), \
            len(child_pids(zygote))
        d.send_raw(('{"id": "A", "event": {"do": "daemonize", "arg": "%s"}}\n'
                    % marker).encode())
        # A answers while B still runs (responses come in request order:
        # A's dir gone tells that A was reported and swept).
        assert wait_until(lambda: any(n == marker for n in process_names().values()))
        assert wait_until(lambda: len(private_dirs(base)) == 1, timeout=10)
        left = [p for p, n in process_names().items() if n == marker]
        rb, ra = d.read_response(), d.read_response()
        assert rb["id"] == "B" and ok(rb)["crowd"] > 200, rb
        assert ra["id"] == "A" and ok(ra) == {"forked": 1}, ra
        for p in left:
            os.kill(p, 9)
        assert left == [], "a leftover outlived its invocation: %s" % left
    assert not [p for p, n in process_names().items() if n in (crowd, marker)]


def test_module_that_stops_itself_before_answering_gets_an_error():
    # kill(0, SIGSTOP) is how forkbox's runtime ends once it has answered
    # (every filter lets it through); a module doing it first only ends its
    # own invocation, without an answer.
    with Hostile() as d:
        start = time.monotonic()
        r = d.act({"do": "stop_self"})
        assert error_type(r) == "Runtime.ExitError", r
        assert "without an answer" in r["error"]["errorMessage"], r
        assert time.monotonic() - start < 2.0


def _child_stays(*args):
    marker = "fbx-stay-%d" % (os.getpid() % 10000)
    with Hostile(*args) as d:
        r = d.act({"do": "child_stays", "arg": marker})
        # The answer stands, and the exit is the runtime's own (code 0),
        # not the kill that ended the child left running.
        assert ok(r) == {"forked": 1}, r
        assert r["report"]["exit"] == {"code": 0}, r
        survivors = [p for p, n in process_names().items() if n == marker]
        assert survivors == [], "processes survived the invocation: %s" % survivors


def test_child_left_running_at_the_answer_does_not_survive():
    _child_stays()


def test_child_left_running_at_the_answer_does_not_survive_shared_uid():
    _child_stays("--disable-layer", "uid-drop")


def test_child_left_running_at_the_answer_does_not_survive_with_pidns():
    _child_stays("--enable-layer", "pidns")


def _resumed_after_the_report(*args):
    # tests/modules/cont_escape.c: answers, stops itself as forkbox's own
    # end does, and has a SIGCONT sent to it when the host drains its log
    # after the report; resumed, it would fork a child that stays.
    marker = "fbx-cont-%d" % (os.getpid() % 10000)
    survivors = lambda: [p for p, n in process_names().items() if n == marker]
    try:
        with Daemon(*args, module_path=module("cont_escape")) as d:
            for idle in (0.3, 1.0):
                r = d.event({"arg": marker})
                assert ok(r) == {"stopping": 1}, r
                assert r["report"]["exit"] == {"code": 0}, r
                time.sleep(idle)
                assert survivors() == [], "a process outlived its report"
        assert survivors() == [], "a process outlived the daemon"
    finally:
        for pid in survivors():
            os.kill(pid, 9)


def test_child_resumed_after_its_report_is_already_dead():
    _resumed_after_the_report()


def test_child_resumed_after_its_report_is_already_dead_shared_uid():
    _resumed_after_the_report("--disable-layer", "uid-drop")


def test_children_die_with_the_zygote_under_a_uid_of_their_own():
    # The kernel clears the parent-death signal when a process changes its
    # uid: a child armed only before its drop would outlive a killed zygote.
    if os.geteuid() != 0:
        from harness import Skip
        raise Skip("children run under a uid of their own only as root")
    with Hostile("--timeout-ms", "30000") as d:
        (zygote,) = child_pids(d.proc.pid)
        d.send_raw(b'{"event": {"do": "spin"}}\n')
        assert wait_until(lambda: any(proc_state(p) == "R" for p in child_pids(zygote)))
        children = child_pids(zygote)
        os.kill(zygote, 9)
        r = d.read_response()
        assert r["status"] == "error", r
        assert wait_until(lambda: all(proc_state(p) in (None, "Z") for p in children)), \
            [(p, proc_state(p)) for p in children]
        # The next request gets a new zygote.
        assert error_type(d.event({"do": "fail", "arg": "again"})) == "MyError"


def test_report_accounts_for_cpu_and_memory_of_the_stopped_child():
    # Reported from the stopped child (child.c, end) rather than at its
    # exit: the kernel's usage of it must still be all there.
    with Hostile() as d:
        r = d.act({"do": "burn", "mb": 120})
        assert ok(r) == {"burned_ms": 120}, r
        assert r["report"]["cpu_ms"] >= 110, r
        assert r["report"]["exit"] == {"code": 0}, r
        r = d.act({"do": "memory", "mb": 96})
        assert ok(r) == {"touched_mb": 96}, r
        assert r["report"]["max_rss_kb"] >= 96 * 1024, r


def _kill_parent_and_all(*args):
    with Hostile(*args) as d:
        zygote = child_pids(d.proc.pid)
        for act in ("kill_parent", "kill_all"):
            r = d.act({"do": act})
            assert d.proc.poll() is None, "daemon died"
            assert child_pids(d.proc.pid) == zygote, "zygote died or was replaced"
            # Either refused (policy/uid) or the module killed only itself.
            assert r["status"] in ("ok", "error")
            if r["status"] == "ok":
                assert r["result"]["kill_rc"] == -1


def test_kill_parent_and_kill_minus_one_leave_daemon_and_zygote():
    if os.geteuid() != 0:
        from harness import Skip
        raise Skip("without root, only --enable-layer pidns (needs CAP_SYS_ADMIN) or the "
                   "policy protects the zygote")
    _kill_parent_and_all()


def test_kill_parent_and_kill_minus_one_with_a_shared_uid():
    # As in Lambda: no uid of its own, so only the policy's guards (the
    # zygote's and the host's pids carved out of kill/tgkill/tkill, no
    # pid <= 0) keep the zygote alive (Landlock's scoping, which would
    # refuse these too, is off to test the guards alone).
    with Hostile("--disable-layer", "uid-drop,landlock-scope") as d:
        zygote = child_pids(d.proc.pid)
        for act in ("kill_parent", "kill_all"):
            r = d.act({"do": act})
            assert ok(r) == {"kill_rc": -1}, r
            assert child_pids(d.proc.pid) == zygote


def test_no_process_can_be_named_owner_of_a_descriptor():
    # F_SETOWN/FIOSETOWN + F_SETSIG + O_ASYNC signal the named owner with
    # the module's credentials, past the guards of kill() and friends.
    with Hostile("--disable-layer", "uid-drop,landlock-scope") as d:
        (zygote,) = child_pids(d.proc.pid)
        for target in (zygote, d.proc.pid):
            r = ok(d.act({"do": "setown", "mb": target}))
            assert r == {"fcntl": 1, "setsig": 1}, (target, r)  # EPERM
            r = d.act({"do": "setown", "mb": target, "by_ioctl": 1})
            assert error_type(r) == "Forkbox.SyscallDenied", r
            assert r["error"]["syscall"] == "ioctl", r
        assert child_pids(d.proc.pid) == [zygote]


def test_signal_guards_hold_whatever_the_policy_says():
    # A policy that logs signals (or makes log its default) lets them
    # through: the zygote's guard comes before every rule.
    sc = Scratch()
    try:
        os.chmod(sc.path, 0o755)
        pol = sc.file("log-everything.policy")
        with open(pol, "w") as f:
            f.write("@default log\n")
        with Hostile("--disable-layer", "uid-drop,landlock-scope",
                     "--policy", pol) as d:
            zygote = child_pids(d.proc.pid)
            for act in ("kill_parent", "kill_all"):
                r = d.act({"do": act})
                assert ok(r) == {"kill_rc": -1}, r
                assert child_pids(d.proc.pid) == zygote
    finally:
        sc.cleanup()


def test_signal_guards_see_pids_as_the_kernel_does():
    # tgkill reads its tgid as an int: (1 << 32) | pid is that pid. The
    # guard compares the low word, so the zygote and forkboxd stay out of
    # reach; the module's own pid, the same way, is reachable.
    with Hostile("--disable-layer", "uid-drop,landlock-scope") as d:
        (zygote,) = child_pids(d.proc.pid)
        for target in (zygote, d.proc.pid):
            r = ok(d.act({"do": "tgkill_high", "mb": target}))
            assert r == {"tgkill_errno": 1}, (target, r)  # EPERM
        assert ok(d.act({"do": "tgkill_high", "mb": 0})) == {"tgkill_errno": 0}
        assert child_pids(d.proc.pid) == [zygote]


def test_kill_parent_and_kill_minus_one_with_pidns():
    _kill_parent_and_all("--enable-layer", "pidns")


def test_socket_to_loopback_port_gets_no_connection():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.3)
    port = srv.getsockname()[1]
    with Hostile() as d:
        r = d.act({"do": "connect", "port": port})
        assert r["status"] == "error" or "socket_errno" in r["result"], r
        if r["status"] == "error":
            assert error_type(r) == "Forkbox.SyscallDenied"
            assert r["error"].get("syscall") == "socket", r
    try:
        conn, _ = srv.accept()
        conn.close()
        raise AssertionError("the module connected to the loopback port")
    except socket.timeout:
        pass
    finally:
        srv.close()


def test_touching_4_gib_is_refused_by_the_default_limit():
    with Hostile() as d:
        r = d.act({"do": "memory", "mb": 4096})
        assert r["status"] == "error"
        assert error_type(r) in ("MemoryError", "Runtime.ExitError"), r


def test_writing_4_gib_into_the_private_dir_is_stopped():
    with Hostile("--file-size-mb", "64", "--timeout-ms", "20000") as d:
        r = d.act({"do": "disk", "mb": 4096})
        assert r["status"] == "error"
        assert "SIGXFSZ" in r["error"]["errorMessage"] or error_type(r) == "DiskError", r
    # act() already checked the private dir (and the file in it) is gone.


def test_writing_past_the_default_512_mib_is_stopped():
    with Hostile("--timeout-ms", "30000") as d:
        r = d.act({"do": "disk", "mb": 4096})
        assert "SIGXFSZ" in r["error"]["errorMessage"], r


def test_returning_64_mib_is_output_too_large():
    with Hostile() as d:
        r = d.act({"do": "big_result", "mb": 64})
        assert error_type(r) == "Forkbox.OutputTooLarge", r


def test_result_just_under_the_limit_passes():
    with Hostile("--max-result-bytes", str(2 << 20)) as d:
        r = d.act({"do": "big_result", "mb": 1})
        assert len(ok(r)) == 1 << 20
        r = d.act({"do": "big_result", "mb": 2})
        assert error_type(r) == "Forkbox.OutputTooLarge"


def test_printing_megabytes_gives_bounded_logs():
    with Hostile("--max-log-bytes", "4096") as d:
        start = time.monotonic()
        r = d.act({"do": "print", "mb": 50})
        assert ok(r) == 1
        assert len(r["logs"]) <= 4096 + 100
        assert r["logs"].endswith("last line of print\n")
        assert "bytes of output dropped" in r["logs"]
        assert time.monotonic() - start < 20


def test_symlinks_to_outside_are_not_followed_by_cleanup():
    s = Scratch()
    outside = s.file("outside")
    os.makedirs(outside)
    os.chmod(outside, 0o777)
    canary = os.path.join(outside, "canary")
    with open(canary, "w") as f:
        f.write("alive")
    with Hostile(scratch=s) as d:
        r = d.act({"do": "symlinks", "arg": outside})
        assert ok(r)["links"] == 4
    assert open(canary).read() == "alive"
    assert os.listdir(outside) == ["canary"]
    s.cleanup()


def test_environment_has_no_aws_secret():
    env = {"AWS_ACCESS_KEY_ID": "AKIAFORKBOXTEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
           "AWS_SESSION_TOKEN": "tok", "AWS_REGION": "eu-west-1", "LD_PRELOAD": ""}
    s = Scratch()
    with Daemon(module_path=module("inspect"), env=env, scratch=s) as d:
        r = ok(d.event({}))
        joined = "\n".join(r["env"])
        for secret in ("AKIAFORKBOXTEST", "s3cr3t", "AWS_SESSION_TOKEN", "LD_PRELOAD"):
            assert secret not in joined, joined
        assert "AWS_REGION=eu-west-1" in r["env"]
        assert "TMPDIR=" + r["cwd"] in r["env"]
    with Daemon("--env-allow", "AWS_ACCESS_KEY_ID", module_path=module("inspect"), env=env,
                scratch=s) as d:
        r = ok(d.event({}))
        assert "AWS_ACCESS_KEY_ID=AKIAFORKBOXTEST" in r["env"]
        assert "AWS_REGION=eu-west-1" not in r["env"]
    s.cleanup()


def test_only_its_own_fds_are_reachable():
    with Daemon(module_path=module("inspect")) as d:
        r = ok(d.event({}))
        fds = {int(x.split(":", 1)[0]): x.split(":", 1)[1] for x in r["fds"]}
        assert sorted(fds) == [0, 1, 2, 3], r["fds"]
        assert fds[0] == "/dev/null"
        assert fds[1].startswith("pipe:") and fds[1] == fds[2]
        assert fds[3].startswith("pipe:")


def test_ptrace_is_denied_and_named():
    with Hostile() as d:
        r = d.act({"do": "ptrace"})
        assert error_type(r) == "Forkbox.SyscallDenied", r
        assert r["error"]["syscall"] == "ptrace"


def test_ptrace_without_seccomp_notify_is_still_denied():
    # The kernel then kills with SIGSYS itself; the syscall cannot be
    # named without trusting the module, so it is not.
    with Hostile("--disable-layer", "seccomp-notify") as d:
        r = d.act({"do": "ptrace"})
        assert error_type(r) == "Forkbox.SyscallDenied", r
        assert "syscall" not in r["error"]
        assert r["report"]["exit"] == {"signal": "SIGSYS"}


def test_exit_without_result_and_null_result():
    with Hostile() as d:
        r = d.act({"do": "exit", "code": 7})
        assert error_type(r) == "Runtime.ExitError"
        assert r["report"]["exit"] == {"code": 7}
        r = d.act({"do": "null"})
        assert error_type(r) == "Function.Error"
        r = d.act({"do": "fail", "arg": "x"})
        assert r["error"] == {"errorType": "MyError", "errorMessage": "failed on purpose: x",
                              "stackTrace": []}, r


def test_no_set_uid_or_set_gid_file_can_be_made():
    # The policies refuse the set-id bits to open and chmod: a set-uid copy
    # of a program, left where another user can run it, would run as the
    # slot's uid.
    with Hostile() as d:
        r = ok(d.act({"do": "setuid_file"}))
        assert r == {"open": 1, "chmod": 1, "plain": 0}, r  # EPERM

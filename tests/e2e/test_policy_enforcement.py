"""native.policy against a module that tries one raw syscall per
invocation (tests/modules/try_syscall.c). Each is refused with the
policy's stated action and the right errorType; the allowed paths keep
working, and the daemon serves the next request after every refusal."""

import errno

from harness import Daemon, error_type, module, ok

KILLED = "killed"     # Forkbox.SyscallDenied naming the syscall
FOREIGN = "foreign"   # killed by the architecture check (SIGSYS)

# sys -> expected: KILLED with the syscall name, FOREIGN, an errno, or 0
NATIVE = {
    "getpid": 0,
    "socket_unix": 0,
    "mprotect_exec": 0,  # native modules are code: W^X is strict.policy's job
    "socket_inet": errno.EACCES,
    "socket_netlink": errno.EACCES,
    "socket_raw": errno.EACCES,
    "socket_udp6": errno.EACCES,
    "clone_newuser": errno.EPERM,
    "clone3": errno.ENOSYS,  # so glibc falls back to clone, whose flags are seen
    "ptrace": (KILLED, "ptrace"),
    "process_vm_writev": (KILLED, "process_vm_writev"),
    "mount": (KILLED, "mount"),
    "umount2": (KILLED, "umount2"),
    "unshare": (KILLED, "unshare"),
    "setns": (KILLED, "setns"),
    "bpf": (KILLED, "bpf"),
    "perf_event_open": (KILLED, "perf_event_open"),
    "userfaultfd": (KILLED, "userfaultfd"),
    "io_uring_setup": (KILLED, "io_uring_setup"),
    "keyctl": (KILLED, "keyctl"),
    "add_key": (KILLED, "add_key"),
    "kexec_load": (KILLED, "kexec_load"),
    "init_module": (KILLED, "init_module"),
    "personality": (KILLED, "personality"),
    "execve": (KILLED, "execve"),
    "ioctl_tiocsti": (KILLED, "ioctl"),
    "ioctl_tiocsti_high": (KILLED, "ioctl"),  # high bits must not slip past
    "chroot": (KILLED, "chroot"),
    "x32_getpid": FOREIGN,
    "int80_getpid": FOREIGN,
}


def _check(d, sys, want):
    r = d.event({"sys": sys})
    if isinstance(want, int):
        got = ok(r)
        assert got == {"rc": 0 if want == 0 else -1, "errno": want}, (sys, got)
    elif want == FOREIGN:
        assert error_type(r) == "Forkbox.SyscallDenied", (sys, r)
        assert r["report"]["exit"] == {"signal": "SIGSYS"}, (sys, r)
        assert "foreign ABI" in r["error"]["errorMessage"], (sys, r)
    else:
        assert error_type(r) == "Forkbox.SyscallDenied", (sys, r)
        assert r["error"]["syscall"] == want[1], (sys, r)
    # The next request is served.
    assert ok(d.event({"sys": "getpid"})) == {"rc": 0, "errno": 0}


def test_native_policy_refuses_each_dangerous_syscall_as_stated():
    with Daemon(module_path=module("try_syscall")) as d:
        for sys, want in NATIVE.items():
            _check(d, sys, want)


def test_strict_policy_allows_only_read_write_exit_after_load():
    from harness import ROOT
    import os
    strict = os.path.join(ROOT, "policies", "strict.policy")
    with Daemon("--policy", strict, module_path=module("try_syscall")) as d:
        assert ok(d.event({"sys": "noop"})) == {"rc": 0, "errno": 0}
        # Allowed while loading (native.policy), not once the entry runs.
        for sys in ("mprotect_exec", "socket_unix", "getpid"):
            r = d.event({"sys": sys})
            assert error_type(r) == "Forkbox.SyscallDenied", (sys, r)
            assert r["report"]["exit"] == {"signal": "SIGSYS"}, (sys, r)
            assert "after-load stage" in r["error"]["errorMessage"], (sys, r)
            assert ok(d.event({"sys": "noop"})) == {"rc": 0, "errno": 0}


def test_after_load_stage_covers_threads_started_while_loading():
    # tests/modules/loader_thread.c starts a thread from a constructor that
    # opens a file once the entry runs: under the after-load stage it is
    # refused like the entry itself (SECCOMP_FILTER_FLAG_TSYNC), and the
    # entry never gets what it read.
    from harness import ROOT
    import os
    strict = os.path.join(ROOT, "policies", "strict.policy")
    with Daemon("--policy", strict, module_path=module("loader_thread")) as d:
        r = d.event({})
        assert error_type(r) == "Forkbox.SyscallDenied", r
        assert r["report"]["exit"] == {"signal": "SIGSYS"}, r
    # Without the stage the same thread reads the file.
    with Daemon(module_path=module("loader_thread")) as d:
        assert ok(d.event({}))["read_by_loader_thread"] > 0


def test_native_network_policy_allows_outbound_tcp_udp_only():
    import os
    import socket
    from harness import ROOT
    net = os.path.join(ROOT, "policies", "native-network.policy")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    port = srv.getsockname()[1]
    try:
        with Daemon("--policy", net, module_path=module("hostile")) as d:
            assert ok(d.event({"do": "connect", "port": port})) == {"connect_rc": 0}
            conn, _ = srv.accept()
            conn.close()
        with Daemon("--policy", net, module_path=module("try_syscall")) as d:
            assert ok(d.event({"sys": "socket_udp6"})) == {"rc": 0, "errno": 0}
            assert ok(d.event({"sys": "socket_unix"})) == {"rc": 0, "errno": 0}
            for sys in ("socket_raw", "socket_netlink"):
                assert ok(d.event({"sys": sys})) == {"rc": -1, "errno": errno.EACCES}, sys
            r = d.event({"sys": "bind_inet"})  # outbound only: no server
            assert error_type(r) == "Forkbox.SyscallDenied" and r["error"]["syscall"] == "bind", r
    finally:
        srv.close()

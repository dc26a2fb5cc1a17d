"""forkboxd as an ordinary user, as it runs in AWS Lambda: no uid of its
own per slot, no PID namespace; the policy's signal guards and the
subreaper are what protect the zygote and kill the tree."""

import os
import shutil

from harness import (Daemon, Scratch, Skip, child_pids, error_type, janitors, module, ok,
                     private_dirs,
                     process_names)

NOBODY = 65534


def _daemon(*args, **kw):
    if os.geteuid() != 0:
        return Daemon(*args, **kw)  # already unprivileged
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) is needed to drop to an ordinary user")
    s = Scratch()
    os.makedirs(s.tmp_base, mode=0o700)
    os.chown(s.tmp_base, NOBODY, NOBODY)
    prefix = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
              "--inh-caps=-all", "--bounding-set=-all"]
    d = Daemon(*args, scratch=s, prefix=prefix, **kw)
    d.own_scratch = True  # removed with the daemon
    return d


def test_unprivileged_daemon_serves_and_says_what_it_lacks():
    with _daemon(module_path=module("counter")) as d:
        assert ok(d.event({})) == 1
        assert ok(d.event({})) == 1
        diag = d.diag()
        assert "uid-drop" in diag and "does not give it" in diag, diag
        assert private_dirs(d.scratch.tmp_base) == []


def test_unprivileged_module_cannot_kill_the_zygote_or_the_daemon():
    with _daemon(module_path=module("hostile")) as d:
        for act in ("kill_parent", "kill_all"):
            r = d.event({"do": act})
            assert ok(r) == {"kill_rc": -1}, r
            assert d.proc.poll() is None
        assert error_type(d.event({"do": "fail", "arg": "x"})) == "MyError"
        assert "restarted" not in d.diag()


def test_unprivileged_daemonized_grandchild_does_not_survive():
    marker = "fbx-unpriv-%d" % (os.getpid() % 10000)
    with _daemon(module_path=module("hostile")) as d:
        assert ok(d.event({"do": "daemonize", "arg": marker})) == {"forked": 1}
        assert [p for p, n in process_names().items() if n == marker] == []
        r = d.event({"do": "segv"})
        assert error_type(r) == "Runtime.ExitError"
        r = d.event({"do": "ptrace"})
        assert r["error"].get("syscall") == "ptrace", r


def test_unprivileged_module_cannot_read_the_daemons_environment_or_memory():
    env = {"AWS_SECRET_ACCESS_KEY": "s3cr3t-in-the-daemon"}
    with _daemon(module_path=module("hostile"), env=env) as d:
        assert error_type(d.event({"do": "fail", "arg": "warm-up"})) == "MyError"
        zygote = child_pids(d.proc.pid)
        targets = ["/proc/%d/environ" % d.proc.pid, "/proc/%d/mem" % d.proc.pid]
        targets += ["/proc/%d/environ" % z for z in zygote]
        for path in targets:
            r = ok(d.event({"do": "read", "arg": path}))
            assert "read_errno" in r, (path, r)


def test_unprivileged_module_cannot_kill_the_janitor():
    with _daemon(module_path=module("hostile")) as d:
        d.event({"do": "fail", "arg": "start the zygote"})
        (zygote,) = d.zygote_pid()
        (janitor,) = janitors(zygote)
        r = d.event({"do": "kill_pid", "mb": janitor})
        assert ok(r) == {"kill_rc": -1}, r
        assert janitors(zygote) == [janitor]
        assert "janitor process died" not in d.diag()

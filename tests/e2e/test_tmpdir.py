"""Private per-invocation directories."""

import os
import signal
import threading

from harness import (Daemon, Scratch, janitors, maps_of, module, ok, private_dirs, proc_state,
                     wait_until)


def test_private_dir_fresh_cwd_tmpdir_home_and_holds_module():
    with Daemon(module_path=module("inspect")) as d:
        seen = set()
        for i in range(3):
            r = ok(d.event({"write": "left-behind-%d" % i}))
            assert r["entries_on_entry"] == ["inspect.so"], r["entries_on_entry"]
            assert r["cwd"] == r["TMPDIR"] == r["HOME"] == r["ctx_tmp_dir"]
            assert os.path.dirname(r["cwd"]) == os.path.realpath(d.scratch.tmp_base)
            assert r["wrote"] is True
            assert "left-behind-%d" % i in r["entries_at_end"]
            assert r["cwd"] not in seen
            seen.add(r["cwd"])
            assert not os.path.exists(r["cwd"]), "private dir survived the call"
        assert private_dirs(d.scratch.tmp_base) == []


def test_private_dir_mode_0700_while_running():
    with Daemon(module_path=module("inspect")) as d:
        d.send_raw(b'{"event": {"sleep_ms": 600}}\n')
        assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
        name = private_dirs(d.scratch.tmp_base)[0]
        st = os.stat(os.path.join(d.scratch.tmp_base, name))
        assert st.st_mode & 0o777 == 0o700, oct(st.st_mode)
        ok(d.read_response())


def test_concurrent_invocations_cannot_see_each_others_dir():
    with Daemon("-j", "2", module_path=module("inspect")) as d:
        # A sleeps; while it runs, B is told A's private dir and tries it.
        d.send_raw(b'{"id": "A", "event": {"sleep_ms": 1500}}\n')
        assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
        a_dir = os.path.join(os.path.realpath(d.scratch.tmp_base),
                             private_dirs(d.scratch.tmp_base)[0])
        d.send_raw(('{"id": "B", "event": {"peek": "%s"}}\n' % a_dir).encode())
        ra, rb = d.read_response(), d.read_response()
        assert ra["id"] == "A" and rb["id"] == "B"
        a, b = ok(ra), ok(rb)
        assert a["cwd"] == a_dir
        if os.geteuid() == 0:
            assert b["peek"] != "opened", "B opened A's private dir"
            assert b["uid"] != a["uid"], "concurrent invocations share a uid"
            assert b["parent_listable"] is False
        assert b["cwd"] != a["cwd"]


def test_stale_private_dirs_are_swept_at_start():
    s = Scratch()
    os.makedirs(s.tmp_base, mode=0o711)
    stale = os.path.join(s.tmp_base, "0f2b9a52-5c1e-4c39-9a53-3d1f1b3c7d11")
    os.makedirs(os.path.join(stale, "sub"))
    with open(os.path.join(stale, "sub", "f"), "w") as f:
        f.write("x")
    keep = os.path.join(s.tmp_base, "not-a-private-dir")
    os.makedirs(keep)
    with Daemon(module_path=module("counter"), scratch=s) as d:
        ok(d.event({}))
        assert not os.path.exists(stale)
        assert os.path.exists(keep)
        assert "stale private dirs" in d.diag()
    s.cleanup()


def _trash(tmp_base):
    return [n for n in os.listdir(tmp_base) if n.startswith(".trash-")]


def test_the_janitor_removes_retired_dirs_and_the_zygote_waits_for_it():
    s = Scratch()
    with Daemon(module_path=module("hostile"), scratch=s) as d:
        d.event({"do": "disk", "mb": 1})
        (zygote,) = d.zygote_pid()
        (janitor,) = janitors(zygote)
        for i in range(20):
            # Files, a subdirectory and links to plant: all must go.
            d.event({"do": "disk", "mb": 1})
            ok(d.event({"do": "symlinks", "arg": s.path}))
        assert wait_until(lambda: _trash(s.tmp_base) == [])
        assert private_dirs(s.tmp_base) == []
        assert "hostile.so" not in maps_of(janitor)
        # Work queued at exit is finished before the zygote exits.
        for i in range(10):
            d.send_raw(b'{"event": {"do": "disk", "mb": 1}}\n')
        for i in range(10):
            d.read_response()
    assert [n for n in os.listdir(s.tmp_base) if n.startswith((".trash-", ".spare-"))] == []
    assert private_dirs(s.tmp_base) == []
    assert not os.path.exists("/proc/%d" % janitor) or proc_state(janitor) == "Z"
    s.cleanup()


def test_a_dead_janitor_means_dirs_are_removed_inline():
    with Daemon(module_path=module("inspect")) as d:
        ok(d.event({}))
        (zygote,) = d.zygote_pid()
        (janitor,) = janitors(zygote)
        # Stopped, it queues what it is given; killed, it leaves that queue
        # to the zygote, which removes every retired dir itself.
        os.kill(janitor, signal.SIGSTOP)
        for i in range(3):
            ok(d.event({"write": "queued%d" % i}))
        assert len(_trash(d.scratch.tmp_base)) >= 3
        os.kill(janitor, signal.SIGKILL)
        assert wait_until(lambda: _trash(d.scratch.tmp_base) == [])
        assert wait_until(lambda: "janitor process died" in d.diag())
        for i in range(5):
            r = ok(d.event({"write": "x%d" % i}))
            assert not os.path.exists(r["cwd"])
            assert wait_until(lambda: _trash(d.scratch.tmp_base) == [])
        assert janitors(zygote) == []


def test_two_root_daemons_run_their_modules_under_different_uids():
    # Each handle claims a block of slot uids machine-wide (flock on
    # /run/forkbox/uid-block-N.lock): two daemons' modules could otherwise
    # signal each other's invocations. A block is free again at exit.
    if os.geteuid() != 0:
        from harness import Skip
        raise Skip("slot uids are root's")
    with Daemon(module_path=module("inspect")) as a:
        uid_a = ok(a.event({}))["uid"]
        with Daemon(module_path=module("inspect")) as b:
            uid_b = ok(b.event({}))["uid"]
            assert uid_a != uid_b and abs(uid_a - uid_b) >= 65536, (uid_a, uid_b)
    with Daemon(module_path=module("inspect")) as c:
        assert ok(c.event({}))["uid"] == uid_a


def _refuses_to_start(why):
    d = Daemon(module_path=module("inspect"))
    try:
        assert d.proc.wait(timeout=30) == 1
        assert why in d.diag(), d.diag()
    finally:
        d.close()


def test_uid_blocks_refused_when_unsafe_or_all_taken():
    # The lock dir decides which uids modules run as: a /run/forkbox that
    # others may write to is refused, and so is a machine with every block
    # taken. Done on a tmpfs over /run/forkbox, in the tests' own mount
    # namespace.
    import fcntl
    import subprocess
    from harness import Skip
    if os.geteuid() != 0:
        raise Skip("slot uids are root's")
    os.makedirs("/run/forkbox", mode=0o700, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0777", "tmpfs",
                       "/run/forkbox"]).returncode != 0:
        raise Skip("cannot mount a tmpfs here")
    held = []
    try:
        _refuses_to_start("not root's own")
        os.chmod("/run/forkbox", 0o700)
        for b in range(416):
            f = open("/run/forkbox/uid-block-%d.lock" % b, "w")
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(f)
        _refuses_to_start("uid blocks of /run/forkbox are claimed")
        held.pop().close()
        with Daemon(module_path=module("inspect")) as d:
            assert ok(d.event({}))["uid"] == 1900000000 + 415 * 9 * 65536
    finally:
        for f in held:
            f.close()
        subprocess.run(["umount", "/run/forkbox"])

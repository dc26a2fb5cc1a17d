"""The zygote's read-only snapshot of the default module, which spares
hard-link into their private dirs instead of copying it (uid per slot
only: sandbox/zygote_snapshot.c)."""

import errno
import os
import shutil
import time

from harness import Daemon, Scratch, module, ok, private_dirs, wait_until

from test_unprivileged import _daemon

SETTLE_S = 1.0  # the zygote snapshots only a file unchanged this long


def _settled(path):
    """Waits until path's last change is older than the settle time."""
    age = time.time() - os.stat(path).st_ctime
    if age < SETTLE_S + 0.2:
        time.sleep(SETTLE_S + 0.2 - age)


def _snapshots(tmp_base):
    return sorted(n for n in os.listdir(tmp_base) if n.startswith(".module-"))


def _snapshot_bytes(tmp_base, name):
    (snap,) = _snapshots(tmp_base)
    with open(os.path.join(tmp_base, snap, name), "rb") as f:
        return f.read()


def _bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_a_module_cannot_change_the_snapshot_the_next_invocations_link():
    if os.geteuid() != 0:
        return  # no uid per slot: spares copy (the unprivileged test below)
    path = module("hostile")
    _settled(path)
    s = Scratch()
    base = s.tmp_base
    with Daemon(module_path=path, scratch=s) as d:
        assert ok(d.event({"do": "echo"})) is not None
        assert wait_until(lambda: len(_snapshots(base)) == 1)
        snap = os.path.join(base, _snapshots(base)[0])
        st = os.stat(os.path.join(snap, "hostile.so"))
        assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o555)
        assert os.stat(snap).st_mode & 0o7777 == 0o700
        for i in range(3):
            r = ok(d.event({"do": "tamper_module", "arg": "hostile.so"}))
            # Its dir held a link to the snapshot, not a copy of its own:
            # it can drop the link and put its own file there, nothing
            # more.
            assert r["nlink"] >= 2 and r["uid"] == 0 and r["mode"] == 0o555, r
            assert r["write"] == errno.EACCES, r
            assert r["chmod"] == errno.EPERM, r
            assert r["link"] == errno.EPERM, r  # protected_hardlinks
            assert (r["unlink"], r["replace"]) == (0, 0), r
        assert _snapshot_bytes(base, "hostile.so") == _bytes(path)
        for i in range(4):
            assert ok(d.event({"do": "echo"})) is not None
    assert _snapshots(base) == [], "the snapshot outlived its zygote"
    assert private_dirs(base) == []
    s.cleanup()


def test_a_rewritten_module_is_run_as_rewritten_and_snapshotted_once_settled():
    s = Scratch()
    os.makedirs(s.tmp_base, mode=0o711)
    # A leftover of a daemon that was killed: swept at start.
    stale = os.path.join(s.tmp_base, ".module-3a0c9d4e-2b7f-4d61-8e35-0c6a1f9b7e22")
    os.makedirs(stale)
    with open(os.path.join(stale, "func.so"), "wb") as f:
        f.write(b"old")
    func = s.file("func.so")
    shutil.copyfile(module("value_1"), func)
    os.chmod(func, 0o644)
    _settled(func)
    root = os.geteuid() == 0
    with Daemon(module_path=func, scratch=s) as d:
        assert ok(d.event({})) == 1
        assert not os.path.exists(stale)
        if root:
            assert wait_until(lambda: len(_snapshots(s.tmp_base)) == 1)
            assert _snapshot_bytes(s.tmp_base, "func.so") == _bytes(module("value_1"))
        # Rewritten in place right before a request (the seed's way): the
        # spares' links are stale, each job sees it and copies.
        for v in (2, 3):
            with open(func, "r+b") as f:
                f.write(_bytes(module("value_%d" % v)))
                f.truncate()
            assert ok(d.event({})) == v
        # Settled again: a new snapshot replaces the old one.
        _settled(func)
        for i in range(3):
            assert ok(d.event({})) == 3
        if root:
            assert wait_until(
                lambda: len(_snapshots(s.tmp_base)) == 1 and
                _snapshot_bytes(s.tmp_base, "func.so") == _bytes(module("value_3")))
        for i in range(3):
            assert ok(d.event({})) == 3
    assert _snapshots(s.tmp_base) == []
    s.cleanup()


def test_no_snapshot_without_a_uid_per_slot():
    path = module("counter")
    _settled(path)
    with _daemon(module_path=path) as d:
        for i in range(4):
            assert ok(d.event({})) == 1
        assert _snapshots(d.scratch.tmp_base) == []

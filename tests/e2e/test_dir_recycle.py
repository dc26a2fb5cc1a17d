"""Private dirs emptied and recycled for later spares instead of removed
and made anew (--recycle-dirs, uid per slot only: sandbox/tmpdir_recycle.c,
zygote_janitor.c). A recycled dir is as a new one in everything a module
could change; a dir that a module changed for good is removed instead, and
one that another invocation could have reached waits until none runs."""

import os

from harness import ROOT, Daemon, Scratch, module, ok, private_dirs, wait_until

from test_unprivileged import _daemon


def _ident(r):
    """A recycled dir keeps its inode and its birth time."""
    return (r["ino"], r["birth_ns"])


def _free_dirs(tmp_base):
    return [n for n in os.listdir(tmp_base) if n.startswith(".free-")]


def _stat_many(d, n, **extra):
    out = []
    for _ in range(n):
        r = ok(d.event(dict({"do": "dir_stat"}, **extra)))
        out.append(r)
    return out


def test_sequential_invocations_get_recycled_dirs_that_look_new():
    if os.geteuid() != 0:
        return  # no uid per slot (the unprivileged test below)
    s = Scratch()
    with Daemon("--recycle-dirs", module_path=module("hostile"), scratch=s) as d:
        seen = _stat_many(d, 20)
        for r in seen:
            # Its only entry is its module; as made: 0700, its slot's.
            assert (r["mode"], r["nlink"], r["entries"]) == (0o700, 2, 1), r
            assert r["size"] == seen[0]["size"], r
            assert r["uid"] >= 1000, r
        idents = [_ident(r) for r in seen]
        assert len(set(idents)) < len(idents), "no dir was recycled: %s" % idents
    # The free dirs no spare took went with the zygote.
    assert _free_dirs(s.tmp_base) == [] and private_dirs(s.tmp_base) == []
    s.cleanup()


def test_a_dir_a_module_changed_for_good_is_removed_not_recycled():
    if os.geteuid() != 0:
        return
    s = Scratch()
    policy = s.file("xattr.policy")
    with open(policy, "w") as f:
        f.write("@include %s\nsetxattr\nlistxattr\n"
                % os.path.join(ROOT, "policies", "native.policy"))
    with Daemon("--recycle-dirs", "--policy", policy, module_path=module("hostile"), scratch=s) as d:
        fresh = _stat_many(d, 1, arg="xattr")[0]
        # Grown by many entries (a dir's size stays), an extended
        # attribute: removed. A mode open to all: the seal takes it back,
        # so that one may be recycled.
        for taint, for_good in (({"mb": 300}, True), ({"mb": 0, "arg": "xattr"}, True),
                                ({"mb": 0}, False)):
            r = ok(d.event(dict({"do": "dir_taint"}, **taint)))
            if taint["mb"]:
                assert r["size"] > fresh["size"], (fresh, r)
            for later in _stat_many(d, 6, arg="xattr"):
                assert (later["mode"], later["entries"]) == (0o700, 1), later
                assert later["xattr_bytes"] == 0 and later["size"] == fresh["size"], later
                if for_good:
                    assert _ident(later) != _ident(r), (taint, r, later)
    s.cleanup()


def _base_entries(tmp_base, prefix):
    if not os.path.isdir(tmp_base):
        return []
    return [n for n in os.listdir(tmp_base) if n.startswith(prefix)]


def _is_empty(path):
    try:
        return not os.listdir(path)
    except FileNotFoundError:
        return True  # taken by a spare meanwhile


def test_a_dir_waits_until_no_invocation_runs():
    if os.geteuid() != 0:
        return
    s = Scratch()
    with Daemon("--recycle-dirs", "-j", "2", module_path=module("hostile"), scratch=s) as d:
        # A holds its child while B, C, D, E run one after the other
        # beside it: A could have opened any of their dirs (after a chmod)
        # and still hold it, so none serves again while A runs.
        d.send_raw(b'{"id": "A", "event": {"do": "dir_stat", "ms": 1500}}\n')
        for i in "BCDE":
            d.send_raw(b'{"id": "%s", "event": {"do": "dir_stat"}}\n' % i.encode())
        # F fills its dir: emptied at once all the same, while A runs.
        d.send_raw(b'{"id": "F", "event": {"do": "disk", "mb": 20}}\n')
        base = s.tmp_base

        def emptied():
            frees = _base_entries(base, ".free-")
            return (not _base_entries(base, ".trash-") and len(frees) >= 5 and
                    all(_is_empty(os.path.join(base, n)) for n in frees))
        assert wait_until(emptied, timeout=1.2), os.listdir(base)
        rs = [d.read_response() for _ in range(6)]
        assert rs[0]["id"] == "A" and rs[5]["error"]["errorType"] == "DiskError", rs
        ids = [_ident(ok(r)) for r in rs[:5]]
        assert len(set(ids)) == 5, ids
        # With A gone, nothing of ours runs: the dirs held back serve,
        # and the next invocations get them.
        later = [_ident(r) for r in _stat_many(d, 12)]
        assert set(later) & set(ids), (ids, later)
        assert len(set(later)) < len(later), later
    s.cleanup()


def test_a_crowd_beside_a_long_invocation_gets_no_recycled_dir():
    """-j 4, a long invocation and a crowd beside it: no lull, so every
    answer right and every dir new; the crowd's dirs serve once the long
    one is gone. (A crowd alone may lull between its batches.)"""
    if os.geteuid() != 0:
        return
    s = Scratch()
    with Daemon("--recycle-dirs", "-j", "4", module_path=module("hostile"), scratch=s) as d:
        lines = b'{"id": "long", "event": {"do": "dir_stat", "ms": 1500}}\n'
        lines += b"".join(b'{"id": %d, "event": {"do": "dir_stat", "ms": 30}}\n' % i
                          for i in range(12))
        d.send_raw(lines)
        crowd = [ok(d.read_response()) for _ in range(13)]
        for r in crowd:
            assert (r["mode"], r["entries"]) == (0o700, 1), r
        crowd_ids = [_ident(r) for r in crowd]
        assert len(set(crowd_ids)) == 13, crowd_ids
        after = [_ident(r) for r in _stat_many(d, 8)]
        assert set(after) & set(crowd_ids), (crowd_ids, after)
    assert _free_dirs(s.tmp_base) == [] and private_dirs(s.tmp_base) == []
    assert not [n for n in os.listdir(s.tmp_base) if n.startswith(".trash-")]
    s.cleanup()


def test_a_free_dir_changed_while_free_is_not_taken():
    # Only root can touch a free dir (the zygote's, 0700, in a base only
    # root writes to): the test stands in for an administrator's mistake.
    if os.geteuid() != 0:
        return
    s = Scratch()
    with Daemon("--recycle-dirs", module_path=module("hostile"), scratch=s) as d:
        _stat_many(d, 4)
        assert wait_until(lambda: _free_dirs(s.tmp_base)), os.listdir(s.tmp_base)
        # Idle now: the free dirs stay until the next spares are forked.
        for n in _free_dirs(s.tmp_base):
            os.chmod(os.path.join(s.tmp_base, n), 0o755)
        for r in _stat_many(d, 6):
            assert (r["mode"], r["entries"]) == (0o700, 1), r
        assert "changed while free; a new dir is made instead" in d.diag(), d.diag()
        assert '"level":"error"' not in d.diag(), d.diag()
    assert _free_dirs(s.tmp_base) == [] and private_dirs(s.tmp_base) == []
    s.cleanup()


def _each_dir_new(d):
    seen = [_ident(r) for r in _stat_many(d, 10)]
    if any(b < 0 for _, b in seen):
        return  # no birth times on this file system: cannot tell
    # Each dir is made anew (inode numbers may come back; birth times do
    # not).
    assert len(set(seen)) == len(seen), seen
    assert _free_dirs(d.scratch.tmp_base) == []


def test_no_recycling_unless_asked():
    with Daemon(module_path=module("hostile")) as d:
        _each_dir_new(d)


def test_no_recycling_without_a_uid_per_slot():
    with _daemon("--recycle-dirs", module_path=module("hostile")) as d:
        _each_dir_new(d)

"""Private dirs emptied and recycled for later spares instead of removed
and made anew (--recycle-dirs, uid per slot only: sandbox/tmpdir_recycle.c).
A recycled
dir is as a new one in everything a module could change; a dir that a
module changed for good, or that another invocation could have reached
while it ran, is removed instead."""

import os

from harness import ROOT, Daemon, Scratch, module, ok, private_dirs

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


def test_dirs_of_invocations_that_ran_at_once_are_never_recycled():
    if os.geteuid() != 0:
        return
    with Daemon("--recycle-dirs", "-j", "2", module_path=module("hostile")) as d:
        # Two at once: either could have opened the other's dir (after a
        # chmod) and still hold it when the other ends.
        for i in (1, 2):
            d.send_raw(b'{"id": %d, "event": {"do": "dir_stat", "ms": 300}}\n' % i)
        together = [ok(d.read_response()) for _ in (1, 2)]
        assert _ident(together[0]) != _ident(together[1])
        # One at a time from here on: dirs are recycled again, but never
        # those two.
        later = _stat_many(d, 12)
        later_ids = [_ident(r) for r in later]
        for r in together:
            assert _ident(r) not in later_ids, (r, later_ids)
        assert len(set(later_ids)) < len(later_ids), "recycling stopped: %s" % later_ids


def test_a_crowd_at_once_leaves_no_dir_to_recycle():
    """The same rule with -j 4 and a crowd: every answer right, and no dir
    of the crowd serves again."""
    if os.geteuid() != 0:
        return
    with Daemon("--recycle-dirs", "-j", "4", module_path=module("hostile")) as d:
        lines = b"".join(b'{"id": %d, "event": {"do": "dir_stat", "ms": 50}}\n' % i
                         for i in range(12))
        d.send_raw(lines)
        crowd = [ok(d.read_response()) for _ in range(12)]
        for r in crowd:
            assert (r["mode"], r["entries"]) == (0o700, 1), r
        after = [_ident(r) for r in _stat_many(d, 8)]
        # Every one of the crowd ran beside another.
        assert not set(after) & {_ident(r) for r in crowd}


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

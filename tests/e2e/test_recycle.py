"""Zygote recycling (--zygote-max-invocations, --zygote-max-age): the zygote
is replaced by a freshly exec'd one without dropping or failing a request;
the retired one finishes what it runs and exits; nothing accumulates.

The inspect module reports its parent pid, which is the zygote that forked
it (no PID namespace by default)."""

import collections
import json
import os
import shutil
import subprocess
import time

from harness import (Daemon, Scratch, build_path, child_pids, error_type, module, ok,
                     private_dirs, wait_until)

ZYGOTE = "forkbox-zygote"


def _stat(pid):
    """(comm, state) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            head, tail = f.read().rsplit(")", 1)
        return head.split("(", 1)[1], tail.split()[0]
    except OSError:
        return None


def _zygotes(d, live_only=False):
    """The daemon's zygote children, zombies included unless live_only."""
    out = []
    for pid in child_pids(d.proc.pid):
        st = _stat(pid)
        if st and st[0] == ZYGOTE and not (live_only and st[1] == "Z"):
            out.append(pid)
    return out


def _first_zygote(d):
    """The zygote the daemon starts with, once it is up."""
    assert wait_until(lambda: len(_zygotes(d)) == 1, timeout=10), d.diag()
    return _zygotes(d)[0]


def _leftovers(tmp_base, free=3):
    """Entries of the tmp base besides its lock file, the spares' dirs,
    one module snapshot and up to `free` recycled dirs (the live zygote's:
    it has served that many; each retired one removes its own)."""
    if not os.path.isdir(tmp_base):
        return []
    names = [n for n in os.listdir(tmp_base)
             if n != ".forkbox.lock" and not n.startswith(".spare-")]
    snapshots = [n for n in names if n.startswith(".module-")]
    frees = [n for n in names if n.startswith(".free-")]
    return [n for n in names if n not in snapshots[:1] + frees[:free]]


def _spare_dirs(tmp_base):
    return [n for n in os.listdir(tmp_base) if n.startswith(".spare-")]


def _stream(jobs):
    with Daemon("--zygote-max-invocations", "3", "-j", str(jobs),
                module_path=module("inspect")) as d:
        first = _first_zygote(d)
        # Every other request holds its child a little, so that with -j 2
        # an invocation is still running when the next one recycles.
        for i in range(20):
            sleep = 60 if i % 2 else 0
            d.send_raw(json.dumps({"id": i, "event": {"sleep_ms": sleep}}).encode() + b"\n")
        resps = [d.read_response() for _ in range(20)]
        assert [r["id"] for r in resps] == list(range(20)), [r["id"] for r in resps]
        results = [ok(r) for r in resps]
        ppids = [res["ppid"] for res in results]
        assert all(p > 1 for p in ppids), ppids
        assert ppids[0] == first, (ppids, first)
        # Three invocations per zygote: 20 = 6 * 3 + 2.
        counts = collections.Counter(ppids)
        assert sorted(counts.values()) == [2, 3, 3, 3, 3, 3, 3], counts
        if jobs == 1:
            # In sequence the change comes exactly every third request.
            for i in range(20):
                assert ppids[i] == ppids[i - i % 3], (i, ppids)
            for i in range(3, 20, 3):
                assert ppids[i] != ppids[i - 1], (i, ppids)
        if os.geteuid() == 0:
            # Children of two generations may run at once: they never
            # share a uid.
            order = list(dict.fromkeys(ppids))
            uids = {z: {res["uid"] for res in results if res["ppid"] == z} for z in order}
            for a, b in zip(order, order[1:]):
                assert not uids[a] & uids[b], (a, b, uids)
        assert d.diag().count("zygote recycled (reason: invocations") == 6, d.diag()

        # The retired zygotes exit by themselves once their work is done...
        assert wait_until(lambda: len(_zygotes(d, live_only=True)) == 1, timeout=10), \
            [(_stat(p), p) for p in _zygotes(d)]
        # ...and the next request (the last zygote's third) reaps them.
        last = ok(d.event({}))["ppid"]
        assert last == ppids[-1]
        assert _zygotes(d) == [last], [(p, _stat(p)) for p in _zygotes(d)]
        for z in set(ppids) - {last}:
            assert _stat(z) is None, (z, _stat(z))
        # No private dir, trash or retired spare's dir is left behind: only
        # the current zygote's two spares (the default).
        base = d.scratch.tmp_base
        assert wait_until(lambda: not _leftovers(base) and len(_spare_dirs(base)) == 2), \
            os.listdir(base)
        assert private_dirs(base) == []
        assert '"level":"error"' not in d.diag(), d.diag()
        assert d.close() == 0


def test_recycle_every_3_invocations_in_sequence():
    _stream(1)


def test_recycle_every_3_invocations_with_j2():
    _stream(2)


def test_recycle_by_age():
    with Daemon("--zygote-max-age", "1", module_path=module("inspect")) as d:
        a = ok(d.event({}))["ppid"]
        b = ok(d.event({}))["ppid"]
        assert a == b, "recycled before its age"
        time.sleep(1.5)
        c = ok(d.event({}))["ppid"]
        e = ok(d.event({}))["ppid"]
        assert c != a, "not recycled after its age"
        assert e == c
        assert "zygote recycled (reason: age" in d.diag(), d.diag()
        assert wait_until(lambda: _stat(a) in (None, ("forkbox-zygote", "Z")), timeout=5)
        assert ok(d.event({}))["ppid"] == c
        assert _zygotes(d) == [c]


def test_a_fresh_zygote_that_cannot_start_leaves_the_old_one_serving():
    s = Scratch()
    helper = s.file(ZYGOTE)
    shutil.copy2(build_path(ZYGOTE), helper)
    with Daemon("--zygote-max-invocations", "2", module_path=module("inspect"), scratch=s,
                env={"FORKBOX_ZYGOTE": helper}) as d:
        first = _first_zygote(d)
        assert [ok(d.event({}))["ppid"] for _ in range(2)] == [first] * 2
        os.rename(helper, helper + ".away")
        # Due, but no fresh zygote can start: the old one serves on, and
        # every spawn tries again.
        assert [ok(d.event({}))["ppid"] for _ in range(2)] == [first] * 2
        assert d.diag().count("cannot start a fresh zygote") == 2, d.diag()
        os.rename(helper + ".away", helper)
        fresh = ok(d.event({}))["ppid"]
        assert fresh != first
        assert "zygote recycled (reason: invocations; it served 4 " in d.diag(), d.diag()
        assert wait_until(lambda: _zygotes(d, live_only=True) == [fresh], timeout=5)
    s.cleanup()


def test_no_recycling_by_default():
    with Daemon(module_path=module("inspect")) as d:
        ppids = {ok(d.event({}))["ppid"] for _ in range(10)}
        assert len(ppids) == 1, ppids
        assert "recycled" not in d.diag()


def test_long_invocation_survives_the_recycle():
    with Daemon("--zygote-max-invocations", "1", "-j", "2",
                module_path=module("inspect")) as d:
        start = time.monotonic()
        d.send_raw(b'{"id": "A", "event": {"sleep_ms": 1000}}\n')
        # B only once A runs: with -j 2 either could reach the zygote first.
        assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
        d.send_raw(b'{"id": "B", "event": {}}\n')
        # B replaced A's zygote while A still runs: two live zygotes.
        assert wait_until(lambda: len(_zygotes(d, live_only=True)) == 2, timeout=5)
        ra, rb = d.read_response(), d.read_response()
        assert (ra["id"], rb["id"]) == ("A", "B")
        a, b = ok(ra), ok(rb)
        assert time.monotonic() - start >= 0.9
        assert a["ppid"] != b["ppid"]
        assert wait_until(lambda: _stat(a["ppid"]) in (None, (ZYGOTE, "Z")), timeout=5)
        assert private_dirs(d.scratch.tmp_base) == []
        assert d.close() == 0
        assert _stat(a["ppid"]) is None and _stat(b["ppid"]) is None


def test_timeout_is_enforced_in_a_retired_zygote():
    with Daemon("--zygote-max-invocations", "1", "-j", "2", "--timeout-ms", "800",
                module_path=module("hostile")) as d:
        start = time.monotonic()
        d.send_raw(b'{"id": "spin", "event": {"do": "spin"}}\n')
        assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
        d.send_raw(b'{"id": "next", "event": {"do": "echo"}}\n')
        # The spinning one's zygote is retired; its deadline still holds.
        assert wait_until(lambda: len(_zygotes(d, live_only=True)) == 2, timeout=5)
        ra, rb = d.read_response(), d.read_response()
        assert (ra["id"], rb["id"]) == ("spin", "next")
        assert error_type(ra) == "Sandbox.Timedout", ra
        assert time.monotonic() - start < 2.5
        ok(rb)
        # A result too large is cut off (and its child killed by token)
        # in a retired zygote too.
        d.send_raw(b'{"id": "big", "event": {"do": "big_result", "mb": 64}}\n')
        d.send_raw(b'{"id": "after", "event": {"do": "echo"}}\n')
        rc, rd = d.read_response(), d.read_response()
        assert error_type(rc) == "Forkbox.OutputTooLarge", rc
        ok(rd)
        assert d.diag().count("zygote recycled (reason: invocations") == 3, d.diag()
        assert wait_until(lambda: len(_zygotes(d, live_only=True)) == 1, timeout=5)
        assert private_dirs(d.scratch.tmp_base) == []


def test_retired_zygote_outlives_its_host():
    """Once retired, a zygote whose host vanishes still finishes what it
    runs (its report has nowhere to go, but nothing is cut short), then
    exits and cleans up; the current zygote kills its children at once, as
    any zygote whose host vanished without a word."""
    d = Daemon("--zygote-max-invocations", "1", "-j", "2", module_path=module("inspect"))
    try:
        retired = _first_zygote(d)  # A's; B's spawn replaces it
        d.send_raw(b'{"id": "A", "event": {"sleep_ms": 1500}}\n')
        assert wait_until(lambda: len(private_dirs(d.scratch.tmp_base)) == 1)
        d.send_raw(b'{"id": "B", "event": {}}\n')
        assert wait_until(lambda: len(_zygotes(d, live_only=True)) == 2, timeout=5)
        (current,) = [z for z in _zygotes(d, live_only=True) if z != retired]
        time.sleep(0.2)
        d.proc.kill()
        d.proc.wait()
        killed_at = time.monotonic()
        assert wait_until(lambda: _stat(current) in (None, (ZYGOTE, "Z")), timeout=3)
        time.sleep(0.3)
        st = _stat(retired)
        assert st is not None and st[1] != "Z", ("the retired zygote died with its host", st)
        assert wait_until(lambda: _stat(retired) in (None, (ZYGOTE, "Z")), timeout=5)
        assert time.monotonic() - killed_at >= 0.5
        base = d.scratch.tmp_base
        assert wait_until(lambda: not _leftovers(base) and not _spare_dirs(base)), \
            os.listdir(base)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        d.close()


def test_help_lists_the_recycling_flags():
    out = subprocess.run([build_path("forkboxd"), "stdio", "--help"], capture_output=True,
                         text=True, timeout=10).stdout
    assert "--zygote-max-invocations N" in out, out
    assert "--zygote-max-age SECONDS" in out, out
    bad = subprocess.run([build_path("forkboxd"), "stdio", "--zygote-max-age", "soon"],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0 and "--zygote-max-age" in bad.stderr, bad.stderr

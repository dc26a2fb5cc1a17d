"""The problem forkbox exists for: a warm process that reloads a module
from the same path keeps answering with the first version."""

import os
import shutil

from harness import Daemon, Scratch, child_pids, maps_of, module, ok


def test_same_path_rewritten_before_each_request_answers_1_to_9():
    s = Scratch()
    func = s.file("func.so")
    shutil.copy(module("value_1"), func)
    answers = []
    with Daemon(module_path=func, scratch=s) as d:
        long_lived = [d.proc.pid] + child_pids(d.proc.pid)
        for i in range(1, 10):
            # Rewrite in place, as the seed rewrites /tmp/func.py.
            with open(module("value_%d" % i), "rb") as src, open(func, "wb") as dst:
                dst.write(src.read())
            answers.append(ok(d.event({})))
        for pid in long_lived:
            maps = maps_of(pid)
            assert "func.so" not in maps and "/modules/" not in maps, \
                "long-lived pid %d maps a module:\n%s" % (pid, maps)
    s.cleanup()
    assert answers == list(range(1, 10)), answers


def test_module_level_counter_is_1_every_time():
    with Daemon(module_path=module("counter")) as d:
        assert [ok(d.event({})) for _ in range(5)] == [1] * 5


def test_zygote_is_a_separate_exec_not_a_fork_of_the_daemon():
    with Daemon(module_path=module("counter")) as d:
        ok(d.event({}))
        kids = child_pids(d.proc.pid)
        assert len(kids) == 1, kids
        with open("/proc/%d/cmdline" % kids[0], "rb") as f:
            assert f.read().split(b"\0")[0] == b"forkbox-zygote"
        with open("/proc/%d/status" % kids[0]) as f:
            threads = [l for l in f if l.startswith("Threads:")][0].split()[1]
        assert threads == "1", "zygote must be single-threaded"


def test_same_size_same_mtime_rewrites_are_seen():
    # Spares copy the module ahead and keep the copy only if it still
    # equals the file, byte for byte: neither the size nor the time stamp
    # (restored here after every rewrite) may stand in for the content.
    s = Scratch()
    func = s.file("func.so")
    shutil.copy(module("value_1"), func)
    st = os.stat(func)
    answers = []
    with Daemon(module_path=func, scratch=s) as d:
        answers.append(ok(d.event({})))
        for i in (2, 3, 2, 9):
            with open(module("value_%d" % i), "rb") as src:
                data = src.read()
            assert len(data) == st.st_size, "the value_N modules differ in size"
            with open(func, "wb") as dst:
                dst.write(data)
            os.utime(func, ns=(st.st_atime_ns, st.st_mtime_ns))
            answers.append(ok(d.event({})))
    s.cleanup()
    assert answers == [1, 2, 3, 2, 9], answers

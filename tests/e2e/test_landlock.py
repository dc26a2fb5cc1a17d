"""The Landlock layer (sandbox/child_landlock.c): a module writes only
beneath its own private dir, and signals only its own process tree.

"Shared uid" runs (--disable-layer uid-drop) are what Lambda gives: every
module has the daemon's uid, which owns the tmp base; as root here they also
have root's permissions, so only Landlock stands in the way. Each refusal is
checked against the same run with the layer off, so that a test cannot pass
for another reason."""

import os
import re
import shutil

from harness import Daemon, Skip, child_pids, module, ok


def _layers(d):
    """The layers the daemon said it runs with, once it has served one
    request (so that its start-up diagnostics are written)."""
    d.event({"do": "fail", "arg": "ready?"})
    m = re.search(r"sandbox ready; layers: ([a-z,-]*)", d.diag())
    assert m, d.diag()
    return m.group(1).split(",")


def _landlock_or_skip(d):
    if "landlock" not in _layers(d):
        raise Skip("this kernel gives no Landlock")


def _outside_paths(tag):
    paths = ["/tmp/fbx-landlock-%s-%d" % (tag, os.getpid())]
    if os.path.isdir("/dev/shm"):
        paths.append("/dev/shm/fbx-landlock-%s-%d" % (tag, os.getpid()))
    return paths


def _create(d, path):
    return ok(d.event({"do": "create", "arg": path}))["create_errno"]


def _writes(*args):
    tag = "-".join(a.strip("-") for a in args) or "root"
    with Daemon(*args, module_path=module("hostile")) as d:
        _landlock_or_skip(d)
        for path in _outside_paths(tag) + [os.path.join(d.scratch.tmp_base, "planted")]:
            assert _create(d, path) == 13, path  # EACCES
            assert not os.path.exists(path), path
        # Its own dir and /dev/null stay writable.
        assert _create(d, "own-file") == 0
        assert _create(d, "/dev/null") == 0


def test_writes_outside_the_private_dir_are_refused():
    _writes()


def test_writes_outside_the_private_dir_are_refused_shared_uid():
    _writes("--disable-layer", "uid-drop")


def test_without_the_layer_the_same_writes_succeed():
    # The control: world-writable /tmp takes the file when Landlock is off.
    with Daemon("--disable-layer", "landlock", module_path=module("hostile")) as d:
        assert "landlock" not in _layers(d)
        for path in _outside_paths("off"):
            try:
                assert _create(d, path) == 0, path
            finally:
                if os.path.exists(path):
                    os.unlink(path)


def test_a_module_of_the_daemons_uid_cannot_write_into_dirs_made_ahead():
    # With the tmp base its uid's own, a module lists it and finds the dir
    # made ahead for the next invocation (a spare's).
    with Daemon("--disable-layer", "uid-drop", module_path=module("hostile")) as d:
        _landlock_or_skip(d)
        r = ok(d.event({"do": "plant_spares"}))
        assert r["spares"] >= 1, r
        assert r["planted"] == 0, r
    with Daemon("--disable-layer", "uid-drop,landlock",
                module_path=module("hostile")) as d:
        r = ok(d.event({"do": "plant_spares"}))
        assert r["spares"] >= 1 and r["planted"] == r["spares"], r


def test_without_landlock_a_dir_written_into_is_not_handed_out():
    # The fallback where the kernel has no Landlock (Lambda may not): at
    # hand-over the zygote finds the spare's dir changed, discards that
    # spare and starts the job in a fresh one.
    with Daemon("--disable-layer", "uid-drop,landlock",
                module_path=module("hostile")) as d:
        r = ok(d.event({"do": "plant_spares"}))
        assert r["spares"] >= 1 and r["planted"] == r["spares"], r
        for _ in range(3):
            r = ok(d.event({"do": "read", "arg": "planted.py"}))
            assert r == {"read_errno": 2}, r  # ENOENT
        assert "its private dir was changed" in d.diag()


def test_a_module_cannot_move_its_dir_out_of_the_cleanups_way():
    # Renamed, the dir would escape its removal by name after the call.
    with Daemon("--disable-layer", "uid-drop", module_path=module("hostile")) as d:
        _landlock_or_skip(d)
        r = ok(d.event({"do": "rename_own"}))
        assert r["rename_errno"] == 13, r  # EACCES
    with Daemon("--disable-layer", "uid-drop,landlock",
                module_path=module("hostile")) as d:
        r = ok(d.event({"do": "rename_own"}))
        assert r["rename_errno"] == 0, r
        kept = [n for n in os.listdir(d.scratch.tmp_base) if n.endswith("-kept")]
        assert kept, os.listdir(d.scratch.tmp_base)
        for n in kept:
            shutil.rmtree(os.path.join(d.scratch.tmp_base, n))


def _host_thread(d):
    d.event({"do": "fail", "arg": "threads started"})
    tids = [int(t) for t in os.listdir("/proc/%d/task" % d.proc.pid)]
    others = [t for t in tids if t != d.proc.pid]
    if not others:
        raise Skip("forkboxd runs no thread besides its main one")
    return others[0]


def test_a_module_cannot_signal_the_hosts_threads():
    # The seccomp guard carves the host's pid out of kill(), but a thread's
    # id reaches the whole process too, and no filter can know them ahead.
    # -j 2: with -j 1 forkboxd stdio answers on its main thread alone.
    with Daemon("-j", "2", "--disable-layer", "uid-drop", module_path=module("hostile")) as d:
        _landlock_or_skip(d)
        if "landlock-scope" not in _layers(d):
            raise Skip("this kernel's Landlock does not scope signals (ABI < 6)")
        (zygote,) = child_pids(d.proc.pid)
        for target in (_host_thread(d), d.proc.pid, zygote):
            r = ok(d.event({"do": "signal0", "mb": target}))
            assert r["signal_errno"] == 1, (target, r)  # EPERM
        # It can still signal itself (kill(getpid(), 0)).
        r = ok(d.event({"do": "signal0", "mb": 0}))
        assert r["signal_errno"] == 0, r
    with Daemon("-j", "2", "--disable-layer", "uid-drop,landlock-scope",
                module_path=module("hostile")) as d:
        target = _host_thread(d)
        r = ok(d.event({"do": "signal0", "mb": target}))
        assert r["signal_errno"] == 0, (target, r)


def test_a_tmp_base_made_unwritable_by_a_module_is_set_back():
    # Landlock has no say over modes: a module of the daemon's uid can
    # chmod the base it owns; the zygote sets it back before using it.
    with Daemon("--disable-layer", "uid-drop", module_path=module("hostile")) as d:
        assert ok(d.event({"do": "chmod_base", "mb": 500})) == {"chmod_errno": 0}
        for _ in range(3):
            assert ok(d.event({"do": "create", "arg": "x"})) == {"create_errno": 0}
        assert "set back to" in d.diag()


def test_dirs_made_ahead_chmodded_by_a_module_still_serve():
    # Landlock has no say over modes: a module of the daemon's uid can
    # chmod the dirs made ahead for later invocations; each child makes its
    # dir its own again before it stages the module.
    from test_unprivileged import _daemon
    with _daemon(module_path=module("hostile")) as d:
        for _ in range(10):
            r = ok(d.event({"do": "chmod_spares"}))
            assert r["spares"] >= 1 and r["planted"] == r["spares"], r
            assert ok(d.event({"do": "create", "arg": "x"})) == {"create_errno": 0}


def test_require_refuses_to_start_without_a_layer():
    # --require names layers the deployment insists on: missing, forkboxd
    # says which and exits 1 before serving anything.
    import subprocess
    from harness import build_path
    base = [build_path("forkboxd"), "stdio", "--module", module("noop")]
    p = subprocess.run(base + ["--disable-layer", "landlock", "--require", "landlock"],
                       input=b'{"event": {}}\n', capture_output=True, timeout=30)
    assert p.returncode == 1, p
    assert p.stdout == b"", p.stdout
    assert b"'landlock' is required (--require) but not in place" in p.stderr, p.stderr
    p = subprocess.run(base + ["--require", "seccomp,subreaper"],
                       input=b'{"event": {}}\n', capture_output=True, timeout=30)
    assert p.returncode == 0 and b'"status":"ok"' in p.stdout, p
    p = subprocess.run(base + ["--require", "landlok"], capture_output=True, timeout=30)
    assert p.returncode == 2 and b"is not one of" in p.stderr, p


def test_exec_runtime_refuses_concurrency_with_nothing_between_invocations():
    # An exec'd program is dumpable again: under one uid and without
    # Landlock's ptrace rule, one invocation could read another's memory.
    import subprocess
    from harness import build_path
    cmd = [build_path("forkboxd"), "stdio", "--runtime", "exec", "--module",
           build_path("tests", "modules", "exec", "try_exec"), "-j", "2",
           "--disable-layer"]
    p = subprocess.run(cmd + ["uid-drop,landlock"], input=b"", capture_output=True,
                       timeout=30)
    assert p.returncode == 1, p
    assert b"could read another's memory" in p.stderr, p.stderr
    for layers in ("uid-drop", "landlock"):
        p = subprocess.run(cmd + [layers], input=b"", capture_output=True, timeout=30)
        if layers == "uid-drop" and b"landlock" not in p.stderr.split(b"layers: ")[-1]:
            continue  # no Landlock here: the refusal above is all there is
        assert p.returncode == 0, (layers, p)


def test_landlock_that_cannot_be_entered_is_a_missing_layer_not_a_failure_per_request():
    # Under a supervisor that took all 16 nesting levels, the kernel says
    # it has Landlock but refuses any domain below: the zygote finds out
    # once at start, says so, and serves without the layer (or, with
    # --require landlock, forkboxd refuses to start), instead of failing
    # every invocation.
    import subprocess
    from harness import build_path
    nest = build_path("tests", "landlock_nest")
    if subprocess.run([nest, "0", "true"]).returncode == 77:
        raise Skip("this kernel gives no Landlock")
    with Daemon(module_path=module("hostile"), prefix=[nest, "16"]) as d:
        assert "landlock" not in _layers(d)
        assert "child cannot enter a domain here (at most 16 domains nest" in d.diag(), d.diag()
        for i in range(3):
            assert _create(d, "x%d" % i) == 0
    # One level left is enough.
    with Daemon(module_path=module("hostile"), prefix=[nest, "15"]) as d:
        assert "landlock" in _layers(d)
        assert "cannot enter a domain" not in d.diag()
    p = subprocess.run([nest, "16", build_path("forkboxd"), "stdio", "--module",
                        module("noop"), "--require", "landlock"],
                       input=b'{"event": {}}\n', capture_output=True, timeout=30)
    assert p.returncode == 1 and p.stdout == b"", p
    assert b"'landlock' is required (--require) but not in place" in p.stderr, p.stderr

"""forkbox policy learn: a policy learned from one run lets that run pass
and nothing the run did not do."""

import json
import subprocess

from harness import Scratch, build_path, module


def _forkbox(*args, timeout=60):
    return subprocess.run([build_path("forkbox")] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def test_learned_policy_runs_the_module_and_refuses_the_rest():
    s = Scratch()
    policy = s.file("hello.policy")
    hello = build_path("examples", "hello.so")
    p = _forkbox("policy", "learn", "--out", policy, "--", "--module", hello,
                 "--event-json", '{"name": "Ada"}', "--tmp-base", s.tmp_base)
    assert p.returncode == 0, p.stderr
    text = open(policy).read()
    names = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith(("#", "@"))]
    assert "@default kill" in text
    for needed in ("openat", "mmap", "exit_group"):
        assert needed in names, names
    for never in ("socket", "clone", "execve", "ptrace", "clone3"):
        assert never not in names, names
    assert len(names) < 40, names  # minimal: a handful, not native.policy's ~90

    # It checks, and the module passes under it...
    assert _forkbox("policy", "check", policy).returncode == 0
    r = _forkbox("run", "--policy", policy, "--module", hello, "--event-json",
                 '{"name": "Ada"}', "--tmp-base", s.tmp_base)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["result"] == {"greeting": "Hello, Ada!"}

    # ...while what that run never did is denied.
    r = _forkbox("run", "--policy", policy, "--module", module("try_syscall"), "--event-json",
                 '{"sys": "socket_unix"}', "--tmp-base", s.tmp_base)
    out = json.loads(r.stdout)
    assert out["error"]["errorType"] == "Forkbox.SyscallDenied", out
    assert out["error"]["syscall"] == "socket", out
    s.cleanup()


def test_learn_prints_to_stdout_and_reports_a_failing_run():
    s = Scratch()
    p = _forkbox("policy", "learn", "--", "--module", module("hostile"), "--event-json",
                 '{"do": "fail", "arg": "x"}', "--tmp-base", s.tmp_base)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# Learned by 'forkbox policy learn'")
    assert "the module failed this run" in p.stderr
    bad = _forkbox("policy", "learn", "--module", "x.so")
    assert bad.returncode == 2
    s.cleanup()

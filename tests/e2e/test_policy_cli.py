"""forkbox policy check / dump: policies checked and shown without a sandbox."""

import os
import platform
import re
import subprocess

from harness import ROOT, Scratch, build_path

BPF_LINE = re.compile(r"^\d{4}: code=0x[0-9a-f]{2,4} jt=\d+ jf=\d+ k=0x[0-9a-f]{8}$")


def policy(*args, cwd=ROOT):
    return subprocess.run([build_path("forkbox"), "policy"] + list(args),
                          capture_output=True, text=True, timeout=30, cwd=cwd)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def instructions(summary):
    m = re.search(r"^  bpf: (\d+) instructions", summary, re.M)
    assert m, summary
    return int(m.group(1))


def test_check_shipped_policies():
    p = policy("check", "policies/base.policy", "policies/native.policy")
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr
    out = p.stdout
    assert "policies/base.policy: ok\n" in out, out
    assert "policies/native.policy: ok\n" in out, out
    native = out[out.index("policies/native.policy: ok"):]
    assert "  default: kill\n" in native
    assert re.search(r"^  unknown syscalls \(\d+ to \d+\): errno ENOSYS$", native, re.M), native
    assert re.search(r"^  read \(\d+\): allow  \[policies/base.policy:\d+\]$", native, re.M), native
    assert re.search(r"^  clone \(\d+\): allow if arg0 in 0x[0-9a-f]+; else errno EPERM  "
                     r"\[policies/native-core.policy:\d+\]$", native, re.M), native
    assert re.search(r"^  clone3 \(\d+\): errno ENOSYS  \[<built-in>\]$", native, re.M), native
    # The zygote's additions: native.policy lists dup2/dup3/prlimit64 itself.
    assert "  added by the zygote for the job hand-over: sendmsg recvmsg\n" in native, native
    assert re.search(r"^  guarded by the zygote, whatever the rules say .*: "
                     r"kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo$", native, re.M), native
    assert 0 < instructions(native) <= 4096


def test_every_shipped_policy_checks():
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "policies"))
                   if n.endswith(".policy"))
    assert "python.policy" in names and "python-network.policy" in names, names
    p = policy("check", *["policies/" + n for n in names])
    assert p.returncode == 0, p.stderr
    for n in names:
        assert "policies/%s: ok\n" % n in p.stdout, (n, p.stdout[-2000:])


def test_check_fails_with_a_located_error():
    s = Scratch()
    try:
        good = write(s.file("good.policy"), "@default errno EPERM\nread\n")
        bad = write(s.file("bad.policy"), "@default errno EPERM\nread\nwrite: arg0 = 1\n")
        p = policy("check", good, bad)
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert good + ": ok\n" in p.stdout, p.stdout
        assert bad + ": ok" not in p.stdout, p.stdout
        assert p.stderr == ("%s:3:13: expected an operator (== != < <= > >= & in) after "
                            "arg0, got '='\n" % bad), p.stderr
        # Relative paths are named as given.
        p = policy("check", "bad.policy", cwd=s.path)
        assert p.returncode == 1
        assert p.stderr.startswith("bad.policy:3:13: expected an operator"), p.stderr
        # A syscall listed twice names both lines.
        dup = write(s.file("dup.policy"), "read\nwrite\n  read\n")
        p = policy("check", dup)
        assert p.returncode == 1
        assert p.stderr == "%s:3:3: 'read' listed twice (first at %s:1)\n" % (dup, dup), p.stderr
        # A missing file.
        p = policy("check", s.file("absent.policy"))
        assert p.returncode == 1
        assert "cannot read policy" in p.stderr and "absent.policy" in p.stderr, p.stderr
    finally:
        s.cleanup()


def test_check_include_relative_to_the_file():
    s = Scratch()
    try:
        write(s.file("common/io.policy"), "read\nwrite\n")
        write(s.file("rt/inc.policy"), "@include ../common/io.policy\nclose\n")
        top = write(s.file("rt/top.policy"), "@default errno EPERM\n@include inc.policy\n")
        p = policy("check", top, cwd="/")
        assert p.returncode == 0, p.stderr
        assert re.search(r"^  read \(\d+\): allow  \[.*common/io.policy:1\]$", p.stdout, re.M), p.stdout
        assert re.search(r"^  close \(\d+\): allow  \[.*rt/inc.policy:2\]$", p.stdout, re.M), p.stdout
        # An error in an included file is located in that file.
        write(s.file("common/io.policy"), "read\nwrite: arg9 == 1\n")
        p = policy("check", top, cwd="/")
        assert p.returncode == 1
        assert re.search(r"^\S*/rt/top.policy: \S*/common/io.policy:2:8: argument index must be 0 to 5, "
                         r"got arg9$", p.stderr), p.stderr
    finally:
        s.cleanup()


def test_check_reports_names_of_other_architectures():
    # arm_fadvise64_64 exists on 32-bit ARM only; arch_prctl on x86 only.
    foreign = "arch_prctl" if platform.machine().startswith("arm") else "arm_fadvise64_64"
    s = Scratch()
    try:
        pol = write(s.file("t.policy"), "read\n%s\nwrite\n" % foreign)
        p = policy("check", pol)
        assert p.returncode == 0, p.stderr
        assert "  skipped (not on this architecture): %s\n" % foreign in p.stdout, p.stdout
        assert re.search(r"^  write \(\d+\): allow", p.stdout, re.M), p.stdout
        # Unknown on every architecture is an error.
        pol = write(s.file("u.policy"), "read\nno_such_syscall\n")
        p = policy("check", pol)
        assert p.returncode == 1
        assert p.stderr == "%s:2:1: unknown syscall 'no_such_syscall'\n" % pol, p.stderr
    finally:
        s.cleanup()


def test_dump_pfc():
    p = policy("dump", "policies/native.policy")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "# rules compiled by hand (listed below) run before this program" in out, out[:2000]
    assert re.search(r"^#   clone \(\d+\): allow if arg0 in", out, re.M), out[:2000]
    assert re.search(r"^#   unknown syscalls \(\d+ to \d+\): errno ENOSYS$", out, re.M), out[:2000]
    assert "# pseudo filter code start" in out
    assert re.search(r"if \(\$syscall == \d+\)", out), out[:2000]
    assert '# filter for syscall "read"' in out
    # Hand-compiled rules are not libseccomp's.
    assert '# filter for syscall "clone"' not in out


def test_dump_bpf_lists_every_instruction():
    check = policy("check", "policies/native.policy")
    assert check.returncode == 0, check.stderr
    p = policy("dump", "--bpf", "policies/native.policy")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    for i, line in enumerate(lines):
        assert BPF_LINE.match(line), line
        assert line.startswith("%04d: " % i), line
    assert len(lines) == instructions(check.stdout)
    assert lines[0] == "0000: code=0x20 jt=0 jf=0 k=0x00000004", lines[0]  # load arch
    assert lines[-1].startswith("%04d: code=0x06 " % (len(lines) - 1)), lines[-1]  # return


def test_dump_of_a_broken_policy_fails():
    s = Scratch()
    try:
        pol = write(s.file("t.policy"), "@default nothing\n")
        for args in ([], ["--bpf"]):
            p = policy("dump", *(args + [pol]))
            assert p.returncode == 1
            assert p.stdout == ""
            assert p.stderr.startswith(pol + ":1:10: expected kill, trap, log"), p.stderr
    finally:
        s.cleanup()


def test_usage():
    p = policy("--help")
    assert p.returncode == 0
    assert "forkbox policy check FILE" in p.stdout and "--bpf" in p.stdout
    for args in ([], ["check"], ["dump"], ["dump", "a", "b"], ["frob"], ["check", "--bpf", "x"]):
        p = policy(*args)
        assert p.returncode == 2, (args, p.returncode)
        assert p.stderr, args
    p = subprocess.run([build_path("forkbox"), "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "policy" in p.stdout, p.stdout

"""runtime exec: an executable or script; event on stdin, result on stdout,
logs on stderr, ids in the environment; exec.policy enforced."""

import errno
import json
import os

from harness import ROOT, Daemon, build_path, error_type, ok, private_dirs

ECHO = os.path.join(ROOT, "tests", "modules", "exec", "echo.sh")


def test_event_on_stdin_result_on_stdout_logs_on_stderr():
    with Daemon("--runtime", "exec", module_path=ECHO) as d:
        d.send_raw(b'{"id": 1, "event": {"n": 12345678901234567890}}\n')
        line = d.read_line().decode()
        assert '"event": {"n": 12345678901234567890}' in line, line
        r = json.loads(line)
        res = ok(r)
        assert res["cwd"] == res["tmpdir"]
        assert os.path.dirname(res["cwd"]) == os.path.realpath(d.scratch.tmp_base)
        assert res["request_id"] == r["request_id"]
        assert "echo.sh: request %s" % r["request_id"] in r["logs"]
        assert private_dirs(d.scratch.tmp_base) == []


def test_exit_status_garbage_and_silence():
    with Daemon("--runtime", "exec", module_path=ECHO) as d:
        r = d.event({"do": "fail"})
        assert error_type(r) == "Runtime.ExitError" and r["report"]["exit"] == {"code": 3}, r
        assert "failing on purpose" in r["logs"]
        assert error_type(d.event({"do": "garbage"})) == "Runtime.MarshalError"
        assert ok(d.event({"do": "nothing"})) is None


def test_inline_scripts_same_name_answer_1_to_9():
    # The seed scenario with code shipped in the request: the same file
    # name, new source each time, one warm daemon.
    with Daemon("--runtime", "exec", "--allow-request-modules") as d:
        answers = []
        for i in range(1, 10):
            src = "#!/bin/sh\necho %d\n" % i
            answers.append(ok(d.call({"event": {}, "module": {"name": "func.sh", "source": src}})))
        assert answers == list(range(1, 10))


def test_missing_or_unrunnable_program_is_import_error():
    with Daemon("--runtime", "exec", "--allow-request-modules") as d:
        r = d.call({"event": {}, "module": {"name": "x.sh", "source": "no shebang here\n"}})
        assert error_type(r) == "Runtime.ImportModuleError", r
        r = d.call({"event": {}, "module": {"path": "/nonexistent/prog"}})
        assert error_type(r) == "Runtime.ImportModuleError", r


def test_exec_policy_refuses_as_stated():
    with Daemon("--runtime", "exec", module_path=build_path("tests", "modules", "exec", "try_exec")) as d:
        assert ok(d.event({"sys": "getpid"})) == {"rc": 0, "errno": 0}
        assert ok(d.event({"sys": "socket_inet"})) == {"rc": -1, "errno": errno.EACCES}
        assert ok(d.event({"sys": "clone_newuser"})) == {"rc": -1, "errno": errno.EPERM}
        for sys, name in (("ptrace", "ptrace"), ("mount", "mount"), ("bpf", "bpf")):
            r = d.event({"sys": sys})
            assert error_type(r) == "Forkbox.SyscallDenied" and r["error"]["syscall"] == name, r

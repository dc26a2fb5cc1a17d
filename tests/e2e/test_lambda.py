"""forkboxd lambda against a Runtime API of our own (tests/lambda/
runtime_api.py), which checks every request it makes and injects the
faults the API documents. Each test asserts the server saw no violation."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from harness import (ROOT, Scratch, build_path, module, private_dirs,
                     process_names, wait_until)

sys.path.insert(0, os.path.join(ROOT, "tests", "lambda"))
from runtime_api import RuntimeAPI  # noqa: E402

PYMODS = os.path.join(ROOT, "tests", "modules", "python")
SECRETS = {"AWS_ACCESS_KEY_ID": "AKIAFORKBOXTEST",
           "AWS_SECRET_ACCESS_KEY": "forkbox-secret-key",
           "AWS_SESSION_TOKEN": "forkbox-session-token"}


class Lambda:
    """One forkboxd lambda process serving one RuntimeAPI."""

    def __init__(self, api, env=None, handler=None, files=None, args=(),
                 argv=None, scratch=None):
        self.api = api
        self.scratch = scratch or Scratch()
        self.task_root = self.scratch.file("task")
        os.makedirs(self.task_root, exist_ok=True)
        os.chmod(self.task_root, 0o755)
        for name, src in (files or {}).items():
            dst = os.path.join(self.task_root, name)
            if isinstance(src, str) and os.path.exists(src):
                shutil.copy(src, dst)
            else:
                with open(dst, "w") as f:
                    f.write(src)
            os.chmod(dst, 0o755)
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "AWS_LAMBDA_RUNTIME_API": api.address,
                "LAMBDA_TASK_ROOT": self.task_root,
                "AWS_REGION": "eu-west-1",
                "FORKBOX_TMP_BASE": self.scratch.tmp_base}
        if handler:
            full["_HANDLER"] = handler
        full.update(env or {})
        self.env = full
        cmd = argv or [build_path("forkboxd"), "lambda"]
        self.stderr_path = self.scratch.file("lambda-%d.stderr" % time.monotonic_ns())
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(list(cmd) + list(args), stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr,
                                     env=full, cwd=self.task_root)

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_exit(self, timeout=10):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("forkboxd lambda still running after %ss; log:\n%s"
                                 % (timeout, self.log()[-3000:]))

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        self.scratch.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def no_violations(api, lam=None):
    assert not api.violations, "Runtime API contract broken: %s%s" % (
        api.violations, "\nlog:\n" + lam.log()[-3000:] if lam else "")


def inline(source, entry="handler", event=None):
    return {"event": event if event is not None else {},
            "module": {"runtime": "python", "name": "func.py",
                       "source": source, "entry": entry}}


# A handler in the task root that shows what it was given.
CONTEXT_PY = """import os, time
def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("print"):
        for line in event["print"]:
            print(line)
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"event": event,
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "client_context": context.client_context,
            "identity": context.identity,
            "remaining": context.get_remaining_time_in_millis(),
            "trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "tmp_dir": context.tmp_dir,
            "pid": os.getpid()}
"""


def test_lambda_version_and_help():
    out = subprocess.run([build_path("forkboxd"), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "forkboxd 0.1.0\n", out
    out = subprocess.run([build_path("forkboxd"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and re.search(r"^\s+lambda\s", out.stdout, re.M), out.stdout
    out = subprocess.run([build_path("forkboxd"), "lambda", "--help"], capture_output=True,
                         text=True, env={"PATH": os.environ["PATH"]})
    assert out.returncode == 0, out
    for word in ("AWS_LAMBDA_RUNTIME_API", "_HANDLER", "FORKBOX_<KEY>", "forkbox.conf",
                 "AWS_LAMBDA_MAX_CONCURRENCY", "allow_request_modules"):
        assert word in out.stdout, word


def test_lambda_seed_inline_python_answers_1_to_9_from_one_warm_process():
    template = "def scrape_process(driver):\n    return('__value__')"
    with RuntimeAPI() as api, Lambda(api, env={"FORKBOX_ALLOW_REQUEST_MODULES": "1",
                                               "FORKBOX_RUNTIME": "python"}) as lam:
        answers = []
        for i in range(1, 10):
            kind, result = api.call(inline(template.replace("__value__", str(i)),
                                           entry="scrape_process"))
            assert kind == "response", (kind, result)
            answers.append(result)
        assert lam.proc.poll() is None, "the warm runtime exited"
        assert answers == [str(i) for i in range(1, 10)], answers
        # Keep-alive: one connection serves them all (a second only if
        # one was closed, which nothing here does).
        assert api.connections <= 2, api.connections
        no_violations(api, lam)


def test_lambda_handler_resolves_so_in_task_root_and_state_never_survives():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        results = [api.call({})[1] for _ in range(4)]
        assert results == [1, 1, 1, 1], results
        no_violations(api, lam)


def test_lambda_handler_resolves_py_and_exec_by_which_file_exists():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.py": CONTEXT_PY}) as lam:
        kind, result = api.call({"n": 1})
        assert kind == "response" and result["event"] == {"n": 1}, result
        no_violations(api, lam)
    echo = os.path.join(ROOT, "tests", "modules", "exec", "echo.sh")
    with RuntimeAPI() as api, Lambda(api, handler="func.handler", files={"func": echo}) as lam:
        kind, result = api.call({"n": 2})
        assert kind == "response" and result["event"] == {"n": 2}, (kind, result)
        no_violations(api, lam)


def test_lambda_every_next_header_reaches_the_module():
    client_context = {"client": {"installation_id": "inst-1"}, "custom": {"k": "v"}}
    identity = {"cognitoIdentityId": "eu-west-1:abc", "cognitoIdentityPoolId": "eu-west-1:pool"}
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:inspect:live"
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     env={"AWS_LAMBDA_FUNCTION_NAME": "inspect-fn"},
                                     files={"func.py": CONTEXT_PY}) as lam:
        inv = api.wait(api.invoke({}, timeout_ms=20000, arn=arn, headers={
            "Lambda-Runtime-Trace-Id": trace,
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity)}))
        r = inv.result
        assert inv.kind == "response", r
        assert r["aws_request_id"] == inv.request_id, r
        assert r["invoked_function_arn"] == arn, r
        assert r["trace"] == trace, r
        assert r["client_context"]["custom"] == {"k": "v"}, r
        assert r["identity"] == identity, r
        assert r["function_name"] == "inspect-fn", r
        # The deadline header sets what is left (less forkbox's margin).
        assert 15000 < r["remaining"] <= 20000, r
        # Without a trace header the variable is absent, not stale.
        kind, r2 = api.call({})
        assert r2["trace"] is None, r2
        no_violations(api, lam)
    # The same through the native ABI (fbx_context, environ).
    with RuntimeAPI() as api, Lambda(api, handler="inspect.handler",
                                     files={"inspect.so": module("inspect")}) as lam:
        inv = api.wait(api.invoke({}, headers={"Lambda-Runtime-Trace-Id": trace}))
        r = inv.result
        assert r["request_id"] == inv.request_id, r
        assert "_X_AMZN_TRACE_ID=" + trace in r["env"], r["env"]
        no_violations(api, lam)


def test_lambda_module_error_is_posted_with_type_header_and_content_type():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.py": CONTEXT_PY}) as lam:
        inv = api.wait(api.invoke({"raise": "boom"}))
        assert inv.kind == "error", inv.body
        body = inv.result
        assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom", body
        assert any("func.py" in frame for frame in body["stackTrace"]), body
        assert inv.post_headers["Lambda-Runtime-Function-Error-Type"] == "ValueError"
        assert inv.post_headers["Content-Type"] == "application/vnd.aws.lambda.error+json"
        no_violations(api, lam)
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     files={"hostile.so": module("hostile")}) as lam:
        kind, body = api.call({"do": "fail"})
        assert kind == "error" and body["errorType"] == "MyError", body
        kind, body = api.call({"do": "segv"})
        assert kind == "error" and body["errorType"] == "Runtime.ExitError", body
        # Not JSON: an error posted, not a crash, and the next one served.
        kind, body = api.call(b"this is not json")
        assert kind == "error" and body["errorType"] == "Forkbox.InvalidRequest", body
        kind, body = api.call({"do": "echo"})
        assert kind == "response", body
        no_violations(api, lam)


def test_lambda_hanging_module_times_out_before_the_deadline_and_the_next_answers():
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     env={"FORKBOX_TIMEOUT_MS": "20000"},
                                     files={"hostile.so": module("hostile")}) as lam:
        inv = api.wait(api.invoke({"do": "spin"}, timeout_ms=1500), timeout=10)
        assert inv.kind == "error" and inv.result["errorType"] == "Sandbox.Timedout", inv.body
        answered_ms = inv.answered_at * 1000
        assert answered_ms < inv.deadline_ms, \
            "posted %d ms after the deadline" % (answered_ms - inv.deadline_ms)
        assert answered_ms > inv.deadline_ms - 1000, "killed far too early"
        kind, result = api.call({"do": "echo"})
        assert kind == "response", result
        no_violations(api, lam)


def test_lambda_absent_past_or_garbage_deadline_falls_back_to_the_timeout():
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     env={"FORKBOX_TIMEOUT_MS": "800"},
                                     files={"hostile.so": module("hostile")}) as lam:
        # @vercel/fun sends 5000: a date in 1970.
        for deadline in (None, 5000, "soon"):
            start = time.time()
            inv = api.wait(api.invoke({"do": "spin"}, deadline=deadline), timeout=10)
            took = inv.answered_at - start
            assert inv.kind == "error" and inv.result["errorType"] == "Sandbox.Timedout", inv.body
            assert 0.7 < took < 2.5, "deadline %r: answered after %.2fs" % (deadline, took)
        log = lam.log()
        assert "no Lambda-Runtime-Deadline-Ms" in log, log
        assert "in the past" in log and "not a number" in log, log
        no_violations(api, lam)


def test_lambda_result_over_6_mib_is_response_size_too_large():
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     files={"hostile.so": module("hostile")}) as lam:
        kind, body = api.call({"do": "big_result", "mb": 7}, timeout=20)
        assert kind == "error" and body["errorType"] == "Function.ResponseSizeTooLarge", body
        kind, body = api.call({"do": "echo"})
        assert kind == "response", body
        no_violations(api, lam)


def test_lambda_next_500_or_403_makes_it_exit_promptly_non_zero():
    for status in (500, 403):
        with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                         files={"func.so": module("counter")}) as lam:
            assert api.call({})[1] == 1
            api.fault_next("status", status)
            start = time.monotonic()
            rc = lam.wait_exit(timeout=5)
            assert rc != 0, rc
            assert time.monotonic() - start < 3
            assert str(status) in lam.log(), lam.log()
            no_violations(api, lam)


def test_lambda_connection_reset_mid_next_reconnects_and_continues():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        assert api.call({})[1] == 1
        api.fault_next("reset")
        api.fault_next("reset")
        inv = api.wait(api.invoke({"after": "reset"}))
        assert inv.kind == "response" and inv.result == 1
        assert len(api.next_calls) >= 4, api.next_calls
        assert api.connections >= 3, api.connections
        assert lam.proc.poll() is None
        no_violations(api, lam)


def test_lambda_slow_next_is_waited_for():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        assert api.call({})[1] == 1
        # The slow answer goes to the /next pending now or to the next one.
        api.fault_next("slow", 4)
        armed = time.monotonic()
        inv = api.wait(api.invoke({}), timeout=15)
        assert inv.kind == "response" and inv.result == 1
        assert time.monotonic() - armed >= 3.9, "not served by the slow /next"
        # While it was pending no /next timed out and was sent again.
        during = [t for t in api.next_calls if armed < t < armed + 3.9]
        assert len(during) <= 1, (armed, api.next_calls)
        no_violations(api, lam)


def test_lambda_413_on_response_posts_an_error_and_400_is_logged_and_skipped():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        inv = api.wait(api.invoke({}, response_status=413))
        assert [p[:2] for p in inv.posts] == [("response", 413), ("error", 202)], inv.posts
        assert inv.result["errorType"] == "Function.ResponseSizeTooLarge", inv.body
        inv = api.wait(api.invoke({}, response_status=400))
        assert [p[:2] for p in inv.posts] == [("response", 400)], inv.posts
        kind, result = api.call({})
        assert kind == "response" and result == 1
        assert "refused with 400" in lam.log(), lam.log()
        no_violations(api, lam)


def test_lambda_5xx_on_response_makes_it_exit_promptly():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        api.wait(api.invoke({}, response_status=500))
        rc = lam.wait_exit(timeout=5)
        assert rc != 0, rc
        no_violations(api, lam)


def _init_error(api, lam, error_type, words):
    rc = lam.wait_exit(timeout=10)
    assert rc != 0, rc
    assert len(api.init_errors) == 1, (api.init_errors, lam.log())
    headers, body = api.init_errors[0]
    obj = json.loads(body)
    assert obj["errorType"] == error_type, obj
    for w in words:
        assert w in obj["errorMessage"], obj
    assert not api.next_calls, "called /next after an init error"
    no_violations(api, lam)


def test_lambda_init_errors_go_to_init_error_and_exit_non_zero():
    with RuntimeAPI() as api, Lambda(api, handler="missing.handler") as lam:
        _init_error(api, lam, "Runtime.ImportModuleError", ["missing.handler", "missing.so"])
    with RuntimeAPI() as api, Lambda(api, handler="nodot") as lam:
        _init_error(api, lam, "Runtime.MalformedHandlerName", ["nodot"])
    s = Scratch()
    bad = s.file("bad.policy")
    with open(bad, "w") as f:
        f.write("@default kill\nread: arg0 = 1\n")
    with RuntimeAPI() as api, Lambda(api, handler="func.handler", env={"FORKBOX_POLICY": bad},
                                     files={"func.so": module("counter")}) as lam:
        _init_error(api, lam, "Runtime.InitError", ["bad.policy:2:"])
    s.cleanup()
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     env={"FORKBOX_TIMEOUT_MS": "soon"},
                                     files={"func.so": module("counter")}) as lam:
        _init_error(api, lam, "Runtime.InitError", ["FORKBOX_TIMEOUT_MS", "soon"])
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter"),
                                            "forkbox.conf": "timeout_ms = 100\ncolour = blue\n"}) as lam:
        _init_error(api, lam, "Runtime.InitError", ["forkbox.conf:2", "colour"])


def test_lambda_config_file_and_env_precedence():
    # forkbox.conf sets 600 ms, the environment wins with 1500 ms.
    conf = "# forkbox settings\ntimeout_ms = 600\nallow_request_modules = 0\n"
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     env={"FORKBOX_TIMEOUT_MS": "1500"},
                                     files={"hostile.so": module("hostile"),
                                            "forkbox.conf": conf}) as lam:
        start = time.time()
        inv = api.wait(api.invoke({"do": "spin"}, deadline=None), timeout=10)
        assert inv.result["errorType"] == "Sandbox.Timedout"
        assert 1.3 < inv.answered_at - start < 3.0, inv.answered_at - start
        no_violations(api, lam)
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     files={"hostile.so": module("hostile"),
                                            "forkbox.conf": conf}) as lam:
        start = time.time()
        inv = api.wait(api.invoke({"do": "spin"}, deadline=None), timeout=10)
        assert 0.5 < inv.answered_at - start < 1.4, inv.answered_at - start
        # allow_request_modules = 0: a request envelope is just an event.
        kind, body = api.call({"event": {}, "module": {"path": "/bin/true"}, "do": "echo"})
        assert kind == "response" and body["module"] == {"path": "/bin/true"}, body
        no_violations(api, lam)


def test_lambda_max_concurrency_3_runs_three_at_once_in_their_own_dirs():
    with RuntimeAPI(concurrency=3) as api, Lambda(api, handler="func.handler",
                                                  env={"AWS_LAMBDA_MAX_CONCURRENCY": "3"},
                                                  files={"func.py": CONTEXT_PY}) as lam:
        api.call({})  # the zygote is up
        start = time.monotonic()
        invs = [api.invoke({"sleep": 1.0}) for _ in range(3)]
        results = [api.wait(i, timeout=10).result for i in invs]
        took = time.monotonic() - start
        assert took < 1.8, "three 1 s invocations took %.2fs" % took
        assert api.max_in_flight == 3, api.max_in_flight
        dirs = {r["tmp_dir"] for r in results}
        assert len(dirs) == 3, results
        no_violations(api, lam)
        assert lam.stop() == 0


def test_lambda_single_poller_never_has_two_next_in_flight():
    with RuntimeAPI(concurrency=1) as api, Lambda(api, handler="func.handler",
                                                  files={"func.py": CONTEXT_PY}) as lam:
        start = time.monotonic()
        invs = [api.invoke({"sleep": 0.3}) for _ in range(3)]
        for i in invs:
            api.wait(i)
        assert time.monotonic() - start >= 0.9
        assert api.max_in_flight == 1
        no_violations(api, lam)


def test_lambda_aws_secrets_hidden_by_default_and_passed_when_allowed():
    env = dict(SECRETS)
    with RuntimeAPI() as api, Lambda(api, handler="inspect.handler", env=env,
                                     files={"inspect.so": module("inspect")}) as lam:
        r = api.call({})[1]
        names = {e.split("=", 1)[0] for e in r["env"]}
        assert not names & set(SECRETS), names
        assert "AWS_REGION" in names, names
        assert "AWS_LAMBDA_RUNTIME_API" not in names, names
        no_violations(api, lam)
    env["FORKBOX_ENV_ALLOW"] = "PATH,AWS_REGION,AWS_ACCESS_KEY_ID"
    with RuntimeAPI() as api, Lambda(api, handler="inspect.handler", env=env,
                                     files={"inspect.so": module("inspect")}) as lam:
        r = api.call({})[1]
        assert "AWS_ACCESS_KEY_ID=AKIAFORKBOXTEST" in r["env"], r["env"]
        names = {e.split("=", 1)[0] for e in r["env"]}
        assert "AWS_SECRET_ACCESS_KEY" not in names and "AWS_SESSION_TOKEN" not in names
        no_violations(api, lam)


def test_lambda_logs_are_prefixed_with_the_request_id_and_reported():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     env={"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"},
                                     files={"func.py": CONTEXT_PY}) as lam:
        inv = api.wait(api.invoke({"print": ["first line", "second line"]}))
        assert inv.kind == "response"
        wait_until(lambda: "REPORT RequestId: " + inv.request_id in lam.log())
        log = lam.log()
        assert "%s\tfirst line\n%s\tsecond line\n" % (inv.request_id, inv.request_id) in log, log
        m = re.search(r"^REPORT RequestId: %s\tDuration: (\d+\.\d\d) ms\tBilled Duration: "
                      r"(\d+) ms\tMemory Size: 256 MB\tMax Memory Used: (\d+) MB$"
                      % re.escape(inv.request_id), log, re.M)
        assert m, log
        assert int(m.group(2)) >= float(m.group(1)) and int(m.group(3)) > 0, m.groups()
        no_violations(api, lam)


def test_lambda_nothing_survives_between_invocations():
    s = Scratch()
    with RuntimeAPI() as api, Lambda(api, handler="inspect.handler", scratch=s,
                                     files={"inspect.so": module("inspect"),
                                            "hostile.so": module("hostile")}) as lam:
        first = api.call({"write": "left_behind.txt"})[1]
        assert first["wrote"] is True, first
        second = api.call({})[1]
        # Only its own staged copy of the module.
        assert second["entries_on_entry"] == ["inspect.so"], second
        assert first["cwd"] != second["cwd"]
        assert wait_until(lambda: not private_dirs(s.tmp_base)), private_dirs(s.tmp_base)
        no_violations(api, lam)
    with RuntimeAPI() as api, Lambda(api, handler="hostile.handler",
                                     files={"hostile.so": module("hostile")}) as lam:
        kind, body = api.call({"do": "daemonize", "arg": "fbx-lambda-orphan"})
        assert kind == "response", body
        assert wait_until(lambda: "fbx-lambda-orphan" not in process_names().values()), \
            "a process of the invocation survived it"
        no_violations(api, lam)


def test_lambda_sigterm_finishes_the_invocation_in_flight_and_exits_0():
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.py": CONTEXT_PY}) as lam:
        api.call({})
        inv = api.invoke({"sleep": 1.0})
        assert wait_until(lambda: inv.handed_out_at is not None)
        time.sleep(0.2)
        lam.proc.send_signal(signal.SIGTERM)
        rc = lam.wait_exit(timeout=10)
        assert rc == 0, (rc, lam.log())
        assert inv.done.is_set() and inv.kind == "response", inv.posts
        no_violations(api, lam)
    # Idle in /next: it stops at once.
    with RuntimeAPI() as api, Lambda(api, handler="func.handler",
                                     files={"func.so": module("counter")}) as lam:
        api.call({})
        assert wait_until(lambda: len(api.next_calls) == 2)
        start = time.monotonic()
        assert lam.stop() == 0
        assert time.monotonic() - start < 3


def test_lambda_started_as_bootstrap_or_with_only_the_environment():
    s = Scratch()
    link = s.file("bootstrap")
    os.symlink(build_path("forkboxd"), link)
    with RuntimeAPI() as api, Lambda(api, handler="func.handler", argv=[link], scratch=s,
                                     files={"func.so": module("counter")}) as lam:
        assert api.call({}) == ("response", 1)
        no_violations(api, lam)
    with RuntimeAPI() as api, Lambda(api, handler="func.handler", argv=[build_path("forkboxd")],
                                     files={"func.so": module("counter")}) as lam:
        assert api.call({}) == ("response", 1)
        no_violations(api, lam)


def test_lambda_survives_sigstop_sigcont_with_idle_connections_closed():
    # As @vercel/fun does: the runtime process is frozen between
    # invocations while the API closes idle keep-alive connections.
    with RuntimeAPI(idle_timeout=0.3) as api, Lambda(api, handler="func.handler",
                                                     files={"func.py": CONTEXT_PY}) as lam:
        assert api.call({})[0] == "response"
        for i in range(3):
            assert wait_until(lambda: api.waiting == 1)
            os.kill(lam.proc.pid, signal.SIGSTOP)
            inv = api.invoke({"n": i})   # answered to the frozen process
            time.sleep(0.8)              # its connection is closed meanwhile
            os.kill(lam.proc.pid, signal.SIGCONT)
            api.wait(inv, timeout=10)
            assert inv.kind == "response" and inv.result["event"] == {"n": i}, inv.body
            # A module running longer than the idle timeout: the POST
            # finds its connection closed.
            kind, r = api.call({"sleep": 0.5})
            assert kind == "response", r
        # Frozen and thawed repeatedly while waiting in /next.
        for _ in range(5):
            os.kill(lam.proc.pid, signal.SIGSTOP)
            time.sleep(0.1)
            os.kill(lam.proc.pid, signal.SIGCONT)
        assert api.call({"n": 9})[1]["event"] == {"n": 9}
        assert lam.proc.poll() is None
        assert api.connections > 1, "the idle timeout never closed a connection"
        no_violations(api, lam)

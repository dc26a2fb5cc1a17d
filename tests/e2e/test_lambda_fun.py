"""forkboxd lambda under a Runtime API nobody here wrote: the npm package
@vercel/fun, a local Lambda emulator. fun runs a `provided` function
directory whose `bootstrap` is forkboxd (a symlink, so it starts in lambda
mode and finds its zygotes next to the real binary), with fun's own Runtime
API server on a loopback port. tests/lambda/fun_driver.js is the Node side:
it creates the function with fun's API and invokes it on our command.

fun is installed with `npm ci` from tests/lambda/package.json and its
package-lock.json (@vercel/fun pinned, every dependency locked) into
BUILD/npm, once, and reused while the lock is unchanged. Without node or
npm, or with the registry unreachable, every test here is skipped, saying
why; never passed.

Where fun differs from AWS (LAMBDA-NOTES.md, "@vercel/fun"), forkboxd does
what is right on AWS too, and each test says what it relies on:
- Lambda-Runtime-Deadline-Ms is always 5000, a date in 1970, and fun never
  enforces the function's timeout: forkboxd falls back to its own
  FORKBOX_TIMEOUT_MS (with a warning), as for any absent or past deadline.
- fun SIGSTOPs the bootstrap process alone between invocations (AWS freezes
  the whole environment): nothing forkboxd owes an invocation may happen
  after its answer is posted, so the tests look for leftovers the moment
  the answer arrives, with forkboxd frozen.
- Node closes keep-alive connections idle for about 6 s (its 5 s
  keepAliveTimeout and a second), also while the runtime is frozen or a
  module runs: forkboxd reconnects.
- /error bodies reach the caller verbatim with FunctionError "Handled" (AWS
  says "Unhandled" for a custom runtime's /error), and the error-type
  header is ignored: the caller reads errorType from the body.
- Over 6 MB fun answers /response with 413 and a text body; only an /error
  completes the invocation.
- Concurrent invocations each get a bootstrap of their own (a pool of up to
  10 processes), as on AWS, where an execution environment serves one
  invocation at a time unless AWS_LAMBDA_MAX_CONCURRENCY says otherwise:
  fun never sets it, so each forkboxd runs one poller (a second concurrent
  /next from one process would break fun's in-flight invocation).
- fn.destroy() resolves before its SIGTERMs have even been sent: the driver
  waits for the bootstraps to exit.
"""

import json
import os
import queue
import shutil
import subprocess
import threading
import time

from harness import (ROOT, Scratch, Skip, build_path, module,
                     private_dirs, process_names, wait_until)

LAMBDA_DIR = os.path.join(ROOT, "tests", "lambda")
DRIVER = os.path.join(LAMBDA_DIR, "fun_driver.js")
PYMODS = os.path.join(ROOT, "tests", "modules", "python")
NPM_TIMEOUT_S = 300
# What npm prints when it cannot reach the registry (npm's own codes and
# the system's): those make the tests skipped; any other failure fails them.
NETWORK_WORDS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET",
                 "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "network",
                 "ERR_SOCKET_TIMEOUT", "UNABLE_TO_GET_ISSUER_CERT",
                 "SELF_SIGNED_CERT", "E503", "E502")


def fun_version():
    with open(os.path.join(LAMBDA_DIR, "package.json")) as f:
        return json.load(f)["dependencies"]["@vercel/fun"]


_setup = {}


def npm_prefix():
    """Installs @vercel/fun into BUILD/npm once per run (and only when the
    lock changed since the last install); returns that prefix or raises
    Skip with the reason."""
    if "prefix" in _setup:
        return _setup["prefix"]
    if "skip" in _setup:
        raise Skip(_setup["skip"])
    if "error" in _setup:
        raise AssertionError(_setup["error"])
    try:
        _setup["prefix"] = _install()
    except Skip as e:
        _setup["skip"] = str(e)
        raise
    except AssertionError as e:
        _setup["error"] = str(e)
        raise
    return _setup["prefix"]


def _install():
    version = fun_version()
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise Skip("no %s on PATH: @vercel/fun@%s not installed "
                       "(scripts/install-deps.sh installs Debian's nodejs and npm)"
                       % (tool, version))
    prefix = build_path("npm")
    os.makedirs(prefix, exist_ok=True)
    lock_src = os.path.join(LAMBDA_DIR, "package-lock.json")
    with open(lock_src, "rb") as f:
        lock = f.read()
    stamp = os.path.join(prefix, ".installed-lock")
    installed = os.path.join(prefix, "node_modules", "@vercel", "fun", "package.json")
    try:
        with open(stamp, "rb") as f, open(installed) as g:
            if f.read() == lock and json.load(g)["version"] == version:
                return prefix
    except (OSError, ValueError, KeyError):
        pass
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(LAMBDA_DIR, name), os.path.join(prefix, name))
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--no-update-notifier",
           "--engine-strict=false", "--fetch-retries=1", "--fetch-timeout=30000"]
    try:
        out = subprocess.run(cmd, cwd=prefix, capture_output=True, text=True,
                             timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Skip("npm ci of @vercel/fun@%s took over %d s: registry unreachable?"
                   % (version, NPM_TIMEOUT_S))
    if out.returncode != 0:
        text = (out.stdout + out.stderr).strip()
        if any(w in text for w in NETWORK_WORDS):
            # npm's "error code X" and "request to URL failed" lines say it.
            said = [line for line in text.splitlines()
                    if "error code" in line or "request to" in line][:2]
            raise Skip("npm cannot reach its registry to install @vercel/fun@%s: %s"
                       % (version, " | ".join(said or text.splitlines()[-2:])[:400]))
        raise AssertionError("npm ci of @vercel/fun@%s failed (%d): %s"
                             % (version, out.returncode, text[-2000:]))
    with open(installed) as g:
        got = json.load(g)["version"]
    assert got == version, "npm installed @vercel/fun %s, not %s" % (got, version)
    with open(stamp, "wb") as f:
        f.write(lock)
    return prefix


class Fun:
    """One function run by @vercel/fun, its bootstrap being forkboxd.

    files: name => path to copy or text to write into the task dir."""

    def __init__(self, handler, files=None, env=None, memory=512,
                 access_key_id=None, secret_access_key=None):
        prefix = npm_prefix()
        self.scratch = Scratch()
        self.task = self.scratch.file("task")
        os.makedirs(self.task)
        os.chmod(self.task, 0o755)
        os.symlink(build_path("forkboxd"), os.path.join(self.task, "bootstrap"))
        for name, src in (files or {}).items():
            dst = os.path.join(self.task, name)
            if os.path.exists(src):
                shutil.copy(src, dst)
            else:
                with open(dst, "w") as f:
                    f.write(src)
            os.chmod(dst, 0o755)
        self.tmp_base = self.scratch.tmp_base
        variables = {"FORKBOX_TMP_BASE": self.tmp_base}
        variables.update(env or {})
        self.stderr_path = self.scratch.file("fun.stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(["node", DRIVER, prefix], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     cwd=self.scratch.path)
        self.cond = threading.Condition()
        self.results = {}
        self.events = queue.Queue()   # created / state / destroyed / error
        self.other = []               # stdout lines that are not ours
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_id = 0
        try:
            self.send({"op": "create", "dir": self.task, "handler": handler,
                       "env": variables, "memory": memory,
                       "access_key_id": access_key_id,
                       "secret_access_key": secret_access_key})
            self.expect("created", timeout=60)
        except BaseException:
            self.close()
            raise

    def _read(self):
        for raw in self.proc.stdout:
            try:
                msg = json.loads(raw)
            except ValueError:
                msg = None
            if not isinstance(msg, dict) or "fun" not in msg:
                self.other.append(raw)
                continue
            # An invocation fun itself failed is that invocation's answer.
            if msg["fun"] == "result" or (msg["fun"] == "error" and
                                          msg.get("op") == "invoke"):
                with self.cond:
                    self.results[msg["id"]] = msg
                    self.cond.notify_all()
            else:
                self.events.put(msg)
        with self.cond:
            self.eof = True
            self.cond.notify_all()
        self.events.put(None)

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def send(self, cmd):
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def expect(self, what, timeout=30):
        try:
            msg = self.events.get(timeout=timeout)
        except queue.Empty:
            msg = "nothing within %ss" % timeout
        if not isinstance(msg, dict) or msg.get("fun") != what:
            raise AssertionError("fun driver: expected %r, got %r; log:\n%s"
                                 % (what, msg, self.log()[-3000:]))
        return msg

    def start(self, payload):
        """Invokes without waiting; returns the id to wait() for."""
        self.next_id += 1
        if not isinstance(payload, (str, bytes)):
            payload = json.dumps(payload)
        self.send({"op": "invoke", "id": self.next_id, "payload": payload})
        return self.next_id

    def wait(self, inv_id, timeout=30):
        with self.cond:
            end = time.monotonic() + timeout
            while inv_id not in self.results and not self.eof:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            res = self.results.pop(inv_id, None)
        if res is None:
            raise AssertionError("no answer from fun for invocation %d within %ss; log:\n%s"
                                 % (inv_id, timeout, self.log()[-3000:]))
        assert res["fun"] == "result", "fun failed the invocation: %s" % res
        assert res["status"] == 200, res
        res["kind"] = "error" if res["function_error"] else "response"
        res["body"] = json.loads(res["payload"])
        return res

    def invoke(self, payload, timeout=30):
        return self.wait(self.start(payload), timeout)

    def state(self):
        self.send({"op": "state"})
        return self.expect("state")

    def destroy(self):
        """fn.destroy(): the bootstraps get SIGCONT and SIGTERM; returns
        how each ended."""
        self.send({"op": "destroy"})
        return self.expect("destroyed", timeout=30)["processes"]

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        self.scratch.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def state_letter(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def clean_exits(processes, log):
    assert processes, "fun started no bootstrap"
    for p in processes:
        # SIGTERM from fun's destroy(): forkboxd finishes and exits 0.
        assert p["exited"] and p["code"] == 0, (processes, log[-3000:])


SEED = "def scrape_process(driver):\n    return('__value__')"

# Shows which process served it: its parent is the zygote, whose parent
# is the bootstrap (forkboxd) that fun started.
WHO_PY = """import os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "zygote": os.getppid(),
            "tmp_dir": context.tmp_dir, "request_id": context.aws_request_id}
"""


def test_fun_seed_inline_python_answers_1_to_9_from_one_warm_bootstrap():
    with Fun("func.handler", env={"FORKBOX_ALLOW_REQUEST_MODULES": "1",
                                  "FORKBOX_RUNTIME": "python"}) as fn:
        answers, served_by = [], set()
        for i in range(1, 10):
            envelope = {"event": {},
                        "module": {"runtime": "python", "name": "func.py",
                                   "source": SEED.replace("__value__", str(i)),
                                   "entry": "scrape_process"}}
            r = fn.invoke(envelope)
            assert r["kind"] == "response", r
            answers.append(r["body"])
            served_by.update(r["bootstraps"])
            assert r["started"] == 1, r
            # Between invocations fun keeps the bootstrap stopped.
            assert wait_until(lambda: state_letter(r["bootstraps"][0]) == "T"), r
        assert answers == [str(i) for i in range(1, 10)], answers
        # One process did all nine: fun started exactly one bootstrap,
        # and forkboxd started up once.
        assert len(served_by) == 1, served_by
        log = fn.log()
        assert log.count("lambda runtime ready") == 1, log[-3000:]
        # fun's deadline header is 5000 (1970): the configured timeout
        # governs instead, with a warning per invocation.
        assert log.count("Lambda-Runtime-Deadline-Ms 5000 is") == 9, log[-3000:]
        # Keep-alive: one connection served all nine.
        assert r["connections"] == 1, r
        assert not fn.other, fn.other
        clean_exits(fn.destroy(), fn.log())


def test_fun_module_that_raises_gives_the_caller_its_error_type():
    with Fun("raises.handler", files={"raises.py": os.path.join(PYMODS, "raises.py")},
             env={"FORKBOX_RUNTIME": "python"}) as fn:
        r = fn.invoke({"value": 42})
        # fun passes the /error body through verbatim, with "Handled";
        # AWS would say "Unhandled", the body the same.
        assert r["kind"] == "error" and r["function_error"] == "Handled", r
        body = r["body"]
        assert body["errorType"] == "MyError", body
        assert "bad value: 42" in body["errorMessage"], body
        assert any("raises.py" in frame for frame in body["stackTrace"]), body
        first = r["bootstraps"]
        # The error was the module's, not the runtime's: the same warm
        # bootstrap serves the next invocation.
        r = fn.invoke({"value": 7})
        assert r["body"]["errorType"] == "MyError" and r["bootstraps"] == first, r
        assert r["started"] == 1, r
        clean_exits(fn.destroy(), fn.log())
    with Fun("hostile.handler", files={"hostile.so": module("hostile")}) as fn:
        r = fn.invoke({"do": "segv"})
        assert r["kind"] == "error" and r["body"]["errorType"] == "Runtime.ExitError", r
        r = fn.invoke({"do": "echo"})
        assert r["kind"] == "response" and r["started"] == 1, r
        clean_exits(fn.destroy(), fn.log())


def test_fun_hanging_module_times_out_and_the_next_invocation_answers():
    # fun never enforces the function's Timeout and sends a deadline in
    # 1970: forkboxd's FORKBOX_TIMEOUT_MS is what stops the module.
    with Fun("behaviours.handler",
             files={"behaviours.py": os.path.join(PYMODS, "behaviours.py")},
             env={"FORKBOX_TIMEOUT_MS": "1500"}) as fn:
        start = time.monotonic()
        r = fn.invoke({"do": "sleep", "s": 60}, timeout=20)
        took = time.monotonic() - start
        assert r["kind"] == "error" and r["body"]["errorType"] == "Sandbox.Timedout", r
        assert 1.3 < took < 6, "timed out after %.2fs" % took
        first = r["bootstraps"]
        r = fn.invoke({"do": "context"})
        assert r["kind"] == "response", r
        assert r["bootstraps"] == first and r["started"] == 1, r
        # What is left is the fallback timeout, counted from the start.
        assert 0 < r["body"]["remaining"] <= 1500, r["body"]
        assert "in the past; using the configured timeout of 1500 ms" in fn.log()
        clean_exits(fn.destroy(), fn.log())


def test_fun_concurrent_invocations_get_a_bootstrap_each_then_stay_warm():
    with Fun("func.handler", files={"func.py": WHO_PY}) as fn:
        warm = fn.invoke({})
        assert warm["started"] == 1, warm
        start = time.monotonic()
        ids = [fn.start({"sleep": 1.0}) for _ in range(3)]
        rs = [fn.wait(i, timeout=30) for i in ids]
        took = time.monotonic() - start
        for r in rs:
            assert r["kind"] == "response", r
        # In parallel: three 1 s invocations well under 3 s, in three
        # bootstraps (the warm one and two fun started for them), each
        # invocation in a private dir of its own.
        assert took < 2.8, "three concurrent 1 s invocations took %.2fs" % took
        served = {parent_of(r["body"]["zygote"]) for r in rs}
        assert len(served) == 3, [r["body"] for r in rs]
        assert rs[-1]["started"] == 3, rs[-1]
        assert served == set(fn.state()["bootstraps"]), (served, fn.state())
        assert len({r["body"]["tmp_dir"] for r in rs}) == 3, [r["body"] for r in rs]
        # Then one at a time: the warm bootstraps serve, none is added.
        for _ in range(6):
            r = fn.invoke({})
            assert r["kind"] == "response", r
            assert parent_of(r["body"]["zygote"]) in served, r
        assert r["started"] == 3 and r["pool"]["size"] == 3, r
        processes = fn.destroy()
        assert len(processes) == 3, processes
        clean_exits(processes, fn.log())


def test_fun_nothing_survives_between_invocations_in_the_warm_runtime():
    # Checked the moment each answer arrives, with forkboxd stopped by
    # fun: cleaning up may not wait until after the answer (on AWS the
    # environment is frozen then).
    with Fun("func.handler", files={"func.so": module("counter")}) as fn:
        results = [fn.invoke({}) for _ in range(4)]
        assert [r["body"] for r in results] == [1, 1, 1, 1], results
        assert {tuple(r["bootstraps"]) for r in results} == {tuple(results[0]["bootstraps"])}
        clean_exits(fn.destroy(), fn.log())
    with Fun("state.handler", files={"state.py": os.path.join(PYMODS, "state.py")}) as fn:
        for _ in range(3):
            r = fn.invoke({})
            assert r["body"] == {
                "counter": 1, "planted_module": False, "patched_dumps": False,
                "planted_path": False, "planted_builtin": False,
                "planted_env": None, "cwd_is_tmp_dir": True,
                "sys_path0_is_tmp_dir": True, "files": ["state.py"],
                "tmpdir_env": True}, r
            assert private_dirs(fn.tmp_base) == [], private_dirs(fn.tmp_base)
        assert r["started"] == 1, r
        clean_exits(fn.destroy(), fn.log())
    with Fun("inspect.handler", files={"inspect.so": module("inspect")}) as fn:
        first = fn.invoke({"write": "left_behind.txt"})["body"]
        assert first["wrote"] is True, first
        assert private_dirs(fn.tmp_base) == [], private_dirs(fn.tmp_base)
        second = fn.invoke({})["body"]
        assert second["entries_on_entry"] == ["inspect.so"], second
        assert first["cwd"] != second["cwd"]
        clean_exits(fn.destroy(), fn.log())
    with Fun("hostile.handler", files={"hostile.so": module("hostile")}) as fn:
        for i in range(2):
            name = "fbx-fun-orphan%d" % i
            r = fn.invoke({"do": "daemonize", "arg": name})
            assert r["kind"] == "response", r
            assert name not in process_names().values(), \
                "a process of the invocation outlived its answer"
            # Between invocations: forkboxd (stopped), its zygote, the
            # zygote's janitor and at most two spares (the default).
            boot = r["bootstraps"][0]
            assert wait_until(lambda: state_letter(boot) == "T"), r
            names = [comm(p) for p in descendants(boot)]
            assert names.count("forkbox-janitor") <= 1, names
            rest = [n for n in names if n != "forkbox-janitor"]
            assert 1 <= len(rest) <= 3 and all(
                n is None or n.startswith("forkbox-zygote") for n in rest), names
            assert private_dirs(fn.tmp_base) == [], private_dirs(fn.tmp_base)
        assert r["started"] == 1, r
        clean_exits(fn.destroy(), fn.log())


def test_fun_aws_credentials_and_runtime_api_are_hidden_from_modules():
    with Fun("behaviours.handler",
             files={"behaviours.py": os.path.join(PYMODS, "behaviours.py")},
             access_key_id="AKIAFORKBOXFUN",
             secret_access_key="forkbox-fun-secret") as fn:
        r = fn.invoke({"do": "environ"})
        env = r["body"]
        assert r["kind"] == "response", r
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                     "AWS_LAMBDA_RUNTIME_API"):
            assert name not in env, env
        assert env.get("AWS_REGION") == "us-west-1", env
        assert env.get("LAMBDA_TASK_ROOT") == fn.task, env
        clean_exits(fn.destroy(), fn.log())


def test_fun_413_on_a_result_over_6_mb_completes_with_an_error():
    # forkbox allows itself 8 MiB here, so the result reaches fun, whose
    # /response answers 413 over 6 MB: only the /error that follows
    # completes the invocation.
    with Fun("hostile.handler", files={"hostile.so": module("hostile")},
             env={"FORKBOX_MAX_RESULT_BYTES": str(8 << 20)}) as fn:
        r = fn.invoke({"do": "big_result", "mb": 7})
        assert r["kind"] == "error", r["payload"][:300]
        assert r["body"]["errorType"] == "Function.ResponseSizeTooLarge", r["body"]
        r = fn.invoke({"do": "echo"})
        assert r["kind"] == "response" and r["started"] == 1, r
        clean_exits(fn.destroy(), fn.log())


def test_fun_keep_alive_closed_while_a_module_runs_and_while_frozen():
    # Node closes a keep-alive connection idle for its keepAliveTimeout
    # (5 s) plus a second: here while the module runs (so the /response
    # needs a new connection), then while fun keeps forkboxd stopped: fun
    # stops it as soon as the /response is answered, often before
    # forkboxd has read that answer and sent its next /next, and then that
    # connection is idle too (a race: when the /next went out first, the
    # connection is busy and stays). forkboxd goes on on a new one.
    idle = 7.0
    with Fun("behaviours.handler",
             files={"behaviours.py": os.path.join(PYMODS, "behaviours.py")},
             env={"FORKBOX_TIMEOUT_MS": "20000"}) as fn:
        r = fn.invoke({"do": "sleep", "s": idle}, timeout=30)
        assert r["kind"] == "response" and r["body"] == "slept", r
        assert r["connections"] == 2, r
        time.sleep(idle)
        r2 = fn.invoke({"do": "echo"})
        assert r2["kind"] == "response", r2
        assert r2["bootstraps"] == r["bootstraps"] and r2["started"] == 1, (r, r2)
        assert r2["connections"] in (2, 3), r2
        log = fn.log()
        assert '"level":"error"' not in log and '"level":"fatal"' not in log, log[-3000:]
        clean_exits(fn.destroy(), fn.log())


def test_fun_frozen_and_thawed_for_each_of_200_invocations_loses_none():
    with Fun("func.handler", files={"func.so": module("counter")}) as fn:
        for i in range(200):
            r = fn.invoke({"i": i})
            assert r["kind"] == "response" and r["body"] == 1, (i, r)
        assert r["started"] == 1, r
        log = fn.log()
        assert '"level":"error"' not in log and '"level":"fatal"' not in log, log[-3000:]
        clean_exits(fn.destroy(), fn.log())

"""Helpers for forkbox's end-to-end tests: start the real binaries, talk
JSON Lines to them, look at processes and files from outside.

Tests are plain functions named test_* in tests/e2e/test_*.py; run.py runs
them and prints TAP. A test fails by raising (assert); it is skipped by
raising Skip("reason")."""

import json
import os
import queue
import threading
import shutil
import signal
import subprocess
import tempfile
import time

BUILD = os.environ.get("FORKBOX_BUILD", "build")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Flags every `forkboxd stdio` of a run gets (tests/run-all.sh runs the
# hostile tests again with --recycle-dirs).
EXTRA_ARGS = os.environ.get("FORKBOX_E2E_EXTRA_ARGS", "").split()


class Skip(Exception):
    pass


def build_path(*parts):
    return os.path.join(ROOT, BUILD, *parts)


def module(name):
    return build_path("tests", "modules", name + ".so")


class Scratch:
    """A world-readable scratch dir (children run under their own uids
    when the tests run as root, and must be able to read modules)."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="fbx-e2e-")
        os.chmod(self.path, 0o755)
        self.tmp_base = os.path.join(self.path, "base")

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Daemon:
    """One long-lived `forkboxd stdio`."""

    def __init__(self, *args, scratch=None, env=None, module_path=None, prefix=()):
        self.scratch = scratch or Scratch()
        self.own_scratch = scratch is None
        cmd = list(prefix) + [build_path("forkboxd"), "stdio", "--tmp-base",
                              self.scratch.tmp_base]
        if module_path:
            cmd += ["--module", module_path]
        cmd += list(args) + EXTRA_ARGS
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.stderr_path = self.scratch.file("daemon-%d.stderr" % time.monotonic_ns())
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=full_env, cwd=self.scratch.path)
        # A thread owns stdout: select() on a buffered pipe misses lines
        # already read into Python's buffer.
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send_raw(self, line_bytes):
        self.proc.stdin.write(line_bytes)
        self.proc.stdin.flush()

    def read_line(self, timeout=30):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no response within %ss; stderr: %s" % (timeout, self.diag()))
        if line is None:
            self.lines.put(None)
            raise AssertionError("daemon closed stdout; stderr: %s" % self.diag())
        return line

    def read_response(self, timeout=30):
        return json.loads(self.read_line(timeout))

    def call(self, request, timeout=30):
        if not isinstance(request, (bytes, str)):
            request = json.dumps(request)
        if isinstance(request, str):
            request = request.encode()
        self.send_raw(request + b"\n")
        return self.read_response(timeout)

    def event(self, event, **extra):
        req = {"event": event}
        req.update(extra)
        return self.call(req)

    def diag(self):
        self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def zygote_pid(self):
        return child_pids(self.proc.pid)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        if self.own_scratch:
            self.scratch.cleanup()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def child_pids(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def proc_state(pid):
    """The state letter of pid ("R", "S", "Z", ...), None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def janitors(zygote):
    """The zygote's janitor (the process that removes retired private
    dirs, sandbox/zygote_janitor.c): a list of one, or empty."""
    out = []
    for pid in child_pids(zygote):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "forkbox-janitor":
                    out.append(pid)
        except OSError:
            pass
    return out


def invocation_pids(zygote):
    """The zygote's children that run (or wait to run) invocations: not
    its janitor, nor a child already killed (SIGKILL pending, or exiting)
    or dead and not yet reaped. A stopped one counts: the zygote kills a
    child as soon as it sees it stop."""
    jan = janitors(zygote)
    return [p for p in child_pids(zygote)
            if p not in jan and proc_state(p) not in (None, "Z", "X")
            and not _dying(p)]


def _dying(pid):
    """SIGKILL pending (bit 8 of a pending mask) or PF_EXITING (0x4 in
    /proc/PID/stat's flags); a process that vanished is dying too."""
    # Pending first: SIGKILL leaves the mask as the exit begins.
    try:
        with open("/proc/%d/status" % pid) as f:
            pending = [int(l.split()[1], 16) for l in f
                       if l.startswith(("SigPnd:", "ShdPnd:"))]
        with open("/proc/%d/stat" % pid) as f:
            flags = int(f.read().rsplit(")", 1)[1].split()[6])
    except (OSError, IndexError, ValueError):
        return True
    return bool(flags & 0x4) or any(m & (1 << 8) for m in pending)


def process_names():
    names = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    names[int(d)] = f.read().strip()
            except OSError:
                pass
    return names


def maps_of(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


def open_fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def private_dirs(tmp_base):
    if not os.path.isdir(tmp_base):
        return []
    return [n for n in os.listdir(tmp_base) if len(n) == 36 and n.count("-") == 4]


def ok(resp):
    assert resp.get("status") == "ok", "expected ok, got %s" % json.dumps(resp)[:2000]
    return resp["result"]


def error_type(resp):
    assert resp.get("status") == "error", "expected an error, got %s" % json.dumps(resp)[:2000]
    return resp["error"]["errorType"]


def wait_until(pred, timeout=5.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()

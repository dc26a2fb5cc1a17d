#!/usr/bin/env python3
"""forkbox Python runtime benchmark (issue 4, "Speed").

    python3 bench/python_bench.py [BUILD_DIR]      (make bench runs it)

Per invocation of `def handler(event, context): return event["n"]`, side by
side in one run, because absolute times on a shared VM mean little:
  (a)   forkboxd stdio --runtime python, defaults, requests back to back
        (the spare forked after the last request may not be ready yet)
  (a0)  --spares 0, paced: a child forked on demand for every request
  (a')  --spares 1, paced: a pre-forked, warmed spare ready for each request
  (a'') (a') with the module's source inline in every request
  (ar), (a'r) (a) and (a') with --recycle-dirs (as root only: it needs a
        uid per slot)
  (b)   a fresh /usr/bin/python3 per invocation, import + call, spawn to exit
  (c)   the seed's workaround: one long-lived python, a new UUID module per call
  (d)   optional: a numpy handler, --preload numpy vs a fresh process
plus the daemon's and the zygote's RSS over 10,000 invocations of (a').

The script itself may run under any Python 3 (a pyenv shim, say); every
measured Python is Debian's /usr/bin/python3, the one the zygote embeds.
Env: BENCH_PY_N (default 2000) invocations for (a)/(a')/(a''),
BENCH_PY_FRESH_N (default 200) fresh processes for (b) and (d).
It never asserts on timings: exit status 1 means something failed.
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
N = max(10, int(os.environ.get("BENCH_PY_N", "2000")))
FRESH_N = max(5, int(os.environ.get("BENCH_PY_FRESH_N", "200")))
SEED_CALLS = 10_000   # (c) and the RSS check: fixed by the issue
WARMUP = 20
PACE_S = 0.002        # gap between requests, so that a spare is ready
READ_TIMEOUT_S = 30   # a hung daemon fails the run instead of hanging it

HANDLER = 'def handler(event, context):\n    return event["n"]\n'
NUMPY_HANDLER = ('import numpy\n\ndef handler(event, context):\n'
                 '    return float(numpy.arange(10).sum())\n')

# (c), run by /usr/bin/python3 as a subprocess so that its RSS and
# sys.modules are its own. invalidate_caches() is what makes a file written
# a moment ago importable reliably (the path finder caches directory
# listings by mtime); it also rescans the ever-growing directory, which is
# part of the workaround's real cost.
SEED_WORKER = r'''
import importlib, json, sys, time, uuid
d, calls, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
sys.path.insert(0, d)
rss_start, lat = rss_kb(), []
for i in range(calls):
    t = time.perf_counter()
    name = "m_" + uuid.uuid4().hex
    with open(f"{d}/{name}.py", "w") as f:
        f.write(src)
    importlib.invalidate_caches()
    r = importlib.import_module(name).handler({"n": i}, None)
    lat.append((time.perf_counter() - t) * 1e3)
    if r != i:
        sys.exit(f"call {i} returned {r!r}")
print(json.dumps({"lat": lat, "rss_start": rss_start, "rss_end": rss_kb(),
                  "modules": len(sys.modules)}))
'''


class BenchError(Exception):
    pass


def stats(v):
    """(median, p99) the way bench/bench.c computes them."""
    s = sorted(v)
    return s[len(s) // 2], s[int((len(s) - 1) * 0.99)]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def children(pid):
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids


class LinePipe:
    """A child process spoken to one line at a time over raw pipes: reading
    the fd directly lets select() bound the wait, which a buffered
    readline() would not."""

    def __init__(self, argv, stderr_path, cwd=None):
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err,
                                         cwd=cwd, bufsize=0)
        self.out = self.proc.stdout.fileno()
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.out], [], [], READ_TIMEOUT_S)
            chunk = os.read(self.out, 65536) if ready else b""
            if not chunk:
                raise BenchError(f"{self.proc.args[0]}: no response "
                                 f"({'timeout' if not ready else 'EOF'}); "
                                 f"stderr: {self.stderr_tail()}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def roundtrip(self, line):
        """Client-side latency of one request: write + read of the reply."""
        t = time.perf_counter()
        self.proc.stdin.write(line)
        reply = self.readline()
        return (time.perf_counter() - t) * 1e3, reply

    def stderr_tail(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()[-800:].decode(errors="replace").strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Bench:
    def __init__(self, build, tmp):
        self.forkboxd = os.path.join(build, "forkboxd")
        self.tmp = tmp
        self.tmp_base = self.mkdir("tmp-base")
        self.mod_dir = self.mkdir("mod")     # what forkboxd reads
        self.fresh_dir = self.mkdir("fresh") # (b) may leave __pycache__ here
        for d in (self.mod_dir, self.fresh_dir):
            self.write(d, "func.py", HANDLER)
        self.daemons = 0

    def mkdir(self, name):
        path = os.path.join(self.tmp, name)
        os.mkdir(path)
        os.chmod(path, 0o755)  # children run under a dropped uid
        return path

    def write(self, d, name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o644)

    def daemon(self, module, *flags):
        self.daemons += 1
        argv = [self.forkboxd, "stdio", "--runtime", "python", "--module",
                module, "--tmp-base", self.tmp_base, *flags]
        return LinePipe(argv, os.path.join(self.tmp, f"d{self.daemons}.err"))

    def forkbox(self, n, module, flags, inline=False, expect=None,
                rss_calls=0, pace=True):
        """Pace requests one at a time through one daemon; return client-side
        latencies, the daemon-reported durations, and RSS samples when
        rss_calls > 0 (the timed calls count toward it)."""
        d = self.daemon(module, *flags)
        try:
            lat, dur, rss = [], [], None
            total = max(n, rss_calls)
            for i in range(-WARMUP, total):
                req = {"id": i, "event": {"n": i}}
                if inline:
                    req["module"] = {"runtime": "python", "name": "func.py",
                                     "source": HANDLER, "entry": "handler"}
                if i == 0 and rss_calls:
                    rss = self.rss_sample(d.proc.pid)
                if pace:
                    time.sleep(PACE_S)
                ms, reply = d.roundtrip(json.dumps(req).encode() + b"\n")
                resp = json.loads(reply)
                want = i if expect is None else expect
                if resp.get("status") != "ok" or resp.get("result") != want:
                    raise BenchError(f"request {i}: {reply.decode()[:600]}")
                if 0 <= i < n:
                    lat.append(ms)
                    dur.append(resp["report"]["duration_ms"])
            if rss_calls:
                rss += self.rss_sample(d.proc.pid)
            return lat, dur, rss
        finally:
            d.close()

    @staticmethod
    def rss_sample(pid):
        kids = [k for k in children(pid)
                if os.path.basename(os.readlink(f"/proc/{k}/exe"))
                .startswith("forkbox-zygote")]
        if len(kids) != 1:
            raise BenchError(f"expected one zygote under {pid}, got {kids}")
        return [rss_kb(pid), rss_kb(kids[0])]

    def fresh(self, n, code, expect):
        """Spawn-to-exit of a fresh /usr/bin/python3 running `code`."""
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            r = subprocess.run([PY, "-c", code], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            lat.append((time.perf_counter() - t) * 1e3)
            if r.returncode != 0 or r.stdout.strip() != expect:
                raise BenchError(f"fresh python: rc {r.returncode}, "
                                 f"{(r.stdout + r.stderr).decode()[-600:]}")
        return lat

    def pipe_floor(self, n):
        """The client's own share: the same paced write+read through `cat`
        (paced too, since waking a sleeping reader is part of the cost)."""
        c = LinePipe(["cat"], os.path.join(self.tmp, "cat.err"))
        try:
            lat = []
            for _ in range(n):
                time.sleep(PACE_S)
                lat.append(c.roundtrip(b'{"event": {"n": 1}}\n')[0])
            return lat
        finally:
            c.close()

    def seed(self):
        d = self.mkdir("uuid-modules")
        r = subprocess.run([PY, "-c", SEED_WORKER, d, str(SEED_CALLS),
                            HANDLER], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise BenchError(f"(c) worker: {r.stderr.decode()[-600:]}")
        return json.loads(r.stdout)


def verdict(ok):
    return "met" if ok else "NOT MET"


def jobs(b, numpy_ok):
    """(name, thunk) pairs; a thunk returns (latencies ms, daemon-reported
    ms or None, RSS samples or None), or (c)'s dict."""
    module = os.path.join(b.mod_dir, "func.py")
    fresh_code = (f"import sys; sys.path.insert(0, {b.fresh_dir!r}); "
                  "import func; print(func.handler({'n': 1}, None))")
    out = [
        ("floor", lambda: (b.pipe_floor(N), None, None)),
        ("a", lambda: b.forkbox(N, module, [], pace=False)),
        ("a0", lambda: b.forkbox(N, module, ["--spares", "0"])),
        ("a1", lambda: b.forkbox(N, module, ["--spares", "1"],
                                 rss_calls=SEED_CALLS)),
        ("a2", lambda: b.forkbox(N, module, ["--spares", "1",
                                             "--allow-request-modules"],
                                 inline=True)),
        ("b", lambda: (b.fresh(FRESH_N, fresh_code, b"1"), None, None)),
        ("c", b.seed),
    ]
    if os.geteuid() == 0:
        # Each next to its own row: the file system's state drifts as
        # the run goes on (the seed's workaround churns /tmp, and so do
        # the 10,000 invocations of (a')'s RSS run, so (a'r) comes first).
        out.insert(2, ("ar", lambda: b.forkbox(N, module, ["--recycle-dirs"],
                                               pace=False)))
        out.insert(4, ("a1r", lambda: b.forkbox(
            N, module, ["--spares", "1", "--recycle-dirs"])))
    if numpy_ok:
        np_dir = b.mkdir("numpy")
        b.write(np_dir, "func.py", NUMPY_HANDLER)
        np_code = (f"import sys; sys.path.insert(0, {np_dir!r}); "
                   "import func; print(func.handler({'n': 1}, None))")
        out += [
            ("d_fb", lambda: b.forkbox(N, os.path.join(np_dir, "func.py"),
                                       ["--spares", "1", "--preload", "numpy"],
                                       expect=45.0)),
            ("d_fresh", lambda: (b.fresh(FRESH_N, np_code, b"45.0"),
                                 None, None)),
        ]
    return out


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="forkbox-pybench-")
    os.chmod(tmp, 0o711)
    failures, res = [], {}
    numpy_ok = subprocess.run([PY, "-c", "import numpy"],
                              stderr=subprocess.DEVNULL).returncode == 0
    try:
        for name, job in jobs(Bench(build, tmp), numpy_ok):
            print(f"  running {name} ...", file=sys.stderr, flush=True)
            try:
                res[name] = job()
            except (BenchError, OSError, ValueError) as e:
                failures.append(f"{name}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(res, numpy_ok)
    for f in failures:
        print(f"FAILED {f}")
    return 1 if failures else 0


def report(res, numpy_ok):
    def row(label, key, limit=None):
        if key not in res:
            print(f"{label:<48} {'failed':>9}")
            return None
        lat, dur = res[key][0], res[key][1]
        med, p99 = stats(lat)
        d = f"{stats(dur)[0]:9.3f}" if dur else f"{'-':>9}"
        tgt = f"<= {limit} ms: {verdict(med <= limit)}" if limit else ""
        print(f"{label:<48} {med:9.3f} {p99:9.3f} {d}  {tgt}")
        return med

    print(f"\nforkbox python runtime benchmark: {N} invocations each of a "
          f"trivial handler through forkboxd stdio,\n{FRESH_N} fresh "
          f"processes, {SEED_CALLS} calls of the seed workaround; "
          f"measured python: {PY}\n")
    print(f"{'path':<48} {'median ms':>9} {'p99 ms':>9} {'daemon ms':>9}  "
          "target")
    row("client write+read through `cat` (pipe floor)", "floor")
    a = row("(a)   forkboxd, defaults, back to back", "a", 1.5)
    row("(a0)  forkboxd, --spares 0 (fork per request)", "a0")
    a1 = row("(a')  forkboxd, --spares 1 (warm spare ready)", "a1", 0.8)
    a2 = row("(a'') (a') + inline source in each request", "a2")
    if "ar" in res:
        row("(ar)  (a) + --recycle-dirs", "ar", 1.5)
        row("(a'r) (a') + --recycle-dirs", "a1r", 0.8)
    fb = row("(b)   fresh /usr/bin/python3: import + call", "b")
    print("\nforkbox rows: requests one at a time (a: back to back; the others "
          "~2 ms apart, so a\nspare is ready), timed by the client around "
          "write+readline; the pipe floor above is\nthat client overhead, the "
          "same for every forkbox row. 'daemon ms' is the daemon's\nown "
          "report.duration_ms (job hand-over to reaped).")

    print("\nratios (medians):")
    if fb is not None:
        for label, x in (("b/a", a), ("b/a'", a1), ("b/a''", a2)):
            if x is not None:
                tgt = f"   target >= 15x: {verdict(fb / x >= 15)}" \
                    if label == "b/a" else ""
                print(f"  {label:<6} {fb / x:7.1f}x{tgt}")

    if "a1" in res:
        (d0, z0), (d1, z1) = res["a1"][2][:2], res["a1"][2][2:]
        # Flat: less than 1 MiB over 10,000 invocations, i.e. not a
        # per-invocation leak (one byte a call would already show).
        flat = d1 - d0 < 1024 and z1 - z0 < 1024
        print(f"\nRSS over {SEED_CALLS} invocations of (a') (after "
              f"{WARMUP} warm-up requests):")
        print(f"  forkboxd daemon: {d0} kB -> {d1} kB ({d1 - d0:+d} kB)")
        print(f"  zygote:          {z0} kB -> {z1} kB ({z1 - z0:+d} kB)")
        print(f"  target flat (< 1 MiB growth): {verdict(flat)}")

    if "c" in res:
        c = res["c"]
        lat = c["lat"]
        print(f"\n(c) seed workaround, one /usr/bin/python3, {len(lat)} calls "
              "(write UUID-named module, import, call):")
        print(f"  median latency, first 500 calls: {stats(lat[:500])[0]:.3f} "
              f"ms; last 500 calls: {stats(lat[-500:])[0]:.3f} ms")
        print(f"  RSS: {c['rss_start']} kB -> {c['rss_end']} kB "
              f"({c['rss_end'] - c['rss_start']:+d} kB); "
              f"len(sys.modules) at the end: {c['modules']}")

    print("\n(d) numpy preloaded vs a fresh process importing numpy:")
    if not numpy_ok:
        print("  skipped: python3-numpy not installed")
    elif "d_fb" in res and "d_fresh" in res:
        dm, dp = stats(res["d_fb"][0])
        fm, fp = stats(res["d_fresh"][0])
        print(f"  forkboxd --preload numpy --spares 1: median {dm:.3f} ms, "
              f"p99 {dp:.3f} ms")
        print(f"  fresh /usr/bin/python3:              median {fm:.3f} ms, "
              f"p99 {fp:.3f} ms")
        print(f"  ratio {fm / dm:.1f}x   target >= 20x: "
              f"{verdict(fm / dm >= 20)}")
    else:
        print("  failed (see below)")


if __name__ == "__main__":
    sys.exit(main())

"""make lambda-zip: the AWS Lambda (provided.al2023) deployment zips.

The x86_64 zip is built (`make lambda-zip-x86_64`, build-zip-x86_64/ and
dist/), its file list and every ELF file's glibc needs are checked (at most
GLIBC_2.34, Amazon Linux 2023's), and the unpacked tree is run: relocated
into a scratch dir, and at /var/task (a bind mount in a private mount
namespace over a tmpfs /var, read-only as on Lambda) with a Python handler,
the seed's inline module and a native module. The arm64 zip is
cross-compiled the same way and checked statically; its bootstrap and
`forkbox policy check` run under qemu-user, skipped only when
qemu-user-static cannot be installed."""

import json
import os
import re
import shutil
import subprocess
import zipfile

from harness import BUILD, ROOT, Scratch, Skip

ARCHES = {
    "x86_64": dict(triplet="x86_64-linux-gnu", objdump="objdump", glibc_base="2.2.5"),
    "arm64": dict(triplet="aarch64-linux-gnu", objdump="aarch64-linux-gnu-objdump",
                  glibc_base="2.17"),
}
GLIBC_MAX = (2, 34)
GLIBC_LIB = re.compile(r"^(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|"
                       r"libBrokenLocale|libmvec|ld-linux[-a-z0-9_]*)\.so\.[0-9]+$")
# Needs newer than 2.34 the zip may keep, made weak, because the zip's
# forkbox-zygote-python defines the symbol (scripts/lambda-glibc-compat.c).
PROVIDED = {"arc4random_buf"}
_built = {}


def version_of_makefile():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def build_zip(arch):
    if BUILD != "build":
        raise Skip("the Lambda zips are checked once, from the plain build")
    if arch not in _built:
        env = dict(os.environ, MAKEFLAGS="")
        p = subprocess.run(["make", "-s", "lambda-zip-" + arch], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1800)
        _built[arch] = (p.returncode, p.stdout[-3000:] + p.stderr[-3000:])
    rc, out = _built[arch]
    assert rc == 0, "make lambda-zip-%s failed:\n%s" % (arch, out)
    path = os.path.join(ROOT, "dist", "forkbox-lambda-%s.zip" % arch)
    assert os.path.isfile(path), path
    return path


def unpack(zip_path, dest):
    # unzip(1), as Lambda does it: modes come from the zip.
    subprocess.run(["unzip", "-q", zip_path, "-d", dest], check=True)
    return dest


def elf_files(tree):
    out = []
    for d, _, files in os.walk(tree):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        out.append(p)
    return sorted(out)


def glibc_tuple(v):
    return tuple(int(x) for x in v.split("."))


def check_file_list(zip_path, arch):
    z = zipfile.ZipFile(zip_path)
    modes = {i.filename: (i.external_attr >> 16) & 0o7777 for i in z.infolist()}
    names = set(modes)
    triplet = ARCHES[arch]["triplet"]
    policies = sorted(f for f in os.listdir(os.path.join(ROOT, "policies"))
                      if f.endswith(".policy"))
    must = ["bootstrap", "forkbox", "libexec/forkbox-zygote", "libexec/forkbox-zygote-python",
            "lib/libseccomp.so.2", "lib/libcjson.so.1", "lib/libuuid.so.1", "lib/libcurl.so.4",
            "lib/libpython3.11.so.1.0", "lib/libssl.so.3", "lib/python3.11/os.py",
            "lib/python3.11/json/__init__.py",
            "lib/python3.11/lib-dynload/_ssl.cpython-311-%s.so" % triplet,
            "lib/python3.11/lib-dynload/_ctypes.cpython-311-%s.so" % triplet,
            "lib/python3.11/_sysconfigdata__%s.py" % triplet]
    must += ["policies/" + p for p in policies]
    missing = [m for m in must if m not in names]
    assert not missing, "missing from %s: %s" % (zip_path, missing)
    for exe in ("bootstrap", "forkbox", "libexec/forkbox-zygote", "libexec/forkbox-zygote-python"):
        assert modes[exe] & 0o755 == 0o755, (exe, oct(modes[exe]))
    for n, m in modes.items():
        if not n.endswith("/"):
            assert m & 0o444 == 0o444, "%s is not readable by all: %s" % (n, oct(m))
    # What must not be there: glibc's own libraries, another architecture's
    # extension modules, the stdlib's tests and tools, timestamp bytecode.
    for n in names:
        base = os.path.basename(n.rstrip("/"))
        assert not (n.startswith("lib/") and n.count("/") == 1 and GLIBC_LIB.match(base)), n
        if "lib-dynload/" in n and n.endswith(".so"):
            assert n.endswith("-%s.so" % triplet), n
        parts = n.split("/")
        for bad in ("test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3"):
            assert bad not in parts[2:-1] and not (parts[2:3] == [bad]), n
    pycs = [n for n in names if n.endswith(".pyc")]
    assert len(pycs) > 300, len(pycs)
    # Unchecked-hash .pyc (PEP 552 flags 0b01): zip mtimes are not exact.
    flags = int.from_bytes(z.read(next(n for n in pycs if n.endswith("os.cpython-311.pyc")))[4:8],
                           "little")
    assert flags == 0b01, flags
    assert "func.py" not in names
    return names


def check_glibc(tree, arch):
    """Every ELF file needs at most GLIBC_2.34, by objdump -T (symbols) and
    objdump -p (the version needs glibc's loader checks)."""
    objdump = ARCHES[arch]["objdump"]
    files = elf_files(tree)
    assert len(files) > 40, files
    newest = (0, 0)
    kept = []
    needs = 0
    for f in files:
        rel = os.path.relpath(f, tree)
        t = subprocess.run([objdump, "-T", f], capture_output=True, text=True, check=True).stdout
        for line in t.splitlines():
            m = re.search(r"\bGLIBC_([0-9.]+|[A-Z_]+)\)?\s+(\S+)$", line)
            if not m:
                continue
            assert m.group(1)[0].isdigit(), "%s: %s" % (rel, line)
            v = glibc_tuple(m.group(1))
            sym = m.group(2)
            if v > GLIBC_MAX:
                assert sym in PROVIDED and "*UND*" in line, "%s needs %s" % (rel, line.strip())
                kept.append((rel, sym))
            else:
                newest = max(newest, v)
        p = subprocess.run([objdump, "-p", f], capture_output=True, text=True, check=True).stdout
        lib = None
        for line in p.splitlines():
            m = re.match(r"\s+required from (\S+):", line)
            if m:
                lib = m.group(1)
                continue
            m = re.match(r"\s+0x[0-9a-f]+ 0x([0-9a-f]+) \d+ GLIBC_(\S+)", line)
            if m and GLIBC_LIB.match(lib or ""):
                weak = int(m.group(1), 16) & 0x2
                needs += 1
                assert m.group(2)[0].isdigit(), "%s: %s" % (rel, line)
                v = glibc_tuple(m.group(2))
                assert v <= GLIBC_MAX or (weak and any(k[0] == rel for k in kept)), \
                    "%s requires GLIBC_%s from %s" % (rel, m.group(2), lib)
    assert (2, 17) <= newest <= GLIBC_MAX and needs > 100, (newest, needs)
    # The weak needs are satisfied by the Python zygote's own definition.
    t = subprocess.run([objdump, "-T", os.path.join(tree, "libexec", "forkbox-zygote-python")],
                       capture_output=True, text=True, check=True).stdout
    for sym in PROVIDED:
        assert re.search(r"\.text\s+\S+\s+(Base\s+)?%s$" % sym, t, re.M), t[-2000:]
    # hypot is bound to its old version (GLIBC_2.35 -> the base version).
    t = subprocess.run([objdump, "-T", os.path.join(tree, "lib", "libpython3.11.so.1.0")],
                       capture_output=True, text=True, check=True).stdout
    assert re.search(r"\(?GLIBC_%s\)?\s+hypot$" % re.escape(ARCHES[arch]["glibc_base"]), t, re.M)
    return kept


def check_closure(tree, arch):
    """Every ELF file is for the zip's architecture, each of its DT_NEEDED
    is glibc's or in lib/, and every binary has a DT_RPATH (not
    DT_RUNPATH) into lib/."""
    libs = set(os.listdir(os.path.join(tree, "lib")))
    machine = {"x86_64": 62, "arm64": 183}[arch]  # EM_X86_64, EM_AARCH64
    for f in elf_files(tree):
        with open(f, "rb") as fh:
            head = fh.read(20)
        assert int.from_bytes(head[18:20], "little") == machine, f
        d = subprocess.run(["readelf", "-d", f], capture_output=True, text=True, check=True).stdout
        for n in re.findall(r"\(NEEDED\).*\[(.*)\]", d):
            assert GLIBC_LIB.match(n) or n in libs, "%s needs %s, not in lib/" % (f, n)
        rel = os.path.relpath(f, tree)
        want = {"bootstrap": "$ORIGIN/lib", "forkbox": "$ORIGIN/lib",
                "libexec/forkbox-zygote": "$ORIGIN/../lib",
                "libexec/forkbox-zygote-python": "$ORIGIN/../lib"}.get(rel)
        if want:
            assert "(RUNPATH)" not in d, rel
            assert re.search(r"\(RPATH\).*\[%s\]" % re.escape(want), d), (rel, d)


def at_var_task(tree, *args, stdin=None, timeout=120):
    """Runs the zip's bootstrap as forkboxd (argv[0]: as `bootstrap` it is
    the Lambda runtime) with the unpacked tree at /var/task, read-only, in
    a private mount namespace: the real /var is never touched."""
    script = (
        "set -e\n"
        "mount --make-rprivate /\n"
        "mount -t tmpfs -o mode=0755 fbx-var /var\n"
        "mkdir /var/task\n"
        "mount --bind \"$0\" /var/task\n"
        "mount -o remount,bind,ro /var/task\n"
        "exec -a forkboxd /var/task/bootstrap \"$@\"\n")
    return subprocess.run(["unshare", "--mount", "bash", "-c", script, tree] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=timeout)


def responses(p):
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


HANDLER = r'''
import bz2, ctypes, decimal, hashlib, json, lzma, math, os, sqlite3, ssl, sys, uuid, zlib
import xml.etree.ElementTree as ET

def handler(event, context):
    maps = open("/proc/self/maps").read()
    return {
        "name": event["name"],
        "hypot": math.hypot(3, 4),
        "xml": ET.fromstring("<a><b>x</b></a>").find("b").text,
        "sqlite": sqlite3.connect(":memory:").execute("select 1 + 1").fetchone()[0],
        "sha256": hashlib.sha256(b"forkbox").hexdigest(),
        "decimal": str(decimal.Decimal("1.1") + decimal.Decimal("2.2")),
        "lzma": lzma.decompress(lzma.compress(b"z")).decode(),
        "bz2": bz2.decompress(bz2.compress(b"b")).decode(),
        "ssl": ssl.OPENSSL_VERSION,
        "prefix": os.path.realpath(sys.prefix),
        "stdlib": os.path.dirname(os.__file__),
        "libs": sorted({l.split()[-1] for l in maps.splitlines() if ".so" in l.split()[-1]}),
    }
'''


def test_x86_64_zip_file_list():
    check_file_list(build_zip("x86_64"), "x86_64")


def test_x86_64_zip_needs_at_most_glibc_2_34():
    s = Scratch()
    try:
        tree = unpack(build_zip("x86_64"), s.file("t"))
        kept = check_glibc(tree, "x86_64")
        # Debian 12's libexpat and libcrypt call arc4random_buf (2.36).
        assert sorted(kept) == [("lib/libcrypt.so.1", "arc4random_buf"),
                                ("lib/libexpat.so.1", "arc4random_buf")], kept
        check_closure(tree, "x86_64")
    finally:
        s.cleanup()


def test_x86_64_zip_runs_relocated():
    """Unpacked anywhere: the binaries load their libraries from the
    tree, and the CLI checks the tree's policies."""
    s = Scratch()
    try:
        tree = unpack(build_zip("x86_64"), s.file("t"))
        v = subprocess.run([os.path.join(tree, "bootstrap"), "--version"],
                           capture_output=True, text=True, timeout=30)
        assert v.returncode == 0 and v.stdout.strip() == "forkboxd " + version_of_makefile(), v
        pols = sorted(os.path.join(tree, "policies", f)
                      for f in os.listdir(os.path.join(tree, "policies")))
        c = subprocess.run([os.path.join(tree, "forkbox"), "policy", "check"] + pols,
                           capture_output=True, text=True, timeout=60)
        assert c.returncode == 0, c.stdout[-2000:] + c.stderr
        assert [l for l in c.stdout.splitlines() if not l.startswith(" ")] == \
            ["%s: ok" % p for p in pols], c.stdout[:2000]
        for exe in ("bootstrap", "forkbox", "libexec/forkbox-zygote",
                    "libexec/forkbox-zygote-python"):
            out = subprocess.run(["ldd", os.path.join(tree, exe)], capture_output=True,
                                 text=True, check=True).stdout
            for m in re.finditer(r"(\S+) => (\S+)", out):
                assert GLIBC_LIB.match(m.group(1)) or m.group(2).startswith(tree + "/"), \
                    "%s: %s" % (exe, m.group(0))
    finally:
        s.cleanup()


def test_x86_64_zip_python_at_var_task():
    """Lambda's layout: the zip and func.py in /var/task, --handler
    func.handler. The stdlib, lib-dynload and every library they map come
    from /var/task; then the seed's inline module, twice, fresh each time."""
    s = Scratch()
    try:
        tree = unpack(build_zip("x86_64"), s.file("t"))
        with open(os.path.join(tree, "func.py"), "w") as f:
            f.write(HANDLER)
        os.chmod(os.path.join(tree, "func.py"), 0o644)
        seed = "def scrape_process(driver):\n    return('%d')"
        reqs = [{"id": 1, "event": {"name": "Ada"}}] + [
            {"id": i, "event": {}, "module": {"runtime": "python", "name": "func.py",
                                              "source": seed % i, "entry": "scrape_process"}}
            for i in (2, 3)]
        p = at_var_task(tree, "stdio", "--runtime", "python", "--handler", "func.handler",
                        "--task-root", "/var/task", "--allow-request-modules",
                        "--tmp-base", s.file("base"),
                        stdin="".join(json.dumps(r) + "\n" for r in reqs))
        r = responses(p)
        assert [x.get("status") for x in r] == ["ok"] * 3, p.stdout[-3000:] + p.stderr[-2000:]
        res = r[0]["result"]
        assert res["name"] == "Ada" and res["hypot"] == 5.0 and res["xml"] == "x", res
        assert res["sqlite"] == 2 and res["decimal"] == "3.3", res
        assert res["lzma"] == "z" and res["bz2"] == "b" and res["ssl"].startswith("OpenSSL"), res
        assert res["prefix"] == "/var/task", res
        assert res["stdlib"] == "/var/task/lib/python3.11", res
        for lib in res["libs"]:
            assert lib.startswith("/var/task/") or GLIBC_LIB.match(os.path.basename(lib)), lib
        for name in ("libpython3.11.so.1.0", "libexpat.so.1", "libssl.so.3", "libsqlite3.so.0"):
            assert "/var/task/lib/" + name in res["libs"], (name, res["libs"])
        assert [x["result"] for x in r[1:]] == ["2", "3"], r[1:]
    finally:
        s.cleanup()


def test_x86_64_zip_native_at_var_task():
    s = Scratch()
    try:
        tree = unpack(build_zip("x86_64"), s.file("t"))
        shutil.copy(os.path.join(ROOT, BUILD, "examples", "hello.so"),
                    os.path.join(tree, "func.so"))
        os.chmod(os.path.join(tree, "func.so"), 0o755)
        p = at_var_task(tree, "stdio", "--handler", "func.handler", "--task-root", "/var/task",
                        "--tmp-base", s.file("base"),
                        stdin=json.dumps({"event": {"name": "Ada"}}) + "\n")
        r = responses(p)
        assert r[0].get("result") == {"greeting": "Hello, Ada!"}, p.stdout + p.stderr[-2000:]
    finally:
        s.cleanup()


def test_arm64_zip_cross_built():
    """make lambda-zip-arm64 cross-compiles (installing Debian's aarch64
    toolchain and :arm64 -dev packages first): the same file list, glibc
    needs and library closure as x86_64."""
    zip_path = build_zip("arm64")
    check_file_list(zip_path, "arm64")
    s = Scratch()
    try:
        tree = unpack(zip_path, s.file("t"))
        kept = check_glibc(tree, "arm64")
        assert sorted(kept) == [("lib/libcrypt.so.1", "arc4random_buf"),
                                ("lib/libexpat.so.1", "arc4random_buf")], kept
        check_closure(tree, "arm64")
    finally:
        s.cleanup()


def test_arm64_zip_runs_under_qemu_user():
    """The arm64 bootstrap and CLI, with their bundled libraries, under
    qemu-user. qemu-user does not emulate seccomp(2): for `policy check`
    an LD_PRELOAD shim answers libseccomp's feature probes as a kernel
    with seccomp would (tests/lambda-zip/qemu-seccomp-shim.c), so the
    policies are still parsed and compiled for aarch64 by the zip's own
    forkbox and libseccomp."""
    zip_path = build_zip("arm64")
    inst = subprocess.run([os.path.join(ROOT, "scripts", "install-lambda-deps.sh"), "qemu"],
                          capture_output=True, text=True, timeout=900)
    qemu = shutil.which("qemu-aarch64-static")
    if inst.returncode != 0 or not qemu:
        raise Skip("qemu-user-static is not installable here: %s" %
                   (inst.stderr.strip().splitlines() or ["not found"])[-1])
    s = Scratch()
    try:
        tree = unpack(zip_path, s.file("t"))
        v = subprocess.run([qemu, os.path.join(tree, "bootstrap"), "--version"],
                           capture_output=True, text=True, timeout=60)
        assert v.returncode == 0 and v.stdout.strip() == "forkboxd " + version_of_makefile(), v
        # Its libraries are the zip's (DT_RPATH), not the host's arm64 ones.
        ld = subprocess.run([qemu, "/lib/ld-linux-aarch64.so.1", "--list",
                             os.path.join(tree, "bootstrap")],
                            capture_output=True, text=True, timeout=60)
        assert ld.returncode == 0, ld.stderr
        for m in re.finditer(r"(\S+) => (\S+)", ld.stdout):
            assert GLIBC_LIB.match(m.group(1)) or m.group(2).startswith(tree + "/"), m.group(0)
        assert "libcurl.so.4 => " + tree in ld.stdout, ld.stdout
        shim = s.file("shim.so")
        subprocess.run(["aarch64-linux-gnu-gcc", "-O2", "-Wall", "-Werror", "-shared", "-fPIC",
                        "-o", shim, os.path.join(ROOT, "tests", "lambda-zip",
                                                 "qemu-seccomp-shim.c")],
                       check=True, capture_output=True, text=True)
        pols = sorted(os.path.join(tree, "policies", f)
                      for f in os.listdir(os.path.join(tree, "policies")))
        c = subprocess.run([qemu, "-E", "LD_PRELOAD=" + shim, os.path.join(tree, "forkbox"),
                            "policy", "check"] + pols,
                           capture_output=True, text=True, timeout=300)
        assert c.returncode == 0, c.stdout[-2000:] + c.stderr[-2000:]
        assert [l for l in c.stdout.splitlines() if not l.startswith(" ")] == \
            ["%s: ok" % p for p in pols], c.stdout[:2000]
        # aarch64's syscall table: no arch_prctl there, openat is 56.
        assert "skipped (not on this architecture)" in c.stdout and "arch_prctl" in c.stdout
        assert re.search(r"^\s+openat \(56\): allow", c.stdout, re.M), c.stdout[:3000]
    finally:
        s.cleanup()

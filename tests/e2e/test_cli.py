"""forkbox run: one invocation through the library, no daemon."""

import json
import subprocess

from harness import Scratch, build_path, module


def test_run_prints_the_response():
    s = Scratch()
    with open(s.file("e.json"), "w") as f:
        f.write('{"name": "Ada"}')
    p = subprocess.run([build_path("forkbox"), "run", "--module", build_path("examples", "hello.so"),
                        "--event", s.file("e.json"), "--tmp-base", s.tmp_base],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["result"] == {"greeting": "Hello, Ada!"}
    assert "greeting Ada" in r["logs"]
    s.cleanup()


def test_run_reports_module_failure_with_exit_1():
    s = Scratch()
    p = subprocess.run([build_path("forkbox"), "run", "--module", module("hostile"),
                        "--event-json", '{"do": "segv"}', "--tmp-base", s.tmp_base],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["errorType"] == "Runtime.ExitError"
    s.cleanup()


def test_wordcount_example_scratch_file_does_not_survive():
    s = Scratch()
    for _ in range(2):
        p = subprocess.run([build_path("forkbox"), "run", "--module",
                            build_path("examples", "wordcount.so"), "--event-json",
                            '{"text": "to be or not to be"}', "--tmp-base", s.tmp_base],
                           capture_output=True, text=True, timeout=30)
        r = json.loads(p.stdout)
        assert r["result"] == {"words": 6, "scratch_bytes": 18, "saw_previous_call": False}, r
    s.cleanup()


def test_probe_lists_every_layer_with_yes_or_no():
    p = subprocess.run([build_path("forkbox"), "probe"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p
    lines = p.stdout.splitlines()
    names = [l.split()[1].rstrip(":") for l in lines]
    assert names == ["seccomp", "seccomp-notify", "pidns", "uid-drop", "subreaper",
                     "landlock", "landlock-scope"], p.stdout
    assert all(l.split()[0] in ("yes", "no") for l in lines), p.stdout
    assert lines[0].startswith("yes seccomp"), p.stdout
    p = subprocess.run([build_path("forkbox"), "probe", "--policy", "/nonexistent.policy"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "no sandbox starts" in p.stderr, p

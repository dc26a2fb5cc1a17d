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

"""One handler, many behaviours chosen by the event's "do"."""
import hashlib
import logging
import os
import random
import socket
import sys
import time


def handler(event, context):
    do = event.get("do")
    if do == "context":
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining": context.get_remaining_time_in_millis(),
            "tmp_dir": context.tmp_dir,
        }
    if do == "marshal":
        return {1, 2, 3}
    if do == "nan":
        return float("nan")
    if do == "print_flood":
        line = "x" * 1023
        for _ in range(event.get("kb", 4096)):
            print(line)
        return "printed"
    if do == "partial_print":
        sys.stdout.write("no newline at the end")
        return "ok"
    if do == "log":
        logging.getLogger("mine").warning("careful: %s", event.get("arg"))
        return "logged"
    if do == "environ":
        return dict(os.environ)
    if do == "socket":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", event["port"]))
        return "connected"
    if do == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return "forked"
    if do == "daemonize":
        # fork, setsid, fork again: the grandchild reports its pid through
        # a pipe and lives on, unless the sandbox kills it.
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, b"%d\n" % os.getpid())
                while True:
                    time.sleep(1)
            os._exit(0)
        os.waitpid(pid, 0)
        return {"grandchild": int(os.read(r, 64).split()[0])}
    if do == "exec":
        os.execv("/bin/true", ["true"])
    if do == "libc":
        # A libc function called through ctypes: the raw syscall reaches
        # the filter exactly as a C extension's would.
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        rc = getattr(libc, event["fn"])(*event.get("args", []))
        return {"rc": rc, "errno": ctypes.get_errno()}
    if do == "tiocsti":
        import fcntl
        import termios
        try:
            fcntl.ioctl(0, termios.TIOCSTI, b"x")
        except OSError as e:
            return {"errno": e.errno}
        return {"errno": 0}
    if do == "numpy":
        import numpy
        return {"sum": float(numpy.arange(10).sum()),
                "random": float(numpy.random.random())}
    if do == "random":
        return {"random": random.random(), "urandom": os.urandom(8).hex()}
    if do == "hash":
        return {"hash": hash("forkbox"), "pid": os.getpid(),
                "ppid": os.getppid()}
    if do == "sleep":
        time.sleep(event["s"])
        return "slept"
    if do == "exit":
        sys.exit(event.get("code", 3))
    if do == "sha":
        return hashlib.sha256(b"forkbox").hexdigest()
    if do == "threads":
        import threading
        out = []
        ts = [threading.Thread(target=lambda i=i: out.append(i))
              for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sorted(out)
    if do == "asyncio":
        import asyncio

        async def main():
            await asyncio.sleep(0.001)
            return "async"
        return asyncio.run(main())
    return {"echo": event}

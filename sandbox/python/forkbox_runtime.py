"""forkbox's Python runtime: the Python half of sandbox/runtime_python.c.

Compiled into the zygote and run there once (zygote_init), then used by each
forked child: child_init (before seccomp, in a spare), load (import the
staged module) and call (run the handler, serialise the answer). Every
answer is a frame (kind, payload bytes) that the C side writes to the
result channel; errors follow AWS Lambda's Python runtime (awslambdaric):
same errorType names, messages and stackTrace lines.

Nothing here survives an invocation: the child that ran it exits."""

import gc
import importlib
import importlib.machinery
import io
import json
import logging
import os
import select
import sys
import time
import traceback

FRAME_RESULT = 1
FRAME_ERROR = 2

_dumps = json.dumps
_ModuleType = type(sys)
_loads = json.loads
_request_id = ""

# Streams of the child, made once here: fd 1 and 2 become the invocation's
# log pipe in the child. Line-buffered, so a module killed at its deadline
# has still logged every complete line it printed.
_child_stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False),
                                 encoding="utf-8", errors="backslashreplace",
                                 line_buffering=True)
_child_stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False),
                                 encoding="utf-8", errors="backslashreplace",
                                 line_buffering=True)


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source every time: a .pyc beside the module (or in its
    __pycache__) is never read, however well its mtime and size match."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)

    def get_data(self, path):
        # Plain reads: no buffered file object, no isatty() probe.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        finally:
            os.close(fd)


def _source_only_finder(path):
    # Sourceless .pyc files are not importable from module dirs at all.
    return importlib.machinery.FileFinder(
        path,
        (_SourceOnlyLoader, [".py"]),
        (importlib.machinery.ExtensionFileLoader,
         importlib.machinery.EXTENSION_SUFFIXES))


# The dirs of the interpreter's own sys.path (stdlib, lib-dynload,
# site-packages), whose bytecode caches Debian's packages maintain; filled
# in by zygote_init.
_trusted_dirs = frozenset()


def _path_hook(path):
    """First in sys.path_hooks: every sys.path entry but the interpreter's
    own gets a source-only finder, the private dir and the module's dir
    included, when an import first searches it (none is made for a
    handler that imports nothing new)."""
    if path in _trusted_dirs:
        raise ImportError("not ours")  # the next hook takes it
    return _source_only_finder(path)


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


def _logging_setup():
    # As in Lambda: the root logger writes to the log stream, each line
    # tagged with the invocation's request id; level WARNING by default.
    handler = logging.StreamHandler(_child_stderr)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t"
        "%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]


class LambdaContext:
    """The handler's `context`, with the attributes of AWS Lambda's."""

    def __init__(self, request_id, function_name, invoked_function_arn,
                 memory_mb, deadline_ms, tmp_dir, client_context,
                 identity):
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = os.environ.get(
            "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_function_arn
        # A string in AWS's runtime too.
        self.memory_limit_in_mb = str(memory_mb)
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = _json_or_none(client_context)
        self.identity = _json_or_none(identity)
        self.tmp_dir = tmp_dir
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg):
        _child_stdout.write(msg)

    def __repr__(self):
        return ("LambdaContext([aws_request_id={0},function_name={1},"
                "memory_limit_in_mb={2},tmp_dir={3}])".format(
                    self.aws_request_id, self.function_name,
                    self.memory_limit_in_mb, self.tmp_dir))


def _json_or_none(text):
    if not text:
        return None
    try:
        return _loads(text)
    except ValueError:
        return None


def _error(error_type, message, stack=()):
    return (FRAME_ERROR, _dumps({"errorType": error_type,
                                 "errorMessage": message,
                                 "stackTrace": list(stack)}).encode())


def _exception_frame(exc):
    """errorType is the class name, stackTrace the user's frames formatted
    as traceback.format_list does (awslambdaric's build_fault_result)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != __file__]
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not lose the error
        message = "<unprintable %s>" % type(exc).__name__
    return _error(type(exc).__name__, message, traceback.format_list(frames))


def _entry_arity(fn):
    """How many of (event, context) the entry accepts: 0, 1 or 2."""
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__func__", None), "__code__", None)
    if code is not None:
        if code.co_flags & 0x04:  # CO_VARARGS
            return 2
        n = code.co_argcount
        if hasattr(fn, "__self__"):
            n -= 1
        return max(0, min(n, 2))
    try:
        import inspect
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return min(n, 2)


def zygote_init(preload, warm_dir, module_dir):
    """Once, in the zygote. Returns (None or why the zygote must not start,
    what Python printed meanwhile: the zygote's stderr is the host's
    diagnostics stream, which takes JSON lines only)."""
    printed = io.StringIO()
    sys.stdout = sys.stderr = printed
    try:
        why = _zygote_prepare(preload, warm_dir, module_dir)
    finally:
        sys.stdout = sys.__stdout__ = _child_stdout
        sys.stderr = sys.__stderr__ = _child_stderr
    return why, printed.getvalue()


def _zygote_prepare(preload, warm_dir, module_dir):
    global _trusted_dirs
    sys.dont_write_bytecode = True
    _trusted_dirs = frozenset(sys.path)
    sys.path_hooks.insert(0, _path_hook)
    _logging_setup()
    # The default module's dir (the task root), so that its own packages
    # can be preloaded; from source only, as in the children.
    if module_dir:
        sys.path.insert(0, module_dir)
    for name in preload:
        try:
            importlib.import_module(name)
        except BaseException as e:
            return "preloading module '%s' failed: %s: %s" % (
                name, type(e).__name__, e)
    why = _warm_up(warm_dir)
    if why:
        return why
    # Objects the zygote made are never freed: keep the collector from
    # walking (and so copying) their pages in every child.
    gc.collect()
    gc.freeze()
    return None


_WARM_SOURCE = ("import json\n"
                "def handler(event, context):\n"
                "    return {'n': event['n'],"
                " 'left': context.get_remaining_time_in_millis() > 0}\n")


def _warm_run(here, stop):
    """Writes the warm-up module into the dir `here`, imports it and calls
    it the way a job would, and removes every trace of it (file, module,
    sys.path entries). stop() is asked between steps; a true answer ends the
    run early. Returns None, or why a step failed."""
    path = os.path.join(here, "forkbox_warm.py")
    path_before = list(sys.path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                 0o600)
    try:
        os.write(fd, _WARM_SOURCE.encode())
        os.close(fd)
        handler = load(here, "forkbox_warm.py", "", "handler")
        if isinstance(handler, tuple):
            return "warming the import path: %r" % (handler[1],)
        if stop():
            return None
        kind, payload = call(handler, b'{"n": 0}', "warm", "warm", "", 128,
                             int(time.time() * 1000) + 1000, here, "", "")
        if kind != FRAME_RESULT:
            return "warming the call path: %r" % (payload,)
        return None
    finally:
        os.unlink(path)
        sys.modules.pop("forkbox_warm", None)
        sys.path_importer_cache.pop(here, None)
        sys.path[:] = path_before


def _warm_up(warm_dir):
    """In the zygote: the import and call paths a few dozen times, so that
    every child starts with their code paths, caches and specialised
    bytecode already in the zygote's (shared) memory."""
    for _ in range(50):
        why = _warm_run(warm_dir, lambda: False)
        if why:
            return why
    return None


def child_init(job_fd):
    """In each child before seccomp and before its job: what must differ
    from the zygote and from the other children, then, in a spare, a
    warm-up run for as long as no job waits on job_fd (-1: one already
    does)."""
    global _request_id
    sys.stdout = sys.__stdout__ = _child_stdout
    sys.stderr = sys.__stderr__ = _child_stderr
    _request_id = ""
    np = sys.modules.get("numpy")
    if np is not None:
        # numpy's global generator is not re-seeded at fork (random's is).
        try:
            np.random.seed()
        except Exception:
            pass
    if job_fd < 0:
        return
    try:
        _spare_warm(lambda: bool(select.select([job_fd], [], [], 0)[0]))
    except Exception:
        pass  # only an optimisation; the job runs the same without it


def _spare_warm(job_waiting):
    """Runs the import and call paths once in the child, ahead of its job
    (a spare waits for one), from its own private dir (the cwd): every page
    of the zygote's objects they touch (reference counts are writes) is
    copied now, not on the request's critical path. A job that arrives
    meanwhile stops it between steps: warming up is worth its time only
    ahead of a request, never while one waits."""
    global _request_id
    # "." rather than the dir's path: the zygote may rename the dir
    # (".spare-<uuid>" becomes "<uuid>") while this runs.
    if not job_waiting() and _warm_run(".", job_waiting) is None \
            and not job_waiting():
        child_environ(dict(os.environb))
    _request_id = ""


def child_environ(env):
    """os.environ was read when the zygote started; the child's C
    environment is the allow-list plus this invocation's variables. env
    maps bytes to bytes, as os.environ's store does on POSIX; replacing the
    store in place (os.environb shares it) calls no putenv: the C side
    already holds these values."""
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict):
        data.clear()
        data.update(env)
    else:
        os.environ.clear()
        os.environ.update({k.decode(errors="surrogateescape"):
                           v.decode(errors="surrogateescape")
                           for k, v in env.items()})
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None  # cached from the zygote's $TMPDIR


def load(tmp_dir, file_name, src_dir, entry):
    """Imports the module staged in tmp_dir. Returns the entry, or an error
    frame as awslambdaric's _get_handler would report it."""
    global _request_id
    modname, ext = os.path.splitext(file_name)
    if ext != ".py" or not modname.isidentifier():
        return _error("Runtime.ImportModuleError",
                      "Unable to import module '%s': a Python module is a "
                      "file named <identifier>.py" % file_name)
    if modname in sys.builtin_module_names:
        return _error("Runtime.BuiltInModuleConflict",
                      "Cannot use built-in module %s as a handler module"
                      % modname)
    # The private dir first, then the module's own dir for its siblings;
    # both read from source only (_path_hook).
    sys.path[0:0] = [tmp_dir] + ([src_dir] if src_dir and src_dir != tmp_dir
                                 and src_dir not in sys.path else [])
    path = os.path.join(tmp_dir, file_name)
    # By file, not by name: a module called json.py is the user's, not the
    # json the zygote preloaded. Built by hand rather than through
    # importlib.util: the same attributes, far fewer of the zygote's
    # objects touched (each one touched is a page copied in this child).
    loader = _SourceOnlyLoader(modname, path)
    spec = importlib.machinery.ModuleSpec(modname, loader, origin=path)
    spec.has_location = True
    module = _ModuleType(modname)
    module.__spec__ = spec
    module.__loader__ = loader
    module.__file__ = path
    module.__package__ = ""
    module.__cached__ = None
    sys.modules[modname] = module
    try:
        code = compile(loader.get_data(path), path, "exec",
                       dont_inherit=True)
        exec(code, module.__dict__)
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno,
                                                  e.text)]
        return _error("Runtime.UserCodeSyntaxError",
                      "Syntax error in module '%s': %s" % (modname, e),
                      trace)
    except ImportError as e:
        return _error("Runtime.ImportModuleError",
                      "Unable to import module '%s': %s" % (modname, e))
    except Exception as e:
        return _exception_frame(e)
    except BaseException as e:  # SystemExit and the like at import time
        return _error("Runtime.ExitError",
                      "module '%s' exited while being imported: %s: %s"
                      % (modname, type(e).__name__, e))
    handler = getattr(module, entry, None)
    if handler is None or not callable(handler):
        return _error("Runtime.HandlerNotFound",
                      "Handler '%s' missing on module '%s'" % (entry, modname))
    return handler


def call(handler, event_json, request_id, function_name, arn, memory_mb,
         deadline_ms, tmp_dir, client_context, identity):
    """Runs the entry with as many of (event, context) as it takes.
    Returns a frame."""
    global _request_id
    _request_id = request_id
    try:
        event = _loads(event_json)
    except ValueError as e:
        return _error("Runtime.UnmarshalError",
                      "Unable to unmarshal input: %s" % e)
    context = LambdaContext(request_id, function_name, arn, memory_mb,
                            deadline_ms, tmp_dir, client_context, identity)
    try:
        args = (event, context)[:_entry_arity(handler)]
        result = handler(*args)
    except Exception as e:
        return _exception_frame(e)
    except SystemExit as e:
        return _error("Runtime.ExitError",
                      "the handler called sys.exit(%r)" % (e.code,))
    except BaseException as e:
        return _exception_frame(e)
    try:
        return (FRAME_RESULT, _dumps(result, allow_nan=False).encode())
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        return _error("Runtime.MarshalError",
                      "Unable to marshal response: %s" % e)


def finish():
    """Before the child's _exit: nothing printed may stay in a buffer."""
    for stream in (sys.stdout, sys.stderr, _child_stdout, _child_stderr):
        try:
            stream.flush()
        except Exception:
            pass

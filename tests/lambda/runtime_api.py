"""An AWS Lambda Runtime API of our own, for testing forkboxd lambda.

Python stdlib only. A test starts one on a loopback port, points
AWS_LAMBDA_RUNTIME_API at it, queues invocations and reads what the runtime
answered. It checks every request the runtime makes against the API's
contract (LAMBDA-NOTES.md, AWS's Runtime API reference) and records each
breach in `violations`, which tests assert is empty:

- only GET .../runtime/invocation/next, POST .../invocation/{id}/response,
  POST .../invocation/{id}/error and POST .../runtime/init/error exist;
- /response and /error only for an id /next handed out and not answered
  yet (403 InvalidStateTransition, 400 InvalidRequestID otherwise);
- a /response body is valid JSON;
- an /error or /init/error has Content-Type
  application/vnd.aws.lambda.error+json, a JSON object body with
  errorMessage (string), errorType (string), stackTrace (list of
  strings), and a Lambda-Runtime-Function-Error-Type header equal to
  errorType;
- no more /next calls waiting or invocations in flight than the
  concurrency it was started with (one, unless told: a second concurrent
  /next from one runtime breaks the in-flight invocation on some peers).

Faults it injects on request: an HTTP status on the next /next (500,
403); a connection reset mid-answer (headers of a /next sent, then the
socket closed; the invocation is handed out again on the next /next); a
slow /next (answers after N seconds); a deadline header in the past, absent
or unparsable; a status of our choice (413, 400, 500) for an invocation's
/response; closing keep-alive connections idle for N seconds.
"""

import collections
import http.server
import json
import socket
import sys
import threading
import time
import uuid

PREFIX = "/2018-06-01"
ERROR_CONTENT_TYPE = "application/vnd.aws.lambda.error+json"
DEFAULT_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:forkbox-test"


def now_ms():
    return int(time.time() * 1000)


class Invocation:
    """One event, from queueing to its answer."""

    def __init__(self, payload, request_id, timeout_ms, deadline, headers,
                 response_status, arn):
        self.payload = payload
        self.request_id = request_id
        self.timeout_ms = timeout_ms
        self.deadline = deadline          # "auto", None (absent) or header text
        self.deadline_ms = None           # what was sent, when a number
        self.headers = headers            # extra Lambda-Runtime-* headers
        self.response_status = response_status
        self.arn = arn
        self.handed_out = 0               # times /next delivered it
        self.handed_out_at = None
        self.posts = []                   # (kind, status, headers, body, time)
        self.kind = None                  # "response" or "error" once answered
        self.body = None
        self.post_headers = None
        self.answered_at = None
        self.done = threading.Event()

    @property
    def result(self):
        return json.loads(self.body)


class RuntimeAPI:
    def __init__(self, concurrency=1, idle_timeout=None):
        self.cond = threading.Condition()
        self.queue = collections.deque()
        self.by_id = {}
        self.violations = []
        self.init_errors = []             # (headers, body) of /init/error
        self.next_calls = []              # times of every GET /next
        self.faults = collections.deque()  # for the coming /next calls
        self.connections = 0
        self.concurrency = concurrency
        self.waiting = 0                  # /next calls not answered yet
        self.in_flight = 0                # handed out, not answered
        self.max_in_flight = 0
        self.closing = False
        api = self

        class Handler(_Handler):
            pass
        Handler.api = api
        Handler.timeout = idle_timeout
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    # --- what tests call -------------------------------------------------

    def invoke(self, payload, timeout_ms=30000, deadline="auto", headers=None,
               response_status=None, request_id=None, arn=DEFAULT_ARN):
        """Queues an event (JSON-able, or bytes sent as they are)."""
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        inv = Invocation(payload, request_id or str(uuid.uuid4()), timeout_ms,
                         deadline, dict(headers or {}), response_status, arn)
        with self.cond:
            self.by_id[inv.request_id] = inv
            self.queue.append(inv)
            self.cond.notify_all()
        return inv

    def wait(self, inv, timeout=30):
        if not inv.done.wait(timeout):
            raise AssertionError("no answer for %s within %ss (violations: %s)"
                                 % (inv.request_id, timeout, self.violations))
        return inv

    def call(self, payload, timeout=30, **kw):
        """Invokes and waits: (kind, decoded body)."""
        inv = self.wait(self.invoke(payload, **kw), timeout)
        return inv.kind, inv.result

    def fault_next(self, kind, arg=None):
        """Arms a fault for the next GET /next: ("status", 500),
        ("reset", None) or ("slow", seconds)."""
        with self.cond:
            self.faults.append((kind, arg))
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- bookkeeping -----------------------------------------------------

    def violation(self, text):
        with self.cond:
            self.violations.append(text)

    def check_error(self, where, headers, body):
        ctype = headers.get("Content-Type")
        if ctype != ERROR_CONTENT_TYPE:
            self.violation("%s: Content-Type %r, not %s" % (where, ctype, ERROR_CONTENT_TYPE))
        try:
            obj = json.loads(body)
        except ValueError:
            self.violation("%s: body is not JSON: %r" % (where, body[:200]))
            return
        if not isinstance(obj, dict):
            self.violation("%s: body is not an object: %r" % (where, body[:200]))
            return
        for key, typ in (("errorMessage", str), ("errorType", str), ("stackTrace", list)):
            if not isinstance(obj.get(key), typ):
                self.violation("%s: %s is not a %s: %r" % (where, key, typ.__name__, obj))
        if isinstance(obj.get("stackTrace"), list) and \
                not all(isinstance(f, str) for f in obj["stackTrace"]):
            self.violation("%s: stackTrace has non-strings: %r" % (where, obj))
        header = headers.get("Lambda-Runtime-Function-Error-Type")
        if not header:
            self.violation("%s: no Lambda-Runtime-Function-Error-Type header" % where)
        elif header != obj.get("errorType"):
            self.violation("%s: Lambda-Runtime-Function-Error-Type %r differs from "
                           "errorType %r" % (where, header, obj.get("errorType")))


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A runtime killed or reset mid-request is what some tests do; any
        # other exception is a bug here, and is printed.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as the real API
    # Headers and body go out in two writes: with Nagle's algorithm the
    # body waits for the client's delayed ACK, about 40 ms per answer.
    disable_nagle_algorithm = True
    api = None

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with self.api.cond:
            self.api.connections += 1

    def reply(self, status, body=b"", ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def reply_error(self, status, error_type, message):
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        self.reply(status, body)

    def unexpected(self):
        self.api.violation("%s %s: no such call in the Runtime API" % (self.command, self.path))
        self.reply_error(404, "NotFound", "no such call")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = unexpected

    # --- GET /next -------------------------------------------------------

    def do_GET(self):
        if self.path != PREFIX + "/runtime/invocation/next":
            return self.unexpected()
        api = self.api
        with api.cond:
            api.next_calls.append(time.monotonic())
            if api.waiting + api.in_flight >= api.concurrency:
                api.violations.append(
                    "GET /next with %d waiting and %d in flight (concurrency %d)"
                    % (api.waiting, api.in_flight, api.concurrency))
            api.waiting += 1
        self.counted_waiting = True
        try:
            self.serve_next()
        finally:
            with api.cond:
                if self.counted_waiting:
                    api.waiting -= 1

    def serve_next(self):
        api = self.api
        with api.cond:
            # A fault armed while this /next already waits is its own: the
            # runtime polls again right after each answer, before a test
            # can arm anything.
            while not api.faults and not api.queue and not api.closing:
                api.cond.wait(0.2)
            fault, arg = api.faults.popleft() if api.faults else (None, None)
        if fault == "status":
            return self.reply_error(arg, "ServiceException" if arg >= 500 else
                                    "InvalidStateTransition", "injected fault")
        if fault == "slow":
            time.sleep(arg)
        with api.cond:
            while not api.queue and not api.closing:
                api.cond.wait(0.2)
            if api.closing:
                self.close_connection = True
                return
            inv = api.queue.popleft()
            inv.handed_out += 1
            inv.handed_out_at = time.time()
            # From waiting to in flight in one step: the runtime may answer
            # and poll again before this thread runs another line.
            api.waiting -= 1
            self.counted_waiting = False
            api.in_flight += 1
            api.max_in_flight = max(api.max_in_flight, api.in_flight)
        headers = {"Lambda-Runtime-Aws-Request-Id": inv.request_id}
        if inv.deadline == "auto":
            inv.deadline_ms = now_ms() + inv.timeout_ms
            headers["Lambda-Runtime-Deadline-Ms"] = str(inv.deadline_ms)
        elif inv.deadline is not None:
            headers["Lambda-Runtime-Deadline-Ms"] = str(inv.deadline)
        if inv.arn:
            headers["Lambda-Runtime-Invoked-Function-Arn"] = inv.arn
        headers.update(inv.headers)
        if fault == "reset":
            # Headers, half the body, then a reset: the runtime must get
            # it again on a new connection.
            with api.cond:
                api.in_flight -= 1
                inv.handed_out -= 1
                api.queue.appendleft(inv)
                api.cond.notify_all()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(inv.payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(inv.payload[:len(inv.payload) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        self.reply(200, inv.payload, headers=headers)

    # --- POSTs -----------------------------------------------------------

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if length is None:
            self.api.violation("POST %s without Content-Length" % self.path)
            self.close_connection = True
            return self.reply_error(411, "LengthRequired", "no Content-Length")
        body = self.rfile.read(int(length))
        headers = {k: v for k, v in self.headers.items()}
        if self.path == PREFIX + "/runtime/init/error":
            self.api.check_error("POST /init/error", headers, body)
            with self.api.cond:
                self.api.init_errors.append((headers, body))
            return self.reply(202, b'{"status":"OK"}')
        parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
        # ['', 'runtime', 'invocation', id, kind]
        if len(parts) != 5 or parts[1:3] != ["runtime", "invocation"] or \
                parts[4] not in ("response", "error"):
            return self.unexpected()
        self.answer(parts[3], parts[4], headers, body)

    def answer(self, request_id, kind, headers, body):
        api = self.api
        where = "POST /invocation/%s/%s" % (request_id, kind)
        with api.cond:
            inv = api.by_id.get(request_id)
            if inv is None or inv.handed_out == 0:
                api.violations.append("%s: an id /next never handed out" % where)
                return self.reply_error(400, "InvalidRequestID", "unknown request id")
            if inv.done.is_set():
                api.violations.append("%s: already answered (%s)" % (where, inv.kind))
                return self.reply_error(403, "InvalidStateTransition", "already answered")
        if kind == "error":
            api.check_error(where, headers, body)
        else:
            try:
                json.loads(body)
            except ValueError:
                api.violation("%s: body is not JSON: %r" % (where, body[:200]))
        status = 202
        if kind == "response" and inv.response_status:
            status, inv.response_status = inv.response_status, None
        with api.cond:
            inv.posts.append((kind, status, headers, body, time.time()))
            # 413 leaves the invocation open for an /error; anything else
            # ends it (a 400 says the platform does not know it any more).
            if status != 413:
                inv.kind, inv.body, inv.post_headers = kind, body, headers
                inv.answered_at = time.time()
                api.in_flight -= 1
        try:
            if status == 202:
                self.reply(202, b'{"status":"OK"}')
            elif status == 413:
                self.reply_error(413, "RequestEntityTooLarge", "payload too large")
            elif status == 400:
                self.reply_error(400, "InvalidRequestID", "unknown request id")
            else:
                self.reply_error(status, "ServiceException", "injected fault")
        finally:
            # Only now: a test that stops the runtime on seeing the answer
            # must not cut it off before it has read ours.
            if status != 413:
                inv.done.set()

"""In-container trace library for Loom Sandbox (Python 3.8+, standard library only).

    from loom_trace import tracer, trace_span, trace_function

    with trace_span("load_data", {"rows": 5}) as span:
        span.set_attribute("source", "memory")

    @trace_function
    def work(): ...

    @trace_function("fetch", attributes={"api": "github"})
    async def fetch(): ...

The host passes the trace context in the environment: TRACEPARENT (W3C, wins when it is valid),
else LOOM_TRACE_ID / LOOM_SPAN_ID; with neither, a random trace id and no parent. Each span, when
it ends, is appended to LOOM_TRACE_FILE as one JSON line in a single write(2) on an O_APPEND fd,
so records survive sys.exit, an uncaught exception or a fork, and lines from several threads or
processes never interleave. Tracing never raises into user code and never prints: with no
usable LOOM_TRACE_FILE, spans simply are not recorded.

Nesting follows contextvars, so threads started with a copied context and concurrent asyncio
tasks each see their own current span.
"""

import atexit
import contextvars
import functools
import json
import math
import os
import re
import threading
import time

__all__ = ["tracer", "trace_span", "trace_function", "Span", "Tracer"]

_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_TRACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16
_STATUSES = ("ok", "error", "unset")
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def _random_hex(nbytes):
    zero = "0" * (nbytes * 2)
    while True:
        value = os.urandom(nbytes).hex()
        if value != zero:  # all-zero ids are invalid in W3C trace context
            return value


def _context_from_env(environ):
    """(trace_id, parent_span_id) from TRACEPARENT, else LOOM_TRACE_ID/LOOM_SPAN_ID, else random."""
    match = _TRACEPARENT_RE.match(environ.get("TRACEPARENT", "").strip().lower())
    if match:
        version, trace_id, span_id = match.group(1), match.group(2), match.group(3)
        if version != "ff" and (version != "00" or match.group(5) is None):
            if trace_id != _ZERO_TRACE_ID and span_id != _ZERO_SPAN_ID:
                return trace_id, span_id
    trace_id = environ.get("LOOM_TRACE_ID", "").strip().lower()
    if _TRACE_ID_RE.match(trace_id) and trace_id != _ZERO_TRACE_ID:
        span_id = environ.get("LOOM_SPAN_ID", "").strip().lower()
        if not (_SPAN_ID_RE.match(span_id) and span_id != _ZERO_SPAN_ID):
            span_id = ""
        return trace_id, span_id
    return _random_hex(16), ""


def _clean_value(value):
    """Attribute values are str, int, float, bool or lists of them; anything else becomes str()."""
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # NaN/Infinity are not JSON
    if isinstance(value, (list, tuple)):
        return [_clean_scalar(v) for v in value]
    return _safe_str(value)


def _clean_scalar(value):
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _safe_str(value)


def _safe_str(value):
    try:
        return str(value)
    except Exception:  # a broken __str__ must not break the user's program
        try:
            return object.__repr__(value)
        except Exception:
            return "<unprintable>"


class _Sink:
    """The span file: opened lazily once, one os.write per record, guarded by a lock."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.failed = not path
        self.lock = threading.Lock()

    def write(self, line):
        if self.failed:
            return
        data = line.encode("utf-8")
        try:
            with self.lock:
                if self.fd is None:
                    self.fd = os.open(self.path, _OPEN_FLAGS, 0o600)
                written = os.write(self.fd, data)
                if 0 <= written < len(data):
                    # Short write (file system full): end the line so later records stay parseable.
                    os.write(self.fd, b"\n")
        except Exception:
            # Unwritable path, full disk, fd closed by the program: stop trying, stay silent.
            self.failed = True

    def after_fork_in_child(self):
        # The parent may have held the lock while forking; the inherited O_APPEND fd is fine.
        self.lock = threading.Lock()


_sink = _Sink(os.environ.get("LOOM_TRACE_FILE", ""))
_current: "contextvars.ContextVar[Span | None]" = contextvars.ContextVar(
    "loom_trace_current_span", default=None
)
_open_spans = {}  # span_id -> Span, for spans still open when the interpreter exits
_pid = os.getpid()


class Span:
    """One unit of work. Created by trace_span / trace_function; recorded when it ends."""

    __slots__ = (
        "trace_id", "span_id", "parent_span_id", "name", "attributes",
        "start_time_unix_nano", "end_time_unix_nano", "status", "status_message",
        "_parent", "_pid",
    )

    def __init__(self, name, attributes, parent):
        self.trace_id = tracer.trace_id
        self.span_id = _random_hex(8)
        self.parent_span_id = parent.span_id if parent is not None else tracer.parent_span_id
        self.name = _safe_str(name) if not isinstance(name, str) else name
        self.attributes = {}
        if attributes:
            try:
                for key, value in dict(attributes).items():
                    self.attributes[_safe_str(key)] = _clean_value(value)
            except Exception:
                pass
        self.start_time_unix_nano = time.time_ns()
        self.end_time_unix_nano = None
        self.status = "unset"
        self.status_message = ""
        self._parent = parent
        self._pid = _pid

    def set_attribute(self, key, value):
        self.attributes[_safe_str(key)] = _clean_value(value)
        return self

    def set_attributes(self, attributes):
        for key, value in dict(attributes).items():
            self.set_attribute(key, value)
        return self

    def set_status(self, status, message=""):
        status = _safe_str(status).lower()
        if status in _STATUSES:
            self.status = status
            self.status_message = _safe_str(message) if message else ""
        return self

    def record_exception(self, exc):
        exc_type = type(exc).__name__
        message = _safe_str(exc)
        self.attributes["exception.type"] = exc_type
        self.attributes["exception.message"] = message
        self.status = "error"
        self.status_message = "%s: %s" % (exc_type, message)
        return self

    def _end(self, exc=None):
        if self.end_time_unix_nano is not None:
            return
        self.end_time_unix_nano = max(time.time_ns(), self.start_time_unix_nano)
        _open_spans.pop(self.span_id, None)
        if exc is not None and not _is_normal_exit(exc):
            self.record_exception(exc)
        elif self.status == "unset":
            self.status = "ok"
        if self._pid != _pid:
            return  # started before a fork: the parent process records it
        _sink.write(self._to_json())

    def _to_json(self):
        return json.dumps({
            "traceId": self.trace_id,
            "spanId": self.span_id,
            "parentSpanId": self.parent_span_id,
            "name": self.name,
            "startTimeUnixNano": str(self.start_time_unix_nano),
            "endTimeUnixNano": str(self.end_time_unix_nano),
            "attributes": self.attributes,
            "status": self.status,
            "statusMessage": self.status_message,
        }, separators=(",", ":")) + "\n"

    def __repr__(self):
        return "<Span %s %s parent=%s>" % (self.name, self.span_id, self.parent_span_id or "-")


def _is_normal_exit(exc):
    if isinstance(exc, SystemExit):
        return exc.code is None or exc.code == 0
    return isinstance(exc, GeneratorExit)


class _SpanContext:
    """What trace_span returns: a (sync or async) context manager around one new span."""

    __slots__ = ("_name", "_attributes", "_span", "_token")

    def __init__(self, name, attributes=None):
        self._name = name
        self._attributes = attributes
        self._span: "Span | None" = None
        self._token: "contextvars.Token[Span | None] | None" = None

    def __enter__(self):
        parent = _current.get()
        span = Span(self._name, self._attributes, parent)
        _open_spans[span.span_id] = span
        self._span = span
        self._token = _current.set(span)
        return span

    def __exit__(self, exc_type, exc, tb):
        span, token = self._span, self._token
        if span is None or token is None:
            return False  # never entered
        try:
            _current.reset(token)
        except Exception:
            # Exited in another context than it was entered in (e.g. a generator resumed
            # elsewhere): fall back to restoring the parent by value.
            _current.set(span._parent)
        try:
            span._end(exc)
        except Exception:
            pass
        return False  # never swallow: the exception propagates unchanged

    async def __aenter__(self):
        return self.__enter__()

    async def __aexit__(self, exc_type, exc, tb):
        return self.__exit__(exc_type, exc, tb)


def trace_span(name, attributes=None):
    """Context manager: `with trace_span("name", {"k": "v"}) as span:` (also `async with`)."""
    return _SpanContext(name, attributes)


def trace_function(func=None, name=None, attributes=None):
    """Decorator: `@trace_function`, `@trace_function("name", attributes={...})`,
    `@trace_function()`.

    The span is named after the function's __qualname__ unless a name is given; for `async def`
    functions it covers the awaited body.
    """
    if isinstance(func, str):
        if name is not None and not isinstance(name, str) and attributes is None:
            attributes = name  # trace_function("name", {...})
        name, func = func, None
    if func is None:
        return lambda f: _wrap(f, name, attributes)
    return _wrap(func, name, attributes)


def _wrap(func, name, attributes):
    span_name = (
        name
        or getattr(func, "__qualname__", None)
        or getattr(func, "__name__", None)
        or _safe_str(func)
    )
    # Imported here, not at the top: inspect (with ast, dis and tokenize) is 1.2 MB and ~7 ms of
    # the start of every traced program run by a fresh interpreter, for this one check.
    import inspect

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_wrapper(*args, **kwargs):
            with _SpanContext(span_name, attributes):
                return await func(*args, **kwargs)
        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _SpanContext(span_name, attributes):
            return func(*args, **kwargs)
    return wrapper


class Tracer:
    """The process-wide trace context: `tracer.trace_id`, `tracer.parent_span_id`."""

    def __init__(self, trace_id, parent_span_id):
        self.trace_id = trace_id
        self.parent_span_id = parent_span_id

    def current_span(self):
        """The innermost open span in this thread / task, or None."""
        return _current.get()

    def traceparent(self):
        """A W3C traceparent for the current position, to hand to a subprocess or a request."""
        span = _current.get()
        parent = span.span_id if span is not None else (self.parent_span_id or _random_hex(8))
        return "00-%s-%s-01" % (self.trace_id, parent)

    def __repr__(self):
        parent = self.parent_span_id or "-"
        return "<Tracer trace_id=%s parent_span_id=%s>" % (self.trace_id, parent)


tracer = Tracer(*_context_from_env(os.environ))


def _after_fork_in_child():
    global _pid
    _pid = os.getpid()
    _sink.after_fork_in_child()
    _open_spans.clear()


def _record_open_spans_at_exit():
    # Spans still open at interpreter exit (daemon threads, abandoned generators): record them
    # with status "unset" rather than lose them.
    for span in list(_open_spans.values()):
        try:
            span.status = "unset"
            span.status_message = "span still open at process exit"
            span.end_time_unix_nano = max(time.time_ns(), span.start_time_unix_nano)
            _open_spans.pop(span.span_id, None)
            if span._pid == _pid:
                _sink.write(span._to_json())
        except Exception:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_record_open_spans_at_exit)

# Loom's Python kernel (standard library only): the long-lived interpreter of a session, in
# which cells run one after another with REPL semantics (a final expression's value is shown,
# as IPython does; top-level `await` works). Variables, imports and functions persist.
#
#   python3 loom_kernel.py --serve SOCKET    the kernel: serves the stdio of the exec that
#                                            started it, then any connection to SOCKET
#   python3 loom_kernel.py --connect SOCKET  a relay from stdio to a running kernel (how another
#                                            Loom process reaches a session it did not start)
#
# The protocol is one JSON object per line each way (see engine/session/kernel-protocol.ts):
#   host   {"op": "exec", "id", "code", "timeoutMs", "outputDir", "traceId", "spanId"}
#   kernel {"t": "ready", "pid", "language"}  {"t": "stream", "id", "name", "text"}
#          {"t": "display", "id", "data": {mime: str}}  (binary types base64)
#          {"t": "span", "id", "line"}  {"t": "done", "id", "status", "count", "error", "artifacts"}
# The protocol has fds of its own: fd 1 and 2 are pipes the kernel forwards as stream messages,
# so that what a subprocess or a C library prints reaches the cell's output, not the protocol.
# An interrupt is a SIGINT sent from outside (KeyboardInterrupt in the cell); a deadline is
# SIGALRM. Either stops only the cell.

import ast
import builtins
import json
import mimetypes
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback

import loom_display  # resources/trace/python, on PYTHONPATH in every sandbox
from loom_display import mime_bundle

KERNEL_DIR = "/tmp/.loom-kernel"
SPAN_FILE = KERNEL_DIR + "/spans.jsonl"
TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
CO_COROUTINE = 0x0080


class CellTimeout(BaseException):
    """The cell's deadline passed (a BaseException, so that `except Exception` does not eat it)."""


class Channel:
    """One host connection: JSON lines in, JSON lines out (writes from two threads, locked)."""

    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd
        self.buf = b""
        self.lock = threading.Lock()
        self.open = True

    def send(self, msg):
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode("utf-8")
        with self.lock:
            if not self.open:
                return
            try:
                while data:
                    data = data[os.write(self.wfd, data):]
            except OSError:
                self.open = False

    def read_message(self):
        """The next message, or None at the end of the connection."""
        while b"\n" not in self.buf:
            try:
                chunk = os.read(self.rfd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return {"op": "invalid"}


class Output:
    """fd 1 and 2 as pipes, forwarded as stream messages of the running cell, in order."""

    def __init__(self):
        self.pipes = {}
        self.lock = threading.Lock()
        self.channel = None
        self.cell = None
        for fd, name in ((1, "stdout"), (2, "stderr")):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            os.set_blocking(r, False)
            self.pipes[r] = name
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace",
                          buffering=1, closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",
                          buffering=1, closefd=False)
        threading.Thread(target=self.forward, daemon=True).start()

    def forward(self):
        while True:
            try:
                select.select(list(self.pipes), [], [])
                self.pump()
            except Exception:
                time.sleep(0.01)  # never let the forwarding die: later cells need it

    def pump(self):
        """Sends what the pipes hold now (called before a display, so that order is kept)."""
        with self.lock:
            for r, name in self.pipes.items():
                while True:
                    try:
                        data = os.read(r, 65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    if not data:
                        break
                    channel = self.channel
                    if channel is not None:
                        channel.send({"t": "stream", "id": self.cell, "name": name,
                                      "text": data.decode("utf-8", "replace")})

    def flush(self):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        self.pump()


class Kernel:
    def __init__(self):
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.count = 0
        self.output = Output()
        self.channel = None
        self.cell = None
        self.span_offset = 0
        setattr(builtins, "display", self.display)
        self.ns["display"] = self.display
        # plt.show() reaches display() through loom_display's backend (Agg underneath).
        os.environ["MPLBACKEND"] = "module://loom_display"
        setattr(loom_display, "_sink", self.display)
        os.environ["LOOM_TRACE_FILE"] = SPAN_FILE
        self.loop = None

    # -- output -----------------------------------------------------------------------------

    def send(self, msg):
        channel = self.channel
        if channel is not None:
            channel.send(msg)

    def display(self, *objs):
        """Shows objects as rich outputs of the running cell, in order with its prints."""
        for obj in objs:
            bundle = mime_bundle(obj)
            self.output.flush()
            if self.channel is not None:
                self.channel.send({"t": "display", "id": self.cell, "data": bundle})
            if "image/png" in bundle and type(obj).__module__.startswith("matplotlib"):
                self._close_figure(obj)

    def _close_figure(self, fig):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(fig)

    def _flush_figures(self):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for num in list(plt.get_fignums()):
            self.display(plt.figure(num))

    # -- cells ------------------------------------------------------------------------------

    def compile_cell(self, code):
        """The cell's body and its final expression (None when the last statement is not one)."""
        tree = ast.parse(code, "<cell>", "exec", type_comments=False)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(getattr(tree.body.pop(), "value"))
        body = compile(tree, "<cell>", "exec", flags=TOP_LEVEL_AWAIT, dont_inherit=True)
        expr = compile(last, "<cell>", "eval", flags=TOP_LEVEL_AWAIT, dont_inherit=True) \
            if last is not None else None
        return body, expr

    def run_code(self, code_obj):
        result = eval(code_obj, self.ns)
        if code_obj.co_flags & CO_COROUTINE:
            import asyncio
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                asyncio.set_event_loop(self.loop)
            result = self.loop.run_until_complete(result)
        return result

    def execute(self, msg):
        self.cell = msg.get("id")
        self.output.cell = self.cell
        self.count += 1
        out_dir = msg.get("outputDir") or "/tmp/outputs"
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError:
            pass
        before = snapshot(out_dir)
        self.set_trace_context(msg)
        status, error = "ok", None
        timeout_ms = int(msg.get("timeoutMs") or 0)

        def on_alarm(_signo, _frame):
            raise CellTimeout()
        signal.signal(signal.SIGALRM, on_alarm)
        try:
            if timeout_ms > 0:
                signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000.0)
            body, expr = self.compile_cell(msg.get("code", ""))
            self.run_code(body)
            value = self.run_code(expr) if expr is not None else None
            self.ns["_"] = value if value is not None else self.ns.get("_")
            if value is not None:
                self.display(value)
            self._flush_figures()
        except CellTimeout:
            status = "timeout"
            error = {"ename": "TimeoutError", "evalue": "the cell ran past its %d ms deadline"
                     % timeout_ms, "traceback": ""}
        except KeyboardInterrupt:
            status = "interrupted"
            error = {"ename": "KeyboardInterrupt", "evalue": "the cell was interrupted",
                     "traceback": ""}
        except BaseException as exc:  # noqa: B902 (SystemExit too: the session lives on)
            status = "error"
            error = {"ename": type(exc).__name__, "evalue": str(exc),
                     "traceback": format_exception(exc)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self._flush_figures_quietly()
        self.output.flush()
        if error and error["traceback"]:
            self.send({"t": "stream", "id": self.cell, "name": "stderr",
                       "text": error["traceback"]})
        self.send_spans()
        artifacts = changed(out_dir, before)
        self.send({"t": "done", "id": self.cell, "status": status, "count": self.count,
                   "error": error, "artifacts": artifacts})
        self.cell = None

    def _flush_figures_quietly(self):
        try:
            self._flush_figures()
        except BaseException:
            pass

    def set_trace_context(self, msg):
        trace_id, span_id = msg.get("traceId", ""), msg.get("spanId", "")
        os.environ["LOOM_TRACE_ID"], os.environ["LOOM_SPAN_ID"] = trace_id, span_id
        os.environ["TRACEPARENT"] = "00-%s-%s-01" % (trace_id, span_id)
        lib = sys.modules.get("loom_trace")
        if lib is not None and hasattr(lib, "tracer"):
            lib.tracer.trace_id, lib.tracer.parent_span_id = trace_id, span_id

    def send_spans(self):
        try:
            with open(SPAN_FILE, "rb") as f:
                f.seek(self.span_offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        self.span_offset += end
        for line in data[:end].splitlines():
            if line.strip():
                self.send({"t": "span", "id": self.cell,
                           "line": line.decode("utf-8", "replace")})

    def serve(self, channel):
        self.channel = channel
        self.output.channel = channel
        channel.send({"t": "ready", "pid": os.getpid(), "language": "python",
                      "count": self.count})
        while True:
            try:
                msg = channel.read_message()
            except KeyboardInterrupt:
                continue  # an interrupt that came between cells
            if msg is None:
                break
            if msg.get("op") == "exec":
                try:
                    self.execute(msg)
                except KeyboardInterrupt:
                    # Came after the cell's own handler: the result is sent all the same.
                    channel.send({"t": "done", "id": msg.get("id"), "status": "interrupted",
                                  "count": self.count, "error": None, "artifacts": []})
            elif msg.get("op") == "ping":
                channel.send({"t": "pong"})
        self.channel = None
        self.output.channel = None
        with channel.lock:
            channel.open = False


def format_exception(exc):
    tb = exc.__traceback__
    # Leave out the kernel's own frames: the cell's are what the user wrote.
    while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


# -- artifacts -------------------------------------------------------------------------------

def snapshot(root):
    files = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            files[path] = (st.st_size, st.st_mtime_ns)
    return files


def changed(root, before):
    out = []
    for path, (size, mtime) in sorted(snapshot(root).items()):
        if before.get(path) != (size, mtime) and not os.path.islink(path):
            out.append({"path": os.path.relpath(path, "/tmp"), "size": size,
                        "mime": mimetypes.guess_type(path)[0] or "application/octet-stream"})
    return out


# -- entry points ----------------------------------------------------------------------------

def serve(sock_path):
    os.makedirs(KERNEL_DIR, mode=0o700, exist_ok=True)
    # The protocol's fds, away from 0/1/2 (which programs and subprocesses use).
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    kernel = Kernel()
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(4)
    os.set_inheritable(listener.fileno(), False)
    kernel.serve(Channel(rfd, wfd))
    os.close(rfd)
    os.close(wfd)
    while True:
        try:
            conn, _ = listener.accept()
        except KeyboardInterrupt:
            continue
        kernel.serve(Channel(conn.fileno(), conn.fileno()))
        conn.close()


def relay(sock_path):
    """Copies stdin to the kernel's socket and the socket to stdout, until either ends."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            conn.connect(sock_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
    else:
        sys.stderr.write("loom kernel: no kernel listens on %s\n" % sock_path)
        sys.exit(3)
    fds = {0: conn.fileno(), conn.fileno(): 1}
    while True:
        ready, _, _ = select.select(list(fds), [], [])
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                return
            target = fds[fd]
            while data:
                data = data[os.write(target, data):]


def main(argv):
    if len(argv) == 3 and argv[1] == "--serve":
        serve(argv[2])
    elif len(argv) == 3 and argv[1] == "--connect":
        relay(argv[2])
    else:
        sys.stderr.write("usage: loom_kernel.py --serve SOCKET | --connect SOCKET\n")
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)

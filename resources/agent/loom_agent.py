# Loom's in-container agent (Python). Started once per pooled container over an attached exec
# where programs run by `docker exec`; it carries span records out of the container on its own
# channel, apart from the program's stdout and stderr. Its line protocol is described once, in
# electron/main/engine/runner/protocol.json (the "agent" part); the runner's loom_protocol.py is
# generated from it, and the span file is read as the runner reads it (loom_span_file.py).
import json
import os
import select
import sys

# The runner's directory holds the modules the runner and the agent share.
_RESOURCES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_RESOURCES, "runner"))
from loom_protocol import (  # noqa: E402 (found through the line above)
    AGENT_FLUSH, AGENT_FLUSHED, AGENT_MAX_LINE, AGENT_OVERSIZED, AGENT_READY, AGENT_SPAN,
    AGENT_WATCH, SPAN_POLL_MS,
)
from loom_span_file import SpanFile  # noqa: E402

out = sys.stdout.buffer


class Watch:
    def __init__(self, ident, path):
        self.id = ident.encode()
        self.file = SpanFile(path)
        self.partial = b""
        self.skipping = False
        self.oversized = 0

    def drain(self, final=False):
        chunks = []
        for data in self.file.read():
            self.feed(data, chunks)
        if final and self.partial and not self.skipping:
            chunks.append(b"%s %s %s\n" % (AGENT_SPAN, self.id, self.partial))
        if chunks:
            out.write(b"".join(chunks))

    def feed(self, data, chunks):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if self.skipping:
                # The tail of an oversized line: drop it.
                self.skipping = False
                continue
            if line:
                chunks.append(b"%s %s %s\n" % (AGENT_SPAN, self.id, line))
        if len(self.partial) > AGENT_MAX_LINE:
            self.partial = b""
            self.skipping = True
            self.oversized += 1

    def close(self):
        if self.oversized:
            out.write(b"%s %s %d\n" % (AGENT_OVERSIZED, self.id, self.oversized))
        self.file.close()


def undumpable():
    """Makes this process undumpable: it runs as the programs' user, and a dumpable process of
    that user can be ptraced, or read and written through /proc/PID/mem, by any of them."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except Exception:
        return False


def main():
    watches = {}
    pending = b""
    protected = undumpable()
    with open("/proc/self/stat", "rb") as f:
        start = f.read().rsplit(b")", 1)[1].split()[19]
    out.write(b"%s %d %s %d\n" % (AGENT_READY, os.getpid(), start, protected))
    out.flush()
    while True:
        readable, _, _ = select.select([0], [], [], SPAN_POLL_MS / 1000.0 if watches else None)
        if readable:
            data = os.read(0, 1 << 16)
            if not data:
                return
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            for line in lines:
                try:
                    cmd = json.loads(line)
                except ValueError:
                    continue
                ident = str(cmd.get("id", ""))
                if cmd.get("op") == AGENT_WATCH:
                    watches[ident] = Watch(ident, str(cmd.get("path", "")))
                elif cmd.get("op") == AGENT_FLUSH:
                    watch = watches.pop(ident, None)
                    if watch:
                        watch.drain(final=True)
                        watch.close()
                    out.write(b"%s %s\n" % (AGENT_FLUSHED, ident.encode()))
        for watch in watches.values():
            watch.drain()
        out.flush()


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass

# Loom's in-container agent (Python). Started once per pooled container over an attached exec;
# it carries span records out of the container on its own channel, apart from the program's
# stdout and stderr, so that nothing the program prints can be mistaken for a span.
#
# stdin (from the host), one JSON object a line:
#   {"op": "watch", "id": ID, "path": FILE}   follow FILE, which the trace library appends to
#   {"op": "flush", "id": ID}                 the program has ended: send the rest, then stop
# stdout (to the host), one record a line:
#   R PID START UNDUMP    ready: its pid and start time (clock ticks), and 1 if it is undumpable
#                         (the host keeps it through the clean-up between runs by these)
#   S ID <line>           one line the trace library wrote (validated by the host)
#   M ID <count>          lines dropped for being over the size limit
#   F ID                  everything of ID has been sent
import json
import os
import select
import stat
import sys

MAX_LINE = 1 << 20
POLL_SECONDS = 0.02
out = sys.stdout.buffer


class Watch:
    def __init__(self, ident, path):
        self.id = ident.encode()
        self.path = path
        self.fd = None
        self.partial = b""
        self.skipping = False
        self.oversized = 0

    def drain(self, final=False):
        if self.fd is None:
            try:
                # The program owns /tmp: no following a symlink, no blocking on a FIFO, and
                # nothing but a regular file is read (not /dev/zero, say).
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
            except OSError:
                return
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return
            self.fd = fd
        chunks = []
        while True:
            data = os.read(self.fd, 1 << 16)
            if not data:
                break
            self.feed(data, chunks)
        if final and self.partial and not self.skipping:
            chunks.append(b"S " + self.id + b" " + self.partial + b"\n")
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
                chunks.append(b"S " + self.id + b" " + line + b"\n")
        if len(self.partial) > MAX_LINE:
            self.partial = b""
            self.skipping = True
            self.oversized += 1

    def close(self):
        if self.oversized:
            out.write(b"M " + self.id + b" " + str(self.oversized).encode() + b"\n")
        if self.fd is not None:
            os.close(self.fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass


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
    out.write(b"R %d %s %d\n" % (os.getpid(), start, protected))
    out.flush()
    while True:
        readable, _, _ = select.select([0], [], [], POLL_SECONDS if watches else None)
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
                if cmd.get("op") == "watch":
                    watches[ident] = Watch(ident, str(cmd.get("path", "")))
                elif cmd.get("op") == "flush":
                    watch = watches.pop(ident, None)
                    if watch:
                        watch.drain(final=True)
                        watch.close()
                    out.write(b"F " + ident.encode() + b"\n")
        for watch in watches.values():
            watch.drain()
        out.flush()


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass

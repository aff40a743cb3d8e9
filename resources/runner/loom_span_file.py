# Following the file a program's trace library appends span records to, from outside the program:
# one implementation for loom_runner.py and loom_agent.py (Python 3.8+, standard library only).
import os
import stat

from loom_protocol import MAX_CHUNK


class SpanFile:
    """The program owns the file's directory (/tmp), so the file is opened without following a
    symlink or blocking on a FIFO, and nothing but a regular file is read (not /dev/zero, say).
    Until there is such a file, there is nothing to read: it is looked for at every read."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def read(self):
        """Yields what was appended since the last read, at most MAX_CHUNK bytes at a time."""
        if self.fd is None:
            self.fd = _open_regular(self.path)
        while self.fd is not None:
            try:
                data = os.read(self.fd, MAX_CHUNK)
            except OSError:
                return
            if not data:
                return
            yield data

    def close(self):
        """Stops following the file, and removes it."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _open_regular(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return fd
    os.close(fd)
    return None

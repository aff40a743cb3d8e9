# The forker: a fork of the Python runner (loom_server.py) whose only work is to fork the spares,
# each as a child of the runner (CLONE_PARENT). A runner has two where it can: one as lean as the
# runner, one that first imports the modules programs commonly use (loom_server.py, Supply).
#
# Why a process of its own: after a fork, parent and child share every page copy-on-write for as
# long as the child lives, and each page the parent writes first costs a page fault (a copy, and
# a TLB flush on every CPU the parent ran on). A spare lives from one run to the next, so the runner
# paid that on everything it did for a run: measured on a 2-core virtual machine, the same small
# piece of runner work took 0.13 ms with no child alive and 3.5 ms (150 faults) beside one, and
# the runner spent 11 ms of CPU per warm hello, half of it in page faults. The forker, not the
# runner, now shares its pages with the spares; it writes few between two clones, since each
# clone makes its own pipes and hands the runner's ends over itself.
#
# The spare is made with a raw clone(CLONE_PARENT | SIGCHLD) inside CPython's own before- and
# after-fork calls, as os.fork() wraps fork(): so the runner reaps it, counts its CPU and faults,
# and inherits what it leaves, as for a spare it forked itself. glibc's fork() also refreshes the
# thread's cached TID, which a raw clone does not; since glibc 2.34 nothing that signals or
# identifies the calling thread relies on it (raise, abort, pthread_kill of itself use gettid).
# So the forker is used with glibc 2.34 or later only; elsewhere (musl, an older glibc, a clone
# the kernel refuses) the runner forks its spares itself.
#
# gVisor ignores CLONE_PARENT: there each clone is the forker's own child. The forker then reaps
# it and relays its end (the wait status and the rusage the runner reports) to the runner, which
# takes a spare that came that way as "relayed". It is worth it there most of all: a fork under
# gVisor (ptrace platform) costs 25-60 ms, and each page written after it a costly fault, which
# the runner paid on everything it did for the next run (30-40 ms). There the forker uses
# os.fork() (a clone through ctypes took twice as long) and makes the pipes before it, and the
# clone hands them over as its first step. A warm hello back to back went from 146-170 ms to
# 112-125 ms on a 2-core VM.
#
# From its second clone on (once it knows they are the runner's children), the forker loops in C,
# in forker.so (resources/native/forker.c): the Python loop wrote ~70 pages per clone, each a
# copy-on-write fault while the clone lives; that one writes a few. The clone returns to Python
# and becomes a spare as before.

import array
import errno
import os
import select
import signal
import socket
import struct
import time

try:
    import ctypes

    _pyapi = ctypes.pythonapi
    # A PyDLL keeps the GIL across the call, as os.fork() does across fork().
    _call = ctypes.PyDLL(None, use_errno=True).syscall
    _call.restype = ctypes.c_long
    _syscall: "ctypes._NamedFuncPointer | None" = _call
except Exception:  # no ctypes: no forker
    _syscall = None

_PROT_R, _PROT_W, _PROT_X = 1, 2, 4
_MADV_POPULATE_READ = 22
# Beyond this a mapping is faulted in by the clones that read it, not copied into all: a locale
# archive of every locale is 200 MB (the interpreter's code is 2.7 MB).
_LARGEST_INTO_CLONES = 16 << 20
# What os.fork() calls around fork(), for forker.so: their addresses.
_FORK_HOOKS = [
    ctypes.cast(getattr(_pyapi, name), ctypes.c_void_p).value
    for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child")
] if _syscall is not None else []
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine, 0)
_CLONE_PARENT = 0x00008000
# How long the runner waits for a spare it asked for before it gives up on the forker: drops it,
# or stops using forkers where none has worked yet (see Server.receive_spare).
TAKE_SECONDS = 2.0
# How long it waits for one from a forker that is not ready yet (a full one imports ~33 modules).
PREPARE_SECONDS = 10.0
# A relayed end: b"x", then the PID, the wait status, user and system CPU seconds, peak RSS
# (KiB), minor and major page faults.
_EXIT = struct.Struct("!ciiddqqq")
# Appended to a spare's PID when the spare is the forker's child (its end comes relayed).
_RELAYED = b"r"
# What the forker sends once prepare() has returned: a spare asked for before then would keep
# the runner waiting for as long as prepare() takes.
_READY = b"+"
# A fault that tests inject (in the container's environment, which no program sets): each clone
# but a forker's first comes this many seconds late, as on a machine too loaded to answer.
_LATE_SECONDS = float(os.environ.get("LOOM_TEST_FORKER_LATE") or 0)


def spare_pipes():
    """The four pipes of a spare: its ends (in_r, out_w, err_w, job_r) and the runner's (job_w,
    in_w, out_r, err_r)."""
    fds = []
    try:
        for _ in range(4):
            fds += os.pipe()
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    in_r, in_w, out_r, out_w, err_r, err_w, job_r, job_w = fds
    return (in_r, out_w, err_w, job_r), (job_w, in_w, out_r, err_r)


class Ended:
    """A relayed child's end, with the fields of os.wait4's rusage the runner reads."""

    def __init__(self, pid, status, utime, stime, maxrss, minflt, majflt):
        self.pid, self.status = pid, status
        self.ru_utime, self.ru_stime, self.ru_maxrss = utime, stime, maxrss
        self.ru_minflt, self.ru_majflt = minflt, majflt


def usable():
    """Whether a raw clone is safe here (see the top of this file)."""
    if _syscall is None or not _SYS_CLONE:
        return False
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        major, minor = (int(n) for n in version.split(".")[:2])
    except (AttributeError, ValueError, OSError):
        return False
    return name == "glibc" and (major, minor) >= (2, 34)


def clone_parent():
    """As os.fork(), but the child is the caller's sibling (its parent's child)."""
    assert _syscall is not None  # (usable() said so)
    _pyapi.PyOS_BeforeFork()
    pid = _syscall(ctypes.c_long(_SYS_CLONE), ctypes.c_long(_CLONE_PARENT | signal.SIGCHLD),
                   ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
    if pid == 0:
        _pyapi.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    _pyapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, os.strerror(err))
    return pid


class Forker:
    """The runner's end. `prepare()` runs in the forker once, to make it what it is (name,
    signals). `become_spare(hand_over)` runs in each clone: it makes the spare's pipes, calls
    hand_over(the runner's four ends), which sends them to the runner with the clone's PID and
    closes them, and becomes the spare (it never returns). The clone, not the forker, does that:
    after a clone each page the forker writes is a copy-on-write fault, so it writes few. Where
    clones are the forker's own children, the forker makes the pipes before the fork, the clone
    hands them over at once and calls `become_spare(None, the spare's four ends)` instead."""

    def __init__(self, prepare, become_spare):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            try:
                ours.close()
                _serve(theirs, prepare, become_spare)
            finally:
                os._exit(1)  # _serve never returns: this only guards against a bug in it
        theirs.close()
        self.pid = pid
        # With its PID, what tells it from a process that later reuses the number.
        self.start = int(_stat(pid)[19])
        self.sock = ours
        self.pending = False
        self.ready = False  # see _READY
        self.relays = False  # whether its clones are its own children (gVisor): see Ended
        self.ended = []

    def request(self):
        """Asks for a spare (taken later with take()); OSError if the forker is gone."""
        # A program may have stopped it (none runs now: a spare is asked for between runs).
        os.kill(self.pid, signal.SIGCONT)
        self.sock.send(b"s")
        self.pending = True

    def take(self, timeout):
        """The PID, the four descriptors and whether it is relayed, of the spare asked for;
        OSError if none came within `timeout`. Ends that arrive meanwhile wait in `ended`."""
        deadline = time.monotonic() + timeout
        while True:
            if not select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise OSError(errno.ETIMEDOUT, "the forker did not answer")
            spare = self._receive()
            if spare is not None:
                return spare

    def read_ended(self):
        """Reads what the forker sent without waiting: the ends relayed land in `ended`; a spare
        that came meanwhile is returned (else None); OSError as take()."""
        spare = None
        while select.select([self.sock], [], [], 0)[0]:
            spare = self._receive() or spare
        return spare

    def _receive(self):
        fds = array.array("i")
        # (Close-on-exec as os.pipe() makes them: a process the runner starts, a clean-up, must
        # not hold them, or a program would never see the end of its stdin.)
        msg, ancdata, _, _ = self.sock.recvmsg(_EXIT.size, socket.CMSG_SPACE(4 * fds.itemsize),
                                               socket.MSG_CMSG_CLOEXEC)
        if not msg:
            raise BrokenPipeError(errno.EPIPE, "the forker is gone")
        if len(msg) == _EXIT.size and msg[:1] == b"x":
            self.ended.append(Ended(*_EXIT.unpack(msg)[1:]))
            return None
        if msg == _READY:
            self.ready = True
            return None
        self.pending = False
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        pid = int.from_bytes(msg[:4], "big", signed=True) if len(msg) >= 4 else 0
        if pid <= 0 or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            code = -pid if pid < 0 else errno.EPIPE
            raise OSError(code, "the forker could not fork: %s" % os.strerror(code))
        relayed = msg[4:5] == _RELAYED
        self.relays = self.relays or relayed
        return (pid,) + tuple(fds) + (relayed,)

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.sock.close()


def _reply(sock, pid, fds, relayed=False):
    given = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([pid.to_bytes(4, "big", signed=True) + (_RELAYED if relayed else b"")], given)


def _relay_ended(sock):
    """Reaps the forker's own children (clones, where CLONE_PARENT is ignored) and sends each
    end to the runner."""
    while True:
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send_end(sock, pid, status, ru)


def _serve(sock, prepare, become_spare):
    try:
        prepare()
        runner = os.getppid()
        # Nothing of the runner's but this socket: not the host's stream (its stdin and stdout).
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        fd = sock.detach()
        if fd != 3:
            os.dup2(fd, 3)
        top = max(int(n) for n in os.listdir("/proc/self/fd"))
        os.closerange(4, top + 1)
        sock = socket.socket(fileno=3)
        # Its children's ends wake it (where clones are its own children, see _relay_ended).
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        sock.send(_READY)
    except BaseException:
        os._exit(1)
    # Whether clones are its own children (CLONE_PARENT ignored), known from the first clone.
    relays: "bool | None" = None
    native: "ctypes._NamedFuncPointer | None" = None  # (forker.so: see _native_loop)
    while True:
        if relays is False and native is not None:
            ended = native(sock.fileno(), int(_LATE_SECONDS * 1e9), *_FORK_HOOKS)
            if ended:
                os._exit(0 if ended == 1 else 1)  # 1: the runner is gone
            _become_spare(sock, runner, become_spare, None)
        ready = select.select([sock, wake_r], [], [])[0]
        try:
            if wake_r in ready:
                while os.read(wake_r, 512):
                    pass
        except BlockingIOError:
            pass
        made = None
        try:
            _relay_ended(sock)
            if sock not in ready:
                continue
            if not sock.recv(1):
                os._exit(0)  # the runner is gone
            if _LATE_SECONDS and relays is not None:
                time.sleep(_LATE_SECONDS)
            # Where clones are its own children (gVisor), the pipes are made before the fork,
            # and the clone's first step is to hand them over: any work a process does after a
            # fork there costs copy-on-write faults (~40 ms for making pipes and looking at
            # /proc/self/fd), which then overlap the runner's.
            made = spare_pipes() if relays else None
            # (There os.fork(): gVisor takes twice as long over a clone called through ctypes.)
            pid = os.fork() if relays else clone_parent()
        except InterruptedError:
            continue
        except OSError as exc:
            for fd in made[0] + made[1] if made else ():
                os.close(fd)
            try:
                _reply(sock, -(exc.errno or errno.EAGAIN), ())
                continue
            except OSError:
                os._exit(1)
        if pid == 0:
            _become_spare(sock, runner, become_spare, made)
        if relays is None:
            relays = _own_child(sock, pid)
            if not relays:
                # (Only where clones are the runner's children: not under gVisor, see below.)
                try:
                    native = _native_loop()
                    _files_into_clones()
                except BaseException:
                    os._exit(1)
        elif made is not None:
            for fd in made[0] + made[1]:
                os.close(fd)


def _native_loop():
    """The loop of forker.so (resources/native/forker.c): clones made from the second on, where
    they are the runner's children; None where it cannot be loaded (the Python loop serves)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(here), "native", "bin", "forker-%s.so" % os.uname().machine)
    try:
        serve = ctypes.PyDLL(path).loom_forker_serve  # (PyDLL: the GIL is kept, see forker.c)
    except OSError:
        return None
    serve.restype = ctypes.c_long
    serve.argtypes = [ctypes.c_long, ctypes.c_long] + [ctypes.c_void_p] * len(_FORK_HOOKS)
    return serve


def _files_into_clones():
    """Has each clone start with the forker's page table entries for the files it maps read-only
    (the interpreter's and its libraries' code and constants), instead of taking a fault for each
    16 pages of them it reads (~90 a warm hello, as many as the forker's own loop took before
    forker.c). fork() copies the entries of a private file mapping only if it has an anonymous
    page (elsewhere, the kernel reasons, a fault fills them cheaply: not so on a VM). So each such
    mapping is given one, its first byte written back through a moment of PROT_WRITE (nothing
    else runs: the forker has one thread, no program can reach it, and it ends if a mapping
    cannot be made read-only again), and all of its pages are mapped (MADV_POPULATE_READ, Linux
    5.14). Where the kernel refuses either, clones fault them in as before. Done once the first
    clone has shown that clones are the runner's children (not under gVisor: a forker that did
    this there made no more spares in the runner, though it did in a test of its own)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.argtypes = libc.mprotect.argtypes
    with open("/proc/self/maps") as f:
        maps = f.read().splitlines()
    for line in maps:
        fields = line.split()
        prot = {"r-xp": _PROT_R | _PROT_X, "r--p": _PROT_R}.get(fields[1])
        if prot is None or len(fields) < 6 or not fields[5].startswith("/"):
            continue
        start, end = (int(n, 16) for n in fields[0].split("-"))
        if end - start > _LARGEST_INTO_CLONES:
            continue
        libc.madvise(start, end - start, _MADV_POPULATE_READ)
        if libc.mprotect(start, end - start, prot | _PROT_W) == 0:
            first = ctypes.c_ubyte.from_address(start)
            first.value = first.value
            if libc.mprotect(start, end - start, prot) != 0:
                raise OSError(ctypes.get_errno(), "could not make %s read-only again" % fields[5])


def _become_spare(sock, runner, become_spare, made):
    try:
        _as_spare(sock, runner, become_spare, made)
    finally:
        os._exit(1)  # _as_spare never returns: this only guards against a bug in it


def _send_end(sock, pid, status, ru):
    sock.send(_EXIT.pack(b"x", pid, status, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, ru.ru_minflt,
                         ru.ru_majflt))


def _own_child(sock, pid):
    """Whether the clone `pid` is the forker's own child (a kernel that ignored CLONE_PARENT):
    one that has ended already is relayed at once."""
    try:
        ended, status, ru = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    if ended:
        _send_end(sock, pid, status, ru)
    return True


def _as_spare(sock, runner, become_spare, made):
    if made is not None:
        # Its first step: the runner may be waiting for it.
        ends, ours = made
        _reply(sock, os.getpid(), ours, True)
        for fd in ours:
            os.close(fd)
        sock.close()
        become_spare(None, ends)
        return
    # A kernel that ignored CLONE_PARENT (gVisor does): this is the forker's child, whose end
    # the forker relays.
    relayed = os.getppid() != runner

    def hand_over(fds):
        _reply(sock, os.getpid(), fds, relayed)
        for fd in fds:
            os.close(fd)
        sock.close()

    try:
        become_spare(hand_over)
    except OSError as exc:  # before hand_over: it could not make its pipes
        _reply(sock, -(exc.errno or errno.EAGAIN), ())


def _stat(pid):
    """The fields of /proc/PID/stat that follow the name (which may hold spaces and parentheses):
    the state first; the start time is the 20th."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        stat = f.read()
    return stat[stat.rindex(b")") + 2:].split()

# Loom's in-container runner (Python 3.8+, standard library only): a fork server, started by
# loom_runner.py beside it (which says why it is a file of its own).
#
# It is a pooled container's main process (or, in a container that idles, started by one
# attached exec); the host asks it to run programs one at a time. `python3 -c CODE` and
# `python3 FILE` are run in a child forked from this already-initialised interpreter (modules
# pre-imported), which takes a few milliseconds instead of a fresh interpreter's tens; every
# other command is forked and exec'd as it is.
#
# The protocol (frames, payloads, limits) is described once, in
# electron/main/engine/runner/protocol.json; loom_protocol.py beside this file is generated from it.
# Output is forwarded as it arrives (held up to 2 ms for more). One execution at a time: a RUN while
# another runs gets ERROR code "busy". When stdin closes, the runner kills what runs and exits.
#
# Each program gets its own session (so its whole process group can be SIGKILLed at the deadline
# or on KILL), pipes for stdin/stdout/stderr and nothing else of the server's: no descriptor, no
# signal handler, no environment. When the program exits its group is killed too, and anything it
# left running elsewhere (a setsid'd daemon) is found and killed before EXIT is sent.
#
# Every run starts from a clean slate: after EXIT, loom-init --clean (resources/native) kills
# every process but the runner and its spare (known by PID and start time), removes the SysV
# IPC objects and empties /tmp, /dev/shm and /dev/mqueue. Frames from the host wait meanwhile,
# so no program starts before it is done; a clean-up that fails or runs out of time leaves the
# runner refusing every later RUN (ERROR "unclean"), and the host retires the container. With
# --keep-state (a container one caller owns; the bench's baseline for the clean-up) nothing
# is cleaned.
#
# The child that runs the next python program is forked ahead, right after the last one's EXIT (a
# "spare": see Server.fork_spare), so that a request waits neither for the fork nor for the
# set-up no program can influence. Not while a program runs: after a fork the server's own first
# writes are page faults, which would then be on that program's path.
#
# A forked program is a fresh interpreter in everything it can observe (sys.argv, sys.path,
# __main__, os.environ, stdio and their buffering, signal handlers, exit status, tracebacks,
# atexit), with one exception: the str/bytes hash seed is the server's, so hash() values and set
# order repeat across runs (a request with its own PYTHONHASHSEED gets a fresh interpreter).

import os
import sys

# What the runner itself needs. The modules programs commonly use are imported elsewhere
# (PREIMPORTS, below). Not threading (nor subprocess, which imports it; see _subprocess): it
# registers an after-fork hook that runs in every child and writes ~130 pages in a bare fork,
# each a copy-on-write fault (a hello took 53 fewer of its 564, machine-wide, without it).
import atexit
import builtins
import errno
import gc
import importlib
import importlib.machinery
import io
import json
import marshal
import re
import resource
import select
import signal
import _signal  # type: ignore[import]  # (no stub: signal's C half, see _spare)
import time
import traceback
import types

# The modules shipped beside this file, found there whatever sys.path holds (PYTHONSAFEPATH
# leaves this directory out of it).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loom_protocol import (  # noqa: E402 (found through the line above)
    COMPILED, EXIT, ERROR, HEADER_SIZE, HELLO, KILL, MAX_CHUNK, MAX_PAYLOAD, PING, PONG,
    PROTOCOL_VERSION, READY, RUN, SPAN_POLL_MS, SPANS, STARTED, STDERR, STDIN, STDIN_EOF, STDOUT,
)
from loom_span_file import SpanFile  # noqa: E402
import loom_build  # noqa: E402
import loom_forker  # noqa: E402

del sys.path[0]
# A program forked from this interpreter must not find them imported: a fresh one could not
# import them at all.
for _name in ("loom_protocol", "loom_span_file", "loom_build", "loom_forker"):
    del sys.modules[_name]

# Pre-imports: what a forked child finds already in sys.modules costs it nothing to import. But
# every page they add (7.6 MB of 17) makes each fork, each exit and the first writes of each child
# dearer, also for a program that imports none of them: on a 2-core VM a hello took 20-25% more
# CPU (machine-wide) with them. So they are imported by a forker of their own, for the programs
# whose source imports a module the runner has not (see Supply); the runner and its lean forker
# stay without them. Where no forker can be used, the runner imports them itself, one at a time
# while it idles (not before READY: together they take ~80 ms, which the first program of a new
# container would otherwise wait for).
PREIMPORTS = [
    "loom_trace", "runpy", "random", "collections", "functools", "itertools", "math", "datetime",
    "pathlib", "typing", "enum", "dataclasses", "contextlib", "copy", "string", "struct",
    "base64", "hashlib", "textwrap", "decimal", "fractions", "statistics", "shutil", "tempfile",
    "csv", "uuid", "logging", "argparse", "heapq", "bisect", "operator", "pprint", "asyncio",
    "urllib.parse",
]


def _memory_limit():
    """The container's memory limit in bytes (cgroup v2 or v1), or None."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                value = f.read().strip()
        except OSError:
            continue
        return None if value == "max" else int(value)
    return None


# A small sandbox keeps its memory for the program (the pre-imports take ~10 MB). Under gVisor
# (LOOM_PREIMPORT=0, set by the host) a fork costs in proportion to the mappings copied, and the
# pre-imports' extension modules add 40 to the runner's 86: its forks took about 100 ms instead of
# 50, on every run, to save an import only to the programs that use those modules.
if os.environ.get("LOOM_PREIMPORT") == "0" or (_memory_limit() or 1 << 62) < 128 << 20:
    PREIMPORTS.clear()


def _preimport_next():
    """Imports the next module of PREIMPORTS (one missing from the image is skipped)."""
    name = PREIMPORTS.pop(0)
    try:
        importlib.import_module(name)
    except Exception:
        pass
    if not PREIMPORTS:
        # As at start (see Server): what the modules allocated is never collected in children.
        gc.collect()
        gc.freeze()


# An import statement's module names (a line's first statement or one after a semicolon): `from X
# import` gives X, `import X, Y as Z` gives "X, Y as Z".
_IMPORT = re.compile(
    r"(?:^|;)[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w., \t]+))", re.M
)
# Where a program's source is not read to choose its spare: it takes the full one.
_SCAN_MAX_BYTES = 1 << 20


def _imports_within(source, modules):
    """Whether every module the source imports by a statement is in `modules` (top-level names),
    and it imports none by a call. A guess for speed only (a string or a comment may look like an
    import): either spare runs any program alike, one just has more imported already."""
    if "__import__" in source or "import_module" in source:
        return False
    for m in _IMPORT.finditer(source):
        if m.group(1):
            names = [m.group(1)]
        else:
            names = [n.split()[0] for n in m.group(2).split(",") if n.strip()]
        if any(n.partition(".")[0] not in modules for n in names):
            return False  # (a relative import's name starts with a dot: "" is no module)
    return True


# After the program exits and its group is killed, how long output pipes still held open by
# something unkillable may delay EXIT.
DRAIN_SECONDS = 0.25
# How long to keep hunting leftovers of a program that keep reappearing (a fork loop).
SWEEP_SECONDS = 0.5
SPAN_POLL_SECONDS = SPAN_POLL_MS / 1000.0
# loom-init, for the clean-up between runs: shipped beside the runner in the resources volume.
_MACHINE = os.uname().machine
_RESOURCES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT = os.path.join(_RESOURCES, "native", "bin", "loom-init-" + _MACHINE)
# The clean-up's time bound (LOOM_CLEAN_MS, set by the host for the container, not by programs):
# loom-init keeps to it in CPU time, and to 10 s more in wall time; the runner gives up on it a
# second after that.
CLEAN_MS = int(os.environ.get("LOOM_CLEAN_MS") or 2000)
CLEAN_WALL_SECONDS = CLEAN_MS / 1000.0 + 11.0
# How long output waits for more (or for the program's end) before it is sent: a short
# program's output and its EXIT then leave in one write, one pass through the engine's attach
# stream instead of two.
OUTPUT_HOLD_SECONDS = 0.002

PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# The name a waiting spare goes by (/proc/PID/comm), so that it can be told from a program.
SPARE_NAME = b"loom-spare"
FORKER_NAME = b"loom-forker"

_PYTHON_NAME = re.compile(r"python(3(\.\d+)?)?$")
# PYTHON* variables a forked child can honour itself; any other one that differs from the
# server's changes how the interpreter starts (hash seed, warnings, -X options...), and such a
# request is run by a fresh interpreter instead.
_CHILD_HONOURS = {
    "PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONBREAKPOINT",
    "PYTHONASYNCIODEBUG", "PYTHONSTARTUP", "PYTHONUSERBASE",
}
# Locale variables decide stdio encodings at startup: a different locale means a fresh interpreter.
_LOCALE_VARS = ("LC_ALL", "LC_CTYPE", "LANG")


try:
    import ctypes

    _libc: "ctypes.CDLL | None" = ctypes.CDLL(None, use_errno=True)
except Exception:  # no ctypes (a minimal build): the runner works, less hardened
    _libc = None


def _set_name(name):
    """Sets this process's name (comm): what ps and /proc/PID/stat show."""
    try:
        return _libc is not None and _libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) == 0
    except Exception:
        return False


def _prctl(option, value):
    try:
        return _libc is not None and _libc.prctl(option, value, 0, 0, 0) == 0
    except Exception:
        return False


def _initial_environ():
    """The environment this process was started with: what `docker exec` gives a program."""
    try:
        with open("/proc/self/environ", "rb") as f:
            raw = f.read()
        env = {}
        for item in raw.split(b"\0"):
            key, sep, value = item.partition(b"=")
            if sep and key:
                env[os.fsdecode(key)] = os.fsdecode(value)
        return env
    except OSError:
        return dict(os.environ)


def _read_small(path):
    """The first 64 KiB of a small file (under /proc, /sys): three system calls, where open()
    makes six or seven (fstat, isatty, lseek); the runner reads several after every run."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


# The memory cgroup's count of OOM kills (cgroup v2, then v1).
_OOM_COUNTERS = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


_oom_counter = None  # the one of them this container has, once found


def _oom_kills():
    global _oom_counter
    for path in (_oom_counter,) if _oom_counter else _OOM_COUNTERS:
        try:
            lines = _read_small(path).splitlines()
        except OSError:
            continue
        _oom_counter = path  # (read after every run: the other is not looked for again)
        for line in lines:
            if line.startswith(b"oom_kill "):
                try:
                    return int(line.split()[1])
                except ValueError:
                    break
        break
    return 0


def _forget_modules_but(kept):
    """Removes from sys.modules every module whose name is not in `kept`."""
    for name in [n for n in sys.modules if n not in kept]:
        del sys.modules[name]


def _without_new_modules(fn):
    """fn(), then sys.modules as it was: a module the runner imports for one program (zipfile,
    for a Java program's jar) must not be found imported by a later one, in a child forked from
    the runner or from a forker made after (see also become_forker)."""
    before = set(sys.modules)
    try:
        return fn()
    finally:
        _forget_modules_but(before)


def _proc_stat(pid):
    """(state, ppid, pgrp, session, starttime) from /proc/PID/stat, or None if it is gone."""
    try:
        data = _read_small("/proc/%d/stat" % pid)
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


_SYS_IOPRIO_GET = {"x86_64": 252, "aarch64": 31}.get(os.uname().machine, 0)
_LIMITS_IN_PROC = os.path.exists("/proc/%d/limits" % os.getpid())


def _inherited_state(pid):
    """What a program running as the same user can change in another process without ptrace
    (prlimit, setpriority, sched_setaffinity, sched_setscheduler, ioprio_set; undumpable or not),
    and what that process's children inherit: its resource limits, nice value, scheduling policy,
    CPU affinity and I/O priority. The limits in one read of /proc/PID/limits (checked on five
    processes after every run: 16 prlimit calls each cost more), or where there is none (gVisor)
    by prlimit. None for a process that has ended."""
    if _LIMITS_IN_PROC:
        try:
            limits = [_read_small("/proc/%d/limits" % pid)]
        except OSError:
            return None
    else:
        limits = []
        for r in range(16):  # RLIMIT_CPU .. RLIMIT_RTTIME
            try:
                limits.append(resource.prlimit(pid, r))
            except (OSError, ValueError) as exc:
                # (The same for every process here: a limit this kernel does not have.)
                limits.append((-(getattr(exc, "errno", None) or 1), 0))
    try:
        state = (os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid),
                 os.sched_getaffinity(pid))
    except OSError:
        return None  # gone
    ioprio = -1
    if _libc is not None and _SYS_IOPRIO_GET:
        ioprio = _libc.syscall(_SYS_IOPRIO_GET, 1, pid)  # IOPRIO_WHO_PROCESS
    return tuple(limits) + state + (ioprio,)


def _signal_name(signo):
    try:
        return signal.Signals(signo).name
    except ValueError:
        return "SIG%d" % signo


# -- page faults, counted for EXIT ---------------------------------------------------------
# A first write to a page that a fork shares copy-on-write (or to a fresh one) is a page fault:
# ~0.5 us on bare metal, ~15 us in some VMs (Docker Desktop runs containers in one). The count,
# unlike the time, is the same on every machine: EXIT carries it (see protocol.json).


def _own_faults():
    """The runner's own page faults, minor and major (one system call: its /proc/self/stat
    counts, the same, take three)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_minflt + ru.ru_majflt


def _proc_faults(pid):
    """(minor, major) page faults of a process (/proc/PID/stat; pid may be "self"), or (0, 0)."""
    try:
        data = _read_small("/proc/%s/stat" % pid)
    except OSError:
        return 0, 0
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[7]), int(fields[9])


class Job:
    def __init__(
        self, ident, pid, stdin_fd, out_fd, err_fd, timeout_ms, popen=None, span_path=None,
        deadline=None,
    ):
        self.id = ident
        self.pid = pid
        self.popen = popen
        self.stdin_fd = stdin_fd
        self.out_fds = {out_fd: STDOUT, err_fd: STDERR}
        self.pending = []  # stdin bytes not yet written (the program may not be reading)
        self.stdin_eof = False
        self.started = time.monotonic()
        self.deadline = self.started + timeout_ms / 1000.0 if timeout_ms > 0 else None
        if deadline is not None:
            self.deadline = deadline
        self.timed_out = False
        self.status = None
        self.rusage = None
        self.drain_until = None
        self.spans = SpanFile(span_path) if span_path else None
        self.span_next = self.started + SPAN_POLL_SECONDS
        self.out_held = []  # output frames not sent yet (see OUTPUT_HOLD_SECONDS)
        self.out_held_bytes = 0
        self.flush_at = None
        self.host_gone = False  # killed for the host's silence (see Server.tick)
        self.faults_from = (0, 0, 0)  # see Server.faults_at_run
        self.relayed_by = None  # the forker whose child runs it, if any (see loom_forker.Ended)
        # A source program (see loom_build): while `compile` is set, this job is its compiler,
        # whose output is kept (diagnostics) and whose stdin is the program's, held back.
        self.compile = None
        self.span_path = span_path
        self.run_deadline = self.deadline  # the whole request's, when a compile's is shorter
        self.diagnostics = bytearray()
        self.dirs = []  # source and build directories, removed when the run ends
        self.compile_ms = 0.0
        self.compile_cached = False
        self.compile_error = False


class Spare:
    """A child forked ahead of the next python program, waiting for it on a pipe (see _spare)."""

    def __init__(self, pid, job_w, in_w, out_r, err_r, relayed=False):
        self.pid = pid
        self.relayed = relayed  # the forker's child, not ours: its end comes from the forker
        # With its PID, what tells this spare from a process that later reuses the number: read
        # when a clean-up is to keep it, where it is the runner's child (whose PID is not reused
        # before the runner reaps it, and then forgets it), at once where it is the forker's.
        self._start = self._read_start() if relayed else None
        self.job_w = job_w
        self.fds = (in_w, out_r, err_r)

    @property
    def start(self):
        if self._start is None:
            self._start = self._read_start()
        return self._start

    def _read_start(self):
        stat = _proc_stat(self.pid)
        return stat[4] if stat else -1

    def give(self, plan, argv, env, cwd):
        """Sends the program; OSError (EPIPE) if this spare died waiting."""
        view = memoryview(marshal.dumps((plan, argv, env, cwd)))
        while view:
            view = view[os.write(self.job_w, view):]
        os.close(self.job_w)
        self.job_w = None

    def discard(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        for fd in (self.job_w,) + self.fds:
            if fd is not None:
                os.close(fd)


class Supply:
    """Where the spares of one kind come from: their forker (None until made, or where none can
    be used: then the runner forks them) and the spare waiting, if any. A `full` supply's forker
    has PREIMPORTS imported; the lean one's only what the runner imports. Each program takes the
    kind its own source asks for (Server.supply_for), never one chosen by what ran before."""

    def __init__(self, full):
        self.full = full
        self.forker = None
        self.spare = None


WRITABLE_PATHS = ("/tmp", "/dev/shm")
MIN_FREE_BYTES = 1 << 20


def exhausted_space():
    """The first writable path with under 1 MiB or no inodes free, or None."""
    for path in WRITABLE_PATHS:
        try:
            st = os.statvfs(path)
        except OSError:
            continue
        if st.f_bavail * st.f_frsize < MIN_FREE_BYTES or (st.f_files and st.f_favail == 0):
            return path
    return None


class Cleaner:
    """A loom-init --clean --stdin: started ahead, waiting for what to keep on its stdin; then
    running, with its output pipe, and its status once it has exited."""

    def __init__(self):
        self.stdin: "int | None"
        self.fd: "int | None"
        in_r, self.stdin = os.pipe()
        self.fd, out_w = os.pipe()
        try:
            # (It reads its bound, LOOM_CLEAN_MS, from the environment, as under docker exec.)
            self.pid = os.posix_spawn(INIT, [INIT, "--clean", "--stdin"], os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, in_r, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, out_w, 2),
            ])
        except OSError:
            self.close()
            raise
        finally:
            os.close(in_r)
            os.close(out_w)
        os.set_blocking(self.fd, False)
        self.output = bytearray()
        # Whether it has said that no process is left but those kept (see start_cleaner).
        self.processes_done = False
        self.status = None
        self.eof = False
        self.deadline = None

    def begin(self, keep):
        """Continues it (a program may have stopped it while it waited) and gives it what to
        keep; OSError if it died waiting."""
        os.kill(self.pid, signal.SIGCONT)
        stdin = self.stdin
        if stdin is None:
            raise OSError(errno.EBADF, "the clean-up was begun already")
        os.write(stdin, keep.encode() + b"\n")
        os.close(stdin)
        self.stdin = None
        self.deadline = time.monotonic() + CLEAN_WALL_SECONDS

    def close(self):
        for fd in (self.stdin, self.fd):
            if fd is not None:
                os.close(fd)
        self.stdin = self.fd = None

    def discard(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.close()


class Server:
    def __init__(self, keep_state=False):
        self.job = None
        # Where the spares come from (see Supply): a lean supply, and a full one where there are
        # modules to pre-import and forkers can be used (elsewhere the runner pre-imports them).
        self.forker_usable = loom_forker.usable()
        self.forker_worked = False  # whether any forker has delivered a spare (see forker_failed)
        self.lean = Supply(False)
        self.full = Supply(True) if PREIMPORTS and self.forker_usable else None
        # The clean-up after each run (None with keep_state), the one running, and why the
        # container can no longer be trusted to be clean, if it cannot.
        self.clean = not keep_state
        self.cleaner = None
        self.next_cleaner = None  # started ahead (see Cleaner)
        self.unclean = None
        # The host's PING: how long it may stay silent while a program runs (None: it does not
        # ping), and when it was last heard.
        self.host_silence = None
        self.heard = time.monotonic()
        self.held = None  # frames kept back to leave in one write (see finish)
        self.inbuf = bytearray()
        self.initial_env = _initial_environ()
        self.start_cwd = os.getcwd()
        self.pythonpath = os.environ.get("PYTHONPATH", "")
        pp_entries = set(self._pythonpath_entries(self.pythonpath, self.start_cwd))
        # sys.path as an interpreter started here has it, without its [0] (the runner's own
        # directory) and without what PYTHONPATH added: the base every child builds on.
        self.path_tail = [p for p in sys.path[1:] if p not in pp_entries]
        self.finders_kept = -1  # see forget_finders
        self.oom_kills = _oom_kills()
        # Compiled source programs, kept for an identical rerun: a bounded share of the memory.
        limit = _memory_limit()
        self.builds = loom_build.BuildCache(
            max_bytes=min(loom_build.CACHE_BYTES, limit // 8) if limit else loom_build.CACHE_BYTES
        )
        self.user_site = getattr(sys.modules.get("site"), "USER_SITE", None)
        self.executable = os.path.realpath(sys.executable)
        self.interpreters = {}  # see this_interpreter
        try:
            with open("/proc/self/comm", "rb") as f:
                self.name = f.read().rstrip(b"\n")
        except OSError:
            self.name = b"python3"
        self.pid = os.getpid()
        # Thousands by now, where the kernel counts them (gVisor counts none: see faults_at_run).
        self.faults_counted = sum(_proc_faults("self")) > 0
        self.start_ticks = _proc_stat(self.pid)[4]
        # What every process of Loom's in the container inherits from the runner (see loom_changed).
        self.inherited = _inherited_state(self.pid)
        # Orphans of programs come to us instead of PID 1, so they can be found and killed.
        self.subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
        # Programs run as our uid: not dumpable, they cannot ptrace us or write our memory
        # through /proc/PID/mem, and so cannot plant code in the next execution's fork.
        self.undumpable = _prctl(PR_SET_DUMPABLE, 0)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        # What a lean spare has imported (see supply_for): the runner's modules, and those
        # built into the interpreter, which cost nothing to import.
        self.lean_modules = frozenset(
            [n.partition(".")[0] for n in sys.modules] + list(sys.builtin_module_names)
        )
        self.start_modules = frozenset(sys.modules)  # (see become_forker)
        # Whatever the server itself allocated is never collected in the children: freezing it
        # keeps their garbage collector from touching (and copying) the server's pages.
        gc.collect()
        gc.freeze()

    @staticmethod
    def _pythonpath_entries(value, cwd):
        # As CPython does: every entry, an empty one too, made absolute against the cwd.
        if not value:
            return []
        return [
            os.path.normpath(os.path.join(cwd, p)) if p else cwd for p in value.split(os.pathsep)
        ]

    # -- frames -------------------------------------------------------------------------

    @staticmethod
    def frame(ftype, ident, payload=b""):
        return bytes([ftype]) + ident.to_bytes(4, "big") + len(payload).to_bytes(4, "big") + payload

    def send(self, ftype, ident, payload=b""):
        data = self.frame(ftype, ident, payload)
        if self.held is not None:
            self.held.append(data)
        else:
            self.write_out(data)

    def write_out(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(1, view)
            except BlockingIOError:
                select.select([], [1], [])
                continue
            view = view[n:]

    def send_json(self, ftype, ident, body):
        self.send(ftype, ident, json.dumps(body).encode())

    def error(self, ident, code, message):
        self.send_json(ERROR, ident, {"message": message, "code": code})

    # -- main loop ------------------------------------------------------------------------

    def ready(self):
        self.send_json(READY, 0, {
            "runner": "python",
            "pid": self.pid,
            "start": self.start_ticks,
            "version": PROTOCOL_VERSION,
            "interpreter": sys.version,
            "env": self.initial_env,
            "clean": self.clean,
            "undumpable": self.undumpable,
        })

    def serve(self):
        self.ready()
        self.start_ahead()
        while True:
            job = self.job
            poller = select.poll()
            cleaner = self.cleaner
            # While the clean-up runs, frames from the host wait in the pipe: the next RUN must
            # find the container clean.
            if cleaner is None:
                poller.register(0, select.POLLIN)
            else:
                poller.register(cleaner.fd, select.POLLIN)
            poller.register(self.wake_r, select.POLLIN)
            heard_from = {}
            for supply in self.supplies:
                forker = supply.forker
                if forker is not None and (forker.pending or forker.relays or not forker.ready):
                    poller.register(forker.sock, select.POLLIN)
                    heard_from[forker.sock.fileno()] = (supply, forker)
            timeout = None
            if cleaner is not None:
                timeout = max(0, int((cleaner.deadline - time.monotonic()) * 1000) + 1)
            elif job:
                for fd in job.out_fds:
                    poller.register(fd, select.POLLIN)
                if job.stdin_fd is not None and job.pending:
                    poller.register(job.stdin_fd, select.POLLOUT)
                now = time.monotonic()
                wake_at = job.drain_until if job.status is not None else job.deadline
                if job.spans is not None and job.status is None:
                    wake_at = job.span_next if wake_at is None else min(wake_at, job.span_next)
                if job.flush_at is not None:
                    wake_at = job.flush_at if wake_at is None else min(wake_at, job.flush_at)
                if job.status is None and self.host_silence is not None:
                    gone_at = self.heard + self.host_silence
                    wake_at = gone_at if wake_at is None else min(wake_at, gone_at)
                if wake_at is not None:
                    timeout = max(0, int((wake_at - now) * 1000) + 1)
            elif self.preimporting():
                timeout = 0  # idle: look for a request, else import the next module
            events = poller.poll(timeout)
            if not events and self.job is None and self.preimporting():
                _preimport_next()
            for fd, ev in events:
                if fd == 0:
                    if not self.read_host():
                        return
                elif cleaner is not None and fd == cleaner.fd:
                    self.read_cleaner(cleaner)
                elif fd == self.wake_r:
                    self.drain_wakeups()
                    self.reap()
                elif fd in heard_from:
                    supply, forker = heard_from[fd]
                    if forker is supply.forker:
                        self.from_forker(supply)
                elif job is self.job and job is not None:
                    if fd in job.out_fds:
                        self.forward(job, fd)
                    elif fd == job.stdin_fd:
                        self.write_stdin(job)
            for supply in self.supplies:
                if supply.forker is not None and supply.forker.ended:
                    # (Also those that came while a spare was awaited: the program may be over.)
                    self.take_ended(supply.forker)
            self.tick()
            if cleaner is not None and cleaner is self.cleaner:
                self.check_cleaner(cleaner)
                if self.cleaner is None and not self.parse_host():
                    return
            if (
                not self.preimporting()
                and self.job is None
                and (self.cleaner is None or self.cleaner.processes_done)
            ):
                # The next program's child is forked now (once the runner has imported what it
                # pre-imports itself). Not while a program runs: after a fork every first write
                # of the server's is a page fault, which would then be on the program's path (see
                # finish). Not before the clean-up has killed what programs left: it would kill
                # this child too.
                self.want_spares()

    @property
    def supplies(self):
        """The lean supply, and the full one while there is one (see forker_failed)."""
        return [s for s in (self.lean, self.full) if s is not None]

    def want_spares(self):
        """Has each supply whose spare was taken make the next (see want_spare)."""
        for supply in self.supplies:
            if supply.spare is None:
                self.want_spare(supply)

    def preimporting(self):
        """Whether the runner itself still has modules to pre-import: only where no forker can
        be used (see PREIMPORTS)."""
        return bool(PREIMPORTS) and not self.forker_usable

    def tick(self):
        job = self.job
        if job is None:
            return
        now = time.monotonic()
        if job.status is None and job.deadline is not None and now >= job.deadline:
            job.timed_out = True
            job.deadline = None
            self.kill_group(job)
        if (
            job.status is None
            and self.host_silence is not None
            and now >= self.heard + self.host_silence
            and not job.host_gone
        ):
            # The host stopped saying it is alive: it died without closing the stream (which
            # stays open for the next host), and nobody will read what the program does.
            job.host_gone = True
            self.kill_group(job)
        ending = job.status is not None and (not job.out_fds or now >= job.drain_until)
        # Output held past its time leaves now, unless the program has ended: then it leaves
        # with the EXIT (finish), in one write, not two (seen in 4 of 10 runs of a loaded machine).
        if job.flush_at is not None and now >= job.flush_at and not ending:
            self.flush_output(job)
        if job.spans is not None and job.status is None and now >= job.span_next:
            self.follow_spans(job)
            job.span_next = now + SPAN_POLL_SECONDS
        if ending:
            if job.compile is not None:
                self.compiled(job)
            else:
                self.finish(job)

    def read_host(self):
        try:
            data = os.read(0, 1 << 16)
        except InterruptedError:
            return True
        if not data:
            # The host is gone: nobody will read the output, nothing may outlive us.
            if self.job:
                self.kill_group(self.job)
            return False
        self.heard = time.monotonic()
        self.inbuf += data
        return self.parse_host()

    def parse_host(self):
        """Handles the complete frames read so far; False if the stream is out of step. It stops
        at a clean-up (which the end of a run starts): what follows waits for it to finish."""
        while len(self.inbuf) >= HEADER_SIZE and self.cleaner is None:
            length = int.from_bytes(self.inbuf[5:9], "big")
            if length > MAX_PAYLOAD:
                sys.stderr.write(
                    "loom-runner: frame of %d bytes, the stream is out of step\n" % length
                )
                if self.job:
                    self.kill_group(self.job)
                return False
            if len(self.inbuf) < HEADER_SIZE + length:
                break
            ftype = self.inbuf[0]
            ident = int.from_bytes(self.inbuf[1:5], "big")
            payload = bytes(self.inbuf[HEADER_SIZE:HEADER_SIZE + length])
            del self.inbuf[:HEADER_SIZE + length]
            try:
                self.dispatch(ftype, ident, payload)
            except Exception:
                # A request the runner did not foresee must not take the runner (and with it the
                # container's fast path) down.
                sys.stderr.write("loom-runner: %s\n" % traceback.format_exc())
                if ftype == RUN and (self.job is None or self.job.id != ident):
                    self.error(
                        ident,
                        "spawn_failed",
                        "the runner could not start the program: %s" % sys.exc_info()[1],
                    )
        return True

    def dispatch(self, ftype, ident, payload):
        job = self.job
        if ftype == HELLO:
            # A new host attached (the container's main process outlives each host's stream);
            # it says itself whether it pings.
            self.host_silence = None
            self.ready()
            return
        if ftype == PING:
            silence_ms = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0
            self.host_silence = silence_ms / 1000.0 if silence_ms else None
            if job is not None:  # the host's proof, while a program runs, that this is not wedged
                self.send(PONG, 0)
            return
        if ftype == RUN:
            if job is not None:
                self.error(ident, "busy", "another execution (%d) is running" % job.id)
            else:
                self.start(ident, payload)
            return
        if job is None or job.id != ident:
            return  # late frames of a finished execution
        if ftype == STDIN:
            if payload and (job.stdin_fd is not None or job.compile is not None):
                job.pending.append(payload)
                self.write_stdin(job)
        elif ftype == STDIN_EOF:
            job.stdin_eof = True
            self.write_stdin(job)
        elif ftype == KILL:
            if job.status is None:
                self.kill_group(job)

    # -- starting a program -------------------------------------------------------------

    def start(self, ident, payload):
        try:
            req = json.loads(payload.decode("utf-8"))
            argv = req["argv"]
            env = req["env"]
            cwd = req["cwd"]
            timeout_ms = float(req.get("timeoutMs") or 0)
            span_path = req.get("spanFile") or None
            if span_path is not None and (not isinstance(span_path, str) or "\0" in span_path):
                raise ValueError("spanFile must be a path")
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
                raise ValueError("argv must be a non-empty list of strings")
            if not (
                isinstance(env, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            ):
                raise ValueError("env must map strings to strings")
            if not isinstance(cwd, str) or not cwd:
                raise ValueError("cwd must be a path")
            if any("\0" in s for s in argv + list(env) + list(env.values()) + [cwd]):
                raise ValueError("NUL byte in argv, env or cwd")
            source = req.get("source")
            language = req.get("language")
            compile_ms = float(req.get("compileTimeoutMs") or 0)
            if source is not None:
                if not isinstance(source, str):
                    raise ValueError("source must be a string")
                if language not in loom_build.LANGUAGES:
                    raise ValueError(
                        "language must be one of %s" % ", ".join(loom_build.LANGUAGES)
                    )
        except (ValueError, KeyError, TypeError) as exc:
            self.error(ident, "bad_request", "malformed RUN request: %s" % exc)
            return
        if self.unclean is not None:
            self.error(
                ident,
                "unclean",
                "the container could not be cleaned after the last run (%s): it must not be reused"
                % self.unclean,
            )
            return
        self.settle_spare()
        full = exhausted_space()
        if full:
            # A previous program filled the writable space: this container cannot serve the
            # next one properly (no room for its files or its spans). The host moves it elsewhere.
            self.error(ident, "exhausted", "%s is full" % full)
            return
        if not os.path.isdir(cwd):
            self.error(ident, "bad_cwd", "working directory %s does not exist" % cwd)
            return
        dirs = []
        if source is not None:
            try:
                if language in loom_build.COMPILED:
                    self.start_compiled(ident, source, language, env, cwd, timeout_ms, compile_ms,
                                        span_path)
                    return
                dirs.append(loom_build.make_dir(ident))
                argv = loom_build.interpreted_argv(language, source, dirs[0])
            except (OSError, UnicodeError) as exc:
                for d in dirs:
                    loom_build.remove_dir(d)
                code = _spawn_error_code(exc) if isinstance(exc, OSError) else "bad_request"
                self.error(ident, code, "%s program: %s" % (language, exc))
                return
        plan = self.python_plan(argv, env, cwd)
        supply = self.supply_for(plan, cwd) if plan is not None else None
        faults_from = self.faults_at_run(supply)
        popen = None
        # STARTED goes before the program can run anything: from its first instruction it may
        # stop or kill this runner, and the host must know that it may have run (protocol.json).
        self.send_json(STARTED, ident, {"pid": 0, "compiling": False})
        try:
            relayed = False
            if supply is not None:
                spare = self.take_spare(supply, plan, argv, env, cwd)
                pid, relayed = spare.pid, spare.relayed
                in_w, out_r, err_r = spare.fds
            else:
                in_w, out_r, err_r, popen = _popen(argv, env, cwd)
                pid = popen.pid
                _prefer_for_oom(pid)
        except OSError as exc:
            for d in dirs:
                loom_build.remove_dir(d)
            # (Unclean: nothing ran, and the host takes another container.)
            code = "unclean" if self.unclean is not None else _spawn_error_code(exc)
            self.error(ident, code, "%s: %s" % (argv[0], exc.strerror or exc))
            return
        for fd in (in_w, out_r, err_r):
            os.set_blocking(fd, False)
        self.job = Job(ident, pid, in_w, out_r, err_r, timeout_ms, popen, span_path)
        self.job.faults_from = faults_from
        self.job.relayed_by = supply.forker if relayed else None
        self.job.dirs = dirs
        # Started while the program runs (it cannot read or change it: loom-init is unreadable to
        # the sandbox user, so it is undumpable from its first instruction).
        self.start_ahead()
        if supply is not None and supply.forker is not None and not supply.forker.relays:
            self.want_spare(supply)

    def supply_for(self, plan, cwd):
        """The supply whose spare runs this program: the lean one unless its source imports a
        module the lean spare has not (see _imports_within)."""
        if self.full is None:
            return self.lean
        mode, target = plan[0], plan[1]
        source = target
        if mode == "file":
            try:
                with open(os.path.join(cwd, target), "rb") as f:
                    data = f.read(_SCAN_MAX_BYTES + 1)
            except OSError:
                return self.full
            if len(data) > _SCAN_MAX_BYTES:
                return self.full
            source = data.decode("utf-8", "replace")
        return self.lean if _imports_within(source, self.lean_modules) else self.full

    def faults_at_run(self, supply):
        """What the page-fault counts of EXIT start from: (the spare's minor and major faults
        so far, when a spare will run the program; the runner's own). None where the kernel
        counts none (gVisor): EXIT then leaves them out, and the run's start is spared two reads
        of /proc, each ~1 ms there."""
        if not self.faults_counted:
            return None
        spare = supply.spare if supply is not None else None
        minor, major = _proc_faults(spare.pid) if spare is not None else (0, 0)
        return minor, major, _own_faults()

    # -- source programs of compiled languages (see loom_build) ---------------------------------

    def start_compiled(self, ident, source, language, env, cwd, timeout_ms, compile_ms, span_path):
        """Runs the cached build of this source, or starts its compile (OSError: neither)."""
        key = self.builds.key(language, source, env)
        build = self.builds.get(key)
        if build is not None:
            deadline = time.monotonic() + timeout_ms / 1000.0 if timeout_ms > 0 else None
            # Before the program can run anything, as in start().
            self.send_json(STARTED, ident, {"pid": 0, "compiling": False})
            job = self.run_build(ident, build, env, cwd, span_path, deadline)
            if job is None:
                return
            job.compile_cached = True
            self.start_ahead()
            return
        directory = loom_build.make_dir(ident)
        try:
            comp = loom_build.Compile(language, source, directory, env)
            comp.key, comp.run_env, comp.cwd = key, env, cwd
            in_w, out_r, err_r, popen = _popen(comp.argv, comp.env, directory)
        except BaseException:
            loom_build.remove_dir(directory)
            raise
        _prefer_for_oom(popen.pid)
        os.close(in_w)  # the compiler reads nothing; the program's stdin waits in job.pending
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        job = Job(ident, popen.pid, None, out_r, err_r, timeout_ms, popen)
        job.span_path = span_path  # the program's, once it runs
        job.compile = comp
        job.dirs = [directory]
        if compile_ms > 0:
            ends = job.started + compile_ms / 1000.0
            job.deadline = ends if job.deadline is None else min(job.deadline, ends)
        self.job = job
        self.send_json(STARTED, ident, {"pid": popen.pid, "compiling": True})
        self.start_ahead()

    def run_build(self, ident, build, env, cwd, span_path, deadline):
        """Starts a compiled program from its memfd as the job of `ident` (None: it could not
        start, and the execution has ended with a STDERR and an EXIT saying why)."""
        argv, executable = build.argv(env)
        try:
            in_w, out_r, err_r, popen = _popen(
                argv, env, cwd, executable=executable, pass_fds=(build.fd,)
            )
        except OSError as exc:
            message = "loom-runner: could not start the compiled program: %s\n" % (
                exc.strerror or exc
            )
            self.send(STDERR, ident, message.encode())
            self.send_json(EXIT, ident, {
                "exitCode": 126, "signal": None, "timedOut": False, "wallMs": 0, "cpuMs": 0,
                "peakRssKb": 0, "oomKilled": False, "compileError": False, "compileMs": 0,
                "compileCached": False,
            })
            self.job = None
            if self.clean:
                self.start_cleaner()
            return None
        finally:
            if not self.builds.holds(build):
                build.close()  # too big to keep: the program has its own copy of the descriptor
        _prefer_for_oom(popen.pid)
        for fd in (in_w, out_r, err_r):
            os.set_blocking(fd, False)
        job = Job(ident, popen.pid, in_w, out_r, err_r, 0, popen, span_path, deadline=deadline)
        job.faults_from = self.faults_at_run(None)  # no spare runs a build: the runner's own
        self.job = job
        return job

    def compiled(self, job):
        """The compiler has exited: run what it made, or end the execution as a compile error."""
        comp = job.compile
        for fd in list(job.out_fds):
            self.forward_all(job, fd)
        job.compile = None
        job.compile_ms = round((time.monotonic() - job.started) * 1000, 3)
        status = job.status
        ok = not job.timed_out and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        build = None
        if ok:
            try:
                fd = loom_build.seal("loom-" + comp.language, _without_new_modules(comp.artifact))
                build = loom_build.Build(fd, os.fstat(fd).st_size, comp.language, comp.main_class)
                self.builds.put(comp.key, build)
            except OSError as exc:
                job.diagnostics += ("loom-runner: the compiler's output could not be kept: %s\n"
                                    % (exc.strerror or exc)).encode()
        for d in job.dirs:
            loom_build.remove_dir(d)
        job.dirs = []
        if build is None:
            job.compile_error = True
            diagnostics = bytes(job.diagnostics) + comp.hint(bytes(job.diagnostics))
            if job.timed_out:
                diagnostics += b"\nloom: the compile ran out of time\n"
            for at in range(0, len(diagnostics), MAX_CHUNK):
                job.out_held.append(self.frame(STDERR, job.id, diagnostics[at:at + MAX_CHUNK]))
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                job.status = 1 << 8  # compiled, but nothing to run: a compile failure all the same
            self.finish(job)
            return
        self.send_json(COMPILED, job.id, {"compileMs": job.compile_ms})
        if job.run_deadline is not None and time.monotonic() >= job.run_deadline:
            job.timed_out = True
            job.status = int(signal.SIGKILL)  # as a program killed at its deadline
            self.finish(job)
            return
        run = self.run_build(job.id, build, comp.run_env, comp.cwd, job.span_path, job.run_deadline)
        if run is not None:
            run.pending, run.stdin_eof = job.pending, job.stdin_eof
            run.compile_ms = job.compile_ms
            self.write_stdin(run)

    def fork_spare(self):
        """Forks the child for the next python program here and lets it do, before there is one,
        all that does not depend on it (the fork itself; the session, stdio, descriptors,
        signals); None if it cannot be forked now. A program running meanwhile cannot reach it:
        it stays undumpable (no ptrace, no /proc/PID/mem, no /proc/PID/fd) until it has its own
        program, is continued before it gets one (in case it was stopped), and is replaced if it
        was killed. (Where the forker can, it makes them instead: see spare_from_clone.)"""
        try:
            ends, ours = loom_forker.spare_pipes()
        except OSError:
            return None
        # Found here rather than in the child: every page the child touches is a copy.
        top_fd = max(int(n) for n in os.listdir("/proc/self/fd"))
        self.forget_finders()
        # Named before the fork, so that the spare has its name from its first instant.
        _set_name(SPARE_NAME)
        pid = None
        try:
            pid = os.fork()
        except OSError:
            for fd in ends + ours:
                os.close(fd)
            return None
        finally:
            if pid != 0:
                _set_name(self.name)
        if pid == 0:
            try:
                _spare(self, ends, top_fd)
            finally:
                os._exit(1)  # _spare never returns: this only guards against a bug in it
        for fd in ends:
            os.close(fd)
        return Spare(pid, *ours)

    def spare_from_clone(self, hand_over, ends=None):
        """The same child, in a clone of the forker (see loom_forker.py): it makes its pipes
        and hands the runner's ends over itself; or, where the forker made them (its clones are
        its own children there), the forker has handed them over already."""
        _set_name(SPARE_NAME)
        if ends is None:
            ends, ours = loom_forker.spare_pipes()
            hand_over(ours)
        _spare(self, ends, max(int(n) for n in os.listdir("/proc/self/fd")))

    def become_forker(self, full):
        """What a forker is made of, in the forker: its own name, the runner's signal handling
        undone (a spare it clones is the runner's child), its end with the runner's; a full one
        imports PREIMPORTS."""
        _set_name(FORKER_NAME)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != self.pid:
            os._exit(0)  # the runner died before the line above
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # What the runner had at its start and no more: a forker made again later (one was
        # killed) must not pass on a module the runner imported since (see _without_new_modules:
        # this guards against one imported elsewhere), which would tell a program what ran before.
        _forget_modules_but(self.start_modules)
        while full and PREIMPORTS:
            _preimport_next()
        self.forget_finders()  # (a forker imports nothing more: its clones need it done once)
        # The spare's rehearsal, once here: what it makes (the environment's and sys.path's
        # entries, the user site's paths) its clones then find made, and they change it in place
        # instead of copying more of this forker's pages (~25 fewer faults a run).
        _rehearse(self)
        gc.collect()
        gc.freeze()

    def want_spare(self, supply):
        """Has the supply's next child made ahead: by its forker (made the first time, or again
        where the last is gone), which hands it over later (see receive_spare) once it is ready
        (see serve). Else, for the lean supply, here; never for the full one, whose program
        waits for a forker instead (see await_full_spare)."""
        forker = supply.forker
        if forker is not None and forker.ready and not forker.pending:
            try:
                forker.request()
                return
            except OSError:
                self.drop_forker(supply)  # killed by a program, and not yet reaped
                forker = None
        if forker is None and self.forker_usable:
            try:
                forker = self.make_forker(supply)
            except OSError:
                pass
        if forker is None and not supply.full:
            supply.spare = self.fork_spare()

    def make_forker(self, supply):
        supply.forker = loom_forker.Forker(lambda: self.become_forker(supply.full),
                                           self.spare_from_clone)
        return supply.forker

    def settle_spare(self):
        """Takes the spares asked for that are on their way: no child of the runner's may be
        unknown to it when it looks for what a program left (the sweep, the clean-up would kill
        it)."""
        for supply in self.supplies:
            if supply.spare is None and supply.forker is not None and supply.forker.pending:
                self.receive_spare(supply, loom_forker.TAKE_SECONDS)

    def receive_spare(self, supply, timeout):
        """Takes the spare the supply's forker was asked for. A forker that is gone (killed by a
        program), or late after it has worked (a loaded machine), is dropped: the next spare makes
        another. One that refuses, or never answers, ends the use of forkers (forker_failed)."""
        forker = supply.forker
        assert forker is not None
        try:
            supply.spare = Spare(*forker.take(timeout))
            self.forker_worked = True
        except (BrokenPipeError, ConnectionResetError):
            self.drop_forker(supply)
        except OSError as exc:
            if exc.errno == errno.ETIMEDOUT and forker.ready and self.forker_worked:
                self.drop_forker(supply)
            else:
                self.forker_failed(forker, exc)

    def from_forker(self, supply):
        """Reads what the supply's forker sent without waiting: that it is ready, the spare asked
        for, relayed ends (taken by the serve loop)."""
        forker = supply.forker
        assert forker is not None
        try:
            spare = forker.read_ended()
        except (BrokenPipeError, ConnectionResetError):
            self.drop_forker(supply)
            return
        except OSError as exc:
            self.forker_failed(forker, exc)
            return
        if spare is not None:
            supply.spare = Spare(*spare)
            self.forker_worked = True

    def forker_failed(self, forker, exc):
        """A forker could not make a spare, or never answered: forkers are no longer used in
        this container, and the runner forks its spares itself. Unless one had worked here
        before, which a program may have caused: a program that followed would then find fewer
        modules imported than its source asks for, which tells it what ran before, so the
        container is retired instead."""
        if self.forker_worked:
            self.unclean = "Loom's forker failed: %s" % (exc.strerror or exc)
        for supply in self.supplies:
            self.drop_forker(supply)
        self.forker_usable = False
        if self.full is not None:
            self.discard_spare(self.full)
            self.full = None

    def drop_forker(self, supply):
        """Ends the use of the supply's forker (it may be gone: killed by a program; the next
        spare makes another). Where its clones were its own children, what they were is lost
        with it: a relayed spare is discarded, and a relayed program's end can no longer be
        known, so it is killed and reported as killed."""
        forker, supply.forker = supply.forker, None
        if forker is None:
            return
        if forker.relays:
            try:
                forker.read_ended()
            except OSError:
                pass
        forker.close()
        self.take_ended(forker)
        if supply.spare is not None and supply.spare.relayed:
            self.discard_spare(supply)
        job = self.job
        if job is not None and job.relayed_by is forker and job.status is None:
            self.kill_group(job)
            ended = loom_forker.Ended(job.pid, signal.SIGKILL, 0.0, 0.0, 0, 0, 0)
            self.job_ended(job, ended.status, ended)

    def take_ended(self, forker):
        """The ends the forker relayed, taken as reap() takes its own children's."""
        while forker.ended:
            end = forker.ended.pop(0)
            self.child_ended(end.pid, end.status, end)

    def forget_finders(self):
        """Drops the import finders cached for directories off the read-only tail (the runner's
        own, PYTHONPATH's: a package directory that did not exist yet, or has changed since),
        which could hide modules from a program. The stdlib and site-packages cannot change.
        Only the server imports, so the cache only grows while modules are pre-imported."""
        cache = sys.path_importer_cache
        if len(cache) != self.finders_kept:
            tail = set(self.path_tail)
            for key in [k for k in cache if k not in tail]:
                del cache[key]
            self.finders_kept = len(cache)

    def take_spare(self, supply, plan, argv, env, cwd):
        """The supply's waiting spare (or a new one) with the program given to it. OSError if
        none can be had."""
        for _ in range(2):  # (once more after a spare that died waiting: killed, the OOM killer's)
            if supply.full and supply.spare is None:
                self.await_full_spare(supply)
            spare, supply.spare = supply.spare, None
            if spare is None:
                break
            try:
                os.kill(spare.pid, signal.SIGCONT)
                spare.give(plan, argv, env, cwd)
                return spare
            except OSError:
                spare.discard()
        if supply.full and self.forker_usable:
            raise OSError(errno.EAGAIN, "Loom's forker gave no spare")
        spare = self.fork_spare()
        if spare is None:
            raise OSError(errno.EAGAIN, "cannot fork")
        try:
            spare.give(plan, argv, env, cwd)
        except OSError:
            spare.discard()
            raise
        return spare

    def await_full_spare(self, supply):
        """Waits for the full supply's spare, from its forker or, if that is gone or dropped while
        awaited, from a new one: never a lean child for a program chosen for the pre-imports,
        which would tell it that something before it killed or stalled a forker. OSError if none
        comes. (Where forkers failed before any worked, the runner forks, as where there are none.)
        """
        for _ in range(2):
            forker = supply.forker
            if forker is None:
                if not self.forker_usable:
                    return
                forker = self.make_forker(supply)
            if not forker.pending:
                try:
                    forker.request()  # (before it is ready: it reads the request once it is)
                except OSError:
                    self.drop_forker(supply)
                    continue
            self.receive_spare(supply, loom_forker.TAKE_SECONDS if forker.ready
                               else loom_forker.PREPARE_SECONDS)
            if self.unclean is not None:
                raise OSError(errno.EAGAIN, self.unclean)
            if supply.spare is not None:
                return
        raise OSError(errno.EAGAIN, "Loom's forker gave no spare")

    def discard_spare(self, supply):
        if supply.spare is not None:
            supply.spare.discard()
            supply.spare = None

    def python_plan(self, argv, env, cwd):
        """How to run argv inside a fork of this interpreter, or None to exec it as it is."""
        if not _PYTHON_NAME.match(os.path.basename(argv[0])):
            return None
        exe = self.this_interpreter(argv[0], env.get("PATH", os.defpath), cwd)
        if exe is None:
            return None
        for key in set(env) | set(self.initial_env):
            if (
                key.startswith("PYTHON")
                and key not in _CHILD_HONOURS
                and env.get(key) != self.initial_env.get(key)
            ):
                return None
        if any(env.get(k) != self.initial_env.get(k) for k in _LOCALE_VARS):
            return None
        args = argv[1:]
        unbuffered = False
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "-" or not arg.startswith("-"):
                break
            if arg.startswith("--"):
                return None
            for j in range(1, len(arg)):
                ch = arg[j]
                if ch == "u":
                    unbuffered = True
                elif ch == "c":
                    if j + 1 < len(arg):
                        return ("c", arg[j + 1:], args[i + 1:], unbuffered, exe)
                    if i + 1 < len(args):
                        return ("c", args[i + 1], args[i + 2:], unbuffered, exe)
                    return None
                else:
                    return None
            i += 1
        if i >= len(args) or args[i] == "-":
            return None  # the REPL or a script on stdin: the real thing
        path = os.path.join(cwd, args[i])
        # Anything but a plain source file (a directory or zip with __main__, a .pyc, a missing
        # file and its error message) is left to the real interpreter.
        if not os.path.isfile(path) or path.endswith((".pyc", ".pyo")):
            return None
        return ("file", args[i], args[i + 1:], unbuffered, exe)

    def this_interpreter(self, name, path, cwd):
        """The path that running `name` runs (found on `path` where it has no slash), if that is
        this interpreter; else None. Remembered where nothing it looked at can change (see
        _fixed): in the image's read-only root, where the interpreters are."""
        key = (name, path if "/" not in name else None, cwd)
        if key in self.interpreters:
            return self.interpreters[key]
        looked = []
        exe = name
        if "/" not in name:
            exe = loom_build.which(name, path, looked)
            if exe is None:
                return None
        exe = os.path.join(cwd, exe)
        if not self.same_interpreter(exe):
            return None
        if all(map(_fixed, looked + _link_chain(exe))):
            if len(self.interpreters) >= 64:
                self.interpreters.clear()  # (requests may vary without end: keep it small)
            self.interpreters[key] = exe
        return exe

    def same_interpreter(self, exe):
        try:
            if os.path.realpath(exe) != self.executable or not os.access(exe, os.X_OK):
                return False
        except OSError:
            return False
        # A virtualenv's python is a link to the same binary but another sys.prefix.
        bindir = os.path.dirname(os.path.abspath(exe))
        return not any(
            os.path.exists(os.path.join(d, "pyvenv.cfg")) for d in (bindir, os.path.dirname(bindir))
        )

    # -- running --------------------------------------------------------------------------

    def forward(self, job, fd):
        try:
            data = os.read(fd, MAX_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data and job.compile is not None:
            # A compiler's output is the diagnostics of a failed compile, or nothing at all.
            job.diagnostics += data[:loom_build.MAX_DIAGNOSTICS - len(job.diagnostics)]
        elif data:
            job.out_held.append(self.frame(job.out_fds[fd], job.id, data))
            job.out_held_bytes += len(data)
            if job.flush_at is None:
                job.flush_at = time.monotonic() + OUTPUT_HOLD_SECONDS
            if job.out_held_bytes >= MAX_CHUNK:
                self.flush_output(job)
        else:
            os.close(fd)
            del job.out_fds[fd]
            if job.relayed_by is not None and job.status is None:
                self.continue_forker(job)  # the program may be over: its end comes from the forker

    def forward_all(self, job, fd):
        """Reads what is left in one of the job's pipes (the writers are gone), then closes it."""
        for _ in range(64):
            if fd not in job.out_fds:
                return
            self.forward(job, fd)
        os.close(fd)
        del job.out_fds[fd]

    def flush_output(self, job):
        held, job.out_held = job.out_held, []
        job.out_held_bytes = 0
        job.flush_at = None
        if held:
            self.write_out(b"".join(held))

    def follow_spans(self, job, final=False):
        """Sends what the program's tracing appended to its span file since the last call; the
        final call (after the program and its group are gone) sends the rest and removes it."""
        if job.spans is None:
            return
        for data in job.spans.read():
            self.send(SPANS, job.id, data)
        if final:
            job.spans.close()
            job.spans = None

    def write_stdin(self, job):
        if job.compile is not None:
            return  # the program's stdin: held until the compiled program runs
        fd = job.stdin_fd
        if fd is None:
            job.pending = []
            return
        try:
            while job.pending:
                chunk = job.pending[0]
                n = os.write(fd, chunk)
                if n < len(chunk):
                    job.pending[0] = chunk[n:]
                    return
                job.pending.pop(0)
        except BlockingIOError:
            return
        except OSError:
            # EPIPE: the program closed its stdin or exited; what it did not read is dropped.
            job.pending = []
            job.stdin_eof = True
        if job.stdin_eof and not job.pending:
            os.close(fd)
            job.stdin_fd = None

    def drain_wakeups(self):
        try:
            while os.read(self.wake_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def reap(self):
        while True:
            try:
                pid, status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.child_ended(pid, status, rusage)

    def child_ended(self, pid, status, rusage):
        """A child's end: the runner's own (reap), or one the forker relayed (take_ended)."""
        for supply in self.supplies:
            if supply.spare is not None and pid == supply.spare.pid:
                self.discard_spare(supply)  # died waiting: the serve loop forks another
                return
            if supply.forker is not None and pid == supply.forker.pid:
                self.drop_forker(supply)  # killed (by a program): the next spare makes another
                return
        if self.cleaner is not None and pid == self.cleaner.pid:
            self.cleaner.status = status
        elif self.next_cleaner is not None and pid == self.next_cleaner.pid:
            self.next_cleaner.close()  # died waiting: the next program's start makes another
            self.next_cleaner = None
        elif self.job is not None and pid == self.job.pid and self.job.status is None:
            self.job_ended(self.job, status, rusage)

    def job_ended(self, job, status, rusage):
        job.status = status
        job.rusage = rusage
        if job.popen is not None:
            job.popen.returncode = 0  # reaped here: keep Popen from waiting on it again
        # Background processes must not outlive the program, nor hold its pipes open.
        self.kill_group(job)
        self.settle_spare()
        if self.others_alive():
            self.sweep(job)
        job.drain_until = time.monotonic() + DRAIN_SECONDS

    def kill_group(self, job):
        try:
            os.killpg(job.pid, signal.SIGKILL)
        except OSError:
            pass
        if job.relayed_by is not None:
            self.continue_forker(job)

    @staticmethod
    def continue_forker(job):
        """A relayed program's end comes through its forker, which a program may have stopped."""
        try:
            os.kill(job.relayed_by.pid, signal.SIGCONT)
        except OSError:
            pass

    def others_alive(self):
        """Whether a process that is not Loom's may be alive. As the subreaper the runner inherits
        every orphaned descendant of a program: with no child left but its own, nothing a program
        started is alive anywhere. Where it cannot be one (gVisor refuses a subreaper below PID
        1), every process in the container is looked at."""
        try:
            if self.subreaper:
                children = _read_small("/proc/%d/task/%d/children" % (self.pid, self.pid))
                pids = set(int(p) for p in children.split())
            else:
                pids = set(int(n) for n in os.listdir("/proc") if n.isdigit()) - {1, self.pid}
        except OSError:
            return True
        return bool(pids - set(self.loom_children()))

    def loom_children(self):
        """The runner's own children that wait for later runs: the spares, the forkers and the
        next clean-up."""
        return [c.pid for c in self.kept() + [self.next_cleaner] if c is not None]

    def kept(self):
        """The spares and forkers (None where there is none)."""
        return [c for s in self.supplies for c in (s.spare, s.forker)]

    def sweep(self, job):
        """Kills whatever the program left behind, also what escaped its group or session."""
        deadline = time.monotonic() + SWEEP_SECONDS
        while True:
            found = False
            try:
                pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
            except OSError:
                return
            for pid in pids:
                if pid in (1, self.pid) or pid in self.loom_children():
                    continue
                st = _proc_stat(pid)
                if st is None or st[0] == b"Z":
                    continue
                _, ppid, pgrp, session, start = st
                # Not the container's main process: it is in docker-init's session (1), which no
                # program can join, and may start after the runner on a busy machine.
                if self.subreaper:
                    orphan = ppid == self.pid
                else:
                    orphan = ppid == 1 and session != 1 and start >= self.start_ticks
                if pgrp == job.pid or session == job.pid or orphan:
                    found = True
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            self.reap_others()
            if not found or time.monotonic() >= deadline:
                return
            # Killed parents hand their children to us: look again once they are gone.
            time.sleep(0.002)

    def reap_others(self):
        while True:
            try:
                pid, _, _ = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def finish(self, job):
        # The last output, the spans and EXIT leave in one write: one wakeup of everything
        # between here and the host instead of one per frame.
        self.held, job.out_held = job.out_held, []
        try:
            self.finish_held(job)
        finally:
            held, self.held = self.held, None
            self.write_out(b"".join(held))
        for d in job.dirs:
            loom_build.remove_dir(d)
        if self.clean and self.loom_changed():
            self.unclean = "a program changed the limits or priority of Loom's processes"
        elif self.clean and not self.left_nothing():
            # The next program's child is forked once the clean-up has killed what was left
            # (see serve), while it removes files: the two then overlap.
            self.start_cleaner()
        elif not self.preimporting():
            # The next program's child, forked now that the result is out: the server's page
            # faults after the fork fall between runs.
            self.want_spares()

    def finish_held(self, job):
        # Whatever is still readable is sent; a pipe held open past the drain time is dropped.
        for fd in list(job.out_fds):
            for _ in range(64):
                try:
                    data = os.read(fd, MAX_CHUNK)
                except OSError:
                    data = b""
                if not data:
                    break
                self.send(job.out_fds[fd], job.id, data)
            os.close(fd)
        job.out_fds.clear()
        if job.stdin_fd is not None:
            os.close(job.stdin_fd)
            job.stdin_fd = None
        self.follow_spans(job, final=True)
        status = job.status
        if os.WIFSIGNALED(status):
            signo = os.WTERMSIG(status)
            exit_code, sig = 128 + signo, _signal_name(signo)
        else:
            exit_code, sig = os.WEXITSTATUS(status), None
        ru = job.rusage
        self.job = None
        oom_kills, self.oom_kills = self.oom_kills, _oom_kills()
        self.send_json(EXIT, job.id, {
            "exitCode": exit_code,
            "signal": sig,
            "timedOut": job.timed_out,
            "wallMs": round((time.monotonic() - job.started) * 1000, 3),
            "cpuMs": round((ru.ru_utime + ru.ru_stime) * 1000, 3),
            "peakRssKb": ru.ru_maxrss,
            "oomKilled": self.oom_kills > oom_kills,
            **self.run_faults(job, ru),
            "compileError": job.compile_error,
            "compileMs": job.compile_ms,
            "compileCached": job.compile_cached,
        })

    @staticmethod
    def run_faults(job, ru):
        """The EXIT fields counting page faults from RUN to now (see protocol.json)."""
        if job.faults_from is None:
            return {}
        minor, major, runner = job.faults_from
        return {
            "minorFaults": max(0, ru.ru_minflt - minor),
            "majorFaults": max(0, ru.ru_majflt - major),
            "runnerFaults": _own_faults() - runner,
        }

    # -- the clean-up between runs --------------------------------------------------------

    def start_ahead(self):
        """Starts the next run's clean-up, to wait while a program runs (or the runner idles)."""
        if self.clean and self.next_cleaner is None and self.unclean is None:
            try:
                self.next_cleaner = Cleaner()
            except OSError:
                pass  # start_cleaner tries again when it is needed

    def loom_changed(self):
        """Whether a program changed what the runner, the forkers or the spares pass on to later
        programs (see _inherited_state): a lowered limit, a lower priority, fewer CPUs. A
        program runs as the runner's user, so it may, with no ptrace; undoing it would need
        privileges the runner does not have, so such a container is retired instead."""
        if self.inherited is None:
            return False
        self.settle_spare()
        return any(
            _inherited_state(p.pid) not in (self.inherited, None)
            for p in [self] + self.kept() if p is not None
        )

    def left_nothing(self):
        """Whether the program provably left nothing for a clean-up to remove, which is then not
        started: no process but Loom's (others_alive), no SysV IPC object (_sysv_ipc_left),
        nothing in a writable place. Any doubt (an error) says no. Checked here, in a few system
        calls, it costs a program that leaves nothing far less than a clean-up's process would."""
        if self.others_alive():
            return False
        try:
            if _sysv_ipc_left():
                return False
            for path in CLEANED_DIRS:
                try:
                    with os.scandir(path) as entries:
                        if next(entries, None) is not None:
                            return False
                except FileNotFoundError:
                    pass  # (no /dev/mqueue in this container)
        except OSError:
            return False
        return True

    def start_cleaner(self):
        self.settle_spare()
        keep = "--say-processes --keep %d:%d" % (self.pid, self.start_ticks)
        for kept in self.kept():
            if kept is not None and kept.start >= 0:
                keep += " --keep %d:%d" % (kept.pid, kept.start)
        cleaner, self.next_cleaner = self.next_cleaner, None
        for attempt in range(2):
            try:
                if cleaner is None:
                    cleaner = Cleaner()
                cleaner.begin(keep)
                self.cleaner = cleaner
                return
            except OSError as exc:
                if cleaner is not None:
                    cleaner.discard()  # killed while it waited (by a program): start another
                    cleaner = None
                if attempt:
                    self.unclean = "%s could not start: %s" % (INIT, exc.strerror or exc)

    def read_cleaner(self, cleaner):
        try:
            data = os.read(cleaner.fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            cleaner.output += data[:4096 - len(cleaner.output)]
            if not cleaner.processes_done and b"\n" in cleaner.output:
                cleaner.processes_done = cleaner.output.startswith(b"processes ")
        else:
            cleaner.eof = True

    def check_cleaner(self, cleaner):
        """Ends the clean-up once loom-init has said its last and exited, or ran out of time."""
        if cleaner.status is None and cleaner.eof:
            # Its output ends when it exits: the status is a moment away, if reap() has not
            # taken it already.
            try:
                cleaner.status = os.waitpid(cleaner.pid, 0)[1]
            except ChildProcessError:
                pass
        if cleaner.status is None and time.monotonic() < cleaner.deadline:
            return
        for _ in range(16):
            if cleaner.status is None or cleaner.eof:
                break
            self.read_cleaner(cleaner)  # it has exited: the rest of what it said is in the pipe
        cleaner.close()
        self.cleaner = None
        if cleaner.status is None:
            try:
                os.kill(cleaner.pid, signal.SIGKILL)
                os.waitpid(cleaner.pid, 0)
            except OSError:
                pass
            self.unclean = "the clean-up did not end within %d ms" % (CLEAN_WALL_SECONDS * 1000)
        elif cleaner.status != 0:
            said = cleaner.output.decode("utf-8", "replace")
            if cleaner.processes_done:
                said = said.partition("\n")[2]  # what it said after the processes' line
            said = said.strip()
            self.unclean = said or "loom-init --clean ended with status %d" % cleaner.status


# What loom-init --clean empties and removes (see loom-init.c clean_main): checked by
# Server.left_nothing before one is started.
CLEANED_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")
_IPC_TABLES = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem")
# shmctl/msgctl/semctl commands that describe the namespace's objects of each kind.
_IPC_INFO = (("shmctl", 14), ("msgctl", 12), ("semctl", 19))  # SHM_INFO, MSG_INFO, SEM_INFO


def _sysv_ipc_left():
    """Whether a SysV IPC object may be left: from /proc/sysvipc, or where those files are missing
    (gVisor) from the *_INFO calls, as loom-init's ipc_left reads them (shm_info.shm_tot: pages
    of the segments that exist; msginfo.msgpool, seminfo.semusz: queues and sets). Raises
    OSError when neither answers."""
    try:
        for table in _IPC_TABLES:
            if _read_small(table).count(b"\n") > 1:  # a header line, then one per object
                return True
        return False
    except FileNotFoundError:
        if _libc is None:
            raise
    info = ctypes.create_string_buffer(256)
    for kind, (call, cmd) in enumerate(_IPC_INFO):
        ctypes.memset(info, 0, len(info))
        args = (0, 0, cmd, info) if kind == 2 else (0, cmd, info)
        if getattr(_libc, call)(*args) < 0:
            continue  # no SysV IPC of this kind
        if kind == 0:
            left = ctypes.c_ulong.from_buffer(info, 8).value
        else:
            left = (ctypes.c_int * 10).from_buffer(info)[0 if kind == 1 else 7]
        if left:
            return True
    return False


def _link_chain(path):
    """`path`, and each path its symbolic links lead to in turn (relative ones made absolute)."""
    chain = [path]
    while os.path.islink(path) and len(chain) <= 40:
        link = os.readlink(path)
        path = os.path.join(os.path.dirname(path), link)
        chain.append(path)
    return chain


def _fixed(path):
    """Whether what is at the absolute `path` cannot change while the container runs: it and each
    directory above it are, where they exist, on read-only mounts, which no program can remount
    or replace (a mount point cannot be renamed). The image's root is one unless the container
    was made with a writable root. A relative path, or any error, says no."""
    if not os.path.isabs(path):
        return False
    while True:
        try:
            if not os.statvfs(path).f_flag & os.ST_RDONLY:
                return False
        except FileNotFoundError:
            # Nothing there, which stays so if the directory above is read-only; unless it is a
            # link to nothing, which a program could make something.
            if os.path.islink(path):
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)  # (each prefix as written: ".." is the kernel's to follow)
        if parent == path:
            return True
        path = parent


# -- the forked child ---------------------------------------------------------------------
# Runs in the child only, and never returns into the server: every path ends in os._exit.


def _prefer_for_oom(pid):
    """Makes `pid` the OOM killer's first choice in the container, before the runner (which may
    be its main process: its death would stop the container)."""
    try:
        fd = os.open("/proc/%d/oom_score_adj" % pid, os.O_WRONLY)
    except OSError:
        return
    try:
        os.write(fd, b"1000")
    except OSError:
        pass
    finally:
        os.close(fd)


def _spawn_error_code(exc):
    return {
        errno.ENOENT: "not_found",
        errno.EACCES: "not_executable",
        errno.ENOEXEC: "not_executable",
        errno.EISDIR: "not_executable",
        errno.ENOTDIR: "not_found",
    }.get(exc.errno, "spawn_failed")


_SUBPROCESS = []


def _subprocess():
    """subprocess, imported on the first program that is not a fork of this interpreter (see the
    imports), and kept out of sys.modules (see _without_new_modules)."""
    if not _SUBPROCESS:
        _SUBPROCESS.append(_without_new_modules(lambda: importlib.import_module("subprocess")))
    return _SUBPROCESS[0]


def _popen(argv, env, cwd, executable=None, pass_fds=()):
    """Starts a program that is not run by a fork of this interpreter: (stdin, stdout, stderr,
    popen)."""
    fds = []
    try:
        for _ in range(3):
            fds += os.pipe()
        in_r, in_w, out_r, out_w, err_r, err_w = fds
        popen = _subprocess().Popen(
            argv, stdin=in_r, stdout=out_w, stderr=err_w, env=env, cwd=cwd,
            start_new_session=True, close_fds=True, executable=executable, pass_fds=pass_fds,
        )
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    return in_w, out_r, err_r, popen


def _spare(server, ends, top_fd):
    in_r, out_w, err_w, job_r = ends
    try:
        # (_signal: signal's functions without its wrappers' enums, whose classes and members a
        # spare would otherwise write to, copying ~25 pages it shares with its forker.)
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.setsid()
        os.dup2(in_r, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        # Nothing else of the server's: not its own descriptors, not those of the program
        # running meanwhile (holding its stdin's write end would keep EOF from it).
        os.dup2(job_r, 3)
        job_r = 3
        os.closerange(4, top_fd + 1)
        # What a fresh interpreter has: Ctrl-C raises KeyboardInterrupt, SIGPIPE and SIGXFSZ
        # are ignored (write errors come back as exceptions), nothing is blocked.
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        _signal.pthread_sigmask(_signal.SIG_SETMASK, [])
        _rehearse(server)
        chunks = []
        while True:
            data = os.read(job_r, 1 << 16)
            if not data:
                break
            chunks.append(data)
        os.close(job_r)
        if not chunks:
            os._exit(0)  # the server is gone, or discarded this spare
        plan, argv, env, cwd = marshal.loads(b"".join(chunks))
        _set_name(server.name)
        _prctl(PR_SET_DUMPABLE, 1)
        _prefer_for_oom(os.getpid())  # (once dumpable: /proc/self is then ours to write)
        mode, target, rest, unbuffered, exe = plan
        os.chdir(cwd)
        _set_environ(server, env)
        _set_sys(server, mode, target, rest, unbuffered, exe, argv, env, cwd)
        # (Not in _set_sys: the rehearsal must not read what a program may have written there.)
        _refresh_user_site(server)
        main = _fresh_main(mode, target, cwd)
    except BaseException:
        try:
            message = "loom-runner: could not start the program\n" + traceback.format_exc()
            os.write(2, message.encode())
        finally:
            os._exit(1)
    _run_main(main, mode, target)


# The variables the host adds to every request (executor.ts), with values of their shape: a
# rehearsal's request looks like a real one.
_PER_RUN_ENV = {
    "LOOM_EXECUTION_ID": "0" * 36,
    "TRACEPARENT": "00-%s-%s-01" % ("0" * 32, "0" * 16),
    "LOOM_TRACE_ID": "0" * 32,
    "LOOM_SPAN_ID": "0" * 16,
    "LOOM_TRACE_FILE": "/tmp/.loom-spans-%s.jsonl" % ("0" * 36),
}


def _rehearse(server):
    """What a spare does with its program, done once ahead with a likely request (the
    container's environment, `python3 -c`) while it waits for the real one. A spare shares
    every page with the process it was forked from, and the first write to each costs a page
    fault (a copy): ~300 of them for a hello, ~15 us each on a VM where faults are dear. Most
    are the interpreter's own state that any program's start touches (the environment, sys,
    stdio, __main__, the compiler, the eval loop), so most of the copies are made here, before
    the program arrives, at no cost but their memory, which the program would have taken
    anyway. The real start then sets all of it afresh (each step sets its state outright, not
    from what it finds), so nothing of the rehearsal's reaches the program."""
    try:
        env = dict(server.initial_env, **_PER_RUN_ENV)
        argv = ["python3", "-c", ""]
        plan = ("c", "", [], False, server.executable)
        marshal.loads(marshal.dumps((plan, argv, env, server.start_cwd)))
        _set_environ(server, env)
        _set_sys(server, "c", "", [], False, server.executable, argv, env, server.start_cwd)
        main = _fresh_main("c", "", server.start_cwd)
        exec(compile("None", "<string>", "exec", dont_inherit=True), main.__dict__)
        # Where the user site would be, no more: the real start looks for what a program may
        # have left there.
        _fresh_user_site()
    except Exception:
        pass  # a rehearsal, no more: the real start does it all again


def _set_environ(server, env):
    env = dict(env)
    # PEP 538: where the server's interpreter coerced a C locale it put LC_CTYPE in its own
    # environment, as a fresh interpreter would in the program's: keep doing so.
    coerced = os.environ.get("LC_CTYPE")
    if coerced and coerced != server.initial_env.get("LC_CTYPE") and "LC_CTYPE" not in env:
        env["LC_CTYPE"] = coerced
    tz = os.environ.get("TZ")
    # Through os.environ so that putenv/unsetenv keep the C environment (seen by subprocesses
    # and C libraries) the same. Only what differs is touched: usually a few variables.
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    if os.environ.get("TZ") != tz:
        time.tzset()
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    _refresh_loom_trace()


def _refresh_loom_trace():
    # The trace library reads its context and span file from the environment when imported,
    # which the server did before any program's environment existed: read them again.
    mod = sys.modules.get("loom_trace")
    if mod is None:
        return
    try:
        tracer = mod.tracer
        sink = mod._Sink(os.environ.get("LOOM_TRACE_FILE", ""))
        mod._sink = sink  # type: ignore[attr-defined]
        tracer.trace_id, tracer.parent_span_id = mod._context_from_env(os.environ)
    except Exception:
        # Another version of the library: let the program import it afresh.
        del sys.modules["loom_trace"]


def _set_sys(server, mode, target, rest, unbuffered, exe, argv, env, cwd):
    if mode == "c":
        sys.argv = ["-c"] + list(rest)
        path0 = ""
    else:
        sys.argv = [target] + list(rest)
        script = os.path.join(cwd, target)
        # As CPython: follow the script's own symlinks, then its directory.
        seen = 0
        while os.path.islink(script) and seen < 40:
            link = os.readlink(script)
            script = link if os.path.isabs(link) else os.path.join(os.path.dirname(script), link)
            seen += 1
        path0 = os.path.dirname(os.path.abspath(script))
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = list(argv)
    sys.executable = os.path.abspath(exe)
    if hasattr(sys, "_base_executable"):
        sys._base_executable = sys.executable

    pythonpath = env.get("PYTHONPATH", "")
    pp = Server._pythonpath_entries(pythonpath, cwd)
    entries = []
    seen_paths = set()
    for p in pp + server.path_tail:
        if p not in seen_paths:
            seen_paths.add(p)
            entries.append(p)
    sys.path[:] = [path0] + entries

    buffered = not (unbuffered or env.get("PYTHONUNBUFFERED"))
    sys.stdin = sys.__stdin__ = _stdio(0, sys.stdin, False, True, "<stdin>", False)
    sys.stdout = sys.__stdout__ = _stdio(1, sys.stdout, True, buffered, "<stdout>", False)
    # Since 3.9 a non-interactive stderr is line-buffered.
    sys.stderr = sys.__stderr__ = _stdio(
        2, sys.stderr, True, buffered, "<stderr>", sys.version_info >= (3, 9)
    )


def _fresh_user_site():
    """The site module and where the user site is for the environment now (site caches it in
    USER_BASE and USER_SITE: computed afresh, from the environment alone, no file read), or
    (None, None) where there is none."""
    site = sys.modules.get("site")
    if site is None or not getattr(site, "ENABLE_USER_SITE", False):
        return None, None
    # (site is sys.modules' entry, a ModuleType to mypy: its attributes are unknown.)
    site.USER_BASE = None  # type: ignore[attr-defined]
    site.USER_SITE = None  # type: ignore[attr-defined]
    return site, site.getusersitepackages()


def _refresh_user_site(server):
    site, user_site = _fresh_user_site()
    if site is None:
        return
    if server.user_site in sys.path:
        sys.path.remove(server.user_site)
    if os.path.isdir(user_site) and user_site not in sys.path:
        # Before the system's site-packages, as at startup; .pth files processed.
        system = set(site.getsitepackages()) if hasattr(site, "getsitepackages") else set()
        where = next((i for i, p in enumerate(sys.path) if p in system), len(sys.path))
        site.addsitedir(user_site)
        if user_site in sys.path:
            sys.path.remove(user_site)
            sys.path.insert(where, user_site)


def _stdio(fd, like, write, buffered, name, line_buffering):
    # As CPython's create_stdio: the encoding and errors of the server's (same locale, same
    # PYTHONIOENCODING), the buffering of this program's.
    raw = io.FileIO(fd, "wb" if write else "rb", closefd=False)
    raw.name = name
    if write:
        buf = io.BufferedWriter(raw) if buffered else raw
    else:
        buf = io.BufferedReader(raw)
    stream = io.TextIOWrapper(
        buf,
        encoding=getattr(like, "encoding", None) or "utf-8",
        errors=getattr(like, "errors", None) or "strict",
        newline="\n",
        line_buffering=buffered and line_buffering,
        write_through=write and not buffered,
    )
    stream.mode = "w" if write else "r"  # type: ignore[misc]  # read-only in typeshed only
    return stream


def _fresh_main(mode, target, cwd):
    main = types.ModuleType("__main__")
    d = main.__dict__
    if sys.version_info < (3, 14):
        d["__annotations__"] = {}
    d["__builtins__"] = builtins
    if mode == "c":
        d["__loader__"] = importlib.machinery.BuiltinImporter
    else:
        path = os.path.abspath(os.path.join(cwd, target))
        d["__file__"] = path
        d["__cached__"] = None
        d["__loader__"] = importlib.machinery.SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    return main


def _execute(main, mode, target):
    # compile + exec in __main__'s own dict, as `python -c` and `python FILE` do (rather than
    # runpy, which would run the file in a temporary module and put its frames in tracebacks).
    if mode == "c":
        code = compile(target, "<string>", "exec", dont_inherit=True)
    else:
        path = main.__dict__["__file__"]
        with io.open_code(path) as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
    exec(code, main.__dict__)


def _run_main(main, mode, target):
    status = 0
    interrupted = False
    try:
        _execute(main, mode, target)
    except SystemExit as exc:
        status = _system_exit_status(exc)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        _print_uncaught(exc)
        status = 1
    status = _finalize(status)
    if interrupted:
        # As CPython 3.8+: die of SIGINT, so the parent sees how the program ended.
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        except OSError:
            pass
        status = 130
    os._exit(status)


def _system_exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write("%s\n" % (code,))
    except Exception:
        pass
    return 1


def _own_frames(tb):
    own = {_execute.__code__, _run_main.__code__}
    while tb is not None and tb.tb_frame.f_code in own:
        tb = tb.tb_next
    return tb


def _print_uncaught(exc):
    # The traceback starts at the program's own code, as python's does (a syntax error has none).
    tb = _own_frames(exc.__traceback__)
    exc.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException as hook_exc:
        try:
            sys.stderr.write("Error in sys.excepthook:\n")
            traceback.print_exception(type(hook_exc), hook_exc, hook_exc.__traceback__)
            sys.stderr.write("\nOriginal exception was:\n")
            traceback.print_exception(type(exc), exc, tb)
        except Exception:
            pass


def _finalize(status):
    # What Py_FinalizeEx does that a program can observe: wait for non-daemon threads, run
    # atexit handlers, flush stdio (a failed stdout flush turns the status into 120).
    try:
        threading = sys.modules.get("threading")  # (as Py_FinalizeEx: none if never imported)
        if threading is not None:
            threading._shutdown()  # private, in every CPython 3
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except Exception as exc:
            if stream is sys.stdout:
                try:
                    sys.stderr.write("Exception ignored in: %r\n" % (stream,))
                    sys.stderr.write("".join(traceback.format_exception_only(type(exc), exc)))
                    sys.stderr.flush()
                except Exception:
                    pass
            status = 120
    return status


def main():
    if sys.version_info < (3, 8):
        sys.stderr.write("loom-runner: Python 3.8+ is needed\n")
        sys.exit(1)
    server = Server(keep_state="--keep-state" in sys.argv[1:])
    try:
        server.serve()
    except BrokenPipeError:
        pass  # the host went away
    finally:
        if server.job is not None:
            server.kill_group(server.job)
        for supply in server.supplies:
            server.discard_spare(supply)
            server.drop_forker(supply)
        for cleaner in (server.cleaner, server.next_cleaner):
            if cleaner is not None:
                cleaner.discard()


if __name__ == "__main__":
    main()

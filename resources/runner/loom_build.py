# Programs sent as source (a RUN's "source" and "language"): where the runner writes them, how
# each language is compiled and run, and the cache of compiled builds.
#
# Interpreted languages are written to a file of their own and run by their interpreter. Compiled
# ones (go, rust, java) are compiled in a build directory under /tmp (nothing of the last run is
# alive by then: the clean-up has run), and what the compiler made is moved at once into a sealed
# memfd that only the runner holds (BuildCache). The program runs from that memfd
# (/proc/self/fd/N, passed to it), never from a file: every program runs as the runner's user and
# could replace a file, but a sealed memfd cannot be written, grown or shrunk by anyone, and the
# runner (undumpable) cannot be read or changed. An identical source with the same toolchain
# reuses the build; the cache is bounded in entries and bytes and lives as long as the runner
# (the container's rotation drops it).

import errno
import fcntl
import io
import os
import re

# Not hashlib nor shutil: they load libcrypto, libbz2 and liblzma into the runner (30 of its ~100
# mappings), which every fork copies and every exit unmaps, for a program of any language.
# _sha256 is built into Debian's CPython (the images'); hashlib where it is not.
try:
    from _sha256 import sha256  # type: ignore[import]  # (no stub: a private module)
except ImportError:
    from hashlib import sha256

SOURCE_ROOT = "/tmp"
# How many builds, and how many bytes of them, a runner keeps (the oldest used goes first).
CACHE_ENTRIES = 32
CACHE_BYTES = 64 << 20
# The compiler's output kept for a failed compile (it goes to the program's stderr).
MAX_DIAGNOSTICS = 1 << 20

# Interpreted: the interpreter's argv and the source file's name.
INTERPRETED = {
    "python": (["python3"], "main.py"),
    "node": (["node"], "main.js"),
    "bash": (["bash"], "main.sh"),
    "ruby": (["ruby"], "main.rb"),
}
COMPILED = ("go", "rust", "java")
LANGUAGES = tuple(INTERPRETED) + COMPILED

# The compilers whose binaries make the toolchain's identity (with their environment below).
_COMPILER = {"go": "go", "rust": "rustc", "java": "javac"}
# Environment variables that change what a compiler makes: part of the cache key.
_BUILD_ENV = re.compile(r"^(GO|CGO_|CARGO|RUST|LOOM_RUST_CRATES$|JAVA|JDK_)")
# Bumped when a compile command below changes, so no build of the old command is reused.
_RECIPE = "1"

# A dependency the compiler could not find, by language: a hint is added naming it.
_MISSING = {
    "go": re.compile(
        r"(?:cannot find module providing package|no required module provides package) ([^\s:;]+)"
    ),
    "rust": re.compile(
        r"(?:can't find crate for|unresolved import|undeclared crate or module) `([^`:]+)"
    ),
    "java": re.compile(r"package ([\w.]+) does not exist"),
}
_JAVA_CLASS = re.compile(
    r"\bpublic\s+(?:(?:final|abstract|strictfp)\s+)*class\s+([A-Za-z_$][\w$]*)"
)
_RUST_CRATE = re.compile(r"^lib(\w+?)(-[0-9a-f]+)?\.rlib$")


class SourceError(Exception):
    """A source program that cannot be prepared (the runner answers bad_request)."""


def which(name, path, looked=None):
    """The first executable `name` in the directories of `path`; each path it looked at is added
    to `looked`, where given."""
    for d in path.split(os.pathsep):
        candidate = os.path.join(d or ".", name)
        if looked is not None:
            looked.append(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def make_dir(ident):
    """A fresh directory of this runner's under /tmp for one execution's source or build."""
    for n in range(100):
        path = os.path.join(SOURCE_ROOT, ".loom-%d-%d-%d" % (os.getpid(), ident, n))
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "no fresh source directory under " + SOURCE_ROOT)


def write_file(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def interpreted_argv(language, source, directory):
    """Writes the source into `directory`; the argv that runs it."""
    interpreter, name = INTERPRETED[language]
    path = os.path.join(directory, name)
    write_file(path, source)
    return interpreter + [path]


class Build:
    """A compiled program in a sealed memfd, and how to run it."""

    def __init__(self, fd, size, language, main_class):
        self.fd = fd
        self.size = size
        self.language = language
        self.main_class = main_class

    def argv(self, env):
        """(argv, executable) to run it; the memfd must be passed to the child (pass_fds)."""
        path = "/proc/self/fd/%d" % self.fd
        if self.language == "java":
            # The image's jars (CLASSPATH), which -cp would otherwise hide, after the program.
            classpath = path + (":" + env["CLASSPATH"] if env.get("CLASSPATH") else "")
            return ["java", "-XX:+UseSerialGC", "-cp", classpath, self.main_class], None
        return ["main"], path

    def close(self):
        os.close(self.fd)


def seal(name, data):
    """A memfd holding `data` that nobody can change any more."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        fcntl.fcntl(
            fd,
            fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL,
        )
    except BaseException:
        os.close(fd)
        raise
    return fd


class BuildCache:
    def __init__(self, max_entries=CACHE_ENTRIES, max_bytes=CACHE_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.builds = {}  # key -> Build, least recently used first
        self.toolchains = {}

    def key(self, language, source, env):
        toolchain = self.toolchain(language, env)
        build_env = sorted((k, v) for k, v in env.items() if _BUILD_ENV.match(k))
        h = sha256()
        for part in (_RECIPE, language, toolchain, repr(build_env), source):
            h.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return h.hexdigest()

    def toolchain(self, language, env):
        """The compiler's identity: its real path, size and times (the image's, read-only)."""
        path = env.get("PATH", os.defpath)
        cached = self.toolchains.get((language, path))
        if cached is None:
            exe = which(_COMPILER[language], path)
            if exe is None:
                cached = "missing"
            else:
                real = os.path.realpath(exe)
                st = os.stat(real)
                cached = "%s:%d:%d" % (real, st.st_size, st.st_mtime_ns)
            self.toolchains[(language, path)] = cached
        return cached

    def get(self, key):
        build = self.builds.pop(key, None)
        if build is not None:
            self.builds[key] = build  # most recently used now
        return build

    def put(self, key, build):
        if build.size > self.max_bytes:
            return  # used once, then closed by the caller (see Server)
        old = self.builds.pop(key, None)
        if old is not None:
            old.close()
        self.builds[key] = build
        while len(self.builds) > self.max_entries or self.total() > self.max_bytes:
            oldest = next(iter(self.builds))
            self.builds.pop(oldest).close()

    def total(self):
        return sum(b.size for b in self.builds.values())

    def holds(self, build):
        return any(b is build for b in self.builds.values())


class Compile:
    """One compile: the command to run in its build directory, then what it made."""

    def __init__(self, language, source, directory, env):
        self.language = language
        self.directory = directory
        self.main_class = ""
        self.env = dict(env)
        # Set by the runner: the cache key, and where and with what the program then runs.
        self.key = ""
        self.run_env = env
        self.cwd = directory
        if language == "go":
            write_file(os.path.join(directory, "main.go"), source)
            write_file(os.path.join(directory, "go.mod"), "module loom.run/program\n\ngo 1.19\n")
            # Offline unless the image says otherwise (a pre-populated module cache or proxy).
            for k, v in (
                ("GOFLAGS", "-mod=mod"), ("GOPROXY", "off"), ("GOSUMDB", "off"),
                ("CGO_ENABLED", "0"), ("GOCACHE", os.path.join(directory, ".cache")),
                ("GOPATH", os.path.join(directory, ".gopath")),
            ):
                self.env.setdefault(k, v)
            self.argv = ["go", "build", "-o", "main", "-ldflags=-s -w", "."]
            self.output = "main"
        elif language == "rust":
            write_file(os.path.join(directory, "main.rs"), source)
            self.argv = ["rustc", "--edition", "2021", "-C", "debuginfo=0", "-o", "main", "main.rs"]
            crates = self.env.get("LOOM_RUST_CRATES", "")
            if crates and os.path.isdir(crates):
                # Crates built into the image (README, "Languages"): each rlib is an --extern.
                self.argv += ["-L", "dependency=" + crates]
                for name in sorted(os.listdir(crates)):
                    m = _RUST_CRATE.match(name)
                    if m:
                        path = os.path.join(crates, name)
                        self.argv += ["--extern", "%s=%s" % (m.group(1), path)]
            self.output = "main"
        elif language == "java":
            m = _JAVA_CLASS.search(source)
            self.main_class = m.group(1) if m else "Main"
            write_file(os.path.join(directory, self.main_class + ".java"), source)
            self.argv = [
                "javac", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1", "-encoding", "UTF-8",
                "-d", "classes", self.main_class + ".java",
            ]
            self.output = "classes"
        else:
            raise SourceError("%s is not compiled" % language)

    def artifact(self):
        """The bytes to run: the executable, or for java a jar of the classes."""
        path = os.path.join(self.directory, self.output)
        if self.language != "java":
            with open(path, "rb") as f:
                return f.read()
        import zipfile  # only for java: not loaded into every runner

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as jar:
            manifest = "Manifest-Version: 1.0\r\nMain-Class: %s\r\n\r\n" % self.main_class
            jar.writestr("META-INF/MANIFEST.MF", manifest)
            for root, _dirs, files in os.walk(path):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    jar.write(full, os.path.relpath(full, path))
        return buf.getvalue()

    def hint(self, diagnostics):
        """A line naming a dependency the compiler could not find, or b""."""
        m = _MISSING[self.language].search(diagnostics.decode("utf-8", "replace"))
        if not m or m.group(1).split(".")[0] in ("java", "javax", "std", "core", "alloc"):
            return b""  # the language's own library: a typo, not a missing dependency
        return (
            "\nloom: %s needs %s, which is not in this image. Sandboxes cannot download "
            "dependencies: use an image that has it (see the README, \"Languages\").\n"
            % (self.language, m.group(1))
        ).encode()


def remove_dir(path):
    """shutil.rmtree(path, ignore_errors=True) without shutil (see the imports): bottom up,
    through directory descriptors, never following a symbolic link a program left there."""
    try:
        for _, dirs, files, dir_fd in os.fwalk(path, topdown=False):
            for name in files + dirs:
                try:
                    os.unlink(name, dir_fd=dir_fd)
                except IsADirectoryError:
                    _ignore_error(os.rmdir, name, dir_fd=dir_fd)
                except OSError:
                    pass
    except OSError:
        pass
    _ignore_error(os.rmdir, path)


def _ignore_error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except OSError:
        pass

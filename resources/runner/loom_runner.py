# Loom's in-container runner: the host starts this file (`python3 loom_runner.py`); the server it
# runs is loom_server.py beside it, which says what it does.
#
# Why two files: Python compiles a script, and the modules it imports from a directory without
# .pyc files (this one is read-only), from source on every start, in the process itself; and the
# compiler's working memory stays in that process's heap afterwards: 5 MB for the server's 130 KB
# of source, four times the code it makes. Every fork of the server (a spare for each run) copies
# the page tables of that memory and every child's exit unmaps them again, a cost on every run.
# So a child of this process compiles them and sends the code back (marshal): only the code stays.

import marshal
import os
import sys

# The server's modules in the order they import one another, then the server itself.
MODULES = ("loom_protocol", "loom_span_file", "loom_build", "loom_forker", "loom_server")


def compile_here(name):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    with open(path, "rb") as f:
        return compile(f.read(), path, "exec", dont_inherit=True)


def compiled_elsewhere():
    """The code of MODULES, compiled by a child; None where that failed (a syntax error, no
    fork): then they are compiled here, where an error is reported as usual."""
    try:
        r, w = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        try:
            os.close(r)
            with open(w, "wb") as f:
                f.write(marshal.dumps([compile_here(name) for name in MODULES]))
        finally:
            os._exit(0)
    os.close(w)
    with open(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None


CODE = compiled_elsewhere() or [compile_here(name) for name in MODULES]
# The compiler makes its own state (the AST's types) on first use: here, once, not in each child.
compile("None", "<string>", "exec", dont_inherit=True)
for _name, _code in zip(MODULES, CODE[:-1]):
    # Imported as the server imports them, from sys.modules (which it then empties of them).
    _module = type(sys)(_name)
    _module.__file__ = _code.co_filename
    sys.modules[_name] = _module
    exec(_code, _module.__dict__)
# The server runs as this script: __main__, with this file's __file__ (the same directory).
exec(CODE[-1])

// forker.so: the loop of the Python runner's forker (resources/runner/loom_forker.py), in C.
//
// After each clone, every page the forker writes is a copy-on-write fault while the clone lives
// (a spare lives until the next run). The same loop in Python (select, recv, the call into the
// clone through ctypes, the objects each of those touches) wrote ~70 pages per clone: about 10%
// of a warm hello's page faults, machine-wide. This one writes its stack and little else.
//
// The forker calls it through ctypes.PyDLL, which keeps the GIL across the call (the hooks need
// it; the forker has no other thread). It returns 0 in each clone, which then becomes a spare in
// Python, as a clone of the Python loop does; in the forker it returns only when the runner is
// gone (1) or its socket fails (a negative errno). Freestanding (see sys.h): it loads into the
// image's interpreter whatever its libc.
#include "sys.h"

typedef void (*hook)(void);

struct timespec64 {
  long sec, nsec;
};

// sock: the forker's end of its socket with the runner; each byte read asks for a spare. A clone
// hands its pipes to the runner itself; a clone that fails is answered here, as the Python loop
// answers it: the negative errno as 4 big-endian bytes. late_ns: a fault tests inject (see
// _LATE_SECONDS), slept before each clone. before, after_parent, after_child: CPython's
// PyOS_BeforeFork, PyOS_AfterFork_Parent and PyOS_AfterFork_Child, which os.fork() calls around
// fork() (locks, the interpreter's state, the hooks of os.register_at_fork).
long loom_forker_serve(long sock, long late_ns, hook before, hook after_parent, hook after_child) {
  for (;;) {
    char asked;
    long n = sys6(SYS_recvfrom, sock, (long)&asked, 1, 0, 0, 0);
    if (n == -EINTR) continue;
    if (n <= 0) return n == 0 ? 1 : n;
    if (late_ns > 0) {
      struct timespec64 t = {late_ns / 1000000000, late_ns % 1000000000};
      sys2(SYS_nanosleep, &t, 0);
    }
    before();
    // The clone is the runner's child (CLONE_PARENT), as in loom_forker.clone_parent().
    long pid = sys2(SYS_clone, CLONE_PARENT | SIGCHLD, 0);
    if (pid == 0) {
      after_child();
      return 0;
    }
    after_parent();
    if (pid < 0) {
      unsigned long code = (unsigned long)pid;
      unsigned char reply[4] = {code >> 24, code >> 16, code >> 8, code};
      sys6(SYS_sendto, sock, (long)reply, 4, 0, 0, 0);
    }
  }
}

// nodump: a shared object whose only effect is to make the process that loads it undumpable.
//
// Node has no prctl. Loom's long-lived Node processes in a sandbox (the runner, the agent) run as
// the same user as the programs they start, and a dumpable process of the same user can be
// ptraced, or read and written through /proc/PID/mem, by any program: it could read an earlier
// run's request (code, environment) from the runner's memory or plant code that reaches every
// later run. They load this with process.dlopen(): its constructor runs prctl(PR_SET_DUMPABLE, 0)
// before Node looks for a module in it (and finds none, which the caller expects).
// Freestanding (see sys.h), so that it loads whatever the image's libc.
#include "sys.h"

__attribute__((constructor)) static void nodump(void) {
  sys2(SYS_prctl, PR_SET_DUMPABLE, 0);
}

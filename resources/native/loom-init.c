// loom-init: the first process of every Loom sandbox, and the clean-up between two runs.
//
//   loom-init -- COMMAND [ARGS...]   PID 1: runs COMMAND (the in-container runner) and reaps
//                                    every orphan; exits with COMMAND's status.
//   loom-init --idle                 PID 1 of a container whose programs start by docker exec.
//   loom-init --clean [--keep PID:START]... [--dir PATH]... [--ms N] [--stdin] [--say-processes]
//                                    Makes the container what a new one would be: kills every
//                                    process but PID 1, itself and those kept (a PID and its
//                                    start time in clock ticks, as /proc/PID/stat has it, so that
//                                    a program cannot pass for one by reusing a PID or by what
//                                    it calls itself), removes the SysV IPC objects, and empties
//                                    /tmp, /dev/shm and /dev/mqueue (and each --dir), all within
//                                    N ms of CPU time and N ms + 10 s of wall time (N: LOOM_CLEAN_MS
//                                    from the environment, which the host sets for the container,
//                                    else 2000). Exit 0: clean;
//                                    1: failed; 3: out of time; 2: bad usage. One line on stdout
//                                    says what was done. --stdin: more options from stdin, one
//                                    line (the clean-up starts at its end). --say-processes: one
//                                    line more, "processes killed=N", as soon as no process but
//                                    those kept is left (before the IPC objects and the files).
//                                    --state PID=DIGEST: fail unless the inherited state of
//                                    process PID (see state_digest) still has that digest.
//   loom-init --state PID            Prints the digest of process PID's inherited state.
//   loom-init --version
//
// Why a program of Loom's own rather than Docker's init (docker-init, tini): PID 1 outlives every
// run of a pooled container and runs as the same user as the programs, so it must not be
// dumpable: a dumpable process of the same user can be ptraced, or written through
// /proc/PID/mem, by any program, which could then plant code that reaches every later run.
// loom-init makes itself undumpable first. It is also immune to programs' signals: PID 1 gets
// only the signals it handles, and it acts only on those sent from outside the container
// (docker stop: si_pid 0), which it passes on to COMMAND.
//
// Freestanding (see sys.h): no libc, so that one static binary per architecture runs anywhere.
#include "sys.h"

#define VERSION "loom-init 1"

// -- small helpers --------------------------------------------------------------------------

static size_t slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int seq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static int starts(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

// The compiler may emit calls to these for struct copies and zeroing.
void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static void out(int fd, const char *s) {
  size_t n = slen(s);
  while (n > 0) {
    long w = sys3(SYS_write, fd, s, n);
    if (w == -EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

// A decimal number into buf (at least 21 bytes); returns buf.
static char *fmt_u(char *buf, u64 v) {
  char tmp[21];
  int i = 0;
  do tmp[i++] = (char)('0' + v % 10); while ((v /= 10) && i < 20);
  int j = 0;
  while (i) buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}

// Parses a decimal number; *end is set past it. -1 when there is none.
static i64 parse_u(const char *s, const char **end) {
  i64 v = -1;
  while (*s >= '0' && *s <= '9') {
    v = (v < 0 ? 0 : v) * 10 + (*s - '0');
    if (v > (i64)1 << 53) return -1;
    s++;
  }
  if (end) *end = s;
  return v;
}

static void die(const char *what, const char *detail, int code) {
  out(2, "loom-init: ");
  out(2, what);
  if (detail) {
    out(2, ": ");
    out(2, detail);
  }
  out(2, "\n");
  sys1(SYS_exit_group, code);
  __builtin_unreachable();
}

static u64 clock_ms(long clock) {
  struct timespec ts;
  sys2(SYS_clock_gettime, clock, &ts);
  return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static u64 now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static void nap_us(long us) {
  struct timespec ts = {0, us * 1000};
  sys2(SYS_nanosleep, &ts, 0);
}

// Reads a whole small file into buf (NUL-terminated); the length, or -errno.
static long read_file(int dirfd, const char *path, char *buf, size_t size) {
  long fd = sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return fd;
  size_t got = 0;
  while (got + 1 < size) {
    long n = sys3(SYS_read, fd, buf + got, size - 1 - got);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  sys1(SYS_close, fd);
  buf[got] = 0;
  return (long)got;
}

// -- init ---------------------------------------------------------------------------------

static const char *env_get(char **envp, const char *name) {
  size_t n = slen(name);
  for (; *envp; envp++)
    if (starts(*envp, name) && (*envp)[n] == '=') return *envp + n + 1;
  return 0;
}

// execvp's search: the child's last word is why none of the candidates could run.
static void exec_path(char **argv, char **envp) {
  const char *file = argv[0];
  int saw_eacces = 0;
  long err = -ENOENT;
  if (!*file) die("cannot run an empty command name", 0, 127);
  for (const char *p = file; *p; p++) {
    if (*p == '/') {
      err = sys3(SYS_execve, file, argv, envp);
      die(file, err == -ENOENT ? "not found" : "cannot be executed", err == -ENOENT || err == -ENOTDIR ? 127 : 126);
    }
  }
  const char *path = env_get(envp, "PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  char full[4096];
  size_t flen = slen(file);
  while (*path) {
    const char *colon = path;
    while (*colon && *colon != ':') colon++;
    size_t dlen = (size_t)(colon - path);
    if (dlen + 1 + flen + 1 <= sizeof full) {
      size_t k = 0;
      for (size_t i = 0; i < dlen; i++) full[k++] = path[i];
      if (dlen) full[k++] = '/';
      for (size_t i = 0; i <= flen; i++) full[k++] = file[i];
      err = sys3(SYS_execve, full, argv, envp);
      if (err == -EACCES) saw_eacces = 1;
    }
    path = *colon ? colon + 1 : colon;
  }
  if (saw_eacces) die(file, "cannot be executed", 126);
  die(file, "not found", 127);
}

static int status_code(int status) {
  if ((status & 0x7f) == 0) return (status >> 8) & 0xff;  // exited
  return 128 + (status & 0x7f);                            // killed by a signal
}

static int init_main(char **cmd, char **envp) {
  u64 all = ~(u64)0, none = 0;
  // Every signal is blocked and taken with sigtimedwait: nothing runs in a handler, and the
  // sender of each is known.
  sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, sizeof all);
  long child = 0;
  if (cmd) {
    child = sys5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child < 0) die("cannot start the command", "clone failed", 126);
    if (child == 0) {
      sys4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none);
      exec_path(cmd, envp);
    }
  }
  for (;;) {
    struct siginfo info;
    long sig = sys4(SYS_rt_sigtimedwait, &all, &info, 0, sizeof all);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      for (;;) {
        int status = 0;
        long pid = sys4(SYS_wait4, -1, &status, WNOHANG, 0);
        if (pid <= 0) break;
        if (pid == child) sys1(SYS_exit_group, status_code(status));
      }
      continue;
    }
    // A signal from inside the container (a program's kill) is ignored: only the engine's
    // (docker stop, docker kill -s) come from outside, with no sender in this PID namespace.
    if (info.si_pid != 0) continue;
    if (child) sys2(SYS_kill, child, sig);
    else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) sys1(SYS_exit_group, 128 + sig);
  }
  __builtin_unreachable();
}

// -- clean --------------------------------------------------------------------------------

#define MAX_KEEP 16
#define MAX_DIRS 8

struct keep { long pid; i64 start; };

struct clean {
  struct keep keep[MAX_KEEP];
  int nkeep;
  const char *dirs[MAX_DIRS];
  int ndirs;
  // The bound is on this process's CPU time (what the work costs), so that a machine too busy
  // to run it promptly does not fail a clean-up; the wall-clock bound, 10 s more, catches a
  // clean-up that cannot make progress at all.
  u64 cpu_limit, wall_deadline;
  u64 killed, removed, ipc, looked;
  int say_processes;
  const char *failure;
  char detail[512];
};

static int timed_out(struct clean *c) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID) >= c->cpu_limit || now_ms() >= c->wall_deadline; }

static void fail(struct clean *c, const char *what, const char *path, long err) {
  if (c->failure) return;
  c->failure = what;
  char num[24];
  size_t k = 0;
  for (const char *p = path ? path : ""; *p && k < sizeof c->detail - 32; p++) c->detail[k++] = *p;
  if (err) {
    const char *e = ": errno ";
    while (*e) c->detail[k++] = *e++;
    for (const char *p = fmt_u(num, (u64)-err); *p; p++) c->detail[k++] = *p;
  }
  c->detail[k] = 0;
}

// (state, start time) of a process from /proc/PID/stat; 0 when it is gone.
static int proc_stat(long pid, char *state, i64 *start) {
  char path[40] = "/proc/", num[24], buf[1024];
  size_t k = 6;
  for (const char *p = fmt_u(num, (u64)pid); *p; p++) path[k++] = *p;
  for (const char *p = "/stat"; *p; p++) path[k++] = *p;
  path[k] = 0;
  long n = read_file(AT_FDCWD, path, buf, sizeof buf);
  if (n <= 0) return 0;
  // The name may hold spaces and parentheses: the fields start after the last ')'.
  char *p = buf + n;
  while (p > buf && *p != ')') p--;
  if (*p != ')') return 0;
  p += 2;
  *state = *p;
  // Field 22 (starttime) is the 20th after the state.
  for (int field = 0; field < 19 && *p; p++)
    if (*p == ' ') field++;
  *start = parse_u(p, 0);
  return 1;
}

static void kill_unkept(struct clean *c);

static int kept(struct clean *c, long pid, i64 start) {
  for (int i = 0; i < c->nkeep; i++)
    if (c->keep[i].pid == pid && c->keep[i].start == start) return 1;
  return 0;
}

// Kills every process but PID 1, this one and those kept, until a look at /proc finds none.
// Everything is stopped first, in one kill(-1): a fork in progress is restarted after the signal
// (the kernel makes group signals atomic against fork), so not even a process that keeps forking
// and exiting, one step ahead of a scan of /proc, is left to outrun the kills. Those kept are
// continued at the end, whatever happened.
static void kill_others(struct clean *c) {
  sys2(SYS_kill, -1, SIGSTOP);
  kill_unkept(c);
  for (int i = 0; i < c->nkeep; i++) sys2(SYS_kill, c->keep[i].pid, SIGCONT);
}

static void kill_unkept(struct clean *c) {
  long self = sys0(SYS_getpid);
  char buf[8192];
  for (int pass = 0;; pass++) {
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fail(c, "cannot list processes", "/proc", fd);
    u64 alive = 0;
    for (;;) {
      long n = sys3(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
        off += d->d_reclen;
        const char *end;
        long pid = (long)parse_u(d->d_name, &end);
        if (pid <= 1 || *end || pid == self) continue;
        char state;
        i64 start;
        if (!proc_stat(pid, &state, &start) || state == 'Z' || state == 'X' || kept(c, pid, start)) continue;
        sys2(SYS_kill, pid, SIGKILL);
        alive++;
        if (pass == 0) c->killed++;
      }
    }
    sys1(SYS_close, fd);
    if (!alive) return;
    if (timed_out(c)) return fail(c, "processes still alive", "", 0);
    nap_us(pass < 10 ? 200 : 2000);  // killed ones take a moment to become zombies
  }
}

// A SysV IPC control call of kind k (0 shm, 1 msg, 2 sem) on object `id`.
static long ipc_ctl(unsigned k, long id, long cmd, void *arg) {
  static const long sysno[] = {SYS_shmctl, SYS_msgctl, SYS_semctl};
  return k == 2 ? sys4(SYS_semctl, id, 0, cmd, arg) : sys3(sysno[k], id, cmd, arg);
}

// How many SysV IPC objects of kind k (0 shm, 1 msg, 2 sem) may be left, by *_INFO: 0 means none.
// msginfo.msgpool and seminfo.semusz count them; shm_info.used_ids is the last id handed out under
// gVisor (a count on Linux), so for shm its shm_tot, the pages of the segments that exist, says
// whether any is left.
static i64 ipc_left(unsigned k) {
  static const long info_cmd[] = {SHM_INFO, MSG_INFO, SEM_INFO};
  union {
    struct { int used_ids; unsigned long shm_tot; } shm;
    int ints[16];
    char space[256];
  } info;
  memset(&info, 0, sizeof info);
  if (ipc_ctl(k, 0, info_cmd[k], &info) < 0) return 0;  // no SysV IPC of this kind
  if (k == 0) return info.shm.shm_tot ? info.shm.used_ids : 0;
  return info.ints[k == 1 ? 0 : 7];
}

// Where /proc/sysvipc is missing (gVisor has SysV IPC but not those files): the objects are found
// by their ids, tried from 0 up (gVisor hands them out in order from 1) until none is left. One a
// program pushed out of reach (by making and removing objects until the ids are high) outlasts
// the time bound: the clean-up then fails, and the container is retired.
static void remove_ipc_by_id(struct clean *c, unsigned k, const char *what) {
  char buf[256];
  for (i64 id = 0, left = ipc_left(k); left > 0; id++) {
    if (id > 0x7fffffff || timed_out(c)) return fail(c, "IPC objects left", what, 0);
    // IPC_STAT first: gVisor's msgctl(IPC_RMID) succeeds on ids that name nothing. EACCES: there,
    // but unreadable (mode 000), which its owner may still remove.
    long st = ipc_ctl(k, id, IPC_STAT, buf);
    if (st == -EINVAL || st == -EIDRM) continue;
    long err = ipc_ctl(k, id, IPC_RMID, 0);
    if (err < 0 && err != -EINVAL && err != -EIDRM) return fail(c, "cannot remove an IPC object", what, err);
    if (err == 0) {
      c->ipc++;
      left = ipc_left(k);
    }
  }
}

// Removes every SysV shared memory segment, message queue and semaphore set of this IPC
// namespace (the container's own: Loom creates none, so all are programs').
static void remove_ipc(struct clean *c) {
  static const char *const paths[] = {"/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem"};
  static char buf[1 << 16];
  for (unsigned k = 0; k < sizeof paths / sizeof paths[0] && !c->failure; k++) {
    long n = read_file(AT_FDCWD, paths[k], buf, sizeof buf);
    if (n < 0) {
      remove_ipc_by_id(c, k, paths[k]);
      continue;
    }
    if ((size_t)n + 1 >= sizeof buf) return fail(c, "too many IPC objects", paths[k], 0);
    char *p = buf;
    while (*p && *p != '\n') p++;  // the header
    while (*p) {
      p++;
      while (*p == ' ') p++;
      while (*p && *p != ' ' && *p != '\n') p++;  // key
      while (*p == ' ') p++;
      const char *end;
      i64 id = parse_u(p, &end);
      if (id >= 0) {
        long err = ipc_ctl(k, id, IPC_RMID, 0);
        if (err < 0 && err != -EINVAL) return fail(c, "cannot remove an IPC object", paths[k], err);
        if (err == 0) c->ipc++;
      }
      while (*p && *p != '\n') p++;
    }
  }
}

static int is_dot(const char *name) { return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])); }

// What empty_dir may do with an entry it could not simply remove.
enum verdict { MINE, LEAVE, UNKNOWN };

// A program's own entry (made by the sandbox user, on the same filesystem) is to be removed; a
// mount point (a user's mount under /tmp: what they asked to keep) or a directory the engine
// made for one (owned by root) is left as it is.
static enum verdict classify(long dfd, const char *name, const struct statx *top, unsigned uid, int *isdir) {
  struct statx st;
  if (sys5(SYS_statx, dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) < 0) return UNKNOWN;
  *isdir = (st.mode & S_IFMT) == S_IFDIR;
  if ((st.attributes & STATX_ATTR_MOUNT_ROOT) || st.dev_major != top->dev_major || st.dev_minor != top->dev_minor) return LEAVE;
  return st.uid == uid ? MINE : LEAVE;
}

// Directories moved up into the top directory are named .loom-clean-N with N counting up, so the
// ones still to empty are just the range (emptied, moved].
struct moved { u64 emptied, moved; };

// Whether `name` is a directory moved up already and waiting its turn in (emptied, moved]: a
// filesystem may list an entry renamed within the directory being read again (gVisor's tmpfs
// does), which must not be moved again and again.
static int queued(const char *name, const struct moved *mv) {
  if (!starts(name, ".loom-clean-")) return 0;
  const char *end;
  i64 n = parse_u(name + 12, &end);
  return !*end && n > 0 && (u64)n > mv->emptied && (u64)n <= mv->moved;
}

static void moved_name(char *out, u64 n) {
  char num[24] = {0};
  const char *prefix = ".loom-clean-";
  while (*prefix) *out++ = *prefix++;
  for (const char *q = fmt_u(num, n); *q; q++) *out++ = *q;
  *out = 0;
}

// Removes every entry of directory `dfd` but its directories with entries, which are moved up
// into `tfd` (to be emptied in turn); 0 or -errno.
static long empty_into(struct clean *c, long dfd, long tfd, const struct statx *top, unsigned uid, struct moved *mv) {
  static char buf[1 << 15];
  for (;;) {
    long m = sys3(SYS_getdents64, dfd, buf, sizeof buf);
    if (m <= 0) return m;
    for (long o = 0; o < m;) {
      struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + o);
      o += e->d_reclen;
      const char *name = e->d_name;
      if (is_dot(name) || queued(name, mv)) continue;
      // (Every 64 entries: each look at the clocks is two system calls, more than an unlink.)
      if ((++c->looked & 63) == 0 && timed_out(c)) return -EAGAIN;
      int isdir = e->d_type == DT_DIR;
      if (!isdir && sys3(SYS_unlinkat, dfd, name, 0) == 0) {
        c->removed++;
        continue;
      }
      if (isdir && sys3(SYS_unlinkat, dfd, name, AT_REMOVEDIR) == 0) {
        c->removed++;
        continue;
      }
      enum verdict v = classify(dfd, name, top, uid, &isdir);
      if (v == LEAVE) continue;
      if (v == UNKNOWN) return -ENOENT;
      if (!isdir) return sys3(SYS_unlinkat, dfd, name, 0);
      // A directory with entries: made ours to read and change (moving it needs write
      // permission on it: its '..' changes), and moved up.
      sys4(SYS_fchmodat, dfd, name, 0700, 0);
      for (;;) {
        char fresh[40];
        moved_name(fresh, mv->moved + 1);
        long r = sys5(SYS_renameat2, dfd, name, tfd, fresh, RENAME_NOREPLACE);
        if (r == -EEXIST) {
          mv->moved++;  // a program's own file by that name: it is removed with the rest
          continue;
        }
        if (r < 0) return r;
        mv->moved++;
        break;
      }
    }
  }
}

// Empties `top` without following a link and without recursion: a directory that is not empty
// has its entries removed and its own directories moved up into `top`, to be emptied in turn;
// so any depth takes two descriptors and no stack, a directory made unreadable is opened after
// a chmod (it is the program's, ours to change), and a name is never read as text.
static void empty_dir(struct clean *c, const char *top) {
  long tfd = sys4(SYS_openat, AT_FDCWD, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (tfd == -ENOENT) return;
  if (tfd < 0) return fail(c, "cannot open", top, tfd);
  struct statx topst;
  long err = sys5(SYS_statx, tfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &topst);
  unsigned uid = (unsigned)sys0(SYS_getuid);
  struct moved mv = {0, 0};
  // Two passes over `top`: the second finds what the first could not see (entries moved up
  // while it read) and proves the rest is what the engine or the user put there.
  for (int pass = 0; pass < 2 && err >= 0; pass++) {
    sys3(SYS_lseek, tfd, 0, SEEK_SET);
    err = empty_into(c, tfd, tfd, &topst, uid, &mv);
    while (err >= 0 && mv.emptied < mv.moved) {
      char name[40];
      moved_name(name, ++mv.emptied);
      long dfd = sys4(SYS_openat, tfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      if (dfd == -ENOENT || dfd == -ENOTDIR) continue;  // removed already, or a program's file of that name
      if (dfd < 0) {
        err = dfd;
        break;
      }
      err = empty_into(c, dfd, tfd, &topst, uid, &mv);
      sys1(SYS_close, dfd);
      if (err >= 0 && sys3(SYS_unlinkat, tfd, name, AT_REMOVEDIR) == 0) c->removed++;
    }
  }
  sys1(SYS_close, tfd);
  if (err == -EAGAIN) fail(c, "out of time emptying", top, 0);
  else if (err < 0) fail(c, "cannot empty", top, err);
}

// `--stdin`: the rest of the options come from stdin, as one line (whitespace-separated). A runner
// starts the next clean-up ahead, while it is idle or a program runs, and hands it what to keep
// once the program has ended: the start of a process is then off the path between two runs.
// The line's end, not EOF, starts the clean-up: a process forked meanwhile may hold the pipe.
// -- what a program may change in Loom's processes ------------------------------------------
// Programs run as the same user as Loom's processes, so they may lower their resource limits
// and priority and narrow their CPUs with no ptrace and whether or not they are dumpable
// (prlimit, setpriority, sched_setaffinity, sched_setscheduler, ioprio_set); what those
// processes start inherits it, and under gVisor every docker exec inherits PID 1's limits. A
// digest of that state, taken before any program ran, lets the clean-up tell whether it changed
// (undoing it would need privileges: such a container is retired).

static u64 fnv(u64 h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/** The digest (52 bits: a number to parse_u and to JavaScript) of PID's inherited state; 0 if it is gone. */
static u64 state_digest(long pid) {
  u64 h = 14695981039346656037ULL;
  for (long r = 0; r < 16; r++) {  // RLIMIT_CPU .. RLIMIT_RTTIME
    long lim[2] = {0, 0};
    long err = sys4(SYS_prlimit64, pid, r, 0, lim);
    h = fnv(h, err < 0 ? &err : (long *)lim, err < 0 ? sizeof err : sizeof lim);
  }
  long prio = sys2(SYS_getpriority, 0, pid);  // PRIO_PROCESS; 20 - nice, or -errno
  if (prio == -3) return 0;                   // ESRCH
  unsigned char cpus[128];
  memset(cpus, 0, sizeof cpus);
  long got[4] = {prio, sys1(SYS_sched_getscheduler, pid), sys3(SYS_sched_getaffinity, pid, sizeof cpus, cpus),
                 sys2(SYS_ioprio_get, 1, pid)};  // IOPRIO_WHO_PROCESS
  h = fnv(fnv(h, got, sizeof got), cpus, sizeof cpus);
  return (h & ((1ULL << 52) - 1)) | 1;
}

static int state_main(int argc, char **argv) {
  const char *end;
  long pid = argc == 3 ? (long)parse_u(argv[2], &end) : -1;
  if (pid <= 0 || *end) die("usage", "loom-init --state PID", 2);
  u64 digest = state_digest(pid);
  if (!digest) die("no such process", argv[2], 1);
  char n[24];
  out(1, fmt_u(n, digest));
  out(1, "\n");
  return 0;
}

#define MAX_STATES 4

static int read_stdin_args(char **out, int max) {
  static char buf[4096];
  size_t got = 0;
  while (got < sizeof buf - 1 && (got == 0 || buf[got - 1] != '\n')) {
    long n = sys3(SYS_read, 0, buf + got, sizeof buf - 1 - got);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  buf[got] = 0;
  int count = 0;
  for (char *p = buf; *p && count < max;) {
    while (*p == ' ' || *p == '\n' || *p == '\t') *p++ = 0;
    if (!*p) break;
    out[count++] = p;
    while (*p && *p != ' ' && *p != '\n' && *p != '\t') p++;
  }
  return count;
}

static int clean_main(int argc, char **argv, char **envp) {
  struct clean c;
  memset(&c, 0, sizeof c);
  const char *from_env = env_get(envp, "LOOM_CLEAN_MS");
  i64 env_ms = from_env ? parse_u(from_env, 0) : -1;
  u64 limit_ms = env_ms > 0 ? (u64)env_ms : 2000;
  char *args[64];
  int nargs = 0;
  struct state {
    long pid;
    u64 digest;
    const char *arg;
  } states[MAX_STATES];
  int nstates = 0;
  for (int i = 2; i < argc && nargs < 64; i++) {
    if (seq(argv[i], "--stdin")) nargs += read_stdin_args(args + nargs, 64 - nargs);
    else args[nargs++] = argv[i];
  }
  argc = nargs;
  argv = args;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
    const char *end;
    if (seq(a, "--keep") && v && c.nkeep < MAX_KEEP) {
      long pid = (long)parse_u(v, &end);
      if (pid <= 0 || *end != ':') die("--keep wants PID:START", v, 2);
      i64 start = parse_u(end + 1, &end);
      if (start < 0 || *end) die("--keep wants PID:START", v, 2);
      c.keep[c.nkeep++] = (struct keep){pid, start};
      i++;
    } else if (seq(a, "--dir") && v && v[0] == '/' && c.ndirs < MAX_DIRS - 3) {
      c.dirs[c.ndirs++] = v;
      i++;
    } else if (seq(a, "--state") && v) {
      long pid = (long)parse_u(v, &end);
      if (pid <= 0 || *end != '=') die("--state wants PID=DIGEST", v, 2);
      i64 digest = parse_u(end + 1, &end);
      if (digest <= 0 || *end || nstates == MAX_STATES) die("--state wants PID=DIGEST", v, 2);
      states[nstates++] = (struct state){pid, (u64)digest, v};
      i++;
    } else if (seq(a, "--say-processes") && !c.say_processes) {
      c.say_processes = 1;
    } else if (seq(a, "--ms") && v) {
      i64 ms = parse_u(v, &end);
      if (ms <= 0 || *end) die("--ms wants a number of milliseconds", v, 2);
      limit_ms = (u64)ms;
      i++;
    } else {
      die("unknown or repeated option", a, 2);
    }
  }
  // The writable places of a sandbox (container.ts createOptions: the /tmp tmpfs, ShmSize, and
  // the engine's own /dev/mqueue).
  c.dirs[c.ndirs++] = "/tmp";
  c.dirs[c.ndirs++] = "/dev/shm";
  c.dirs[c.ndirs++] = "/dev/mqueue";
  u64 started = now_ms();
  c.cpu_limit = clock_ms(CLOCK_PROCESS_CPUTIME_ID) + limit_ms;
  c.wall_deadline = started + limit_ms + 10000;
  // Processes first: none may be left to write files or make IPC objects meanwhile.
  kill_others(&c);
  // Then, with none left to change it meanwhile, what Loom's processes pass on. (One that is
  // gone passes: it passes nothing on.)
  for (int i = 0; i < nstates; i++) {
    u64 now = state_digest(states[i].pid);
    if (now && now != states[i].digest) fail(&c, "a program changed the limits or priority of a process of Loom's:", states[i].arg, 0);
  }
  char n0[24];
  if (c.say_processes && !c.failure) {
    // A runner waits for this to start the next program's process (its spare) while the files
    // are removed: one that started earlier would be killed as a program's.
    out(1, "processes killed=");
    out(1, fmt_u(n0, c.killed));
    out(1, "\n");
  }
  if (!c.failure) remove_ipc(&c);
  for (int i = 0; i < c.ndirs && !c.failure; i++) empty_dir(&c, c.dirs[i]);
  char n1[24], n2[24], n3[24], n4[24];
  out(1, "killed=");
  out(1, fmt_u(n1, c.killed));
  out(1, " removed=");
  out(1, fmt_u(n2, c.removed));
  out(1, " ipc=");
  out(1, fmt_u(n3, c.ipc));
  out(1, " ms=");
  out(1, fmt_u(n4, now_ms() - started));
  if (c.failure) {
    out(1, " failed=");
    out(1, c.failure);
    out(1, " ");
    out(1, c.detail);
  }
  out(1, "\n");
  if (!c.failure) return 0;
  return timed_out(&c) ? 3 : 1;
}

// -- entry --------------------------------------------------------------------------------

int start_c(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  // First of all, so that no program ever finds this process dumpable.
  sys2(SYS_prctl, PR_SET_DUMPABLE, 0);
  const char *mode = argc > 1 ? argv[1] : "";
  if (seq(mode, "--")) {
    if (argc < 3) die("usage", "loom-init -- COMMAND [ARGS...]", 2);
    return init_main(argv + 2, envp);
  }
  if (seq(mode, "--idle")) return init_main(0, envp);
  if (seq(mode, "--clean")) return clean_main(argc, argv, envp);
  if (seq(mode, "--state")) return state_main(argc, argv);
  if (seq(mode, "--version")) {
    out(1, VERSION "\n");
    return 0;
  }
  die("usage", "loom-init -- COMMAND [ARGS...] | --idle | --clean [--keep PID:START]... [--state PID=DIGEST]... [--dir PATH]... [--ms N] [--stdin] | --state PID | --version", 2);
  return 2;
}

void exit_from_start(int code) {
  sys1(SYS_exit_group, code);
  __builtin_unreachable();
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall start_c\n\tmov %eax, %edi\n\tcall exit_from_start\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tbl start_c\n\tbl exit_from_start\n");
#endif

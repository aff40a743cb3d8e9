// Freestanding Linux system calls for x86_64 and aarch64: Loom's native helpers use no libc, so
// that one static binary per architecture runs in any image (glibc, musl, distroless, scratch).
#ifndef LOOM_SYS_H
#define LOOM_SYS_H

typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long long u64;
typedef long long i64;

#if defined(__x86_64__)
enum {
  SYS_read = 0, SYS_write = 1, SYS_close = 3, SYS_lseek = 8, SYS_rt_sigprocmask = 14,
  SYS_nanosleep = 35, SYS_getpid = 39, SYS_clone = 56, SYS_execve = 59, SYS_exit_group = 231,
  SYS_wait4 = 61, SYS_kill = 62, SYS_semctl = 66, SYS_msgctl = 71, SYS_shmctl = 31,
  SYS_rt_sigtimedwait = 128, SYS_prctl = 157, SYS_getdents64 = 217, SYS_clock_gettime = 228,
  SYS_openat = 257, SYS_unlinkat = 263, SYS_fchmodat = 268, SYS_renameat2 = 316, SYS_statx = 332,
  SYS_getuid = 102, SYS_prlimit64 = 302, SYS_getpriority = 140, SYS_sched_getscheduler = 145,
  SYS_sched_getaffinity = 204, SYS_ioprio_get = 252, SYS_sendto = 44, SYS_recvfrom = 45,
};
static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
enum {
  SYS_read = 63, SYS_write = 64, SYS_close = 57, SYS_lseek = 62, SYS_rt_sigprocmask = 135,
  SYS_nanosleep = 101, SYS_getpid = 172, SYS_clone = 220, SYS_execve = 221, SYS_exit_group = 94,
  SYS_wait4 = 260, SYS_kill = 129, SYS_semctl = 191, SYS_msgctl = 187, SYS_shmctl = 195,
  SYS_rt_sigtimedwait = 137, SYS_prctl = 167, SYS_getdents64 = 61, SYS_clock_gettime = 113,
  SYS_openat = 56, SYS_unlinkat = 35, SYS_fchmodat = 53, SYS_renameat2 = 276, SYS_statx = 291,
  SYS_getuid = 174, SYS_prlimit64 = 261, SYS_getpriority = 141, SYS_sched_getscheduler = 120,
  SYS_sched_getaffinity = 123, SYS_ioprio_get = 31, SYS_sendto = 206, SYS_recvfrom = 207,
};
static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
#error "loom-init is built for x86_64 and aarch64"
#endif

#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

enum {
  EPERM = 1, ENOENT = 2, EINTR = 4, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EISDIR = 21,
  EINVAL = 22, EAGAIN = 11, ENOEXEC = 8, ENOTEMPTY = 39, ELOOP = 40,
  SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19,
  AT_FDCWD = -100, AT_REMOVEDIR = 0x200, RENAME_NOREPLACE = 1,
  O_RDONLY = 0, O_NONBLOCK = 04000, O_CLOEXEC = 02000000,
#if defined(__aarch64__)
  O_DIRECTORY = 040000, O_NOFOLLOW = 0100000,
#else
  O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000,
#endif
  WNOHANG = 1, SIG_SETMASK = 2, PR_SET_DUMPABLE = 4, PR_SET_CHILD_SUBREAPER = 36,
  CLONE_PARENT = 0x8000,
  IPC_RMID = 0, IPC_STAT = 2, SHM_INFO = 14, MSG_INFO = 12, SEM_INFO = 19, EIDRM = 43, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, SEEK_SET = 0,
  DT_UNKNOWN = 0, DT_DIR = 4, EBUSY = 16,
  AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000, STATX_BASIC_STATS = 0x7ff, STATX_ATTR_MOUNT_ROOT = 0x2000,
  S_IFMT = 0170000, S_IFDIR = 0040000,
};

// The same layout on every architecture (unlike struct stat).
struct statx {
  unsigned int mask, blksize;
  u64 attributes;
  unsigned int nlink, uid, gid;
  unsigned short mode, _spare0;
  u64 ino, size, blocks, attributes_mask;
  struct { i64 sec; unsigned int nsec; int _r; } atime, btime, ctime, mtime;
  unsigned int rdev_major, rdev_minor, dev_major, dev_minor;
  u64 _spare[14];
};
struct timespec { long tv_sec; long tv_nsec; };
struct linux_dirent64 { u64 d_ino; i64 d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };
// Only what loom-init reads of a siginfo: the signal and, for signals sent by kill(), the sender.
struct siginfo { int si_signo; int si_errno; int si_code; int _pad; int si_pid; int si_uid; char _rest[104]; };

#endif

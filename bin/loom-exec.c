/*
 * `loom exec` in a few milliseconds, where Node alone takes 100 ms or more to start: this client
 * hands the command line, unparsed, to a Loom host process of this user (`loom ui`, the app,
 * `loom mcp --http`) over the hand-off socket (electron/main/api/handoff-channel.ts, frame ARGV),
 * and writes back what the host's `loom exec` wrote, then exits with its status. The host parses,
 * runs and reports exactly as `loom exec` does alone (the same code), so nothing here interprets
 * the command line. Where no host runs, or the host declines the command line (it names local
 * files or our stdin, another engine, ...), nothing has run: this process becomes
 * `node bin/loom.js exec ...` (LOOM_JS, set by bin/loom), which works on its own; where none
 * runs, it first starts one (`loom host`) for the next time.
 *
 * Built by scripts/build-cli.mjs at `npm ci` and `npm run build`, where a C compiler is found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { HELLO = 1, ARGV = 4, CANCEL = 3, DECLINE = 13, STDOUT = 14, STDERR = 15, EXIT = 16 };
enum { EXIT_LOOM_ERROR = 125, EXIT_INTERRUPTED = 130, EXIT_BROKEN_PIPE = 141 };
#define MAX_FRAME (64u << 20)

static char **args; /* argv after "exec" */
static int nargs;
static int sock = -1;
static volatile sig_atomic_t interrupted;

/* Nothing ran: `loom exec` through Node, with the same arguments and environment. */
static void work_alone(void) {
  if (sock >= 0) close(sock);
  const char *js = getenv("LOOM_JS");
  if (!js || !*js) {
    fputs("loom: LOOM_JS is not set: run this client through bin/loom\n", stderr);
    exit(EXIT_LOOM_ERROR);
  }
  char **argv = calloc((size_t)nargs + 4, sizeof *argv);
  if (!argv) exit(EXIT_LOOM_ERROR);
  argv[0] = "node";
  argv[1] = (char *)js;
  argv[2] = "exec";
  memcpy(argv + 3, args, (size_t)nargs * sizeof *argv);
  execvp("node", argv);
  fprintf(stderr, "loom: cannot start node: %s\n", strerror(errno));
  exit(EXIT_LOOM_ERROR);
}

/* No host serves us: start `loom host` in the background (its own session, detached from our
 * terminal and directory) for the next `loom exec`s, and work alone this time. It stops by itself
 * after LOOM_KEEP_WARM seconds (default 600) without a run; with LOOM_KEEP_WARM=0 none starts. */
static void start_host_and_work_alone(void) {
  const char *keep = getenv("LOOM_KEEP_WARM"), *js = getenv("LOOM_JS");
  char path[PATH_MAX];
  if (sock >= 0) close(sock), sock = -1;
  if (!(keep && strcmp(keep, "0") == 0) && js && realpath(js, path)) {
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      if (fork() != 0) _exit(0);
      int null = open("/dev/null", O_RDWR);
      if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
      if (chdir("/") != 0) _exit(127);
      /* What bin/loom kept aside for this process's own start (see there): a host needs it. */
      const char *ca = getenv("LOOM_NODE_EXTRA_CA_CERTS");
      if (ca && setenv("NODE_EXTRA_CA_CERTS", ca, 1) == 0) unsetenv("LOOM_NODE_EXTRA_CA_CERTS");
      execlp("node", "node", path, "host", (char *)NULL);
      _exit(127);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
  }
  work_alone();
}

/* A growable byte buffer for the frames we send. */
struct buf {
  char *data;
  size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) work_alone();
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string, quoted. */
static void put_json(struct buf *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\', esc[1] = (char)*p;
      put(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      put(b, esc, 6);
    } else {
      put(b, p, 1);
    }
  }
  put(b, "\"", 1);
}

/* A frame's header, [length u32 BE][kind u8], with its length filled in by end_frame. */
static size_t begin_frame(struct buf *b, int kind) {
  size_t at = b->len;
  unsigned char header[5] = {0, 0, 0, 0, (unsigned char)kind};
  put(b, header, 5);
  return at;
}

static void end_frame(struct buf *b, size_t at) {
  uint32_t n = (uint32_t)(b->len - at - 5);
  unsigned char *h = (unsigned char *)b->data + at;
  h[0] = (unsigned char)(n >> 24), h[1] = (unsigned char)(n >> 16), h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *into, size_t n) {
  char *p = into;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

/* The first Ctrl+C (or SIGTERM) goes to the host, which stops the run and reports it as `loom
 * exec` does; a second one quits at once, as `loom exec` does. */
static void on_signal(int sig) {
  if (interrupted) _exit(EXIT_INTERRUPTED);
  interrupted = 1;
  const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
  unsigned char frame[5 + 7] = {0, 0, 0, 7, CANCEL};
  memcpy(frame + 5, name, 7);
  (void)!write(sock, frame, sizeof frame);
}

/* The directory of the socket and token, as handoffDir() finds it. */
static int handoff_dir(char *out, size_t size) {
  const char *home = getenv("LOOM_HOME"), *xdg = getenv("XDG_RUNTIME_DIR");
  int n;
  if (home && *home) n = snprintf(out, size, "%s/run", home);
  else if (xdg && *xdg) n = snprintf(out, size, "%s/loom", xdg);
  else {
    const char *user_home = getenv("HOME");
    if (!user_home || !*user_home) {
      struct passwd *pw = getpwuid(getuid());
      user_home = pw ? pw->pw_dir : NULL;
    }
    if (!user_home) return -1;
    n = snprintf(out, size, "%s/.cache/loom", user_home);
  }
  return n > 0 && (size_t)n < size ? 0 : -1;
}

int main(int argc, char **argv) {
  extern char **environ;
  /* bin/loom passes `exec ARGS...`. */
  args = argv + 2;
  nargs = argc > 2 ? argc - 2 : 0;
  const char *no = getenv("LOOM_NO_HANDOFF");
  if (no && strcmp(no, "1") == 0) work_alone();

  char dir[4096], path[4200], token[256];
  if (handoff_dir(dir, sizeof dir) < 0) work_alone();
  snprintf(path, sizeof path, "%s/exec.token", dir);
  FILE *f = fopen(path, "r");
  if (!f) start_host_and_work_alone();
  size_t tn = fread(token, 1, sizeof token - 1, f);
  fclose(f);
  token[tn] = 0;

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/exec.sock", dir) >= sizeof addr.sun_path) work_alone();
#ifdef SOCK_CLOEXEC
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else /* macOS */
  sock = socket(AF_UNIX, SOCK_STREAM, 0);
#endif
  if (sock < 0) work_alone();
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) start_host_and_work_alone();

  /* HELLO and the command line at once: a host that declines runs nothing. */
  struct buf out = {0};
  const char *docker_host = getenv("DOCKER_HOST");
  size_t at = begin_frame(&out, HELLO);
  put_str(&out, "{\"token\":");
  put_json(&out, token);
  put_str(&out, ",\"dockerHost\":");
  put_json(&out, docker_host ? docker_host : "");
  put_str(&out, "}");
  end_frame(&out, at);
  at = begin_frame(&out, ARGV);
  char count[16];
  snprintf(count, sizeof count, "%d", nargs);
  put(&out, count, strlen(count) + 1);
  for (int i = 0; i < nargs; i++) put(&out, args[i], strlen(args[i]) + 1);
  for (char **e = environ; *e; e++) put(&out, *e, strlen(*e) + 1);
  end_frame(&out, at);
  if (out.len - at - 5 > MAX_FRAME || write_all(sock, out.data, out.len) < 0) work_alone();
  free(out.data);

  /* A reader of our output that went away ends us with 141, as it ends `loom exec`. */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int heard = 0;
  char *payload = NULL;
  size_t cap = 0;
  for (;;) {
    unsigned char h[5];
    if (read_all(sock, h, 5) < 0) break;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n > MAX_FRAME) break;
    if (n > cap) {
      free(payload);
      cap = n;
      payload = malloc(cap);
      if (!payload) break;
    }
    if (n > 0 && read_all(sock, payload, n) < 0) break;
    switch (h[4]) {
    case STDOUT:
    case STDERR:
      heard = 1;
      if (write_all(h[4] == STDOUT ? 1 : 2, payload, n) < 0 && h[4] == STDOUT) return EXIT_BROKEN_PIPE;
      break;
    case EXIT:
      return n == 1 ? (unsigned char)payload[0] : EXIT_LOOM_ERROR;
    case DECLINE:
      if (!heard) work_alone();
      break;
    }
  }
  /* Before any frame, nothing ran; after one, the run was the host's, and it went away. */
  if (!heard) work_alone();
  fputs("loom: the Loom host process that ran this request went away during the run\n", stderr);
  return EXIT_LOOM_ERROR;
}

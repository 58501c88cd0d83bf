// dcmd: the installed dsubmit, dq, drm, ... (package.json "bin" links to it; it runs as the name it was called
// by, or as `dcmd NAME ARGS...`). Node's own start costs a command more than its work (workflow tools run
// thousands of them), so the hot commands are sent to this user's command agent (cli/dsched-agent.ts), a node
// process that keeps their code, gRPC channels and token warm and runs them in-process. Everything else, and
// every doubt, runs the command the cold way: exec node dist/cli/NAME.js.
//
// The agent is trusted only as far as the folder of its socket: this user's own, mode 0700 (checked with
// lstat after creating it), so only this user (and root) can place or reach a socket there; the peer's uid is
// checked too. The socket's name carries this build's id and a hash of the environment that decides the
// configuration, so an agent only serves the build and configuration it loaded. A set-id launch (real uid
// other than the effective one) never uses an agent.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DSCHED_BUILD_ID
#define DSCHED_BUILD_ID "dev"
#endif

// 2: the agent may send stdout as ranges of a spool file (cli/dsched-agent.ts); 1 (an older launcher) takes
// only data frames
#define PROTOCOL "dsched-agent 2"

extern char **environ;

// every command this package installs (the cold path runs only these, from this build's dist/cli), and the
// HTCondor and PBS names `dsched shims install` writes that run through this launcher
static const char *const COMMANDS[] = {
    "dsched",         "dsubmit",        "dq",       "drm",       "dstatus",   "dhistory",      "dsubmit-dag",
    "dhold",          "drelease",       "dwait",    "dprio",     "duserprio", "dchirp",        "dqedit",
    "dtail",          "qstat",          "qselect",  "qalter",    "qsub",      "qdel",          "qhold",
    "qrls",           "condor_submit",  "condor_q", "condor_rm", "condor_hold", "condor_release", "condor_status",
    "condor_history", "condor_wait",   "condor_submit_dag", "condor_prio", "condor_userprio", "condor_qedit",
    "condor_tail",    "condor_chirp",  NULL};
// the commands the agent runs (cli/dsched-agent.ts hosts the same list)
static const char *const HOT[] = {"dsubmit",  "dq",          "drm",          "dhold",          "drelease",
                                  "dhistory", "dstatus",     "qstat",        "qselect",        "qsub",
                                  "qdel",     "qhold",       "qrls",         "condor_submit",  "condor_q",
                                  "condor_rm", "condor_hold", "condor_release", "condor_status", "condor_history",
                                  NULL};
// the names dshim.js runs under their own name: PBS's whose options differ from dq's (it maps them), and those
// of cli/shared/renamed.ts (it runs their dsched command as that name, so its messages say qsub: or condor_q:)
static const char *const MAPPED[] = {"qstat",       "qselect",        "qalter",        "qsub",
                                     "qdel",        "qhold",          "qrls",          "condor_submit",
                                     "condor_q",    "condor_rm",      "condor_hold",   "condor_release",
                                     "condor_status", "condor_history", "condor_wait",    "condor_submit_dag",
                                     "condor_prio",   "condor_userprio", "condor_qedit",  "condor_tail",
                                     "condor_chirp",  NULL};

static int debug;
static const char *name;

static void note(const char *fmt, const char *arg) {
  if (!debug) return;
  fprintf(stderr, "%s: agent: ", name);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
}

static int listed(const char *const *list, const char *s) {
  for (; *list; list++)
    if (strcmp(*list, s) == 0) return 1;
  return 0;
}

/**
 * The node to run: DSCHED_NODE when it names an executable by an absolute path (the scripts of `dsched shims
 * install` set it, so a cron line or a job with a bare PATH still finds the node they were made with), else
 * "node" from PATH. Never taken from the environment by a set-id launch.
 */
static const char *node_program(void) {
  const char *n = getenv("DSCHED_NODE");
  if (n && n[0] == '/' && getuid() == geteuid() && getgid() == getegid() && access(n, X_OK) == 0) return n;
  return "node";
}

/** node dist/cli/NAME.js ARGS (node dist/cli/dshim.js NAME ARGS for qstat, qselect): the command as a process of its own. */
static void cold(const char *cli, char **args, int nargs) {
  char script[PATH_MAX];
  int mapped = listed(MAPPED, name);
  if (snprintf(script, sizeof script, "%s/%s.js", cli, mapped ? "dshim" : name) >= (int)sizeof script) {
    fprintf(stderr, "%s: error: the path of this installation is too long\n", name);
    exit(1);
  }
  char **av = calloc((size_t)nargs + 4, sizeof *av);
  if (!av) exit(1);
  int k = 0;
  av[k++] = "node";
  av[k++] = script;
  if (mapped) av[k++] = (char *)name;
  for (int i = 0; i < nargs; i++) av[k++] = args[i];
  execvp(node_program(), av);
  fprintf(stderr, "%s: error: cannot run node: %s (is node on your PATH?)\n", name, strerror(errno));
  exit(127);
}

/** A real folder owned by the effective uid that no one else may enter. */
static int private_dir(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

/** $XDG_RUNTIME_DIR/dsched when that is ours and 0700, else /tmp/dsched-agent-EUID; made 0700, then checked. */
static int socket_dir(char *out, size_t n) {
  const char *x = getenv("XDG_RUNTIME_DIR");
  struct stat st;
  int r;
  if (x && x[0] == '/' && lstat(x, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
      (st.st_mode & 0777) == 0700)
    r = snprintf(out, n, "%s/dsched", x);
  else
    r = snprintf(out, n, "/tmp/dsched-agent-%u", (unsigned)geteuid());
  if (r < 0 || (size_t)r >= n) return -1;
  if (mkdir(out, 0700) != 0 && errno != EEXIST) {
    note("cannot make %s", out);
    return -1;
  }
  if (!private_dir(out)) {
    note("%s is not a folder of this user's alone: not used", out);
    return -1;
  }
  return 0;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/** The variables that decide a command's configuration: an agent serves only the values it loaded. */
static int config_var(const char *e) {
  static const char *const NAMES[] = {"HOME=", "USER=", "LOGNAME=", "XDG_CACHE_HOME=", "XDG_CONFIG_HOME=", NULL};
  if (strncmp(e, "DSCHED_", 7) == 0) return 1;
  for (const char *const *p = NAMES; *p; p++)
    if (strncmp(e, *p, strlen(*p)) == 0) return 1;
  return 0;
}

static uint64_t config_hash(const char *cli) {
  uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv(h, DSCHED_BUILD_ID "\n", sizeof DSCHED_BUILD_ID);
  h = fnv(h, cli, strlen(cli) + 1);
  size_t n = 0;
  for (char **e = environ; *e; e++) n++;
  char **vars = calloc(n + 1, sizeof *vars);
  if (!vars) return h;
  size_t k = 0;
  for (char **e = environ; *e; e++)
    if (config_var(*e)) vars[k++] = *e;
  qsort(vars, k, sizeof *vars, cmpstr);
  for (size_t i = 0; i < k; i++) h = fnv(h, vars[i], strlen(vars[i]) + 1);
  free(vars);
  return h;
}

/**
 * Start the agent, detached (its own session, stdio to /dev/null and a log in the socket folder), unless one
 * is starting or running: the lock file beside the socket is held (flock) by the agent for its whole life.
 * The command that starts it does not wait for it.
 */
static void start_agent(const char *cli, const char *dir, const char *sock, const char *base) {
  char lock[PATH_MAX], logf[PATH_MAX], agent[PATH_MAX], fdarg[16];
  if (snprintf(lock, sizeof lock, "%s/%s.lock", dir, base) >= (int)sizeof lock ||
      snprintf(logf, sizeof logf, "%s/%s.log", dir, base) >= (int)sizeof logf ||
      snprintf(agent, sizeof agent, "%s/dsched-agent.js", cli) >= (int)sizeof agent)
    return;
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    note("another command is starting the agent (%s)", lock);
    close(fd);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDWR);
    int log = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (null < 0) _exit(1);
    dup2(null, 0);
    dup2(log >= 0 ? log : null, 1);
    dup2(log >= 0 ? log : null, 2);
    // the lock goes with the agent: it is released when the agent ends, however it ends
    if (fcntl(fd, F_SETFD, 0) != 0) _exit(1);
    snprintf(fdarg, sizeof fdarg, "%d", fd);
    umask(077);
    if (chdir("/") != 0) _exit(1);
    execlp(node_program(), "node", agent, sock, fdarg, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
  note("started an agent for %s", sock);
  close(fd);
}

// ---- frames: a 4-byte little-endian payload length, a type byte, the payload

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_frame(int fd, char type, const void *data, size_t n) {
  unsigned char head[5] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 24), (unsigned char)type};
  return write_all(fd, head, 5) || (n && write_all(fd, data, n)) ? -1 : 0;
}

struct buf {
  char *p;
  size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 4096);
    while (cap < b->n + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) exit(1);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s) + 1); }

static void put_num(struct buf *b, long v) {
  char s[32];
  snprintf(s, sizeof s, "%ld", v);
  put_str(b, s);
}

static int sigpipe_fds[2] = {-1, -1};

static void on_signal(int sig) {
  unsigned char s = (unsigned char)sig;
  int saved = errno;
  if (write(sigpipe_fds[1], &s, 1) < 0) { /* the pipe is full: a signal is already on its way */
  }
  errno = saved;
}

/** Leave as the command would have: killed by `sig` (a shell sees 128 + sig). */
static void die_by(int sig) {
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  exit(128 + sig);
}

// ---- spool files: the agent writes a large stdout once into a file of the socket's folder; the launcher copies
// ranges of it to its own stdout in the kernel

/**
 * Open the spool file `name` (n bytes, from the agent) in the socket folder `dir`: only a name this agent
 * makes (no '/', its prefix), opened without following a link, and kept only when it is a regular file of
 * this effective uid that no one else may read, with no other name, in a folder still of this user's alone.
 * Returns the descriptor, or -1 with the reason in `why`.
 */
static int open_spool(const char *dir, const char *prefix, const char *name, size_t n, const char **why) {
  char file[256];
  size_t pl = strlen(prefix);
  *why = "not a spool file's name";
  if (n >= sizeof file || n <= pl || memchr(name, '/', n) || memchr(name, '\0', n) || memcmp(name, prefix, pl) != 0)
    return -1;
  memcpy(file, name, n);
  file[n] = '\0';
  *why = "its folder is not this user's alone";
  int d = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (d < 0) return -1;
  if (fstat(d, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) return close(d), -1;
  // O_NONBLOCK: a FIFO planted there must not hold the open
  int fd = openat(d, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(d);
  *why = "it cannot be opened (a link?)";
  if (fd < 0) return -1;
  *why = "it is not a regular file of this user's alone";
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
      st.st_nlink > 1)
    return close(fd), -1;
  return fd;
}

/** Whether `out` (non-blocking, full) has room again. */
static int wait_out(int out) {
  struct pollfd p = {out, POLLOUT, 0};
  return poll(&p, 1, -1) >= 0 || errno == EINTR ? 0 : -1;
}

/**
 * Copy `len` bytes at `off` of the spool file to `out` in the kernel: copy_file_range (a file: no copy at all
 * where the file system shares extents), else sendfile (a pipe, a socket), else read and write (a terminal, a
 * file opened to append). Returns -1 with errno on failure.
 */
static int copy_range(int in, off_t off, uint64_t len, int out) {
  static int how; // 0 copy_file_range, 1 sendfile, 2 read and write: a way that fails once is not tried again
  char buf[65536];
  while (len) {
    size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
    ssize_t w;
    if (how == 0) {
      w = copy_file_range(in, &off, out, NULL, want, 0);
      if (w < 0 && (errno == EINVAL || errno == EXDEV || errno == ENOSYS || errno == EBADF || errno == EOPNOTSUPP)) {
        how = 1;
        continue;
      }
    } else if (how == 1) {
      w = sendfile(out, in, &off, want);
      if (w < 0 && (errno == EINVAL || errno == ENOSYS)) {
        how = 2;
        continue;
      }
    } else {
      w = pread(in, buf, want < sizeof buf ? want : sizeof buf, off);
      if (w > 0 && write_all(out, buf, (size_t)w) != 0) return -1;
      if (w > 0) off += w;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      if (wait_out(out) != 0) return -1;
      continue;
    }
    if (w < 0) return -1;
    if (w == 0) {
      // the range is past the file's end: never from our agent (a kernel that copies nothing falls back)
      if (how < 2) {
        how++;
        continue;
      }
      errno = EIO;
      return -1;
    }
    len -= (uint64_t)w;
  }
  return 0;
}

/** A write failed because the reader of stdout has gone (a pipe; a socket, as some programs give, resets). */
static int reader_gone(int e) { return e == EPIPE || e == ECONNRESET; }

static uint64_t le64(const char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | (unsigned char)p[i];
  return v;
}

/**
 * Run the command through the agent at `sock`. Returns -1 when the agent did not take it (the caller runs it
 * cold); otherwise does not return.
 */
static int through_agent(const char *sock, const char *dir, const char *base, char **args, int nargs) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof addr.sun_path) return close(fd), -1;
  strcpy(addr.sun_path, sock);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -2;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
    note("the socket %s is not this user's agent: not used", sock);
    close(fd);
    return -1;
  }
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return close(fd), -1;
  mode_t mask = umask(0);
  umask(mask);
  int ttys = (isatty(0) ? 1 : 0) | (isatty(1) ? 2 : 0) | (isatty(2) ? 4 : 0);
  struct winsize ws = {0};
  long columns = (ttys & 2) && ioctl(1, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
  long errColumns = (ttys & 4) && ioctl(2, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;

  struct buf hello = {0};
  put_str(&hello, PROTOCOL);
  put_str(&hello, name);
  put_num(&hello, (long)geteuid());
  put_num(&hello, (long)mask);
  put_num(&hello, ttys);
  put_num(&hello, columns);
  put_num(&hello, errColumns);
  put_str(&hello, cwd);
  put_num(&hello, nargs);
  for (int i = 0; i < nargs; i++) put_str(&hello, args[i]);
  long nenv = 0;
  for (char **e = environ; *e; e++) nenv++;
  put_num(&hello, nenv);
  for (char **e = environ; *e; e++) put_str(&hello, *e);

  // signals become frames from here on: the agent ends the command as the signal would have ended it
  if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return close(fd), -1;
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (send_frame(fd, 'H', hello.p, hello.n) != 0) return close(fd), -1;
  free(hello.p);

  int accepted = 0, want_stdin = 0, signalled = 0, spool = -1;
  char prefix[96];
  snprintf(prefix, sizeof prefix, "%s.spool.", base);
  struct buf in = {0};
  char chunk[65536];
  for (;;) {
    struct pollfd p[3] = {{fd, POLLIN, 0}, {sigpipe_fds[0], POLLIN, 0}, {0, POLLIN, 0}};
    int np = want_stdin ? 3 : 2;
    if (poll(p, (nfds_t)np, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents & POLLIN) {
      unsigned char s;
      while (read(sigpipe_fds[0], &s, 1) == 1) {
        // a second signal, or one before the agent took the command: leave now
        if (signalled || !accepted) die_by(s);
        signalled = s;
        send_frame(fd, 'S', &s, 1);
      }
    }
    if (want_stdin && (p[2].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
      ssize_t r = read(0, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (send_frame(fd, 'I', chunk, r > 0 ? (size_t)r : 0) != 0) break;
      if (r <= 0) want_stdin = 0;
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    put(&in, chunk, (size_t)r);
    size_t off = 0;
    while (in.n - off >= 5) {
      unsigned char *h = (unsigned char *)in.p + off;
      size_t n = h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
      if (in.n - off < 5 + n) break;
      char type = (char)h[4];
      const char *data = in.p + off + 5;
      off += 5 + n;
      if (type == 'A') {
        accepted = 1;
        note("the agent at %s runs the command", sock);
      }
      else if (type == 'O') {
        // a reader that has gone (dq | head): end as the cold command does, with the status of SIGPIPE
        if (write_all(1, data, n) != 0) exit(reader_gone(errno) ? 141 : 1);
      } else if (type == 'F') {
        // a spool file: opened (and checked) here, or refused, in which case the agent sends the bytes
        const char *why = NULL;
        if (spool >= 0) close(spool);
        spool = open_spool(dir, prefix, data, n, &why);
        if (spool < 0) note("the spool file the agent named is refused: %s", why);
        else {
          // copying a large answer is bulk work: as SCHED_BATCH (the same share of the cores, but no preempting
          // on wakeup) the launchers of 50 identical queries leave the cores to the agent and the schedd still
          // producing the answer, and to a dsubmit started among them; an unprivileged process may choose it
          struct sched_param sp = {0};
          if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0) note("%s", "SCHED_BATCH refused: copying as before");
          note("%s", "stdout comes from a spool file");
        }
        if (send_frame(fd, spool >= 0 ? 'F' : 'N', NULL, 0) != 0) break;
      } else if (type == 'R' && n == 16) {
        if (spool < 0) {
          fprintf(stderr, "%s: error[AGENT_LOST]: the command agent sent output this launcher cannot read\n", name);
          exit(1);
        }
        // as for 'O': a reader that has gone ends the command with the status of SIGPIPE
        if (copy_range(spool, (off_t)le64(data), le64(data + 8), 1) != 0) exit(reader_gone(errno) ? 141 : 1);
      } else if (type == 'D') {
        // everything before it is copied (frames are handled in order): a shared query's launchers get the
        // exit code once they all have
        if (send_frame(fd, 'D', NULL, 0) != 0) break;
      } else if (type == 'E') {
        if (write_all(2, data, n) != 0) { /* nowhere to say it */
        }
      } else if (type == 'Q')
        want_stdin = 1;
      else if (type == 'X' && n == 4) {
        int code = (int)((unsigned char)data[0] | (unsigned char)data[1] << 8 | (unsigned char)data[2] << 16 |
                         (unsigned)(unsigned char)data[3] << 24);
        exit(code);
      } else if (type == 'K' && n == 1)
        die_by((unsigned char)data[0]);
    }
    memmove(in.p, in.p + off, in.n - off);
    in.n -= off;
  }
  close(fd);
  if (!accepted) {
    // the agent never took the command (it was ending, or was killed): it did not run, so run it here
    note("the agent at %s did not take the command: running it without", sock);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    return -1;
  }
  if (signalled) die_by(signalled);
  fprintf(stderr,
          "%s: error[AGENT_LOST]: the command agent ended before %s finished; what it did may have taken "
          "effect (look with dq before running it again)\n  hint: set DSCHED_AGENT=0 to run commands without "
          "the agent\n",
          name, name);
  exit(1);
}

int main(int argc, char **argv) {
  const char *self = strrchr(argv[0], '/');
  name = self ? self + 1 : argv[0];
  char **args = argv + 1;
  int nargs = argc - 1;
  if (strcmp(name, "dcmd") == 0) {
    // the package's install asks each shipped program whether it runs on this machine
    if (argc == 2 && strcmp(argv[1], "--check") == 0) return 0;
    if (argc < 2) {
      fprintf(stderr, "usage: dcmd COMMAND [ARGS...]\n");
      return 2;
    }
    name = argv[1];
    args = argv + 2;
    nargs = argc - 2;
  }
  if (!listed(COMMANDS, name)) {
    fprintf(stderr, "dcmd: error: %s is not a dsched command\n", name);
    return 2;
  }
  for (int i = 0; i < nargs; i++)
    if (strcmp(args[i], "--debug") == 0) debug = 1;
  const char *d = getenv("DSCHED_DEBUG");
  if (d && *d) debug = 1;

  // this build's dist/cli: the folder of the real file this program is
  char exe[PATH_MAX];
  if (!realpath("/proc/self/exe", exe)) {
    fprintf(stderr, "%s: error: cannot find this installation (/proc/self/exe): %s\n", name, strerror(errno));
    return 1;
  }
  *strrchr(exe, '/') = '\0';
  const char *cli = exe;

  const char *use = getenv("DSCHED_AGENT");
  int wanted = listed(HOT, name) && !(use && (strcmp(use, "0") == 0 || strcmp(use, "off") == 0));
  if (wanted && (getuid() != geteuid() || getgid() != getegid())) {
    note("%s", "a set-id launch never uses an agent");
    wanted = 0;
  }
  char dir[PATH_MAX / 2], sock[PATH_MAX], base[64];
  if (wanted && socket_dir(dir, sizeof dir) == 0) {
    snprintf(base, sizeof base, "agent-%016llx", (unsigned long long)config_hash(cli));
    int r = snprintf(sock, sizeof sock, "%s/%s.sock", dir, base) < (int)sizeof sock
                ? through_agent(sock, dir, base, args, nargs)
                : -1;
    if (r == -2 && (errno == ENOENT || errno == ECONNREFUSED)) start_agent(cli, dir, sock, base);
    else if (r == -2) note("cannot reach %s", sock);
  }
  cold(cli, args, nargs);
  return 1;
}

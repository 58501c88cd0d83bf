/*
 * dsched-master: the master of an execute host, whose only daemon is a startd (DAEMON_LIST = STARTD).
 *
 * A node master costs an execute host a whole node process (about 40 MB of RSS, 11 MB of it its own) to do
 * what needs a few system calls: hold the home's lock, start its daemons, restart one that dies and stop
 * them all. This program does the same as daemons/master/supervisor.ts, in the same files, so `dsched` and
 * the daemons cannot tell them apart:
 *   - the lock is the abstract Unix socket named by its first argument (lib/daemons.ts masterLockName): the
 *     kernel frees it however this process dies, and a second master for the home is refused;
 *   - run/master.pid and run/<daemon>.pid hold "pid start-time host machine-id boot-id" (field 22 of
 *     /proc/PID/stat; lib/pid-file.ts): the lock is this host's, so a home shared with another host (NFS) is
 *     refused while that host's master keeps the time of run/master.pid recent (its heartbeat, every 10 s,
 *     stale after 60 s), and this master stops when another host's master has taken the home over;
 *   - each daemon gets stdin /dev/null, stdout and stderr appended to log/<daemon>.out, and on fd 3 the read
 *     end of a pipe (DSCHED_MASTER_PIPE=3) whose end of file tells it this master died, so it shuts down;
 *   - a daemon that dies is restarted after 1 s, doubling up to the backoff maximum, reset once it ran a minute;
 *     one that exits 99 (DAEMON_NO_RESTART: restarting cannot help) stays down, `failed`, until SIGUSR1
 *     (`dsched on`), which starts every failed daemon, and any waiting out its backoff, again now;
 *   - SIGTERM or SIGINT stops the daemons (SIGTERM, SIGKILL to any alive 20 s later) and exits; the same
 *     signals again are ignored; SIGQUIT exits at once (the daemons see their pipe close); SIGHUP is passed on.
 * It serves no RPC: `dsched status` reads run/master.state (rewritten at each change: "master PID START",
 * then "daemon NAME PID STATE RESTARTS LAST-EXIT" per daemon) and `dsched stop`/`reconfig` signal it, which
 * takes root or the pool's owner. Its log is log/master.log, JSON lines as the node daemons write them.
 *
 * Usage: dsched-master LOCK RUN-DIR LOG-DIR BACKOFF-MAX-SECONDS NAME PROGRAM ARGS... [-- NAME PROGRAM ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_DAEMONS 8
#define STOP_GRACE_MS 20000
/* lib/pid-file.ts MASTER_HEARTBEAT_MS and MASTER_HEARTBEAT_STALE_MS */
#define MASTER_HEARTBEAT_MS 10000
#define MASTER_HEARTBEAT_STALE_S 60

/* failed: it exited DAEMON_NO_RESTART (lib/daemons.ts): restarting cannot help, it stays down until SIGUSR1 */
enum state { STARTING, RUNNING, BACKOFF, STOPPED, FAILED };
static const char *const STATE_NAMES[] = {"starting", "running", "backoff", "stopped", "failed"};
#define DAEMON_NO_RESTART 99

struct daemon {
  const char *name;
  char **argv;
  pid_t pid;
  char start[32]; /* its start time, as written to its pid file */
  int pipe_fd;    /* this end of its master pipe, open while it runs */
  enum state state;
  unsigned restarts;
  char last_exit[48];
  int64_t started_ms, restart_at_ms, backoff_ms;
};

static struct daemon daemons[MAX_DAEMONS];
static int ndaemons;
static const char *run_dir, *log_dir;
static int64_t backoff_max_ms;
static char my_start[32];
static char my_host[400]; /* "host machine-id boot-id", as lib/pid-file.ts writes it */
static int log_fd = -1;
static sigset_t handled;

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One JSON line in log/master.log; `fields` is JSON members to add (or ""), built from names and numbers only. */
static void log_line(int level, const char *msg, const char *fields) {
  if (log_fd < 0) return;
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  struct tm tm;
  gmtime_r(&t.tv_sec, &tm);
  char host[HOST_NAME_MAX + 1] = "";
  gethostname(host, sizeof host - 1);
  for (char *c = host; *c; c++)
    if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '?';
  char line[1024];
  int n = snprintf(line, sizeof line,
                   "{\"level\":%d,\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"daemon\":\"master\",\"host\":\"%s\","
                   "\"pid\":%d%s%s,\"msg\":\"%s\"}\n",
                   level, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   t.tv_nsec / 1000000, host, (int)getpid(), *fields ? "," : "", fields, msg);
  if (n > 0 && n < (int)sizeof line && write(log_fd, line, (size_t)n) < 0) { /* nowhere left to say it */
  }
}

/* Field 22 of /proc/PID/stat (the start time in clock ticks since boot), or "" when it cannot be read. */
static void start_time(pid_t pid, char *out, size_t size) {
  out[0] = 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  /* the command name (field 2) is in parentheses and may hold spaces: count after its last ')' */
  char *p = strrchr(buf, ')');
  if (!p) return;
  p += 2; /* field 3 */
  for (int field = 3; field < 22 && p; field++) p = strchr(p, ' '), p = p ? p + 1 : p;
  if (!p) return;
  size_t len = strcspn(p, " ");
  if (len >= size) return;
  memcpy(out, p, len);
  out[len] = 0;
}

/* Write `text` to DIR/NAME atomically (a temporary file renamed over it), as lib/rpc/address-file.ts does. */
static void write_atomic(const char *dir, const char *name, const char *text) {
  char path[PATH_MAX], tmp[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
      snprintf(tmp, sizeof tmp, "%s/.%s.%d.tmp", dir, name, (int)getpid()) >= (int)sizeof tmp)
    return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  size_t len = strlen(text);
  int ok = write(fd, text, len) == (ssize_t)len;
  close(fd);
  if (!ok || rename(tmp, path) < 0) unlink(tmp);
}

/* Read the small file PATH into buf (NUL-terminated); -1 (errno set) when it cannot be read. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  int e = errno;
  close(fd);
  errno = e;
  if (n >= 0) buf[n] = 0;
  return n;
}

/* Remove DIR/NAME only while it still holds `text` (a newer process's file is left alone). */
static void remove_if(const char *dir, const char *name, const char *text) {
  char path[PATH_MAX], buf[512];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return;
  if (read_small(path, buf, sizeof buf) >= 0 && strcmp(buf, text) == 0) unlink(path);
}

/* Append the first line of PATH to out as one word of a pid file ([A-Za-z0-9_.:-], "-" when empty). */
static void append_word(char *out, size_t size, const char *text) {
  size_t off = strlen(out), start = off;
  for (const char *c = text; *c && *c != '\n' && off + 1 < size; c++)
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_.:-", *c))
      out[off++] = *c;
  if (off == start && off + 1 < size) out[off++] = '-';
  out[off] = 0;
}

static void host_identity(void) {
  char host[HOST_NAME_MAX + 1] = "", buf[128] = "";
  gethostname(host, sizeof host - 1);
  append_word(my_host, sizeof my_host, host);
  strcat(my_host, " ");
  if (read_small("/etc/machine-id", buf, sizeof buf) < 0 && read_small("/var/lib/dbus/machine-id", buf, sizeof buf) < 0)
    buf[0] = 0;
  append_word(my_host, sizeof my_host, buf);
  strcat(my_host, " ");
  if (read_small("/proc/sys/kernel/random/boot_id", buf, sizeof buf) < 0) buf[0] = 0;
  append_word(my_host, sizeof my_host, buf);
}

/*
 * Whether run/master.pid names a master of another host whose heartbeat is recent: then *host and *pid name
 * it and *age_s is how long ago it was heard from. A file of this host (or of an older dsched) is not.
 */
static int other_host_master(const char *path, char *host, size_t host_size, int *pid, long *age_s) {
  char buf[512], start[64], h[256], machine[128], boot[128], me_h[256], me_machine[128];
  struct stat st;
  if (read_small(path, buf, sizeof buf) < 0 || stat(path, &st) < 0) return 0;
  if (sscanf(buf, "%d %63s %255s %127s %127s", pid, start, h, machine, boot) != 5) return 0;
  if (sscanf(my_host, "%255s %127s", me_h, me_machine) != 2) return 0;
  if (strcmp(h, me_h) == 0 && strcmp(machine, me_machine) == 0) return 0;
  snprintf(host, host_size, "%s", h);
  long age = (long)(time(NULL) - st.st_mtime);
  *age_s = age < 0 ? 0 : age; /* the other host's clock may be ahead */
  return age < MASTER_HEARTBEAT_STALE_S;
}

static void write_state(void) {
  char text[2048];
  size_t off = (size_t)snprintf(text, sizeof text, "master %d %s\n", (int)getpid(), my_start);
  for (int i = 0; i < ndaemons && off < sizeof text; i++) {
    struct daemon *d = &daemons[i];
    off += (size_t)snprintf(text + off, sizeof text - off, "daemon %s %d %s %u %s\n", d->name, (int)d->pid,
                            STATE_NAMES[d->state], d->restarts, d->last_exit);
  }
  if (off < sizeof text) write_atomic(run_dir, "master.state", text);
}

static const char *signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
               {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
               {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
               {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
               {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].sig == sig) return names[i].name;
  return NULL;
}

static void pid_file_text(pid_t pid, const char *start, char *out, size_t size) {
  snprintf(out, size, "%d %s %s\n", (int)pid, *start ? start : "-", my_host);
}

static void spawn_daemon(struct daemon *d) {
  char out_path[PATH_MAX], fields[256];
  snprintf(out_path, sizeof out_path, "%s/%s.out", log_dir, d->name);
  int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int p[2];
  if (out < 0 || null < 0 || pipe2(p, O_CLOEXEC) < 0) {
    snprintf(fields, sizeof fields, "\"child\":\"%s\",\"errno\":%d", d->name, errno);
    log_line(50, "could not start daemon", fields);
    if (out >= 0) close(out);
    if (null >= 0) close(null);
    d->state = BACKOFF;
    d->restart_at_ms = now_ms() + d->backoff_ms;
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    /* the daemon: signals as node sets them, stdio, and the master pipe on fd 3 (dup2 clears close-on-exec) */
    sigprocmask(SIG_UNBLOCK, &handled, NULL);
    if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(p[0], 3) < 0) _exit(127);
    setenv("DSCHED_MASTER_PIPE", "3", 1);
    execv(d->argv[0], d->argv);
    dprintf(2, "dsched-master: cannot run %s: %s\n", d->argv[0], strerror(errno));
    _exit(127);
  }
  close(out);
  close(null);
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    snprintf(fields, sizeof fields, "\"child\":\"%s\",\"errno\":%d", d->name, errno);
    log_line(50, "could not start daemon", fields);
    d->state = BACKOFF;
    d->restart_at_ms = now_ms() + d->backoff_ms;
    return;
  }
  d->pid = pid;
  d->pipe_fd = p[1];
  start_time(pid, d->start, sizeof d->start);
  char name[64], text[512];
  snprintf(name, sizeof name, "%s.pid", d->name);
  pid_file_text(d->pid, d->start, text, sizeof text);
  write_atomic(run_dir, name, text);
  d->state = RUNNING;
  d->started_ms = now_ms();
  snprintf(fields, sizeof fields, "\"child\":\"%s\",\"childPid\":%d", d->name, (int)pid);
  log_line(30, "started daemon", fields);
}

/* A daemon exited: its pid file goes, and unless the master is stopping it is started again after its backoff. */
static void daemon_exited(struct daemon *d, int status, int stopping) {
  char name[64], text[512], fields[256];
  snprintf(name, sizeof name, "%s.pid", d->name);
  pid_file_text(d->pid, d->start, text, sizeof text);
  remove_if(run_dir, name, text);
  close(d->pipe_fd);
  d->pipe_fd = -1;
  d->pid = 0;
  if (WIFSIGNALED(status)) {
    const char *s = signal_name(WTERMSIG(status));
    if (s)
      snprintf(d->last_exit, sizeof d->last_exit, "signal %s", s);
    else
      snprintf(d->last_exit, sizeof d->last_exit, "signal %d", WTERMSIG(status));
  } else {
    snprintf(d->last_exit, sizeof d->last_exit, "exit code %d", WEXITSTATUS(status));
  }
  if (stopping) {
    d->state = STOPPED;
    return;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == DAEMON_NO_RESTART) {
    d->state = FAILED;
    snprintf(fields, sizeof fields, "\"child\":\"%s\",\"exit\":\"%s\"", d->name, d->last_exit);
    log_line(50, "daemon cannot run until an admin acts; not restarting", fields);
    return;
  }
  int64_t now = now_ms();
  if (now - d->started_ms > 60000) d->backoff_ms = 1000;
  d->state = BACKOFF;
  d->restarts++;
  d->restart_at_ms = now + d->backoff_ms;
  snprintf(fields, sizeof fields, "\"child\":\"%s\",\"exit\":\"%s\",\"restartInMs\":%lld", d->name, d->last_exit,
           (long long)d->backoff_ms);
  log_line(40, "daemon died; restarting", fields);
  d->backoff_ms = d->backoff_ms * 2 > backoff_max_ms ? backoff_max_ms : d->backoff_ms * 2;
}

static void signal_all(int sig) {
  for (int i = 0; i < ndaemons; i++)
    if (daemons[i].pid > 0) kill(daemons[i].pid, sig);
}

static int any_running(void) {
  for (int i = 0; i < ndaemons; i++)
    if (daemons[i].pid > 0) return 1;
  return 0;
}

/* Stop the daemons: SIGTERM now, SIGKILL to any alive after the grace; none waiting for a restart starts. */
static void begin_stop(int *stopping, int64_t *kill_at) {
  *stopping = 1;
  *kill_at = now_ms() + STOP_GRACE_MS;
  for (int i = 0; i < ndaemons; i++)
    if (daemons[i].state == BACKOFF) daemons[i].state = STOPPED;
  signal_all(SIGTERM);
}

/* The home's lock: an abstract Unix socket, bound for as long as this process lives. */
static int take_lock(const char *lock) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t len = strlen(lock);
  if (len == 0 || len + 1 > sizeof a.sun_path) return -1;
  memcpy(a.sun_path + 1, lock, len); /* sun_path[0] = 0: the abstract namespace */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0 ||
      listen(fd, 1) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  /* the package's install asks each shipped program whether it runs on this machine */
  if (argc == 2 && strcmp(argv[1], "--check") == 0) return 0;
  if (argc < 7) {
    fprintf(stderr, "usage: dsched-master LOCK RUN-DIR LOG-DIR BACKOFF-MAX-SECONDS NAME PROGRAM ARGS... [-- NAME ...]\n");
    return 2;
  }
  run_dir = argv[2];
  log_dir = argv[3];
  char *end;
  long max = strtol(argv[4], &end, 10);
  backoff_max_ms = (*end || max < 1 || max > 86400) ? 300000 : max * 1000;
  for (int i = 5; i < argc;) {
    if (ndaemons == MAX_DAEMONS || i + 1 >= argc) {
      fprintf(stderr, "dsched-master: too many daemons, or a daemon without a program\n");
      return 2;
    }
    struct daemon *d = &daemons[ndaemons++];
    d->name = argv[i];
    d->argv = &argv[i + 1];
    d->pipe_fd = -1;
    d->backoff_ms = 1000;
    int j = i + 1;
    while (j < argc && strcmp(argv[j], "--") != 0) j++;
    if (j < argc) argv[j] = NULL; /* ends this daemon's argv (argv[argc] ends the last one) */
    i = j + 1;
  }

  if (take_lock(argv[1]) < 0) {
    if (errno == EADDRINUSE)
      fprintf(stderr, "dsched-master: error[POOL_ALREADY_RUNNING]: a master already runs for this home\n");
    else
      fprintf(stderr, "dsched-master: cannot take the master lock: %s\n", strerror(errno));
    return 1;
  }
  char log_path[PATH_MAX], pid_path[PATH_MAX], other[256], fields[512];
  snprintf(log_path, sizeof log_path, "%s/master.log", log_dir);
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  host_identity();
  snprintf(pid_path, sizeof pid_path, "%s/master.pid", run_dir);
  int other_pid = 0;
  long other_age = 0;
  other[0] = 0;
  if (other_host_master(pid_path, other, sizeof other, &other_pid, &other_age)) {
    fprintf(stderr,
            "dsched-master: error[POOL_ON_OTHER_HOST]: the pool of this home runs on host %s (master pid %d, heard "
            "from %ld s ago): its home is shared with this host, and one home has one pool\n",
            other, other_pid, other_age);
    return 1;
  }
  if (other_pid > 0 && other[0]) {
    snprintf(fields, sizeof fields, "\"host\":\"%s\",\"masterPid\":%d,\"heartbeatAgeS\":%ld", other, other_pid,
             other_age);
    log_line(40, "taking over the home from the master of another host, whose heartbeat has stopped", fields);
  }

  sigemptyset(&handled);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGUSR1};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&handled, sigs[i]);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  int sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    fprintf(stderr, "dsched-master: signalfd: %s\n", strerror(errno));
    return 1;
  }

  start_time(getpid(), my_start, sizeof my_start);
  char text[512];
  pid_file_text(getpid(), my_start, text, sizeof text);
  write_atomic(run_dir, "master.pid", text);
  int64_t heartbeat_at = now_ms() + MASTER_HEARTBEAT_MS;
  log_line(30, "master serving", "\"native\":true");
  for (int i = 0; i < ndaemons; i++) spawn_daemon(&daemons[i]);
  write_state();

  int stopping = 0;
  int64_t kill_at = 0;
  for (;;) {
    if (stopping && !any_running()) break;
    /* sleep until a signal, or the next restart, or the end of the stop's grace */
    int64_t next = -1, now = now_ms();
    for (int i = 0; i < ndaemons && !stopping; i++)
      if (daemons[i].state == BACKOFF && (next < 0 || daemons[i].restart_at_ms < next)) next = daemons[i].restart_at_ms;
    if (stopping && kill_at) next = kill_at;
    if (!stopping && (next < 0 || heartbeat_at < next)) next = heartbeat_at;
    struct pollfd pfd = {.fd = sfd, .events = POLLIN};
    int timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
    if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) break;
    int changed = 0;
    struct signalfd_siginfo si;
    while ((pfd.revents & POLLIN) && read(sfd, &si, sizeof si) == sizeof si) {
      int sig = (int)si.ssi_signo;
      if (sig == SIGCHLD) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
          for (int i = 0; i < ndaemons; i++)
            if (daemons[i].pid == pid) daemon_exited(&daemons[i], status, stopping), changed = 1;
      } else if (sig == SIGHUP) {
        signal_all(SIGHUP);
      } else if (sig == SIGUSR1 && !stopping) {
        /* an admin mended what a failed daemon refused: every failed or waiting daemon starts now */
        for (int i = 0; i < ndaemons; i++) {
          struct daemon *d = &daemons[i];
          if (d->state != FAILED && d->state != BACKOFF) continue;
          snprintf(fields, sizeof fields, "\"child\":\"%s\",\"was\":\"%s\"", d->name, STATE_NAMES[d->state]);
          log_line(30, "starting daemon again at an admin's request", fields);
          d->backoff_ms = 1000;
          spawn_daemon(d);
          changed = 1;
        }
      } else if (sig == SIGQUIT) {
        log_line(40, "master: fast shutdown, exiting now", "\"signal\":\"SIGQUIT\"");
        _exit(1); /* the daemons read their pipe's end of file and shut down themselves */
      } else if (sig == SIGTERM || sig == SIGINT) {
        if (stopping) {
          log_line(40, "already shutting down gracefully; SIGQUIT stops at once", "");
          continue;
        }
        log_line(30, "master shutting down", sig == SIGTERM ? "\"signal\":\"SIGTERM\"" : "\"signal\":\"SIGINT\"");
        begin_stop(&stopping, &kill_at);
        changed = 1;
      }
    }
    now = now_ms();
    if (!stopping && now >= heartbeat_at) {
      heartbeat_at = now + MASTER_HEARTBEAT_MS;
      char held[512];
      if (read_small(pid_path, held, sizeof held) < 0 && errno == ENOENT) {
        write_atomic(run_dir, "master.pid", text);
      } else if (strcmp(held, text) == 0) {
        utimensat(AT_FDCWD, pid_path, NULL, 0);
      } else {
        other[0] = 0;
        other_host_master(pid_path, other, sizeof other, &other_pid, &other_age);
        if (other[0]) {
          /* a master of another host took the home over (this one was stopped or cut off past the staleness) */
          snprintf(fields, sizeof fields, "\"host\":\"%s\",\"masterPid\":%d", other, other_pid);
          log_line(50, "another master has taken this home over; stopping this pool", fields);
          begin_stop(&stopping, &kill_at);
          changed = 1;
        }
      }
    }
    if (stopping && kill_at && now >= kill_at) {
      signal_all(SIGKILL);
      kill_at = 0;
    }
    for (int i = 0; i < ndaemons && !stopping; i++)
      if (daemons[i].state == BACKOFF && daemons[i].restart_at_ms <= now) spawn_daemon(&daemons[i]), changed = 1;
    if (changed) write_state();
  }
  remove_if(run_dir, "master.pid", text);
  char state_path[PATH_MAX];
  snprintf(state_path, sizeof state_path, "%s/master.state", run_dir);
  unlink(state_path);
  log_line(30, "master stopped", "");
  return 0;
}

/*
 * The startd's job spawner: a small native process that creates job sandboxes, opens the job's files with
 * its owner's rights, forks and execs the jobs, reaps them the moment they end and journals each end
 * (fsynced) before it reports it. It runs as root on behalf of every user of the host: every length is
 * bounded, every system call checked, and nothing goes through a shell.
 *
 * Why native: a Node spawner held ~40 MB and spent milliseconds of CPU per job, and an end that happened
 * while it was busy could be lost with it (the job then ran twice). Here a job's end is reaped at once
 * (SIGCHLD through a signalfd), and a job dies with its spawner (PR_SET_PDEATHSIG), so no job can end
 * unobserved.
 *
 * Two processes: the one the startd starts is the keeper, a child subreaper (PR_SET_CHILD_SUBREAPER) that
 * forks the spawner and otherwise only waits. A job that ends while its spawner is killed (before the spawner
 * reaped it) is not orphaned to init, where its status would be lost: its zombie comes to the keeper, which
 * journals its end (an "adopted" line) before it exits, and the startd reads that journal when it sees the
 * keeper gone. To tell which job a process was, each job writes a start line (its pid and journal note) into
 * the journal just before its exec. The keeper also reaps, and at the end kills, what a job left behind. A
 * spawner whose keeper dies (PR_SET_PDEATHSIG, SIGUSR1) stops as it does when its startd goes: it journals
 * what has ended and kills and reaps the rest.
 *
 * Protocol (docs/architecture.md). In, on stdin: one request per netstring (`<len>:<bytes>,`), whose bytes
 * are netstrings again, alternately a key and its value; a key may repeat (arg, env, file, xfile, group,
 * run). Out, on stdout: one JSON object per line, as the startd's starter.ts reads it:
 *   {"id","event":"started","pid","parent","files":{"stdout","stderr"}}   (parent: the spawner, not its keeper)
 *   {"id","event":"failed","holdCode","holdSubCode","message"}
 *   {"id","event":"exited","exitCode","signal"?,"stopped"}
 * The single argument is the startd's run directory: ends are journaled in spawner-<pid>.exits there (the
 * keeper's pid, which the startd knows), one JSON object a line, in the format spawner-journal.ts reads:
 *   {"pid","run","note","files"?}               a job started (written by the job's process before its exec)
 *   {"stop":run}                                 the startd asked for the job to be stopped
 *   {"run","note","files"?,"exitCode","signal"?,"stopped"?,"time"}   a job ended (fsynced before it is reported)
 * (files: the `dev:ino` of the job's stdout and stderr, as in "started")
 *   {"done":run}                                 the startd has journaled that end itself
 *   {"adopted":pid,"exitCode","signal"?,"time"}  the keeper reaped a process its dead spawner left
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* a start request carries the job's ClassAd and its sandbox files: far below this; the startd checks it too */
#define MAX_FRAME (64u << 20)
/* keys and values of one request (arguments, environment variables): the startd holds a job with more */
#define MAX_FIELDS (1 << 20)
#define MAX_GROUPS 65536
#define MAX_TREE_DEPTH 256
/* an environ-tracked family: how much of a process's environment is searched for the tag */
#define MAX_ENVIRON (4u << 20)
#define FAMILY_VAR "_DSCHED_FAMILY="
#define KILL_TIMEOUT_MS 10000
#define JOURNAL_COMPACT_SIZE (1 << 20)
/* with nothing owed, the start lines of running jobs alone: rewritten (no fsync) once past this */
#define JOURNAL_STARTS_SIZE (64 << 10)
/* what the keeper sends the spawner when it dies (PR_SET_PDEATHSIG): the spawner stops */
#define KEEPER_GONE SIGUSR1

enum method { FAM_NONE, FAM_CGROUP2, FAM_CGROUP1, FAM_ENVIRON };

struct family {
  enum method method;
  char *cgroup; /* the job's cgroup directory (cgroup methods) */
  int freezer;  /* v1: the freezer hierarchy (else pids) */
  char *tag;    /* the value of _DSCHED_FAMILY */
  uid_t uid;    /* the job's real uid: a process carrying the tag is the job's only when it is this uid's */
};

struct job {
  struct job *next;
  char *id;
  pid_t pid;
  struct family fam;
  char *sandbox;
  /* the folder whose file system is looked at for room when the job ends: its sandbox, or (a container job,
     whose process here is podman) the job's sandbox rather than podman's control folder */
  char *watch;
  int full; /* that file system was full when the job ended, and the job had changed something there */
  int keep_sandbox;
  char *run;     /* the journal key (NULL: not journaled) */
  char *journal; /* the journal line's start: {"run":…,"note":{…} */
  int stopped;   /* the startd signalled it to stop (not a pause) */
  int stopped_at_end;
  int doomed;    /* killed by its orphaned spawner: an end by SIGKILL is that kill, not the job's own end */
  int ended;     /* reaped; its family being killed */
  int status;
  int64_t deadline, next_round;
  int wait_ms;
  struct timespec forked; /* the file system's clock when the job was forked: what changed after it, it changed */
};

struct live {
  struct live *next;
  char *run;
  char *line;
};

static struct job *jobs;
static struct live *live;
static int journal_fd = -1;
static char journal_path[PATH_MAX];
static pid_t self;   /* the spawner */
static pid_t keeper; /* its parent, whose pid names the journal */
static gid_t *root_groups;
static int n_root_groups;

/* ---- small helpers ---- */

static void say(const char *prefix, const char *fmt, va_list ap) {
  fputs(prefix, stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say("spawner: fatal: ", fmt, ap);
  va_end(ap);
  exit(2);
}

static void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  say("spawner: ", fmt, ap);
  va_end(ap);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("out of memory");
  return p;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct buf {
  char *p;
  size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
  if (n > SIZE_MAX / 2 - b->len) die("buffer too large");
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_fmt(struct buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) die("format overflow");
  buf_add(b, tmp, (size_t)n);
}

/* A JSON string (control characters, quotes and backslashes escaped; other bytes as they are). */
static void buf_json(struct buf *b, const char *s) {
  buf_add(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      buf_add(b, e, 2);
    } else if (*c < 0x20 || *c == 0x7f) {
      buf_fmt(b, "\\u%04x", *c);
    } else {
      buf_add(b, (const char *)c, 1);
    }
  }
  buf_add(b, "\"", 1);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* "Permission denied (errno 13)": what the hold reason says of a failed system call. */
static const char *why(int e, char *out, size_t n) {
  snprintf(out, n, "%s (errno %d)", strerror(e), e);
  return out;
}

/* ---- replies to the startd (non-blocking: a startd slow to read never delays a reap) ---- */

static struct buf out;
static int out_broken;

static void flush_out(void) {
  while (out.len && !out_broken) {
    ssize_t w = write(STDOUT_FILENO, out.p, out.len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      out_broken = 1; /* the startd is gone */
      return;
    }
    memmove(out.p, out.p + w, out.len - (size_t)w);
    out.len -= (size_t)w;
  }
}

static void reply_failed(const char *id, int code, int sub, const char *message) {
  buf_str(&out, "{\"id\":");
  buf_json(&out, id);
  buf_fmt(&out, ",\"event\":\"failed\",\"holdCode\":%d,\"holdSubCode\":%d,\"message\":", code, sub);
  buf_json(&out, message);
  buf_str(&out, "}\n");
  flush_out();
}

/* ---- credentials: the owner's rights for the job's file work ---- */

static void become(uid_t uid, gid_t gid, const gid_t *groups, int n) {
  if (n ? setgroups((size_t)n, groups) : setgroups(1, &gid)) die("setgroups: %s", strerror(errno));
  if (setresgid((gid_t)-1, gid, (gid_t)-1)) die("setegid %u: %s", (unsigned)gid, strerror(errno));
  if (setresuid((uid_t)-1, uid, (uid_t)-1)) die("seteuid %u: %s", (unsigned)uid, strerror(errno));
}

/* Going back to root must not fail; if it does, going on with someone else's rights is worse than stopping. */
static void become_root(void) {
  if (setresuid((uid_t)-1, 0, (uid_t)-1)) die("cannot return to root: %s", strerror(errno));
  if (setresgid((gid_t)-1, 0, (gid_t)-1)) die("cannot return to group 0: %s", strerror(errno));
  if (setgroups((size_t)n_root_groups, root_groups)) die("cannot restore the groups: %s", strerror(errno));
}

/* ---- files ---- */

static int read_file(const char *path, struct buf *b, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char tmp[8192];
  for (;;) {
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (b->len + (size_t)r > max) break;
    buf_add(b, tmp, (size_t)r);
  }
  close(fd);
  return 0;
}

/* a cgroup file's new value */
static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = write_all(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/*
 * Remove `name` under the directory `dirfd` and all it holds, never following a symbolic link: the sandbox
 * belongs to the job's owner, who may have put links (or swap a directory for one) in it.
 */
static void remove_tree_at(int dirfd, const char *name, int depth) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) return;
  if (depth > MAX_TREE_DEPTH) {
    warn("not removing %s: nested deeper than %d directories", name, MAX_TREE_DEPTH);
    return;
  }
  for (int pass = 0; pass < 3; pass++) {
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    DIR *d = fdopendir(fd);
    if (!d) {
      close(fd);
      return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      remove_tree_at(fd, e->d_name, depth + 1);
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
    if (errno != ENOTEMPTY && errno != EEXIST) return;
  }
}

static void remove_tree(const char *path) { remove_tree_at(AT_FDCWD, path, 0); }

/* mkdir -p, each directory made 0700 */
static int make_dirs(const char *path) {
  char p[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof p) {
    errno = ENAMETOOLONG;
    return -1;
  }
  /* the usual case: the parent exists (the startd's execute directory) */
  if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return -1;
  memcpy(p, path, n + 1);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0700) && errno != EEXIST) return -1;
    *s = '/';
  }
  if (mkdir(p, 0700) && errno != EEXIST) return -1;
  return 0;
}

/* ---- process families (proc-family.ts) ---- */

struct pids {
  pid_t *p;
  size_t n, cap;
};

static void pids_add(struct pids *l, pid_t p) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->p = xrealloc(l->p, l->cap * sizeof *l->p);
  }
  l->p[l->n++] = p;
}

static int parse_pid(const char *s, pid_t *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || v <= 0 || v > INT_MAX) return -1;
  *out = (pid_t)v;
  return 0;
}

/* Where a cgroup hierarchy is mounted (v2, or v1 with the freezer or pids controller); "" when it is not. */
static const char *cgroup_mount(enum method m, int freezer) {
  static char found[3][PATH_MAX];
  static int looked[3];
  int k = m == FAM_CGROUP2 ? 0 : freezer ? 1 : 2;
  if (looked[k]) return found[k];
  struct buf mounts = {0};
  if (read_file("/proc/self/mounts", &mounts, 1 << 20) || !mounts.p) {
    free(mounts.p);
    return "";
  }
  looked[k] = 1;
  const char *ctl = freezer ? "freezer" : "pids";
  for (char *line = mounts.p, *next; *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    else next = line + strlen(line);
    char dev[256], dir[PATH_MAX], type[64], opts[1024];
    if (sscanf(line, "%255s %4095s %63s %1023s", dev, dir, type, opts) != 4) continue;
    int hit = 0;
    if (m == FAM_CGROUP2) hit = !strcmp(type, "cgroup2");
    else if (!strcmp(type, "cgroup")) {
      for (char *o = strtok(opts, ","); o; o = strtok(NULL, ",")) hit |= !strcmp(o, ctl);
    }
    if (hit && !strchr(dir, '\\')) {
      snprintf(found[k], sizeof found[k], "%s", dir);
      break;
    }
  }
  free(mounts.p);
  return found[k];
}

/* This process's own cgroup in the hierarchy (v2: the "0::" line of /proc/self/cgroup; v1: its controller's). */
static int own_cgroup(enum method m, int freezer, char *out, size_t n) {
  const char *mount = cgroup_mount(m, freezer);
  struct buf cg = {0};
  int found = 0;
  if (!*mount || read_file("/proc/self/cgroup", &cg, 1 << 20) || !cg.p) goto done;
  const char *ctl = freezer ? "freezer" : "pids";
  for (char *line = cg.p, *next; *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    else next = line + strlen(line);
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c1 = 0;
    *c2 = 0;
    int hit = 0;
    if (m == FAM_CGROUP2) hit = !strcmp(line, "0") && c2 == c1 + 1;
    else {
      for (char *o = strtok(c1 + 1, ","); o; o = strtok(NULL, ",")) hit |= !strcmp(o, ctl);
    }
    if (hit) {
      found = snprintf(out, n, "%s%s", mount, c2 + 1) < (int)n;
      break;
    }
  }
done:
  free(cg.p);
  return found ? 0 : -1;
}

static int write_pid(const char *dir, pid_t pid) {
  char path[PATH_MAX], text[32];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  snprintf(text, sizeof text, "%d", (int)pid);
  return write_text(path, text);
}

static int cgroup_write(const char *cgroup, const char *file, const char *text) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", cgroup, file) >= (int)sizeof path) return -1;
  return write_text(path, text);
}

static int environ_has_tag(pid_t pid, const char *tag) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  struct buf env = {0};
  if (read_file(path, &env, MAX_ENVIRON) || !env.p) {
    free(env.p);
    return 0;
  }
  size_t kl = strlen(FAMILY_VAR), tl = strlen(tag);
  int hit = 0;
  for (size_t at = 0; at < env.len && !hit;) {
    char *end = memchr(env.p + at, 0, env.len - at);
    size_t len = end ? (size_t)(end - (env.p + at)) : env.len - at;
    hit = len == kl + tl && !memcmp(env.p + at, FAMILY_VAR, kl) && !memcmp(env.p + at + kl, tag, tl);
    at += len + 1;
  }
  free(env.p);
  return hit;
}

struct proc {
  pid_t pid, ppid, pgrp;
  int in;
};

/* A process's real uid, from /proc/<pid>/status (-1 when it is gone). Anyone can put the tag in their own
   environment: another user's process carrying it must not be counted, signalled and waited for as the job's. */
static long real_uid(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  struct buf st = {0};
  long uid = -1;
  if (read_file(path, &st, 16384) == 0 && st.p) {
    const char *u = strstr(st.p, "\nUid:");
    unsigned long v;
    if (u && sscanf(u + 5, " %lu", &v) == 1) uid = (long)v;
  }
  free(st.p);
  return uid;
}

/* The processes of an environ-tracked family: tagged and of its uid, in the main process's group, and their
   descendants. */
static void scan_tagged(const char *tag, uid_t uid, pid_t group, struct pids *outp) {
  DIR *d = opendir("/proc");
  if (!d) return;
  struct proc *t = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    pid_t pid;
    if (!isdigit((unsigned char)e->d_name[0]) || parse_pid(e->d_name, &pid) || pid == self) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    struct buf st = {0};
    if (read_file(path, &st, 8192) || !st.p) {
      free(st.p);
      continue;
    }
    /* the command name may hold spaces and parentheses: fields count from the last ')' */
    char *rp = strrchr(st.p, ')');
    char state;
    int ppid, pgrp;
    if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && state != 'Z' && state != 'X') {
      if (n == cap) {
        cap = cap ? cap * 2 : 256;
        t = xrealloc(t, cap * sizeof *t);
      }
      t[n].pid = pid;
      t[n].ppid = ppid;
      t[n].pgrp = pgrp;
      t[n].in = (group > 0 && pgrp == group) || (environ_has_tag(pid, tag) && real_uid(pid) == (long)uid);
      n++;
    }
    free(st.p);
  }
  closedir(d);
  /* descendants by parent pid, until nothing new is found */
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t i = 0; i < n; i++) {
      if (t[i].in) continue;
      for (size_t j = 0; j < n; j++)
        if (t[j].in && t[j].pid == t[i].ppid) {
          t[i].in = changed = 1;
          break;
        }
    }
  }
  for (size_t i = 0; i < n; i++)
    if (t[i].in) pids_add(outp, t[i].pid);
  free(t);
}

/* The live processes of a job's family now. */
static void family_pids(const struct family *f, pid_t main_pid, struct pids *outp) {
  outp->n = 0;
  if (f->method == FAM_ENVIRON) {
    scan_tagged(f->tag, f->uid, main_pid, outp);
    return;
  }
  if (!f->cgroup) return;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", f->cgroup) >= (int)sizeof path) return;
  struct buf b = {0};
  if (read_file(path, &b, 16 << 20) == 0 && b.p) {
    for (char *s = b.p, *next; *s; s = next) {
      next = strchr(s, '\n');
      if (next) *next++ = 0;
      else next = s + strlen(s);
      pid_t p;
      if (!parse_pid(s, &p) && p != self) pids_add(outp, p);
    }
  }
  free(b.p);
}

static void family_signal(const struct family *f, pid_t main_pid, int sig) {
  struct pids l = {0};
  family_pids(f, main_pid, &l);
  for (size_t i = 0; i < l.n; i++) kill(l.p[i], sig);
  free(l.p);
}

static int has_cgroup_kill(const struct family *f) {
  char path[PATH_MAX];
  return f->method == FAM_CGROUP2 && snprintf(path, sizeof path, "%s/cgroup.kill", f->cgroup) < (int)sizeof path && access(path, F_OK) == 0;
}

/*
 * One round of killing a family: frozen (where there is a freezer) so that nothing forks meanwhile. The main
 * process's group is killed only while that process is not reaped (`group`): after that its number may be
 * another process's.
 */
static void family_kill_round(const struct family *f, pid_t main_pid, int group) {
  if (group && main_pid > 0) kill(-main_pid, SIGKILL);
  if (f->method == FAM_NONE) return;
  if (f->method == FAM_CGROUP2 && cgroup_write(f->cgroup, "cgroup.kill", "1") == 0) return;
  const char *freeze = NULL, *on = NULL, *off = NULL;
  if (f->method == FAM_CGROUP2 && !has_cgroup_kill(f)) freeze = "cgroup.freeze", on = "1", off = "0";
  if (f->method == FAM_CGROUP1 && f->freezer) freeze = "freezer.state", on = "FROZEN", off = "THAWED";
  if (f->method == FAM_CGROUP1 && !f->freezer) cgroup_write(f->cgroup, "pids.max", "0"); /* no more forks */
  if (freeze) cgroup_write(f->cgroup, freeze, on);
  family_signal(f, main_pid, SIGKILL);
  if (freeze) cgroup_write(f->cgroup, freeze, off); /* killed processes die once they run again */
}

static int family_empty(const struct family *f, pid_t main_pid) {
  if (f->method == FAM_NONE) return 1;
  struct pids l = {0};
  family_pids(f, main_pid, &l);
  free(l.p);
  return l.n == 0;
}

static void family_free(struct family *f) {
  free(f->cgroup);
  free(f->tag);
}

/* ---- the exit journal (spawner-journal.ts) ---- */

/* A job's start line: its pid and its journal note (`journal` is the end line's start, {"run":…,"note":{…}). */
static void start_line(struct buf *b, pid_t pid, const char *journal) {
  buf_fmt(b, "{\"pid\":%d,", (int)pid);
  buf_str(b, journal + 1);
  buf_str(b, "}\n");
}

static void stop_line(struct buf *b, const char *run) {
  buf_str(b, "{\"stop\":");
  buf_json(b, run);
  buf_str(b, "}\n");
}

/*
 * Rewrite the journal with only what it must hold: the start (and stop) lines of the running jobs, which the
 * keeper needs should this process die, and the ends still owed. Those ends were fsynced: so is their copy.
 */
static void journal_compact(void) {
  char tmp[PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", journal_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  struct buf b = {0};
  for (struct job *j = jobs; j; j = j->next) {
    if (!j->journal || j->ended) continue;
    start_line(&b, j->pid, j->journal);
    if (j->stopped) stop_line(&b, j->run);
  }
  int ok = !b.len || write_all(fd, b.p, b.len) == 0;
  free(b.p);
  for (struct live *l = live; l && ok; l = l->next) ok = write_all(fd, l->line, strlen(l->line)) == 0;
  ok = ok && (!live || fsync(fd) == 0);
  close(fd);
  if (!ok || rename(tmp, journal_path)) {
    unlink(tmp);
    return;
  }
  int nfd = open(journal_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (nfd < 0) return;
  close(journal_fd);
  journal_fd = nfd;
}

/* The startd has journaled these ends itself: no fsync (a lost mark only means an end it skips as known). */
static void journal_done(char **runs, int n) {
  if (journal_fd < 0) return;
  struct buf b = {0};
  for (int i = 0; i < n; i++) {
    for (struct live **l = &live; *l; l = &(*l)->next)
      if (!strcmp((*l)->run, runs[i])) {
        struct live *gone = *l;
        *l = gone->next;
        free(gone->run);
        free(gone->line);
        free(gone);
        break;
      }
    buf_str(&b, "{\"done\":");
    buf_json(&b, runs[i]);
    buf_str(&b, "}\n");
  }
  int running = 0;
  for (struct job *j = jobs; j && !running; j = j->next) running = j->journal && !j->ended;
  struct stat st;
  if (!live && !running) {
    if (ftruncate(journal_fd, 0)) warn("cannot truncate %s: %s", journal_path, strerror(errno));
  } else if (b.len && write_all(journal_fd, b.p, b.len)) {
    warn("cannot update %s: %s", journal_path, strerror(errno));
  } else if (fstat(journal_fd, &st) == 0 && st.st_size > (live ? JOURNAL_COMPACT_SIZE : JOURNAL_STARTS_SIZE)) {
    /* keep the file small under a steady stream of jobs (the owed set is rarely empty then) */
    journal_compact();
  }
  free(b.p);
}

/* ---- jobs ---- */

static struct job *find_job(const char *id) {
  for (struct job *j = jobs; j; j = j->next)
    if (!strcmp(j->id, id)) return j;
  return NULL;
}

static void free_job(struct job *j) {
  free(j->id);
  free(j->sandbox);
  free(j->watch);
  free(j->run);
  free(j->journal);
  family_free(&j->fam);
  free(j);
}

/*
 * Whether the file system of a job's sandbox (the execute folder) has no room left for its owner: a job whose
 * writes there (its output, TMPDIR) failed must not pass for a success. Below a MiB counts as none: a write
 * that does not fit can leave a few blocks free, and file systems keep some for their own metadata.
 */
#define SANDBOX_FULL_BYTES (1024ULL * 1024)
static int sandbox_full(const char *sandbox) {
  struct statvfs fs;
  if (statvfs(sandbox, &fs)) return 0;
  return (unsigned long long)fs.f_bavail * fs.f_frsize < SANDBOX_FULL_BYTES || (fs.f_files && !fs.f_favail);
}

/*
 * Whether anything in the tree `name` under `dirfd` changed after `t` (its ctime, which a job cannot set
 * back; links not followed): a job that wrote nothing in its sandbox lost no write to a full file system.
 */
static int changed_since_at(int dirfd, const char *name, const struct timespec *t, int depth) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) return 0;
  if (st.st_ctim.tv_sec > t->tv_sec || (st.st_ctim.tv_sec == t->tv_sec && st.st_ctim.tv_nsec > t->tv_nsec)) return 1;
  if (!S_ISDIR(st.st_mode) || depth > MAX_TREE_DEPTH) return 0;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return 0;
  }
  int found = 0;
  struct dirent *e;
  while (!found && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) found = changed_since_at(fd, e->d_name, t, depth + 1);
  closedir(d);
  return found;
}

/* Whether the job ended with its watched folder's file system full, having changed something there. */
static int ended_full(struct job *j) {
  return sandbox_full(j->watch) && changed_since_at(AT_FDCWD, j->watch, &j->forked, 0);
}

/* Raise `t` to the ctime the folder `dir` gets when touched now, if that is later. */
static void stamp_floor(const char *dir, struct timespec *t) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (!futimens(fd, NULL) && !fstat(fd, &st) &&
      (st.st_ctim.tv_sec > t->tv_sec || (st.st_ctim.tv_sec == t->tv_sec && st.st_ctim.tv_nsec > t->tv_nsec)))
    *t = st.st_ctim;
  close(fd);
}

/* The job's last process is gone: its sandbox goes (unless its output is fetched from there), its end is reported. */
static void finish(struct job *j) {
  /* before the sandbox goes: removing it frees what the job filled */
  int full = j->full || ended_full(j);
  if (!j->keep_sandbox) remove_tree(j->sandbox);
  int st = j->status;
  buf_str(&out, "{\"id\":");
  buf_json(&out, j->id);
  if (WIFSIGNALED(st)) buf_fmt(&out, ",\"event\":\"exited\",\"exitCode\":0,\"signal\":%d", WTERMSIG(st));
  else buf_fmt(&out, ",\"event\":\"exited\",\"exitCode\":%d", WEXITSTATUS(st));
  if (full) buf_str(&out, ",\"sandboxFull\":true");
  buf_fmt(&out, ",\"stopped\":%s}\n", j->stopped_at_end ? "true" : "false");
  for (struct job **p = &jobs; *p; p = &(*p)->next)
    if (*p == j) {
      *p = j->next;
      break;
    }
  free_job(j);
}

/* a wait status (as waitpid gives it) from what waitid saw */
static int wait_status(const siginfo_t *si) {
  return si->si_code == CLD_EXITED ? (si->si_status & 0xff) << 8 : (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

/*
 * Journal the end of every job that has ended, with one fsync, then reap them, then kill what each left behind
 * (HTCondor: the job ends when its main process does); an end is reported once none of its processes remains.
 * An end is on disk before its process is reaped: killed in between, this process leaves the zombie to its
 * keeper, which journals it too (the startd keeps the first), never an end that nobody recorded.
 */
static void reap(void) {
  struct buf lines = {0};
  struct job *ended[256];
  int n = 0;
  for (;;) {
    siginfo_t si;
    si.si_pid = 0;
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid <= 0) break;
    struct job *j = jobs;
    while (j && (j->pid != si.si_pid || j->ended)) j = j->next;
    if (!j) {
      /* not a job (none is but jobs): reaped so that it does not hide the others */
      while (waitpid(si.si_pid, NULL, 0) < 0 && errno == EINTR) {
      }
      continue;
    }
    /* every job that has ended, looked at without reaping it */
    for (j = jobs; j && n < (int)(sizeof ended / sizeof *ended); j = j->next) {
      si.si_pid = 0;
      if (j->ended || waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != j->pid) continue;
      int st = wait_status(&si);
      j->ended = 1;
      j->status = st;
      j->stopped_at_end = j->stopped;
      ended[n++] = j;
      /* killed by its orphaned spawner: not an end of its own (the startd is gone; the next one runs it again) */
      if (j->doomed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) continue;
      if (j->journal && journal_fd >= 0) {
        size_t at = lines.len;
        /* a startd that dies before it hears of the end redelivers it from here: as the hold it is */
        j->full = ended_full(j);
        buf_str(&lines, j->journal);
        if (WIFSIGNALED(st)) buf_fmt(&lines, ",\"exitCode\":0,\"signal\":%d", WTERMSIG(st));
        else buf_fmt(&lines, ",\"exitCode\":%d", WEXITSTATUS(st));
        if (j->stopped) buf_str(&lines, ",\"stopped\":true");
        if (j->full) buf_str(&lines, ",\"sandboxFull\":true");
        buf_fmt(&lines, ",\"time\":%lld}\n", (long long)time(NULL));
        struct live *l = xmalloc(sizeof *l);
        l->run = xstrdup(j->run);
        l->line = xmalloc(lines.len - at + 1);
        memcpy(l->line, lines.p + at, lines.len - at);
        l->line[lines.len - at] = 0;
        l->next = live;
        live = l;
      }
    }
    break;
  }
  if (lines.len) {
    /* on disk before it is reaped and reported: a startd (or host) that dies first finds the end here */
    if (write_all(journal_fd, lines.p, lines.len) || fsync(journal_fd))
      warn("cannot journal job exits in %s: %s", journal_path, strerror(errno));
  }
  free(lines.p);
  for (int i = 0; i < n; i++) {
    /* its process group is killed while the zombie keeps its number from being reused */
    kill(-ended[i]->pid, SIGKILL);
    while (waitpid(ended[i]->pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  int64_t now = now_ms();
  for (int i = 0; i < n; i++) {
    struct job *j = ended[i];
    if (family_empty(&j->fam, j->pid)) {
      finish(j);
      continue;
    }
    j->deadline = now + KILL_TIMEOUT_MS;
    j->wait_ms = 2;
    family_kill_round(&j->fam, j->pid, 0);
    j->next_round = now + j->wait_ms;
  }
  if (n == (int)(sizeof ended / sizeof *ended)) reap();
  flush_out();
}

/* The families being killed: another round for each whose time has come. Returns the next time, or -1. */
static int64_t kill_rounds(void) {
  int64_t now = now_ms(), next = -1;
  for (struct job *j = jobs, *nx; j; j = nx) {
    nx = j->next;
    if (!j->ended) continue;
    if (j->next_round > now) {
      if (next < 0 || j->next_round < next) next = j->next_round;
      continue;
    }
    if (family_empty(&j->fam, j->pid)) {
      finish(j);
      continue;
    }
    if (now >= j->deadline) {
      warn("job %s: processes survived SIGKILL", j->id);
      finish(j);
      continue;
    }
    family_kill_round(&j->fam, j->pid, 0);
    j->wait_ms = j->wait_ms * 2 > 100 ? 100 : j->wait_ms * 2;
    j->next_round = now + j->wait_ms;
    if (next < 0 || j->next_round < next) next = j->next_round;
  }
  flush_out();
  return next;
}

/* ---- requests ---- */

struct field {
  const char *key, *val;
  size_t klen, vlen;
};

struct req {
  struct field *f;
  int n;
};

static const char *get(const struct req *r, const char *key) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key)) return r->f[i].val;
  return NULL;
}

static size_t get_len(const struct req *r, const char *key) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key)) return r->f[i].vlen;
  return 0;
}

static int count(const struct req *r, const char *key) {
  int n = 0;
  for (int i = 0; i < r->n; i++) n += !strcmp(r->f[i].key, key);
  return n;
}

/* a value that holds no NUL byte (the kernel takes C strings: it would be cut short there) */
static int clean(const struct req *r, const char *key) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key) && strlen(r->f[i].val) != r->f[i].vlen) return 0;
  return 1;
}

static int parse_id(const char *s, unsigned *outv) {
  char *end;
  if (!s || !isdigit((unsigned char)*s)) return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v >= 0xffffffffUL) return -1;
  *outv = (unsigned)v;
  return 0;
}

static void file_id(int fd, char *outs, size_t n) {
  struct stat st;
  *outs = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) snprintf(outs, n, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

/*
 * Whether root, opening a root job's file to write (its output or error, outside a sandbox), opens it in a
 * folder another user owns or may write: there that user may have placed a link (to /etc/passwd) or a hard link
 * under the name beforehand, and fs.protected_symlinks may be off. As openFileAs in lib/as-user.ts.
 */
static int root_in_shared_folder(const char *path) {
  if (geteuid() != 0) return 0;
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
  if (n >= sizeof dir) return 1;
  if (n) memcpy(dir, path, n);
  else dir[n++] = '.';
  dir[n] = '\0';
  struct stat st;
  return stat(dir, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022));
}

/*
 * Open a job's file as its owner; a FIFO never blocks the spawner (O_NONBLOCK, cleared once open). Root in a
 * shared folder (root_in_shared_folder) follows no link, and writes only a file it creates or its own with one
 * name, truncated once that is known.
 */
static int open_job_file(const char *path, int write) {
  int shared = write && root_in_shared_folder(path);
  int common = O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (shared ? O_NOFOLLOW : 0);
  int fd;
  if (!shared) fd = open(path, (write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY) | common, 0666);
  else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | common, 0666)) < 0 && errno == EEXIST) {
    struct stat st;
    if ((fd = open(path, O_WRONLY | common)) < 0) return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || st.st_nlink != 1 || ftruncate(fd, 0) != 0) {
      close(fd);
      errno = EPERM;
      return -1;
    }
  }
  if (fd < 0) return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
/* the kernel's struct clone_args (linux/sched.h, which clashes with glibc's sched.h) */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/*
 * Fork with the child born in the cgroup v2 directory open on `cgfd` (clone3 with CLONE_INTO_CGROUP, Linux
 * 5.7+): no moving of this process in and out, which costs more than the fork. -1 with errno where it cannot.
 */
static pid_t fork_into(int cgfd) {
#ifdef SYS_clone3
  static int unsupported;
  if (!unsupported) {
    struct clone3_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP;
    a.exit_signal = SIGCHLD;
    a.cgroup = (uint64_t)cgfd;
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid >= 0 || (errno != ENOSYS && errno != E2BIG)) return (pid_t)pid;
    unsupported = 1;
  }
#else
  (void)cgfd;
#endif
  errno = ENOSYS;
  return -1;
}

struct start_fail {
  int code, err;
  char message[PATH_MAX + 256];
};

#define FAIL(c, e, ...)                                               \
  do {                                                                \
    fail.code = (c);                                                  \
    fail.err = (e);                                                   \
    snprintf(fail.message, sizeof fail.message, __VA_ARGS__);        \
    goto failed;                                                      \
  } while (0)

/*
 * The child: the job's stdio, its own session, its owner's ids, its start line in the journal, then the program
 * (or its errno to the parent). The start line comes from here, not from the parent after the fork: by the time
 * the program runs, its keeper can tell its end from any other process's.
 */
/*
 * The job's core file size limit (submit's coresize, CoreSize), soft and hard as HTCondor's starter sets it: the
 * job may lower it, not raise it. Set before the id change, so that a root spawner may raise it past its own;
 * an unprivileged one cannot pass its hard limit and gives the job that.
 */
static int set_core_limit(const char *core) {
  struct rlimit lim;
  if (!core) return 0;
  if (!strcmp(core, "unlimited")) lim.rlim_cur = RLIM_INFINITY;
  else {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(core, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*core)) return EINVAL;
    lim.rlim_cur = (rlim_t)v;
  }
  lim.rlim_max = lim.rlim_cur;
  if (setrlimit(RLIMIT_CORE, &lim) == 0) return 0;
  if (errno != EPERM || getrlimit(RLIMIT_CORE, &lim)) return errno;
  struct rlimit soft = {lim.rlim_max, lim.rlim_max};
  return setrlimit(RLIMIT_CORE, &soft) ? errno : 0;
}

/*
 * Wait until the file system's clock has passed `t` (the job's fork stamp, which ended_full compares its
 * sandbox's ctimes with): that clock is coarse, a tick of a few ms, and a fast job could start and write all it
 * writes within the tick of its stamp, its writes then not seen as changes. At most a tick, in the job's own
 * process, before it runs.
 */
static void past_stamp(const struct timespec *t) {
  for (int i = 0; i < 1000; i++) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec > t->tv_nsec)) return;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

static void child(int err_fd, pid_t parent, const int *stdio, int owner, uid_t uid, gid_t gid, const gid_t *groups, int ngroups, const char *exe, char **argv, char **envp, const char *journal, const char *run, const char *core, const struct timespec *forked) {
  sigset_t none;
  sigemptyset(&none);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int e = 0;
  if (setsid() < 0) e = errno;
  for (int i = 0; i < 3 && !e; i++)
    if (dup2(stdio[i], i) < 0) e = errno;
  if (!e) e = set_core_limit(core);
  if (!e && owner) {
    if (ngroups ? setgroups((size_t)ngroups, groups) : setgroups(1, &gid)) e = errno;
    else if (setgid(gid)) e = errno;
    else if (setuid(uid)) e = errno;
    /* A session keyring of its own, its owner's: the one of the login `dsched start` ran in is kept across
       setuid and exec, and whoever has it holds its keys (the admin's, and those other jobs put there). Only a
       kernel without keys (ENOSYS) or a seccomp filter that refuses keyctl to the job too (EPERM) may go
       without; a new session keyring may pass its owner's key quota, so the owner cannot make this fail. */
    else if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (char *)NULL) < 0 && errno != ENOSYS && errno != EPERM) e = errno;
  }
  /* after the id change, which clears it: the job dies with its spawner, so no end goes unobserved */
  if (!e && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) e = errno;
  if (!e && getppid() != parent) kill(getpid(), SIGKILL); /* the spawner died before the line above */
  struct buf line = {0};
  if (!e && journal && journal_fd >= 0) {
    start_line(&line, getpid(), journal);
    /* without it, the job still runs: only its keeper could not name its end, as before there was one */
    (void)write_all(journal_fd, line.p, line.len);
  }
  if (!e) {
    past_stamp(forked);
    execve(exe, argv, envp);
    e = errno;
  }
  if (line.len) {
    /* it never ran: its start line is void before its end could be adopted */
    line.len = 0;
    buf_str(&line, "{\"done\":");
    buf_json(&line, run);
    buf_str(&line, "}\n");
    (void)write_all(journal_fd, line.p, line.len);
  }
  while (write(err_fd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

static void start(const struct req *r) {
  const char *id = get(r, "id");
  if (!id) {
    warn("a start request without an id");
    return;
  }
  struct start_fail fail = {0, 0, ""};
  const char *exe = get(r, "exe"), *cwd = get(r, "cwd"), *in = get(r, "stdin"), *outp = get(r, "stdout"), *errp = get(r, "stderr");
  const char *sandbox = get(r, "sandbox"), *ad = get(r, "ad"), *method = get(r, "family");
  const char *run = get(r, "run"), *journal = get(r, "journal");
  char *journal_files = NULL; /* `journal` with the output files' ids (made once they are open) */
  int owner = get(r, "uid") != NULL;
  unsigned uid = 0, gid = 0;
  /* the submitter's umask: the job's stdout and stderr are made under it, and the job runs with it */
  const char *job_umask = get(r, "umask");
  const char *core = get(r, "core"); /* bytes, or unlimited: the job's core file size limit (none: the spawner's) */
  unsigned umask_bits = 0;
  mode_t own_umask = 0;
  int umask_set = 0;
  int nargs = count(r, "arg"), nenv = count(r, "env"), ngroups = count(r, "group");
  gid_t *groups = NULL;
  char **argv = NULL, **envp = NULL;
  int fds[3] = {-1, -1, -1};
  int pipefd[2] = {-1, -1};
  int moved = 0, entered = 0, made_sandbox = 0;
  char home[PATH_MAX] = "";
  struct family fam = {FAM_NONE, NULL, 0, NULL, 0};
  char e1[128];

  if (!sandbox || !*sandbox || sandbox[0] != '/' || !clean(r, "sandbox")) {
    reply_failed(id, 6, 0, "The job has no valid sandbox");
    return;
  }
  if (!exe || !cwd || !in || !outp || !errp || !ad) FAIL(6, 0, "Failed to execute: an incomplete start request");
  if (owner && (parse_id(get(r, "uid"), &uid) || parse_id(get(r, "gid") ? get(r, "gid") : get(r, "uid"), &gid)))
    FAIL(6, 0, "Failed to execute '%s': an invalid user or group id", exe);
  if (job_umask && (parse_id(job_umask, &umask_bits) || umask_bits > 0777))
    FAIL(6, 0, "Failed to execute '%s': an invalid umask", exe);
  if (core && strcmp(core, "unlimited") && (!isdigit((unsigned char)*core) || strspn(core, "0123456789") != strlen(core) || strlen(core) > 19))
    FAIL(6, 0, "Failed to execute '%s': an invalid core file size limit", exe);
  if (ngroups > MAX_GROUPS) FAIL(6, 0, "Failed to execute '%s': too many groups", exe);
  groups = xmalloc(sizeof *groups * (size_t)(ngroups + 1));
  ngroups = 0;
  for (int i = 0; i < r->n; i++) {
    unsigned g;
    if (strcmp(r->f[i].key, "group")) continue;
    if (parse_id(r->f[i].val, &g)) FAIL(6, 0, "Failed to execute '%s': an invalid group id", exe);
    groups[ngroups++] = g;
  }
  if (!clean(r, "exe") || !clean(r, "arg") || !clean(r, "env") || !clean(r, "cwd") || !clean(r, "stdin") || !clean(r, "stdout") || !clean(r, "stderr"))
    FAIL(6, 0, "Failed to execute '%s': a path, argument or variable holds a NUL byte", exe);
  if (journal && (!run || journal[0] != '{' || strchr(journal, '\n') || !clean(r, "journal") || !clean(r, "run")))
    FAIL(6, 0, "Failed to execute '%s': an invalid journal note", exe);
  if (method) {
    const char *cg = get(r, "cgroup"), *tag = get(r, "tag");
    if (!tag || !clean(r, "tag")) FAIL(6, 0, "Failed to execute '%s': a process family without a tag", exe);
    fam.tag = xstrdup(tag);
    fam.uid = owner ? (uid_t)uid : getuid(); /* the uid the job runs as */
    if (!strcmp(method, "environ")) fam.method = FAM_ENVIRON;
    else if (!strcmp(method, "cgroup-v2") || !strcmp(method, "cgroup-v1")) {
      if (!cg || cg[0] != '/' || !clean(r, "cgroup")) FAIL(6, 0, "Failed to execute '%s': a process family without its cgroup", exe);
      fam.method = method[8] == '2' ? FAM_CGROUP2 : FAM_CGROUP1;
      fam.cgroup = xstrdup(cg);
      const char *v1 = get(r, "v1");
      fam.freezer = v1 && !strcmp(v1, "freezer");
    } else
      FAIL(6, 0, "Failed to execute '%s': unknown process tracking %s", exe, method);
  }

  /* the sandbox: made by root, then its owner's (input files may be in it already) */
  if (make_dirs(sandbox)) FAIL(6, errno, "Failed to create the job sandbox %s: %s", sandbox, why(errno, e1, sizeof e1));
  made_sandbox = 1;
  if (owner) {
    int sfd = open(sandbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 || fchown(sfd, uid, gid)) {
      int e = errno;
      if (sfd >= 0) close(sfd);
      FAIL(6, e, "Failed to create the job sandbox %s: %s", sandbox, why(e, e1, sizeof e1));
    }
    close(sfd);
  }

  /*
   * The job's files are opened, and its initial directory entered, as its owner: the kernel decides what the
   * owner may open (links included) and new files belong to the owner. Root never touches them: not even in
   * the sandbox, which is the owner's and could hold a link by now.
   */
  if (owner) become(uid, gid, groups, ngroups);
  entered = owner;
  {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/.job.ad", sandbox) >= (int)sizeof path) FAIL(6, ENAMETOOLONG, "Failed to create the job sandbox %s: %s", sandbox, why(ENAMETOOLONG, e1, sizeof e1));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write_all(fd, ad, get_len(r, "ad"))) {
      int e = errno;
      if (fd >= 0) close(fd);
      FAIL(6, e, "Failed to create the job sandbox %s: %s", sandbox, why(e, e1, sizeof e1));
    }
    close(fd);
    for (int i = 0; i < r->n; i++) {
      int x = !strcmp(r->f[i].key, "xfile");
      if (!x && strcmp(r->f[i].key, "file")) continue;
      /* name NUL content: a name is one path component */
      const char *name = r->f[i].val;
      size_t nl = strlen(name);
      if (!*name || nl == r->f[i].vlen || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        FAIL(6, EINVAL, "Failed to create the job sandbox %s: %s", sandbox, why(EINVAL, e1, sizeof e1));
      if (snprintf(path, sizeof path, "%s/%s", sandbox, name) >= (int)sizeof path)
        FAIL(6, ENAMETOOLONG, "Failed to create the job sandbox %s: %s", sandbox, why(ENAMETOOLONG, e1, sizeof e1));
      fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, x ? 0700 : 0600);
      if (fd < 0 || write_all(fd, name + nl + 1, r->f[i].vlen - nl - 1)) {
        int e = errno;
        if (fd >= 0) close(fd);
        FAIL(6, e, "Failed to create the job sandbox %s: %s", sandbox, why(e, e1, sizeof e1));
      }
      close(fd);
    }
  }
  /* the child inherits this directory, entered as the owner: a path checked first could be swapped before use */
  if (chdir(cwd)) FAIL(14, errno, "Failed to change to initial directory %s: %s", cwd, why(errno, e1, sizeof e1));
  moved = 1;
  if (job_umask) {
    own_umask = umask((mode_t)umask_bits);
    umask_set = 1;
  }
  if ((fds[0] = open_job_file(in, 0)) < 0) FAIL(8, errno, "Failed to open '%s' as standard input: %s", in, why(errno, e1, sizeof e1));
  if ((fds[1] = open_job_file(outp, 1)) < 0) FAIL(7, errno, "Failed to open '%s' as standard output: %s", outp, why(errno, e1, sizeof e1));
  if (!strcmp(errp, outp) && strcmp(outp, "/dev/null")) fds[2] = dup(fds[1]);
  else fds[2] = open_job_file(errp, 1);
  if (fds[2] < 0) FAIL(7, errno, "Failed to open '%s' as standard error: %s", errp, why(errno, e1, sizeof e1));
  if (fcntl(fds[2], F_SETFD, FD_CLOEXEC) < 0) FAIL(7, errno, "Failed to open '%s' as standard error: %s", errp, why(errno, e1, sizeof e1));
  if (entered) become_root();
  entered = 0;

  char outid[64], errid[64];
  file_id(fds[1], outid, sizeof outid);
  file_id(fds[2], errid, sizeof errid);
  /* the start and end lines carry the files too: a startd that replays the end checks the output against
     them, whether or not it had recorded the job before it died */
  if (journal && (*outid || *errid)) {
    size_t n = strlen(journal) + 2 * sizeof outid + 64;
    journal_files = xmalloc(n);
    snprintf(journal_files, n, "%s,\"files\":{%s%s%s%s%s%s%s}", journal, *outid ? "\"stdout\":\"" : "", outid,
             *outid ? "\"" : "", *outid && *errid ? "," : "", *errid ? "\"stderr\":\"" : "", errid, *errid ? "\"" : "");
    journal = journal_files;
  }
  argv = xmalloc(sizeof *argv * (size_t)(nargs + 2));
  envp = xmalloc(sizeof *envp * (size_t)(nenv + 1));
  argv[0] = (char *)exe;
  for (int i = 0, a = 1, v = 0; i < r->n; i++) {
    if (!strcmp(r->f[i].key, "arg")) argv[a++] = (char *)r->f[i].val;
    else if (!strcmp(r->f[i].key, "env")) envp[v++] = (char *)r->f[i].val;
  }
  argv[nargs + 1] = NULL;
  envp[nenv] = NULL;
  if (pipe2(pipefd, O_CLOEXEC)) FAIL(6, errno, "Failed to execute '%s': %s", exe, why(errno, e1, sizeof e1));

  /* born inside its cgroup: it cannot fork or setsid before it is tracked */
  pid_t pid = -1;
  int fork_errno = ENOSYS;
  /* what the job writes is stamped later than this. File times come from the coarse clock, but since Linux
     6.13 a file whose times were looked at gets a finer, later stamp on its next change, so files written
     just now (the job ad, its output) can look newer than the clock: the watched folder's own stamp, set now,
     is the floor in the file system's time */
  struct timespec forked;
  clock_gettime(CLOCK_REALTIME_COARSE, &forked);
  stamp_floor(get(r, "watch") ? get(r, "watch") : sandbox, &forked);
  if (fam.method == FAM_CGROUP2) {
    int cgfd = open(fam.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd >= 0) {
      pid = fork_into(cgfd);
      fork_errno = errno;
      close(cgfd);
    }
  }
  if (pid < 0 && fork_errno == ENOSYS) {
    /* else this process moves into the job's cgroup, forks, and moves back */
    if (fam.cgroup) {
      if (own_cgroup(fam.method, fam.freezer, home, sizeof home))
        FAIL(6, 0, "Failed to place the job in its process tracking cgroup %s: cannot find this process's own cgroup", fam.cgroup);
      if (write_pid(fam.cgroup, self)) FAIL(6, errno, "Failed to place the job in its process tracking cgroup %s: %s", fam.cgroup, why(errno, e1, sizeof e1));
    }
    pid = fork();
    fork_errno = errno;
    /* should this fail, killing the job's family would kill this process too: say so loudly */
    if (pid != 0 && fam.cgroup && write_pid(home, self)) warn("cannot move process %d back to %s: %s", (int)self, home, strerror(errno));
  } else if (pid < 0) {
    FAIL(6, fork_errno, "Failed to place the job in its process tracking cgroup %s: %s", fam.cgroup, why(fork_errno, e1, sizeof e1));
  }
  if (pid == 0) child(pipefd[1], self, fds, owner, uid, gid, groups, ngroups, exe, argv, envp, journal, run, core, &forked);
  if (umask_set) umask(own_umask); /* the child has the job's */
  umask_set = 0;
  if (pid < 0) FAIL(6, fork_errno, "Failed to execute '%s': %s", exe, why(fork_errno, e1, sizeof e1));
  close(pipefd[1]);
  pipefd[1] = -1;
  int child_err = 0;
  ssize_t got;
  while ((got = read(pipefd[0], &child_err, sizeof child_err)) < 0 && errno == EINTR) {
  }
  if (got == (ssize_t)sizeof child_err) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    FAIL(6, child_err, "Failed to execute '%s': %s", exe, why(child_err, e1, sizeof e1));
  }

  struct job *j = xmalloc(sizeof *j);
  memset(j, 0, sizeof *j);
  j->id = xstrdup(id);
  j->pid = pid;
  j->fam = fam;
  j->sandbox = xstrdup(sandbox);
  j->watch = xstrdup(get(r, "watch") ? get(r, "watch") : sandbox);
  j->keep_sandbox = get(r, "keep") != NULL;
  j->forked = forked;
  if (journal) {
    j->run = xstrdup(run);
    j->journal = xstrdup(journal);
  }
  j->next = jobs;
  jobs = j;
  buf_str(&out, "{\"id\":");
  buf_json(&out, id);
  buf_fmt(&out, ",\"event\":\"started\",\"pid\":%d,\"parent\":%d,\"files\":{", (int)pid, (int)self);
  if (*outid) buf_fmt(&out, "\"stdout\":\"%s\"%s", outid, *errid ? "," : "");
  if (*errid) buf_fmt(&out, "\"stderr\":\"%s\"", errid);
  buf_str(&out, "}}\n");
  flush_out();
  fam.cgroup = fam.tag = NULL; /* the job's now */
  goto cleanup;

failed:
  if (entered) become_root();
  if (made_sandbox) remove_tree(sandbox);
  if (fam.cgroup) rmdir(fam.cgroup);
  reply_failed(id, fail.code, fail.err, fail.message);
cleanup:
  if (umask_set) umask(own_umask);
  if (moved && chdir("/")) die("chdir /: %s", strerror(errno));
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) close(fds[i]);
  if (pipefd[0] >= 0) close(pipefd[0]);
  if (pipefd[1] >= 0) close(pipefd[1]);
  family_free(&fam);
  free(journal_files);
  free(groups);
  free(argv);
  free(envp);
}

static void signal_job(const struct req *r) {
  const char *id = get(r, "id"), *s = get(r, "signal");
  unsigned sig;
  if (!id || parse_id(s, &sig) || sig < 1 || sig > 64) {
    warn("an invalid signal request");
    return;
  }
  struct job *j = find_job(id);
  if (!j || j->ended) return; /* never started here, or already ended */
  if (sig != SIGSTOP && sig != SIGCONT && sig != SIGTSTP && !j->stopped) {
    j->stopped = 1;
    /* before the signal: should this process die, its keeper must not take the end for the job's own */
    if (j->run && journal_fd >= 0) {
      struct buf b = {0};
      stop_line(&b, j->run);
      if (write_all(journal_fd, b.p, b.len)) warn("cannot update %s: %s", journal_path, strerror(errno));
      free(b.p);
    }
  }
  if (j->fam.method != FAM_NONE) family_signal(&j->fam, j->pid, (int)sig);
  else kill(-j->pid, (int)sig);
}

static void journaled(const struct req *r) {
  int n = count(r, "run");
  char **runs = xmalloc(sizeof *runs * (size_t)(n + 1));
  n = 0;
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, "run")) runs[n++] = (char *)r->f[i].val;
  journal_done(runs, n);
  free(runs);
}

/*
 * One netstring (`<len>:<bytes>,`) at p, n bytes there: 1 when complete (its value NUL-terminated in place of
 * its ','), 0 when more bytes are needed, -1 when malformed.
 */
static int netstring(char *p, size_t n, size_t *used, char **val, size_t *vlen) {
  size_t len = 0, i = 0;
  while (i < n && isdigit((unsigned char)p[i])) {
    if (i == 10) return -1;
    len = len * 10 + (size_t)(p[i++] - '0');
  }
  if (i == n) return 0;
  if (i == 0 || p[i] != ':' || len > MAX_FRAME) return -1;
  if (n - i - 1 < len + 1) return 0;
  if (p[i + 1 + len] != ',') return -1;
  *val = p + i + 1;
  *vlen = len;
  p[i + 1 + len] = 0;
  *used = i + 2 + len;
  return 1;
}

static void request(char *p, size_t n) {
  static struct field *fields;
  static int cap;
  struct req r = {fields, 0};
  int too_many = 0;
  while (n) {
    char *k, *v;
    size_t kl, vl, u1, u2;
    if (netstring(p, n, &u1, &k, &kl) != 1 || netstring(p + u1, n - u1, &u2, &v, &vl) != 1) die("a malformed request");
    p += u1 + u2;
    n -= u1 + u2;
    if (r.n == MAX_FIELDS) {
      too_many = 1;
      continue;
    }
    if (r.n == cap) {
      cap = cap ? cap * 2 : 256;
      r.f = fields = xrealloc(fields, sizeof *fields * (size_t)cap);
    }
    fields[r.n++] = (struct field){k, v, kl, vl};
  }
  const char *op = get(&r, "op");
  if (!op) die("a request without an op");
  /* the startd holds such a job itself; the id comes first, so it is known here */
  if (too_many && !strcmp(op, "start") && get(&r, "id")) reply_failed(get(&r, "id"), 6, 0, "The job has too many arguments or environment variables");
  else if (too_many) warn("a %s request with too many fields", op);
  else if (!strcmp(op, "start")) start(&r);
  else if (!strcmp(op, "signal")) signal_job(&r);
  else if (!strcmp(op, "journaled")) journaled(&r);
  else warn("unknown request %s", op);
}

/*
 * The startd (or the keeper) is gone: nobody can report on the jobs, so they go too. What has ended is journaled;
 * the rest is killed and reaped here, so that a job that ends meanwhile by itself is journaled as well and
 * nothing is left for init to reap unseen.
 */
static void orphaned(int sfd) {
  reap();
  for (struct job *j = jobs; j; j = j->next) {
    if (j->ended) continue;
    j->doomed = 1;
    family_kill_round(&j->fam, j->pid, 1);
  }
  for (int64_t until = now_ms() + KILL_TIMEOUT_MS;;) {
    reap();
    int waiting = 0;
    for (struct job *j = jobs; j && !waiting; j = j->next) waiting = !j->ended;
    if (!waiting || now_ms() >= until) break;
    struct pollfd p = {sfd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
    }
  }
  exit(0);
}

/*
 * The keeper: the startd's child, the spawner's parent, a subreaper for everything below. Until the spawner
 * ends it only reaps what jobs left behind (their families are the spawner's to kill). Then it adopts what the
 * spawner left: a job that ended unreaped, a job dying of its spawner's death (PR_SET_PDEATHSIG), what they
 * left. It kills what still runs, reaps it all (bounded), journals every end it reaped (fsynced), and only
 * then exits, as its spawner did: the startd reads the journal once it sees this process gone.
 */
static void keep(pid_t spawner) {
  int st = 0;
  for (;;) {
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) die("waitpid: %s", strerror(errno));
    if (p == spawner) break;
  }
  struct buf lines = {0};
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (int64_t until = now_ms() + KILL_TIMEOUT_MS;;) {
    int cst;
    pid_t p;
    while ((p = waitpid(-1, &cst, WNOHANG)) > 0) {
      buf_fmt(&lines, "{\"adopted\":%d", (int)p);
      if (WIFSIGNALED(cst)) buf_fmt(&lines, ",\"exitCode\":0,\"signal\":%d", WTERMSIG(cst));
      else buf_fmt(&lines, ",\"exitCode\":%d", WEXITSTATUS(cst));
      buf_fmt(&lines, ",\"time\":%lld}\n", (long long)time(NULL));
    }
    if (p < 0 && errno == ECHILD) break;
    if (now_ms() >= until) {
      warn("processes of jobs survived SIGKILL");
      break;
    }
    /* its children now: what the dead spawner's jobs left running */
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      pid_t pid;
      char path[64];
      struct buf stat = {0};
      if (!isdigit((unsigned char)e->d_name[0]) || parse_pid(e->d_name, &pid)) continue;
      snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
      char *rp;
      int ppid;
      if (read_file(path, &stat, 8192) == 0 && stat.p && (rp = strrchr(stat.p, ')')) && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == keeper)
        kill(pid, SIGKILL);
      free(stat.p);
    }
    if (d) closedir(d);
    struct timespec wait = {0, 20 * 1000 * 1000};
    sigtimedwait(&chld, NULL, &wait);
  }
  int fd = *journal_path ? open(journal_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW) : -1;
  if (fd >= 0 && lines.len && (write_all(fd, lines.p, lines.len) || fsync(fd))) warn("cannot journal job exits in %s: %s", journal_path, strerror(errno));
  if (fd >= 0) close(fd);
  free(lines.p);
  /* the startd learns how its spawner ended */
  if (WIFSIGNALED(st)) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    signal(WTERMSIG(st), SIG_DFL);
    raise(WTERMSIG(st));
  }
  exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
}

int main(int argc, char **argv) {
  /* the package's install asks whether this build runs here (this CPU, this C library) */
  if (argc == 2 && !strcmp(argv[1], "--check")) return 0;
  keeper = getpid();
  if (argc > 2) die("usage: dsched-spawner [run directory]");
  int ng = getgroups(0, NULL);
  if (ng < 0) die("getgroups: %s", strerror(errno));
  root_groups = xmalloc(sizeof *root_groups * (size_t)(ng + 1));
  n_root_groups = getgroups(ng, root_groups);
  if (n_root_groups < 0) die("getgroups: %s", strerror(errno));
  /* nothing the startd left open reaches a job (what this process opens is close-on-exec) */
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
#endif
    for (int fd = 3; fd < 1024; fd++) close(fd);
  if (argc == 2 && snprintf(journal_path, sizeof journal_path, "%s/spawner-%d.exits", argv[1], (int)keeper) >= (int)sizeof journal_path)
    die("run directory path too long");
  signal(SIGPIPE, SIG_IGN);
  /* It ends with its startd (the end of its input), not with the signals a batch system or a terminal sends a
     whole process group: Slurm's SIGTERM to a pilot would otherwise take the jobs down before the startd
     has put them back in the queue. */
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, KEEPER_GONE);
  if (sigprocmask(SIG_BLOCK, &chld, NULL)) die("sigprocmask: %s", strerror(errno));
  if (chdir("/")) die("chdir /: %s", strerror(errno));
  /* without it (an old kernel), a job that ends just as its spawner is killed may be run again */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) warn("cannot be a child subreaper: %s", strerror(errno));
  self = fork();
  if (self < 0) die("fork: %s", strerror(errno));
  if (self > 0) {
    /* the keeper holds no end of the startd's pipes: the spawner's death closes them */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0) die("cannot close the pipes: %s", strerror(errno));
    close(null);
    prctl(PR_SET_NAME, "dsched-keeper");
    keep(self);
  }
  self = getpid();
  /* a keeper killed takes its spawner down the orderly way (orphaned), so that nothing ends with no one above */
  if (prctl(PR_SET_PDEATHSIG, KEEPER_GONE) < 0) die("prctl: %s", strerror(errno));
  if (getppid() != keeper) exit(0);
  if (*journal_path) {
    journal_fd = open(journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (journal_fd < 0) die("cannot open %s: %s", journal_path, strerror(errno));
  }
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd: %s", strerror(errno));
  for (int fd = 0; fd < 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl: %s", strerror(errno));
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) die("fcntl: %s", strerror(errno));
  }

  struct buf in = {0};
  int eof = 0;
  for (;;) {
    int64_t next = kill_rounds();
    int timeout = next < 0 ? -1 : (int)(next - now_ms() > 0 ? next - now_ms() : 0);
    struct pollfd p[3] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}, {STDOUT_FILENO, out.len ? POLLOUT : 0, 0}};
    if (poll(p, 3, timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    int gone = 0;
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) gone |= si.ssi_signo == KEEPER_GONE && getppid() != keeper;
    }
    reap(); /* every turn: an end is journaled before anything else is done */
    if (p[2].revents & (POLLERR | POLLHUP)) out_broken = 1;
    if (p[2].revents & POLLOUT) flush_out();
    if (p[1].revents) {
      char tmp[65536];
      for (;;) {
        ssize_t r = read(STDIN_FILENO, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) {
          eof = 1;
          break;
        }
        if (in.len + (size_t)r > MAX_FRAME + 64) die("a request longer than %u bytes", MAX_FRAME);
        buf_add(&in, tmp, (size_t)r);
        /* every complete request, in order */
        size_t at = 0;
        for (;;) {
          char *v;
          size_t vl, used;
          int got = netstring(in.p + at, in.len - at, &used, &v, &vl);
          if (got < 0) die("a malformed request");
          if (!got) break;
          request(v, vl);
          at += used;
          reap();
        }
        memmove(in.p, in.p + at, in.len - at);
        in.len -= at;
      }
    }
    flush_out();
    if (eof || out_broken || gone) orphaned(sfd);
  }
}

/*
 * dsched-clean-exec: runs PROGRAM with ARGS in a session keyring of its own and with no file descriptor but
 * stdin, stdout and stderr, for what root's daemons start: `dsched start` starts the master through it, and the
 * schedd the MAIL command, and a DAG's PRE and POST scripts and the `rm -rf` of a stale challenge with `--as`
 * their owner's ids (the new keyring is made after the switch, so it is the owner's; done here rather than by
 * node's spawn, which would exec this program as the owner, who may not reach it where root installed dsched).
 *
 * Node can do neither itself. A session keyring is kept across setuid and exec, and whoever has it holds every
 * key in it with the possessor's rights: the one of the root login `dsched start` ran in holds the admin's keys
 * (a Kerberos cache `KEYRING:session`, AFS tokens), and one a DAG script shares with the schedd and every other
 * user's scripts holds the keys each of them puts there. A descriptor `dsched start` was given without
 * close-on-exec (a shell's redirection, a pipe of a wrapper) was passed on by each daemon to what it started.
 * A kernel without keys (ENOSYS) or a seccomp filter that refuses keyctl (EPERM) goes without a keyring of its
 * own, as the spawner's jobs do; a new session keyring may pass its owner's key quota, so the owner cannot
 * make this fail.
 *
 * Usage: dsched-clean-exec [--as UID:GID:GROUP,...] PROGRAM [ARGS...]   (PROGRAM is a path: no PATH search)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_GROUPS 1024

static int fail(const char *what) {
  fprintf(stderr, "dsched-clean-exec: %s: %s\n", what, strerror(errno));
  return 127;
}

/* The next id of "UID:GID:G1,G2": a decimal number ending at `end` (':' or ','), or -1 */
static long long next_id(const char **p, const char *ends) {
  char *e;
  errno = 0;
  if (**p < '0' || **p > '9') return -1;
  unsigned long long v = strtoull(*p, &e, 10);
  if (errno || v >= (unsigned long long)(uid_t)-1 || (*e && !strchr(ends, *e))) return -1;
  *p = *e ? e + 1 : e;
  return (long long)v;
}

/* Become UID with GID and the groups listed; 0 or -1 (errno set, EINVAL for a malformed list) */
static int become(const char *ids) {
  static gid_t groups[MAX_GROUPS];
  size_t n = 0;
  long long uid = next_id(&ids, ":"), gid = uid < 0 ? -1 : next_id(&ids, ":");
  while (gid >= 0 && *ids && n < MAX_GROUPS) {
    long long g = next_id(&ids, ",");
    if (g < 0) break;
    groups[n++] = (gid_t)g;
  }
  if (uid < 0 || gid < 0 || *ids) return errno = EINVAL, -1;
  if (n ? setgroups(n, groups) : setgroups(1, (gid_t[]){(gid_t)gid})) return -1;
  if (setgid((gid_t)gid) || setuid((uid_t)uid)) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--check") == 0) return 0;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--as") == 0) {
    if (become(argv[2])) return fail("--as");
    first = 3;
  }
  if (argc <= first) {
    fputs("usage: dsched-clean-exec [--as UID:GID:GROUP,...] PROGRAM [ARGS...]\n", stderr);
    return 127;
  }
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (char *)NULL) < 0 && errno != ENOSYS && errno != EPERM)
    return fail("a session keyring of its own");
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
#endif
  {
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 ? max : 1024); fd++) close((int)fd);
  }
  execv(argv[first], argv + first);
  return fail(argv[first]);
}

/*
 * The first process of a container job (the container launcher, container-launcher.ts). Podman runs as root,
 * so the job's files cannot be opened by podman: this program, mounted read-only into the container and
 * run as the job's owner with no capabilities, enters the job's directory and opens its stdin, stdout and
 * stderr with the owner's rights (new files are the owner's, and the kernel decides what the owner may
 * open), then starts the job as its own process group, passes on the signals podman proxies to it, reaps
 * what the job leaves (it is the container's pid 1) and exits with the job's status: its exit code, or 128
 * plus the signal that killed it. Static: the image need not have a C library.
 *
 * Usage: dsched-container-init CWD STDIN STDOUT STDERR EXE [ARG...]
 *        dsched-container-init --check   (exits 0: the startd's test that containers run, and a job's first step)
 * A job that cannot start prints one line "dsched-container-init: hold CODE: MESSAGE" on stderr (podman's
 * own stderr, which the startd reads) and exits 125, podman's exit code for "the container did not run".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOT_RUN 125

static void hold(int code, const char *what, const char *path, int err) {
  fprintf(stderr, "dsched-container-init: hold %d: %s '%s': %s\n", code, what, path, strerror(err));
  exit(NOT_RUN);
}

static int open_file(const char *path, int write) {
  int fd = open(path, (write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY) | O_NOCTTY | O_CLOEXEC, 0644);
  return fd;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--check")) return 0;
  if (argc < 6) {
    fprintf(stderr, "dsched-container-init: hold 6: usage: %s CWD STDIN STDOUT STDERR EXE [ARG...]\n", argv[0]);
    return NOT_RUN;
  }
  const char *cwd = argv[1], *in = argv[2], *out = argv[3], *err = argv[4];
  /* HTCondor's hold codes, as the process launcher gives them: 14 the directory, 8 stdin, 7 stdout/stderr */
  if (chdir(cwd)) hold(14, "Failed to change to initial directory", cwd, errno);
  int fds[3];
  if ((fds[0] = open_file(in, 0)) < 0) hold(8, "Failed to open as standard input", in, errno);
  if ((fds[1] = open_file(out, 1)) < 0) hold(7, "Failed to open as standard output", out, errno);
  if (!strcmp(out, err) && strcmp(out, "/dev/null")) fds[2] = dup(fds[1]);
  else fds[2] = open_file(err, 1);
  if (fds[2] < 0) hold(7, "Failed to open as standard error", err, errno);

  /* every signal podman passes on goes to the job; SIGCHLD tells of ends */
  static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH, SIGPIPE};
  sigset_t set, old;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);

  int report[2];
  if (pipe2(report, O_CLOEXEC)) hold(6, "Failed to execute", argv[5], errno);
  pid_t pid = fork();
  if (pid < 0) hold(6, "Failed to execute", argv[5], errno);
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    setpgid(0, 0);
    int e = 0;
    for (int i = 0; i < 3 && !e; i++)
      if (dup2(fds[i], i) < 0) e = errno;
    if (!e) {
      execvp(argv[5], argv + 5);
      e = errno;
    }
    while (write(report[1], &e, sizeof e) < 0 && errno == EINTR) {
    }
    _exit(127);
  }
  close(report[1]);
  for (int i = 0; i < 3; i++) close(fds[i]);
  int e = 0;
  ssize_t got;
  while ((got = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (got == (ssize_t)sizeof e) {
    waitpid(pid, NULL, 0);
    hold(6, "Failed to execute", argv[5], e);
  }
  close(report[0]);

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(-pid, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
      if (p == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

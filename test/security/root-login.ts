// A root login's session keyring with a key of the admin's in it (as pam_keyinit makes one for ssh, su, sudo),
// and `dsched start` run there: what the security tests of keyrings start their pool from.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, TestPool } from '../integration/harness/pool.js';
import { NOBODY, nobodyFolder } from './nobody.js';

/** The python the keyring scripts run with, by its path: a job's or a DAG script's PATH, and the user
 *  (nobody) it runs as, need not reach a python of root's (pyenv's shims under /root). */
export const PYTHON = '/usr/bin/python3';

/** Why the keyring tests cannot run here, if they cannot: they need x86-64 or aarch64, and PYTHON. */
export const keyringsUntestable =
  (!['x64', 'arm64'].includes(process.arch) && 'the system call numbers below are those of x86-64 and aarch64') ||
  (!existsSync(PYTHON) && `${PYTHON} is not installed`);

/** Why the keyring tests are skipped here, if they are (they also need root, to run a pool and act as nobody). */
export const keyringTestsSkip =
  (process.getuid?.() !== 0 && 'needs root to run a pool and act as another user') || keyringsUntestable;

/** The descriptor a root login gives `dsched`, of a file only root may read (a high one, as `exec 200<file` makes). */
export const LOGIN_FD = 200;

/** keyctl(2) and add_key(2) through python's ctypes (x86-64 and aarch64 numbers): no keyutils needed. */
export const KEYS_PY = `
import ctypes, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_keyctl = {'x86_64': (248, 250), 'aarch64': (217, 219)}[platform.machine()]
SESSION = -3
def keyctl(*a):
    r = libc.syscall(SYS_keyctl, *a)
    if r < 0: raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
def read_key(desc):
    try:
        k = keyctl(10, SESSION, b"user", desc, 0)  # KEYCTL_SEARCH
        buf = ctypes.create_string_buffer(256)
        n = keyctl(11, k, buf, 256)  # KEYCTL_READ
        return "read " + buf.raw[:n].decode()
    except OSError as e:
        return "refused " + e.strerror
`;

/**
 * The login script: a new session keyring holding the user key `admin-key` = argv[1], `open.path` open (read
 * only, inheritable) on descriptor `open.fd` if given, then exec of argv[2:]. Returns its path.
 */
function loginScript(pool: TestPool, open?: { fd: number; path: string }): string {
  const login = join(pool.work, 'login.py');
  writeFileSync(
    login,
    `${KEYS_PY}
keyctl(1, None)  # KEYCTL_JOIN_SESSION_KEYRING: a new one, anonymous
k = libc.syscall(SYS_add_key, b"user", b"admin-key", sys.argv[1].encode(), len(sys.argv[1]), SESSION)
if k < 0: sys.exit("add_key: " + os.strerror(ctypes.get_errno()))
${open ? `os.dup2(os.open(${JSON.stringify(open.path)}, os.O_RDONLY), ${open.fd}, inheritable=True)` : ''}
os.execv(sys.argv[2], sys.argv[2:])
`,
  );
  return login;
}

/**
 * `dsched start` of `pool` from a new session keyring holding the user key `admin-key` = `secret`, with
 * `open.path` open (read only, inheritable) on descriptor `open.fd` if given.
 */
export async function startFromRootLogin(
  pool: TestPool,
  secret: string,
  open?: { fd: number; path: string },
): Promise<void> {
  const login = loginScript(pool, open);
  await new Promise<void>((resolve, reject) =>
    execFile(
      PYTHON,
      [login, secret, process.execPath, join(DIST, 'cli', 'dsched.js'), 'start'],
      { env: pool.env, cwd: pool.work },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}${stdout}`)) : resolve()),
    ),
  );
}

/**
 * `dsched DAEMON` (in the foreground) of `pool` from such a login: the process, its output in the pool's log
 * folder. The caller stops it (SIGTERM).
 */
export function foregroundFromRootLogin(
  pool: TestPool,
  daemon: string,
  secret: string,
  open?: { fd: number; path: string },
): ChildProcess {
  const login = loginScript(pool, open);
  mkdirSync(join(pool.home, 'log'), { recursive: true });
  const out = openSync(join(pool.home, 'log', `${daemon}.foreground.out`), 'a');
  const child = spawn(PYTHON, [login, secret, process.execPath, join(DIST, 'cli', 'dsched.js'), daemon], {
    env: pool.env,
    cwd: pool.work,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

/**
 * What the pool's MAIL command (a fake one, writing `mail.txt` in the pool's work folder) wrote for a job of
 * nobody's that asks for mail, once it has.
 */
export async function mailOfNobodysJob(pool: TestPool): Promise<string> {
  const { dir, put } = nobodyFolder(pool.work, 'mailer');
  const sub = put('mail.sub', 'executable = /bin/true\nnotification = Always\nnotify_user = me@example.org\nqueue\n');
  const r = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  await pool.waitForHistory(Number(/cluster (\d+)/.exec(r.stdout)![1]), 1);
  // the mail is sent once the job's end is recorded, by a command of its own
  return pool.waitFor('the mail of the job', () =>
    pool.exists('mail.txt') && pool.read('mail.txt').endsWith('\n') ? pool.read('mail.txt') : undefined,
  );
}

/**
 * A pool home (not started) whose MAIL command, a fake one (the external edge), writes into `mail.txt` of the
 * work folder what its session keyring (`key …`) and descriptor LOGIN_FD (`fd …`) give it; `rootOnly` is a
 * file only root may read, holding `fileSecret`, and `secret` the admin's key for the login to hold.
 */
export function poolWithFakeMail(): { pool: TestPool; secret: string; fileSecret: string; rootOnly: string } {
  const pool = TestPool.create();
  const secret = randomBytes(12).toString('hex');
  const fileSecret = randomBytes(12).toString('hex');
  const mail = pool.file(
    'fake-mail.py',
    `#!${PYTHON}
${KEYS_PY}
sys.stdin.read()
try:
    fd = "read " + os.read(${LOGIN_FD}, 64).decode()
except OSError as e:
    fd = "refused " + e.strerror
open(os.path.join(os.path.dirname(sys.argv[0]), "mail.txt"), "a").write("key " + read_key(b"admin-key") + "\\nfd " + fd + "\\n")
`,
    0o755,
  );
  writeFileSync(join(pool.home, 'config'), `MAIL = ${mail}\n`, { flag: 'a' });
  return { pool, secret, fileSecret, rootOnly: pool.file('root-only.txt', fileSecret, 0o600) };
}

// A root login's session keyring with a key of the admin's in it (as pam_keyinit makes one for ssh, su, sudo),
// and `dsched start` run there: what the security tests of keyrings start their pool from.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, type TestPool } from '../integration/harness/pool.js';

/** The python the keyring scripts run with, by its path: a job's or a DAG script's PATH, and the user
 *  (nobody) it runs as, need not reach a python of root's (pyenv's shims under /root). */
export const PYTHON = '/usr/bin/python3';

/** Why the keyring tests cannot run here, if they cannot: they need x86-64 or aarch64, and PYTHON. */
export const keyringsUntestable =
  (!['x64', 'arm64'].includes(process.arch) && 'the system call numbers below are those of x86-64 and aarch64') ||
  (!existsSync(PYTHON) && `${PYTHON} is not installed`);

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
 * `dsched start` of `pool` from a new session keyring holding the user key `admin-key` = `secret`, with
 * `open.path` open (read only, inheritable) on descriptor `open.fd` if given.
 */
export async function startFromRootLogin(
  pool: TestPool,
  secret: string,
  open?: { fd: number; path: string },
): Promise<void> {
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
  await new Promise<void>((resolve, reject) =>
    execFile(
      PYTHON,
      [login, secret, process.execPath, join(DIST, 'cli', 'dsched.js'), 'start'],
      { env: pool.env, cwd: pool.work },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}${stdout}`)) : resolve()),
    ),
  );
}

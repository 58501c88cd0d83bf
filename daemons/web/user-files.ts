// Files a job names (its output, its event log, a DAG and its rescue files), read for the HTTP caller with the
// caller's rights: the web daemon runs as root, so it takes the caller's effective ids for each read (as the
// schedd does for job files) and the kernel decides, links and groups included. A request can read exactly
// the files its user could `cat`. Without root the daemon can act only as itself, so only its own user may read.
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { asUser } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import { runAsOwner } from '../../lib/users.js';
import { readBoundedFile } from '../../lib/bounded-read.js';
import { UserLogFollower } from '../../lib/user-log/file.js';
import type { UserLogEvent } from '../../lib/user-log/events.js';

/** Run the synchronous `fn` as `user` (see lib/as-user.ts). */
export function asCaller<T>(user: string, fn: () => T): T {
  if (process.getuid?.() !== 0 && user !== userInfo().username)
    throw new DschedError(
      'PERMISSION_DENIED',
      `this web daemon runs as ${userInfo().username} and cannot read files as ${user}`,
    );
  try {
    return asUser(runAsOwner(user), fn);
  } catch (e) {
    if (e instanceof DschedError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new DschedError('JOB_NOT_FOUND', `no such file: ${(e as NodeJS.ErrnoException).path ?? ''}`, {
        hint: 'it may not have been written yet',
      });
    if (code === 'EACCES' || code === 'EPERM')
      throw new DschedError(
        'PERMISSION_DENIED',
        `${user} may not read ${(e as NodeJS.ErrnoException).path ?? 'that file'}`,
      );
    throw new DschedError('INTERNAL', `cannot read the file: ${code ?? (e as Error).message}`);
  }
}

/** A job file name as the job's ad has it, made absolute against the job's initial directory. */
export function jobPath(iwd: unknown, name: unknown): string | undefined {
  if (typeof name !== 'string' || !name || name === '/dev/null') return undefined;
  if (isAbsolute(name)) return name;
  return typeof iwd === 'string' && isAbsolute(iwd) ? resolve(iwd, name) : undefined;
}

export interface Tail {
  path: string;
  size: number;
  offset: number;
  text: string;
}

/** The last `max` bytes of a file (or from `from`), read as `user`; no link is followed at the last step. */
export function tailFile(user: string, path: string, max: number, from?: number): Tail {
  const fd = asCaller(user, () => openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DschedError('USAGE', `${path} is not a regular file`);
    const offset =
      from !== undefined && from >= 0 && from <= st.size ? Math.max(from, st.size - max) : Math.max(0, st.size - max);
    const len = Math.min(max, st.size - offset);
    const buf = Buffer.alloc(len);
    const n = len ? readSync(fd, buf, 0, len, offset) : 0;
    return { path, size: st.size, offset, text: buf.subarray(0, n).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

const MAX_LOG = 64 << 20;

/** What one turn of the daemon reads of a log: a few ms of parsing, and strings small enough to die young. */
const LOG_SLICE = 64 << 10;
/** The events an answer shows: the job's last ones. */
const MAX_EVENTS = 500;

/**
 * The last events of one job (or all of a cluster's, proc < 0) in its event log, read as `user` a slice at a
 * time, other requests served between slices. Only those events are kept: a log of 64 MiB holds 800,000 events
 * (of any jobs: a DAG's log is shared), and parsed whole in one turn it took 500 MB and 16 s of the daemon, in
 * which it answered no one.
 */
export async function jobEvents(user: string, path: string, cluster: number, proc: number): Promise<UserLogEvent[]> {
  // a missing log is an error here, not an empty one
  asCaller(user, () => statSync(path));
  // a huge one is not read: its size is the opened file's (one swapped in after a look by its path would be
  // read whole)
  const log = new UserLogFollower(path, {
    maxSize: MAX_LOG,
    tooLarge: (size) =>
      `${path} is ${size} bytes; logs over ${MAX_LOG} are not read here (dwait and the file itself are)`,
  });
  const kept: UserLogEvent[] = [];
  // enough slices for the largest log read once; a file replaced meanwhile is read again from its start
  for (let i = 0; i <= MAX_LOG / LOG_SLICE; i++) {
    const before = log.bytesRead;
    for (const e of asCaller(user, () => log.read(LOG_SLICE)))
      if (e.cluster === cluster && (proc < 0 || e.proc === proc)) kept.push(e);
    if (kept.length > 2 * MAX_EVENTS) kept.splice(0, kept.length - MAX_EVENTS);
    if (log.bytesRead === before) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return kept.slice(-MAX_EVENTS);
}

/** A text file read whole as `user`, refused past `max` bytes. */
export function readText(user: string, path: string, max = 4 << 20): string {
  // a FIFO or a device named there must not stop the web daemon: a regular file only, read without blocking
  return asCaller(user, () => readBoundedFile(path, max, 'the file', 'INPUT_TOO_LARGE'));
}

/** The rescue DAGs DAGMan wrote beside a DAG file (`x.dag.rescue001`, …), newest last, listed as `user`. */
export function rescueFiles(user: string, dagFile: string): string[] {
  const dir = dirname(dagFile);
  const prefix = `${basename(dagFile)}.rescue`;
  return asCaller(user, () => readdirSync(dir))
    .filter((n) => n.startsWith(prefix) && /^\d{3}$/.test(n.slice(prefix.length)))
    .sort()
    .map((n) => join(dir, n));
}

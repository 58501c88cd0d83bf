// Doing file work for a job with its owner's rights. A daemon running as root that opens, creates or reads a
// file a user named must let the kernel decide as that user: every permission bit, every directory on the
// way, every symbolic link, and the owner of what is created. Checking permissions first and then acting as
// root is a race (the path can change between the two) and gets group and ACL rules subtly wrong, so instead
// the daemon takes the user's effective ids for the moment of the system call, as HTCondor's set_user_priv().
//
// glibc applies seteuid/setegid/setgroups to every thread of the process, so nothing asynchronous may run in
// between: `fn` must be synchronous (no await, no callbacks that run later). The pattern is to open file
// descriptors inside and do the slow reads and writes outside, with the descriptors.
import { closeSync, constants as fsc, fchmodSync, fstatSync, ftruncateSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DschedError } from './errors.js';

/** The credentials a job's files are handled with (runAsOwner in users.ts gives them for an owner's name). */
export interface Owner {
  uid: number;
  gid: number;
  /** supplementary groups (the primary one included); none given: the primary group only */
  groups?: number[];
  /** the job's umask (lib/umask.ts): what a file created for the owner is made under */
  umask?: number;
}

let current: Owner | undefined;

/**
 * Run the synchronous `fn` with `owner`'s effective uid, gid and groups, then return to root whatever
 * happens. Without an owner (not root, or a root job) `fn` runs as the daemon itself.
 */
export function asUser<T>(owner: Owner | undefined, fn: () => T): T {
  if (!owner) return fn();
  if (current) {
    if (current.uid === owner.uid && current.gid === owner.gid) return fn();
    throw new Error(`asUser: already acting as uid ${current.uid}, cannot act as uid ${owner.uid}`);
  }
  const saved = process.getgroups!();
  process.setgroups!(owner.groups ?? [owner.gid]);
  try {
    process.setegid!(owner.gid);
    try {
      process.seteuid!(owner.uid);
      current = owner;
      try {
        const out = fn();
        if (out instanceof Promise) throw new Error('asUser: the function must be synchronous');
        return out;
      } finally {
        current = undefined;
        restore(() => process.seteuid!(0));
      }
    } finally {
      restore(() => process.setegid!(0));
    }
  } finally {
    restore(() => process.setgroups!(saved));
  }
}

/** Going back to root must not fail; if it does, going on with someone else's rights is worse than stopping. */
function restore(step: () => void): void {
  try {
    step();
  } catch (e) {
    process.stderr.write(`fatal: cannot return to the daemon's own credentials: ${(e as Error).message}\n`);
    process.abort();
  }
}

/** openSync as `owner` (see asUser); the descriptor is then used with the daemon's own rights. */
export function openAs(owner: Owner | undefined, path: string, flags: string | number, mode?: number): number {
  return asUser(owner, () => openSync(path, flags, mode));
}

/** How openFileAs opens: to read, to append (created if missing), or to write afresh. */
const OPEN_FLAGS = {
  read: fsc.O_RDONLY,
  append: fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT,
  write: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC,
} as const;

/**
 * Whether root, writing a file for itself (a root job's event log, output, DAG files), writes it in a folder
 * another user may write or owns: there that user may have placed the name before root first writes it (a
 * link to /etc/passwd, a hard link to a file of root's, a file of their own to be handed root's output), and
 * the kernel's fs.protected_* settings, which refuse some of that in sticky folders only, may be off.
 */
export function rootInSharedFolder(owner: Owner | undefined, path: string, how: keyof typeof OPEN_FLAGS): boolean {
  if (owner || how === 'read' || process.geteuid?.() !== 0) return false;
  try {
    const dir = statSync(dirname(path));
    return dir.uid !== 0 || (dir.mode & 0o022) !== 0;
  } catch {
    return false; // no folder: the open fails as it would have
  }
}

/**
 * openAs for a file a user names that a daemon reads or writes for them (an event log, a DAG's output): a
 * regular file only, opened without blocking. A daemon serves every user, and a FIFO named there would stop
 * it (the open waits for the other end, a write for room); a device would take or give without end. Root
 * writing for itself in a folder others may write (rootInSharedFolder) follows no link there and writes only
 * a file it makes or one of its own with no other name.
 */
export function openFileAs(
  owner: Owner | undefined,
  path: string,
  how: keyof typeof OPEN_FLAGS,
  mode?: number,
): number {
  const notRegular = () => Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
  const shared = rootInSharedFolder(owner, path, how);
  const notRoots = () =>
    new DschedError(
      'JOB_FILE_REFUSED',
      `${path} is a link, or a file of another user's or with another name, in a folder others may write: root does not write it`,
      { hint: "remove it, or name a file in a folder of root's alone" },
    );
  // shared: truncated only once it is known to be root's own (a hard link to a file of root's is not)
  const flags = shared
    ? (OPEN_FLAGS[how] & ~fsc.O_TRUNC) | fsc.O_NONBLOCK | fsc.O_NOCTTY | fsc.O_NOFOLLOW
    : OPEN_FLAGS[how] | fsc.O_NONBLOCK | fsc.O_NOCTTY;
  let fd: number;
  let created = false;
  try {
    if ((owner?.umask === undefined && !shared) || how === 'read') fd = openAs(owner, path, flags, mode ?? 0o644);
    else {
      // made for a job: under its umask, whatever the daemon's own (which open would apply instead), so a
      // new file is told apart (O_EXCL) and given its mode exactly; an existing one (most often) keeps its own.
      // Root in a shared folder tells them apart too: one it did not make must be its own
      const existing = () => openAs(owner, path, flags & ~fsc.O_CREAT);
      const fresh = () => {
        const made = openAs(owner, path, flags | fsc.O_EXCL, owner ? 0o600 : (mode ?? 0o644));
        created = true;
        return made;
      };
      const code = (e: unknown) => (e as NodeJS.ErrnoException).code;
      try {
        fd = existing();
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
        try {
          fd = fresh();
        } catch (e2) {
          // made by someone else in between
          if (code(e2) !== 'EEXIST') throw e2;
          fd = existing();
        }
      }
    }
  } catch (e) {
    // ENXIO: a FIFO that nobody reads; ELOOP: a link, where links are not followed
    const c = (e as NodeJS.ErrnoException).code;
    throw c === 'ENXIO' ? notRegular() : c === 'ELOOP' && shared ? notRoots() : e;
  }
  const st = fstatSync(fd);
  if (st.isFile() && (!shared || created || (st.uid === 0 && st.nlink === 1))) {
    if (created && owner?.umask !== undefined) fchmodSync(fd, (mode ?? 0o666) & ~owner.umask & 0o777);
    if (shared && how === 'write') ftruncateSync(fd, 0);
    return fd;
  }
  closeSync(fd);
  throw st.isFile() ? notRoots() : notRegular();
}

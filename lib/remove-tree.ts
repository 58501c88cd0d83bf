// Removing, as root, a tree a user may be changing meanwhile (a job's sandbox: its owner can enter it from a
// login shell while the startd removes it). fs.rmSync's recursion lists a directory by its path and then
// removes each child by `path/child`: a directory swapped for a link to /etc between the two had root remove
// root's files of the same names. Here each directory is opened without following a link and its children are
// reached through that descriptor (`/proc/self/fd/N/child`, openat's effect for node), so whatever is renamed
// or swapped, root removes only what was inside the tree. The spawner removes a sandbox the same way in C.
import { closeSync, constants as fsc, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';

/** Deeper than this is left in place (the spawner's bound): each level holds a descriptor open. */
const MAX_DEPTH = 256;

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Remove `path` and all it holds, never following a symbolic link below it (a link is removed, not what it
 * names). The path itself must lie in directories only root may change. What cannot be removed stays.
 */
export function removeTree(path: string): void {
  removeAt(Buffer.from(path), 0);
}

/** `p` is the entry to remove: the top path, or `/proc/self/fd/PARENT/name` below it. */
function removeAt(p: Buffer, depth: number): void {
  try {
    unlinkSync(p);
    return;
  } catch (e) {
    // EISDIR (Linux) or EPERM (POSIX) for a directory; anything else is left as it is
    if (codeOf(e) !== 'EISDIR' && codeOf(e) !== 'EPERM') return;
  }
  if (depth > MAX_DEPTH) return;
  // a directory that is refilled while it is emptied is emptied again, a few times
  for (let pass = 0; pass < 3; pass++) {
    let fd: number;
    try {
      fd = openSync(p, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
    } catch {
      return; // gone, or swapped for a link or a file since: not ours to follow
    }
    try {
      const here = Buffer.from(`/proc/self/fd/${fd}/`);
      // names as bytes: a name that is not UTF-8 must still be found again
      for (const name of readdirSync(here, { encoding: 'buffer' })) removeAt(Buffer.concat([here, name]), depth + 1);
    } catch {
      /* unreadable: the rmdir below says whether it is gone */
    } finally {
      closeSync(fd);
    }
    try {
      rmdirSync(p);
      return;
    } catch (e) {
      if (codeOf(e) !== 'ENOTEMPTY' && codeOf(e) !== 'EEXIST') return;
    }
  }
}

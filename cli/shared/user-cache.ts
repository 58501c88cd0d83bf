// What a command keeps between runs for the user who runs it (compiled code, a pool token), in
// $XDG_CACHE_HOME/dsched/NAME (else ~/.cache/dsched/NAME). A command runs what it reads from there, or sends
// it to the pool as the user's word, so it is trusted only when this user alone could have written it: the
// home (or cache home), the folder and the file must be ours and writable by no one else (root with another
// user's HOME, as with `sudo -E`, uses none), and a file is never read through a link. Anything unexpected
// means doing without, never failing the command.
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  constants,
} from 'node:fs';
import { join } from 'node:path';

/** The folder `name` of this user's cache, made when missing, or undefined when there is none we can trust. */
export function userCacheDir(name: string): string | undefined {
  const uid = process.geteuid?.();
  if (uid === undefined) return undefined;
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : undefined);
  if (!base || !base.startsWith('/')) return undefined;
  // the home (or cache home) must be this user's: whoever owns it could swap anything below it
  const owner = process.env.XDG_CACHE_HOME ? base : process.env.HOME!;
  if (!ours(owner, uid)) return undefined;
  const dir = join(base, 'dsched', name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return undefined;
  }
  return ours(join(base, 'dsched'), uid) && ours(dir, uid) ? dir : undefined;
}

/** A real folder (no link) owned by uid that no one else may write. */
function ours(path: string, uid: number): boolean {
  try {
    const s = lstatSync(path);
    return s.isDirectory() && s.uid === uid && (s.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** A file of this user's cache (not a link, ours, writable by no one else), or undefined. */
export function readOwnFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile() || s.uid !== process.geteuid!() || (s.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Write a file of this user's cache whole or not at all (a private temporary file renamed). */
export function writeOwnFile(file: string, data: Buffer | string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/** A short tag of a text (FNV-1a), not a secret: node:crypto would cost `--help` its load. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

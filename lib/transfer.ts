// Job file transfer over gRPC streams, one sender and one receiver for both directions: the schedd sends
// a job's input and receives its output, the startd the reverse. Every name on the wire is relative and is
// checked at both ends; every file carries its SHA-256; the receiver writes under a temporary name and
// renames into place, so a broken transfer never leaves a half-written file under the real name. A daemon
// running as root reads and writes a job's files with the owner's rights (as-user.ts), so the kernel decides
// what the owner may read and where it may write, and what is created belongs to the owner.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  openSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
  constants as fsc,
} from 'node:fs';
import { basename, dirname, join, posix, sep } from 'node:path';
import { asUser, openAs, rootInSharedFolder, type Owner } from './as-user.js';
import { DschedError } from './errors.js';
import { splitFileList } from './file-list.js';
import type { FileChunk, FileChunk__Output } from './rpc/generated/dsched/v1/FileChunk.js';

const CHUNK = 256 * 1024;

/**
 * A name on the wire, normalized; refused if it is empty, absolute or climbs out with "..": whatever the
 * other end sends, nothing lands outside the directory it is written to.
 */
export function checkName(name: string, what = 'file name'): string {
  const n = posix.normalize(name.replace(/\/+$/, ''));
  if (
    !name ||
    name.includes('\0') ||
    n.startsWith('/') ||
    n === '.' ||
    n === '..' ||
    n.startsWith('../') ||
    n.split('/').includes('..')
  )
    throw new DschedError(
      'TRANSFER_REFUSED',
      `${what} '${name}' is not a plain relative name inside the job's sandbox (absolute paths and '..' are refused)`,
    );
  return n;
}

/** Whether `path` (already resolved) lies inside `root`. */
export function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The errno text HTCondor puts in its transfer hold reasons. */
export function errnoText(e: unknown): string {
  const c = (e as NodeJS.ErrnoException).code;
  if (c === 'ENOENT') return '(errno 2) No such file or directory';
  if (c === 'EACCES' || c === 'EPERM') return '(errno 13) Permission denied';
  if (c === 'ELOOP') return '(errno 40) Too many levels of symbolic links';
  return (e as Error).message;
}

export interface SendEntry {
  /** where the file or directory is on this host */
  path: string;
  /** the name it has on the wire (and on the other side) */
  name: string;
  /** a file the daemon keeps itself (a spooled checkpoint): read with the daemon's rights, not the owner's */
  daemons?: boolean;
}

export interface SendOptions {
  /** Every file sent must resolve (after symbolic links) inside this directory: a job's sandbox. */
  within?: string;
  /** Read every file and directory with this user's rights. */
  owner?: Owner;
}

type Sink = (chunk: FileChunk) => Promise<void>;

/** Stream files and directories (recursively) into `sink`. */
export async function sendFiles(entries: SendEntry[], sink: Sink, opts: SendOptions = {}): Promise<void> {
  for (const e of entries)
    await sendOne(e.path, checkName(e.name), sink, e.daemons ? { ...opts, owner: undefined } : opts);
}

/** `parent`: the real path of the folder `path` was listed in (undefined for a name the job's ad gives). */
async function sendOne(path: string, name: string, sink: Sink, opts: SendOptions, parent?: string): Promise<void> {
  const { owner } = opts;
  let real: string;
  try {
    real = asUser(owner, () => realpathSync(path));
  } catch (e) {
    throw new DschedError('TRANSFER_FAILED', `reading from file ${path}: ${errnoText(e)}`);
  }
  if (opts.within && !inside(realpathSync(opts.within), real))
    throw new DschedError(
      'TRANSFER_REFUSED',
      `${path} is a link to ${real}, outside the job's sandbox; it is not sent`,
    );
  let fd: number;
  try {
    // as the owner; O_NOFOLLOW: the resolved path must not have been swapped for a link since it was
    // resolved; O_NONBLOCK: a FIFO put in place of a file must not hang the daemon
    fd = openAs(owner, real, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    throw new DschedError('TRANSFER_FAILED', `reading from file ${path}: ${errnoText(e)}`);
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    // a link to a folder inside a folder sent is not followed: one to the folder itself or above made a tree
    // without end (each level twice the last with two such links), which root sent for as long as the path grew
    if (parent !== undefined && real !== join(parent, basename(path)))
      throw new DschedError(
        'TRANSFER_REFUSED',
        `${path} is a link to a folder (${real}); links to folders inside a transferred folder are not followed`,
      );
    await sink({ name, dir: true, mode: st.mode & 0o7777 });
    let children: string[];
    try {
      children = asUser(owner, () => readdirSync(real));
    } catch (e) {
      throw new DschedError('TRANSFER_FAILED', `reading from directory ${path}: ${errnoText(e)}`);
    }
    for (const child of children.sort()) await sendOne(join(path, child), `${name}/${child}`, sink, opts, real);
    return;
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new DschedError('TRANSFER_REFUSED', `${path} is not a regular file or directory`);
  }
  try {
    const hash = createHash('sha256');
    const size = st.size;
    let sent = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      const data = Buffer.from(buf.subarray(0, n));
      hash.update(data);
      sent += n;
      const end = n === 0 || sent >= size;
      await sink({ name, data, mode: st.mode & 0o7777, end, sha256: end ? hash.digest('hex') : '' });
      if (end) break;
    }
  } finally {
    closeSync(fd);
  }
}

export interface ReceiveOptions {
  /** Where a name is written on this host; undefined drops the file (e.g. a stdout nobody asked for). */
  dest: (name: string) => string | undefined;
  /** Create, write and rename every file and directory with this user's rights (so they belong to the user). */
  owner?: Owner;
  /** Create missing parent directories (inside a sandbox the receiver owns). */
  makeParents?: boolean;
  /** At most this many bytes of file data in all; past it the transfer fails (TRANSFER_REFUSED), `knob` named. */
  maxBytes?: { bytes: number; knob: string };
}

/** Receive a stream of chunks; returns the names received. A stream that fails part way throws after it has put every complete file in place. */
export async function receiveFiles(source: AsyncIterable<FileChunk__Output>, opts: ReceiveOptions): Promise<string[]> {
  const { owner } = opts;
  const done: string[] = [];
  let received = 0;
  let cur: { name: string; tmp: string; target: string; fd: number; hash: ReturnType<typeof createHash> } | undefined;
  let skipping: string | undefined;
  const abort = () => {
    if (!cur) return;
    const tmp = cur.tmp;
    closeSync(cur.fd);
    asUser(owner, () => rmSync(tmp, { force: true }));
    cur = undefined;
  };
  try {
    for await (const c of source) {
      const name = checkName(c.name);
      if (c.dir) {
        const target = opts.dest(name);
        if (!target) continue;
        writing(target, () =>
          asUser(owner, () => {
            if (opts.makeParents) mkdirSync(dirname(target), { recursive: true });
            if (!existsDir(target)) mkdirSync(target, { mode: (c.mode & 0o777) | 0o700 });
            else if (rootInSharedFolder(owner, target, 'write') && !rootsOwnFolder(target))
              // its owner could swap it for a link while root writes the files into it (openFileAs's rule)
              throw new DschedError(
                'TRANSFER_REFUSED',
                `${target} is another user's folder (or one others may write) in a folder others may write: root does not write its job's output into it`,
              );
          }),
        );
        done.push(name);
        continue;
      }
      if (skipping === name) {
        if (c.end) skipping = undefined;
        continue;
      }
      if (!cur || cur.name !== name) {
        abort();
        const target = opts.dest(name);
        if (!target) {
          if (!c.end) skipping = name;
          continue;
        }
        const { dir, tmp, fd } = writing(target, () =>
          asUser(owner, () => {
            if (opts.makeParents) mkdirSync(dirname(target), { recursive: true });
            const dir = realpathSync(dirname(target));
            const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
            // O_EXCL + O_NOFOLLOW: never write through a link someone placed under the temporary name
            return { dir, tmp, fd: openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600) };
          }),
        );
        cur = { name, tmp, target: join(dir, basename(target)), fd, hash: createHash('sha256') };
      }
      if (c.data.length) {
        received += c.data.length;
        if (opts.maxBytes && received > opts.maxBytes.bytes)
          throw new DschedError(
            'TRANSFER_REFUSED',
            `the files sent are over ${opts.maxBytes.bytes} bytes (${opts.maxBytes.knob}); ${cur.name} and what follows are not kept`,
          );
        transferBytes.received += c.data.length;
        writeSync(cur.fd, c.data);
        cur.hash.update(c.data);
      }
      if (c.end) {
        const sum = cur.hash.digest('hex');
        if (sum !== c.sha256) {
          const n = cur.name;
          abort();
          throw new DschedError('TRANSFER_FAILED', `${n} arrived damaged (SHA-256 ${sum}, sent ${c.sha256})`);
        }
        fchmodSync(cur.fd, c.mode & 0o777);
        const { tmp, target } = cur;
        writing(target, () =>
          asUser(owner, () => {
            // an existing file the owner may not write is not replaced (as if it were written in place);
            // rename replaces a link at the target itself instead of writing where it points
            if (owner) mayReplace(target);
            renameSync(tmp, target);
          }),
        );
        closeSync(cur.fd);
        done.push(cur.name);
        cur = undefined;
      }
    }
  } finally {
    abort();
  }
  return done;
}

/** Run a step of writing `target`; a failure names the file, as HTCondor's transfer hold reasons do. */
function writing<T>(target: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DschedError) throw e;
    throw new DschedError('TRANSFER_FAILED', `writing to file ${target}: ${errnoText(e)}`);
  }
}

/** Throws EACCES (as open would) when `target` is an existing file the caller may not write. */
function mayReplace(target: string): void {
  try {
    closeSync(openSync(target, fsc.O_WRONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK));
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (c !== 'ENOENT' && c !== 'ELOOP' && c !== 'ENXIO' && c !== 'EISDIR') throw e;
  }
}

/** A folder (not a link) of root's that only root may write. */
function rootsOwnFolder(p: string): boolean {
  const st = lstatSync(p);
  return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0;
}

function existsDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The names a job's standard output and error have in its sandbox when it runs with file transfer. */
/** The job attributes that name input files (executable, stdin, transfer_input_files). */
export const TRANSFER_INPUT_ATTRS = ['Cmd', 'In', 'TransferInput'] as const;

export const STDOUT_NAME = '_condor_stdout';
export const STDERR_NAME = '_condor_stderr';

/** Bytes of file data this process sent over a stream (streamSink) and received (receiveFiles), for its ads. */
export const transferBytes = { sent: 0, received: 0 };

/**
 * A comma- (or newline-) separated file list as transfer_input_files / transfer_output_files give it; a `$$()`
 * reference not yet filled in is one item, whatever commas it holds (lib/file-list.ts).
 */
export function fileList(text: unknown): string[] {
  return typeof text === 'string' ? splitFileList(text, ',\n') : [];
}

/** A sink over a gRPC server stream that waits when the stream's buffer is full. */
export function streamSink(call: {
  write(chunk: FileChunk): boolean;
  once(ev: 'drain', fn: () => void): unknown;
}): (chunk: FileChunk) => Promise<void> {
  return async (chunk) => {
    transferBytes.sent += chunk.data?.length ?? 0;
    if (!call.write(chunk)) await new Promise<void>((r) => call.once('drain', r));
  };
}

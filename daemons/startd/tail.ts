// dtail (HTCondor's condor_tail): a running job's standard output or error, streamed to its owner as it
// grows. Everything here assumes the caller is hostile:
// - who: only the job's owner or an admin (a user token; the table in lib/rpc/authz.ts lets only users in);
// - what: never a path from the caller. The file is the one the job's stdout/stderr was opened as when it
//   started (the spawner reports its device and inode); it is opened again by path with the owner's
//   rights (lib/as-user.ts), without following a final link, and refused unless it is still that very file.
//   A job that replaces its output with a link to /etc/shadow, a /proc file or anything else gets nothing:
//   the kernel refuses the owner what the owner may not read, and what it may read is not the job's file;
// - how much: a read never takes more than max_bytes (at most 1 MiB) from the end of the file, so a huge or
//   sparse file costs nothing; the reader's pace bounds what is buffered; each user has a few streams at most,
//   and when all are taken the user holding the most gives up their oldest to one holding fewer, so no group of
//   users keeps another from reading its own job's output;
// - how long: the stream ends when the job ends (or the caller goes).
import { closeSync, constants, fstatSync, openSync, read } from 'node:fs';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { asUser } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../../lib/rpc/auth.js';
import type { TailRequest__Output } from '../../lib/rpc/generated/dsched/v1/TailRequest.js';
import { runAsOwner } from '../../lib/users.js';
import type { DynamicSlot, Machine } from './slots.js';
import { writePaced } from '../../lib/rpc/write-paced.js';

const readAt = promisify(read);
const DEFAULT_BYTES = 1024; // condor_tail's default
const MAX_BYTES = 1 << 20;
const CHUNK = 64 * 1024;
const POLL_MS = 200;
const PER_USER = 8;
const TOTAL = 64;

type Running = NonNullable<DynamicSlot['job']>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** A stream being served: its user, and how it is cut off for another user's. */
interface Stream {
  user: string;
  cut: boolean;
  wake: () => void;
}

export class JobTail {
  /** the streams being served, oldest first */
  private streams: Stream[] = [];

  constructor(
    private machine: Machine,
    private log: Logger,
  ) {}

  /** The running job the caller names and may read. */
  private find(req: TailRequest__Output, who: Identity): Running {
    const cluster = Number(req.id?.cluster);
    const proc = Number(req.id?.proc);
    if (!Number.isInteger(cluster) || !Number.isInteger(proc) || cluster < 1 || proc < 0)
      throw new DschedError('USAGE', 'dtail needs a job id: cluster.proc');
    const id = `${cluster}.${proc}`;
    const here = [...this.machine.dslots.values()].filter(
      (d) => d.job?.cluster === cluster && d.job.proc === proc && (!req.schedd || d.schedd === req.schedd),
    );
    if (!here.length) throw new DschedError('JOB_STATE', `job ${id} is not running on ${this.machine.name}`);
    const mine = here.filter((d) => who.admin || d.job!.owner === who.name);
    if (!mine.length)
      throw new DschedError(
        'PERMISSION_DENIED',
        `only the owner of job ${id} or an admin may read its output, not ${who.name}`,
      );
    if (mine.length > 1) throw new DschedError('USAGE', `more than one schedd runs a job ${id} here: name the schedd`);
    return mine[0]!.job!;
  }

  async stream(
    req: TailRequest__Output,
    call: grpc.ServerWritableStream<unknown, unknown>,
    who: Identity,
  ): Promise<void> {
    if (who.kind !== 'user') throw new DschedError('PERMISSION_DENIED', 'dtail is for users');
    const job = this.find(req, who);
    const id = `${job.cluster}.${job.proc}`;
    const maxBytes = Math.min(MAX_BYTES, Math.max(1, Number(req.max_bytes) || DEFAULT_BYTES));
    const me = this.admit(who.name);
    const cutOff = new Promise<void>((r) => (me.wake = r));
    let ended = false;
    void job.started.done.then(() => (ended = true));
    const gone = () => call.cancelled || call.destroyed || me.cut;
    let fd: number | undefined;
    try {
      // a job whose input files are still arriving has no output yet
      while (!job.started.running && !ended && !gone()) await Promise.race([sleep(POLL_MS), cutOff]);
      if (me.cut) throw this.cutError();
      if (gone()) return;
      if (!job.started.running) throw new DschedError('JOB_STATE', `job ${id} ended before it started`);
      fd = this.open(job, req.stderr, id);
      this.log.info(
        { cluster: job.cluster, proc: job.proc, user: who.name, stderr: req.stderr, follow: req.follow },
        "dtail: streaming the job's output",
      );
      let pos = -1;
      for (;;) {
        // the job's end first, then one last read: everything it wrote is in the file by then
        const last = ended || !req.follow;
        const size = Number(fstatSync(fd).size);
        const chunk: { skipped: number; truncated: boolean } = { skipped: 0, truncated: false };
        if (pos < 0) pos = Math.max(0, size - maxBytes);
        else if (size < pos) {
          chunk.truncated = true;
          pos = Math.max(0, size - maxBytes);
        } else if (size - pos > maxBytes) {
          chunk.skipped = size - maxBytes - pos;
          pos = size - maxBytes;
        }
        let first = true;
        while (pos < size && !gone()) {
          const buf = Buffer.alloc(Math.min(CHUNK, size - pos));
          const { bytesRead } = await readAt(fd, buf, 0, buf.length, pos);
          if (!bytesRead) break;
          pos += bytesRead;
          // a reader that does not read holds its stream until it is cut off
          await Promise.race([writePaced(call, { data: buf.subarray(0, bytesRead), ...(first ? chunk : {}) }), cutOff]);
          first = false;
        }
        if (first && chunk.truncated) await writePaced(call, { data: Buffer.alloc(0), ...chunk });
        if (last || gone()) break;
        await Promise.race([sleep(POLL_MS), job.started.done, cutOff]);
      }
      if (me.cut) throw this.cutError();
      if (!gone()) call.end();
    } finally {
      if (fd !== undefined) closeSync(fd);
      const at = this.streams.indexOf(me);
      if (at >= 0) this.streams.splice(at, 1);
    }
  }

  /**
   * A place for a stream of `user`'s: PER_USER each; when all TOTAL are taken, the oldest stream of the user
   * holding the most is cut off for it if they hold at least two more than `user`, so whoever holds few
   * always gets one (TOTAL shared evenly among the users who ask), and a full startd does not flip back and forth.
   */
  private admit(user: string): Stream {
    const counts = new Map<string, number>();
    for (const s of this.streams) counts.set(s.user, (counts.get(s.user) ?? 0) + 1);
    const mine = counts.get(user) ?? 0;
    if (mine >= PER_USER)
      throw new DschedError(
        'TOO_MANY_STREAMS',
        `${user} has ${PER_USER} dtail streams open on ${this.machine.name}, the most one user may`,
      );
    if (this.streams.length >= TOTAL) {
      let top = '';
      for (const [u, n] of counts) if (n > (counts.get(top) ?? 0)) top = u;
      if ((counts.get(top) ?? 0) < mine + 2)
        throw new DschedError(
          'TOO_MANY_STREAMS',
          `all ${TOTAL} dtail streams on ${this.machine.name} are taken, ${mine} of them by ${user}`,
        );
      const victim = this.streams.find((s) => s.user === top)!;
      this.streams.splice(this.streams.indexOf(victim), 1);
      victim.cut = true;
      victim.wake();
      this.log.info({ user: top, for: user }, 'dtail: a stream cut off for another user');
    }
    const me: Stream = { user, cut: false, wake: () => undefined };
    this.streams.push(me);
    return me;
  }

  private cutError(): DschedError {
    return new DschedError(
      'TOO_MANY_STREAMS',
      `this dtail stream was ended for another user's: all ${TOTAL} on ${this.machine.name} were taken, the most of them by this user`,
    );
  }

  private open(job: Running, stderr: boolean, id: string): number {
    return openJobOutput(job, stderr, id, this.log);
  }
}

/**
 * The job's stdout (stderr) opened again with its owner's rights, and only if it is still the file the
 * job was started with: a final symlink is not followed (O_NOFOLLOW), a FIFO does not block (O_NONBLOCK),
 * and whatever stands at the path now must have the device and inode the spawner saw.
 */
export function openJobOutput(job: Running, stderr: boolean, id: string, log: Logger): number {
  const what = stderr ? 'standard error' : 'standard output';
  const path = stderr ? job.started.stderr : job.started.stdout;
  const expected = stderr ? job.started.files?.stderr : job.started.files?.stdout;
  if (!path || !expected)
    throw new DschedError(
      'OUTPUT_REFUSED',
      `job ${id} has no ${what} file (it goes to /dev/null or is not a plain file)`,
    );
  let fd: number;
  try {
    fd = asUser(runAsOwner(job.owner), () =>
      openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP'
        ? 'a symbolic link stands in its place'
        : code === 'ENOENT'
          ? 'it was removed'
          : code === 'EACCES'
            ? 'its owner may not read it'
            : (code ?? String(e));
    throw new DschedError('OUTPUT_REFUSED', `the ${what} of job ${id} cannot be read: ${why}`);
  }
  const st = fstatSync(fd, { bigint: true });
  if (!st.isFile() || `${st.dev}:${st.ino}` !== expected) {
    closeSync(fd);
    log.warn({ job: id, path }, "dtail refused: the job's output file was replaced");
    throw new DschedError(
      'OUTPUT_REFUSED',
      `the ${what} of job ${id} was replaced by another file since the job started: nothing is read from it`,
    );
  }
  return fd;
}

// Writing and reading event log files. Each event is appended with a single write() on a file opened O_APPEND,
// so events from several writers (the schedd writes a cluster's events, DAGMan reads them) never interleave
// inside an event. Readers take only complete events and keep the tail for later, so a log can be followed while
// it is written.
import {
  appendFileSync,
  closeSync,
  constants as fsc,
  fstatSync,
  openSync,
  readSync,
  writeSync,
  fsyncSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { openFileAs, type Owner } from '../as-user.js';
import { DschedError } from '../errors.js';
import { StringDecoder } from 'node:string_decoder';
import { formatEvent, type LogTimeOptions } from './format.js';
import { formatEventJson, parseUserLogJsonl } from './jsonl.js';
import { UserLogParser, type ParseOptions, type ParseProblem } from './parse.js';
import type { UserLogEvent } from './events.js';

export type LogFormat = 'text' | 'jsonl';

export interface AppendOptions extends LogTimeOptions {
  /** Text (HTCondor's format, the default) or JSON lines. */
  format?: LogFormat;
  /** fsync after writing (the event survives a power loss once this returns). */
  fsync?: boolean;
  /** File mode when the log is created (default 0o644, minus the umask; a job's log: 0o666 minus the job's). */
  mode?: number;
}

function render(events: readonly UserLogEvent[], opts: AppendOptions): string {
  return events.map((e) => (opts.format === 'jsonl' ? formatEventJson(e) : formatEvent(e, opts))).join('');
}

/** Appends events to a log file (created if missing) in one write. */
export async function appendEvents(
  path: string,
  events: readonly UserLogEvent[],
  opts: AppendOptions = {},
): Promise<void> {
  if (events.length === 0) return;
  const fh = await open(path, 'a', opts.mode ?? 0o644);
  try {
    await fh.write(render(events, opts));
    if (opts.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Appends one event. */
export async function appendEvent(path: string, event: UserLogEvent, opts: AppendOptions = {}): Promise<void> {
  await appendEvents(path, [event], opts);
}

/** Synchronous appendEvents, for code that must not yield between a state change and its log entry. */
export function appendEventsSync(path: string, events: readonly UserLogEvent[], opts: AppendOptions = {}): void {
  if (events.length === 0) return;
  if (!opts.fsync) {
    appendFileSync(path, render(events, opts), { mode: opts.mode ?? 0o644 });
    return;
  }
  const fd = openSync(path, 'a', opts.mode ?? 0o644);
  try {
    writeSync(fd, render(events, opts));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Errors of the writing process or its host, not of the log: its events wait and are written once they pass
 * (dropped, a job would finish without its terminate event in its log).
 */
const PASSING_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOMEM']);
const RETRY_MS = 1000;

/**
 * Collects events per log file and appends each file's batch with one write: at the next turn of the event loop
 * (setImmediate) or when `flush()` is called. A failed write goes to `onError` and never throws into the caller,
 * since a user's unwritable log must not stop the schedd. A batch that failed for want of the writer's own
 * resources (out of open files) stays queued, ahead of later events, and is tried again.
 */
export class UserLogWriter {
  private pending = new Map<string, { path: string; owner?: Owner; events: UserLogEvent[] }>();
  private scheduled = false;
  /** why events are still queued after the last flush (out of open files), or undefined */
  private waiting: NodeJS.ErrnoException | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: AppendOptions & {
      /** `kept`: the events are kept and tried again (the error will pass), or dropped */
      onError?: (path: string, err: Error, kept: boolean) => void;
      /** Flush automatically with setImmediate (default true). */
      autoFlush?: boolean;
    } = {},
  ) {}

  /**
   * Writes everything queued, or throws OUT_OF_FILES when events must wait: for whoever records the change
   * these events describe (the schedd's queue), which must wait for them.
   */
  flushOrThrow(): void {
    this.flush();
    const e = this.waiting;
    if (e)
      throw new DschedError(
        'OUT_OF_FILES',
        `cannot write job event logs (${e.code}): the events and the changes they describe wait until files are free`,
        { cause: e },
      );
  }

  /**
   * Queues an event for `path` (no-op without a path). With an `owner` (a daemon running as root writing a
   * job's log) the file is opened with the owner's rights and, when created, belongs to the owner.
   */
  write(path: string | undefined, event: UserLogEvent, owner?: Owner): void {
    if (!path) return;
    const key = `${owner ? owner.uid : ''}:${path}`;
    let batch = this.pending.get(key);
    if (!batch) this.pending.set(key, (batch = { path, owner, events: [] }));
    batch.events.push(event);
    if (!this.scheduled && this.opts.autoFlush !== false) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes everything queued. */
  flush(): void {
    this.scheduled = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const wasWaiting = this.waiting;
    this.waiting = undefined;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, batch] of batches) {
      const { path, owner, events } = batch;
      try {
        const fd = openFileAs(owner, path, 'append', this.opts.mode);
        try {
          writeSync(fd, render(events, this.opts));
          if (this.opts.fsync) fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        const kept = PASSING_ERRORS.has(String((err as NodeJS.ErrnoException).code));
        if (kept) {
          this.pending.set(key, batch); // nothing was queued since: its events stay first
          this.waiting = err as NodeJS.ErrnoException;
        }
        if (!kept || !wasWaiting) this.opts.onError?.(path, err as Error, kept);
      }
    }
    if (this.waiting) this.retryTimer = setTimeout(() => this.flush(), RETRY_MS).unref();
  }
}

/** Guesses the format of a log from its first non-blank character (`{` means JSON lines). */
export function detectFormat(text: string): LogFormat {
  const m = /\S/.exec(text);
  return m && m[0] === '{' ? 'jsonl' : 'text';
}

export interface ReadResult {
  events: UserLogEvent[];
  problems: ParseProblem[];
}

export interface FollowOptions extends ParseOptions {
  format?: LogFormat;
  /** a log larger than this is refused (INPUT_TOO_LARGE, `tooLarge` its message) before any of it is read */
  maxSize?: number;
  tooLarge?: (size: number) => string;
}

/**
 * Follows a log file: each `read()` returns the events completed since the last call. Handles a file that does
 * not exist yet (no events), grows, or was truncated or replaced by another file (starts over from its start).
 */
export class UserLogFollower {
  private offset = 0;
  private ino: number | undefined;
  private decoder = new StringDecoder('utf8');
  private parser: UserLogParser;
  private jsonlTail = '';
  private format: LogFormat | undefined;
  readonly problems: ParseProblem[] = [];

  constructor(
    readonly path: string,
    private readonly opts: FollowOptions = {},
  ) {
    this.parser = new UserLogParser(opts);
    this.format = opts.format;
  }

  private reset(): void {
    this.offset = 0;
    this.decoder = new StringDecoder('utf8');
    this.parser = new UserLogParser(this.opts);
    this.jsonlTail = '';
    this.format = this.opts.format;
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.offset;
  }

  /**
   * Reads what was appended since the last call (at most about `maxBytes` of it: a caller that only counts
   * events reads a large log a piece at a time); returns the newly completed events. No further than the size
   * the opened file has: a file of /proc says 0 and reads without end (/proc/PID/pagemap: 256 GB of a process of
   * the reader's), and one grown since is read at the next call.
   */
  read(maxBytes = Infinity): UserLogEvent[] {
    let fd: number;
    try {
      // non-blocking: a FIFO named as a log must not stop the reader (the web daemon reads users' logs)
      fd = openSync(this.path, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let text = '';
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Error(`${this.path} is not a regular file`);
      const { maxSize, tooLarge } = this.opts;
      if (maxSize !== undefined && st.size > maxSize)
        throw new DschedError(
          'INPUT_TOO_LARGE',
          tooLarge?.(st.size) ?? `${this.path} is ${st.size} bytes; at most ${maxSize} are read here`,
        );
      if (st.size < this.offset || (this.ino !== undefined && st.ino !== this.ino)) this.reset();
      this.ino = st.ino;
      const buf = Buffer.alloc(64 * 1024);
      for (let got = 0; got < maxBytes && this.offset < st.size;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, st.size - this.offset), this.offset);
        got += n;
        if (n <= 0) break;
        this.offset += n;
        text += this.decoder.write(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    if (text === '') return [];
    this.format ??= detectFormat(text);
    if (this.format === 'jsonl') {
      const r = parseUserLogJsonl(this.jsonlTail + text);
      this.jsonlTail = r.rest;
      this.problems.push(...r.problems);
      return r.events;
    }
    const before = this.parser.problems.length;
    const events = this.parser.push(text);
    this.problems.push(...this.parser.problems.slice(before));
    return events;
  }
}

/** Reads a whole log file (text or JSON lines, detected). A missing file has no events. */
export function readUserLogSync(path: string, opts: FollowOptions = {}): ReadResult {
  const f = new UserLogFollower(path, opts);
  const events = f.read();
  return { events, problems: f.problems };
}

/** Async readUserLogSync. */
export async function readUserLog(path: string, opts: ParseOptions & { format?: LogFormat } = {}): Promise<ReadResult> {
  return readUserLogSync(path, opts);
}

/**
 * The events of `cluster` in the last `tailBytes` of a log, in order, as (event code, proc); nothing for a log
 * that cannot be read.
 */
function tailEvents(
  path: string,
  cluster: number,
  owner: Owner | undefined,
  tailBytes: number,
  fn: (code: number, proc: number) => void,
): void {
  let text: string;
  try {
    const fd = openFileAs(owner, path, 'read');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(0, size - tailBytes);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const h = /^(\d{3}) \((\d+)\.(\d+)\.\d+\)/.exec(line);
    if (h) {
      if (Number(h[2]) === cluster) fn(Number(h[1]), Number(h[3]));
    } else if (line.startsWith('{')) {
      try {
        const e = JSON.parse(line) as { EventTypeNumber?: number; Cluster?: number; Proc?: number };
        if (e.Cluster === cluster && typeof e.EventTypeNumber === 'number' && typeof e.Proc === 'number')
          fn(e.EventTypeNumber, e.Proc);
      } catch {
        /* the first line of the tail, cut */
      }
    }
  }
}

/**
 * Whether the log already tells of job cluster.proc's end (a terminate event, 005, after its last execute
 * event, 001), looking at the last `tailBytes` only. A schedd killed between writing a job's events and
 * recording the change they describe hears of the exit again: it must not log the end a second time.
 */
export function loggedEnd(path: string, cluster: number, proc: number, owner?: Owner, tailBytes = 1 << 20): boolean {
  let last: number | undefined;
  tailEvents(path, cluster, owner, tailBytes, (code, p) => {
    if (p === proc && (code === 1 || code === 5)) last = code;
  });
  return last === 5;
}

/**
 * The procs of `cluster` whose abort event (009) is in the last `tailBytes` of the log: a schedd killed
 * between writing the abort events of removed jobs and moving them to history must not log them again.
 */
export function loggedAborts(path: string, cluster: number, owner?: Owner, tailBytes = 1 << 20): Set<number> {
  const procs = new Set<number>();
  tailEvents(path, cluster, owner, tailBytes, (code, p) => code === 9 && procs.add(p));
  return procs;
}

#!/usr/bin/env node
// The command agent: one per user, host, build and configuration, started (detached) by the commands'
// launcher (libexec/dcmd.c) when a hot command finds none. It keeps the commands' code, the schedd's gRPC
// channel and the user's token warm, and runs each command it is sent in-process with that command's
// arguments, folder, environment and streams (cli/shared/io.ts): a dq or dsubmit then costs milliseconds
// instead of node's start. Usage (by the launcher only): dsched-agent.js SOCKET LOCK_FD.
//
// Trust: the socket lives in a folder that only this user can enter (checked here too), the launcher checks
// the agent's uid, and the agent serves only requests that say its own uid. It ends after DSCHED_AGENT_IDLE
// seconds (default 300) without a command, or as soon as its socket file is gone or replaced.
//
// Frames (both ways): a 4-byte little-endian payload length, a type byte, the payload.
//   launcher → agent: H hello (NUL-separated: protocol, command, uid, umask, tty bits, columns of stdout and
//                     stderr, folder, argc, args…, envc, NAME=value…), I standard input (empty: its end),
//                     S a signal (one byte); protocol 2 also F (the spool file is open) or N (refused),
//                     and D (everything before the agent's D is copied)
//   agent → launcher: A the command started, O stdout, E stderr, Q send standard input,
//                     X exit code (int32), K killed by this signal (one byte); protocol 2 also
//                     F the name of a spool file in the socket's folder, R a range of it for stdout
//                     (offset and length, each uint64), D (a shared query's output is complete: say when
//                     it is copied)
// A launcher that never saw A runs the command itself: it did not run here.
//
// Spool (protocol 2): a large stdout is written once into a file of the socket's folder, and each launcher
// copies ranges of it to its stdout in the kernel (copy_file_range, sendfile) as they are appended: one
// answer shared by 50 identical queries is not copied 50 times through user space and 50 sockets. The
// launcher opens the file itself (it checks that it is a regular file of its own); until it answers F or N
// its frames wait, so the order of stdout, stderr and exit code is the command's. The file is unlinked as soon
// as no launcher can still need its name, and the next agent removes what a killed one left. Whatever fails
// (the folder full, the bound reached, a launcher that refuses the file, a protocol-1 launcher) goes back
// to O frames.
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  unlinkSync,
  write,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { WriteStream } from 'node:tty';
import type { CommandIo, CommandOutput } from './shared/io.js';
import { RENAMED, commandOf } from './shared/renamed.js';
import { hostCommands, runCommand, type CommandMain } from './shared/run-cli.js';
import { dropWarmOf, keepSessionsWarm } from './shared/session.js';

/** The hellos served: 1 takes output only as O frames, 2 takes spool files too. */
const PROTOCOLS = ['dsched-agent 1', 'dsched-agent 2'];
/** The largest frame taken (a hello carries the whole environment). */
const MAX_FRAME = 64 << 20;
/** Output goes in frames of at most this many bytes, so one command's long output does not hold the others. */
const OUT_CHUNK = 64 << 10;
/** Commands waiting for their folder's turn; beyond this a launcher runs its command itself. */
const MAX_WAITING = 256;
/** How long a command waits for its folder's turn before its launcher runs it itself (ms). */
const MAX_WAIT_MS = 2000;
/**
 * How long a shared query whose command has ended may stay open to identical ones (see Run), and then wait for
 * one of its launchers to copy its spool before they all get the exit code (ms; twice this in all at most): a
 * launcher that stops reading holds the others no longer.
 */
const SHARE_GRACE_MS = 1000;
/** A command's stdout goes through a spool file once it has written this much (small ones stay frames). */
const SPOOL_FROM = 64 << 10;
/**
 * Spooled stdout goes to the launchers in ranges of at least this many bytes (dq writes a schedd page, 128 KiB,
 * at a time), or RANGE_MS after the first byte not yet offered, or before any other piece: each range wakes
 * every launcher of the run, 50 of them for a burst of identical queries, and those wakeups compete for the
 * cores with the agent and the schedd still producing the answer.
 */
const RANGE_MIN = 1 << 20;
const RANGE_MS = 20;
/**
 * The most bytes all spool files may hold at once (DSCHED_AGENT_SPOOL_MAX): beyond it output goes in frames,
 * paced by the slowest reader, so a reader that never reads cannot fill the folder.
 */
const SPOOL_MAX =
  Number(process.env.DSCHED_AGENT_SPOOL_MAX) >= 0 ? Number(process.env.DSCHED_AGENT_SPOOL_MAX) : 512 << 20;

const commands = new Map<string, CommandMain>();

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} dsched-agent[${process.pid}]: ${msg}\n`);
}

function frame(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32LE(data.length, 0);
  head[4] = type.charCodeAt(0);
  return Buffer.concat([head, data]);
}

interface Hello {
  /** 1 or 2 (see PROTOCOLS). */
  protocol: number;
  name: string;
  uid: number;
  umask: number;
  ttys: number;
  columns: number;
  errColumns: number;
  cwd: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

function parseHello(data: Buffer): Hello | undefined {
  const f = data.toString('utf8').split('\0');
  const protocol = PROTOCOLS.indexOf(f[0]!) + 1;
  if (!protocol) return undefined;
  const argc = Number(f[8]);
  const envAt = 9 + argc;
  const envc = Number(f[envAt]);
  if (!Number.isInteger(argc) || !Number.isInteger(envc) || f.length < envAt + 1 + envc) return undefined;
  const env: NodeJS.ProcessEnv = {};
  for (const e of f.slice(envAt + 1, envAt + 1 + envc)) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return {
    protocol,
    name: f[1]!,
    uid: Number(f[2]),
    umask: Number(f[3]),
    ttys: Number(f[4]),
    columns: Number(f[5]),
    errColumns: Number(f[6]),
    cwd: f[7]!,
    argv: f.slice(9, 9 + argc),
    env,
  };
}

/**
 * A command that runs until jobs finish (dq -watch) would hold the agent's folder for as long, and commands
 * from other folders would wait behind it: it runs as a process of its own (its start does not matter).
 */
function lasting(h: Hello): boolean {
  return h.name === 'dq' && h.argv.some((a) => a === '-watch' || a === '--watch');
}

/** What a run sends its launchers, in order (kept for a launcher that joins a shared run late). */
type Piece =
  | { type: 'O' | 'E'; data: Buffer }
  | { type: 'F' }
  | { type: 'R'; at: number; len: number }
  | { type: 'D' }
  | { type: 'X'; code: number };

/** One connection: one command, from hello to exit code. */
class Request {
  private buf: Buffer = Buffer.alloc(0);
  private stdin?: Readable;
  private asked = false;
  private inputEnded = false;
  /** The launcher has its answer (exit code or signal) or has gone: nothing more is sent. */
  done = false;
  hello?: Hello;
  /** The run this request takes its output from (its own, or an identical query's it joined). */
  run?: Run;
  /** It said (D) that it has copied its run's whole output. */
  copied = false;
  /** Its run's spool file: not offered yet, offered (its pieces wait for the answer), taken, or refused. */
  spool: 'none' | 'offered' | 'taken' | 'refused' = 'none';
  /** The pieces that came while the spool file was offered. */
  private held: Piece[] = [];

  constructor(readonly sock: Socket) {
    sock.on('data', (d) => this.data(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.done = true;
      this.run?.leave(this);
      unqueue(this);
    });
  }

  send(type: string, payload?: Buffer | string): boolean {
    if (this.done || this.sock.destroyed) return true;
    return this.sock.write(frame(type, payload));
  }

  /** A piece of its run's output, in the form this launcher takes it; false when its socket is full of data. */
  deliver(p: Piece, run: Run): boolean {
    if (this.done) return true;
    if (this.spool === 'offered') return this.held.push(p) > 0;
    switch (p.type) {
      case 'F':
        this.spool = 'offered';
        return this.send('F', run.spool!.name);
      case 'R': {
        if (this.spool === 'refused') return run.spool!.read(p.at, p.len, (b) => this.send('O', b));
        const range = Buffer.alloc(16);
        range.writeBigUInt64LE(BigInt(p.at), 0);
        range.writeBigUInt64LE(BigInt(p.len), 8);
        this.send('R', range);
        // a few bytes per range are never waited for: a launcher that stops reading holds no one up
        return true;
      }
      case 'X': {
        const x = Buffer.alloc(4);
        x.writeInt32LE(p.code, 0);
        this.send('X', x);
        this.done = true;
        this.sock.end();
        return true;
      }
      case 'D':
        return this.send('D');
      default:
        return this.send(p.type, p.data);
    }
  }

  /** Whether this launcher's frames carry the output's bytes (the ones a full socket must wait for). */
  get takesData(): boolean {
    return this.spool !== 'taken';
  }

  private data(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 5) {
      const n = this.buf.readUInt32LE(0);
      if (n > MAX_FRAME) return void this.sock.destroy();
      if (this.buf.length < 5 + n) return;
      const type = String.fromCharCode(this.buf[4]!);
      const payload = this.buf.subarray(5, 5 + n);
      this.buf = this.buf.subarray(5 + n);
      this.frame(type, payload);
    }
  }

  private frame(type: string, payload: Buffer): void {
    if (type === 'H' && !this.hello) {
      const h = parseHello(payload);
      // a launcher of another uid cannot reach this socket; one that says so anyway is not served
      if (!h || h.uid !== process.geteuid?.() || !commands.has(h.name) || lasting(h)) return void this.sock.destroy();
      this.hello = h;
      if (!joinInFlight(this)) enqueue(this);
    } else if (type === 'I' && !this.inputEnded) {
      if (!payload.length) this.endInput();
      else this.stdin?.push(Buffer.from(payload));
    } else if (type === 'S' && payload.length === 1) {
      // as the signal ends a process: the launcher leaves now, the command's waits are aborted
      const sig = payload[0]!;
      this.send('K', Buffer.from([sig]));
      this.done = true;
      this.sock.end();
      this.run?.leave(this);
    } else if ((type === 'F' || type === 'N') && this.spool === 'offered' && this.run) {
      // the launcher opened the spool file (or refused it): what waited goes out in the form it takes
      this.spool = type === 'F' ? 'taken' : 'refused';
      const held = this.held;
      this.held = [];
      for (const p of held) this.deliver(p, this.run);
      this.run.settle();
    } else if (type === 'D' && this.run && !this.copied) {
      this.copied = true;
      this.run.checkCopied();
    }
  }

  endInput(): void {
    if (!this.inputEnded) this.stdin?.push(null);
    this.inputEnded = true;
  }

  /** The command's streams and surroundings, as io() gives them to its code; its output goes to `run`. */
  io(h: Hello, run: Run): CommandIo {
    const stdin = new Readable({
      read: () => {
        // asked for only when the command reads: input typed ahead at a terminal stays the shell's
        if (!this.asked) this.send('Q');
        this.asked = true;
      },
    });
    this.stdin = stdin;
    return {
      argv: h.argv,
      cwd: h.cwd,
      env: h.env,
      stdin,
      stdout: output(run, 'O', (h.ttys & 2) !== 0, h.columns, h.env),
      stderr: output(run, 'E', (h.ttys & 4) !== 0, h.errColumns, h.env),
      signal: run.abort.signal,
    };
  }
}

// ---- spool files, in the socket's folder (set by main)

let spoolDir: string | undefined;
/** The names of this agent's spool files start so: the next agent of this socket removes any left. */
let spoolPrefix = '';
let spoolSeq = 0;
/** Bytes in spool files still open (SPOOL_MAX bounds it). */
let spooled = 0;

/** One run's stdout, appended once, read by each of its launchers. */
class Spool {
  size = 0;
  private linked = true;
  private fd?: number;

  private constructor(
    readonly name: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** A new spool file, or undefined (the folder full or gone: the output goes in frames). */
  static create(): Spool | undefined {
    if (!spoolDir) return undefined;
    const name = `${spoolPrefix}${process.pid}.${++spoolSeq}`;
    try {
      const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
      return new Spool(name, openSync(join(spoolDir, name), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
    } catch (e) {
      log(`no spool file (${(e as Error).message}): output goes in frames`);
      return undefined;
    }
  }

  /** Append `data`: the bytes written, fewer when the folder is full. */
  append(data: Buffer): Promise<number> {
    return new Promise((resolve) => {
      let done = 0;
      const more = (): void => {
        if (this.fd === undefined) return resolve(done);
        write(this.fd, data, done, data.length - done, this.size, (e, n) => {
          if (e || !n) {
            log(`spool file ${this.name}: ${e?.message ?? 'nothing written'}: the rest goes in frames`);
            return resolve(done);
          }
          done += n;
          this.size += n;
          spooled += n;
          if (done < data.length) more();
          else resolve(done);
        });
      };
      more();
    });
  }

  /** A range read back in frame-sized pieces (for a launcher that refused the file); false when `each` was. */
  read(at: number, len: number, each: (b: Buffer) => boolean): boolean {
    let ok = true;
    for (let off = 0; off < len && this.fd !== undefined;) {
      const b = Buffer.alloc(Math.min(OUT_CHUNK, len - off));
      const n = readSync(this.fd, b, 0, b.length, at + off);
      if (!n) break;
      ok = each(b.subarray(0, n)) && ok;
      off += n;
    }
    return ok;
  }

  /** Its name goes (the launchers that opened it read on). */
  unlink(): void {
    if (!this.linked || !spoolDir) return;
    this.linked = false;
    try {
      unlinkSync(join(spoolDir, this.name));
    } catch {
      /* removed already */
    }
  }

  close(): void {
    this.unlink();
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    spooled -= this.size;
  }
}

/**
 * A command running, and the launchers its output goes to: its own, and those of identical read-only queries
 * that arrived while it ran (the same command, arguments, folder, environment and terminal): one query to the
 * schedd, its output written to each. It can be joined while it runs and, with protocol 2, until one of its
 * launchers has copied its output (SHARE_GRACE_MS at most): as with protocol 1, whose sockets pace the
 * command, none of its launchers ends before then, so a command started after one of them ended never gets
 * this answer.
 * A query that others joined is likely one of a burst (a workflow's 50 polls, started over as long as the
 * machine takes to start them): once its command has ended it stays open while they keep coming (see
 * holdOpen), so they share it too; a burst longer than the query makes a new run. The run ends (no one may
 * join) once one launcher has copied the whole output; each gets the exit code after its ranges.
 */
class Run {
  readonly reqs = new Set<Request>();
  readonly abort = new AbortController();
  /** Every piece sent so far, for a launcher that joins late (kept only while a shared query can be joined). */
  private pieces: Piece[] | undefined;
  /** Output leaves in the order the command wrote it, stdout and stderr alike. */
  private tail: Promise<void> = Promise.resolve();
  private stdoutBytes = 0;
  spool?: Spool;
  /** Bytes appended to the spool and not offered yet (see RANGE_MIN), and the timer that offers them. */
  private unsent?: { at: number; len: number };
  private unsentTimer?: NodeJS.Timeout;
  /** No (more) spool for this run: a protocol-1 launcher, no folder, the folder full or the bound reached. */
  private noSpool: boolean;
  private joinable: boolean;
  /** The command's exit code, once it has ended. */
  private code?: number;
  private grace?: NodeJS.Timeout;
  /** While set, the ended command stays open to joiners (see above). */
  private hold?: NodeJS.Timeout;
  /** How many launchers joined, the last when (ms). */
  private joins = 0;
  private lastJoin = 0;
  private readonly started = performance.now();
  /** When the command ended, and how long it ran (ms). */
  private ended = 0;
  private ran = 0;
  /** The exit code is sent: the run is over. */
  private closed = false;
  readonly protocol: number;

  constructor(
    first: Request,
    readonly key?: string,
  ) {
    this.reqs.add(first);
    first.run = this;
    this.joinable = key !== undefined;
    if (this.joinable) this.pieces = [];
    this.protocol = first.hello!.protocol;
    this.noSpool = this.protocol < 2;
  }

  join(r: Request): void {
    r.run = this;
    this.reqs.add(r);
    this.joins++;
    this.lastJoin = performance.now();
    r.send('A');
    for (const p of this.pieces ?? []) r.deliver(p, this);
    if (this.hold) this.holdOpen();
  }

  /** A launcher left (gone, or its signal): the command is aborted once none is left. */
  leave(r: Request): void {
    // a command still reading its input sees its end, as a process whose terminal went would
    r.endInput();
    this.reqs.delete(r);
    if (!this.reqs.size) {
      // an identical query arriving now starts afresh instead of joining an aborted one
      this.unlist();
      this.abort.abort(new Error('the command was left'));
    }
    this.checkCopied();
    this.settle();
  }

  /** No launcher can join any more. */
  unlist(): void {
    this.joinable = false;
    if (this.key !== undefined && inFlight.get(this.key) === this) inFlight.delete(this.key);
    this.pieces = undefined;
    this.settle();
  }

  /** Stdout ('O') or stderr ('E') bytes of the command; resolves once they are out (or have room). */
  output(type: 'O' | 'E', data: Buffer): Promise<void> {
    const done = this.tail.then(() => this.emit(type, data));
    this.tail = done.catch(() => undefined);
    return done;
  }

  private async emit(type: 'O' | 'E', data: Buffer): Promise<void> {
    if (!this.reqs.size) return; // no one is left to read it
    if (type === 'O') data = data.subarray(await this.toSpool(data));
    // frames: a piece at a time, yielding between pieces, so a dsubmit arriving meanwhile is served at once
    for (let at = 0; at < data.length;) {
      const piece = Buffer.from(data.subarray(at, at + OUT_CHUNK));
      at += piece.length;
      if (!this.send({ type, data: piece })) await new Promise<void>((res) => this.drained(res));
      else if (at < data.length) await new Promise((res) => setImmediate(res));
    }
  }

  /** Stdout bytes through the spool file: how many of `data` went there (the rest goes in frames). */
  private async toSpool(data: Buffer): Promise<number> {
    this.stdoutBytes += data.length;
    if (this.noSpool || (!this.spool && this.stdoutBytes <= SPOOL_FROM)) return 0;
    if (spooled + data.length > SPOOL_MAX || !(this.spool ??= this.offer())) {
      this.noSpool = true;
      return 0;
    }
    const at = this.spool.size;
    const n = await this.spool.append(data);
    if (n) this.range(at, n);
    if (n < data.length) this.noSpool = true;
    return n;
  }

  /** A spool file for this run, its name sent to the launchers. */
  private offer(): Spool | undefined {
    const s = Spool.create();
    if (s) {
      this.spool = s;
      this.send({ type: 'F' });
    }
    return s;
  }

  /** Spooled bytes at `at`: offered with those before them once they make a range (see RANGE_MIN). */
  private range(at: number, len: number): void {
    if (this.unsent) this.unsent.len += len;
    else {
      this.unsent = { at, len };
      this.unsentTimer = setTimeout(() => this.sendRange(), RANGE_MS);
    }
    if (this.unsent.len >= RANGE_MIN) this.sendRange();
  }

  private sendRange(): void {
    clearTimeout(this.unsentTimer);
    const u = this.unsent;
    this.unsent = undefined;
    if (u) this.send({ type: 'R', ...u });
  }

  /** Sent to every launcher; false when one of their sockets is full of data. */
  private send(p: Piece): boolean {
    // the output's order is the command's: spooled bytes not offered yet go before anything else
    if (p.type !== 'R') this.sendRange();
    const last = this.pieces?.at(-1);
    // a launcher that joins later takes the ranges so far as one (one frame, one copy); a new piece, since a
    // launcher that has not answered the spool's offer yet holds the old one
    if (p.type === 'R' && last?.type === 'R' && last.at + last.len === p.at)
      this.pieces![this.pieces!.length - 1] = { type: 'R', at: last.at, len: last.len + p.len };
    else this.pieces?.push(p);
    let ok = true;
    for (const r of this.reqs) ok = r.deliver(p, this) && ok;
    return ok;
  }

  /** `cb` once every launcher that takes data frames has room in its socket again. */
  private drained(cb: () => void): void {
    const full = [...this.reqs].filter((r) => !r.done && r.takesData && r.sock.writableNeedDrain);
    let left = full.length;
    if (!left) return cb();
    for (const r of full) {
      const go = () => {
        r.sock.off('drain', go);
        r.sock.off('close', go);
        if (--left === 0) cb();
      };
      r.sock.on('drain', go);
      r.sock.on('close', go);
    }
  }

  /** The command has ended, its output is all sent (or in the spool). */
  finish(code: number): void {
    this.code = code;
    if (this.protocol < 2 || !this.joinable) return this.close();
    this.send({ type: 'D' });
    this.ended = performance.now();
    this.ran = this.ended - this.started;
    if (this.joins) this.holdOpen();
    this.grace = setTimeout(() => this.close(), 2 * SHARE_GRACE_MS);
    this.grace.unref();
    this.checkCopied();
  }

  /**
   * Open to joiners while identical queries keep coming at the pace they came (the next due within twice the
   * mean gap between the run's start and its joins so far), never longer after the command's end than it ran
   * (SHARE_GRACE_MS at most): a burst that came whole while the query ran is not waited for, and none of its
   * launchers waits for others more than about its own query's time.
   */
  private holdOpen(): void {
    clearTimeout(this.hold);
    this.hold = undefined;
    const gap = (this.lastJoin - this.started) / this.joins;
    const until = Math.min(this.lastJoin + 2 * gap, this.ended + Math.min(this.ran, SHARE_GRACE_MS));
    const ms = until - performance.now();
    if (ms <= 0) return this.checkCopied();
    this.hold = setTimeout(() => {
      this.hold = undefined;
      this.checkCopied();
    }, ms);
    this.hold.unref();
  }

  /**
   * A launcher has copied the whole output (and the run is not held open): no one may join any more, and every
   * launcher gets the exit code after its ranges, so each ends as soon as it has copied, not when the slowest
   * reader has.
   */
  checkCopied(): void {
    if (this.code === undefined || this.closed || this.hold) return;
    if ([...this.reqs].some((r) => r.copied)) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.grace);
    clearTimeout(this.hold);
    this.unlist();
    this.send({ type: 'X', code: this.code! });
    this.settle();
  }

  /**
   * The spool file's name goes once no launcher can still need it to open the file (none can join, none was
   * offered it without answering); the file is closed once the command has ended too.
   */
  settle(): void {
    const s = this.spool;
    if (!s || [...this.reqs].some((r) => r.spool === 'offered')) return;
    if (!this.joinable) s.unlink();
    if (this.closed) s.close();
  }
}

/** The commands whose identical runs in flight are shared: they only read (condor_q runs dq, and so on). */
const SHARED = new Set(['dq', 'dhistory', 'dstatus']);
const isShared = (name: string) => SHARED.has(commandOf(name));
/** The commands that only read (the others may change the queue: see run). */
const isReadOnly = (name: string) => isShared(name) || name === 'qstat' || name === 'qselect';
const inFlight = new Map<string, Run>();

function shareKey(h: Hello): string | undefined {
  if (!isShared(h.name)) return undefined;
  const env = Object.entries(h.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // launchers of either protocol are not mixed: a run's output takes one form or the other
  return JSON.stringify([h.protocol, h.name, h.argv, h.cwd, h.umask, h.ttys, h.columns, h.errColumns, env]);
}

/** Join an identical query already running; false when there is none. */
function joinInFlight(r: Request): boolean {
  const key = shareKey(r.hello!);
  const run = key === undefined ? undefined : inFlight.get(key);
  if (!run) return false;
  run.join(r);
  return true;
}

/**
 * A command's stdout or stderr, as the run's output (see Run.output); the pieces written while one is going
 * out leave together.
 */
function output(run: Run, type: 'O' | 'E', tty: boolean, columns: number, env: NodeJS.ProcessEnv): CommandOutput {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      run.output(type, chunk).then(() => cb(), cb);
    },
    writev(chunks, cb) {
      run.output(type, Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(), cb);
    },
  }) as CommandOutput;
  if (tty) {
    w.isTTY = true;
    w.columns = columns || 80;
    // a terminal's colours as the command's environment sets them (NO_COLOR, FORCE_COLOR, TERM)
    w.hasColors = (count?: number | Record<string, string | undefined>, e?: Record<string, string | undefined>) =>
      typeof count === 'object'
        ? WriteStream.prototype.hasColors.call(w, 16, count)
        : WriteStream.prototype.hasColors.call(w, count ?? 16, e ?? env);
  }
  return w;
}

// ---- one folder and umask at a time: fs and path.resolve use the process's

const waiting: Request[] = [];
let running = 0;
let lastEnd = Date.now();
let current: { cwd: string; umask: number } | undefined;

function enqueue(r: Request): void {
  if (waiting.length >= MAX_WAITING) return void r.sock.destroy();
  waiting.push(r);
  // behind a long command of another folder (a huge query, a dsubmit reading a terminal): the launcher runs
  // its command itself rather than wait
  const t = setTimeout(() => {
    if (!waiting.includes(r)) return;
    unqueue(r);
    r.sock.destroy();
  }, MAX_WAIT_MS);
  t.unref();
  pump();
}

function unqueue(r: Request): void {
  const i = waiting.indexOf(r);
  if (i >= 0) waiting.splice(i, 1);
}

function pump(): void {
  while (waiting.length) {
    const r = waiting[0]!;
    const h = r.hello!;
    if (running > 0 && (h.cwd !== current?.cwd || h.umask !== current.umask)) return;
    waiting.shift();
    if (running === 0) {
      try {
        process.chdir(h.cwd);
        process.umask(h.umask);
      } catch {
        // a folder gone or not ours to enter: the launcher runs the command itself and says why
        r.sock.destroy();
        continue;
      }
      current = { cwd: h.cwd, umask: h.umask };
    }
    running++;
    void run(r, h).finally(() => {
      running--;
      lastEnd = Date.now();
      pump();
    });
  }
}

async function run(r: Request, h: Hello): Promise<void> {
  const key = shareKey(h);
  const shared = new Run(r, key);
  if (key !== undefined) inFlight.set(key, shared);
  r.send('A');
  const ctx = r.io(h, shared);
  let code: number | undefined;
  try {
    code = await runCommand(h.name, commands.get(h.name)!, ctx);
  } finally {
    // a protocol-1 query can be joined only while its command runs (see Run); one that threw, no longer
    if (shared.protocol < 2 || code === undefined) shared.unlist();
  }
  // a failed command may have failed on the channel: the next one connects afresh
  if (code !== 0) dropWarmOf(ctx);
  // what the command wrote is all sent before its exit code (the writes may still be yielding)
  await new Promise<void>((res) => ctx.stdout.end(() => ctx.stderr.end(() => res())));
  // a command that may change the queue (dsubmit, drm, ...): a query started once it has ended must see the
  // change, so none may join a run begun before that (which may have read the queue before it)
  if (!isReadOnly(h.name)) for (const other of [...inFlight.values()]) other.unlist();
  shared.finish(code);
}

// ---- start, idle, end

async function main(): Promise<void> {
  const sockPath = process.argv[2];
  if (!sockPath) {
    process.stderr.write('usage: dsched-agent SOCKET LOCK_FD (started by the dsched commands)\n');
    process.exitCode = 2;
    return;
  }
  const dir = lstatSync(dirname(sockPath));
  if (!dir.isDirectory() || dir.uid !== process.geteuid?.() || (dir.mode & 0o077) !== 0) {
    log(`${dirname(sockPath)} is not a folder of this user's alone: not serving`);
    process.exitCode = 1;
    return;
  }
  hostCommands((name, m) => void commands.set(name, m));
  keepSessionsWarm();
  await import('./dsubmit.js');
  await import('./dq.js');
  await import('./drm.js');
  await import('./dhold.js');
  await import('./drelease.js');
  await import('./dhistory.js');
  await import('./dstatus.js');
  // HTCondor's and PBS's names (dsched shims install), run under their own name as dshim.js runs them: those
  // with dsched's options as the command itself, qstat's and qselect's options mapped onto dq's
  for (const [name, [cmd, ...first]] of Object.entries(RENAMED)) {
    // condor_wait, condor_prio and the others not hosted here run as their dsched command does, in a process of
    // their own
    const main = commands.get(cmd!);
    if (!main) continue;
    commands.set(name, (argv) => main([...first, ...argv]));
  }
  const { qstatArgs, qselectArgs } = await import('./dshim.js');
  const dq = commands.get('dq')!;
  commands.set('qstat', (argv) => dq(qstatArgs(argv).args));
  commands.set('qselect', (argv) => dq(qselectArgs(argv).args));

  // whoever started us holds the lock beside the socket (passed to us): no other agent serves this name, so a
  // socket file or spool files left there are a dead agent's
  rmSync(sockPath, { force: true });
  spoolDir = dirname(sockPath);
  spoolPrefix = `${basename(sockPath, '.sock')}.spool.`;
  for (const f of readdirSync(spoolDir)) if (f.startsWith(spoolPrefix)) rmSync(join(spoolDir, f), { force: true });
  const server = createServer((sock) => new Request(sock));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sockPath, resolve);
  });
  const ino = statSync(sockPath).ino;
  log(`serving ${sockPath}`);

  const idleMs = Math.max(1, Number(process.env.DSCHED_AGENT_IDLE) || 300) * 1000;
  let ending = false;
  const end = (why: string) => {
    if (ending) return;
    ending = true;
    log(`ending: ${why}`);
    server.close();
    try {
      if (statSync(sockPath).ino === ino) rmSync(sockPath, { force: true });
    } catch {
      /* gone already */
    }
  };
  const tick = setInterval(
    () => {
      let ours = false;
      try {
        ours = statSync(sockPath).ino === ino;
      } catch {
        /* removed */
      }
      if (!ours) end('the socket file is gone or replaced');
      else if (!running && !waiting.length && Date.now() - lastEnd >= idleMs) end('idle');
      if (ending && !running && !waiting.length) {
        clearInterval(tick);
        process.exit(0);
      }
    },
    Math.min(1000, idleMs),
  );
}

// one command's bug must not end the others (nor the agent): it is logged, its launcher gets its exit code
process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => log(`unhandled: ${(e as Error)?.stack ?? e}`));
main().catch((e) => {
  log(`cannot serve: ${(e as Error).stack ?? e}`);
  process.exit(1);
});

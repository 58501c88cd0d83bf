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
//                     S a signal (one byte)
//   agent → launcher: A the command started, O stdout, E stderr, Q send standard input,
//                     X exit code (int32), K killed by this signal (one byte)
// A launcher that never saw A runs the command itself: it did not run here.
import { lstatSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { WriteStream } from 'node:tty';
import type { CommandIo, CommandOutput } from './shared/io.js';
import { hostCommands, runCommand, type CommandMain } from './shared/run-cli.js';
import { dropWarmOf, keepSessionsWarm } from './shared/session.js';

const PROTOCOL = 'dsched-agent 1';
/** The largest frame taken (a hello carries the whole environment). */
const MAX_FRAME = 64 << 20;
/** Output goes in frames of at most this many bytes, so one command's long output does not hold the others. */
const OUT_CHUNK = 64 << 10;
/** Commands waiting for their folder's turn; beyond this a launcher runs its command itself. */
const MAX_WAITING = 256;
/** How long a command waits for its folder's turn before its launcher runs it itself (ms). */
const MAX_WAIT_MS = 2000;

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
  if (f[0] !== PROTOCOL) return undefined;
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

/**
 * A command running, and the launchers its output goes to: its own, and those of identical read-only queries
 * that arrived while it ran (the same command, arguments, folder, environment and terminal): one query to the
 * schedd, its output written to each. Only while it runs: a finished answer is never given again.
 */
class Run {
  readonly reqs = new Set<Request>();
  readonly abort = new AbortController();
  /** Every frame sent so far, for a launcher that joins late (kept only for a shared query). */
  private frames: Array<[string, Buffer]> | undefined;

  constructor(
    first: Request,
    readonly key?: string,
  ) {
    this.reqs.add(first);
    first.run = this;
    if (key) this.frames = [];
  }

  join(r: Request): void {
    r.run = this;
    this.reqs.add(r);
    r.send('A');
    for (const [type, payload] of this.frames ?? []) r.send(type, payload);
  }

  /** A launcher left (gone, or its signal): the command is aborted once none is left. */
  leave(r: Request): void {
    // a command still reading its input sees its end, as a process whose terminal went would
    r.endInput();
    this.reqs.delete(r);
    if (!this.reqs.size) this.abort.abort(new Error('the command was left'));
  }

  /** Sent to every launcher; false when one of their sockets is full. */
  send(type: string, payload: Buffer): boolean {
    this.frames?.push([type, Buffer.from(payload)]);
    let ok = true;
    for (const r of this.reqs) ok = r.send(type, payload) && ok;
    return ok;
  }

  /** `cb` once every launcher's socket has room again. */
  drained(cb: () => void): void {
    const full = [...this.reqs].filter((r) => !r.done && r.sock.writableNeedDrain);
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

  finish(code: number): void {
    const x = Buffer.alloc(4);
    x.writeInt32LE(code, 0);
    for (const r of this.reqs) {
      r.send('X', x);
      r.done = true;
      r.sock.end();
    }
    this.frames = undefined;
  }
}

/** The commands whose identical runs in flight are shared: they only read. */
const SHARED = new Set(['dq', 'dhistory', 'dstatus']);
const inFlight = new Map<string, Run>();

function shareKey(h: Hello): string | undefined {
  if (!SHARED.has(h.name)) return undefined;
  const env = Object.entries(h.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([h.name, h.argv, h.cwd, h.umask, h.ttys, h.columns, h.errColumns, env]);
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
 * A command's stdout or stderr: frames to its launchers, waiting while a socket is full. A long output goes a
 * piece at a time, yielding between pieces, so a dsubmit arriving meanwhile is served at once.
 */
function output(run: Run, type: string, tty: boolean, columns: number, env: NodeJS.ProcessEnv): CommandOutput {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      let at = 0;
      const next = (): void => {
        const piece = chunk.subarray(at, at + OUT_CHUNK);
        at += piece.length;
        const ok = run.send(type, piece);
        if (at >= chunk.length) return ok ? cb() : run.drained(() => cb());
        if (ok) setImmediate(next);
        else run.drained(next);
      };
      next();
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
  let code: number;
  try {
    code = await runCommand(h.name, commands.get(h.name)!, ctx);
  } finally {
    if (key !== undefined && inFlight.get(key) === shared) inFlight.delete(key);
  }
  // a failed command may have failed on the channel: the next one connects afresh
  if (code !== 0) dropWarmOf(ctx);
  // what the command wrote is all sent before its exit code (the writes may still be yielding)
  await new Promise<void>((res) => ctx.stdout.end(() => ctx.stderr.end(() => res())));
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
  // PBS's names (dsched shims install): dq with qstat's and qselect's options mapped, as dshim.js does
  const { qstatArgs, qselectArgs } = await import('./dshim.js');
  const dq = commands.get('dq')!;
  commands.set('qstat', (argv) => dq(qstatArgs(argv).args));
  commands.set('qselect', (argv) => dq(qselectArgs(argv).args));

  // whoever started us holds the lock beside the socket (passed to us): no other agent serves this name, so a
  // socket file left there is a dead agent's
  rmSync(sockPath, { force: true });
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

// What a command reads and writes: its arguments, folder, environment and standard streams. A command run as
// its own process has the process's; a command run by a longer-lived host (several commands in one process)
// gets its own through `withIo`, found again across every await by `io()`. Command code therefore reads
// io().stdout, io().env and io().cwd, never process.stdout, process.env or process.cwd().
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Readable, Writable } from 'node:stream';
import type { OutputStream } from './output/columns.js';

export type CommandOutput = Writable & OutputStream;

export interface CommandIo {
  /** The arguments after the command's name. */
  argv: string[];
  /** The folder the command was started in: relative paths the user typed are relative to it. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: CommandOutput;
  stderr: CommandOutput;
  /** Aborted when whoever started the command has gone (its terminal closed, Ctrl-C): long waits stop. */
  signal: AbortSignal;
  /** The name the user typed (qalter for dqedit run by dshim), once a command runs: its messages say it. */
  command?: string;
}

const current = new AsyncLocalStorage<CommandIo>();
let own: CommandIo | undefined;

function processIo(): CommandIo {
  own ??= {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    // made when first read: node builds a stream for stdin (loading fs's or net's stream code for it) at its
    // first use, several ms of a command that reads no input (dsubmit of a file, dq)
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    get stderr() {
      return process.stderr;
    },
    signal: new AbortController().signal,
  };
  return own;
}

/** The running command's streams, folder and environment. */
export function io(): CommandIo {
  return current.getStore() ?? processIo();
}

/** Runs `fn` as a command with `ctx` for its streams, folder and environment. */
export function withIo<T>(ctx: CommandIo, fn: () => Promise<T>): Promise<T> {
  return current.run(ctx, fn);
}

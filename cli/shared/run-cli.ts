// Every CLI's outer shape: run, report errors the way users can act on them, exit with the right code.
// Known errors print `cmd: error[CODE]: message` and a hint, never a stack; --debug shows the stack.
// A command run by the command agent (cli/dsched-agent.ts) does not run when its module loads: runCli hands
// its main to the agent, which runs it per request with that request's io().
import { DschedError } from '../../lib/errors.js';
import { io, withIo, type CommandIo } from './io.js';

/** brokenPipe: 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe. */
export const EXIT = { ok: 0, failed: 1, usage: 2, brokenPipe: 141 } as const;

export type CommandMain = (argv: string[]) => Promise<number>;

/** Thrown to end a command at once with `code` (after --help, say): what process.exit was for a process. */
export class CommandExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function printError(cmd: string, e: unknown, debug: boolean): number {
  const err = io().stderr;
  if (e instanceof CommandExit) return e.code;
  if (e instanceof DschedError) {
    err.write(`${cmd}: error[${e.code}]: ${e.message}\n`);
    if (e.hint) err.write(`  hint: ${e.hint}\n`);
    if (debug && e.stack) err.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const x = e as Error;
  err.write(`${cmd}: internal error: ${x?.message ?? String(e)}\n`);
  if (debug && x?.stack) err.write(`${x.stack}\n`);
  else err.write('  (run again with --debug to see where)\n');
  return EXIT.failed;
}

/** Where runCli hands a command when a host (the command agent) has asked for them. */
let host: ((cmd: string, main: CommandMain) => void) | undefined;

/** Whether commands are hosted (the command agent's process): they register instead of running. */
export const hosted = (): boolean => host !== undefined;

/** Make runCli register commands with `h` instead of running them (the command agent, before it loads them). */
export function hostCommands(h: (cmd: string, main: CommandMain) => void): void {
  host = h;
}

/** Run `main` as the command `cmd` with `ctx`'s streams and folder; resolves to its exit code, never rejects. */
export function runCommand(cmd: string, main: CommandMain, ctx: CommandIo): Promise<number> {
  const debug = ctx.argv.includes('--debug') || !!ctx.env.DSCHED_DEBUG;
  // set on the context itself: the agent finds a command's warm clients by its io() object
  ctx.command = cmd;
  return withIo(ctx, async () => {
    try {
      return await main(ctx.argv.filter((a) => a !== '--debug'));
    } catch (e) {
      return printError(cmd, e, debug);
    }
  });
}

/** Run a command's main; its resolved number is the exit code. */
export function runCli(cmd: string, main: CommandMain): void {
  if (host) return host(cmd, main);
  runInProcess(cmd, main, io());
}

/**
 * Run `main` as this process's command, named `cmd` in its messages (the name the user typed: qstat for dq
 * run by dshim), with `ctx`'s arguments; the process exits with its code.
 */
export function runInProcess(cmd: string, main: CommandMain, ctx: CommandIo): void {
  // `dq | head`: the reader has gone. Stop quietly with the status a command killed by SIGPIPE has (as
  // condor_q would be), not with a stack trace; node ignores SIGPIPE, so the write fails with EPIPE instead.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(EXIT.brokenPipe);
  });
  void runCommand(cmd, main, ctx).then((code) => {
    process.exitCode = code;
  });
}

// Every CLI's outer shape: run, report errors the way users can act on them, exit with the right code.
// Known errors print `cmd: error[CODE]: message` and a hint, never a stack; --debug shows the stack.
import { DschedError } from '../../lib/errors.js';

/** brokenPipe: 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe. */
export const EXIT = { ok: 0, failed: 1, usage: 2, brokenPipe: 141 } as const;

export function printError(cmd: string, e: unknown, debug: boolean): number {
  if (e instanceof DschedError) {
    process.stderr.write(`${cmd}: error[${e.code}]: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`${cmd}: internal error: ${err?.message ?? String(e)}\n`);
  if (debug && err?.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('  (run again with --debug to see where)\n');
  return EXIT.failed;
}

/** Run a command's main; its resolved number is the exit code. */
export function runCli(cmd: string, main: (argv: string[]) => Promise<number>): void {
  const argv = process.argv.slice(2);
  const debug = argv.includes('--debug') || !!process.env.DSCHED_DEBUG;
  // `dq | head`: the reader has gone. Stop quietly with the status a command killed by SIGPIPE has (as
  // condor_q would be), not with a stack trace; node ignores SIGPIPE, so the write fails with EPIPE instead.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(EXIT.brokenPipe);
  });
  main(argv.filter((a) => a !== '--debug')).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = printError(cmd, e, debug);
    },
  );
}
